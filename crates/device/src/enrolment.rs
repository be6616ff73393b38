//! A tablet and its antenna's base server.
//!
//! A device joins an antenna in one of two ways:
//! - a new tablet: the code names the antenna, so the tablet creates an
//!   empty store for it and receives the antenna's documents at its first
//!   sync ([`join`]);
//! - a tablet that already holds the antenna (the coordinator's, which
//!   created it, [`register`]s it; another enrols with a code for that
//!   same antenna, [`enrol`]).
//!
//! Every way stops before the server is asked if the tablet cannot take
//! the answer (a weak passphrase, a store already there, a tablet already
//! enrolled): a code is single-use.
//!
//! The credential goes from the server's answer into the encrypted store
//! and nowhere else: no answer or error here carries it.

use std::path::Path;

use maraude_core::access::Role;
use maraude_core::antenna::Antenna;
use maraude_core::ids::{AntennaId, DeviceId};
use maraude_protocol::api::{Enrolled, RegisterAntenna};
use maraude_store::{Passphrase, Store};
pub use maraude_sync::enrol::{PlainHttp, ServerAddress};
use maraude_sync::{StoreHandle, SyncError};
use uuid::Uuid;

use crate::DeviceError;

/// The tablet's name in the antenna's list of devices: the one given, or
/// "tablette" and the short device id, which a coordinator revokes by.
pub fn device_name(given: &str, device: DeviceId) -> String {
    match given.trim() {
        "" => format!("tablette {}", device.short()),
        name => name.to_string(),
    }
}

/// A new tablet joins the antenna the code was made for: its store is
/// created at `path`, empty and linked to the server; the antenna arrives
/// at the first sync. The passphrase and the path are checked before the
/// code is spent (a code is single-use).
pub async fn join(
    path: &Path,
    passphrase: &Passphrase,
    server: &ServerAddress,
    code: &str,
    name: &str,
) -> Result<(Store, Joined), DeviceError> {
    passphrase.check_strength()?;
    if path.exists() {
        return Err(DeviceError::StoreExists(path.to_path_buf()));
    }
    let device = DeviceId::new();
    let (link, enrolled) =
        maraude_sync::enrol::join(server, code, *device.as_uuid(), &device_name(name, device))
            .await?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| DeviceError::Folder {
            path: dir.to_path_buf(),
            error: e.to_string(),
        })?;
    }
    let mut store = Store::create_empty(
        path,
        passphrase,
        AntennaId::from_uuid(enrolled.antenna),
        device,
    )?;
    store.set_server_link(&link)?;
    Ok((store, Joined::from(&enrolled, server)))
}

/// What a tablet learns when it joins or registers, to show: never the
/// credential, which goes into the encrypted store and nowhere else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Joined {
    pub antenna: Uuid,
    pub antenna_name: String,
    pub role: Role,
    /// The server's address (`https://` unless typed otherwise).
    pub server: String,
}

impl Joined {
    fn from(enrolled: &Enrolled, server: &ServerAddress) -> Self {
        Self {
            antenna: enrolled.antenna,
            antenna_name: enrolled.antenna_name.clone(),
            role: enrolled.role,
            server: server.to_string(),
        }
    }
}

/// This tablet's device and antenna, if it is linked to no server yet.
fn not_linked_yet(store: &Store) -> Result<(DeviceId, Antenna), DeviceError> {
    if let Some(link) = store.server_link()? {
        return Err(DeviceError::AlreadyEnrolled(link.url));
    }
    Ok((store.device(), store.antenna()?))
}

async fn on_store<T: Send + 'static>(
    store: &StoreHandle,
    f: impl FnOnce(&mut Store) -> Result<T, DeviceError> + Send + 'static,
) -> Result<T, DeviceError> {
    store.with(f).await.map_err(SyncError::from)?
}

/// A tablet that already holds the antenna enrols with its server with a
/// code, which must be for that same antenna; the link is kept in its
/// store.
pub async fn enrol(
    store: &StoreHandle,
    server: &ServerAddress,
    code: &str,
    name: &str,
) -> Result<Joined, DeviceError> {
    let (device, antenna) = on_store(store, |s| not_linked_yet(s)).await?;
    let (link, enrolled) =
        maraude_sync::enrol::join(server, code, *device.as_uuid(), &device_name(name, device))
            .await?;
    same_antenna(&antenna, &enrolled)?;
    on_store(store, move |s| Ok(s.set_server_link(&link)?)).await?;
    Ok(Joined::from(&enrolled, server))
}

/// The code enrols into the antenna it was made for: a tablet holding
/// another antenna must not sync with it.
pub fn same_antenna(antenna: &Antenna, enrolled: &Enrolled) -> Result<(), DeviceError> {
    if antenna.id.as_uuid() == &enrolled.antenna {
        Ok(())
    } else {
        Err(DeviceError::OtherAntenna {
            code_for: enrolled.antenna_name.clone(),
            held: antenna.name.clone(),
        })
    }
}

/// The request registering the antenna `store` holds, this tablet as its
/// first coordinator.
pub fn registration(store: &Store, name: &str) -> Result<RegisterAntenna, DeviceError> {
    let (device, antenna) = not_linked_yet(store)?;
    Ok(RegisterAntenna {
        public_key: None,
        antenna: *antenna.id.as_uuid(),
        name: antenna.name,
        device: *device.as_uuid(),
        device_name: device_name(name, device),
    })
}

/// The coordinator's tablet, which created the antenna, registers it on
/// the association's server with the token its administrator gave; the
/// tablet becomes the antenna's coordinator there and keeps the link in
/// its store. The token is sent once and kept nowhere.
pub async fn register(
    store: &StoreHandle,
    server: &ServerAddress,
    token: &str,
    name: &str,
) -> Result<Joined, DeviceError> {
    let name = name.to_string();
    let request = on_store(store, move |s| registration(s, &name)).await?;
    let (link, enrolled) = maraude_sync::enrol::register_antenna(server, token.trim(), &request)
        .await
        .map_err(|e| match e {
            SyncError::Refused { status: 403, .. } => DeviceError::BadRegistrationToken,
            other => other.into(),
        })?;
    on_store(store, move |s| Ok(s.set_server_link(&link)?)).await?;
    Ok(Joined::from(&enrolled, server))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pass() -> Passphrase {
        Passphrase::new("correct horse battery".into())
    }

    /// Nothing listens on port 9 of loopback (discard): refused at once.
    fn nobody() -> ServerAddress {
        ServerAddress::parse("http://127.0.0.1:9", PlainHttp::Refused).expect("loopback")
    }

    fn run<T>(f: impl std::future::Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
            .block_on(f)
    }

    #[test]
    fn joining_refuses_a_short_passphrase_or_an_existing_store_before_spending_the_code() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("antenna.maraude");
        let short = run(join(
            &path,
            &Passphrase::new("short".into()),
            &nobody(),
            "K3MZ",
            "",
        ));
        assert_eq!(short.map_err(|e| e.code()).err(), Some("weak_passphrase"));
        assert!(!path.exists());
        Store::create(&path, &pass(), "Calais").expect("created");
        let existing = run(join(&path, &pass(), &nobody(), "K3MZ", ""));
        assert_eq!(existing.map_err(|e| e.code()).err(), Some("store_exists"));
        let other = dir.path().join("sub/other.maraude");
        let unreachable = run(join(&other, &pass(), &nobody(), "K3MZ", ""));
        assert!(
            matches!(
                unreachable,
                Err(DeviceError::Sync(SyncError::Unreachable(_)))
            ),
            "{unreachable:?}"
        );
        assert!(!other.exists() && !dir.path().join("sub").exists());
    }

    #[test]
    fn a_code_for_another_antenna_is_refused_with_both_names() {
        let calais = Antenna::new("Calais").expect("antenna");
        // As the server answers it.
        let answer = |antenna: &Antenna| -> Enrolled {
            serde_json::from_value(serde_json::json!({
                "antenna": antenna.id.as_uuid(),
                "antenna_name": antenna.name,
                "role": "volunteer",
                "credential": "the-secret-credential",
                "server_peer": "server-x",
            }))
            .expect("an enrolment answer")
        };
        let synthe = Antenna::new("Grande-Synthe").expect("antenna");
        let e = same_antenna(&calais, &answer(&synthe)).expect_err("another antenna");
        assert_eq!(e.code(), "other_antenna");
        let message = e.to_string();
        assert!(message.contains("Grande-Synthe") && message.contains("Calais"));
        assert!(!message.contains("the-secret-credential"));
        assert!(same_antenna(&calais, &answer(&calais)).is_ok());
    }

    #[test]
    fn a_tablet_registers_or_enrols_once() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut store =
            Store::create(&dir.path().join("a.maraude"), &pass(), "Calais").expect("created");
        let request = registration(&store, " Van 2 ").expect("not linked yet");
        assert_eq!(request.name, "Calais");
        assert_eq!(request.device_name, "Van 2");
        store
            .set_server_link(&maraude_store::ServerLink {
                url: "https://maraude.example.org".into(),
                credential: "secret".to_string().into(),
                role: "coordinator".into(),
                certificate: None,
            })
            .expect("linked");
        let again = registration(&store, "").expect_err("already linked");
        assert_eq!(again.code(), "already_enrolled");
        assert!(again.to_string().contains("maraude.example.org"));
        assert!(!again.to_string().contains("secret"));
    }

    #[test]
    fn a_tablet_left_unnamed_is_named_by_its_device_number() {
        let device = DeviceId::new();
        assert_eq!(
            device_name("  ", device),
            format!("tablette {}", device.short())
        );
        assert_eq!(device_name(" Van 2 ", device), "Van 2");
    }
}
