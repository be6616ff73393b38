#!/usr/bin/env bash
# What building and testing the tablet app needs on Debian 12, on top of
# setup-system.sh: WebKitGTK and its WebDriver, Xvfb, Node's packages for
# the UI, tauri-driver. Sourced by run-app.sh and e2e.sh; safe to run again.
set -euo pipefail

need=()
for pkg in libwebkit2gtk-4.1-dev librsvg2-dev xvfb webkit2gtk-driver; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "Installing Debian packages: ${need[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi

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
