//! Erasing a case: by a lead, by retention, or because a peer's antenna
//! document says so. Afterwards the person's alias and phone cannot be read
//! anywhere in the decrypted file, the period figures are unchanged, and
//! chunks of the case that arrive later are dropped.

use chrono::{Duration, NaiveDate, Utc};
use maraude_core::Lang;
use maraude_core::antenna::{Role, Volunteer};
use maraude_core::case::{CaseAction, CaseRequest, NewCase, Outcome, Person};
use maraude_core::entry::Composition;
use maraude_core::erasure::ErasedBecause;
use maraude_core::ids::{CaseId, DeviceId, ShiftId};
use maraude_store::{Store, StoreError};

use super::*;
use maraude_store::forensic::readable;

const ALIAS: &str = "Amina-Zeta-4471";
const PHONE: &str = "+33 6 71 44 90 12";

fn with_lead(t: &mut TempStore) {
    t.store
        .update_antenna(|a| {
            for (who, role) in [("Mira", Role::Lead), ("Jo", Role::Volunteer)] {
                a.volunteers
                    .insert(nick(who), Volunteer { role, active: true });
            }
            Ok(())
        })
        .unwrap();
}

fn shelter_case(store: &mut Store, shift: &ShiftId, alias: &str, phone: &str) -> CaseId {
    let new = NewCase {
        person: Person {
            alias: alias.into(),
            age_group: None,
            languages: ["ps".to_string()].into(),
            phone: Some(phone.into()),
        },
        request: CaseRequest::Shelter {
            household_size: 2,
            composition: Composition::default(),
            vulnerabilities: Default::default(),
            called_115: true,
            answer_115: None,
        },
    };
    store
        .open_case(
            shift,
            &nick("Jo"),
            new,
            Some("dunes-north".parse().unwrap()),
            None,
        )
        .unwrap()
        .0
        .id
}

fn close(store: &mut Store, case: &CaseId) {
    let outcome = Outcome::Placed {
        place: "CAES Arras".into(),
    };
    store
        .act_on_case(case, &nick("Mira"), CaseAction::Closed { outcome }, None)
        .unwrap();
}

fn this_year(store: &Store) -> maraude_core::report::PeriodReport {
    let today = Utc::now().date_naive();
    let from = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap();
    store
        .period_report(from, today + Duration::days(1), Lang::En)
        .unwrap()
}

#[test]
fn a_lead_erases_a_case_the_person_is_gone_from_the_decrypted_file_the_figures_stay() {
    let mut t = calais();
    with_lead(&mut t);
    let shift = night_shift(&mut t.store);
    // Cases on either side, so that the erased one's bytes sit in pages
    // that stay in use (a page freed whole would hide a missing overwrite).
    for i in 0..10 {
        shelter_case(
            &mut t.store,
            &shift,
            &format!("Before-{i}"),
            "07 00 00 00 01",
        );
    }
    let case = shelter_case(&mut t.store, &shift, ALIAS, PHONE);
    close(&mut t.store, &case);
    let kept = shelter_case(&mut t.store, &shift, "Other-Person-Kept", "07 00 00 00 01");
    let report = this_year(&t.store);
    assert_eq!(report.cases.shelter_requests_opened, 12);
    // In the main file, not only in the WAL, as after a night of use.
    t.store.checkpoint().unwrap();
    assert!(
        readable(&t.path(), &passphrase(), ALIAS).unwrap(),
        "the check must see the alias first"
    );

    let tombstone = t.store.erase_case(&case, &nick("Mira")).unwrap();
    assert_eq!(tombstone.erased_because, Some(ErasedBecause::Asked));
    assert_eq!(tombstone.outcome.as_deref(), Some("placed"));

    for needle in [ALIAS, PHONE, "CAES Arras"] {
        assert!(
            !readable(&t.path(), &passphrase(), needle).unwrap(),
            "{needle} still readable"
        );
    }
    assert!(matches!(
        t.store.case(&case),
        Err(StoreError::NoSuchCase(_))
    ));
    assert_eq!(
        t.store.case(&kept).unwrap().person.alias,
        "Other-Person-Kept"
    );
    assert_eq!(this_year(&t.store).cases, report.cases, "figures unchanged");
    assert_eq!(t.store.erased_cases().unwrap().len(), 1);
    // The shift's anonymous entry stays: it counted a request, not a person.
    assert_eq!(t.store.entries(&shift).unwrap().len(), 12);

    let index = t.store.index_dump().unwrap();
    t.store.rebuild_index().unwrap();
    assert_eq!(t.store.index_dump().unwrap(), index);
    assert!(t.store.case(&case).is_err());
}

#[test]
fn a_volunteer_may_not_erase_and_nothing_changes() {
    let mut t = calais();
    with_lead(&mut t);
    let shift = night_shift(&mut t.store);
    let case = shelter_case(&mut t.store, &shift, ALIAS, PHONE);
    let before = t.store.index_dump().unwrap();
    for who in ["Jo", "Stranger"] {
        let err = t.store.erase_case(&case, &nick(who)).unwrap_err();
        assert!(err.to_string().contains("only an active lead"), "{err}");
    }
    assert_eq!(t.store.index_dump().unwrap(), before);
    assert_eq!(t.store.case(&case).unwrap().person.alias, ALIAS);
}

#[test]
fn retention_erases_cases_closed_longer_than_the_period_and_no_other() {
    let mut t = calais();
    let shift = night_shift(&mut t.store);
    let closed = shelter_case(&mut t.store, &shift, ALIAS, PHONE);
    close(&mut t.store, &closed);
    let open = shelter_case(&mut t.store, &shift, "Still-Open-Case", "07 00 00 00 02");
    let now = Utc::now();
    assert!(
        t.store
            .apply_retention(now + Duration::days(29))
            .unwrap()
            .is_empty()
    );
    let erased = t.store.apply_retention(now + Duration::days(31)).unwrap();
    assert_eq!(erased, vec![closed]);
    assert!(t.store.case(&closed).is_err());
    assert!(t.store.case(&open).is_ok());
    let (_, tombstone) = &t.store.erased_cases().unwrap()[0];
    assert_eq!(tombstone.erased_because, Some(ErasedBecause::Retention));
    assert!(!readable(&t.path(), &passphrase(), ALIAS).unwrap());
    assert!(
        t.store
            .apply_retention(now + Duration::days(400))
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_tombstone_from_a_peer_erases_the_case_and_its_chunks_never_come_back() {
    let mut lead = calais();
    with_lead(&mut lead);
    let shift = night_shift(&mut lead.store);
    let case = shelter_case(&mut lead.store, &shift, ALIAS, PHONE);
    let old_chunks = puts_of(&lead.store);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("teammate.maraude");
    let mut teammate = Store::create_empty(
        &path,
        &passphrase(),
        lead.store.antenna_id(),
        DeviceId::new(),
    )
    .unwrap();
    teammate.apply_chunks(old_chunks.clone()).unwrap();
    assert_eq!(teammate.case(&case).unwrap().person.alias, ALIAS);

    lead.store.erase_case(&case, &nick("Mira")).unwrap();
    teammate.apply_chunks(puts_of(&lead.store)).unwrap();
    assert!(teammate.case(&case).is_err());
    assert!(!readable(&path, &passphrase(), ALIAS).unwrap());
    assert!(!readable(&path, &passphrase(), PHONE).unwrap());

    // A peer that has not heard sends the case again: dropped.
    teammate.apply_chunks(old_chunks).unwrap();
    assert!(teammate.case(&case).is_err());
    assert!(!readable(&path, &passphrase(), ALIAS).unwrap());
    assert_eq!(
        teammate.index_dump().unwrap(),
        lead.store.index_dump().unwrap()
    );
    assert!(
        !teammate
            .changed_for("server-x")
            .unwrap()
            .iter()
            .any(|d| *d == maraude_store::document_id(case.as_uuid())),
        "an erased case is not offered to anyone"
    );
}

/// A volunteer's tablet keeps a case it closed itself until it is erased,
/// but may no longer write to it: the server would refuse the change, so
/// the store refuses it first (an honest tablet never meets a refusal).
#[test]
fn a_volunteers_tablet_does_not_reopen_a_closed_case() {
    let mut t = calais();
    let shift = night_shift(&mut t.store);
    let open = shelter_case(&mut t.store, &shift, "Samir-B", PHONE);
    let closed = shelter_case(&mut t.store, &shift, ALIAS, PHONE);
    t.store
        .act_on_case(
            &closed,
            &nick("Jo"),
            CaseAction::Closed {
                outcome: Outcome::NoPlace,
            },
            Some(shift),
        )
        .unwrap();
    t.store
        .set_server_link(&maraude_store::ServerLink {
            url: "https://192.168.1.10:8470/".into(),
            role: "volunteer".into(),
            credential: secrecy::SecretString::from("credential".to_string()),
            certificate: None,
        })
        .unwrap();
    let reopen = CaseAction::Reopened {
        reason: "rappel du 115".into(),
    };
    let err = t
        .store
        .act_on_case(&closed, &nick("Jo"), reopen, Some(shift))
        .unwrap_err();
    assert_eq!(err.code(), "not_allowed");
    assert!(err.to_string().contains("closed case"), "{err}");
    assert!(!t.store.case(&closed).unwrap().status.is_open());
    // An open one is still the volunteer's to follow up.
    let note = CaseAction::Note {
        note: "rappeler demain".into(),
    };
    t.store
        .act_on_case(&open, &nick("Jo"), note, Some(shift))
        .unwrap();
}
