//! A peer that sends what the sync protocol does not allow — a text frame,
//! bytes that are not a protocol message, a message cut short, a message
//! over the size limit — loses its connection, and nothing else happens:
//! the server stays up, its store is unchanged, tablets go on syncing.
//! (Bytes that are no message at all may be a bad line's: they cost no
//! wait before the next connection; a readable message past the bounds
//! does, see `compression_bomb`.)

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use secrecy::ExposeSecret;
use yawc::{Frame, OpCode, WebSocket};

use crate::a_team_syncs::{open, register, sync};
use crate::server::Server;
use crate::tablet::Tablet;

/// Open the sync WebSocket with a valid credential (after the wait an
/// earlier offence earned, counted in `waits`), send `frame`, and return
/// once the server has closed the connection (or `false` after 20 s).
async fn send_and_wait_for_close(
    url: &str,
    credential: &str,
    frame: Frame,
    waits: &mut u32,
) -> bool {
    let ws_url = format!("{}/v1/sync", url.replacen("http://", "ws://", 1));
    let mut socket = loop {
        let connected = WebSocket::connect(ws_url.parse().unwrap())
            .with_options(maraude_sync::socket::options())
            .with_request(
                yawc::HttpRequestBuilder::new()
                    .header("authorization", format!("Bearer {credential}")),
            )
            .await;
        match connected {
            Ok(socket) => break socket,
            Err(yawc::WebSocketError::InvalidStatusCode(429)) if *waits < 10 => {
                *waits += 1;
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Err(e) => panic!("the upgrade succeeds with a valid credential: {e}"),
        }
    };
    // The server may close before the whole frame is sent (oversized).
    let _ = socket.send(frame).await;
    closed_within(&mut socket, Duration::from_secs(20)).await
}

/// Whether the other side closes `socket` within `limit` (what it sends
/// meanwhile is read and dropped).
pub async fn closed_within<S>(socket: &mut WebSocket<S>, limit: Duration) -> bool
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    tokio::time::timeout(limit, async {
        while let Some(frame) = socket.next().await {
            if frame.opcode() == OpCode::Close {
                break;
            }
        }
    })
    .await
    .is_ok()
}

/// A server in `dir`, and a coordinator's tablet for Calais whose night
/// gave two blankets, synced with it.
pub fn synced_coordinator(dir: &std::path::Path) -> (Server, Tablet) {
    let server = Server::start(&dir.join("server"));
    let coordinator = Tablet::for_antenna("Calais");
    coordinator.ok(["shift", "start", "--lead", "Mira"]);
    coordinator.log(["distribution", "blanket", "2"]);
    register(&coordinator, &server);
    sync(&coordinator);
    (server, coordinator)
}

/// A tablet's antenna, and the credential it holds for its server.
pub fn antenna_and_credential(tablet: &Tablet) -> (String, String) {
    let store = open(tablet);
    let link = store.server_link().unwrap().unwrap();
    (
        store.antenna_id().to_string(),
        link.credential.expose_secret().to_string(),
    )
}

#[test]
fn bad_messages_cost_their_sender_the_connection_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let (server, coordinator) = synced_coordinator(dir.path());
    let (antenna, credential) = antenna_and_credential(&coordinator);
    let before = server.antenna_store(&antenna).index_dump().unwrap();

    // A well-formed CBOR map that is not a protocol message, and a join
    // message cut in the middle.
    let not_a_message = vec![0xa1, 0x61, 0x78, 0x01];
    let cut_short = b"\xa4\x64type\x64join\x68senderId\x78\x40device".to_vec();
    let mut waits = 0;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for (what, frame) in [
        ("a text frame", Frame::text("hello")),
        ("bytes that are not CBOR", Frame::binary(vec![0xff; 64])),
        ("CBOR that is not a message", Frame::binary(not_a_message)),
        ("a message cut short", Frame::binary(cut_short)),
        (
            "a message over the 16 MiB limit",
            Frame::binary(vec![0u8; maraude_sync::MAX_MESSAGE_BYTES + 1024]),
        ),
    ] {
        let closed = runtime.block_on(send_and_wait_for_close(
            &server.url,
            &credential,
            frame,
            &mut waits,
        ));
        assert!(closed, "{what}: the server kept the connection open");
        assert_eq!(
            server.get("/v1/health").0,
            200,
            "{what}: the server must stay up"
        );
    }

    assert_eq!(waits, 0, "unreadable bytes made the device wait");
    assert_eq!(
        server.antenna_store(&antenna).index_dump().unwrap(),
        before,
        "bad messages changed the server's store"
    );
    coordinator.log(["distribution", "blanket", "3"]);
    let after = sync(&coordinator);
    assert_eq!(after["documents_sent"], 1, "{after}");
    assert_ne!(
        server.antenna_store(&antenna).index_dump().unwrap(),
        before,
        "the tablet's next sync reached the server"
    );
}

/// What a modified client could send to the HTTP API in a shape the server
/// cannot read: each gets the API's JSON error with a code and a sentence
/// (not a bare "400" the tablet could only show as such), the server stays
/// up, and nothing is written.
#[test]
fn unreadable_requests_get_a_json_error_with_a_code_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (server, coordinator) = synced_coordinator(dir.path());
    let (antenna, credential) = antenna_and_credential(&coordinator);
    let before = server.antenna_store(&antenna).index_dump().unwrap();
    let loopback = std::net::IpAddr::from(std::net::Ipv4Addr::LOCALHOST);
    let auth = format!("Authorization: Bearer {credential}\r\n");
    let post = |path: &str, body: &str| {
        format!(
            "POST {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    for (what, request) in [
        (
            "a time that is not one",
            format!(
                "GET /v1/sync/pending?acknowledged=yesterday HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{auth}\r\n"
            ),
        ),
        (
            "a body that is not JSON",
            post("/v1/sync/acked", "{not json"),
        ),
        (
            "JSON of another shape",
            post("/v1/sync/acked", r#"{"documents": 7}"#),
        ),
        (
            "a device id that is not one",
            post("/v1/devices/not-a-device/revoke", ""),
        ),
    ] {
        let (status, _, body) = server.request_to(loopback, loopback, &request);
        assert!((400..500).contains(&status), "{what}: {status} {body}");
        let error: serde_json::Value = serde_json::from_str(&body)
            .unwrap_or_else(|_| panic!("{what}: not the API's JSON error: {body}"));
        assert_eq!(error["code"], "invalid", "{what}: {error}");
        assert!(
            error["message"]
                .as_str()
                .unwrap()
                .contains("update the app"),
            "{what}: {error}"
        );
        assert_eq!(
            server.get("/v1/health").0,
            200,
            "{what}: the server stays up"
        );
    }
    assert_eq!(
        server.antenna_store(&antenna).index_dump().unwrap(),
        before,
        "unreadable requests changed the server's store"
    );
    let after = sync(&coordinator);
    assert_eq!(after["documents_sent"], 0, "{after}");
}
