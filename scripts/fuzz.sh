#!/usr/bin/env bash
# Runs every fuzz target for a bounded time, each after the other.
# Usage: scripts/fuzz.sh [TARGET...]     (all targets when none is named)
#        FUZZ_SECONDS=300 scripts/fuzz.sh sync_message
#        scripts/fuzz.sh --seeds         (write fuzz/seeds/ again from real documents)
#
# Needs the nightly toolchain and cargo-fuzz (`cargo install cargo-fuzz
# --locked`). The corpus each target grows is kept in fuzz/corpus/TARGET
# (not committed) and started again from there and from fuzz/seeds/TARGET.
# A crash leaves its input in fuzz/artifacts/TARGET/: reproduce it with
#   cargo +nightly fuzz run TARGET fuzz/artifacts/TARGET/crash-…
# then, once fixed, copy it into crates/core/tests/fixtures/wire/ (an
# imports crasher: crates/core/tests/fixtures/import/), which an ordinary
# `cargo test -p maraude-core` replays.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = "--seeds" ]; then
  cargo test -q -p maraude-core --lib wire::tests::write_fuzz_seeds -- --ignored
  cargo test -q -p maraude-server --lib authority::tests::write_fuzz_seeds -- --ignored
  exit 0
fi

seconds=${FUZZ_SECONDS:-30}
# Apart from the workspace's target: other flags (sanitizer, coverage),
# other toolchain.
export CARGO_TARGET_DIR=${FUZZ_TARGET_DIR:-$HOME/.cache/maraude/fuzz-target}
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(cd fuzz && cargo +nightly fuzz list)
fi

failed=()
for target in "${targets[@]}"; do
  echo "== fuzz $target for ${seconds}s"
  mkdir -p "fuzz/corpus/$target"
  # --release: as the server is built, without debug assertions or
  # overflow checks: a debug assertion of Automerge's is no crash there,
  # and what wraps there must be found wrapping (the core's own arithmetic
  # is checked or saturating, and its tests run with overflow checks).
  # -timeout: an input that takes seconds is Automerge's work escaping the
  # limits the target checks with, reported as a crash like a panic.
  (cd fuzz && cargo +nightly fuzz run --release "$target" \
    "corpus/$target" "seeds/$target" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1) ||
    failed+=("$target")
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "crashes in: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
  exit 1
fi
