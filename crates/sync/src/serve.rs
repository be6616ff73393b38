//! Serving HTTP so that no client, slow or hostile, keeps the others out:
//! the base server's API and sync socket, and a tablet serving its
//! teammates, over plain TCP or TLS.
//!
//! What [`serve`] does that `axum::serve` does not:
//!
//! - **It always accepts.** A connection is taken from the kernel at once
//!   and only then counted against its address; over TLS its handshake
//!   runs in its own task, within [`HANDSHAKE_TIME`]. A listener that
//!   waited for a free handshake slot before accepting stopped answering
//!   everyone as soon as one client held enough idle connections.
//! - **Caps per address.** Open connections per IP address
//!   ([`Limits::connections_per_ip`]), TLS handshakes in progress per
//!   address ([`HANDSHAKES_PER_IP`]) and in all ([`HANDSHAKES_AT_ONCE`]).
//!   A connection over a cap is closed at once, so that the next one, from
//!   another address, is taken without waiting. An IPv6 address counts by
//!   its /64: one host usually holds a whole one.
//! - **Time limits.** A request's headers must arrive within
//!   [`Limits::header_read`]; hyper starts the same timer when a kept-alive
//!   connection waits for its next request, so an idle one is closed after
//!   as long. A connection on which no byte moves, either way, for
//!   [`STALLED`] is closed (a request body that stops coming, an answer
//!   nobody reads); once it is a sync WebSocket, after
//!   [`Limits::sync_idle`].
//!
//! Why hyper's HTTP/1 connection rather than hyper-util's `auto` builder,
//! which axum uses: `auto` first reads the opening bytes to tell HTTP/2
//! from HTTP/1, with no time limit, so a client that connects and sends
//! nothing is never timed out. Our clients speak HTTP/1.1 only (ALPN
//! `http/1.1` over TLS).
//!
//! Handlers find `ConnectInfo<SocketAddr>` (the client's address) and,
//! over TLS, `ConnectInfo<TlsConnection>` (with the certificate a teammate
//! showed) in the request, as with axum's
//! `into_make_service_with_connect_info`.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper::service::{Service, service_fn};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use rustls::ServerConfig;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::{Instant, Sleep};

use crate::tls::TlsConnection;

/// How long a client has to send a request's headers, and how long a
/// kept-alive connection may wait for its next request. A tablet sends its
/// headers in one packet: even on a poor mobile line that takes well under
/// a second; 10 s leaves room for a line that stalls for a few seconds.
pub const HEADER_READ: Duration = Duration::from_secs(10);
/// Connections open at once from one address. A team behind one NAT (the
/// warehouse's Wi-Fi, a 4G router in the van) shares an address: each
/// tablet syncing holds two (its requests and its sync socket), so 64
/// lets some thirty sync at the same moment.
pub const CONNECTIONS_PER_IP: usize = 64;
/// How long a sync WebSocket may go without a byte either way. During a
/// sync the two sides answer each other within moments, and the device
/// closes the socket when it is done; a minute only cuts connections that
/// are dead or forgotten.
pub const SYNC_IDLE: Duration = Duration::from_secs(60);
/// How long a request (before any upgrade) may go without a byte either
/// way: a body that stops coming, an answer nobody reads. Longer than
/// [`HEADER_READ`] since the server may take its time to answer (the
/// first request of an antenna opens its store).
pub const STALLED: Duration = Duration::from_secs(60);
/// How long a client has to finish its TLS handshake: a few round trips,
/// well under a second even on a poor mobile line.
pub const HANDSHAKE_TIME: Duration = Duration::from_secs(10);
/// TLS handshakes in progress at once from one address. An honest client
/// has one at a time, and a handshake lasts milliseconds, so eight leaves
/// room for a team behind one NAT starting together.
pub const HANDSHAKES_PER_IP: usize = 8;
/// TLS handshakes in progress at once in all: each holds a task and its
/// buffers for up to [`HANDSHAKE_TIME`]; the whole fleet of an
/// association reconnecting after a restart stays well below.
pub const HANDSHAKES_AT_ONCE: usize = 128;

/// How long a request under way may take to finish once the server
/// stops: a few seconds, as a service manager waits for a stop, and a
/// client that stalls does not hold the stop up for longer.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// What a server allows each connection. The defaults are the constants
/// above; the base server takes them from its settings.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub header_read: Duration,
    pub connections_per_ip: usize,
    pub sync_idle: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_read: HEADER_READ,
            connections_per_ip: CONNECTIONS_PER_IP,
            sync_idle: SYNC_IDLE,
        }
    }
}

/// Serve `router` on `listener` (over TLS with the configuration `tls`
/// holds, which may change while serving: a newer revocation list) until
/// `stop` resolves; then accept nothing more, let the requests under way
/// finish (within [`SHUTDOWN_GRACE`]) and return. Sync WebSockets are not
/// waited for: their hub closes them.
pub async fn serve(
    listener: TcpListener,
    tls: Option<watch::Receiver<Arc<ServerConfig>>>,
    router: Router,
    limits: Limits,
    stop: impl Future<Output = ()> + Send + 'static,
) {
    let (stopping_tx, stopping) = watch::channel(false);
    let stopper = tokio::spawn(async move {
        stop.await;
        stopping_tx.send_replace(true);
    });
    // Each connection's task holds a receiver; all dropped: all done.
    let (done_tx, done) = watch::channel(());
    let open = Counts::new(limits.connections_per_ip.max(1));
    let handshakes = Handshakes {
        per_address: Counts::new(HANDSHAKES_PER_IP),
        all: Arc::new(Semaphore::new(HANDSHAKES_AT_ONCE)),
    };
    let mut stop_accepting = stopping.clone();
    loop {
        let (tcp, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // A client gone before it was taken: nothing to wait for.
                Err(e) if matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
                ) => continue,
                Err(e) => {
                    // Out of file descriptors and the like: wait, go on.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            // Unit, not watch's guard: the select's output lives across
            // the awaits in its arms, and a guard is not Send (the app
            // spawns this on a multi-threaded runtime).
            () = stopped(&mut stop_accepting) => break,
        };
        let address = address_key(remote.ip());
        let Some(seat) = open.take(address) else {
            tracing::debug!(%remote, "too many connections from this address: closed");
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let connection = Connection {
            router: router.clone(),
            limits,
            stopping: stopping.clone(),
            _done: done.clone(),
        };
        let Some(configs) = &tls else {
            tokio::spawn(connection.serve(tcp, seat, remote, None));
            continue;
        };
        let Some(handshake) = handshakes.take(address) else {
            tracing::debug!(%remote, "too many TLS handshakes under way: closed");
            continue;
        };
        let acceptor = tokio_rustls::TlsAcceptor::from(configs.borrow().clone());
        let mut stopping = stopping.clone();
        tokio::spawn(async move {
            let shaken = tokio::select! {
                shaken = tokio::time::timeout(HANDSHAKE_TIME, acceptor.accept(tcp)) => shaken,
                () = stopped(&mut stopping) => return,
            };
            drop(handshake);
            match shaken {
                Ok(Ok(stream)) => {
                    let info = TlsConnection::of(&stream, remote);
                    connection.serve(stream, seat, remote, Some(info)).await;
                }
                Ok(Err(e)) => tracing::info!(%remote, error = %e, "TLS handshake refused"),
                Err(_) => tracing::info!(%remote, "TLS handshake too slow"),
            }
        });
    }
    drop(listener);
    drop(done);
    done_tx.closed().await;
    stopper.abort();
}

/// One accepted connection, served until it closes or is upgraded.
struct Connection {
    router: Router,
    limits: Limits,
    stopping: watch::Receiver<bool>,
    _done: watch::Receiver<()>,
}

impl Connection {
    async fn serve<I>(self, io: I, seat: Seat, remote: SocketAddr, tls: Option<TlsConnection>)
    where
        I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let idle = Arc::new(IdleLimit::new(STALLED, self.limits.sync_idle));
        let io = TokioIo::new(Watched::new(io, idle.clone(), seat));
        let router = TowerToHyperService::new(self.router);
        let service = service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(remote));
            if let Some(tls) = &tls {
                request.extensions_mut().insert(ConnectInfo(tls.clone()));
            }
            router.call(request)
        });
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(self.limits.header_read);
        let mut conn = Box::pin(http.serve_connection(io, service).with_upgrades());
        let mut stopping = self.stopping;
        let served = tokio::select! {
            served = conn.as_mut() => Some(served),
            () = stopped(&mut stopping) => None,
        };
        let served = match served {
            Some(served) => served,
            None => {
                // Stopping: an idle kept-alive connection closes now, a
                // request under way may finish; whatever is still going
                // after SHUTDOWN_GRACE (a client sending its headers
                // slowly) is cut.
                conn.as_mut().graceful_shutdown();
                tokio::time::timeout(SHUTDOWN_GRACE, conn.as_mut())
                    .await
                    .unwrap_or(Ok(()))
            }
        };
        if let Err(e) = served {
            tracing::debug!(%remote, error = %e, "connection ended");
        }
        drop(conn);
        // If the connection lives on, hyper handed it to a WebSocket (the
        // sync socket, the only upgrade): the sync limit applies.
        idle.upgraded();
    }
}

/// The key an address is counted under: IPv4 as it is, IPv6 by its /64.
fn address_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let mut octets = v6.octets();
            octets[8..].fill(0);
            IpAddr::V6(octets.into())
        }
        v4 => v4,
    }
}

/// How many connections each address holds, up to a cap.
#[derive(Debug)]
struct Counts {
    cap: usize,
    by_address: Mutex<HashMap<IpAddr, usize>>,
}

impl Counts {
    fn new(cap: usize) -> Arc<Self> {
        Arc::new(Self {
            cap,
            by_address: Mutex::default(),
        })
    }

    /// A seat for one more connection of `address`, unless it holds the
    /// cap already.
    fn take(self: &Arc<Self>, address: IpAddr) -> Option<Seat> {
        let mut counts = self.by_address.lock().unwrap_or_else(|p| p.into_inner());
        let held = counts.entry(address).or_default();
        if *held >= self.cap {
            return None;
        }
        *held += 1;
        Some(Seat {
            counts: self.clone(),
            address,
        })
    }
}

/// One connection counted for its address; given back when dropped.
#[derive(Debug)]
struct Seat {
    counts: Arc<Counts>,
    address: IpAddr,
}

impl Drop for Seat {
    fn drop(&mut self) {
        let mut counts = self
            .counts
            .by_address
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if let Some(held) = counts.get_mut(&self.address) {
            *held -= 1;
            if *held == 0 {
                counts.remove(&self.address);
            }
        }
    }
}

struct Handshakes {
    per_address: Arc<Counts>,
    all: Arc<Semaphore>,
}

impl Handshakes {
    fn take(&self, address: IpAddr) -> Option<(Seat, OwnedSemaphorePermit)> {
        let seat = self.per_address.take(address)?;
        let permit = self.all.clone().try_acquire_owned().ok()?;
        Some((seat, permit))
    }
}

/// How long a connection may go without a byte moving: one limit while it
/// speaks HTTP, another once upgraded to a sync socket.
#[derive(Debug)]
struct IdleLimit {
    http: Duration,
    socket: Duration,
    upgraded: AtomicBool,
    /// The connection's tasks waiting on the HTTP limit, woken when it
    /// changes so that they take the socket's.
    waiting: Mutex<Vec<Waker>>,
}

impl IdleLimit {
    fn new(http: Duration, socket: Duration) -> Self {
        Self {
            http,
            socket,
            upgraded: AtomicBool::new(false),
            waiting: Mutex::default(),
        }
    }

    fn upgraded(&self) {
        self.upgraded.store(true, Ordering::SeqCst);
        let waiting = std::mem::take(&mut *self.waiting.lock().unwrap_or_else(|p| p.into_inner()));
        waiting.into_iter().for_each(Waker::wake);
    }

    /// The limit now; `waker` is woken if it changes.
    fn limit(&self, waker: &Waker) -> Duration {
        if self.upgraded.load(Ordering::SeqCst) {
            return self.socket;
        }
        {
            let mut waiting = self.waiting.lock().unwrap_or_else(|p| p.into_inner());
            if !waiting.iter().any(|w| w.will_wake(waker)) {
                waiting.push(waker.clone());
            }
        }
        // Read again: `upgraded` may have come between.
        if self.upgraded.load(Ordering::SeqCst) {
            self.socket
        } else {
            self.http
        }
    }
}

/// A connection's stream that counts against its address while it lives,
/// and fails once no byte has moved for longer than its [`IdleLimit`]:
/// the one thing that ends a connection, whoever holds it (hyper, or the
/// WebSocket after an upgrade), when its peer goes quiet.
struct Watched<I> {
    inner: I,
    idle: Arc<IdleLimit>,
    last_moved: Instant,
    read_timer: Pin<Box<Sleep>>,
    write_timer: Pin<Box<Sleep>>,
    _seat: Seat,
}

impl<I> Watched<I> {
    fn new(inner: I, idle: Arc<IdleLimit>, seat: Seat) -> Self {
        let now = Instant::now();
        Self {
            inner,
            idle,
            last_moved: now,
            read_timer: Box::pin(tokio::time::sleep_until(now)),
            write_timer: Box::pin(tokio::time::sleep_until(now)),
            _seat: seat,
        }
    }

    /// An error if no byte has moved for longer than the limit; otherwise
    /// `None`, and the task is woken when that happens.
    fn idle_past_limit(&mut self, writing: bool, cx: &mut Context<'_>) -> Option<io::Error> {
        let deadline = self.last_moved + self.idle.limit(cx.waker());
        let timer = if writing {
            &mut self.write_timer
        } else {
            &mut self.read_timer
        };
        if timer.deadline() != deadline {
            timer.as_mut().reset(deadline);
        }
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => Some(io::Error::new(
                io::ErrorKind::TimedOut,
                "nothing moved on this connection for too long",
            )),
            Poll::Pending => None,
        }
    }

    fn pending_or_idle<T>(&mut self, writing: bool, cx: &mut Context<'_>) -> Poll<io::Result<T>> {
        match self.idle_past_limit(writing, cx) {
            Some(e) => Poll::Ready(Err(e)),
            None => Poll::Pending,
        }
    }

    fn wrote(
        &mut self,
        written: Poll<io::Result<usize>>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<usize>> {
        match written {
            Poll::Ready(Ok(n)) => {
                if n > 0 {
                    self.last_moved = Instant::now();
                }
                Poll::Ready(Ok(n))
            }
            Poll::Pending => self.pending_or_idle(true, cx),
            other => other,
        }
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for Watched<I> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > before {
                    this.last_moved = Instant::now();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Pending => this.pending_or_idle(false, cx),
            failed => failed,
        }
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Watched<I> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.wrote(written, cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.wrote(written, cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_flush(cx) {
            Poll::Pending => this.pending_or_idle(true, cx),
            done => done,
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_shutdown(cx) {
            Poll::Pending => this.pending_or_idle(true, cx),
            done => done,
        }
    }
}

/// Resolves once the server is told to stop (or its stopper is gone).
async fn stopped(stopping: &mut watch::Receiver<bool>) {
    let _ = stopping.wait_for(|s| *s).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_host_counts_by_its_64_and_an_ipv4_one_as_itself() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        assert_ne!(address_key(a), address_key(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(address_key(mapped), IpAddr::from([192, 0, 2, 7]));
        assert_ne!(
            address_key(IpAddr::from([192, 0, 2, 7])),
            address_key(IpAddr::from([192, 0, 2, 8]))
        );
    }

    #[test]
    fn an_address_at_its_cap_gets_no_seat_until_one_is_given_back() {
        let counts = Counts::new(2);
        let here = IpAddr::from([192, 0, 2, 1]);
        let there = IpAddr::from([192, 0, 2, 2]);
        let first = counts.take(here);
        let second = counts.take(here);
        assert!(first.is_some() && second.is_some());
        assert!(counts.take(here).is_none(), "a third from the same address");
        assert!(
            counts.take(there).is_some(),
            "another address is not held up"
        );
        drop(first);
        assert!(
            counts.take(here).is_some(),
            "a seat given back is taken again"
        );
        drop(second);
        let by_address = counts.by_address.lock().unwrap_or_else(|p| p.into_inner());
        assert!(
            !by_address.contains_key(&here),
            "no entry left for a gone address"
        );
    }
}
