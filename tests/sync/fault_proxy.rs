//! A loopback TCP proxy between the tablets and the server that does to
//! their traffic what a bad network does: it cuts a connection in the
//! middle of a request, a WebSocket upgrade or a message, follows the cut
//! with garbage, adds latency and caps the bandwidth. With
//! [`Fault::Twice`] it also reads the sync WebSocket's frames (it takes
//! the compression offer out of the upgrade, so that they are plain) to
//! send each of the device's messages twice and keep them for a
//! [`FaultProxy::replay`].
//!
//! The fault in force is changed between commands with
//! [`FaultProxy::set`]; tablets enrol through the proxy, so its address is
//! the server's as far as they know. Blocking threads: each direction of a
//! connection has a reader that decides and a writer that sends each piece
//! when it is due, so latency delays the pieces without serialising them.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Which way bytes go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Way {
    /// Device → server.
    Up,
    /// Server → device.
    Down,
}

/// What the proxy does to the connections.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Everything passes.
    None,
    /// The first connection whose device sends `request` is cut once
    /// `after` bytes went `way` (counted up from the first byte of
    /// `request`, down from the moment it was seen), after `garbage`
    /// bytes of nonsense sent the same way; both sides are closed. The
    /// fault fires once: later connections pass.
    Cut {
        request: &'static str,
        way: Way,
        after: u64,
        garbage: usize,
    },
    /// Every piece waits `latency` each way, and each direction of a
    /// connection carries at most `bytes_per_second`.
    Slow {
        latency: Duration,
        bytes_per_second: u64,
    },
    /// The sync WebSocket without compression; each complete binary
    /// message from the device after its `join` goes twice, and every
    /// frame it sends is kept for [`FaultProxy::replay`].
    Twice,
}

/// The request line and bytes of one connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wire {
    pub request: String,
    pub up: u64,
    pub down: u64,
}

#[derive(Debug, Default)]
struct Counts {
    request: Mutex<String>,
    up: AtomicU64,
    down: AtomicU64,
}

/// One sync WebSocket as the device sent it: the upgrade request (its
/// compression offer removed) and its frames, byte for byte.
#[derive(Debug, Clone, Default)]
struct Session {
    upgrade: Vec<u8>,
    frames: Vec<Vec<u8>>,
}

#[derive(Debug)]
struct Shared {
    server: SocketAddr,
    fault: Mutex<Fault>,
    /// A [`Fault::Cut`] no connection has claimed yet.
    armed: AtomicBool,
    fired: AtomicU64,
    /// Messages sent twice under [`Fault::Twice`].
    doubled: AtomicU64,
    connections: Mutex<Vec<Arc<Counts>>>,
    sessions: Mutex<Vec<Session>>,
}

/// The proxy; it stops accepting when the test process ends.
#[derive(Debug)]
pub struct FaultProxy {
    pub url: String,
    shared: Arc<Shared>,
}

impl FaultProxy {
    /// Listen on a free loopback port and forward to `server_url`
    /// (`http://127.0.0.1:PORT`).
    pub fn start(server_url: &str) -> Self {
        let server: SocketAddr = server_url
            .trim_start_matches("http://")
            .parse()
            .expect("the server listens on a loopback address");
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let url = format!("http://{}", listener.local_addr().unwrap());
        let shared = Arc::new(Shared {
            server,
            fault: Mutex::new(Fault::None),
            armed: AtomicBool::new(false),
            fired: AtomicU64::new(0),
            doubled: AtomicU64::new(0),
            connections: Mutex::new(Vec::new()),
            sessions: Mutex::new(Vec::new()),
        });
        let accepting = shared.clone();
        std::thread::spawn(move || {
            for device in listener.incoming().flatten() {
                let shared = accepting.clone();
                std::thread::spawn(move || connect(device, shared));
            }
        });
        FaultProxy { url, shared }
    }

    /// What the connections opened from now on go through.
    pub fn set(&self, fault: Fault) {
        self.shared
            .armed
            .store(matches!(fault, Fault::Cut { .. }), Ordering::SeqCst);
        *self.shared.fault.lock().unwrap() = fault;
    }

    /// How many cuts have fired since the proxy started.
    pub fn cuts(&self) -> u64 {
        self.shared.fired.load(Ordering::SeqCst)
    }

    /// How many of the device's messages went twice.
    pub fn doubled(&self) -> u64 {
        self.shared.doubled.load(Ordering::SeqCst)
    }

    /// The connections since the last call, with what crossed each.
    pub fn take(&self) -> Vec<Wire> {
        std::mem::take(&mut *self.shared.connections.lock().unwrap())
            .iter()
            .map(|c| Wire {
                request: c.request.lock().unwrap().clone(),
                up: c.up.load(Ordering::SeqCst),
                down: c.down.load(Ordering::SeqCst),
            })
            .collect()
    }

    /// Open each sync WebSocket kept under [`Fault::Twice`] again, straight
    /// to the server, and send the device's frames of it again, byte for
    /// byte; wait for the server to close or fall silent. The bytes the
    /// server answered, per session.
    pub fn replay(&self) -> Vec<usize> {
        let sessions = self.shared.sessions.lock().unwrap().clone();
        sessions
            .iter()
            .map(|session| replay(self.shared.server, session))
            .collect()
    }
}

fn replay(server: SocketAddr, session: &Session) -> usize {
    let mut socket = TcpStream::connect(server).expect("the server listens");
    socket
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    socket.write_all(&session.upgrade).unwrap();
    let mut answer = Vec::new();
    let mut buffer = [0u8; 16 * 1024];
    while find(&answer, b"\r\n\r\n").is_none() {
        let n = socket
            .read(&mut buffer)
            .expect("the server answers the upgrade");
        assert!(n > 0, "the server closed before answering the upgrade");
        answer.extend_from_slice(&buffer[..n]);
    }
    assert!(
        answer.starts_with(b"HTTP/1.1 101"),
        "the replayed upgrade was refused: {}",
        String::from_utf8_lossy(&answer)
    );
    for frame in &session.frames {
        // The server may close at a frame it does not accept.
        if socket.write_all(frame).is_err() {
            break;
        }
    }
    let head_end = find(&answer, b"\r\n\r\n").unwrap_or(0) + 4;
    let mut received = answer.len() - head_end;
    while let Ok(n) = socket.read(&mut buffer) {
        if n == 0 {
            break;
        }
        received += n;
    }
    received
}

/// A piece of traffic for a direction's writer.
enum Piece {
    Bytes {
        due: Instant,
        bytes: Vec<u8>,
    },
    /// Close both sides: the connection is cut.
    Cut,
}

/// The two sockets of a connection, to close both on a cut.
struct Ends {
    device: TcpStream,
    server: TcpStream,
}

impl Ends {
    fn cut(&self) {
        let _ = self.device.shutdown(Shutdown::Both);
        let _ = self.server.shutdown(Shutdown::Both);
    }
}

fn connect(device: TcpStream, shared: Arc<Shared>) {
    let Ok(server) = TcpStream::connect(shared.server) else {
        return;
    };
    let _ = device.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let fault = shared.fault.lock().unwrap().clone();
    let counts = Arc::new(Counts::default());
    shared.connections.lock().unwrap().push(counts.clone());
    let ends = Arc::new(Ends {
        device: device.try_clone().unwrap(),
        server: server.try_clone().unwrap(),
    });
    let seen = Arc::new(AtomicBool::new(false));
    let (up_pieces, up_queue) = channel();
    let (down_pieces, down_queue) = channel();
    let rate = match fault {
        Fault::Slow {
            bytes_per_second, ..
        } => Some(bytes_per_second),
        _ => None,
    };
    let writers = [
        spawn_writer(up_queue, server.try_clone().unwrap(), ends.clone(), rate),
        spawn_writer(down_queue, device.try_clone().unwrap(), ends.clone(), rate),
    ];
    let up = Reader {
        way: Way::Up,
        fault: fault.clone(),
        shared: shared.clone(),
        counts: counts.clone(),
        seen: seen.clone(),
        out: up_pieces,
    };
    let down = Reader {
        way: Way::Down,
        fault,
        shared,
        counts,
        seen,
        out: down_pieces,
    };
    let downstream = std::thread::spawn(move || down.run(server));
    up.run(device);
    let _ = downstream.join();
    for writer in writers {
        let _ = writer.join();
    }
}

fn spawn_writer(
    queue: Receiver<Piece>,
    mut to: TcpStream,
    ends: Arc<Ends>,
    rate: Option<u64>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        for piece in queue {
            match piece {
                Piece::Bytes { due, bytes } => {
                    std::thread::sleep(due.saturating_duration_since(Instant::now()));
                    if to.write_all(&bytes).is_err() {
                        ends.cut();
                        return;
                    }
                    if let Some(rate) = rate {
                        let secs = bytes.len() as f64 / rate as f64;
                        std::thread::sleep(Duration::from_secs_f64(secs));
                    }
                }
                Piece::Cut => {
                    ends.cut();
                    return;
                }
            }
        }
        // The reader saw the end of its side: pass the end on.
        let _ = to.shutdown(Shutdown::Write);
    })
}

/// One direction of a connection: reads, applies the fault, hands the
/// pieces to the writer.
struct Reader {
    way: Way,
    fault: Fault,
    shared: Arc<Shared>,
    counts: Arc<Counts>,
    /// Whether the device has sent the request a [`Fault::Cut`] waits for
    /// (and this connection claimed the cut).
    seen: Arc<AtomicBool>,
    out: Sender<Piece>,
}

/// Where a [`Fault::Twice`] reader is in the device's bytes.
enum Frames {
    /// Before the end of the first request head.
    Head(Vec<u8>),
    /// In a sync WebSocket: a partial frame.
    Socket(Vec<u8>),
    /// Anything else: passes.
    Pass,
}

impl Reader {
    fn run(self, mut from: TcpStream) {
        let mut buffer = vec![0u8; 64 * 1024];
        // Bytes of this direction before the current read, and, for a cut,
        // where it falls in them.
        let mut total: u64 = 0;
        let mut cut_at: Option<u64> = None;
        let mut recent: Vec<u8> = Vec::new();
        let mut frames = match (&self.fault, self.way) {
            (Fault::Twice, Way::Up) => Frames::Head(Vec::new()),
            _ => Frames::Pass,
        };
        loop {
            let n = match from.read(&mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let chunk = &buffer[..n];
            let counter = match self.way {
                Way::Up => &self.counts.up,
                Way::Down => &self.counts.down,
            };
            counter.fetch_add(n as u64, Ordering::SeqCst);
            if self.way == Way::Up && total == 0 {
                let line = chunk.split(|b| *b == b'\r').next().unwrap_or_default();
                *self.counts.request.lock().unwrap() = String::from_utf8_lossy(line).into();
            }
            if let Fault::Cut {
                request,
                way,
                after,
                garbage,
            } = self.fault
            {
                if cut_at.is_none() {
                    cut_at = self.cut_point(request, way, after, total, chunk, &mut recent);
                }
                if let Some(at) = cut_at
                    && at <= total + n as u64
                {
                    let keep = at.saturating_sub(total) as usize;
                    self.send(chunk[..keep].to_vec());
                    self.send(nonsense(garbage));
                    let _ = self.out.send(Piece::Cut);
                    self.shared.fired.fetch_add(1, Ordering::SeqCst);
                    return;
                }
            }
            total += n as u64;
            match &mut frames {
                Frames::Pass => self.send(chunk.to_vec()),
                Frames::Head(head) => {
                    head.extend_from_slice(chunk);
                    if let Some(end) = find(head, b"\r\n\r\n") {
                        let rest = head.split_off(end + 4);
                        if head.starts_with(b"GET /v1/sync ") {
                            let upgrade = without_compression(head);
                            self.send(upgrade.clone());
                            self.shared.sessions.lock().unwrap().push(Session {
                                upgrade,
                                frames: Vec::new(),
                            });
                            frames = Frames::Socket(Vec::new());
                            self.pass_frames(&mut frames, &rest);
                        } else {
                            head.extend_from_slice(&rest);
                            self.send(std::mem::take(head));
                            frames = Frames::Pass;
                        }
                    }
                }
                Frames::Socket(_) => self.pass_frames(&mut frames, chunk),
            }
        }
        // The end of this side: the writer passes it on when it is done.
    }

    /// Where the cut falls, once this connection is the one to cut.
    fn cut_point(
        &self,
        request: &str,
        way: Way,
        after: u64,
        total: u64,
        chunk: &[u8],
        recent: &mut Vec<u8>,
    ) -> Option<u64> {
        match self.way {
            Way::Up if !self.seen.load(Ordering::SeqCst) => {
                let kept = recent.len() as u64;
                recent.extend_from_slice(chunk);
                let found = find(recent, request.as_bytes());
                let keep_from = recent.len().saturating_sub(request.len());
                recent.drain(..keep_from);
                let start = total + found? as u64 - kept;
                // The first connection to send the request claims the cut.
                if !self.shared.armed.swap(false, Ordering::SeqCst) {
                    return None;
                }
                self.seen.store(true, Ordering::SeqCst);
                (way == Way::Up).then_some(start + after)
            }
            Way::Up => None,
            Way::Down => {
                (way == Way::Down && self.seen.load(Ordering::SeqCst)).then_some(total + after)
            }
        }
    }

    /// Forward the complete frames in `buffer` + `chunk` and keep them for
    /// a replay. A whole binary message goes twice, but for the first: the
    /// handshake's `join`, which automerge-repo allows once per connection
    /// (a second one is a protocol error that closes it).
    fn pass_frames(&self, frames: &mut Frames, chunk: &[u8]) {
        let Frames::Socket(buffer) = frames else {
            return;
        };
        buffer.extend_from_slice(chunk);
        while let Some(len) = frame_len(buffer) {
            let frame: Vec<u8> = buffer.drain(..len).collect();
            let whole_binary = frame[0] & 0x8f == 0x82;
            let mut sessions = self.shared.sessions.lock().unwrap();
            let Some(session) = sessions.last_mut() else {
                return;
            };
            if whole_binary && !session.frames.is_empty() {
                self.send(frame.clone());
                self.shared.doubled.fetch_add(1, Ordering::SeqCst);
            }
            self.send(frame.clone());
            session.frames.push(frame);
        }
    }

    fn send(&self, bytes: Vec<u8>) {
        if bytes.is_empty() {
            return;
        }
        let delay = match self.fault {
            Fault::Slow { latency, .. } => latency,
            _ => Duration::ZERO,
        };
        let _ = self.out.send(Piece::Bytes {
            due: Instant::now() + delay,
            bytes,
        });
    }
}

/// The length of the WebSocket frame at the start of `buffer`, once all
/// of it is there (RFC 6455 §5.2).
fn frame_len(buffer: &[u8]) -> Option<usize> {
    let second = *buffer.get(1)?;
    let (payload, mut header) = match second & 0x7f {
        126 => (
            u16::from_be_bytes(buffer.get(2..4)?.try_into().ok()?) as u64,
            4,
        ),
        127 => (u64::from_be_bytes(buffer.get(2..10)?.try_into().ok()?), 10),
        n => (u64::from(n), 2),
    };
    if second & 0x80 != 0 {
        header += 4;
    }
    let len = usize::try_from(header as u64 + payload).ok()?;
    (buffer.len() >= len).then_some(len)
}

/// The upgrade request without its `Sec-WebSocket-Extensions` line: the
/// server then answers with plain frames.
fn without_compression(head: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(head);
    text.split_inclusive("\r\n")
        .filter(|line| {
            !line
                .to_ascii_lowercase()
                .starts_with("sec-websocket-extensions:")
        })
        .collect::<String>()
        .into_bytes()
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Bytes that mean nothing, the same at every run.
fn nonsense(len: usize) -> Vec<u8> {
    let mut state: u32 = 0x9e37_79b9;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state.to_le_bytes()[0]
        })
        .collect()
}
