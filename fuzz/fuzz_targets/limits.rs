//! Small limits, so that an input that passes costs milliseconds: a
//! slow or large input is then Automerge's work escaping the bounds, which
//! libFuzzer's `-timeout` and `-rss_limit_mb` report as a crash.

use maraude_core::wire::WireLimits;

pub fn small() -> WireLimits {
    WireLimits {
        max_message_bytes: 1 << 20,
        max_inflated_bytes: 4 << 20,
        max_changes: 1_000,
        max_ops: 20_000,
        max_column_values: 200_000,
    }
}
