//! `/metrics`: after a night's syncs and a modified client's refused
//! change, the server's figures say so in the Prometheus text format, to
//! this machine or to a scraper with the metrics token; to anyone else,
//! nothing.

use std::net::{IpAddr, Ipv4Addr};

use crate::a_team_syncs::{join, register, sync};
use crate::authorised_writes::claim_to_be_coordinator;
use crate::server::Server;
use crate::tablet::Tablet;

/// The value of the sample `name{labels}` in `text`, if there is one.
fn sample(text: &str, line_start: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(line_start))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[test]
fn the_metrics_count_syncs_bytes_and_refusals_by_rule_for_this_machine_only() {
    let dir = tempfile::tempdir().unwrap();
    // On every interface: a scraper from this machine's network address
    // is another machine's, to the server.
    let server = Server::start_listening(
        &dir.path().join("server"),
        Ipv4Addr::UNSPECIFIED.into(),
        &[("MARAUDE_METRICS_TOKEN", "scraper-token-for-tests")],
    );
    let coordinator = Tablet::for_antenna("Calais");
    coordinator.ok(["shift", "start", "--lead", "Mira", "--load", "blanket=40"]);
    coordinator.log(["distribution", "blanket", "2"]);
    register(&coordinator, &server);
    sync(&coordinator);
    let volunteer = join(&coordinator, &server, "volunteer");
    sync(&volunteer);
    // A modified client names itself coordinator: refused by rule.
    claim_to_be_coordinator(&volunteer);
    volunteer.ok(["volunteer", "add", "Mallory", "--role", "coordinator"]);
    sync(&volunteer);

    let (status, metrics) = server.get("/metrics");
    assert_eq!(status, 200, "{metrics}");
    let count =
        |line: &str| sample(&metrics, line).unwrap_or_else(|| panic!("no {line} in:\n{metrics}"));
    assert!(count(r#"maraude_server_sync_sockets_total"#) >= 3.0);
    assert!(
        count(r#"maraude_server_requests_total{route="/v1/sync/pending",status="200"}"#) >= 3.0
    );
    assert!(count(r#"maraude_sync_bytes_total{direction="received"}"#) > 1000.0);
    assert!(count(r#"maraude_sync_bytes_total{direction="sent"}"#) > 1000.0);
    assert!(count(r#"maraude_sync_refusals_total{rule="reference_data"}"#) >= 1.0);
    assert!(count(r#"maraude_sync_storage_seconds_count{place="store"}"#) >= 1.0);
    assert_eq!(count("maraude_server_database_up"), 1.0);
    // No device, antenna or path is named.
    let antenna = crate::a_team_syncs::open(&coordinator)
        .antenna_id()
        .to_string();
    assert!(!metrics.contains(&antenna));
    assert!(!metrics.contains("/v1/devices/0"), "{metrics}");

    // Another machine: only with the token.
    let elsewhere = network_address();
    let scrape = |headers: &str| {
        server.request_to(
            elsewhere,
            elsewhere,
            &format!("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{headers}\r\n"),
        )
    };
    let (status, _, body) = scrape("");
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("--metrics-token"), "{body}");
    let (status, _, body) = scrape("Authorization: Bearer wrong-token\r\n");
    assert_eq!(status, 403, "{body}");
    let (status, _, body) = scrape("Authorization: Bearer scraper-token-for-tests\r\n");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("maraude_sync_refusals_total"), "{body}");
}

/// This machine's address on its network (not loopback): the one a UDP
/// socket would send from (nothing is sent).
fn network_address() -> IpAddr {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").unwrap();
    socket.connect("192.0.2.1:9").expect(
        "a network interface with a route (the test needs an address that is not loopback)",
    );
    let ip = socket.local_addr().unwrap().ip();
    assert!(!ip.is_loopback(), "{ip}");
    ip
}

/// A device's sync costs the server the documents it asks for, not every
/// document the server holds loaded: a volunteer syncing after the
/// coordinator sent ten old nights (which a volunteer may not receive)
/// gets share decisions for its own documents only. Before the server's
/// repo subscribed documents on request, each connection took every
/// loaded document, and 500 tablets at once cost documents x connections.
#[test]
fn a_sync_costs_the_server_the_documents_asked_for_not_all_it_holds() {
    use crate::old_shifts::{coordinator_for_old_nights, old_night};
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("server"));
    let coordinator = coordinator_for_old_nights(&server);
    {
        let mut store = crate::a_team_syncs::open(&coordinator);
        for days_ago in 40..50 {
            old_night(&mut store, days_ago, "une nuit ancienne");
        }
    }
    let sent = sync(&coordinator);
    assert!(sent["documents_sent"].as_u64().unwrap() >= 10, "{sent}");
    let volunteer = join(&coordinator, &server, "volunteer");
    sync(&volunteer);
    volunteer.ok(["shift", "start", "--lead", "Mira", "--load", "blanket=40"]);
    volunteer.log(["distribution", "blanket", "2"]);

    let decisions = || {
        let (status, metrics) = server.get("/metrics");
        assert_eq!(status, 200, "{metrics}");
        sample(&metrics, "maraude_sync_share_decisions_total").unwrap_or(0.0)
    };
    let before = decisions();
    let summary = sync(&volunteer);
    let after = decisions();
    let asked = ["documents_sent", "documents_received", "documents_refused"]
        .iter()
        .map(|k| summary[k].as_u64().unwrap())
        .sum::<u64>();
    assert!(asked >= 1, "{summary}");
    assert!(
        after - before <= asked as f64,
        "the volunteer's sync asked for {asked} documents and cost {} share decisions: {summary}",
        after - before
    );
    assert!(
        after > before,
        "a sync with something to send decides something"
    );
}
