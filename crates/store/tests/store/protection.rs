use maraude_store::{Passphrase, Store, StoreError};

use super::*;

#[test]
fn a_wrong_passphrase_is_told_as_such_and_changes_nothing() {
    let t = calais();
    let path = t.path();
    drop(t.store);
    let before = std::fs::read(&path).unwrap();
    let err = Store::open(&path, &Passphrase::new("dunes du sud 2026".into())).unwrap_err();
    assert!(matches!(err, StoreError::WrongPassphrase(_)), "{err}");
    assert!(err.to_string().contains("wrong passphrase"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
    Store::open(&path, &passphrase()).unwrap();
}

#[test]
fn the_store_file_holds_none_of_the_logged_text_in_clear() {
    let mut t = calais();
    let shift = night_shift(&mut t.store);
    let marker = "Expulsion-au-bois-Zeta-7731";
    let incident = maraude_core::entry::NewEntry {
        at: None,
        place: Some("dunes-north".parse().unwrap()),
        content: maraude_core::entry::EntryContent::Incident {
            incident_type: maraude_core::entry::IncidentType::Eviction,
            people_affected: 30,
            description: marker.into(),
            witnesses: [nick("Jo")].into(),
            reported_to: None,
        },
    };
    t.store.log(&shift, &nick("Jo"), incident).unwrap();
    let mut seen_any = false;
    for suffix in ["", "-wal"] {
        let p = format!("{}{}", t.path().display(), suffix);
        if let Ok(bytes) = std::fs::read(&p) {
            seen_any |= !bytes.is_empty();
            for needle in [
                marker,
                "Calais",
                "Dunes nord",
                "blanket",
                "SQLite format 3",
                "Mira",
            ] {
                assert!(
                    !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                    "{needle} readable in {p}"
                );
            }
        }
    }
    assert!(seen_any);
    t.store.checkpoint().unwrap();
    let bytes = std::fs::read(t.path()).unwrap();
    assert!(!bytes.windows(marker.len()).any(|w| w == marker.as_bytes()));
}

#[test]
fn creating_over_an_existing_store_or_with_a_short_or_guessable_passphrase_is_refused() {
    let t = calais();
    assert!(matches!(
        Store::create(&t.path(), &passphrase(), "Calais"),
        Err(StoreError::AlreadyExists(_))
    ));
    let other = t.dir.path().join("other.maraude");
    assert!(matches!(
        Store::create(&other, &Passphrase::new("short".into()), "Calais"),
        Err(StoreError::WeakPassphrase { .. })
    ));
    assert!(!other.exists());
    // Long enough, and guessed in moments: a city and a year, a keyboard
    // row, a word and its digits.
    for guessable in ["calais2026", "azertyuiop", "password1234", "maraude!!"] {
        let refused = Store::create(&other, &Passphrase::new(guessable.into()), "Calais");
        assert!(
            matches!(refused, Err(StoreError::GuessablePassphrase { .. })),
            "{guessable}: {refused:?}"
        );
        assert!(!other.exists());
    }
    // Words nobody would put together pass.
    Store::create(
        &other,
        &Passphrase::new("thé chaud sous la bâche".into()),
        "Calais",
    )
    .expect("a strong passphrase");
}

#[test]
fn a_removed_store_leaves_no_file_and_cannot_be_opened() {
    let mut t = calais();
    let shift = night_shift(&mut t.store);
    t.store
        .log(&shift, &nick("Jo"), give("blanket", 2, "dunes-north"))
        .unwrap();
    let path = t.path();
    drop(t.store);
    Store::remove(&path).unwrap();
    for suffix in ["", "-wal", "-shm"] {
        let file = format!("{}{suffix}", path.display());
        assert!(!std::path::Path::new(&file).exists(), "{file} is left");
    }
    assert!(matches!(
        Store::open(&path, &passphrase()),
        Err(StoreError::NotFound(_))
    ));
    // Removing again (a second tap) is no error.
    Store::remove(&path).unwrap();
}

/// A form half filled when the tablet locked is kept encrypted, comes back
/// after the store is opened again, and a state too large is refused
/// without losing the one kept.
#[test]
fn the_unsaved_form_is_kept_encrypted_across_a_lock() {
    let mut t = calais();
    assert_eq!(t.store.unsaved().unwrap(), None);
    let marker = "Amina-sous-la-bache-4471";
    let state = format!(
        r#"{{"screen":"quick_log","form":{{"kind":"shelter_request","alias":"{marker}"}}}}"#
    );
    t.store.keep_unsaved(&state).unwrap();
    let path = t.path();
    drop(t.store);
    for suffix in ["", "-wal"] {
        if let Ok(bytes) = std::fs::read(format!("{}{suffix}", path.display())) {
            assert!(
                !bytes.windows(marker.len()).any(|w| w == marker.as_bytes()),
                "{marker} in clear in the store{suffix}"
            );
        }
    }
    let mut store = Store::open(&path, &passphrase()).unwrap();
    assert_eq!(store.unsaved().unwrap().as_deref(), Some(state.as_str()));
    let huge = "x".repeat(maraude_store::MAX_UNSAVED_BYTES + 1);
    assert!(matches!(
        store.keep_unsaved(&huge),
        Err(StoreError::Invalid(maraude_core::Invalid::TooLong { .. }))
    ));
    assert_eq!(store.unsaved().unwrap().as_deref(), Some(state.as_str()));
}

fn incident(description: &str) -> maraude_core::entry::NewEntry {
    maraude_core::entry::NewEntry {
        at: None,
        place: Some("dunes-north".parse().unwrap()),
        content: maraude_core::entry::EntryContent::Incident {
            incident_type: maraude_core::entry::IncidentType::Eviction,
            people_affected: 30,
            description: description.into(),
            witnesses: [nick("Jo")].into(),
            reported_to: None,
        },
    }
}

/// Cleared in a hurry, the tablet keeps only what the server does not
/// hold yet (and the antenna, to go on logging); what it deleted is not in
/// its file any more, and the index is derived again from what is left.
#[test]
fn clearing_keeps_only_what_the_server_does_not_hold() {
    let mut t = calais();
    let last_night = night_shift(&mut t.store);
    let synced = "Expulsion-deja-synchronisee-5512";
    t.store
        .log(&last_night, &nick("Jo"), incident(synced))
        .unwrap();
    t.store
        .end_shift(
            &last_night,
            maraude_core::shift::ShiftEnd {
                ended_at: None,
                stock_returned: Default::default(),
                handover: String::new(),
            },
        )
        .unwrap();
    t.store.keep_unsaved(r#"{"form":"half written"}"#).unwrap();
    // The server holds all of it, as a sync would record.
    let held = crate::every_document_with_heads(&t.store);
    t.store.mark_shared("the-server", &held).unwrap();
    // Tonight, not synced yet.
    let tonight = night_shift(&mut t.store);
    t.store
        .log(&tonight, &nick("Jo"), incident("Tentes-de-ce-soir"))
        .unwrap();

    let cleared = t.store.clear_what_the_server_holds("the-server").unwrap();
    assert!(cleared.documents >= 1, "{cleared:?}");
    let gone = t.store.entries(&last_night);
    assert!(
        gone.as_ref().map_or(true, |e| e.is_empty()),
        "{cleared:?} {gone:?}"
    );
    assert!(t.store.shift(&last_night).is_err());
    let kept = t.store.entries(&tonight).unwrap();
    assert_eq!(kept.len(), 1);
    assert!(t.store.antenna().is_ok());
    assert_eq!(t.store.unsaved().unwrap(), None);
    let path = t.path();
    drop(t.store);
    for suffix in ["", "-wal"] {
        if let Ok(bytes) = std::fs::read(format!("{}{suffix}", path.display())) {
            assert!(!bytes.windows(synced.len()).any(|w| w == synced.as_bytes()));
        }
    }
    // What was left opens, and its index is what its documents say.
    let mut store = Store::open(&path, &passphrase()).unwrap();
    let before = store.index_dump().unwrap();
    store.rebuild_index().unwrap();
    assert_eq!(store.index_dump().unwrap(), before);
}

/// A revocation changes the antenna's team secret; the one it replaces is
/// kept two weeks (teammates that have not synced since still hold it),
/// then forgotten: a seized tablet's old secret stops opening anything.
#[test]
fn a_replaced_team_secret_is_kept_two_weeks_then_forgotten() {
    use secrecy::ExposeSecret;
    let mut t = calais();
    let certificate = |secret: u8| maraude_store::DeviceCertificate {
        key: secrecy::SecretSlice::from(vec![1; 48]),
        certificate: vec![2; 300],
        authority: vec![3; 300],
        team_secret: Some(secrecy::SecretSlice::from(vec![secret; 32])),
        previous_team_secret: None,
    };
    t.store
        .set_server_link(&maraude_store::ServerLink {
            url: "https://maraude.example.org/".into(),
            role: "lead".into(),
            credential: secrecy::SecretString::from("credential".to_string()),
            certificate: Some(certificate(7)),
        })
        .unwrap();
    let held = |store: &maraude_store::Store| {
        let c = store.server_link().unwrap().unwrap().certificate.unwrap();
        let bytes = |s: Option<secrecy::SecretSlice<u8>>| s.map(|s| s.expose_secret()[0]);
        (bytes(c.team_secret), bytes(c.previous_team_secret))
    };
    assert_eq!(held(&t.store), (Some(7), None));
    // The server sends the new secret at a sync; again at the next.
    t.store.set_team_secret(&[8; 32]).unwrap();
    t.store.set_team_secret(&[8; 32]).unwrap();
    assert_eq!(held(&t.store), (Some(8), Some(7)));
    // A renewed certificate with the same secret keeps the previous one.
    let mut link = t.store.server_link().unwrap().unwrap();
    link.certificate = Some(certificate(8));
    t.store.set_server_link(&link).unwrap();
    assert_eq!(held(&t.store), (Some(8), Some(7)));
    // Fifteen days later.
    let path = t.path();
    drop(t.store);
    let key = maraude_store::page_key(&path, &passphrase()).unwrap();
    let salt = std::fs::read(&path).unwrap()[..16].to_vec();
    let hex: String = key
        .iter()
        .chain(&salt)
        .map(|b| format!("{b:02x}"))
        .collect();
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(&format!("PRAGMA key = \"x'{hex}'\";"))
        .unwrap();
    conn.execute(
        "UPDATE server_link SET team_secret_since = ?1",
        [(chrono::Utc::now() - chrono::Duration::days(15)).to_rfc3339()],
    )
    .unwrap();
    let in_file = |conn: &rusqlite::Connection| -> bool {
        conn.query_row(
            "SELECT previous_team_secret IS NOT NULL FROM server_link",
            [],
            |r| r.get(0),
        )
        .unwrap()
    };
    assert!(in_file(&conn), "unused, but still in the file");
    drop(conn);
    let mut store = Store::open(&path, &passphrase()).unwrap();
    assert_eq!(held(&store), (Some(8), None));
    // The next sync's retention erases it from the file.
    store.apply_retention(chrono::Utc::now()).unwrap();
    drop(store);
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(&format!("PRAGMA key = \"x'{hex}'\";"))
        .unwrap();
    assert!(!in_file(&conn), "erased");
}
