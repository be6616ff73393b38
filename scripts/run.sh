#!/usr/bin/env bash
# Builds the tablet app and opens it. The first start offers "Try with a
# demo antenna" (three weeks of an invented antenna) or a new antenna.
# The store lives in the app's data directory
# (~/.local/share/fr.maraude.field/antenna.maraude).
# Usage: scripts/run.sh      (needs a display)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup-system.sh
source scripts/setup-app.sh

build_app
exec "${CARGO_TARGET_DIR:-target}/debug/maraude-app"
