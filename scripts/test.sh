#!/usr/bin/env bash
# Runs every test: formatting, lints, the whole workspace's tests, the UI's
# checks and unit tests, and the app's end-to-end tests in its real window
# (headless, under Xvfb).
# Usage: scripts/test.sh            (MARAUDE_LONG=1 for the longer property and crash runs)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup-system.sh
source scripts/setup-app.sh
# A Secret Service for the quick unlock's tests (scripts/with-keystore.sh).
install_debian_packages dbus-daemon gnome-keyring

if [ "${MARAUDE_LONG:-}" = "1" ]; then
  export MARAUDE_PROPTEST_CASES=${MARAUDE_PROPTEST_CASES:-100}
  export MARAUDE_CRASH_KILLS=${MARAUDE_CRASH_KILLS:-200}
  export MARAUDE_SYNC_SCHEDULES=${MARAUDE_SYNC_SCHEDULES:-100}
fi

echo "== ui: svelte-check, vitest, build"
# The app embeds ui/dist at compile time: clippy and the tests need it.
build_ui
(cd ui && npm run check && npm test)

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== the JavaScript automerge-repo client of the sync tests (npm ci in tests/js)"
# Installed again when its lock file changed; npm's cache (~/.npm) keeps
# the packages between runs.
(cd tests/js && { [ node_modules/.package-lock.json -nt package-lock.json ] ||
  npm ci --no-audit --no-fund; })

echo "== cargo test"
# The end-to-end tests run the `maraude` and `maraude-app` binaries: build them first (cargo test
# builds only the binaries of the package under test).
cargo build -p maraude-cli -p maraude-server -p maraude-app --locked
# A PostgreSQL cluster of its own for the server's second backend
# (scripts/with-postgres.sh).
scripts/with-keystore.sh scripts/with-postgres.sh cargo test --workspace --locked

echo "== the sync benchmark, quick, in debug (it must run; its figures mean nothing here)"
cargo run -q --locked -p maraude-sync-bench -- --quick
echo "== the crowd benchmark, quick, in debug: two servers on one PostgreSQL (scripts/bench-crowd.sh)"
scripts/with-postgres.sh bash -c '
  "$MARAUDE_TEST_POSTGRES_BIN/psql" -q "$MARAUDE_TEST_DATABASE_URL" -c "CREATE DATABASE crowd_quick"
  cargo run -q --locked -p maraude-sync-bench -- --crowd-only --crowd 10 --servers 2 \
    --database "${MARAUDE_TEST_DATABASE_URL%/postgres}/crowd_quick"'

echo "== docs/deploy.md followed from scratch (scripts/deploy-check.sh)"
scripts/deploy-check.sh

# Every decoder of outside input, fuzzed for a bounded time (a longer run on
# demand: FUZZ_SECONDS=600 scripts/fuzz.sh). Their crashers, kept as
# fixtures, already replayed in `cargo test`.
fuzz_seconds=${FUZZ_SECONDS:-20}
if cargo +nightly --version >/dev/null 2>&1; then
  echo "== fuzz: each target ${fuzz_seconds}s (scripts/fuzz.sh)"
  command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
  FUZZ_SECONDS=$fuzz_seconds scripts/fuzz.sh
else
  echo "== fuzz: no nightly toolchain here, the fuzzers cannot run (rustup toolchain install nightly)"
fi

echo "== the app in its window (tauri-driver, Xvfb)"
MARAUDE_E2E=1 xvfb-run --auto-servernum --server-args="-screen 0 1400x1400x24" scripts/with-keystore.sh \
  cargo test --locked -p maraude-tests --test app
