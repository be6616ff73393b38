#!/usr/bin/env bash
# Sync benchmark: builds maraude-server and the bench in release, then runs
# the scenarios of issue #4 on loopback (see crates/sync-bench).
# Usage: scripts/bench-sync.sh [--quick] [--out FILE]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup-system.sh
cargo build --release --locked -p maraude-server -p maraude-sync-bench
target_dir="${CARGO_TARGET_DIR:-target}"
exec "$target_dir/release/maraude-sync-bench" "$@"
