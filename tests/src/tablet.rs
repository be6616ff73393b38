//! A tablet, for the tests: a temporary encrypted store and the real
//! `maraude` binary pointed at it, run the way a volunteer runs it (store,
//! passphrase and nickname from the environment, stdin closed).
//!
//! The binary is the one cargo built for this workspace, found next to this
//! test executable: `target/<profile>/deps/cli-<hash>` runs
//! `target/<profile>/maraude`. `cargo test` does not build the binary of
//! another package, so build it first: `cargo build -p maraude-cli`.
//! `MARAUDE_BIN` may name another one (a release build, say).

use std::collections::BTreeSet;
use std::ffi::{OsStr, OsString};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

/// The antenna passphrase every test store is created with.
pub const PASSPHRASE: &str = "dunes du nord 2026";

/// How long one command may take before we call it a hang. Opening a store
/// costs one Argon2id derivation: a fraction of a second, even in debug.
pub const HANG: Duration = Duration::from_secs(60);

/// The `maraude` binary under test.
pub fn maraude_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(find_binary)
}

fn find_binary() -> PathBuf {
    if let Some(given) = std::env::var_os("MARAUDE_BIN") {
        let bin = PathBuf::from(given);
        assert!(bin.is_file(), "MARAUDE_BIN={} is not a file", bin.display());
        return bin;
    }
    let exe = std::env::current_exe().expect("the path of this test executable");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("this test runs from target/<profile>/deps/");
    let bin = profile_dir.join(format!("maraude{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.is_file(),
        "no `maraude` binary at {}: run `cargo build -p maraude-cli` first \
         (`cargo test` builds the binaries of the package under test only), \
         or set MARAUDE_BIN",
        bin.display()
    );
    refuse_if_stale(&bin);
    bin
}

/// A binary older than its sources would test yesterday's code and pass.
/// Cargo's dep-info file next to it lists every source it was built from.
fn refuse_if_stale(bin: &Path) {
    let Ok(built) = std::fs::metadata(bin).and_then(|m| m.modified()) else {
        return;
    };
    let Ok(dep_info) = std::fs::read_to_string(bin.with_extension("d")) else {
        return;
    };
    for source in dep_info_sources(&dep_info) {
        let changed = std::fs::metadata(&source).and_then(|m| m.modified());
        if changed.is_ok_and(|changed| changed > built) {
            panic!(
                "{} changed after {} was built: run `cargo build -p maraude-cli` \
                 so that the tests run the code as it is",
                source.display(),
                bin.display()
            );
        }
    }
}

/// `target: source source…`, spaces inside paths escaped as `\ `.
fn dep_info_sources(dep_info: &str) -> Vec<PathBuf> {
    let Some((_, sources)) = dep_info.lines().next().and_then(|l| l.split_once(": ")) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut current = String::new();
    let mut chars = sources.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&' ') => {
                current.push(' ');
                chars.next();
            }
            c if c.is_whitespace() => {
                if !current.is_empty() {
                    out.push(PathBuf::from(std::mem::take(&mut current)));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        out.push(PathBuf::from(current));
    }
    out
}

/// What a command answered.
#[derive(Debug)]
pub struct Answer {
    /// The command line, to say which one failed.
    pub command: String,
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Answer {
    pub fn succeeded(&self) -> bool {
        self.status.success()
    }
}

/// `maraude log note …`, for messages (long arguments shortened).
fn shown(cmd: &Command) -> String {
    let program = Path::new(cmd.get_program())
        .file_stem()
        .unwrap_or_default()
        .to_string_lossy();
    let args: Vec<String> = cmd
        .get_args()
        .map(|a| {
            let a = a.to_string_lossy();
            if a.chars().count() > 40 {
                format!(
                    "{}…({} chars)",
                    a.chars().take(20).collect::<String>(),
                    a.chars().count()
                )
            } else if a.contains(' ') || a.is_empty() {
                format!("\"{a}\"")
            } else {
                a.into_owned()
            }
        })
        .collect();
    format!("{program} {}", args.join(" "))
}

/// Start `cmd` with its output captured.
pub fn spawn(cmd: &mut Command) -> Child {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", shown(cmd)))
}

/// Read what a finished (or killed) child printed.
pub fn output_of(child: &mut Child) -> (String, String) {
    let mut stdout = String::new();
    let mut stderr = String::new();
    if let Some(mut out) = child.stdout.take() {
        let _ = out.read_to_string(&mut stdout);
    }
    if let Some(mut err) = child.stderr.take() {
        let _ = err.read_to_string(&mut stderr);
    }
    (stdout, stderr)
}

/// Run `cmd` to the end; a command still running after `limit` is killed
/// and the test fails: a volunteer in the cold must never face a hang.
pub fn finish_within(mut cmd: Command, limit: Duration) -> Answer {
    let command = shown(&cmd);
    let mut child = spawn(&mut cmd);
    // Read the pipes while the child runs, so a large output cannot block it.
    let mut out_pipe = child.stdout.take().expect("piped stdout");
    let mut err_pipe = child.stderr.take().expect("piped stderr");
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out_pipe.read_to_string(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err_pipe.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for maraude") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`{command}` still running after {limit:?}: it hangs");
        }
        std::thread::sleep(Duration::from_millis(3));
    };
    Answer {
        command,
        status,
        stdout: out_reader.join().unwrap_or_default(),
        stderr: err_reader.join().unwrap_or_default(),
    }
}

pub fn finish(cmd: Command) -> Answer {
    finish_within(cmd, HANG)
}

/// A device with its store, in a temporary directory removed at the end.
#[derive(Debug)]
pub struct Tablet {
    dir: tempfile::TempDir,
    store: PathBuf,
}

impl Tablet {
    /// A tablet with no store yet.
    pub fn blank() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("maraude-cli-test-")
            .tempdir()
            .expect("a temporary directory");
        let store = dir.path().join("antenna.maraude");
        Tablet { dir, store }
    }

    /// A tablet whose store is created for `antenna`.
    pub fn for_antenna(antenna: &str) -> Self {
        let tablet = Self::blank();
        tablet.ok(["init", "--antenna", antenna]);
        tablet
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn store(&self) -> &Path {
        &self.store
    }

    /// The store's write-ahead log (present while a process has the store
    /// open, or after one was killed).
    pub fn wal(&self) -> PathBuf {
        let mut p = self.store.clone().into_os_string();
        p.push("-wal");
        PathBuf::from(p)
    }

    /// `maraude ARGS` as Jo runs it on this tablet. Nothing from the test's
    /// own environment leaks in (no real store, no MARAUDE_LANG).
    pub fn command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = Command::new(maraude_bin());
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("MARAUDE_STORE", &self.store)
            .env("MARAUDE_PASSPHRASE", PASSPHRASE)
            .env("MARAUDE_VOLUNTEER", "Jo")
            .args(args);
        cmd
    }

    pub fn run<I, S>(&self, args: I) -> Answer
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        finish(self.command(args))
    }

    /// Run a command that must succeed; its stdout.
    pub fn ok<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        succeeded(self.run(args)).stdout
    }

    /// Run with `--json`: the command must succeed and print one JSON value.
    pub fn json<I, S>(&self, args: I) -> Value
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut all: Vec<OsString> = vec!["--json".into()];
        all.extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        parse_json(&succeeded(self.run(all)))
    }

    /// The id of the entry a `log …` command wrote.
    pub fn log<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut all: Vec<OsString> = vec!["log".into()];
        all.extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        let answer = self.json(all);
        let entry = answer.get("entry").unwrap_or(&answer);
        text(&entry["id"]).to_string()
    }

    /// `log shelter` / `log referral`: the entry id and the case id.
    pub fn open_case<I, S>(&self, args: I) -> (String, String)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut all: Vec<OsString> = vec!["log".into()];
        all.extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        let answer = self.json(all);
        (
            text(&answer["entry"]["id"]).to_string(),
            text(&answer["case"]).to_string(),
        )
    }

    /// Run a command that must be refused: exit code 1 (not a panic, not a
    /// hang), nothing on stdout, a message on stderr. The message.
    pub fn refused<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        refused(self.run(args))
    }

    /// The ids of the current (else latest) shift's entries, in time order.
    pub fn entry_ids(&self) -> Vec<String> {
        ids(&self.json(["entries"]))
    }

    /// The store file and its WAL, byte for byte.
    pub fn file_bytes(&self) -> FileBytes {
        FileBytes {
            main: std::fs::read(&self.store).ok(),
            wal: std::fs::read(self.wal()).ok(),
        }
    }

    /// Everything the CLI shows about the store: a refused command must
    /// leave all of it as it was.
    pub fn seen(&self) -> Seen {
        let show = |args: &[&str]| -> Value {
            let mut all = vec!["--json"];
            all.extend_from_slice(args);
            let answer = self.run(&all);
            if answer.succeeded() {
                parse_json(&answer)
            } else {
                Value::String(format!("refused: {}", answer.stderr.trim()))
            }
        };
        let mut status = show(&["status"]);
        // The store answered through a process that had it open: its WAL
        // size is not part of what was written.
        if let Some(stats) = status.get_mut("stats").and_then(Value::as_object_mut) {
            stats.remove("file_bytes");
        }
        Seen {
            status,
            entries: show(&["entries"]),
            all_rows: show(&["export", "entries", "--format", "json"]),
            shifts: show(&["shift", "list"]),
            places: show(&["place", "list"]),
            catalogue: show(&["catalogue", "list"]),
            volunteers: show(&["volunteer", "list"]),
            follow_ups: show(&["follow-ups"]),
        }
    }
}

/// What the CLI shows about a store, as JSON.
#[derive(Debug, PartialEq)]
pub struct Seen {
    pub status: Value,
    pub entries: Value,
    pub all_rows: Value,
    pub shifts: Value,
    pub places: Value,
    pub catalogue: Value,
    pub volunteers: Value,
    pub follow_ups: Value,
}

/// The bytes of a store file and of its WAL (`None`: no such file).
#[derive(PartialEq, Eq)]
pub struct FileBytes {
    pub main: Option<Vec<u8>>,
    pub wal: Option<Vec<u8>>,
}

impl std::fmt::Debug for FileBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let len = |b: &Option<Vec<u8>>| b.as_ref().map(Vec::len);
        write!(
            f,
            "FileBytes {{ main: {:?} bytes, wal: {:?} bytes }}",
            len(&self.main),
            len(&self.wal)
        )
    }
}

pub fn succeeded(answer: Answer) -> Answer {
    assert!(
        answer.succeeded(),
        "`{}` failed ({}):\n{}",
        answer.command,
        answer.status,
        answer.stderr
    );
    answer
}

pub fn refused(answer: Answer) -> String {
    assert_eq!(
        answer.status.code(),
        Some(1),
        "`{}` should be refused with exit code 1, got {}.\nstdout: {}\nstderr: {}",
        answer.command,
        answer.status,
        answer.stdout,
        answer.stderr
    );
    assert!(
        answer.stdout.is_empty(),
        "`{}` was refused but printed on stdout: {}",
        answer.command,
        answer.stdout
    );
    assert!(
        !answer.stderr.trim().is_empty(),
        "`{}` was refused without a word on stderr",
        answer.command
    );
    answer.stderr
}

pub fn parse_json(answer: &Answer) -> Value {
    serde_json::from_str(&answer.stdout).unwrap_or_else(|e| {
        panic!(
            "`{}` printed no JSON on stdout ({e}):\n{}",
            answer.command, answer.stdout
        )
    })
}

/// A JSON string field, or a failure that names it.
pub fn text(v: &Value) -> &str {
    v.as_str()
        .unwrap_or_else(|| panic!("expected a string, found {v}"))
}

/// A JSON number field as u64.
pub fn number(v: &Value) -> u64 {
    v.as_u64()
        .unwrap_or_else(|| panic!("expected a number, found {v}"))
}

/// The `id`s of a JSON array of records.
pub fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("expected a list, found {list}"))
        .iter()
        .map(|e| text(&e["id"]).to_string())
        .collect()
}

/// The last characters of an id, as the CLI shows it and takes it back.
pub fn short(id: &str) -> &str {
    &id[id.len() - 8..]
}

/// `HH:MM` in Paris, `ago` before now: what a volunteer types in `--at`.
pub fn paris_clock(ago: chrono::Duration) -> String {
    (chrono::Utc::now() - ago)
        .with_timezone(&chrono_tz::Europe::Paris)
        .format("%H:%M")
        .to_string()
}

/// Today in Paris, as the CLI's `--from`/`--to` take it.
pub fn paris_today() -> String {
    chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Paris)
        .format("%Y-%m-%d")
        .to_string()
}

/// Where in `haystack` each of `needles` appears in clear (UTF-8), if it does.
pub fn found_in_clear<'a>(haystack: &[u8], needles: &[&'a str]) -> BTreeSet<&'a str> {
    needles
        .iter()
        .copied()
        .filter(|n| {
            let n = n.as_bytes();
            !n.is_empty() && haystack.windows(n.len()).any(|w| w == n)
        })
        .collect()
}

/// Size and modification time of a file, to see a process write to it.
pub fn file_mark(path: &Path) -> Option<(u64, SystemTime)> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.len(), m.modified().ok()?))
}

/// Open a store behind the CLI's back, as `crates/store/src/key.rs`
/// documents: Argon2id (64 MiB, 3 passes, 1 lane) of the passphrase salted
/// with the file's first 16 bytes, handed to SQLCipher as a raw key followed
/// by that salt. If the store changes its key derivation, this fails loudly
/// here: update it to match.
pub fn open_behind_the_cli(store: &Path) -> rusqlite::Connection {
    use argon2::{Algorithm, Argon2, Params, Version};

    let mut salt = [0u8; 16];
    std::fs::File::open(store)
        .and_then(|mut f| f.read_exact(&mut salt))
        .expect("the store's salt");
    let params = Params::new(64 * 1024, 3, 1, Some(32)).expect("Argon2 parameters");
    let mut key = [0u8; 32];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(PASSPHRASE.as_bytes(), &salt, &mut key)
        .expect("Argon2id");
    let hex: String = key
        .iter()
        .chain(salt.iter())
        .map(|b| format!("{b:02x}"))
        .collect();
    let conn = rusqlite::Connection::open(store).expect("open the store file");
    conn.execute_batch(&format!("PRAGMA key = \"x'{hex}'\";"))
        .expect("PRAGMA key");
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    })
    .expect(
        "cannot read the store with the key derivation that crates/store/src/key.rs \
             documents; update open_behind_the_cli to match it",
    );
    conn
}

/// Set a store's schema version (`PRAGMA user_version`) behind the CLI's
/// back, as a newer Maraude would have left it; the version it replaced.
pub fn set_schema_version(store: &Path, version: i64) -> i64 {
    let conn = open_behind_the_cli(store);
    let found: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .expect("the store's schema version");
    assert!(
        found >= 1,
        "a created store has schema version ≥ 1, found {found}"
    );
    conn.execute_batch(&format!("PRAGMA user_version = {version};"))
        .expect("set user_version");
    found
}
