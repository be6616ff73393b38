//! `/metrics`: what someone watching the server needs, in the Prometheus
//! (OpenMetrics) text format: requests by route and status, sync sockets
//! opened and open, antennas open, whether the database answers, and the
//! sync side's bytes, messages, refusals by rule and storage times
//! (`maraude_sync::metrics`).
//!
//! Counts only: no antenna, device or document is named in a label.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

type Labels = Vec<(&'static str, String)>;

#[derive(Debug)]
pub struct ServerMetrics {
    registry: Registry,
    /// HTTP requests, by `route` (the pattern, not the path) and `status`.
    pub requests: Family<Labels, Counter>,
    pub sync_sockets: Counter,
    pub connections: Gauge,
    pub antennas_open: Gauge,
    pub database_up: Gauge,
}

impl Default for ServerMetrics {
    fn default() -> Self {
        let mut registry = Registry::default();
        let requests = Family::<Labels, Counter>::default();
        let sync_sockets = Counter::default();
        let connections = Gauge::default();
        let antennas_open = Gauge::default();
        let database_up = Gauge::default();
        {
            let server = registry.sub_registry_with_prefix("maraude_server");
            server.register(
                "requests",
                "HTTP requests, by route and status",
                requests.clone(),
            );
            server.register("sync_sockets", "Sync sockets opened", sync_sockets.clone());
            server.register(
                "connections",
                "Sync connections open now",
                connections.clone(),
            );
            server.register(
                "antennas_open",
                "Antennas this server holds open now",
                antennas_open.clone(),
            );
            server.register(
                "database_up",
                "1 when the registry's database answers, else 0",
                database_up.clone(),
            );
        }
        maraude_sync::metrics::metrics().register(&mut registry);
        Self {
            registry,
            requests,
            sync_sockets,
            connections,
            antennas_open,
            database_up,
        }
    }
}

impl ServerMetrics {
    pub fn request(&self, route: &str, status: u16) {
        self.requests
            .get_or_create(&vec![
                ("route", route.to_string()),
                ("status", status.to_string()),
            ])
            .inc();
    }

    /// The text a scrape receives.
    pub fn render(&self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing to a String does not fail");
        text
    }
}
