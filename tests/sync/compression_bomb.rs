//! A compression bomb from an enrolled device: one sync message of a few
//! hundred kilobytes whose change chunk inflates to half a gibibyte.
//! Automerge inflates such chunks without a cap; every receiver measures
//! the message first through capped readers (`maraude_core::wire`), closes
//! the connection, and its memory stays where it was. The device must
//! then wait before it connects again (2 s, then twice as long each
//! time); sent again, the bomb costs the same nothing; honest tablets go
//! on syncing.

use std::io::Write;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use secrecy::ExposeSecret;
use yawc::{Frame, WebSocket};

use crate::a_team_syncs::{join, open, sync};
use crate::bad_messages::{closed_within, synced_coordinator};
use crate::server::peak_memory_kib;
use crate::teammates::Serving;

/// A compressed change chunk (type 2) around `size` deflated zeros; the
/// checksum does not matter, Automerge inflates before it checks it.
fn bomb(size: usize) -> Vec<u8> {
    let mut deflated = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    let block = vec![0u8; 1 << 20];
    for _ in 0..size / block.len() {
        deflated.write_all(&block).unwrap();
    }
    let deflated = deflated.finish().unwrap();
    let mut chunk = vec![0x85, 0x6f, 0x4a, 0x83, 0, 0, 0, 0, 2];
    let mut n = deflated.len();
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            chunk.push(b);
            break;
        }
        chunk.push(b | 0x80);
    }
    chunk.extend_from_slice(&deflated);
    automerge::sync::Message {
        heads: vec![],
        need: vec![],
        have: vec![],
        changes: automerge::sync::ChunkList::from(vec![chunk]),
        flags: None,
        version: automerge::sync::MessageVersion::V1,
    }
    .encode()
}

/// The automerge-repo handshake as `me`: "join", then the other side's
/// "peer" answer (waited for at most 10 s, not read).
pub async fn say_join<S>(socket: &mut WebSocket<S>, me: &str)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let join = cbor(&[
        ("type", Field::Text("join")),
        ("senderId", Field::Text(me)),
        ("supportedProtocolVersions", Field::Texts(&["1"])),
    ]);
    socket.send(Frame::binary(join)).await.unwrap();
    let _ = tokio::time::timeout(Duration::from_secs(10), socket.next()).await;
}

pub fn cbor(fields: &[(&str, Field)]) -> Vec<u8> {
    let mut e = minicbor::Encoder::new(Vec::new());
    e.map(fields.len() as u64).unwrap();
    for (k, v) in fields {
        e.str(k).unwrap();
        match v {
            Field::Text(t) => e.str(t).unwrap(),
            Field::Bytes(b) => e.bytes(b).unwrap(),
            Field::Texts(ts) => {
                e.array(ts.len() as u64).unwrap();
                for t in ts.iter() {
                    e.str(t).unwrap();
                }
                &mut e
            }
        };
    }
    e.into_writer()
}

pub enum Field<'a> {
    Text(&'a str),
    Bytes(&'a [u8]),
    Texts(&'a [&'a str]),
}

/// Join as `me`, send the bomb about `document` to `them`, and return once
/// the other side has closed the connection (false after 30 s).
async fn throw<S>(
    mut socket: WebSocket<S>,
    me: &str,
    them: &str,
    document: &str,
    bomb: &[u8],
) -> bool
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    say_join(&mut socket, me).await;
    let sync = cbor(&[
        ("type", Field::Text("sync")),
        ("senderId", Field::Text(me)),
        ("targetId", Field::Text(them)),
        ("documentId", Field::Text(document)),
        ("data", Field::Bytes(bomb)),
    ]);
    let _ = socket.send(Frame::binary(sync)).await;
    closed_within(&mut socket, Duration::from_secs(30)).await
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn a_compression_bomb_costs_the_server_and_a_serving_tablet_their_connection_not_their_memory() {
    let dir = tempfile::tempdir().unwrap();
    let (server, coordinator) = synced_coordinator(dir.path());
    let volunteer = join(&coordinator, &server, "volunteer");
    sync(&volunteer);
    let (antenna, document) = {
        let store = open(&coordinator);
        let shift = store.open_shifts().unwrap()[0].id;
        (
            *store.antenna_id().as_uuid(),
            maraude_store::document_id(shift.as_uuid()).to_string(),
        )
    };
    let (device, credential, certificate) = {
        let store = open(&volunteer);
        let link = store.server_link().unwrap().unwrap();
        (
            *store.device().as_uuid(),
            link.credential.expose_secret().to_string(),
            link.certificate.unwrap(),
        )
    };
    let me = maraude_protocol::api::device_peer(&device);
    let bomb = bomb(512 << 20);
    assert!(
        bomb.len() < 1 << 20,
        "a small message: {} bytes",
        bomb.len()
    );
    let rt = runtime();

    // The server, twice from the same device: the second time after the
    // wait its first offence earned (a connection at once is refused).
    let idle = server.peak_memory_kib();
    let url = format!("{}/v1/sync", server.url.replacen("http://", "ws://", 1));
    let connect = || {
        rt.block_on(
            WebSocket::connect(url.parse().unwrap())
                .with_options(maraude_sync::socket::options())
                .with_request(
                    yawc::HttpRequestBuilder::new()
                        .header("authorization", format!("Bearer {credential}")),
                ),
        )
    };
    let them = maraude_protocol::api::server_peer(&antenna);
    for attempt in 0..2 {
        let socket = connect().expect("the upgrade succeeds with a volunteer's credential");
        let closed = rt.block_on(throw(socket, &me, &them, &document, &bomb));
        assert!(
            closed,
            "attempt {attempt}: the server kept the connection open"
        );
        match connect() {
            Err(yawc::WebSocketError::InvalidStatusCode(429)) => {}
            other => panic!("attempt {attempt}: a connection at once: {:?}", other.err()),
        }
        std::thread::sleep(Duration::from_millis(2100));
    }
    let peak = server.peak_memory_kib();
    assert!(
        peak < 2 * idle,
        "the server's peak memory went from {idle} KiB to {peak} KiB"
    );
    assert_eq!(server.get("/v1/health").0, 200);
    coordinator.log(["distribution", "blanket", "3"]);
    let got = sync(&coordinator);
    assert_eq!(got["documents_sent"], 1, "{got}");

    // A tablet serving its teammates: the volunteer's certificate.
    let serving = Serving::start(&coordinator);
    let idle = peak_memory_kib(serving.child.id());
    let address: std::net::SocketAddr = serving.address.parse().unwrap();
    let tls = maraude_sync::tls::TeamTls::new(&certificate, None)
        .unwrap()
        .client_config()
        .unwrap();
    let url = format!(
        "wss://{}:{}/v1/sync",
        maraude_sync::identity::PEER_NAME,
        address.port()
    );
    let socket = rt
        .block_on(
            WebSocket::connect(url.parse().unwrap())
                .with_options(maraude_sync::socket::options())
                .with_connector(tokio_rustls::TlsConnector::from(tls))
                .with_tcp_address(address),
        )
        .expect("a teammate's certificate opens the socket");
    let them = maraude_protocol::api::device_peer(open(&coordinator).device().as_uuid());
    let closed = rt.block_on(throw(socket, &me, &them, &document, &bomb));
    assert!(closed, "the serving tablet kept the connection open");
    let peak = peak_memory_kib(serving.child.id());
    assert!(
        peak < 2 * idle,
        "the serving tablet's peak memory went from {idle} KiB to {peak} KiB"
    );
}
