//! How many attempts a client address may make, in a minute, at the doors
//! anyone can knock on: enrolling with a code, registering an antenna,
//! asking for a sync ticket.
//!
//! A code (80 bits) and a credential (256 bits) cannot be guessed in any
//! number of tries; the limit keeps one address from making the server
//! hash, look up and log without end, and says "slow down" to a script
//! gone wrong. A fixed window per address: the first attempt opens a
//! minute, which admits `limit` attempts; the next ones are told how long
//! to wait (HTTP 429, `Retry-After`). An IPv6 address counts by its /64,
//! which one household or phone holds whole.
//!
//! Behind a reverse proxy every client has the proxy's address, so the
//! limits are shared by all: enrolments are rare, which is why the limit
//! is per minute and not per hour.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The window in which a client's attempts are counted.
pub const WINDOW: Duration = Duration::from_secs(60);

/// Addresses followed at once. Past it, windows that ended are forgotten;
/// if all are still open (a flood from many addresses), a new address is
/// refused until one ends: the doors stay closed rather than the memory
/// grow without bound.
const MAX_ADDRESSES: usize = 10_000;

/// Refused: how long until the client's window ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TooManyAttempts {
    pub retry_after: Duration,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    opened: Instant,
    attempts: u32,
}

/// The attempts of each client address at one door.
#[derive(Debug)]
pub struct Attempts {
    limit: u32,
    counted: Mutex<HashMap<IpAddr, Window>>,
}

/// The address an attempt counts under: IPv6 by its /64.
fn client_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
        v4 => v4,
    }
}

impl Attempts {
    /// At most `limit` attempts per address in a [`WINDOW`] (at least 1).
    pub fn per_minute(limit: u32) -> Self {
        Self {
            limit: limit.max(1),
            counted: Mutex::default(),
        }
    }

    fn counted(&self) -> MutexGuard<'_, HashMap<IpAddr, Window>> {
        // Each change below is one insert, update or retain: a panic
        // elsewhere leaves the map consistent.
        self.counted.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Count an attempt from `ip` at `now`, or refuse it.
    pub fn attempt(&self, ip: IpAddr, now: Instant) -> Result<(), TooManyAttempts> {
        let key = client_key(ip);
        let mut counted = self.counted();
        let ended = |w: &Window| now.saturating_duration_since(w.opened) >= WINDOW;
        if !counted.contains_key(&key) && counted.len() >= MAX_ADDRESSES {
            counted.retain(|_, w| !ended(w));
            if counted.len() >= MAX_ADDRESSES {
                let first_to_end = counted
                    .values()
                    .map(|w| WINDOW.saturating_sub(now.saturating_duration_since(w.opened)))
                    .min()
                    .unwrap_or(WINDOW);
                return Err(TooManyAttempts {
                    retry_after: first_to_end,
                });
            }
        }
        let window = counted.entry(key).or_insert(Window {
            opened: now,
            attempts: 0,
        });
        if ended(window) {
            *window = Window {
                opened: now,
                attempts: 0,
            };
        }
        if window.attempts >= self.limit {
            return Err(TooManyAttempts {
                retry_after: WINDOW.saturating_sub(now.saturating_duration_since(window.opened)),
            });
        }
        window.attempts += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCRIPT: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 7));
    const WAREHOUSE: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(198, 51, 100, 1));

    #[test]
    fn the_eleventh_attempt_in_a_minute_waits_for_the_window_and_others_are_served() {
        let enrol = Attempts::per_minute(10);
        let start = Instant::now();
        for i in 0..10 {
            assert_eq!(
                enrol.attempt(SCRIPT, start + Duration::from_secs(i)),
                Ok(())
            );
        }
        assert_eq!(
            enrol.attempt(SCRIPT, start + Duration::from_secs(15)),
            Err(TooManyAttempts {
                retry_after: Duration::from_secs(45)
            })
        );
        assert_eq!(
            enrol.attempt(WAREHOUSE, start + Duration::from_secs(15)),
            Ok(())
        );
        // Refused attempts do not push the window further.
        assert!(
            enrol
                .attempt(SCRIPT, start + Duration::from_secs(59))
                .is_err()
        );
        assert_eq!(enrol.attempt(SCRIPT, start + WINDOW), Ok(()));
    }

    #[test]
    fn an_ipv6_client_counts_by_its_64_and_a_mapped_ipv4_as_itself() {
        let enrol = Attempts::per_minute(1);
        let now = Instant::now();
        let phone: IpAddr = "2001:db8:1:2::10".parse().unwrap();
        let same_phone: IpAddr = "2001:db8:1:2:ffff::1".parse().unwrap();
        let neighbour: IpAddr = "2001:db8:1:3::10".parse().unwrap();
        assert_eq!(enrol.attempt(phone, now), Ok(()));
        assert!(enrol.attempt(same_phone, now).is_err());
        assert_eq!(enrol.attempt(neighbour, now), Ok(()));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(enrol.attempt(SCRIPT, now), Ok(()));
        assert!(enrol.attempt(mapped, now).is_err());
    }

    #[test]
    fn a_flood_from_many_addresses_is_held_to_a_bounded_table() {
        let enrol = Attempts::per_minute(10);
        let start = Instant::now();
        for i in 0..MAX_ADDRESSES as u32 {
            let ip = IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            assert_eq!(enrol.attempt(ip, start), Ok(()));
        }
        let late = start + Duration::from_secs(20);
        assert_eq!(
            enrol.attempt(WAREHOUSE, late),
            Err(TooManyAttempts {
                retry_after: Duration::from_secs(40)
            })
        );
        // Those already counted keep their window; once the windows end,
        // the table makes room.
        assert_eq!(enrol.attempt(IpAddr::V4(0x0a00_0000.into()), late), Ok(()));
        assert_eq!(enrol.attempt(WAREHOUSE, start + WINDOW), Ok(()));
        assert!(enrol.counted().len() <= MAX_ADDRESSES);
    }
}
