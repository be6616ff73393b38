//! `maraude-server --config FILE`: the real binary, configured by a TOML
//! file (relative paths from the file's folder), a flag winning over the
//! file, and a file with a mistake refused with a sentence that names it.

#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

fn server(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_maraude-server"));
    command.args(args);
    // Only what the test gives: nothing from the environment of the run.
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("MARAUDE_") {
            command.env_remove(name);
        }
    }
    command
}

/// The status of `GET /v1/health` on `port`, once it answers (20 s at most).
fn health(port: u16) -> Option<String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) {
            let request = "GET /v1/health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n";
            stream.write_all(request.as_bytes()).unwrap();
            let mut answer = String::new();
            let _ = stream.read_to_string(&mut answer);
            return answer.lines().next().map(str::to_string);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

#[test]
fn the_server_takes_its_settings_from_a_config_file_and_a_flag_wins() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    write(&dir.path().join("passphrase"), "entrepôt de Calais\n");
    let config = dir.path().join("server.toml");
    write(
        &config,
        &format!(
            "# The warehouse's server\nlisten = \"127.0.0.1:{port}\"\ndata_dir = \"data\"\npassphrase_file = \"passphrase\"\nlog_json = true\nheader_timeout_secs = 1\nsync_idle_secs = 30\nmax_connections_per_ip = 32\n"
        ),
    );
    let config = config.to_str().unwrap();

    let running = Running(
        server(&["--config", config])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    assert_eq!(health(port).as_deref(), Some("HTTP/1.1 200 OK"));
    // Relative to the file's folder, not to where the server was started.
    assert!(dir.path().join("data/registry.maraude").is_file());
    // The file's header timeout (1 s, not the default 10 s): half a
    // request is closed within a few seconds.
    let mut half = TcpStream::connect(("127.0.0.1", port)).unwrap();
    half.write_all(b"GET /v1/health HTTP/1.1\r\nhost: x\r\n")
        .unwrap();
    half.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut answer = Vec::new();
    assert!(
        half.read_to_end(&mut answer).is_ok(),
        "half a request still open after 5 s"
    );
    let mut running = running;
    running.0.kill().unwrap();
    let mut logs = String::new();
    running
        .0
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut logs)
        .unwrap();
    let first = logs.lines().next().unwrap_or_default();
    let line: serde_json::Value = serde_json::from_str(first)
        .unwrap_or_else(|e| panic!("log_json from the file: {first:?} ({e})"));
    assert!(line["fields"]["message"].is_string(), "{line}");

    // A flag wins over the file.
    let other = free_port();
    let _running = Running(
        server(&[
            "--config",
            config,
            "--listen",
            &format!("127.0.0.1:{other}"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap(),
    );
    assert_eq!(health(other).as_deref(), Some("HTTP/1.1 200 OK"));
}

fn refused(output: Output) -> String {
    assert!(!output.status.success(), "the server started");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[cfg(unix)]
#[test]
fn a_config_file_holding_the_token_that_others_can_read_is_pointed_out() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("server.toml");
    // No passphrase file there: the server stops right after its settings.
    write(
        &config,
        "registration_token = \"s3cret\"\npassphrase_file = \"missing\"\n",
    );
    let read = |mode: u32| {
        std::fs::set_permissions(&config, std::fs::Permissions::from_mode(mode)).unwrap();
        refused(
            server(&["--config", config.to_str().unwrap()])
                .output()
                .unwrap(),
        )
    };
    assert!(read(0o644).contains("other users of this machine can read it: chmod 600"));
    assert!(!read(0o600).contains("chmod 600"));
}

#[test]
fn a_config_file_with_a_mistake_is_refused_with_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("server.toml");

    for (text, says) in [
        (
            "listn = \"127.0.0.1:8470\"\n",
            ["not a valid config file", "server.toml", "listn"],
        ),
        (
            "max_connections = \"many\"\n",
            ["not a valid config file", "line 1", "max_connections"],
        ),
        (
            "tls_cert = \"server.pem\"\n",
            ["give both tls_cert and tls_key", "", ""],
        ),
        (
            "certificate_days = 3650\n",
            ["certificate_days is 3650", "give 1 to 365", ""],
        ),
        (
            "enrol_attempts_per_minute = 0\n",
            ["enrol_attempts_per_minute is 0", "at least 1", ""],
        ),
    ] {
        write(&config, text);
        let said = refused(
            server(&["--config", config.to_str().unwrap()])
                .output()
                .unwrap(),
        );
        for expected in says {
            assert!(said.contains(expected), "{text}: {said}");
        }
    }

    let missing = dir.path().join("nowhere.toml");
    let said = refused(
        server(&["--config", missing.to_str().unwrap()])
            .output()
            .unwrap(),
    );
    assert!(said.contains("cannot read the config file"), "{said}");
}
