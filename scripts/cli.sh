#!/usr/bin/env bash
# Builds Maraude and runs it on a demo antenna: creates a demo store the
# first time (a season of a Calais-like antenna), then shows its status,
# the latest night's report and the month's figures.
# Usage: scripts/cli.sh [maraude arguments…]   e.g. scripts/cli.sh report period
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup-system.sh

cargo build --release --locked -p maraude-cli
bin="${CARGO_TARGET_DIR:-target}/release/maraude"

export MARAUDE_STORE="${MARAUDE_STORE:-$HOME/.local/share/maraude/demo.maraude}"
if [ -z "${MARAUDE_PASSPHRASE:-}" ]; then
  # A demo store only: a real antenna's passphrase is typed, never stored.
  export MARAUDE_PASSPHRASE="demo passphrase, not a secret"
fi
export MARAUDE_VOLUNTEER="${MARAUDE_VOLUNTEER:-Demo}"

if [ ! -f "$MARAUDE_STORE" ]; then
  echo "Creating a demo antenna in $MARAUDE_STORE …"
  "$bin" demo --shifts 120
fi

if [ $# -gt 0 ]; then
  exec "$bin" "$@"
fi
"$bin" status
echo
"$bin" report night --format text
echo
"$bin" report period --from "$(date -d '-90 days' +%Y-%m-%d)" --format text
echo
echo "Try: $bin --help   (store: $MARAUDE_STORE, passphrase in MARAUDE_PASSPHRASE)"
