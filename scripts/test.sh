#!/usr/bin/env bash
# Runs every test: formatting, lints, and the whole workspace's tests.
# Usage: scripts/test.sh            (MARAUDE_LONG=1 for the longer property and crash runs)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup-system.sh

if [ "${MARAUDE_LONG:-}" = "1" ]; then
  export MARAUDE_PROPTEST_CASES=${MARAUDE_PROPTEST_CASES:-100}
  export MARAUDE_CRASH_KILLS=${MARAUDE_CRASH_KILLS:-200}
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
# The end-to-end tests run the `maraude` binary: build it first (cargo test
# builds only the binaries of the package under test).
cargo build -p maraude-cli --locked
cargo test --workspace --locked
