//! A teammate's tablet whose serving code was modified to lie about what
//! changed on it: for the sync tests and the app's.

use maraude_core::access::Subject;

use crate::tablet::Tablet;

/// A volunteer's tablet with a real certificate whose serving code was
/// modified: its "what changed" answer lists documents it never had (a
/// closed case's id, which every antenna document names), to get them
/// from a lead's tablet that syncs with it, and says to start over. The rest is the real hub
/// over the volunteer's real store.
#[derive(Debug)]
pub struct LyingTeammate {
    pub address: String,
    runtime: tokio::runtime::Runtime,
    store: maraude_sync::StoreHandle,
}

impl LyingTeammate {
    pub fn start(volunteer: &Tablet, lies: Vec<String>) -> Self {
        use std::sync::Arc;

        use axum::extract::ConnectInfo;
        use axum::routing::{get, post};
        use maraude_protocol::api;
        use maraude_sync::hub::Hub;
        use maraude_sync::identity::Teammate;
        use maraude_sync::tls::{TeamTls, TlsConnection};

        let runtime = tokio::runtime::Runtime::new().unwrap();
        let store = maraude_store::Store::open(
            volunteer.store(),
            &maraude_store::Passphrase::new(crate::tablet::PASSPHRASE.into()),
        )
        .unwrap();
        let link = store.server_link().unwrap().unwrap();
        let certificate = link.certificate.unwrap();
        let (antenna, device) = (*store.antenna_id().as_uuid(), *store.device().as_uuid());
        let (handle, _thread) = maraude_sync::StoreHandle::spawn(store);
        let tls = TeamTls::new(&certificate, None).unwrap();
        let serving = tls.serving_certificate().unwrap();
        let proof = tls.proof(&serving).unwrap();
        let config = tls.server_config(&serving).unwrap();
        let (configs, config_rx) = tokio::sync::watch::channel(config);
        let (address, hub, listener) = runtime.block_on(async {
            let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let address = tcp.local_addr().unwrap().to_string();
            let hub = Hub::start(handle.clone(), antenna, api::device_peer(&device))
                .await
                .unwrap();
            (address, Arc::new(hub), tcp)
        });
        let teammate = |c: &TlsConnection| {
            Teammate::from_certificate(c.client_certificate.as_deref().unwrap()).unwrap()
        };
        let pending = move || {
            let lies = lies.clone();
            let proof = proof.clone();
            async move {
                axum::Json(api::Pending {
                    server_peer: api::device_peer(&device),
                    documents: lies,
                    revocations: None,
                    // A team secret of its own making: only the server's
                    // may be kept.
                    team_secret: Some(api::b64(&[7u8; 32])),
                    serving: Some(proof),
                    // And asks for every document again, as a server
                    // restored from an older backup does: only the
                    // server's ask may make a tablet forget what it
                    // shares with the server.
                    start_over: true,
                })
            }
        };
        let sync_hub = hub.clone();
        let app = axum::Router::new()
            .route("/v1/sync/pending", get(pending))
            .route(
                "/v1/sync/acked",
                post(|| async { axum::Json(serde_json::json!({})) }),
            )
            .route(
                "/v1/sync/revocations",
                post(|| async { axum::Json(serde_json::json!({})) }),
            )
            .route(
                "/v1/sync",
                get(
                    move |ConnectInfo(c): ConnectInfo<TlsConnection>,
                          upgrade: yawc::IncomingUpgrade| async move {
                        use axum::response::IntoResponse;
                        let t = teammate(&c);
                        let revoked = sync_hub.admit(t.device, t.role);
                        let (response, socket) =
                            upgrade.upgrade(maraude_sync::socket::options()).unwrap();
                        sync_hub.serve_socket(socket, t.device, t.role, revoked, ());
                        response.into_response()
                    },
                ),
            );
        runtime.spawn(async move {
            let _keep = configs;
            maraude_sync::serve::serve(
                listener,
                Some(config_rx),
                app,
                maraude_sync::serve::Limits::default(),
                std::future::pending(),
            )
            .await;
        });
        LyingTeammate {
            address,
            runtime,
            store: handle,
        }
    }

    /// What its store holds of `doc`.
    pub fn holds(&self, doc: &str) -> Subject {
        let doc: maraude_store::DocumentId = doc.parse().unwrap();
        self.runtime
            .block_on(self.store.with(move |s| s.subject(&doc)))
            .unwrap()
            .unwrap()
    }
}
