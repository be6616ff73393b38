//! The real `maraude-server` binary on a loopback port, for the tests.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::tablet::maraude_bin;

pub const SERVER_PASSPHRASE: &str = "entrepôt 2026 serveur";
pub const REGISTRATION_TOKEN: &str = "registration-token-for-tests";

/// A running server; killed when dropped.
#[derive(Debug)]
pub struct Server {
    pub url: String,
    pub data_dir: PathBuf,
    port: u16,
    /// The address it listens on: loopback, or every interface.
    listen: std::net::IpAddr,
    child: Option<Child>,
    env: Vec<(String, String)>,
    /// The keys of its caches, once derived (each derivation opens the
    /// database and runs the server key's Argon2id).
    cache_keys: std::sync::Mutex<HashMap<String, [u8; 32]>>,
}

pub fn server_bin() -> PathBuf {
    let bin =
        maraude_bin().with_file_name(format!("maraude-server{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "no `maraude-server` at {}: run `cargo build -p maraude-server` first",
        bin.display()
    );
    bin
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl Server {
    pub fn start(data_dir: &Path) -> Self {
        Self::start_with(data_dir, &[])
    }

    /// [`Server::start`] with more environment (`MARAUDE_…` settings).
    pub fn start_with(data_dir: &Path, env: &[(&str, &str)]) -> Self {
        Self::start_listening(data_dir, std::net::Ipv4Addr::LOCALHOST.into(), env)
    }

    /// [`Server::start_with`], listening on `listen` (0.0.0.0: every
    /// interface, for a client from this machine's network address).
    pub fn start_listening(
        data_dir: &Path,
        listen: std::net::IpAddr,
        env: &[(&str, &str)],
    ) -> Self {
        let mut server = Server {
            url: String::new(),
            data_dir: data_dir.to_path_buf(),
            port: free_port(),
            listen,
            child: None,
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            cache_keys: Default::default(),
        };
        let scheme = if server.tls() { "https" } else { "http" };
        server.url = format!("{scheme}://127.0.0.1:{}", server.port);
        server.spawn();
        server
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.data_dir.with_extension("log"))
            .expect("a server log file");
        let child = Command::new(server_bin())
            .arg("--listen")
            .arg(std::net::SocketAddr::new(self.listen, self.port).to_string())
            .arg("--data-dir")
            .arg(&self.data_dir)
            .env("MARAUDE_SERVER_PASSPHRASE", SERVER_PASSPHRASE)
            .env("MARAUDE_REGISTRATION_TOKEN", REGISTRATION_TOKEN)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("maraude-server starts");
        self.child = Some(child);
        self.wait_healthy();
    }

    /// The answer of `GET path`, status line and body.
    pub fn get(&self, path: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).expect("the server listens");
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        )
        .expect("request sent");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("an answer");
        let status = answer
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = answer
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default();
        (status, body)
    }

    /// The answer of `POST path` with a JSON `body`, sent from the
    /// loopback address `from` (127.0.0.2 is another client than
    /// 127.0.0.1 to the server): status, headers (lower case), body.
    pub fn post_from(
        &self,
        from: std::net::IpAddr,
        path: &str,
        body: &str,
    ) -> (u16, String, String) {
        self.request_from(
            from,
            &format!(
                "POST {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            ),
        )
    }

    /// `request` (its whole text) sent from the loopback address `from`.
    fn request_from(&self, from: std::net::IpAddr, request: &str) -> (u16, String, String) {
        self.request_to(from, std::net::Ipv4Addr::LOCALHOST.into(), request)
    }

    /// `request` sent from `from` to the server at `to` (its loopback
    /// address, or this machine's network address if it listens there).
    pub fn request_to(
        &self,
        from: std::net::IpAddr,
        to: std::net::IpAddr,
        request: &str,
    ) -> (u16, String, String) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
            .expect("a runtime");
        let stream = runtime.block_on(async {
            let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
            socket
                .bind(std::net::SocketAddr::new(from, 0))
                .expect("a loopback source address");
            socket
                .connect(std::net::SocketAddr::new(to, self.port))
                .await
                .expect("the server listens")
        });
        let mut stream = stream.into_std().expect("a std stream");
        stream.set_nonblocking(false).expect("blocking");
        stream.write_all(request.as_bytes()).expect("request sent");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("an answer");
        let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        (status, head.to_lowercase(), body.to_string())
    }

    /// The address it listens on (loopback).
    pub fn address(&self) -> std::net::SocketAddr {
        std::net::SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// Whether it serves HTTPS itself (given a certificate).
    fn tls(&self) -> bool {
        self.env.iter().any(|(k, _)| k == "MARAUDE_TLS_CERT")
    }

    fn wait_healthy(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            // Over HTTPS, a connection taken is enough: the listener is
            // bound once the certificate was read.
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok()
                && (self.tls() || self.get("/v1/health").0 == 200)
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "maraude-server did not answer on {} within 30 s; its log: {}",
            self.url,
            std::fs::read_to_string(self.data_dir.with_extension("log")).unwrap_or_default()
        );
    }

    /// SIGKILL: no shutdown, no flush.
    /// The server process's peak resident memory so far (VmHWM), in KiB.
    pub fn peak_memory_kib(&self) -> u64 {
        peak_memory_kib(self.child.as_ref().expect("the server runs").id())
    }

    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// [`Server::restart`] on the same port and data with other settings
    /// than it started with.
    pub fn restart_with(&mut self, env: &[(&str, &str)]) {
        self.env = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.restart();
    }

    /// Stop, and start again on the same address from another data folder
    /// with these settings (a restored or moved server, where the tablets
    /// know it).
    pub fn move_to(&mut self, data_dir: &Path, env: &[(&str, &str)]) {
        self.kill();
        self.data_dir = data_dir.to_path_buf();
        self.env = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.spawn();
    }

    /// Run `maraude-server ARGS…` (a backup, a restore, a move) with the
    /// server's passphrase and these settings: its stderr if it succeeded,
    /// `Err(stderr)` if not.
    pub fn command(args: &[&str], env: &[(&str, &str)]) -> Result<String, String> {
        let out = Command::new(server_bin())
            .args(args)
            .env("MARAUDE_SERVER_PASSPHRASE", SERVER_PASSPHRASE)
            .env("MARAUDE_LOG", "warn")
            .envs(env.iter().copied())
            .output()
            .expect("maraude-server runs");
        let said = String::from_utf8_lossy(&out.stderr).into_owned();
        if out.status.success() {
            Ok(said)
        } else {
            Err(said)
        }
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| c.try_wait().ok().flatten().is_none())
    }

    /// The file of an antenna's store on the server: with a database, its
    /// cache of the antenna.
    pub fn antenna_store_path(&self, antenna: &str) -> PathBuf {
        let name = match self.database_url() {
            Some(_) => format!("{antenna}.cache.maraude"),
            None => format!("{antenna}.maraude"),
        };
        self.data_dir.join("antennas").join(name)
    }

    fn database_url(&self) -> Option<&str> {
        self.env
            .iter()
            .find(|(k, _)| k == "MARAUDE_DATABASE_URL")
            .map(|(_, v)| v.as_str())
    }

    /// The key of the server's cache of `antenna`, with a database: from
    /// the antenna's data key, as the server derives it.
    fn cache_key(&self, antenna: &str) -> Option<maraude_store::StoreKey> {
        let url = self.database_url()?.to_string();
        let mut kept = self.cache_keys.lock().expect("not poisoned");
        if let Some(key) = kept.get(antenna) {
            return maraude_store::StoreKey::from_slice(key);
        }
        let name = antenna.to_string();
        let antenna: uuid::Uuid = antenna.parse().expect("an antenna id");
        // A runtime of its own on a thread of its own: the caller may be
        // in one already.
        let key = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime")
                .block_on(async {
                    use maraude_server::database::{Connection, Database};
                    let connection = Connection {
                        url,
                        allow_plain: false,
                        max_connections: 2,
                    };
                    let database = Database::open(&connection, SERVER_PASSPHRASE)
                        .await
                        .expect("the server's database opens with its passphrase");
                    maraude_server::shared::SharedDocuments::new(
                        maraude_server::registry::PostgresRegistry::new(database),
                    )
                    .cache_key(antenna)
                    .await
                    .expect("the antenna's cache key")
                })
        })
        .join()
        .expect("the key's thread");
        kept.insert(name, *key.expose_secret());
        Some(key)
    }

    /// Whether `needle` can be read anywhere in the server's file of the
    /// antenna, decrypted page by page (`maraude_store::forensic`).
    pub fn readable(&self, antenna: &str, needle: &str) -> bool {
        let path = self.antenna_store_path(antenna);
        let bytes = match self.cache_key(antenna) {
            Some(key) => maraude_store::forensic::readable_bytes_with_key(&path, &key),
            None => maraude_store::forensic::readable_bytes(
                &path,
                &maraude_store::Passphrase::new(SERVER_PASSPHRASE.into()),
            ),
        }
        .expect("the server's file of the antenna decrypts");
        bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
    }

    /// Wait until the server's copy of the antenna erased a case (its
    /// retention, or a tombstone that reached it), at most `within`.
    pub fn wait_for_an_erasure(&self, antenna: &str, within: Duration) {
        let deadline = Instant::now() + within;
        while self
            .antenna_store(antenna)
            .erased_cases()
            .unwrap_or_default()
            .is_empty()
        {
            assert!(
                Instant::now() < deadline,
                "{}: no case erased within {within:?}",
                self.url
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The antenna's store on the server, opened behind its back.
    pub fn antenna_store(&self, antenna: &str) -> maraude_store::Store {
        let path = self.antenna_store_path(antenna);
        match self.cache_key(antenna) {
            Some(key) => maraude_store::Store::open_with_key(&path, &key)
                .expect("the server's cache of the antenna opens with its key"),
            None => maraude_store::Store::open(
                &path,
                &maraude_store::Passphrase::new(SERVER_PASSPHRASE.into()),
            )
            .expect("the server's antenna store opens with the server passphrase"),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A process's peak resident memory so far (VmHWM), in KiB.
pub fn peak_memory_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("the process runs");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/PID/status")
}
