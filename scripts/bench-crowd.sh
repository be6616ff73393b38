#!/usr/bin/env bash
# The crowd benchmark: devices syncing with the server at once, as when the
# night's shifts come back to the warehouses of a network of antennas.
# The devices are the tablets of antennas of 20 (the bench's --per-antenna).
# Builds maraude-server and the bench in release, then runs, side by side
# in one run:
#   50 and 500 devices against one server on its embedded store;
#   the same 500 right after the server restarted (--cold: every antenna
#   opens again with the crowd);
#   500 devices all in one antenna, the worst case, on the same;
#   500 devices against two servers on one PostgreSQL database (a cluster
#   of Debian's package in a temporary folder, scripts/with-postgres.sh),
#   behind a load balancer without sticky sessions.
# Usage: scripts/bench-crowd.sh [DEVICES]   (default 500)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup-system.sh
cargo build --release --locked -p maraude-server -p maraude-sync-bench
target_dir="${CARGO_TARGET_DIR:-target}"
bench="$target_dir/release/maraude-sync-bench"
devices=${1:-500}
out=$(mktemp -d)
# A run with failed devices still prints its line (and exits 1): go on to
# the next, so that all are measured side by side.
"$bench" --crowd-only --crowd 50 --out "$out/embedded-50.json" | tail -1 || true
"$bench" --crowd-only --crowd "$devices" --out "$out/embedded-$devices.json" | tail -1 || true
"$bench" --crowd-only --crowd "$devices" --cold --out "$out/embedded-cold-$devices.json" | tail -1 || true
"$bench" --crowd-only --crowd "$devices" --per-antenna "$devices" --out "$out/embedded-one-antenna-$devices.json" | tail -1 || true
scripts/with-postgres.sh bash -c '
  "$MARAUDE_TEST_POSTGRES_BIN/psql" -q "$MARAUDE_TEST_DATABASE_URL" -c "CREATE DATABASE crowd_one" -c "CREATE DATABASE crowd_two"
  base=${MARAUDE_TEST_DATABASE_URL%/postgres}
  "$0" --crowd-only --crowd "$1" --database "$base/crowd_one" --servers 1 --out "$2/postgres-1-$1.json" | tail -1 || true
  "$0" --crowd-only --crowd "$1" --database "$base/crowd_two" --servers 2 --out "$2/postgres-2-$1.json" | tail -1 || true
' "$bench" "$devices" "$out"
echo "(figures as JSON in $out)"
