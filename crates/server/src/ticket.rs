//! Sync tickets: a short-lived, single-use stand-in for a device's
//! credential when it opens the sync WebSocket.
//!
//! A browser's `WebSocket`, and automerge-repo's standard client adapter
//! (which uses it, or `ws` in Node), cannot set an `Authorization` header
//! on the upgrade. The long-lived credential must not travel in the URL
//! instead: URLs land in reverse proxies' access logs. So such a client
//! first trades its credential for a ticket (`POST /v1/sync/ticket`, with
//! the header, which `fetch` can set), then opens `/v1/sync?ticket=…`. A
//! ticket that reaches a log is worth nothing: it opened its one
//! connection, or it expires within [`TICKET_LIFETIME`].
//!
//! A ticket stands for the credential it was issued against, not for a
//! device as it was then: the server looks the credential up again when the
//! ticket is used, so a device revoked in between is refused. Only the
//! tickets' SHA-256 hashes are kept, in memory: a restart forgets them all.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use thiserror::Error;

use crate::secrets;

/// How long a ticket stays valid: enough to open the socket right after
/// asking, not enough to be worth stealing.
pub const TICKET_LIFETIME: Duration = Duration::from_secs(60);

/// Tickets one credential may hold unused at once; asking for more drops
/// its oldest. Bounds the memory a device can make the server hold.
const MAX_PER_CREDENTIAL: usize = 8;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum TicketError {
    #[error(
        "unknown or already used sync ticket: a ticket opens one connection; \
         ask for a new one (POST /v1/sync/ticket) just before connecting"
    )]
    Unknown,
    #[error(
        "this sync ticket expired (a ticket lasts {} s): ask for a new one \
         (POST /v1/sync/ticket) just before connecting",
        TICKET_LIFETIME.as_secs()
    )]
    Expired,
}

#[derive(Debug)]
struct Issued {
    credential_hash: String,
    expires_at: Instant,
}

/// The tickets issued and not yet used, by the hash of each.
#[derive(Debug, Default)]
pub struct Tickets {
    issued: Mutex<HashMap<String, Issued>>,
}

impl Tickets {
    fn issued(&self) -> MutexGuard<'_, HashMap<String, Issued>> {
        // A panic elsewhere while holding the lock leaves a consistent map:
        // every change below is one insert or remove.
        self.issued.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new ticket for the holder of the credential whose hash is
    /// `credential_hash`, valid from `now` for [`TICKET_LIFETIME`].
    pub fn issue(&self, credential_hash: &str, now: Instant) -> String {
        // The same 256 random bits as a credential.
        let ticket = secrets::new_credential();
        let mut issued = self.issued();
        // Expired tickets are kept one more lifetime, so that their holder
        // is told "expired" rather than "unknown", then forgotten.
        issued.retain(|_, t| t.expires_at + TICKET_LIFETIME > now);
        let mut held: Vec<(Instant, String)> = issued
            .iter()
            .filter(|(_, t)| t.credential_hash == credential_hash)
            .map(|(hash, t)| (t.expires_at, hash.clone()))
            .collect();
        if held.len() >= MAX_PER_CREDENTIAL {
            held.sort();
            for (_, hash) in &held[..=held.len() - MAX_PER_CREDENTIAL] {
                issued.remove(hash);
            }
        }
        issued.insert(
            secrets::hash(&ticket),
            Issued {
                credential_hash: credential_hash.to_string(),
                expires_at: now + TICKET_LIFETIME,
            },
        );
        ticket
    }

    /// Spend `ticket` at `now`: the hash of the credential it stands for.
    /// Used or not, a presented ticket is gone.
    pub fn redeem(&self, ticket: &str, now: Instant) -> Result<String, TicketError> {
        let issued = self
            .issued()
            .remove(&secrets::hash(ticket))
            .ok_or(TicketError::Unknown)?;
        if now >= issued.expires_at {
            return Err(TicketError::Expired);
        }
        Ok(issued.credential_hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_opens_one_connection_then_is_spent() {
        let tickets = Tickets::default();
        let now = Instant::now();
        let ticket = tickets.issue("credential-of-the-lead-tablet", now);
        assert!(ticket.len() >= 43, "256 bits in base64: {ticket}");
        assert_eq!(
            tickets.redeem(&ticket, now + Duration::from_secs(1)),
            Ok("credential-of-the-lead-tablet".to_string())
        );
        assert_eq!(
            tickets.redeem(&ticket, now + Duration::from_secs(2)),
            Err(TicketError::Unknown)
        );
        assert_eq!(
            tickets.redeem("made-up", now),
            Err(TicketError::Unknown),
            "a ticket never issued"
        );
    }

    #[test]
    fn a_ticket_used_after_its_minute_is_refused_as_expired() {
        let tickets = Tickets::default();
        let now = Instant::now();
        let late = tickets.issue("credential", now);
        let in_time = tickets.issue("credential", now);
        assert_eq!(
            tickets.redeem(&late, now + TICKET_LIFETIME),
            Err(TicketError::Expired)
        );
        assert!(TicketError::Expired.to_string().contains("expired"));
        assert!(
            tickets
                .redeem(&in_time, now + TICKET_LIFETIME - Duration::from_millis(1))
                .is_ok()
        );
    }

    #[test]
    fn old_tickets_are_forgotten_and_a_device_cannot_pile_them_up() {
        let tickets = Tickets::default();
        let now = Instant::now();
        let forgotten = tickets.issue("a", now);
        let later = now + 2 * TICKET_LIFETIME + Duration::from_secs(1);
        let piled: Vec<String> = (0..MAX_PER_CREDENTIAL + 3)
            .map(|i| tickets.issue("b", later + Duration::from_millis(i as u64)))
            .collect();
        let other = tickets.issue("c", later);
        assert_eq!(tickets.issued().len(), MAX_PER_CREDENTIAL + 1);
        assert_eq!(tickets.redeem(&forgotten, later), Err(TicketError::Unknown));
        assert_eq!(tickets.redeem(&piled[0], later), Err(TicketError::Unknown));
        assert_eq!(tickets.redeem(&piled[3], later), Ok("b".to_string()));
        assert_eq!(tickets.redeem(&other, later), Ok("c".to_string()));
    }
}
