//! A loopback TCP proxy in front of the server that counts the bytes
//! crossing it: the wire bytes of a sync, HTTP and WebSocket framing
//! included, as a network would carry them (less TCP/IP headers).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What crossed the proxy since the last [`Proxy::take`].
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Wire {
    /// Device → server.
    pub up: u64,
    /// Server → device.
    pub down: u64,
    /// TCP connections opened.
    pub connections: u64,
}

impl Wire {
    pub fn total(&self) -> u64 {
        self.up + self.down
    }
}

#[derive(Debug)]
struct Counters {
    up: AtomicU64,
    down: AtomicU64,
    connections: AtomicU64,
    /// Print each read (`--trace`): on loopback, with no delay, about one
    /// per message, so where the bytes of a scenario go shows, and when
    /// (milliseconds since the proxy started), so where the time goes.
    trace: bool,
    started: std::time::Instant,
}

#[derive(Debug)]
pub struct Proxy {
    pub addr: SocketAddr,
    counters: Arc<Counters>,
}

impl Proxy {
    /// Listen on a free loopback port and forward every connection to
    /// `server`.
    pub async fn start(server: SocketAddr, trace: bool) -> std::io::Result<Self> {
        Self::start_balanced(vec![server], trace).await
    }

    /// [`Proxy::start`] in front of several servers: each connection to
    /// one picked at random, as a load balancer without sticky sessions.
    pub async fn start_balanced(servers: Vec<SocketAddr>, trace: bool) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let counters = Arc::new(Counters {
            up: AtomicU64::new(0),
            down: AtomicU64::new(0),
            connections: AtomicU64::new(0),
            trace,
            started: std::time::Instant::now(),
        });
        let shared = counters.clone();
        tokio::spawn(async move {
            while let Ok((device, _)) = listener.accept().await {
                shared.connections.fetch_add(1, Ordering::Relaxed);
                let counters = shared.clone();
                let server = servers[rand::random_range(0..servers.len())];
                tokio::spawn(async move {
                    if let Ok(upstream) = TcpStream::connect(server).await {
                        forward(device, upstream, counters).await;
                    }
                });
            }
        });
        Ok(Self { addr, counters })
    }

    /// The counts since the last call, and start again from zero.
    pub fn take(&self) -> Wire {
        Wire {
            up: self.counters.up.swap(0, Ordering::Relaxed),
            down: self.counters.down.swap(0, Ordering::Relaxed),
            connections: self.counters.connections.swap(0, Ordering::Relaxed),
        }
    }
}

async fn forward(device: TcpStream, upstream: TcpStream, counters: Arc<Counters>) {
    let _ = device.set_nodelay(true);
    let _ = upstream.set_nodelay(true);
    let (device_read, device_write) = device.into_split();
    let (server_read, server_write) = upstream.into_split();
    let up = pump(
        device_read,
        server_write,
        &counters.up,
        counters.trace.then_some(("up", counters.started)),
    );
    let down = pump(
        server_read,
        device_write,
        &counters.down,
        counters.trace.then_some(("down", counters.started)),
    );
    tokio::join!(up, down);
}

async fn pump(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    count: &AtomicU64,
    trace: Option<(&str, std::time::Instant)>,
) {
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        match from.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                count.fetch_add(n as u64, Ordering::Relaxed);
                if let Some((way, started)) = trace {
                    let ms = started.elapsed().as_secs_f64() * 1000.0;
                    eprintln!(
                        "{ms:>10.1} ms {way:>4} {n:>7} B  {}",
                        http_line(&buffer[..n])
                    );
                }
                if to.write_all(&buffer[..n]).await.is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown().await;
}

/// The request or status line when `bytes` start an HTTP message (the
/// WebSocket's frames are binary): what the read was.
fn http_line(bytes: &[u8]) -> String {
    let line = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
    match std::str::from_utf8(line) {
        Ok(text) if text.starts_with("HTTP/") || text.contains(" HTTP/1.1") => {
            text.trim_end().to_string()
        }
        _ => String::new(),
    }
}
