//! Devices managed by rank, on a real server: a lead enrols and revokes
//! volunteers' tablets only, nobody revokes the antenna's last
//! coordinator, a code dies with the tablet that issued it; the doors
//! anyone can knock on count each address's attempts; certificates run
//! out and are renewed at a sync with the server.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, SystemTime};

use maraude_store::DeviceCertificate;

use crate::a_team_syncs::{distributed, join, open, register, sync};
use crate::server::Server;
use crate::tablet::Tablet;
use crate::teammates::Serving;

fn device_of(tablet: &Tablet) -> String {
    open(tablet).device().to_string()
}

/// Calais's coordinator, tonight's shift started, registered on `server`.
pub fn coordinator_on(server: &Server) -> Tablet {
    let coordinator = Tablet::for_antenna("Calais");
    coordinator.ok(["shift", "start", "--lead", "Mira", "--team", "Jo"]);
    register(&coordinator, server);
    coordinator
}

/// The server's refusal as the tablet says it: its code and its sentence.
fn refused_for(said: &str, code: &str, hint: &str) {
    assert!(said.contains(code) && said.contains(hint), "{said}");
}

#[test]
fn a_lead_cannot_revoke_the_coordinator_who_keeps_syncing_but_revokes_a_volunteer() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("server"));
    let coordinator = coordinator_on(&server);
    let lead = join(&coordinator, &server, "lead");
    let other_lead = join(&coordinator, &server, "lead");
    let volunteer = join(&coordinator, &server, "volunteer");
    for tablet in [&coordinator, &lead, &volunteer] {
        sync(tablet);
    }

    let said = lead.refused(["revoke", &device_of(&coordinator)]);
    refused_for(&said, "rank_too_low", "ask a coordinator");
    refused_for(
        &lead.refused(["revoke", &device_of(&other_lead)]),
        "rank_too_low",
        "ask a coordinator",
    );
    // The coordinator was not touched: it logs and syncs, and the lead
    // receives it.
    coordinator.log(["distribution", "blanket", "3"]);
    sync(&coordinator);
    sync(&lead);
    assert_eq!(distributed(&lead, "blanket"), 3);
    let devices = coordinator.json(["devices"]);
    assert!(
        devices
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["revoked_at"].is_null()),
        "{devices}"
    );

    // A volunteer's tablet is the lead's to revoke.
    lead.ok(["revoke", &device_of(&volunteer)]);
    assert!(volunteer.refused(["sync"]).contains("revoked"));
}

/// A revocation list naming `device`, signed by a key of the forger's
/// own under the name of `antenna`'s authority: what a modified client
/// would make to have the server revoke a tablet.
fn forged_revocations(antenna: &str, device: &str) -> Vec<u8> {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(
        rcgen::DnType::CommonName,
        format!("Maraude antenna {antenna}"),
    );
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Constrained(0));
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
    ];
    let issuer = rcgen::Issuer::new(params, &key);
    let device: uuid::Uuid = device.parse().unwrap();
    let now = time::OffsetDateTime::now_utc();
    rcgen::CertificateRevocationListParams {
        this_update: now,
        next_update: now + time::Duration::days(3650),
        crl_number: rcgen::SerialNumber::from(9u64),
        issuing_distribution_point: None,
        revoked_certs: vec![rcgen::RevokedCertParams {
            serial_number: rcgen::SerialNumber::from_slice(&maraude_protocol::identity::serial(
                &device,
            )),
            revocation_time: now,
            reason_code: None,
            invalidity_date: None,
        }],
        key_identifier_method: rcgen::KeyIdMethod::Sha256,
    }
    .signed_by(&issuer)
    .unwrap()
    .der()
    .to_vec()
}

/// What a volunteer's modified client would hand the server as its
/// antenna's revocation list, to have the coordinator revoked: a list of
/// its own making under the antenna's name, another antenna's real list,
/// the antenna's real list with a byte changed, bytes that are no list.
/// Each is refused, and nobody is revoked; the antenna's real list, which
/// names nobody the server has not revoked, changes nothing.
#[test]
fn a_revocation_list_the_antennas_authority_did_not_sign_revokes_nobody() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("server"));
    let coordinator = coordinator_on(&server);
    let volunteer = join(&coordinator, &server, "volunteer");
    let gone = join(&coordinator, &server, "volunteer");
    coordinator.ok(["revoke", &device_of(&gone)]);
    sync(&coordinator);
    let calais = open(&coordinator).revocations().unwrap().unwrap();
    // Another antenna on the same server, which revoked one of its own.
    let dunkerque = Tablet::for_antenna("Dunkerque");
    register(&dunkerque, &server);
    let theirs = join(&dunkerque, &server, "volunteer");
    dunkerque.ok(["revoke", &device_of(&theirs)]);
    sync(&dunkerque);
    let dunkerque_list = open(&dunkerque).revocations().unwrap().unwrap();

    let (antenna, credential) = crate::bad_messages::antenna_and_credential(&volunteer);
    let target = device_of(&coordinator);
    let loopback = IpAddr::from(Ipv4Addr::LOCALHOST);
    let send = |list: &str| {
        let body = serde_json::json!({ "revocations": list }).to_string();
        let request = format!(
            "POST /v1/sync/revocations HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nAuthorization: Bearer {credential}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        server.request_to(loopback, loopback, &request)
    };
    let b64 = |der: &[u8]| maraude_protocol::api::b64(der);
    let mut changed = calais.clone();
    let middle = changed.len() / 2;
    changed[middle] ^= 0x20;
    for (what, list) in [
        (
            "a list of its own making",
            b64(&forged_revocations(&antenna, &target)),
        ),
        ("another antenna's list", b64(&dunkerque_list)),
        ("the antenna's list, changed", b64(&changed)),
        ("not base64", "revoke the coordinator".to_string()),
        ("no list at all", b64(b"revoke the coordinator")),
    ] {
        let (status, _, body) = send(&list);
        assert_eq!(status, 422, "{what}: {body}");
        let error: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(error["code"], "bad_revocations", "{what}: {error}");
    }
    // The antenna's own list names nobody new: nothing changes.
    let (status, _, body) = send(&b64(&calais));
    assert_eq!(status, 200, "{body}");
    let devices = coordinator.json(["devices"]);
    let revoked: Vec<_> = devices
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| !d["revoked_at"].is_null())
        .map(|d| d["device"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(revoked, vec![device_of(&gone)], "{devices}");
    // The coordinator and the volunteer still sync, and the list they
    // hold still names only the tablet revoked.
    coordinator.log(["distribution", "blanket", "3"]);
    sync(&coordinator);
    sync(&volunteer);
    assert_eq!(distributed(&volunteer, "blanket"), 3);
    let named = |t: &Tablet| {
        maraude_protocol::identity::named_in(&open(t).revocations().unwrap().unwrap())
            .unwrap()
            .len()
    };
    assert_eq!((named(&coordinator), named(&volunteer)), (1, 1));
}

#[test]
fn a_lead_enrols_volunteers_tablets_only() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("server"));
    let coordinator = coordinator_on(&server);
    let lead = join(&coordinator, &server, "lead");
    for role in ["lead", "coordinator"] {
        let said = lead.refused(["enrolment-code", "--role", role]);
        refused_for(&said, "rank_too_low", "ask a coordinator");
    }
    let volunteer = join(&lead, &server, "volunteer");
    sync(&coordinator);
    let got = sync(&volunteer);
    assert!(got["documents_received"].as_u64().unwrap() >= 1, "{got}");
    assert_eq!(
        open(&volunteer).server_link().unwrap().unwrap().role,
        "volunteer"
    );
}

#[test]
fn plain_http_to_another_machine_is_refused_before_the_code_is_spent() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("server"));
    let coordinator = coordinator_on(&server);
    let code = coordinator.json(["enrolment-code", "--role", "volunteer"]);
    let code = code["code"].as_str().unwrap();
    let tablet = Tablet::blank();
    // 192.0.2.0/24 is reserved for documentation: nothing would answer,
    // and nothing is asked.
    let said = tablet.refused(["enrol", "--server", "http://192.0.2.7:8470", "--code", code]);
    assert!(
        said.contains("plain HTTP") && said.contains("--plain-http"),
        "{said}"
    );
    assert!(!tablet.store().exists());
    // The code was not spent: it enrols over this machine's loopback.
    tablet.ok(["enrol", "--server", &server.url, "--code", code]);
}

/// The code a lead's tablet shows carries the mark of the antenna's
/// authority: a server that answers for another authority (someone posing
/// as the antenna's on the network) is refused, and the tablet keeps
/// nothing of it.
#[test]
fn a_server_answering_for_another_antenna_than_the_codes_mark_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("server"));
    let coordinator = coordinator_on(&server);
    let shown = coordinator.json(["enrolment-code", "--role", "volunteer"]);
    let shown = maraude_protocol::code::normalise(shown["code"].as_str().unwrap());
    assert_eq!(shown.len(), 28, "{shown}");
    let calais_mark = &shown[16..];

    // Someone else's server, where they have codes made for their own
    // antenna (also named Calais).
    let impostor = Server::start(&dir.path().join("impostor"));
    let theirs = Tablet::for_antenna("Calais");
    register(&theirs, &impostor);
    let code_of = |tablet: &Tablet| {
        let code = tablet.json(["enrolment-code", "--role", "volunteer"]);
        maraude_protocol::code::normalise(code["code"].as_str().unwrap())
    };
    // Their code, which their server accepts, under Calais's mark.
    let forged = format!("{}{calais_mark}", &code_of(&theirs)[..16]);
    let tablet = Tablet::blank();
    let said = tablet.refused(["enrol", "--server", &impostor.url, "--code", &forged]);
    assert!(said.contains("posing as the server"), "{said}");
    assert!(!tablet.store().exists());
    // Under its own authority's mark, a code of that server enrols: the
    // mark is what refused.
    tablet.ok([
        "enrol",
        "--server",
        &impostor.url,
        "--code",
        &code_of(&theirs),
    ]);
}

#[test]
fn the_antennas_last_coordinator_cannot_be_revoked_even_by_itself() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("server"));
    let first = coordinator_on(&server);
    let said = first.refused(["revoke", &device_of(&first)]);
    refused_for(&said, "last_coordinator", "enrol another coordinator");

    // With a second coordinator, the first may go; then the second is
    // the last, and stays.
    let second = join(&first, &server, "coordinator");
    second.ok(["revoke", &device_of(&first)]);
    refused_for(
        &second.refused(["revoke", &device_of(&second)]),
        "last_coordinator",
        "enrol another coordinator",
    );
    sync(&second);
    assert!(first.refused(["sync"]).contains("revoked"));
}

#[test]
fn a_code_from_a_lead_revoked_since_enrols_no_tablet() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("server"));
    let coordinator = coordinator_on(&server);
    let lead = join(&coordinator, &server, "lead");
    let code = lead.json(["enrolment-code", "--role", "volunteer"]);
    let code = code["code"].as_str().unwrap().to_string();
    // The lead's tablet is lost with the code written beside it.
    coordinator.ok(["revoke", &device_of(&lead)]);

    let finder = Tablet::blank();
    let said = finder.refused(["enrol", "--server", &server.url, "--code", &code]);
    refused_for(&said, "bad_code", "was revoked");
    assert!(!finder.store().exists(), "no store for a refused code");
    // A code from a tablet that is not revoked still enrols.
    let volunteer = join(&coordinator, &server, "volunteer");
    sync(&volunteer);
}

/// `POST /v1/enrol` of `code`, as a script or another client would send it.
fn enrol_body(code: &str) -> String {
    serde_json::json!({
        "code": code,
        "device": maraude_core::ids::DeviceId::new().as_uuid(),
        "device_name": "from a script",
    })
    .to_string()
}

#[test]
fn the_eleventh_enrol_attempt_in_a_minute_from_one_address_waits_and_others_are_served() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("server"));
    let coordinator = coordinator_on(&server);
    sync(&coordinator);
    let script = IpAddr::V4(Ipv4Addr::LOCALHOST);
    for attempt in 1..=10 {
        let (status, _, body) = server.post_from(
            script,
            "/v1/enrol",
            &enrol_body(&format!("GUES-S{attempt:03}")),
        );
        assert_eq!(status, 403, "attempt {attempt}: {body}");
        assert!(body.contains("bad_code"), "{body}");
    }
    let (status, head, body) = server.post_from(script, "/v1/enrol", &enrol_body("GUES-S011"));
    assert_eq!(status, 429, "{body}");
    assert!(body.contains("too_many_attempts"), "{body}");
    let wait: u64 = head
        .lines()
        .find_map(|l| l.strip_prefix("retry-after: "))
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| panic!("a Retry-After header: {head}"));
    assert!((1..=60).contains(&wait), "{wait}");
    // Even with the right code, this address waits.
    let code = coordinator.json(["enrolment-code", "--role", "volunteer"]);
    let code = code["code"].as_str().unwrap();
    assert_eq!(
        server.post_from(script, "/v1/enrol", &enrol_body(code)).0,
        429
    );

    // The server keeps serving: another address enrols with the code, the
    // same address syncs and answers its health.
    let other = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
    let (status, _, body) = server.post_from(other, "/v1/enrol", &enrol_body(code));
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("credential"), "{body}");
    coordinator.log(["distribution", "blanket", "1"]);
    assert_eq!(sync(&coordinator)["documents_sent"], 1);
    assert_eq!(server.get("/v1/health").0, 200);
}

/// The team secret `tablet` holds.
fn team_secret(tablet: &Tablet) -> Vec<u8> {
    use secrecy::ExposeSecret;
    certificate(tablet)
        .team_secret
        .expect("a team secret")
        .expose_secret()
        .to_vec()
}

fn certificate(tablet: &Tablet) -> DeviceCertificate {
    open(tablet)
        .server_link()
        .unwrap()
        .unwrap()
        .certificate
        .expect("a certificate")
}

fn valid_in(certificate: &DeviceCertificate, days: u64) -> bool {
    maraude_sync::identity::valid_at(
        &certificate.authority,
        &certificate.certificate,
        SystemTime::now() + Duration::from_secs(days * 24 * 3600),
    )
}

#[test]
fn a_certificate_near_its_end_is_renewed_at_the_next_sync_with_the_server() {
    let dir = tempfile::tempdir().unwrap();
    // A server that issues certificates for 5 days: under the 10 days
    // within which a tablet renews its own.
    let mut server = Server::start_with(
        &dir.path().join("server"),
        &[("MARAUDE_CERTIFICATE_DAYS", "5")],
    );
    let coordinator = coordinator_on(&server);
    coordinator.log(["distribution", "blanket", "2"]);
    let volunteer = join(&coordinator, &server, "volunteer");
    let short = certificate(&volunteer);
    assert!(valid_in(&short, 4) && !valid_in(&short, 6));

    // The same server, its certificates for the default 30 days. The
    // coordinator's tablet uploads the antenna first: the volunteer's gets
    // its antenna document from the server only.
    server.restart_with(&[]);
    sync(&coordinator);
    sync(&volunteer);
    let renewed = certificate(&volunteer);
    assert_ne!(renewed.certificate, short.certificate);
    assert!(valid_in(&renewed, 29) && !valid_in(&renewed, 31));
    // Not due again: the next sync keeps it.
    sync(&volunteer);
    assert_eq!(certificate(&volunteer).certificate, renewed.certificate);

    // Renewed on both tablets, they accept each other without the server.
    assert!(valid_in(&certificate(&coordinator), 29));
    server.kill();
    let serving = Serving::start(&coordinator);
    volunteer.json(["sync", "--peer", &serving.address]);
    assert_eq!(distributed(&volunteer, "blanket"), 2);
}

/// A tablet enrolled before the team secret existed has no key to its
/// antenna's daily tag: its next sync with the server brings a new
/// certificate and the secret, the same as its teammates'.
#[test]
fn a_certificate_without_the_team_secret_is_renewed_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("server"));
    let coordinator = coordinator_on(&server);
    let volunteer = join(&coordinator, &server, "volunteer");
    sync(&coordinator);
    {
        let mut store = open(&volunteer);
        let mut link = store.server_link().unwrap().unwrap();
        link.certificate.as_mut().unwrap().team_secret = None;
        store.set_server_link(&link).unwrap();
    }
    let said = volunteer.refused(["teammates"]);
    assert!(said.contains("no certificate"), "{said}");
    sync(&volunteer);
    assert_eq!(team_secret(&volunteer), team_secret(&coordinator));
    assert_eq!(team_secret(&volunteer).len(), 32);
}

/// A revoked tablet (lost, seized) keeps the team secret it held: each
/// revocation gives the antenna a new one, which its tablets receive at
/// their next sync with the server and the revoked one never does. From
/// then on it cannot tell its old team's daily tags on a network.
#[test]
fn a_revocation_gives_the_team_a_secret_the_revoked_tablet_never_receives() {
    use maraude_sync::discovery::antenna_tag;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("server"));
    let coordinator = coordinator_on(&server);
    let volunteer = join(&coordinator, &server, "volunteer");
    let lost = join(&coordinator, &server, "volunteer");
    for tablet in [&coordinator, &volunteer, &lost] {
        sync(tablet);
    }
    let before = team_secret(&volunteer);
    assert_eq!(team_secret(&lost), before);

    coordinator.ok(["revoke", &device_of(&lost)]);
    sync(&coordinator);
    sync(&volunteer);
    let after = team_secret(&volunteer);
    assert_ne!(after, before, "the team secret did not change");
    assert_eq!(team_secret(&coordinator), after);
    // The lost tablet can no longer sync, and keeps the old one.
    let refused = lost.refused(["sync"]);
    assert!(refused.contains("revoked"), "{refused}");
    assert_eq!(team_secret(&lost), before);
    let tonight = chrono::Utc::now().date_naive();
    assert_ne!(antenna_tag(&before, tonight), antenna_tag(&after, tonight));
}
