#!/usr/bin/env bash
# Installs the Debian packages the build needs, if they are missing.
# Sourced by run.sh and test.sh; safe to run again.
set -euo pipefail

# install_debian_packages PKG…: apt-get installs those not installed yet.
install_debian_packages() {
  local need=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
  done
  if [ ${#need[@]} -gt 0 ]; then
    echo "Installing Debian packages: ${need[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}"
  fi
}

# libdbus: the Secret Service, where the quick unlock keeps its secret.
install_debian_packages build-essential pkg-config libssl-dev libdbus-1-dev

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is missing: install Rust (rustup, stable toolchain) first." >&2
  exit 1
fi
