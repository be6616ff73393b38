//! PostgreSQL for the tests: a new database in the cluster
//! `scripts/with-postgres.sh` runs ([`fresh_database`]), or a cluster of a
//! test's own that it stops and starts again ([`Cluster`]), from Debian's
//! package. As root, a cluster runs as `nobody` (PostgreSQL refuses root).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The cluster of `scripts/with-postgres.sh`: its `postgres` database's
/// URL, or `None`, said on stderr, when the tests run without it (under CI
/// that is a failure).
fn shared_cluster() -> Option<String> {
    match std::env::var("MARAUDE_TEST_DATABASE_URL") {
        Ok(url) => Some(url),
        Err(_) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "no test database: run the tests under scripts/with-postgres.sh"
            );
            eprintln!("no PostgreSQL (scripts/with-postgres.sh starts one): skipped");
            None
        }
    }
}

fn bin(tool: &str) -> PathBuf {
    let dir = std::env::var("MARAUDE_TEST_POSTGRES_BIN")
        .expect("MARAUDE_TEST_POSTGRES_BIN, set by scripts/with-postgres.sh");
    Path::new(&dir).join(tool)
}

fn ran(cmd: &mut Command) -> String {
    let out = cmd.output().expect("a PostgreSQL tool runs");
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `psql` on `url`, one SQL command: what it printed, unaligned, tuples
/// only.
pub fn psql(url: &str, sql: &str) -> String {
    ran(Command::new(bin("psql")).args([
        "-X",
        "-q",
        "-A",
        "-t",
        "-v",
        "ON_ERROR_STOP=1",
        "-d",
        url,
        "-c",
        sql,
    ]))
}

/// A new, empty database in the shared cluster: its URL.
pub fn fresh_database() -> Option<String> {
    let admin = shared_cluster()?;
    let name = format!("test_{}", uuid_like());
    psql(&admin, &format!("CREATE DATABASE {name}"));
    Some(with_database(&admin, &name))
}

/// `url` naming the database `name` instead.
fn with_database(url: &str, name: &str) -> String {
    let (base, _) = url.rsplit_once('/').expect("a URL ending with /database");
    format!("{base}/{name}")
}

/// Everything `pg_dump` writes of the database at `url` (schema and
/// rows), as an operator's backup holds it.
pub fn dump(url: &str) -> Vec<u8> {
    let out = Command::new(bin("pg_dump"))
        .args(["--no-owner", "-d", url])
        .output()
        .expect("pg_dump runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn uuid_like() -> String {
    use rand::Rng;
    format!("{:016x}", rand::rng().random::<u64>())
}

/// A cluster of the test's own, on a loopback port, deleted when dropped.
#[derive(Debug)]
pub struct Cluster {
    dir: tempfile::TempDir,
    pub port: u16,
    running: bool,
}

impl Cluster {
    /// Made (initdb) but not started: its URL leads nowhere yet.
    pub fn new() -> Option<Self> {
        shared_cluster()?;
        let dir = tempfile::tempdir().expect("a temporary folder");
        if is_root() {
            ran(Command::new("chown").arg("nobody").arg(dir.path()));
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let cluster = Self {
            dir,
            port,
            running: false,
        };
        ran(cluster.as_owner("initdb").args([
            "-D",
            &cluster.data(),
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
        ]));
        Some(cluster)
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn as_owner(&self, tool: &str) -> Command {
        if is_root() {
            let mut cmd = Command::new("runuser");
            cmd.args(["-u", "nobody", "--"]).arg(bin(tool));
            cmd
        } else {
            Command::new(bin(tool))
        }
    }

    /// The URL of its database `maraude` (made at the first start).
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/maraude", self.port)
    }

    pub fn start(&mut self) {
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        ran(self.as_owner("pg_ctl").args([
            "-D",
            &self.data(),
            "-l",
            &self.dir.path().join("log").display().to_string(),
            "-w",
            "-s",
            "-o",
            &options,
            "start",
        ]));
        self.running = true;
        let admin = format!("postgres://postgres@127.0.0.1:{}/postgres", self.port);
        if psql(
            &admin,
            "SELECT count(*) FROM pg_database WHERE datname = 'maraude'",
        )
        .trim()
            == "0"
        {
            psql(&admin, "CREATE DATABASE maraude");
        }
    }

    /// Stopped at once, connections cut (as a machine lost).
    pub fn stop(&mut self) {
        ran(self.as_owner("pg_ctl").args([
            "-D",
            &self.data(),
            "-m",
            "immediate",
            "-w",
            "-s",
            "stop",
        ]));
        self.running = false;
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if self.running {
            let _ = self
                .as_owner("pg_ctl")
                .args(["-D", &self.data(), "-m", "immediate", "-s", "stop"])
                .output();
        }
    }
}

fn is_root() -> bool {
    // The real user id, as /proc says (no libc call for one number).
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|u| u.split_whitespace().next().map(|u| u == "0"))
        })
        .unwrap_or(false)
}
