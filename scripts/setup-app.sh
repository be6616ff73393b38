#!/usr/bin/env bash
# What building and testing the tablet app needs on Debian 12, on top of
# setup-system.sh (source that first): WebKitGTK and its WebDriver, Xvfb,
# Node's packages for the UI, tauri-driver. Sourced by run.sh, e2e.sh
# and test.sh; safe to run again.
set -euo pipefail

install_debian_packages libwebkit2gtk-4.1-dev librsvg2-dev xvfb webkit2gtk-driver

if ! command -v npm >/dev/null 2>&1; then
  echo "npm is missing: install Node.js 20 or later (e.g. apt-get install nodejs npm)." >&2
  exit 1
fi

if ! command -v tauri-driver >/dev/null 2>&1; then
  echo "Installing tauri-driver (WebDriver for the app's window)…"
  cargo install tauri-driver --version '^2' --locked
fi

# The app embeds ui/dist when it is compiled: build the UI first.
build_ui() {
  (cd ui && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && npm run build)
}

# The UI, then the app (debug: dependencies are optimised all the same),
# with the command and the server: built together, the three share one
# resolution of their dependencies' features, the one scripts/test.sh
# builds. The app built alone resolves some differently (rusqlite,
# reqwest, glib…) and rebuilds them: two minutes after every test run.
build_app() {
  build_ui
  cargo build --locked -p maraude-cli -p maraude-server -p maraude-app
}
