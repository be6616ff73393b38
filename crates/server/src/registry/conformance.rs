//! What every [`Registry`] must do, whatever keeps it: one function per
//! rule, run on each backend by [`registry_conformance!`] with a fresh,
//! empty registry each time:
//!
//! ```ignore
//! crate::registry::conformance::registry_conformance!(fresh().await);
//! ```
//!
//! where `fresh()` answers the registry and whatever must live as long as
//! it (a temporary folder, a test database); each rule is a test on a
//! multi-threaded runtime.

use chrono::Utc;
use maraude_core::Invalid;
use maraude_core::access::Role;
use uuid::Uuid;

use super::{Device, NewDevice, Registry, RegistryError};

/// An antenna registered in `registry`, and its first tablet.
pub struct Antenna<'a, R: Registry> {
    pub registry: &'a R,
    pub id: Uuid,
    pub coordinator: Device,
}

pub async fn registered<R: Registry>(registry: &R) -> Antenna<'_, R> {
    let (id, first) = (Uuid::new_v4(), Uuid::new_v4());
    registry
        .register_antenna(
            id,
            "Calais",
            NewDevice {
                id: first,
                name: "coordinator",
                credential_hash: &format!("credential-{first}"),
            },
        )
        .await
        .unwrap();
    let coordinator = registry
        .device_by_credential(&format!("credential-{first}"))
        .await
        .unwrap()
        .expect("the first tablet is enrolled with the antenna");
    Antenna {
        registry,
        id,
        coordinator,
    }
}

impl<R: Registry> Antenna<'_, R> {
    /// A code for `role` issued by `by`, as the server's handler adds it
    /// (rank checked there, or not by an older server).
    pub async fn code(&self, by: &Device, role: Role) -> String {
        let hash = format!("code-{}", Uuid::new_v4());
        let tomorrow = Utc::now() + chrono::Duration::days(1);
        self.registry
            .add_code(self.id, role, &hash, tomorrow, by.id)
            .await
            .unwrap();
        hash
    }

    pub async fn enrol(&self, code: &str) -> Result<Device, RegistryError> {
        self.enrol_as(code, Uuid::new_v4()).await
    }

    async fn enrol_as(&self, code: &str, id: Uuid) -> Result<Device, RegistryError> {
        self.registry
            .enrol(
                code,
                NewDevice {
                    id,
                    name: "tablet",
                    credential_hash: &format!("credential-{id}"),
                },
            )
            .await
    }

    pub async fn tablet(&self, role: Role) -> Device {
        let code = self.code(&self.coordinator, role).await;
        self.enrol(&code).await.unwrap()
    }
}

pub async fn registering_an_antenna_makes_its_first_tablet_its_coordinator(
    registry: &impl Registry,
) {
    let calais = registered(registry).await;
    assert_eq!(calais.coordinator.role, Role::Coordinator);
    assert_eq!(calais.coordinator.antenna, calais.id);
    assert!(calais.coordinator.revoked_at.is_none());
    assert_eq!(
        registry.antenna_name(calais.id).await.unwrap().as_deref(),
        Some("Calais")
    );
    assert_eq!(registry.antenna_name(Uuid::new_v4()).await.unwrap(), None);
    assert_eq!(registry.antennas().await.unwrap(), vec![calais.id]);
    let devices = registry.devices(calais.id).await.unwrap();
    assert_eq!(
        devices.iter().map(|d| d.id).collect::<Vec<_>>(),
        vec![calais.coordinator.id]
    );
    assert!(
        registry
            .device_by_credential("a credential nobody holds")
            .await
            .unwrap()
            .is_none()
    );
    let again = registry
        .register_antenna(
            calais.id,
            "Calais bis",
            NewDevice {
                id: Uuid::new_v4(),
                name: "another",
                credential_hash: "another credential",
            },
        )
        .await;
    assert!(matches!(again, Err(RegistryError::AntennaExists(_))));
    assert_eq!(
        registry.antenna_name(calais.id).await.unwrap().as_deref(),
        Some("Calais")
    );
}

pub async fn an_antenna_whose_first_tablet_is_taken_is_not_half_registered(
    registry: &impl Registry,
) {
    let calais = registered(registry).await;
    let dunkerque = Uuid::new_v4();
    let taken = registry
        .register_antenna(
            dunkerque,
            "Dunkerque",
            NewDevice {
                id: calais.coordinator.id,
                name: "the same tablet",
                credential_hash: "a new credential",
            },
        )
        .await;
    assert!(matches!(taken, Err(RegistryError::DeviceExists(_))));
    assert_eq!(registry.antennas().await.unwrap(), vec![calais.id]);
    assert_eq!(registry.antenna_name(dunkerque).await.unwrap(), None);
}

pub async fn a_code_enrols_one_tablet_once_before_it_expires(registry: &impl Registry) {
    let calais = registered(registry).await;
    let code = calais.code(&calais.coordinator, Role::Lead).await;
    let lead = calais.enrol(&code).await.unwrap();
    assert_eq!((lead.role, lead.antenna), (Role::Lead, calais.id));
    assert!(matches!(
        calais.enrol(&code).await,
        Err(RegistryError::BadCode)
    ));
    assert!(matches!(
        calais.enrol("code-nobody-issued").await,
        Err(RegistryError::BadCode)
    ));
    let expired = "code-expired";
    registry
        .add_code(
            calais.id,
            Role::Volunteer,
            expired,
            Utc::now() - chrono::Duration::seconds(1),
            calais.coordinator.id,
        )
        .await
        .unwrap();
    assert!(matches!(
        calais.enrol(expired).await,
        Err(RegistryError::BadCode)
    ));
    assert_eq!(registry.devices(calais.id).await.unwrap().len(), 2);
}

pub async fn a_code_refused_for_a_taken_tablet_id_is_not_spent(registry: &impl Registry) {
    let calais = registered(registry).await;
    let code = calais.code(&calais.coordinator, Role::Volunteer).await;
    let taken = calais.enrol_as(&code, calais.coordinator.id).await;
    assert!(matches!(taken, Err(RegistryError::DeviceExists(_))));
    assert_eq!(
        registry
            .device_by_credential(&format!("credential-{}", calais.coordinator.id))
            .await
            .unwrap()
            .map(|d| d.role),
        Some(Role::Coordinator),
        "the first tablet keeps its role"
    );
    assert_eq!(calais.enrol(&code).await.unwrap().role, Role::Volunteer);
}

pub async fn a_code_enrols_only_into_its_issuers_antenna(registry: &impl Registry) {
    let calais = registered(registry).await;
    let dunkerque = registered(registry).await;
    // A code for Calais, said to be issued by Dunkerque's coordinator.
    let forged = "code-forged";
    registry
        .add_code(
            calais.id,
            Role::Coordinator,
            forged,
            Utc::now() + chrono::Duration::days(1),
            dunkerque.coordinator.id,
        )
        .await
        .unwrap();
    assert!(matches!(
        calais.enrol(forged).await,
        Err(RegistryError::BadCode)
    ));
    assert_eq!(registry.devices(calais.id).await.unwrap().len(), 1);
    assert_eq!(registry.devices(dunkerque.id).await.unwrap().len(), 1);
}

pub async fn a_lead_revokes_a_volunteer_but_not_a_coordinator_nor_another_lead(
    registry: &impl Registry,
) {
    let calais = registered(registry).await;
    let lead = calais.tablet(Role::Lead).await;
    let other_lead = calais.tablet(Role::Lead).await;
    let volunteer = calais.tablet(Role::Volunteer).await;
    for target in [&calais.coordinator, &other_lead] {
        let refused = registry.revoke(&lead, target.id).await.unwrap_err();
        assert!(
            matches!(refused, RegistryError::Refused(Invalid::RankTooLow { .. })),
            "{refused}"
        );
    }
    assert!(registry.revoked(calais.id).await.unwrap().is_empty());
    let revoked = registry.revoke(&lead, volunteer.id).await.unwrap();
    assert!(revoked.revoked_at.is_some());
    // A volunteer revokes nobody.
    let volunteer = calais.tablet(Role::Volunteer).await;
    assert!(matches!(
        registry.revoke(&volunteer, lead.id).await,
        Err(RegistryError::Refused(Invalid::RankTooLow { .. }))
    ));
}

pub async fn the_antennas_last_coordinator_cannot_be_revoked_even_by_itself(
    registry: &impl Registry,
) {
    let calais = registered(registry).await;
    let first = calais.coordinator.clone();
    assert!(matches!(
        registry.revoke(&first, first.id).await,
        Err(RegistryError::Refused(Invalid::LastCoordinator))
    ));
    let second = calais.tablet(Role::Coordinator).await;
    // Two coordinators: either may go, the first by its own hand.
    registry.revoke(&second, first.id).await.unwrap();
    assert!(matches!(
        registry.revoke(&second, second.id).await,
        Err(RegistryError::Refused(Invalid::LastCoordinator))
    ));
    // Revoked meanwhile, the first one's late request cannot take the
    // last coordinator with it.
    assert!(matches!(
        registry.revoke(&first, second.id).await,
        Err(RegistryError::Refused(Invalid::LastCoordinator))
    ));
    assert_eq!(registry.revoked(calais.id).await.unwrap().len(), 1);
    // A device of another antenna is not found from this one.
    let other = registered(registry).await;
    assert!(matches!(
        registry.revoke(&second, other.coordinator.id).await,
        Err(RegistryError::NoSuchDevice(_))
    ));
}

/// The count of coordinators and the revocation are one transaction: two
/// coordinators revoking each other at the same moment leave one.
/// A tablet erased by its holder revokes itself, whatever its rank: it
/// gives up only its own access. Not the antenna's last coordinator.
pub async fn any_tablet_withdraws_itself_but_the_last_coordinator(registry: &impl Registry) {
    let calais = registered(registry).await;
    for role in [Role::Volunteer, Role::Lead] {
        let tablet = calais.tablet(role).await;
        let withdrawn = registry.revoke(&tablet, tablet.id).await.unwrap();
        assert!(withdrawn.revoked_at.is_some(), "{role}");
    }
    let first = calais.coordinator.clone();
    assert!(matches!(
        registry.revoke(&first, first.id).await,
        Err(RegistryError::Refused(Invalid::LastCoordinator))
    ));
    let second = calais.tablet(Role::Coordinator).await;
    assert!(
        registry
            .revoke(&second, second.id)
            .await
            .unwrap()
            .revoked_at
            .is_some()
    );
    assert_eq!(registry.revoked(calais.id).await.unwrap().len(), 3);
}

pub async fn two_coordinators_revoking_each_other_at_once_leave_one(registry: &impl Registry) {
    for _ in 0..20 {
        let calais = registered(registry).await;
        let first = calais.coordinator.clone();
        let second = calais.tablet(Role::Coordinator).await;
        // Both on the way at once: a backend with connections of its own
        // (PostgreSQL) runs them in two transactions side by side.
        let (a, b) = tokio::join!(
            registry.revoke(&first, second.id),
            registry.revoke(&second, first.id)
        );
        assert_eq!(
            usize::from(a.is_ok()) + usize::from(b.is_ok()),
            1,
            "{a:?} {b:?}"
        );
        let active = registry
            .devices(calais.id)
            .await
            .unwrap()
            .into_iter()
            .filter(|d| d.role == Role::Coordinator && d.revoked_at.is_none())
            .count();
        assert_eq!(active, 1);
    }
}

pub async fn an_unused_code_dies_with_the_tablet_that_issued_it(registry: &impl Registry) {
    let calais = registered(registry).await;
    let lead = calais.tablet(Role::Lead).await;
    let issued = calais.code(&lead, Role::Volunteer).await;
    let spent = calais.code(&lead, Role::Volunteer).await;
    calais.enrol(&spent).await.unwrap();
    registry.revoke(&calais.coordinator, lead.id).await.unwrap();
    assert!(matches!(
        calais.enrol(&issued).await,
        Err(RegistryError::IssuerRevoked)
    ));
    // Still unused: it would enrol nothing later either.
    assert!(matches!(
        calais.enrol(&issued).await,
        Err(RegistryError::IssuerRevoked)
    ));
    // A lead's code for a lead, as an older server issued them, enrols
    // nobody.
    let lead = calais.tablet(Role::Lead).await;
    let too_high = calais.code(&lead, Role::Lead).await;
    assert!(matches!(
        calais.enrol(&too_high).await,
        Err(RegistryError::IssuerOutranked(Invalid::RankTooLow { .. }))
    ));
    assert_eq!(
        calais
            .enrol(&calais.code(&lead, Role::Volunteer).await)
            .await
            .unwrap()
            .role,
        Role::Volunteer
    );
}

pub async fn a_revoked_tablet_is_still_known_by_its_credential_and_listed_once(
    registry: &impl Registry,
) {
    let calais = registered(registry).await;
    let dunkerque = registered(registry).await;
    let volunteer = calais.tablet(Role::Volunteer).await;
    let first = registry
        .revoke(&calais.coordinator, volunteer.id)
        .await
        .unwrap();
    let at = first.revoked_at.expect("revoked");
    // Revoking twice keeps the first time.
    let again = registry
        .revoke(&calais.coordinator, volunteer.id)
        .await
        .unwrap();
    assert_eq!(again.revoked_at, Some(at));
    assert_eq!(
        registry.revoked(calais.id).await.unwrap(),
        vec![(volunteer.id, at)]
    );
    assert!(registry.revoked(dunkerque.id).await.unwrap().is_empty());
    // The server tells a revoked tablet so by its credential.
    let known = registry
        .device_by_credential(&format!("credential-{}", volunteer.id))
        .await
        .unwrap()
        .expect("a revoked tablet stays known");
    assert_eq!(known.revoked_at, Some(at));
    assert!(
        registry
            .devices(dunkerque.id)
            .await
            .unwrap()
            .iter()
            .all(|d| d.id != volunteer.id)
    );
}

/// A restored registry takes back from the antenna's revocation list the
/// revocations it lost: a device it knows is revoked as of the list's
/// time, one it never enrolled is recorded as revoked, one revoked
/// already keeps its time, and another antenna is left alone.
pub async fn a_revocation_list_taken_back_revokes_known_and_unknown_tablets(
    registry: &impl Registry,
) {
    let calais = registered(registry).await;
    let dunkerque = registered(registry).await;
    let lost = calais.tablet(Role::Volunteer).await;
    let gone = calais.tablet(Role::Volunteer).await;
    let lead = calais.tablet(Role::Lead).await;
    let first = registry.revoke(&lead, gone.id).await.unwrap();
    let never_enrolled = Uuid::new_v4();
    let when = super::to_the_microsecond(Utc::now() - chrono::Duration::hours(3));
    let listed = [(lost.id, when), (gone.id, when), (never_enrolled, when)];
    let taken = registry.take_revocations(calais.id, &listed).await.unwrap();
    assert_eq!(taken, vec![lost.id, never_enrolled]);
    let revoked = registry.revoked(calais.id).await.unwrap();
    assert_eq!(revoked.len(), 3, "{revoked:?}");
    assert!(revoked.contains(&(lost.id, when)));
    assert!(revoked.contains(&(gone.id, first.revoked_at.unwrap())));
    assert!(revoked.contains(&(never_enrolled, when)));
    let unknown = registry.devices(calais.id).await.unwrap();
    let unknown = unknown.iter().find(|d| d.id == never_enrolled).unwrap();
    assert_eq!(
        (unknown.name.as_str(), unknown.role),
        (super::UNKNOWN_REVOKED, Role::Volunteer)
    );
    // Its credential is no credential: nothing authenticates as it.
    assert!(
        registry
            .device_by_credential(&format!("credential-{never_enrolled}"))
            .await
            .unwrap()
            .is_none()
    );
    // The lost tablet's credential now says revoked.
    let known = registry
        .device_by_credential(&format!("credential-{}", lost.id))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(known.revoked_at, Some(when));
    // Taken twice, nothing more; another antenna's registry is untouched.
    assert!(
        registry
            .take_revocations(calais.id, &listed)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(registry.revoked(dunkerque.id).await.unwrap().is_empty());
    // A device of Calais named in a list for Dunkerque stays as it is.
    assert!(
        registry
            .take_revocations(dunkerque.id, &[(lead.id, when)])
            .await
            .unwrap()
            .is_empty()
    );
    assert!(registry.revoked(dunkerque.id).await.unwrap().is_empty());
    assert_eq!(
        registry
            .device_by_credential(&format!("credential-{}", lead.id))
            .await
            .unwrap()
            .unwrap()
            .revoked_at,
        None
    );
}

pub async fn a_sync_is_recorded_on_its_tablet_only(registry: &impl Registry) {
    let calais = registered(registry).await;
    let volunteer = calais.tablet(Role::Volunteer).await;
    let before = Utc::now() - chrono::Duration::seconds(1);
    let at = registry.synced(volunteer.id).await.unwrap();
    let devices = registry.devices(calais.id).await.unwrap();
    let synced = |id| devices.iter().find(|d| d.id == id).unwrap().last_sync;
    assert!(at >= before);
    // The time answered is the time kept, to the last digit: the tablet
    // gives it back, and a restored server compares the two.
    assert_eq!(synced(volunteer.id), Some(at));
    assert_eq!(synced(calais.coordinator.id), None);
}

pub async fn an_antennas_first_authority_key_is_kept_for_good(registry: &impl Registry) {
    let calais = registered(registry).await;
    let dunkerque = registered(registry).await;
    assert_eq!(
        registry.authority_key(calais.id, b"first").await.unwrap(),
        b"first"
    );
    assert_eq!(
        registry.authority_key(calais.id, b"second").await.unwrap(),
        b"first"
    );
    assert_eq!(
        registry
            .authority_key(dunkerque.id, b"its own")
            .await
            .unwrap(),
        b"its own"
    );
}

/// A registry exported imports whole into another, empty one (the same
/// backend or the other: a backup, a move); into one that has its
/// antennas it is refused, and nothing changes.
pub async fn an_exported_registry_imports_whole_into_an_empty_one(
    registry: &impl Registry,
    empty: &impl Registry,
) {
    let calais = registered(registry).await;
    let lead = calais.tablet(Role::Lead).await;
    let gone = calais.tablet(Role::Volunteer).await;
    registry.revoke(&lead, gone.id).await.unwrap();
    registry.synced(lead.id).await.unwrap();
    let unused = calais.code(&lead, Role::Volunteer).await;
    registry.authority_key(calais.id, b"the key").await.unwrap();
    let exported = registry.export().await.unwrap();
    assert_eq!(exported.len(), 1);
    assert_eq!(exported[0].devices.len(), 3);
    assert_eq!(exported[0].authority_key, b"the key");

    assert!(matches!(
        registry.import(&exported).await,
        Err(RegistryError::AntennaExists(_))
    ));
    assert_eq!(registry.devices(calais.id).await.unwrap().len(), 3);

    empty.import(&exported).await.unwrap();
    assert_eq!(empty.export().await.unwrap(), exported);
    let moved = empty
        .device_by_credential(&format!("credential-{}", lead.id))
        .await
        .unwrap()
        .expect("a tablet's credential works after the move");
    assert_eq!((moved.role, moved.last_sync.is_some()), (Role::Lead, true));
    assert_eq!(empty.revoked(calais.id).await.unwrap().len(), 1);
    assert_eq!(
        empty.authority_key(calais.id, b"another").await.unwrap(),
        b"the key"
    );
    let antenna = Antenna {
        registry: empty,
        id: calais.id,
        coordinator: calais.coordinator.clone(),
    };
    assert_eq!(antenna.enrol(&unused).await.unwrap().role, Role::Volunteer);
}

/// One `#[test]` per rule above, on the registry `$fresh` makes.
macro_rules! registry_conformance {
    ($fresh:expr) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn an_exported_registry_imports_whole_into_an_empty_one() {
            let (registry, _keep) = $fresh;
            let (empty, _keep_too) = $fresh;
            $crate::registry::conformance::an_exported_registry_imports_whole_into_an_empty_one(
                &registry, &empty,
            )
            .await;
        }
        $crate::registry::conformance::each_rule!(
            $fresh;
            registering_an_antenna_makes_its_first_tablet_its_coordinator,
            an_antenna_whose_first_tablet_is_taken_is_not_half_registered,
            a_code_enrols_one_tablet_once_before_it_expires,
            a_code_refused_for_a_taken_tablet_id_is_not_spent,
            a_code_enrols_only_into_its_issuers_antenna,
            a_lead_revokes_a_volunteer_but_not_a_coordinator_nor_another_lead,
            the_antennas_last_coordinator_cannot_be_revoked_even_by_itself,
            any_tablet_withdraws_itself_but_the_last_coordinator,
            two_coordinators_revoking_each_other_at_once_leave_one,
            an_unused_code_dies_with_the_tablet_that_issued_it,
            a_revoked_tablet_is_still_known_by_its_credential_and_listed_once,
            a_revocation_list_taken_back_revokes_known_and_unknown_tablets,
            a_sync_is_recorded_on_its_tablet_only,
            an_antennas_first_authority_key_is_kept_for_good,
        );
    };
}

macro_rules! each_rule {
    ($fresh:expr; $($rule:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $rule() {
                let (registry, _keep) = $fresh;
                $crate::registry::conformance::$rule(&registry).await;
            }
        )*
    };
}

pub(crate) use {each_rule, registry_conformance};
