//! Once a store is closed (the app's lock), neither the passphrase that
//! opened it nor its key is left anywhere in the process's memory: what a
//! core dump, or a memory image of a seized tablet still running, would
//! show. The process's readable memory is read whole (`/proc/self/mem`),
//! freed heap included; the secrets are looked for without the test
//! holding them in clear (each is kept XORed with a random mask).
//!
//! The store is created in a child process: creating checks the
//! passphrase's strength (zxcvbn), whose copies of it are not ours to wipe;
//! what is tested is unlocking, using and locking an existing store.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use maraude_store::{Passphrase, Store, StoreKey};
use rand::{Rng, RngCore};
use zeroize::Zeroize;

const CHILD: &str = "MARAUDE_LOCKED_MEMORY_CREATE";

/// A secret kept XORed with a random mask: this test can look for it
/// without a copy of it in its own memory.
struct Masked {
    mask: Vec<u8>,
    masked: Vec<u8>,
}

impl Masked {
    fn new(secret: &[u8]) -> Self {
        let mut mask = vec![0u8; secret.len()];
        rand::rng().fill_bytes(&mut mask);
        let masked = secret.iter().zip(&mask).map(|(s, m)| s ^ m).collect();
        Self { mask, masked }
    }

    fn byte(&self, i: usize) -> u8 {
        self.masked[i] ^ self.mask[i]
    }

    fn len(&self) -> usize {
        self.masked.len()
    }

    fn found_in(&self, hay: &[u8]) -> bool {
        let first = self.byte(0);
        (0..hay.len().saturating_sub(self.len() - 1))
            .filter(|&i| hay[i] == first)
            .any(|i| (1..self.len()).all(|j| hay[i + j] == self.byte(j)))
    }

    fn unmasked_string(&self) -> String {
        let mut s = String::with_capacity(self.len());
        for i in 0..self.len() {
            s.push(char::from(self.byte(i)));
        }
        s
    }
}

/// The names of the secrets found in the readable memory of this process.
fn found_in_memory<'a>(secrets: &[(&'a str, &Masked)]) -> Vec<&'a str> {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    let mut mem = std::fs::File::open("/proc/self/mem").unwrap();
    let longest = secrets.iter().map(|(_, s)| s.len()).max().unwrap_or(1);
    let mut found = Vec::new();
    let mut chunk = vec![0u8; 1 << 20];
    for line in maps.lines() {
        let mut fields = line.split_whitespace();
        let (Some(range), Some(perms)) = (fields.next(), fields.next()) else {
            continue;
        };
        if !perms.starts_with('r') || line.contains("[vvar") || line.contains("[vsyscall]") {
            continue;
        }
        let Some((start, end)) = range.split_once('-') else {
            continue;
        };
        let (Ok(start), Ok(end)) = (u64::from_str_radix(start, 16), u64::from_str_radix(end, 16))
        else {
            continue;
        };
        // Read in chunks that overlap by a secret's length.
        let mut at = start;
        while at < end {
            let want = usize::try_from((end - at).min(chunk.len() as u64)).unwrap();
            if mem.seek(SeekFrom::Start(at)).is_err() {
                break;
            }
            let Ok(read) = mem.read(&mut chunk[..want]) else {
                break;
            };
            if read == 0 {
                break;
            }
            for (name, secret) in secrets {
                if !found.contains(name) && secret.found_in(&chunk[..read]) {
                    eprintln!("{name} found in the mapping {line}");
                    found.push(*name);
                }
            }
            if read < want || at + read as u64 >= end {
                at += read as u64;
            } else {
                at += (read - (longest - 1)) as u64;
            }
        }
    }
    chunk.zeroize();
    found
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn random_passphrase() -> Masked {
    const LETTERS: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    let mut bytes: Vec<u8> = (0..28)
        .map(|_| LETTERS[rng.random_range(0..LETTERS.len())])
        .collect();
    let masked = Masked::new(&bytes);
    bytes.zeroize();
    masked
}

fn hex_of(key: &StoreKey, salt: &[u8]) -> Masked {
    let mut hex = String::with_capacity(2 * (32 + salt.len()));
    for b in key.expose_secret().iter().chain(salt) {
        hex.push_str(&format!("{b:02x}"));
    }
    let masked = Masked::new(hex.as_bytes());
    hex.zeroize();
    masked
}

#[test]
fn a_locked_store_leaves_neither_its_passphrase_nor_its_key_in_memory() {
    // In the child: create the store under the passphrase given (masked,
    // so that the parent never holds it in clear), and stop.
    if let Some(path) = std::env::var_os(CHILD) {
        let unhex = |name: &str| {
            let hex = std::env::var(name).unwrap();
            (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                .collect::<Vec<u8>>()
        };
        let secret = Masked {
            mask: unhex("MARAUDE_MASK"),
            masked: unhex("MARAUDE_MASKED"),
        };
        let passphrase = Passphrase::new(secret.unmasked_string());
        drop(Store::create(Path::new(&path), &passphrase, "Calais").unwrap());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("calais.maraude");
    let secret = random_passphrase();
    let created = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "locked_memory::a_locked_store_leaves_neither_its_passphrase_nor_its_key_in_memory",
            "--test-threads=1",
        ])
        .env(CHILD, &path)
        .stdout(std::process::Stdio::null())
        .env("MARAUDE_MASK", hex(&secret.mask))
        .env("MARAUDE_MASKED", hex(&secret.masked))
        .status()
        .unwrap();
    assert!(created.success());

    // The key and the hex of the key and salt that SQLCipher is given.
    let salt = {
        let mut salt = [0u8; 16];
        std::fs::File::open(&path)
            .unwrap()
            .read_exact(&mut salt)
            .unwrap();
        salt
    };
    let (key, key_hex) = {
        let passphrase = Passphrase::new(secret.unmasked_string());
        let key = StoreKey::derive(&path, &passphrase).unwrap();
        (Masked::new(key.expose_secret()), hex_of(&key, &salt))
    };

    // Unlock, use, lock: as the app does at each unlock.
    {
        let passphrase = Passphrase::new(secret.unmasked_string());
        let mut store = Store::open(&path, &passphrase).unwrap();
        drop(passphrase);
        let shift = crate::night_shift(&mut store);
        let mut blankets = crate::give("blanket", 2, "dunes");
        blankets.place = None;
        store.log(&shift, &crate::nick("Jo"), blankets).unwrap();
        assert_eq!(store.shift(&shift).unwrap().id, shift);
        drop(store);
    }

    let found = found_in_memory(&[
        ("the passphrase", &secret),
        ("the key", &key),
        ("the key given to SQLCipher", &key_hex),
    ]);
    assert!(
        found.is_empty(),
        "{found:?} left in the memory of a process whose store is closed"
    );
}
