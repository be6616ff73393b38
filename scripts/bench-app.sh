#!/usr/bin/env bash
# The app's benchmark in its real window: how long a tap on an item takes to
# show the new count, beside a bare WebDriver round trip (see
# tests/app/tap_latency.rs). Builds the UI and the app (debug, dependencies
# optimised, as scripts/run.sh runs it), under a virtual display.
# Usage: scripts/bench-app.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup-system.sh
source scripts/setup-app.sh

build_app
MARAUDE_E2E=1 xvfb-run --auto-servernum --server-args="-screen 0 1400x1400x24" \
  cargo test --locked -p maraude-tests --test app -- --ignored --nocapture tap_latency
