//! A TCP load balancer on loopback, as any would stand in front of several
//! servers: each new connection goes to a backend picked at random (no
//! sticky sessions), the next one if that one does not answer.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use rand::Rng;

#[derive(Debug)]
pub struct Balancer {
    pub url: String,
    address: SocketAddr,
    stopping: Arc<AtomicBool>,
    accepting: Option<JoinHandle<()>>,
}

impl Balancer {
    pub fn start(backends: Vec<SocketAddr>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let address = listener.local_addr().expect("its address");
        let stopping = Arc::new(AtomicBool::new(false));
        let accepting = std::thread::spawn({
            let stopping = stopping.clone();
            move || {
                for client in listener.incoming() {
                    if stopping.load(Ordering::SeqCst) {
                        return;
                    }
                    let Ok(client) = client else { continue };
                    let backends = backends.clone();
                    std::thread::spawn(move || forward(client, &backends));
                }
            }
        });
        Self {
            url: format!("http://{address}"),
            address,
            stopping,
            accepting: Some(accepting),
        }
    }
}

/// To a backend picked at random, or the next one that answers.
fn forward(client: TcpStream, backends: &[SocketAddr]) {
    let first = rand::rng().random_range(0..backends.len());
    let server = (0..backends.len())
        .map(|i| backends[(first + i) % backends.len()])
        .find_map(|b| TcpStream::connect(b).ok());
    let Some(server) = server else {
        let _ = client.shutdown(Shutdown::Both);
        return;
    };
    let (Ok(client_in), Ok(server_in)) = (client.try_clone(), server.try_clone()) else {
        return;
    };
    let up = std::thread::spawn(move || copy(client_in, server));
    copy(server_in, client);
    let _ = up.join();
}

/// Bytes one way until either side closes; then both are closed.
fn copy(mut from: TcpStream, mut to: TcpStream) {
    let mut buffer = [0u8; 16 * 1024];
    loop {
        match from.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buffer[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Both);
    let _ = from.shutdown(Shutdown::Both);
}

impl Drop for Balancer {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        // Wake the accepting thread so that it sees it must stop.
        let _ = TcpStream::connect(self.address);
        if let Some(accepting) = self.accepting.take() {
            let _ = accepting.join();
        }
    }
}
