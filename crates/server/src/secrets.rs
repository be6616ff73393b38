//! Credentials and enrolment codes: random, shown once, kept as hashes.
//!
//! Both are high-entropy random strings, so a plain SHA-256 is the right
//! hash (a slow password hash protects low-entropy secrets; it would only
//! slow every request here).

use data_encoding::{BASE32_NOPAD, BASE64URL_NOPAD, HEXLOWER};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A device credential: 256 random bits.
pub fn new_credential() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    BASE64URL_NOPAD.encode(&bytes)
}

/// An enrolment code: 80 random bits, as four groups of four letters and
/// digits, easy to read out and type (`K3MZ-Q7WA-…`).
pub fn new_code() -> String {
    let mut bytes = [0u8; 10];
    rand::rng().fill_bytes(&mut bytes);
    let text = BASE32_NOPAD.encode(&bytes);
    text.as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

/// Codes are compared without dashes, spaces or case.
pub fn normalise_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

pub fn hash(secret: &str) -> String {
    HEXLOWER.encode(&Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_reads_the_same_however_it_is_typed() {
        let code = new_code();
        assert_eq!(code.len(), 19, "{code}");
        let typed = code.to_lowercase().replace('-', " ");
        assert_eq!(hash(&normalise_code(&typed)), hash(&normalise_code(&code)));
        assert_ne!(new_credential(), new_credential());
    }
}
