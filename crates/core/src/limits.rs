//! Documented size limits. They keep a typo (or a pasted novel) from bloating
//! every tablet's copy of a shift, and bound what a sync peer can make us store.

use crate::error::Invalid;

/// Free text in an entry: incident description, note, information given.
pub const LONG_TEXT: usize = 4000;
/// Short labels: vehicle, place name, item label, alias, answer of the 115.
pub const SHORT_TEXT: usize = 80;
/// Largest quantity handed out in one distribution entry.
pub const MAX_QUANTITY: u32 = 1000;
/// Largest number of people in one headcount, arrival group or incident.
pub const MAX_PEOPLE: u32 = 5000;
/// Largest number of languages, witnesses or team members in one list.
pub const MAX_LIST: usize = 30;
/// Largest number of sizes of one catalogue item: children's and adults'
/// shoes, with half sizes, fit.
pub const MAX_SIZES: usize = 80;

/// Length in characters (not bytes: Arabic and Pashto count fairly), and no
/// control characters other than newlines and tabs.
pub fn check_text(field: &'static str, s: &str, max: usize) -> Result<(), Invalid> {
    let n = s.chars().count();
    if n > max {
        return Err(Invalid::TooLong {
            field,
            max,
            given: n,
        });
    }
    if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(Invalid::BadText {
            field,
            why: "contains control characters",
        });
    }
    Ok(())
}

/// Free text of the shift log must not carry personal data. We cannot
/// recognise a name, but a phone number we can: nine digits or more in a run
/// (spaces, dots and dashes allowed between them; a date has only eight).
pub fn check_no_phone(field: &'static str, s: &str) -> Result<(), Invalid> {
    let mut run = 0;
    for c in s.chars() {
        if c.is_ascii_digit() {
            run += 1;
            if run >= 9 {
                return Err(Invalid::PersonalDataInLog { field });
            }
        } else if !matches!(c, ' ' | '.' | '-' | '+' | '(' | ')') {
            run = 0;
        }
    }
    Ok(())
}

pub fn check_count(field: &'static str, n: u32, max: u32) -> Result<(), Invalid> {
    if n > max {
        return Err(Invalid::OutOfRange {
            field,
            min: 0,
            max,
            given: n.into(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phone_number_in_a_note_is_refused_but_a_time_is_not() {
        assert!(check_no_phone("note", "call him on 06 12 34 56 78").is_err());
        assert!(check_no_phone("note", "+33612345678").is_err());
        assert!(check_no_phone("note", "arrived 23:40, 12 people, 3 tents").is_ok());
        assert!(check_no_phone("note", "2026-11-23").is_ok());
    }

    #[test]
    fn text_length_counts_characters_not_bytes() {
        let pashto = "س".repeat(80);
        assert!(check_text("alias", &pashto, 80).is_ok());
        assert!(check_text("alias", &"x".repeat(81), 80).is_err());
        assert!(check_text("alias", "a\u{0007}b", 80).is_err());
    }
}
