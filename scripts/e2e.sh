#!/usr/bin/env bash
# The app's end-to-end tests in its real window: builds the UI and the app
# (debug), then drives it with tauri-driver and WebKit's WebDriver under a
# virtual display (Xvfb). Screenshots of each main screen go to
# target/e2e-screenshots/ (or $MARAUDE_SCREENSHOTS). The `maraude` command
# and `maraude-server` are built too: a test joins a real server.
# Usage: scripts/e2e.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup-system.sh
source scripts/setup-app.sh
install_debian_packages dbus-daemon gnome-keyring

build_app
# Big enough for the window in landscape (1280×800) and portrait (800×1280).
MARAUDE_E2E=1 xvfb-run --auto-servernum --server-args="-screen 0 1400x1400x24" scripts/with-keystore.sh \
  cargo test --locked -p maraude-tests --test app -- --nocapture
echo "Screenshots: ${MARAUDE_SCREENSHOTS:-${CARGO_TARGET_DIR:-target}/e2e-screenshots}"
