//! What every [`Registry`] must do, whatever keeps it: one function per
//! rule, run on each backend by [`registry_conformance!`] with a fresh,
//! empty registry each time:
//!
//! ```ignore
//! crate::registry::conformance::registry_conformance!(fresh());
//! ```
//!
//! where `fresh()` answers the registry and whatever must live as long as
//! it (a temporary folder, a test database).

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

pub fn registered<R: Registry>(registry: &R) -> Antenna<'_, R> {
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
        .unwrap();
    let coordinator = registry
        .device_by_credential(&format!("credential-{first}"))
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
    pub fn code(&self, by: &Device, role: Role) -> String {
        let hash = format!("code-{}", Uuid::new_v4());
        let tomorrow = Utc::now() + chrono::Duration::days(1);
        self.registry
            .add_code(self.id, role, &hash, tomorrow, by.id)
            .unwrap();
        hash
    }

    pub fn enrol(&self, code: &str) -> Result<Device, RegistryError> {
        self.enrol_as(code, Uuid::new_v4())
    }

    fn enrol_as(&self, code: &str, id: Uuid) -> Result<Device, RegistryError> {
        self.registry.enrol(
            code,
            NewDevice {
                id,
                name: "tablet",
                credential_hash: &format!("credential-{id}"),
            },
        )
    }

    pub fn tablet(&self, role: Role) -> Device {
        self.enrol(&self.code(&self.coordinator, role)).unwrap()
    }
}

pub fn registering_an_antenna_makes_its_first_tablet_its_coordinator(registry: &impl Registry) {
    let calais = registered(registry);
    assert_eq!(calais.coordinator.role, Role::Coordinator);
    assert_eq!(calais.coordinator.antenna, calais.id);
    assert!(calais.coordinator.revoked_at.is_none());
    assert_eq!(
        registry.antenna_name(calais.id).unwrap().as_deref(),
        Some("Calais")
    );
    assert_eq!(registry.antenna_name(Uuid::new_v4()).unwrap(), None);
    assert_eq!(registry.antennas().unwrap(), vec![calais.id]);
    let devices = registry.devices(calais.id).unwrap();
    assert_eq!(
        devices.iter().map(|d| d.id).collect::<Vec<_>>(),
        vec![calais.coordinator.id]
    );
    assert!(
        registry
            .device_by_credential("a credential nobody holds")
            .unwrap()
            .is_none()
    );
    let again = registry.register_antenna(
        calais.id,
        "Calais bis",
        NewDevice {
            id: Uuid::new_v4(),
            name: "another",
            credential_hash: "another credential",
        },
    );
    assert!(matches!(again, Err(RegistryError::AntennaExists(_))));
    assert_eq!(
        registry.antenna_name(calais.id).unwrap().as_deref(),
        Some("Calais")
    );
}

pub fn an_antenna_whose_first_tablet_is_taken_is_not_half_registered(registry: &impl Registry) {
    let calais = registered(registry);
    let dunkerque = Uuid::new_v4();
    let taken = registry.register_antenna(
        dunkerque,
        "Dunkerque",
        NewDevice {
            id: calais.coordinator.id,
            name: "the same tablet",
            credential_hash: "a new credential",
        },
    );
    assert!(matches!(taken, Err(RegistryError::DeviceExists(_))));
    assert_eq!(registry.antennas().unwrap(), vec![calais.id]);
    assert_eq!(registry.antenna_name(dunkerque).unwrap(), None);
}

pub fn a_code_enrols_one_tablet_once_before_it_expires(registry: &impl Registry) {
    let calais = registered(registry);
    let code = calais.code(&calais.coordinator, Role::Lead);
    let lead = calais.enrol(&code).unwrap();
    assert_eq!((lead.role, lead.antenna), (Role::Lead, calais.id));
    assert!(matches!(calais.enrol(&code), Err(RegistryError::BadCode)));
    assert!(matches!(
        calais.enrol("code-nobody-issued"),
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
        .unwrap();
    assert!(matches!(calais.enrol(expired), Err(RegistryError::BadCode)));
    assert_eq!(registry.devices(calais.id).unwrap().len(), 2);
}

pub fn a_code_refused_for_a_taken_tablet_id_is_not_spent(registry: &impl Registry) {
    let calais = registered(registry);
    let code = calais.code(&calais.coordinator, Role::Volunteer);
    let taken = calais.enrol_as(&code, calais.coordinator.id);
    assert!(matches!(taken, Err(RegistryError::DeviceExists(_))));
    assert_eq!(
        registry
            .device_by_credential(&format!("credential-{}", calais.coordinator.id))
            .unwrap()
            .map(|d| d.role),
        Some(Role::Coordinator),
        "the first tablet keeps its role"
    );
    assert_eq!(calais.enrol(&code).unwrap().role, Role::Volunteer);
}

pub fn a_code_enrols_only_into_its_issuers_antenna(registry: &impl Registry) {
    let calais = registered(registry);
    let dunkerque = registered(registry);
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
        .unwrap();
    assert!(matches!(calais.enrol(forged), Err(RegistryError::BadCode)));
    assert_eq!(registry.devices(calais.id).unwrap().len(), 1);
    assert_eq!(registry.devices(dunkerque.id).unwrap().len(), 1);
}

pub fn a_lead_revokes_a_volunteer_but_not_a_coordinator_nor_another_lead(registry: &impl Registry) {
    let calais = registered(registry);
    let lead = calais.tablet(Role::Lead);
    let other_lead = calais.tablet(Role::Lead);
    let volunteer = calais.tablet(Role::Volunteer);
    for target in [&calais.coordinator, &other_lead] {
        let refused = registry.revoke(&lead, target.id).unwrap_err();
        assert!(
            matches!(refused, RegistryError::Refused(Invalid::RankTooLow { .. })),
            "{refused}"
        );
    }
    assert!(registry.revoked(calais.id).unwrap().is_empty());
    let revoked = registry.revoke(&lead, volunteer.id).unwrap();
    assert!(revoked.revoked_at.is_some());
    // A volunteer revokes nobody.
    let volunteer = calais.tablet(Role::Volunteer);
    assert!(matches!(
        registry.revoke(&volunteer, lead.id),
        Err(RegistryError::Refused(Invalid::RankTooLow { .. }))
    ));
}

pub fn the_antennas_last_coordinator_cannot_be_revoked_even_by_itself(registry: &impl Registry) {
    let calais = registered(registry);
    let first = calais.coordinator.clone();
    assert!(matches!(
        registry.revoke(&first, first.id),
        Err(RegistryError::Refused(Invalid::LastCoordinator))
    ));
    let second = calais.tablet(Role::Coordinator);
    // Two coordinators: either may go, the first by its own hand.
    registry.revoke(&second, first.id).unwrap();
    assert!(matches!(
        registry.revoke(&second, second.id),
        Err(RegistryError::Refused(Invalid::LastCoordinator))
    ));
    // Revoked meanwhile, the first one's late request cannot take the
    // last coordinator with it.
    assert!(matches!(
        registry.revoke(&first, second.id),
        Err(RegistryError::Refused(Invalid::LastCoordinator))
    ));
    assert_eq!(registry.revoked(calais.id).unwrap().len(), 1);
    // A device of another antenna is not found from this one.
    let other = registered(registry);
    assert!(matches!(
        registry.revoke(&second, other.coordinator.id),
        Err(RegistryError::NoSuchDevice(_))
    ));
}

/// The count of coordinators and the revocation are one transaction: two
/// coordinators revoking each other at the same moment leave one.
/// A tablet erased by its holder revokes itself, whatever its rank: it
/// gives up only its own access. Not the antenna's last coordinator.
pub fn any_tablet_withdraws_itself_but_the_last_coordinator(registry: &impl Registry) {
    let calais = registered(registry);
    for role in [Role::Volunteer, Role::Lead] {
        let tablet = calais.tablet(role);
        let withdrawn = registry.revoke(&tablet, tablet.id).unwrap();
        assert!(withdrawn.revoked_at.is_some(), "{role}");
    }
    let first = calais.coordinator.clone();
    assert!(matches!(
        registry.revoke(&first, first.id),
        Err(RegistryError::Refused(Invalid::LastCoordinator))
    ));
    let second = calais.tablet(Role::Coordinator);
    assert!(
        registry
            .revoke(&second, second.id)
            .unwrap()
            .revoked_at
            .is_some()
    );
    assert_eq!(registry.revoked(calais.id).unwrap().len(), 3);
}

pub fn two_coordinators_revoking_each_other_at_once_leave_one(registry: &impl Registry) {
    for _ in 0..20 {
        let calais = registered(registry);
        let first = calais.coordinator.clone();
        let second = calais.tablet(Role::Coordinator);
        let start = std::sync::Barrier::new(2);
        let (a, b) = std::thread::scope(|s| {
            let a = s.spawn(|| {
                start.wait();
                registry.revoke(&first, second.id)
            });
            let b = s.spawn(|| {
                start.wait();
                registry.revoke(&second, first.id)
            });
            (a.join().unwrap(), b.join().unwrap())
        });
        assert_eq!(
            usize::from(a.is_ok()) + usize::from(b.is_ok()),
            1,
            "{a:?} {b:?}"
        );
        let active = registry
            .devices(calais.id)
            .unwrap()
            .into_iter()
            .filter(|d| d.role == Role::Coordinator && d.revoked_at.is_none())
            .count();
        assert_eq!(active, 1);
    }
}

pub fn an_unused_code_dies_with_the_tablet_that_issued_it(registry: &impl Registry) {
    let calais = registered(registry);
    let lead = calais.tablet(Role::Lead);
    let issued = calais.code(&lead, Role::Volunteer);
    let spent = calais.code(&lead, Role::Volunteer);
    calais.enrol(&spent).unwrap();
    registry.revoke(&calais.coordinator, lead.id).unwrap();
    assert!(matches!(
        calais.enrol(&issued),
        Err(RegistryError::IssuerRevoked)
    ));
    // Still unused: it would enrol nothing later either.
    assert!(matches!(
        calais.enrol(&issued),
        Err(RegistryError::IssuerRevoked)
    ));
    // A lead's code for a lead, as an older server issued them, enrols
    // nobody.
    let lead = calais.tablet(Role::Lead);
    let too_high = calais.code(&lead, Role::Lead);
    assert!(matches!(
        calais.enrol(&too_high),
        Err(RegistryError::IssuerOutranked(Invalid::RankTooLow { .. }))
    ));
    assert_eq!(
        calais
            .enrol(&calais.code(&lead, Role::Volunteer))
            .unwrap()
            .role,
        Role::Volunteer
    );
}

pub fn a_revoked_tablet_is_still_known_by_its_credential_and_listed_once(registry: &impl Registry) {
    let calais = registered(registry);
    let dunkerque = registered(registry);
    let volunteer = calais.tablet(Role::Volunteer);
    let first = registry.revoke(&calais.coordinator, volunteer.id).unwrap();
    let at = first.revoked_at.expect("revoked");
    // Revoking twice keeps the first time.
    let again = registry.revoke(&calais.coordinator, volunteer.id).unwrap();
    assert_eq!(again.revoked_at, Some(at));
    assert_eq!(
        registry.revoked(calais.id).unwrap(),
        vec![(volunteer.id, at)]
    );
    assert!(registry.revoked(dunkerque.id).unwrap().is_empty());
    // The server tells a revoked tablet so by its credential.
    let known = registry
        .device_by_credential(&format!("credential-{}", volunteer.id))
        .unwrap()
        .expect("a revoked tablet stays known");
    assert_eq!(known.revoked_at, Some(at));
    assert!(
        registry
            .devices(dunkerque.id)
            .unwrap()
            .iter()
            .all(|d| d.id != volunteer.id)
    );
}

pub fn a_sync_is_recorded_on_its_tablet_only(registry: &impl Registry) {
    let calais = registered(registry);
    let volunteer = calais.tablet(Role::Volunteer);
    let before = Utc::now() - chrono::Duration::seconds(1);
    registry.synced(volunteer.id).unwrap();
    let devices = registry.devices(calais.id).unwrap();
    let synced = |id| devices.iter().find(|d| d.id == id).unwrap().last_sync;
    assert!(synced(volunteer.id).is_some_and(|at| at >= before));
    assert_eq!(synced(calais.coordinator.id), None);
}

pub fn an_antennas_first_authority_key_is_kept_for_good(registry: &impl Registry) {
    let calais = registered(registry);
    let dunkerque = registered(registry);
    assert_eq!(
        registry.authority_key(calais.id, b"first").unwrap(),
        b"first"
    );
    assert_eq!(
        registry.authority_key(calais.id, b"second").unwrap(),
        b"first"
    );
    assert_eq!(
        registry.authority_key(dunkerque.id, b"its own").unwrap(),
        b"its own"
    );
}

/// One `#[test]` per rule above, on the registry `$fresh` makes.
macro_rules! registry_conformance {
    ($fresh:expr) => {
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
            a_sync_is_recorded_on_its_tablet_only,
            an_antennas_first_authority_key_is_kept_for_good,
        );
    };
}

macro_rules! each_rule {
    ($fresh:expr; $($rule:ident),* $(,)?) => {
        $(
            #[test]
            fn $rule() {
                let (registry, _keep) = $fresh;
                $crate::registry::conformance::$rule(&registry);
            }
        )*
    };
}

pub(crate) use {each_rule, registry_conformance};
