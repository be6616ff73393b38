//! What a sync decides, apart from the awaits that carry it out: who is on
//! the other side, which revocation list wins, which documents travel, and
//! what both sides record at the end. Pure functions: the rules of a sync
//! are tested here without a network or a store.

use std::collections::{BTreeMap, BTreeSet};

use automerge::ChangeHash;
use maraude_core::access::{self, Role, Subject};
use maraude_core::authority;
use maraude_protocol::api::{self, Acked};
use maraude_protocol::identity::{self, Teammate};
use maraude_store::DocumentId;
use uuid::Uuid;

use super::SyncSummary;
use super::remote::Kind;

/// Who this device syncs with: its peer id in the sync protocol, and the
/// role its certificate gives it (`None` for the server, which applies the
/// antenna's rules itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct OtherSide {
    pub peer: String,
    pub role: Option<Role>,
}

/// The server is who it says (its address was typed, and over HTTPS its
/// certificate checked); a tablet is who the certificate it showed in the
/// handshake says, and must be another tablet of this antenna. `Err` says
/// why a tablet is not a teammate.
pub(super) fn other_side(
    kind: Kind,
    server_peer: &str,
    certificate: Option<Teammate>,
    antenna: Uuid,
    device: Uuid,
) -> Result<OtherSide, &'static str> {
    match (kind, certificate) {
        (Kind::Server, _) => Ok(OtherSide {
            peer: server_peer.to_string(),
            role: None,
        }),
        (Kind::Teammate, None) => Err("it showed no certificate of a Maraude tablet"),
        (Kind::Teammate, Some(t)) if t.antenna != antenna => {
            Err("its certificate names another antenna")
        }
        (Kind::Teammate, Some(t)) if t.device == device => {
            Err("it is this very tablet, serving from another app")
        }
        (Kind::Teammate, Some(t)) => Ok(OtherSide {
            peer: api::device_peer(&t.device),
            role: Some(t.role),
        }),
    }
}

/// What to do with two tablets' revocation lists, each already checked as
/// signed by the antenna's authority (an unchecked list counts as naming
/// nobody). Revocations are never undone, so the list that names more
/// devices, all those of the other included, is the newer one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Revocations {
    /// The teammate's names more: keep it here.
    KeepTheirs,
    /// Ours names more: send it to the teammate.
    SendOurs,
    /// The same list, or two that each name someone the other does not
    /// (two leads revoked a tablet each): each keeps its own until one
    /// syncs with the server, whose list names both.
    KeepBoth,
}

pub(super) fn revocations(ours: &BTreeSet<Vec<u8>>, theirs: &BTreeSet<Vec<u8>>) -> Revocations {
    if identity::names_more(theirs, ours) {
        Revocations::KeepTheirs
    } else if identity::names_more(ours, theirs) {
        Revocations::SendOurs
    } else {
        Revocations::KeepBoth
    }
}

/// Whether the server's revocation list replaces ours: it is the
/// antenna's own, unless it misses a device ours names. Revocations are
/// never undone, so such a list comes from a server restored from an
/// older backup, and dropping ours would let the revoked tablet back in
/// among its teammates.
pub(super) fn keep_servers(ours: &BTreeSet<Vec<u8>>, servers: &BTreeSet<Vec<u8>>) -> bool {
    servers.is_superset(ours)
}

/// Whether a document may travel to or from the other side. The server
/// applies the antenna's rules itself: everything goes. A teammate gets
/// only what its certified role may receive, and is sent nothing of the
/// antenna document, which travels only through the server; a document
/// this side does not hold (`Unknown`) may only be received, and what is
/// received is checked by the door.
pub(super) fn travels(other: Option<Role>, subject: Subject, today: chrono::NaiveDate) -> bool {
    match other {
        None => true,
        Some(role) => {
            authority::travels_between_teammates(subject)
                && (subject == Subject::Unknown || access::may_receive(role, subject, today))
        }
    }
}

/// The documents a sync is about.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct Documents {
    /// Changed here since the other side last had them: what is sent.
    pub ours: Vec<DocumentId>,
    /// Those and the ones the other side lists as changed there, each once.
    pub wanted: BTreeSet<DocumentId>,
}

/// Both sides' changed documents, less those that may not travel (see
/// [`travels`]): whatever the other side lists, it gets nothing its role
/// may not receive.
pub(super) fn documents<E>(
    changed_here: Vec<DocumentId>,
    listed_there: Vec<DocumentId>,
    mut may_travel: impl FnMut(&DocumentId) -> Result<bool, E>,
) -> Result<Documents, E> {
    let mut plan = Documents::default();
    for doc in changed_here {
        if may_travel(&doc)? {
            plan.wanted.insert(doc.clone());
            plan.ours.push(doc);
        }
    }
    for doc in listed_there {
        if may_travel(&doc)? {
            plan.wanted.insert(doc);
        }
    }
    Ok(plan)
}

/// A document brought into sync both ways.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct SyncedDoc {
    pub id: DocumentId,
    /// The heads both sides now hold.
    pub heads: Vec<ChangeHash>,
    /// Changes that came from the other side.
    pub received: usize,
}

/// What both sides record once every wanted document is in sync: the
/// heads now shared, as sent to the other side and as kept here.
pub(super) fn acknowledgement(synced: &[SyncedDoc]) -> (Acked, Vec<(DocumentId, Vec<ChangeHash>)>) {
    let shared: Vec<(DocumentId, Vec<ChangeHash>)> = synced
        .iter()
        .map(|d| (d.id.clone(), d.heads.clone()))
        .collect();
    let acked = Acked {
        documents: shared
            .iter()
            .map(|(id, heads)| {
                (
                    id.to_string(),
                    heads.iter().map(|h| h.to_string()).collect(),
                )
            })
            .collect::<BTreeMap<_, _>>(),
    };
    (acked, shared)
}

/// The documents that came back changed, and their changes, counted into
/// the summary.
pub(super) fn count_received(summary: &mut SyncSummary, synced: &[SyncedDoc]) {
    for doc in synced.iter().filter(|d| d.received > 0) {
        summary.documents_received += 1;
        summary.changes_received += doc.received;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn doc(n: u8) -> DocumentId {
        // A document id is 16 bytes, written in bs58 by samod.
        let bytes = [n; 16];
        samod::DocumentId::try_from(bytes.to_vec()).unwrap()
    }

    const ANTENNA: Uuid = Uuid::from_u128(1);
    const THIS_TABLET: Uuid = Uuid::from_u128(2);
    const OTHER_TABLET: Uuid = Uuid::from_u128(3);

    fn certificate(antenna: Uuid, device: Uuid, role: Role) -> Option<Teammate> {
        Some(Teammate {
            antenna,
            device,
            role,
            name: None,
        })
    }

    #[test]
    fn a_teammate_is_whom_its_certificate_names_never_whom_it_says() {
        let side = |kind, cert| other_side(kind, "server-peer", cert, ANTENNA, THIS_TABLET);
        let lead = side(
            Kind::Teammate,
            certificate(ANTENNA, OTHER_TABLET, Role::Lead),
        );
        assert_eq!(
            lead,
            Ok(OtherSide {
                peer: api::device_peer(&OTHER_TABLET),
                role: Some(Role::Lead),
            })
        );
        let foreign = side(
            Kind::Teammate,
            certificate(Uuid::from_u128(9), OTHER_TABLET, Role::Coordinator),
        );
        assert_eq!(foreign, Err("its certificate names another antenna"));
        let itself = side(
            Kind::Teammate,
            certificate(ANTENNA, THIS_TABLET, Role::Volunteer),
        );
        assert!(itself.unwrap_err().contains("this very tablet"));
        assert!(side(Kind::Teammate, None).is_err());
        // The server's role is never taken from a certificate.
        let server = side(
            Kind::Server,
            certificate(ANTENNA, OTHER_TABLET, Role::Volunteer),
        );
        assert_eq!(
            server,
            Ok(OtherSide {
                peer: "server-peer".into(),
                role: None,
            })
        );
    }

    #[test]
    fn the_revocation_list_naming_more_wins_and_two_different_lists_stay() {
        let list =
            |serials: &[u8]| -> BTreeSet<Vec<u8>> { serials.iter().map(|s| vec![*s]).collect() };
        assert_eq!(
            revocations(&list(&[1]), &list(&[1, 2])),
            Revocations::KeepTheirs
        );
        assert_eq!(
            revocations(&list(&[1, 2]), &list(&[1])),
            Revocations::SendOurs
        );
        assert_eq!(
            revocations(&list(&[]), &list(&[4])),
            Revocations::KeepTheirs
        );
        assert_eq!(revocations(&list(&[1]), &list(&[1])), Revocations::KeepBoth);
        // Neither includes the other: a teammate cannot un-revoke a tablet
        // by sending a longer list that leaves one out.
        assert_eq!(
            revocations(&list(&[1]), &list(&[2, 3])),
            Revocations::KeepBoth
        );
        assert_eq!(revocations(&list(&[]), &list(&[])), Revocations::KeepBoth);
        // The server's list is kept unless it misses one of ours (a server
        // restored from an older backup).
        assert!(keep_servers(&list(&[1]), &list(&[1, 2])));
        assert!(keep_servers(&list(&[]), &list(&[])));
        assert!(!keep_servers(&list(&[1, 2]), &list(&[1])));
        assert!(!keep_servers(&list(&[1]), &list(&[2, 3])));
    }

    #[test]
    fn a_volunteers_tablet_is_sent_the_nights_shifts_only_and_never_the_antenna() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 5).unwrap();
        let shift = |day| Subject::Shift {
            date: NaiveDate::from_ymd_opt(2026, 12, day).unwrap(),
            open: false,
        };
        let volunteer = Some(Role::Volunteer);
        assert!(travels(volunteer, shift(5), today));
        assert!(!travels(volunteer, shift(1), today));
        assert!(!travels(volunteer, Subject::Antenna, today));
        assert!(!travels(Some(Role::Coordinator), Subject::Antenna, today));
        assert!(!travels(Some(Role::Lead), Subject::Erased, today));
        // Not held here: it may be received (the door checks it).
        assert!(travels(volunteer, Subject::Unknown, today));
        // The server applies the rules itself.
        assert!(travels(None, Subject::Antenna, today));
        assert!(travels(None, shift(1), today));
    }

    #[test]
    fn each_document_is_asked_once_and_only_ours_count_as_sent() {
        let plan = documents(
            vec![doc(1), doc(2), doc(3)],
            vec![doc(2), doc(4), doc(5)],
            |d| Ok::<_, ()>(*d != doc(3) && *d != doc(5)),
        )
        .unwrap();
        assert_eq!(plan.ours, vec![doc(1), doc(2)]);
        assert_eq!(plan.wanted, BTreeSet::from([doc(1), doc(2), doc(4)]));
        let failed = documents(vec![doc(1)], vec![], |_| Err("store"));
        assert_eq!(failed, Err("store"));
    }

    #[test]
    fn what_is_acknowledged_is_every_synced_documents_shared_heads() {
        let head = |n: u8| ChangeHash([n; 32]);
        let synced = vec![
            SyncedDoc {
                id: doc(1),
                heads: vec![head(7)],
                received: 0,
            },
            SyncedDoc {
                id: doc(2),
                heads: vec![head(8), head(9)],
                received: 3,
            },
        ];
        let (acked, kept) = acknowledgement(&synced);
        assert_eq!(
            kept,
            vec![(doc(1), vec![head(7)]), (doc(2), vec![head(8), head(9)])]
        );
        assert_eq!(acked.documents.len(), 2);
        assert_eq!(
            acked.documents[&doc(2).to_string()],
            vec![head(8).to_string(), head(9).to_string()]
        );
        let mut summary = SyncSummary::default();
        count_received(&mut summary, &synced);
        assert_eq!(
            (summary.documents_received, summary.changes_received),
            (1, 3)
        );
    }
}
