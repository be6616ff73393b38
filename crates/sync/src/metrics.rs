//! What the sync side of a process counts, for the base server's
//! `/metrics` (Prometheus): bytes and messages each way on the sync
//! sockets, the door's refusals by rule, and how long the storage takes.
//!
//! Process-wide, as a process's metrics are: each connection and store
//! adds to the same counters. A tablet counts too and shows them nowhere.

use std::sync::OnceLock;
use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

type Labels = Vec<(&'static str, String)>;

#[derive(Debug)]
pub struct SyncMetrics {
    /// Bytes of sync messages, by `direction` (`received`, `sent`).
    pub bytes: Family<Labels, Counter>,
    /// Sync messages, by `direction`.
    pub messages: Family<Labels, Counter>,
    /// Messages the door refused, by `rule` (its code: `reference_data`,
    /// `rank_too_low`…).
    pub refusals: Family<Labels, Counter>,
    /// Seconds a storage write takes, by `place` (`store`: the server's
    /// own file; `database`: the shared one).
    pub storage_seconds: Family<Labels, Histogram>,
    /// Times the share policy decided on one document for one connected
    /// peer: once per document a connection holds, so it shows what a
    /// sync costs beyond what the device asked for.
    pub share_decisions: Counter,
}

fn histogram() -> Histogram {
    // 0.5 ms to about 8 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 15))
}

/// The process's sync metrics.
pub fn metrics() -> &'static SyncMetrics {
    static METRICS: OnceLock<SyncMetrics> = OnceLock::new();
    METRICS.get_or_init(|| SyncMetrics {
        bytes: Family::default(),
        messages: Family::default(),
        refusals: Family::default(),
        storage_seconds: Family::new_with_constructor(histogram),
        share_decisions: Counter::default(),
    })
}

impl SyncMetrics {
    pub fn received(&self, bytes: usize) {
        self.count("received", bytes);
    }

    pub fn sent(&self, bytes: usize) {
        self.count("sent", bytes);
    }

    fn count(&self, direction: &'static str, bytes: usize) {
        let labels = vec![("direction", direction.to_string())];
        self.bytes
            .get_or_create(&labels)
            .inc_by(u64::try_from(bytes).unwrap_or(u64::MAX));
        self.messages.get_or_create(&labels).inc();
    }

    pub fn refused(&self, rule: &str) {
        self.refusals
            .get_or_create(&vec![("rule", rule.to_string())])
            .inc();
    }

    pub fn stored(&self, place: &'static str, took: Duration) {
        self.storage_seconds
            .get_or_create(&vec![("place", place.to_string())])
            .observe(took.as_secs_f64());
    }

    /// Add these metrics to `registry`, under `maraude_sync_…`.
    pub fn register(&'static self, registry: &mut Registry) {
        let sync = registry.sub_registry_with_prefix("maraude_sync");
        sync.register(
            "bytes",
            "Bytes of sync messages, by direction",
            self.bytes.clone(),
        );
        sync.register(
            "messages",
            "Sync messages, by direction",
            self.messages.clone(),
        );
        sync.register(
            "refusals",
            "Sync messages refused by the door, by rule",
            self.refusals.clone(),
        );
        sync.register(
            "storage_seconds",
            "Seconds a storage write takes, by place (store, database)",
            self.storage_seconds.clone(),
        );
        sync.register(
            "share_decisions",
            "Share-policy decisions, one per document a sync connection holds",
            self.share_decisions.clone(),
        );
    }
}
