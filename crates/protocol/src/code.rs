//! An enrolment code as a lead reads it out: the server's 16 letters and
//! digits (80 random bits), then 12 more that name the antenna's authority
//! (the first 60 bits of SHA-256 of its certificate). A new tablet sends
//! the server only the first 16, and refuses the enrolment if the server
//! answers for another authority: someone posing as the server on the
//! network (plain HTTP, a hotspot's DNS) gets a spent code, not a tablet.
//!
//! Why 60 bits: an impostor who saw the code must make an authority whose
//! certificate hashes to the mark before the tablet enrols. ECDSA
//! signatures are random, so each try is one signature: 2^40 of them
//! (codes before 2026-12-06, whose 8-character marks are still read) are
//! hours on a rented cluster, 2^60 are out of reach.

use data_encoding::BASE32_NOPAD;
use sha2::{Digest, Sha256};

/// Letters and digits of the server's code.
pub const CODE_CHARS: usize = 16;
/// Letters and digits naming the authority.
pub const AUTHORITY_CHARS: usize = 12;
/// The marks of codes made before: their first 40 bits.
pub const OLD_AUTHORITY_CHARS: usize = 8;

/// The 12 characters naming the authority whose certificate is `der`.
pub fn authority_mark(der: &[u8]) -> String {
    let digest = Sha256::digest(der);
    // Base32 of 8 bytes is 13 characters, the last partly padding: 12 whole
    // ones are 60 bits, and their first 8 are the 40 of an older mark.
    let mut mark = BASE32_NOPAD.encode(&digest[..8]);
    mark.truncate(AUTHORITY_CHARS);
    mark
}

/// The code to show: the server's `code`, then the authority's mark, in
/// groups of four (`K3MZ-Q7WA-ABCD-EFGH-XK2P-9QRT-M4TZ`).
pub fn with_authority(code: &str, authority_der: &[u8]) -> String {
    in_groups(&format!(
        "{}{}",
        normalise(code),
        authority_mark(authority_der)
    ))
}

/// `chars` in groups of four, easy to read out and type (`K3MZ-Q7WA-…`).
pub fn in_groups(chars: &str) -> String {
    chars
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

/// Letters and digits only, in capitals: however it was typed.
pub fn normalise(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// A code as typed on the new tablet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypedCode {
    /// What the server is sent.
    pub code: String,
    /// The authority's mark, when the code carries one.
    pub authority: Option<String>,
}

impl TypedCode {
    /// A code of 28 letters and digits (24 for one made before marks were
    /// 60 bits) carries the authority's mark; any other is sent as typed
    /// (the server says whether it is one).
    pub fn read(typed: &str) -> Self {
        let all = normalise(typed);
        if all.len() == CODE_CHARS + AUTHORITY_CHARS
            || all.len() == CODE_CHARS + OLD_AUTHORITY_CHARS
        {
            let (code, mark) = all.split_at(CODE_CHARS);
            TypedCode {
                code: code.to_string(),
                authority: Some(mark.to_string()),
            }
        } else {
            TypedCode {
                code: typed.trim().to_string(),
                authority: None,
            }
        }
    }

    /// Whether the authority whose certificate is `der` is the one the
    /// code names (any, for a code without a mark).
    pub fn names(&self, der: &[u8]) -> bool {
        self.authority
            .as_deref()
            .is_none_or(|mark| authority_mark(der).starts_with(mark))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_with_the_authoritys_mark_reads_back_however_it_is_typed() {
        let authority = b"the antenna's authority certificate";
        let shown = with_authority("K3MZ-Q7WA-ABCD-EFGH", authority);
        assert_eq!(shown.len(), 34, "{shown}");
        assert!(shown.starts_with("K3MZ-Q7WA-ABCD-EFGH-"), "{shown}");
        let typed = TypedCode::read(&shown.to_lowercase().replace('-', " "));
        assert_eq!(typed.code, "K3MZQ7WAABCDEFGH");
        assert!(typed.names(authority));
        assert!(!typed.names(b"another authority"));
    }

    #[test]
    fn a_code_made_before_with_a_40_bit_mark_still_names_its_authority() {
        let authority = b"the antenna's authority certificate";
        let shown = with_authority("K3MZ-Q7WA-ABCD-EFGH", authority);
        // What an older app showed: the first 8 characters of the mark.
        let older = &shown[..29];
        let typed = TypedCode::read(older);
        assert_eq!(typed.code, "K3MZQ7WAABCDEFGH");
        assert_eq!(typed.authority.as_deref().map(str::len), Some(8));
        assert!(typed.names(authority));
        assert!(!typed.names(b"another authority"));
        // A mark of neither length is no mark: 16 + 10 is sent as typed.
        let odd = TypedCode::read(&shown[..32]);
        assert_eq!(odd.authority, None);
    }

    #[test]
    fn a_code_without_a_mark_is_sent_as_typed_and_names_any_authority() {
        for typed in ["K3MZ-Q7WA-ABCD-EFGH", "K3MZ", " nonsense "] {
            let read = TypedCode::read(typed);
            assert_eq!(read.code, typed.trim());
            assert_eq!(read.authority, None);
            assert!(read.names(b"whatever"));
        }
    }
}
