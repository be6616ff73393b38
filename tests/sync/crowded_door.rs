//! Strangers crowding the door: connections that never send a byte,
//! requests sent but for their last line, a device holding more sync
//! sockets than it needs or one it no longer uses. The server, and a
//! tablet serving its teammates, keep taking everyone else: an honest
//! tablet syncs within seconds all the while, and what the strangers hold
//! is closed after its time limit.
//!
//! The strangers come from 127.0.0.2, the tablets from 127.0.0.1: two
//! addresses, as two machines on the network, counted apart.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use secrecy::ExposeSecret;
use yawc::{Frame, OpCode, WebSocket};

use crate::a_team_syncs::{distributed, join, open, sync};
use crate::server::Server;
use crate::tablet::{Tablet, finish, succeeded};
use crate::teammates::{Serving, coordinator_on_shift, test_certificates};

/// Where the strangers come from.
const STRANGER: [u8; 4] = [127, 0, 0, 2];
/// Idle connections and half-sent requests the strangers keep open.
const IDLE: usize = 70;
const HALF_SENT: usize = 300;
/// What an honest tablet's sync may take meanwhile (it takes about a
/// second when no one crowds the door; a listener that stalled made it
/// wait 6 to 10 s).
const HONEST_SYNC: Duration = Duration::from_secs(5);
/// The TLS handshake limit of `maraude_sync::serve`, and the header
/// timeout of a tablet serving its teammates (its defaults).
const HANDSHAKE_TIME: Duration = Duration::from_secs(10);
const TEAMMATE_HEADER_TIME: Duration = Duration::from_secs(10);
/// Beyond a time limit, for the server to notice it on a loaded machine.
const MARGIN: Duration = Duration::from_secs(4);
/// A request sent but for its last line (the empty line ending headers).
const HALF_A_REQUEST: &[u8] = b"GET /v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slow";

/// A TCP connection to `to` from the strangers' address, non-blocking.
fn connect_as_stranger(runtime: &tokio::runtime::Runtime, to: SocketAddr) -> Option<TcpStream> {
    runtime.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().ok()?;
        socket.bind(SocketAddr::from((STRANGER, 0))).ok()?;
        let connected = tokio::time::timeout(Duration::from_secs(2), socket.connect(to)).await;
        connected.ok()?.ok()?.into_std().ok()
    })
}

/// Whether the other side still holds `stream` open (non-blocking): what
/// it sent is read and dropped (an error answer, a TLS alert), its end
/// closes it.
fn still_open(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return false,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return true,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return false,
        }
    }
}

/// Wait until the other side closes every one of `streams`, or `deadline`;
/// how many it still holds open.
fn open_after(streams: &mut Vec<TcpStream>, deadline: Instant) -> usize {
    loop {
        streams.retain_mut(still_open);
        if streams.is_empty() || Instant::now() >= deadline {
            return streams.len();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Strangers keeping idle connections and half-sent requests open against
/// a listener: each one it closes is opened again, until stopped.
struct Crowd {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Crowded>>,
}

/// What the crowd saw: connections the listener closed while it stood,
/// and those still open when it stopped.
struct Crowded {
    closed_meanwhile: usize,
    held: Vec<TcpStream>,
}

impl Crowd {
    /// Start crowding `to`; returns once the whole crowd stands.
    fn start(to: SocketAddr) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let (standing, stands) = std::sync::mpsc::channel();
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let mut idle: Vec<TcpStream> = Vec::new();
            let mut half_sent: Vec<TcpStream> = Vec::new();
            let mut closed_meanwhile = 0;
            let mut first = true;
            let count_closed = |idle: &mut Vec<TcpStream>, half_sent: &mut Vec<TcpStream>| {
                [idle, half_sent]
                    .into_iter()
                    .map(|held| {
                        let before = held.len();
                        held.retain_mut(still_open);
                        before - held.len()
                    })
                    .sum::<usize>()
            };
            while !stopped.load(Ordering::SeqCst) {
                closed_meanwhile += count_closed(&mut idle, &mut half_sent);
                while idle.len() < IDLE {
                    match connect_as_stranger(&runtime, to) {
                        Some(stream) => idle.push(stream),
                        None => break,
                    }
                }
                while half_sent.len() < HALF_SENT {
                    let Some(mut stream) = connect_as_stranger(&runtime, to) else {
                        break;
                    };
                    // Closed at once, it may refuse the bytes: as good.
                    let _ = stream.write_all(HALF_A_REQUEST);
                    half_sent.push(stream);
                }
                if first {
                    first = false;
                    let _ = standing.send(());
                }
                std::thread::sleep(Duration::from_millis(250));
            }
            // An honest sync may end before the loop looked again.
            closed_meanwhile += count_closed(&mut idle, &mut half_sent);
            idle.append(&mut half_sent);
            Crowded {
                closed_meanwhile,
                held: idle,
            }
        });
        stands
            .recv_timeout(Duration::from_secs(60))
            .expect("the crowd stands within a minute");
        Crowd {
            stop,
            thread: Some(thread),
        }
    }

    /// Stop opening connections again.
    fn stop(mut self) -> Crowded {
        self.stop.store(true, Ordering::SeqCst);
        self.thread
            .take()
            .unwrap()
            .join()
            .expect("the crowd's thread")
    }
}

impl Drop for Crowd {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// `tablet` logs what `entry` says and syncs (`sync`, a `maraude`
/// command) while strangers crowd `door`: the sync must succeed within
/// [`HONEST_SYNC`], and the crowd's door must have closed some of their
/// connections meanwhile. What the crowd still holds.
fn sync_in_a_crowd(
    door: SocketAddr,
    tablet: &Tablet,
    entry: [&str; 3],
    sync: std::process::Command,
) -> Vec<TcpStream> {
    let crowd = Crowd::start(door);
    tablet.log(entry);
    let started = Instant::now();
    let synced = finish(sync);
    let took = started.elapsed();
    let crowded = crowd.stop();
    succeeded(synced);
    eprintln!(
        "synced in {took:?} while the strangers' connections were closed {} times",
        crowded.closed_meanwhile
    );
    assert!(took < HONEST_SYNC, "the sync took {took:?} in the crowd");
    assert!(
        crowded.closed_meanwhile > 0,
        "none of {} strangers' connections closed",
        IDLE + HALF_SENT
    );
    crowded.held
}

/// `maraude ARGS` on `tablet`, trusting the test authority `ca`.
fn trusting(tablet: &Tablet, ca: &Path, args: &[&str]) -> std::process::Command {
    let mut cmd = tablet.command(args);
    cmd.env("SSL_CERT_FILE", ca);
    cmd
}

/// `count` connections from the strangers' address that finish a TLS
/// handshake with `config` and then send half a request.
fn half_sent_inside_tls(
    to: SocketAddr,
    config: Arc<rustls::ClientConfig>,
    name: &str,
    count: usize,
) -> Vec<rustls::StreamOwned<rustls::ClientConnection, TcpStream>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let name = rustls::pki_types::ServerName::try_from(name.to_string()).unwrap();
    (0..count)
        .map(|_| {
            let tcp = connect_as_stranger(&runtime, to).expect("a TLS connection");
            tcp.set_nonblocking(false).unwrap();
            tcp.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let connection = rustls::ClientConnection::new(config.clone(), name.clone()).unwrap();
            let mut stream = rustls::StreamOwned::new(connection, tcp);
            stream
                .write_all(HALF_A_REQUEST)
                .expect("the handshake and half a request");
            stream.flush().unwrap();
            stream
                .sock
                .set_read_timeout(Some(Duration::from_secs(1)))
                .unwrap();
            stream
        })
        .collect()
}

/// Wait until the other side ends every TLS stream (an answer, then
/// its end), or `deadline`; how many it still holds open.
fn tls_open_after(
    streams: Vec<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>,
    deadline: Instant,
) -> usize {
    let mut open = 0;
    for mut stream in streams {
        let mut buf = [0u8; 1024];
        let ended = loop {
            match stream.read(&mut buf) {
                Ok(0) => break true,
                Ok(_) => continue,
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    if Instant::now() >= deadline {
                        break false;
                    }
                }
                Err(_) => break true,
            }
        };
        if !ended {
            open += 1;
        }
    }
    open
}

/// The stream is still open right now.
fn tls_still_open(stream: &mut rustls::StreamOwned<rustls::ClientConnection, TcpStream>) -> bool {
    stream
        .sock
        .set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let mut buf = [0u8; 64];
    let open = matches!(
        stream.read(&mut buf),
        Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut)
    );
    stream
        .sock
        .set_read_timeout(Some(Duration::from_secs(1)))
        .unwrap();
    open
}

/// The server's index holds what the tablet's does.
fn reached_the_server(tablet: &Tablet, server: &Server) {
    let store = open(tablet);
    let antenna = store.antenna_id().to_string();
    assert_eq!(
        server.antenna_store(&antenna).index_dump().unwrap(),
        store.index_dump().unwrap(),
        "the tablet's entries did not all reach the server"
    );
}

#[test]
fn a_tablet_syncs_while_strangers_crowd_the_server_with_idle_and_half_sent_requests() {
    let dir = tempfile::tempdir().unwrap();
    let header_time = Duration::from_secs(1);
    let server = Server::start_with(
        &dir.path().join("server"),
        &[("MARAUDE_HEADER_TIMEOUT_SECS", "1")],
    );
    let coordinator = coordinator_on_shift(&server);

    let mut held = sync_in_a_crowd(
        server.address(),
        &coordinator,
        ["distribution", "blanket", "2"],
        coordinator.command(["--json", "sync"]),
    );
    reached_the_server(&coordinator, &server);

    // Left alone, what the strangers hold goes with the header timeout.
    let stopped = Instant::now();
    let holding = held.len();
    let left = open_after(&mut held, stopped + header_time + MARGIN);
    assert_eq!(
        left, 0,
        "of {holding} connections held when the crowd stopped, {left} still open"
    );
    assert_eq!(server.get("/v1/health").0, 200);
}

#[test]
fn over_https_a_tablet_syncs_while_strangers_crowd_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = test_certificates(dir.path());
    let header_time = Duration::from_secs(1);
    let server = Server::start_with(
        &dir.path().join("server"),
        &[
            ("MARAUDE_TLS_CERT", cert.to_str().unwrap()),
            ("MARAUDE_TLS_KEY", key.to_str().unwrap()),
            ("MARAUDE_HEADER_TIMEOUT_SECS", "1"),
        ],
    );
    let coordinator = Tablet::for_antenna("Calais");
    coordinator.ok(["shift", "start", "--lead", "Mira"]);
    let mut registering = trusting(&coordinator, &ca, &["register", "--server", &server.url]);
    registering.env(
        "MARAUDE_REGISTRATION_TOKEN",
        crate::server::REGISTRATION_TOKEN,
    );
    succeeded(finish(registering));

    // Strangers that finish their handshake, then send half a request.
    let mut roots = rustls::RootCertStore::empty();
    {
        use rustls::pki_types::pem::PemObject;
        roots
            .add(rustls::pki_types::CertificateDer::from_pem_file(&ca).unwrap())
            .unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(maraude_sync::tls::provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let mut inside = half_sent_inside_tls(server.address(), Arc::new(config), "127.0.0.1", 40);
    let sent = Instant::now();
    assert!(
        tls_still_open(inside.last_mut().unwrap()),
        "the server waits for the rest of the headers"
    );

    let mut held = sync_in_a_crowd(
        server.address(),
        &coordinator,
        ["distribution", "blanket", "2"],
        trusting(&coordinator, &ca, &["--json", "sync"]),
    );
    reached_the_server(&coordinator, &server);

    let left = tls_open_after(inside, sent + header_time + MARGIN);
    assert_eq!(left, 0, "half-sent requests inside TLS still open");
    // The idle ones go with the handshake limit.
    let stopped = Instant::now();
    let left = open_after(&mut held, stopped + HANDSHAKE_TIME + MARGIN);
    assert_eq!(left, 0, "strangers' connections still open");
}

/// A sync socket opened with a device's credential, as a tablet would
/// (without syncing anything), that pings every 300 ms while `talking`.
struct SyncSocket {
    talking: Arc<AtomicBool>,
    closed: tokio::sync::watch::Receiver<Option<Instant>>,
}

impl SyncSocket {
    async fn open(url: &str, credential: &str) -> Self {
        let ws_url = format!("{}/v1/sync", url.replacen("http://", "ws://", 1));
        let socket = WebSocket::connect(ws_url.parse().unwrap())
            .with_options(maraude_sync::socket::options())
            .with_request(
                yawc::HttpRequestBuilder::new()
                    .header("authorization", format!("Bearer {credential}")),
            )
            .await
            .expect("the upgrade succeeds with a valid credential");
        let (mut sink, mut stream) = socket.split();
        let (closing, closed) = tokio::sync::watch::channel(None);
        tokio::spawn(async move {
            while let Some(frame) = stream.next().await {
                if frame.opcode() == OpCode::Close {
                    break;
                }
            }
            closing.send_replace(Some(Instant::now()));
        });
        let talking = Arc::new(AtomicBool::new(true));
        let still = talking.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(300)).await;
                if still.load(Ordering::SeqCst) && sink.send(Frame::ping("here")).await.is_err() {
                    return;
                }
            }
        });
        Self { talking, closed }
    }

    fn is_open(&self) -> bool {
        self.closed.borrow().is_none()
    }

    /// When the server closed it, if it does within `limit`.
    async fn closed_within(&mut self, limit: Duration) -> Option<Instant> {
        let closed = tokio::time::timeout(limit, self.closed.wait_for(Option::is_some)).await;
        closed.ok()?.ok().and_then(|at| *at)
    }

    fn falls_quiet(&self) {
        self.talking.store(false, Ordering::SeqCst);
    }
}

#[test]
fn a_tablet_holds_two_sync_sockets_at_most_and_a_quiet_one_is_closed() {
    let dir = tempfile::tempdir().unwrap();
    let idle = Duration::from_secs(2);
    let server = Server::start_with(
        &dir.path().join("server"),
        &[("MARAUDE_SYNC_IDLE_SECS", "2")],
    );
    let coordinator = coordinator_on_shift(&server);
    sync(&coordinator);
    let credential = open(&coordinator)
        .server_link()
        .unwrap()
        .unwrap()
        .credential
        .expose_secret()
        .to_string();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        // The tablet's socket from before a cut the server did not see,
        // then two more: the oldest is closed, though it still talks.
        let mut before_the_cut = SyncSocket::open(&server.url, &credential).await;
        let second = SyncSocket::open(&server.url, &credential).await;
        let third = SyncSocket::open(&server.url, &credential).await;
        assert!(
            before_the_cut
                .closed_within(Duration::from_secs(2))
                .await
                .is_some(),
            "a third sync socket of one device must close its oldest"
        );
        // The two newer ones stay while they talk, past the idle limit.
        tokio::time::sleep(idle + Duration::from_millis(500)).await;
        assert!(second.is_open() && third.is_open());

        // Quiet from now on: closed after the idle limit, not before.
        let quiet = Instant::now();
        for socket in [&second, &third] {
            socket.falls_quiet();
        }
        for mut socket in [second, third] {
            let closed = socket
                .closed_within(idle + MARGIN)
                .await
                .expect("a quiet sync socket is closed after the idle limit");
            let after = closed - quiet;
            // The last ping may have gone out 300 ms before `quiet`.
            assert!(
                after >= idle - Duration::from_millis(500),
                "closed {after:?} after falling quiet, before the idle limit"
            );
        }
    });
    // The tablet syncs as before.
    coordinator.log(["distribution", "blanket", "2"]);
    sync(&coordinator);
    reached_the_server(&coordinator, &server);
}

#[test]
fn a_tablet_serving_its_teammates_keeps_serving_while_strangers_crowd_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(&dir.path().join("server"));
    let coordinator = coordinator_on_shift(&server);
    let volunteer = join(&coordinator, &server, "volunteer");
    for tablet in [&coordinator, &volunteer] {
        sync(tablet);
    }
    // In the van: no server.
    server.kill();
    let serving = Serving::start(&coordinator);
    let address: SocketAddr = serving.address.parse().unwrap();

    // A teammate's tablet (a lost one not yet revoked, say) that sends
    // half requests inside mutual TLS, and strangers without a certificate.
    let certificate = open(&volunteer)
        .server_link()
        .unwrap()
        .unwrap()
        .certificate
        .unwrap();
    let config = maraude_sync::tls::TeamTls::new(&certificate, None)
        .unwrap()
        .client_config()
        .unwrap();
    let inside = half_sent_inside_tls(address, config, maraude_sync::identity::PEER_NAME, 20);
    let sent = Instant::now();
    let mut held = sync_in_a_crowd(
        address,
        &volunteer,
        ["distribution", "tea_coffee", "5"],
        volunteer.command(["--json", "sync", "--peer", &serving.address]),
    );

    let left = tls_open_after(inside, sent + TEAMMATE_HEADER_TIME + MARGIN);
    assert_eq!(left, 0, "half-sent requests inside mutual TLS still open");
    let stopped = Instant::now();
    let left = open_after(&mut held, stopped + HANDSHAKE_TIME + MARGIN);
    assert_eq!(left, 0, "strangers' connections still open");

    drop(serving);
    assert_eq!(distributed(&coordinator, "tea_coffee"), 5);
}
