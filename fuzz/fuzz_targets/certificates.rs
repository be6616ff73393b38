//! A certificate or a revocation list another tablet hands over: in the
//! TLS handshake between teammates (its certificate, read for who it
//! names), and in `POST /v1/sync/revocations` (a list, read for whom it
//! revokes, believed only once its signature checks against this
//! antenna's authority). Also the authority's own certificate, which a
//! device receives at enrolment. None of it may panic, and a list or
//! certificate the authority did not sign must never be believed.

#![no_main]

use std::time::{Duration, SystemTime};

use libfuzzer_sys::fuzz_target;
use maraude_protocol::identity::{self, Teammate};

/// A real authority and a device it certified for ten years, from
/// `scripts/fuzz.sh --seeds` (`maraude_server::authority`).
const AUTHORITY: &[u8] = include_bytes!("../seeds/certificates/authority.der");
const DEVICE: &[u8] = include_bytes!("../seeds/certificates/device.der");

fuzz_target!(|data: &[u8]| {
    // As a teammate's certificate.
    let named = Teammate::from_certificate(data);
    let now = SystemTime::now();
    if identity::valid_at(AUTHORITY, data, now) {
        // Only what the authority signed is valid: the device it
        // certified, named as it was.
        let device = Teammate::from_certificate(DEVICE).expect("the seed names a device");
        assert_eq!(
            named.ok(),
            Some(device),
            "valid, but not the device the authority signed"
        );
    }
    let _ = identity::unbounded(AUTHORITY, data, now);
    let _ = identity::valid_at(AUTHORITY, data, SystemTime::UNIX_EPOCH);
    let _ = identity::valid_at(AUTHORITY, data, now + Duration::from_secs(u32::MAX.into()));

    // As an authority's certificate (at enrolment).
    let _ = identity::valid_at(data, DEVICE, now);

    // As a revocation list.
    let read = identity::named_in(data);
    if let Ok(checked) = identity::checked_revocations(AUTHORITY, DEVICE, data) {
        // Believed only when signed: the seeds' own list is the only
        // signed list the fuzzer can reach.
        assert_eq!(checked, read.expect("a checked list reads"));
    }
});
