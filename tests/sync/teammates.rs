//! Tablets syncing with each other without the server (`maraude
//! serve-peer`, `maraude sync --peer`, found by mDNS with `--peer auto`),
//! and the server over HTTPS.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command};
use std::time::Duration;

use serde_json::Value;

use crate::a_team_syncs::{distributed, join, open, register, sync};
use crate::server::Server;
use crate::tablet::{Tablet, spawn};

/// A tablet serving its teammates; stopped (SIGTERM) when dropped.
pub struct Serving {
    pub child: Child,
    pub address: String,
    /// Announced on the network (loopback here) for `sync --peer auto`.
    pub announced: bool,
}

impl Serving {
    pub fn start(tablet: &Tablet) -> Self {
        Self::start_with(tablet, &[])
    }

    /// [`Serving::start`] with more arguments to `serve-peer`.
    pub fn start_with(tablet: &Tablet, more: &[&str]) -> Self {
        let mut args = vec!["--json", "serve-peer", "--listen", "127.0.0.1:0"];
        args.extend_from_slice(more);
        let mut cmd = tablet.command(args);
        let mut child = spawn(&mut cmd);
        // The JSON answer, over several lines, then it serves.
        let mut printed = String::new();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let shown: Value = loop {
            let mut line = String::new();
            if out.read_line(&mut line).unwrap_or(0) == 0 {
                let _ = child.kill();
                let (_, err) = crate::tablet::output_of(&mut child);
                panic!("serve-peer printed {printed:?}; stderr: {err}");
            }
            printed.push_str(&line);
            if let Ok(shown) = serde_json::from_str(&printed) {
                break shown;
            }
        };
        Serving {
            child,
            address: shown["address"].as_str().unwrap().to_string(),
            announced: shown["announced"] == true,
        }
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        for _ in 0..100 {
            if self.child.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn sync_peer(tablet: &Tablet, serving: &Serving) -> Value {
    tablet.json(["sync", "--peer", &serving.address])
}

/// A sync with a teammate that both tablets refused: a sentence, nothing
/// exchanged.
fn not_accepted(answer: &crate::tablet::Answer) {
    assert!(!answer.succeeded(), "{}", answer.stdout);
    assert!(
        answer.stderr.contains("did not accept each other"),
        "{}",
        answer.stderr
    );
}

/// `maraude ARGS` looking for teammates by mDNS on loopback, where every
/// tablet of these tests serves (the network's interfaces otherwise).
fn on_loopback<const N: usize>(tablet: &Tablet, args: [&str; N]) -> crate::tablet::Answer {
    let mut cmd = tablet.command(args);
    cmd.env(maraude_sync::discovery::LOOPBACK_VAR, "1");
    crate::tablet::finish(cmd)
}

fn no_teammate_found(answer: &crate::tablet::Answer) {
    assert!(!answer.succeeded(), "{}", answer.stdout);
    assert!(
        answer
            .stderr
            .contains("no teammate's tablet found on this network")
            && answer.stderr.contains("same Wi-Fi"),
        "{}",
        answer.stderr
    );
}

/// Calais's coordinator, its shift started, registered on `server`.
pub fn coordinator_on_shift(server: &Server) -> Tablet {
    let coordinator = Tablet::for_antenna("Calais");
    coordinator.ok(["shift", "start", "--lead", "Mira", "--team", "Jo"]);
    register(&coordinator, server);
    coordinator
}

fn device_of(tablet: &Tablet) -> String {
    open(tablet).device().to_string()
}

#[test]
fn tablets_sync_in_the_van_without_the_server_each_receiving_what_its_role_may() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(&dir.path().join("server"));
    let coordinator = coordinator_on_shift(&server);
    let lead = join(&coordinator, &server, "lead");
    let volunteer = join(&coordinator, &server, "volunteer");
    for tablet in [&coordinator, &lead, &volunteer] {
        sync(tablet);
    }
    // The night: no server anywhere.
    server.kill();
    coordinator.log(["distribution", "blanket", "2"]);
    lead.log(["distribution", "blanket", "3"]);
    volunteer.log(["distribution", "tea_coffee", "5"]);
    // A follow-up the lead closes: volunteers never receive closed cases.
    let (_, closed_case) = lead.open_case([
        "shelter",
        "--household",
        "4",
        "--alias",
        "Karim",
        "--phone",
        "+33 6 12 34 56 78",
    ]);
    lead.ok(["case", "close", &closed_case, "--outcome", "no_place"]);

    // The volunteer syncs with the lead's tablet, then the coordinator with
    // the volunteer's: everything logged reaches everyone, through two hops.
    {
        let serving = Serving::start(&lead);
        let got = sync_peer(&volunteer, &serving);
        // The lead's tablet, by the name the server registered it under
        // (in its certificate), not by anything it says of itself.
        assert_eq!(got["teammate"], "lead", "{got}");
        assert!(got["documents_received"].as_u64().unwrap() >= 1, "{got}");
        assert!(got["documents_sent"].as_u64().unwrap() >= 1, "{got}");
    }
    {
        let serving = Serving::start(&volunteer);
        sync_peer(&coordinator, &serving);
    }
    {
        let serving = Serving::start(&coordinator);
        sync_peer(&lead, &serving);
    }
    for tablet in [&coordinator, &lead, &volunteer] {
        assert_eq!(distributed(tablet, "blanket"), 5);
        assert_eq!(distributed(tablet, "tea_coffee"), 5);
    }
    // The closed case went from the lead to the coordinator, when the lead
    // synced with the coordinator's tablet; the volunteer's never had it.
    assert!(
        coordinator
            .ok(["case", "show", &closed_case])
            .contains("Karim")
    );
    let refused = volunteer.run(["case", "show", &closed_case]);
    assert!(!refused.succeeded(), "{}", refused.stdout);
    assert!(!refused.stdout.contains("Karim"), "{}", refused.stdout);
    // Nor does a lead, syncing as the client, push it into a volunteer's
    // tablet.
    {
        let serving = Serving::start(&volunteer);
        sync_peer(&lead, &serving);
    }
    assert!(!volunteer.run(["case", "show", &closed_case]).succeeded());

    // Nothing new between two tablets: nothing exchanged.
    {
        let serving = Serving::start(&lead);
        let again = sync_peer(&coordinator, &serving);
        assert_eq!(again["documents_sent"], 0, "{again}");
        assert_eq!(again["documents_received"], 0, "{again}");
    }

    // Back at the warehouse: the server ends with the same index.
    server.restart();
    for tablet in [&coordinator, &lead, &volunteer, &coordinator] {
        sync(tablet);
    }
    let antenna = open(&coordinator).antenna_id().to_string();
    let server_index = server.antenna_store(&antenna).index_dump().unwrap();
    assert_eq!(open(&coordinator).index_dump().unwrap(), server_index);
    assert_eq!(open(&lead).index_dump().unwrap(), server_index);
}

#[test]
fn a_revoked_tablet_and_one_of_another_antenna_are_refused_by_teammates() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("server"));
    let coordinator = Tablet::for_antenna("Calais");
    coordinator.ok(["shift", "start", "--lead", "Mira", "--team", "Jo"]);
    coordinator.log(["distribution", "blanket", "2"]);
    register(&coordinator, &server);
    let lost = join(&coordinator, &server, "volunteer");
    let lead = join(&coordinator, &server, "lead");
    for tablet in [&coordinator, &lost, &lead] {
        sync(tablet);
    }
    // The tablet is lost; the coordinator revokes it and syncs, which
    // brings the antenna's new revocation list.
    coordinator.ok(["revoke", &device_of(&lost)]);
    sync(&coordinator);
    coordinator.log(["distribution", "blanket", "4"]);

    let serving = Serving::start(&coordinator);
    let before = open(&coordinator).index_dump().unwrap();
    lost.log(["distribution", "tea_coffee", "7"]);
    let refused = lost.run(["sync", "--peer", &serving.address]);
    not_accepted(&refused);
    assert_eq!(distributed(&lost, "blanket"), 2, "nothing new reached it");
    drop(serving);
    assert_eq!(open(&coordinator).index_dump().unwrap(), before);

    // The lead has not synced with the server since: it hears of the
    // revocation from the coordinator's tablet, and refuses the lost one
    // in turn.
    let serving = Serving::start(&coordinator);
    sync_peer(&lead, &serving);
    drop(serving);
    let serving_lead = Serving::start(&lead);
    not_accepted(&lost.run(["sync", "--peer", &serving_lead.address]));
    drop(serving_lead);

    // The other way round: the coordinator dialling the lost tablet
    // refuses it too.
    let serving_lost = Serving::start(&lost);
    let refused = coordinator.run(["sync", "--peer", &serving_lost.address]);
    not_accepted(&refused);
    drop(serving_lost);
    assert_eq!(distributed(&coordinator, "tea_coffee"), 0);

    // A tablet of another antenna, enrolled on the same server.
    let dunkerque = Tablet::for_antenna("Dunkerque");
    register(&dunkerque, &server);
    sync(&dunkerque);
    let serving = Serving::start(&coordinator);
    let refused = dunkerque.run(["sync", "--peer", &serving.address]);
    not_accepted(&refused);
    // No one serving at an address: a sentence, not a hang.
    drop(serving);
    let nobody = coordinator.run(["sync", "--peer", "127.0.0.1:9"]);
    assert!(
        nobody
            .stderr
            .contains("cannot reach the tablet at 127.0.0.1:9"),
        "{}",
        nobody.stderr
    );
}

#[test]
fn a_tablet_enrolled_before_certificates_gets_one_at_its_next_sync() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("server"));
    let coordinator = Tablet::for_antenna("Calais");
    register(&coordinator, &server);
    // As a tablet enrolled by an older Maraude: no certificate kept.
    {
        let mut store = open(&coordinator);
        let mut link = store.server_link().unwrap().unwrap();
        link.certificate = None;
        store.set_server_link(&link).unwrap();
    }
    let lead = join(&coordinator, &server, "lead");
    let refused = coordinator.run(["sync", "--peer", "127.0.0.1:9"]);
    assert!(
        refused
            .stderr
            .contains("no certificate for syncing with teammates yet"),
        "{}",
        refused.stderr
    );
    sync(&coordinator);
    assert!(
        open(&coordinator)
            .server_link()
            .unwrap()
            .unwrap()
            .certificate
            .is_some()
    );
    // The lead's tablet gets its antenna document from the server only
    // (it does not travel between teammates): a tablet syncs once with the
    // server when it joins, as the app does.
    sync(&lead);
    coordinator.ok(["shift", "start", "--lead", "Mira", "--team", "Jo"]);
    coordinator.log(["distribution", "blanket", "2"]);
    let serving = Serving::start(&coordinator);
    sync_peer(&lead, &serving);
    assert_eq!(distributed(&lead, "blanket"), 2);
}

/// A certificate authority and a certificate for 127.0.0.1 it signed, as
/// PEM files in `dir`: (ca, cert, key).
pub fn test_certificates(
    dir: &std::path::Path,
) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "Test association CA");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca, &ca_key);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    let paths = (
        dir.join("ca.pem"),
        dir.join("server.pem"),
        dir.join("server.key"),
    );
    std::fs::write(&paths.0, ca_cert.pem()).unwrap();
    std::fs::write(&paths.1, cert.pem()).unwrap();
    std::fs::write(&paths.2, key.serialize_pem()).unwrap();
    (paths.0, paths.1, paths.2)
}

#[test]
fn the_server_speaks_https_when_given_a_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = test_certificates(dir.path());
    let server = Server::start_with(
        &dir.path().join("server"),
        &[
            ("MARAUDE_TLS_CERT", cert.to_str().unwrap()),
            ("MARAUDE_TLS_KEY", key.to_str().unwrap()),
        ],
    );
    assert!(server.url.starts_with("https://"), "{}", server.url);
    let trusting = |tablet: &Tablet, args: &[&str]| {
        let mut cmd = tablet.command(args);
        cmd.env("SSL_CERT_FILE", &ca);
        crate::tablet::finish(cmd)
    };
    let coordinator = Tablet::for_antenna("Calais");
    coordinator.ok(["shift", "start", "--lead", "Mira", "--team", "Jo"]);
    coordinator.log(["distribution", "blanket", "2"]);

    // A device that does not trust the server's certificate says so.
    let mut untrusted = coordinator.command(["register", "--server", &server.url]);
    untrusted.env(
        "MARAUDE_REGISTRATION_TOKEN",
        crate::server::REGISTRATION_TOKEN,
    );
    let untrusted = crate::tablet::finish(untrusted);
    assert!(!untrusted.succeeded());
    assert!(
        untrusted.stderr.contains("could not be verified"),
        "{}",
        untrusted.stderr
    );

    let mut register = coordinator.command(["register", "--server", &server.url]);
    register
        .env(
            "MARAUDE_REGISTRATION_TOKEN",
            crate::server::REGISTRATION_TOKEN,
        )
        .env("SSL_CERT_FILE", &ca);
    let registered = crate::tablet::finish(register);
    assert!(
        registered.succeeded(),
        "{}\nserver log: {}",
        registered.stderr,
        std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default()
    );
    let code = trusting(
        &coordinator,
        &["--json", "enrolment-code", "--role", "lead"],
    );
    let code: Value = crate::tablet::parse_json(&crate::tablet::succeeded(code));
    let lead = Tablet::blank();
    // Typed without a scheme: https://.
    crate::tablet::succeeded(trusting(
        &lead,
        &[
            "enrol",
            "--server",
            server.url.trim_start_matches("https://"),
            "--code",
            code["code"].as_str().unwrap(),
        ],
    ));
    crate::tablet::succeeded(trusting(&coordinator, &["sync"]));
    crate::tablet::succeeded(trusting(&lead, &["sync"]));
    assert_eq!(distributed(&lead, "blanket"), 2);
    // Plain HTTP to the HTTPS port gets nothing.
    let plain = server.url.replacen("https://", "http://", 1);
    let mut cmd = lead.command(["sync"]);
    cmd.env("SSL_CERT_FILE", &ca);
    {
        let mut store = open(&lead);
        let mut link = store.server_link().unwrap().unwrap();
        link.url = plain;
        store.set_server_link(&link).unwrap();
    }
    assert!(!crate::tablet::finish(cmd).succeeded());
}

#[test]
fn a_tablet_finds_its_teammate_on_the_network_and_one_of_another_antenna_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(&dir.path().join("server"));
    let coordinator = coordinator_on_shift(&server);
    let volunteer = join(&coordinator, &server, "volunteer");
    let dunkerque = Tablet::for_antenna("Dunkerque");
    register(&dunkerque, &server);
    for tablet in [&coordinator, &volunteer, &dunkerque] {
        sync(tablet);
    }
    server.kill();
    coordinator.log(["distribution", "blanket", "2"]);

    // Nobody serving yet: a sentence that says what to check.
    no_teammate_found(&on_loopback(&volunteer, ["sync", "--peer", "auto"]));

    let serving = Serving::start(&coordinator);
    assert!(serving.announced);
    // What the announcement says: a random name and a tag, never the
    // antenna's or the device's id.
    let found = on_loopback(&volunteer, ["--json", "teammates"]);
    let found: Value = crate::tablet::parse_json(&crate::tablet::succeeded(found));
    let found = found.as_array().unwrap();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        found[0]["addresses"][0].as_str().unwrap(),
        serving.address,
        "{found:?}"
    );
    let name = found[0]["name"].as_str().unwrap();
    // Twelve random hex digits: not even the app's name.
    assert!(
        name.len() == 12 && name.chars().all(|c| c.is_ascii_hexdigit()),
        "{name}"
    );
    let antenna = open(&coordinator).antenna_id().to_string();
    let device = device_of(&coordinator);
    for id in [&antenna, &device] {
        assert!(!name.contains(&id[..8]), "{name} names {id}");
    }

    let synced = on_loopback(&volunteer, ["--json", "sync", "--peer", "auto"]);
    let synced = crate::tablet::parse_json(&crate::tablet::succeeded(synced));
    assert!(
        synced["documents_received"].as_u64().unwrap() >= 1,
        "{synced}"
    );
    assert_eq!(distributed(&volunteer, "blanket"), 2);

    // A tablet of another antenna on the same network finds no teammate,
    // even while Calais's serves.
    no_teammate_found(&on_loopback(&dunkerque, ["sync", "--peer", "auto"]));
    let none = on_loopback(&dunkerque, ["--json", "teammates"]);
    assert_eq!(crate::tablet::parse_json(&none), serde_json::json!([]));

    // Stopped serving: the announcement is gone with it.
    drop(serving);
    no_teammate_found(&on_loopback(&volunteer, ["sync", "--peer", "auto"]));

    // Serving without announcing: only the address finds it.
    let quiet = Serving::start_with(&coordinator, &["--no-announce"]);
    assert!(!quiet.announced);
    no_teammate_found(&on_loopback(&volunteer, ["sync", "--peer", "auto"]));
    sync_peer(&volunteer, &quiet);
}

#[test]
fn a_tablet_is_registered_under_a_name_of_one_line_and_the_code_waits_for_a_good_one() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("server"));
    let coordinator = coordinator_on_shift(&server);
    let code = coordinator.json(["enrolment-code", "--role", "volunteer"]);
    let code = code["code"].as_str().unwrap().to_string();
    let tablet = Tablet::blank();
    let enrol = |name: &str| {
        tablet.run([
            "enrol",
            "--server",
            &server.url,
            "--code",
            &code,
            "--device-name",
            name,
        ])
    };
    // A name that would forge a line on a teammate's screen, or one too
    // long, is refused, and says what a name may be.
    for name in ["Van 2\nSynced with the server", &"x".repeat(61)] {
        let refused = enrol(name);
        assert!(!refused.succeeded(), "{name:?} was taken");
        assert!(
            refused.stderr.contains("1 to 60 characters"),
            "{name:?}: {}",
            refused.stderr
        );
    }
    // The code was not used up: the same one enrols a good name.
    crate::tablet::succeeded(enrol("Tablette du camion n°2"));
}
