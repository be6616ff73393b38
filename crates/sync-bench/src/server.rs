//! The real `maraude-server` binary, built beside this one, on a loopback
//! port; its peak memory read from `/proc`.

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::device::REGISTRATION_TOKEN;

#[derive(Debug)]
pub struct Server {
    pub addr: SocketAddr,
    child: Child,
    data_dir: std::path::PathBuf,
    env: Vec<(String, String)>,
}

impl Server {
    pub fn start(data_dir: &Path) -> Result<Self> {
        Self::start_with(data_dir, &[])
    }

    /// [`Server::start`] with more settings (`MARAUDE_…`).
    pub fn start_with(data_dir: &Path, env: &[(&str, String)]) -> Result<Self> {
        let bin = std::env::current_exe()?
            .with_file_name(format!("maraude-server{}", std::env::consts::EXE_SUFFIX));
        if !bin.is_file() {
            bail!(
                "no maraude-server beside this binary ({}): build it in the same profile, e.g. `cargo build --release -p maraude-server -p maraude-sync-bench`",
                bin.display()
            );
        }
        let addr = TcpListener::bind("127.0.0.1:0")?.local_addr()?;
        let env: Vec<_> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        let child = spawn(&bin, addr, data_dir, &env)?;
        let server = Self {
            addr,
            child,
            data_dir: data_dir.to_path_buf(),
            env,
        };
        server.wait_listening()?;
        Ok(server)
    }

    /// Stop the server and start it again on the same address and folder:
    /// it opens each antenna again when its first tablet comes.
    pub fn restart(&mut self) -> Result<()> {
        self.child.kill()?;
        self.child.wait()?;
        let bin = std::env::current_exe()?
            .with_file_name(format!("maraude-server{}", std::env::consts::EXE_SUFFIX));
        self.child = spawn(&bin, self.addr, &self.data_dir, &self.env)?;
        self.wait_listening()
    }

    fn wait_listening(&self) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(self.addr).is_err() {
            if Instant::now() > deadline {
                bail!("maraude-server did not listen on {} within 30 s", self.addr);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }

    /// Peak resident memory (VmHWM) since the start, or since the last
    /// [`Server::reset_peak`], in KiB.
    pub fn peak_kib(&self) -> Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .context("no VmHWM in /proc/PID/status")
    }

    /// CPU seconds the server used so far (user and system).
    pub fn cpu_seconds(&self) -> Result<f64> {
        cpu_seconds(self.child.id())
    }

    /// Start counting the peak again from the current resident size.
    pub fn reset_peak(&self) -> Result<()> {
        std::fs::write(format!("/proc/{}/clear_refs", self.child.id()), "5")?;
        Ok(())
    }
}

fn spawn(bin: &Path, addr: SocketAddr, data_dir: &Path, env: &[(String, String)]) -> Result<Child> {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(data_dir.with_extension("log"))?;
    Command::new(bin)
        .arg("--listen")
        .arg(addr.to_string())
        .arg("--data-dir")
        .arg(data_dir)
        .env("MARAUDE_SERVER_PASSPHRASE", "maraude sync bench server")
        .env("MARAUDE_REGISTRATION_TOKEN", REGISTRATION_TOKEN)
        // Every device of the bench enrols from this machine's address, 50
        // of them within seconds.
        .env("MARAUDE_ENROL_ATTEMPTS_PER_MINUTE", "10000")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .with_context(|| format!("cannot start {}", bin.display()))
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// CPU seconds a process used so far (user and system), from
/// `/proc/PID/stat` (clock ticks of 1/100 s on Linux).
pub fn cpu_seconds(pid: u32) -> Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The fields after the command's name, which is in parentheses.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .context("a /proc/PID/stat line")?
        .1
        .split_whitespace()
        .collect();
    let ticks = |i: usize| -> Result<f64> {
        Ok(fields
            .get(i)
            .context("utime and stime in /proc/PID/stat")?
            .parse::<f64>()?)
    };
    // utime and stime are the 14th and 15th fields; 12th and 13th after
    // the name.
    Ok((ticks(11)? + ticks(12)?) / 100.0)
}
