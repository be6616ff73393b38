//! A stranger on the van's hotspot, with a TLS client or posing as a
//! tablet that serves. Against a serving tablet it learns that a TLS
//! server is there and nothing more: the certificate names no antenna,
//! device or role, and is not the one it showed a moment before. Posing
//! as a teammate, it never sees the dialling tablet's certificate: the
//! tablet checks the team's mark before it shows its own.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

use crate::a_team_syncs::{join, open, register, sync};
use crate::server::Server;
use crate::tablet::Tablet;
use crate::teammates::Serving;

/// What a stranger with no certificate gets from `address`: the
/// certificate shown, and whether an HTTP request got any answer.
fn knock(address: &str) -> (Vec<u8>, bool) {
    let name = rustls::pki_types::ServerName::try_from("peer.example").unwrap();
    let mut tls =
        rustls::ClientConnection::new(maraude_sync::tls::stranger::client_config(), name).unwrap();
    let mut tcp = TcpStream::connect(address).unwrap();
    tcp.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let _ = tls.complete_io(&mut tcp);
    let shown = tls
        .peer_certificates()
        .and_then(|c| c.first())
        .expect("the serving tablet shows a certificate")
        .to_vec();
    let mut stream = rustls::Stream::new(&mut tls, &mut tcp);
    let _ = stream.write_all(b"GET /v1/sync/pending HTTP/1.1\r\nHost: peer\r\n\r\n");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    (shown, answer.starts_with(b"HTTP/"))
}

#[test]
fn a_stranger_learns_nothing_from_a_serving_tablet_and_sees_no_tablets_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("server"));
    let coordinator = Tablet::for_antenna("Calais");
    coordinator.ok(["shift", "start", "--lead", "Mira"]);
    register(&coordinator, &server);
    sync(&coordinator);
    let lead = join(&coordinator, &server, "lead");
    sync(&lead);
    let (antenna, device, ids) = {
        let store = open(&lead);
        (
            store.antenna_id().to_string(),
            store.device().to_string(),
            [
                *store.antenna_id().as_uuid().as_bytes(),
                *store.device().as_uuid().as_bytes(),
            ],
        )
    };

    // The lead's tablet serves; a stranger knocks twice.
    let (first, second) = {
        let serving = Serving::start(&lead);
        let first = knock(&serving.address);
        let second = knock(&serving.address);
        // A teammate still syncs with it, and learns it is the lead's.
        let summary = coordinator.json(["sync", "--peer", &serving.address]);
        assert!(
            summary["refusals"].as_array().unwrap().is_empty(),
            "{summary}"
        );
        (first, second)
    };
    let (shown, answered) = first;
    assert!(!answered, "the stranger got an HTTP answer");
    assert!(maraude_sync::identity::Teammate::from_certificate(&shown).is_err());
    let text = String::from_utf8_lossy(&shown).to_lowercase();
    for secret in [
        antenna.as_str(),
        device.as_str(),
        "lead",
        "calais",
        "maraude",
    ] {
        assert!(!text.contains(secret), "the certificate shows {secret:?}");
    }
    for id in ids {
        assert!(
            !shown.windows(16).any(|w| w == id),
            "the certificate holds an id"
        );
    }
    assert_eq!(second.0, shown, "one serving, one certificate");
    let again = {
        let serving = Serving::start(&lead);
        knock(&serving.address).0
    };
    assert_ne!(again, shown, "another serving shows another certificate");

    // A stranger serving on the hotspot, posing as a teammate with a
    // certificate of its own: the tablet refuses it before showing its own.
    let impostor = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = impostor.local_addr().unwrap().to_string();
    let watching = std::thread::spawn(move || {
        let (mut tcp, _) = impostor.accept().unwrap();
        let mut tls =
            rustls::ServerConnection::new(maraude_sync::tls::stranger::server_config()).unwrap();
        let _ = tls.complete_io(&mut tcp);
        tls.peer_certificates().map(<[_]>::len).unwrap_or(0)
    });
    let refused = lead.run(["sync", "--peer", &address]);
    assert!(!refused.succeeded(), "{}", refused.stdout);
    assert!(
        refused.stderr.contains("did not accept each other"),
        "{}",
        refused.stderr
    );
    assert_eq!(
        watching.join().unwrap(),
        0,
        "the impostor received the lead's certificate"
    );
}
