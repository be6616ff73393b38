#!/usr/bin/env bash
# Installs the Debian packages the build needs, if they are missing.
# Sourced by run.sh and test.sh; safe to run again.
set -euo pipefail

need=()
for pkg in build-essential pkg-config libssl-dev; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "Installing Debian packages: ${need[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is missing: install Rust (rustup, stable toolchain) first." >&2
  exit 1
fi
