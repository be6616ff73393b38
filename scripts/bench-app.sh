#!/usr/bin/env bash
# The app's benchmarks in its real window: how long a tap on an item takes to
# show the new count, beside a bare WebDriver round trip (see
# tests/app/tap_latency.rs); the period report and the warehouse on a demo
# year (tests/app/reports_speed.rs). Builds the UI and the app (debug, dependencies
# optimised, as scripts/run.sh runs it), under a virtual display.
# Usage: scripts/bench-app.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup-system.sh
source scripts/setup-app.sh

build_app
MARAUDE_E2E=1 xvfb-run --auto-servernum --server-args="-screen 0 1400x1400x24" \
  cargo test --locked -p maraude-tests --test app -- --ignored --nocapture --test-threads 1 tap_latency reports_speed
