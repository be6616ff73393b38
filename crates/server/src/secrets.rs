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
    maraude_protocol::code::in_groups(&BASE32_NOPAD.encode(&bytes))
}

/// Codes are compared without dashes, spaces or case, and without the
/// mark of the antenna's authority a lead's tablet adds (the new tablet
/// checks that mark; see `maraude_protocol::code`).
pub fn normalise_code(code: &str) -> String {
    use maraude_protocol::code::{TypedCode, normalise};
    normalise(&TypedCode::read(code).code)
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
        // As a lead's tablet shows it, with the authority's mark.
        let shown = maraude_protocol::code::with_authority(&code, b"authority");
        assert_eq!(normalise_code(&shown), normalise_code(&code));
        assert_ne!(new_credential(), new_credential());
    }
}
