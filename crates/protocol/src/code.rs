//! An enrolment code as a lead reads it out: the server's 16 letters and
//! digits (80 random bits), then 8 more that name the antenna's authority
//! (the first 40 bits of SHA-256 of its certificate). A new tablet sends
//! the server only the first 16, and refuses the enrolment if the server
//! answers for another authority: someone posing as the server on the
//! network (plain HTTP, a hotspot's DNS) gets a spent code, not a tablet.

use data_encoding::BASE32_NOPAD;
use sha2::{Digest, Sha256};

/// Letters and digits of the server's code.
pub const CODE_CHARS: usize = 16;
/// Letters and digits naming the authority.
pub const AUTHORITY_CHARS: usize = 8;

/// The 8 characters naming the authority whose certificate is `der`.
pub fn authority_mark(der: &[u8]) -> String {
    let digest = Sha256::digest(der);
    BASE32_NOPAD.encode(&digest[..5])
}

/// The code to show: the server's `code`, then the authority's mark, in
/// groups of four (`K3MZ-Q7WA-ABCD-EFGH-XK2P-9QRT`).
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
    /// A code of 24 letters and digits carries the authority's mark; any
    /// other is sent as typed (the server says whether it is one).
    pub fn read(typed: &str) -> Self {
        let all = normalise(typed);
        if all.len() == CODE_CHARS + AUTHORITY_CHARS {
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
            .is_none_or(|mark| mark == authority_mark(der))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_with_the_authoritys_mark_reads_back_however_it_is_typed() {
        let authority = b"the antenna's authority certificate";
        let shown = with_authority("K3MZ-Q7WA-ABCD-EFGH", authority);
        assert_eq!(shown.len(), 29, "{shown}");
        assert!(shown.starts_with("K3MZ-Q7WA-ABCD-EFGH-"), "{shown}");
        let typed = TypedCode::read(&shown.to_lowercase().replace('-', " "));
        assert_eq!(typed.code, "K3MZQ7WAABCDEFGH");
        assert!(typed.names(authority));
        assert!(!typed.names(b"another authority"));
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
