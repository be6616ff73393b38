//! The JSON bodies of the base server's REST API, and of a tablet serving
//! its teammates, as the receiving side reads them (`maraude_protocol::api`):
//! what a device sends the server, and what a server (or a teammate's
//! tablet, which may be a modified client) answers a device. Read through
//! serde_json as axum and reqwest read them, then checked as the handlers
//! check them. None of it may panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use maraude_protocol::api::{
    Acked, ApiError, CertificateRequest, CodeRequest, DeviceInfo, Enrol, Enrolled, EnrolmentCode,
    IssuedCertificate, Pending, RegisterAntenna, Revocations, SyncTicket, device_of_peer, from_b64,
};
use maraude_protocol::identity;

fuzz_target!(|data: &[u8]| {
    // What the server reads.
    let _ = serde_json::from_slice::<RegisterAntenna>(data)
        .map(|r| r.public_key.as_deref().map(from_b64));
    let _ = serde_json::from_slice::<CodeRequest>(data);
    let _ = serde_json::from_slice::<Enrol>(data).map(|e| e.public_key.as_deref().map(from_b64));
    let _ = serde_json::from_slice::<CertificateRequest>(data).map(|c| from_b64(&c.public_key));
    if let Ok(acked) = serde_json::from_slice::<Acked>(data)
        && let Ok(docs) = acked.parse()
    {
        // What parses is what was sent, document by document.
        assert_eq!(docs.len(), acked.documents.len());
    }
    // What a serving tablet reads from a teammate.
    if let Ok(list) = serde_json::from_slice::<Revocations>(data)
        && let Some(der) = from_b64(&list.revocations)
    {
        let _ = identity::named_in(&der);
    }

    // What a device reads from its server or a teammate.
    let _ = serde_json::from_slice::<Enrolled>(data);
    let _ = serde_json::from_slice::<EnrolmentCode>(data);
    let _ = serde_json::from_slice::<IssuedCertificate>(data)
        .map(|c| (from_b64(&c.certificate), from_b64(&c.authority)));
    let _ = serde_json::from_slice::<Vec<DeviceInfo>>(data);
    let _ = serde_json::from_slice::<SyncTicket>(data);
    let _ = serde_json::from_slice::<ApiError>(data);
    if let Ok(pending) = serde_json::from_slice::<Pending>(data) {
        let _ = device_of_peer(&pending.server_peer);
        for doc in &pending.documents {
            let _ = doc.parse::<samod_core::DocumentId>();
        }
        let _ = pending.revocations.as_deref().map(from_b64);
    }
});
