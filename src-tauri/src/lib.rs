//! # maraude-app
//!
//! The tablet app's shell: a Tauri 2 window showing the UI built from `ui/`,
//! and the commands that UI may call. It is wiring, like the `maraude`
//! command: every rule is in `maraude-core`, every write in `maraude-store`;
//! a command unlocks the store or calls one store function and returns its
//! answer as JSON.
//!
//! ## The model
//!
//! - One encrypted store file per device, `antenna.maraude` in the app's
//!   data directory (`$XDG_DATA_HOME/fr.maraude.field` on Linux). The first
//!   run creates it, for a new antenna or for a demo antenna.
//! - [`OpenStore`] is the app's one piece of state: the store while the app
//!   is unlocked, nothing while it is locked. Locking drops the store, and
//!   with it the SQLCipher key.
//! - The UI reaches Rust only through [`COMMANDS`]; build.rs turns each into
//!   a permission and `capabilities/main.json` grants exactly those, no
//!   core or plugin permission. The CSP in `tauri.conf.json` allows only the
//!   app's own scripts and styles, served from the binary.
//! - Errors reach the UI as [`AppError`]: a stable `code` the UI translates,
//!   and a message saying what to do.
//!
//! ## What it must not know
//!
//! Business rules (validation, reports, undo semantics beyond "void the
//! last entry this device logged") and the UI's layout.

#[cfg(test)]
mod bindings;
mod command_names;
mod commands;
mod demo;
mod error;
mod open_store;
mod server;
mod tablets;
mod teammates;

pub use command_names::COMMANDS;
pub use error::AppError;
pub use open_store::OpenStore;
pub use server::SyncState;
pub use teammates::TeammateServer;

/// Starts the app. Desktop `main()` calls it; mobile builds enter here.
#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    tauri::Builder::default()
        .manage(OpenStore::default())
        .manage(SyncState::default())
        .manage(TeammateServer::default())
        .invoke_handler(tauri::generate_handler![
            commands::status,
            commands::create_antenna,
            commands::create_demo_antenna,
            commands::unlock,
            commands::unlock_with_pin,
            commands::quick_unlock_status,
            commands::set_pin,
            commands::remove_pin,
            commands::lock,
            commands::keep_unsaved,
            commands::unsaved,
            commands::antenna,
            commands::current_shift,
            commands::start_shift,
            commands::log_entry,
            commands::undo_last,
            commands::entries,
            commands::night_report,
            commands::open_case,
            commands::edit_entry,
            commands::void_entry,
            commands::end_shift,
            commands::recent_shifts,
            commands::follow_ups,
            commands::handover,
            commands::add_place,
            commands::act_on_case,
            commands::export_night_csv,
            commands::period_report,
            commands::want_detail,
            commands::export_period_csv,
            commands::stock,
            commands::record_movement,
            commands::needs,
            commands::set_minimum,
            commands::change_reference,
            commands::case_details,
            commands::closed_follow_ups,
            commands::device_info,
            commands::may_erase,
            commands::erase_case,
            commands::server_status,
            commands::enrol,
            commands::join_antenna,
            commands::first_sync,
            commands::sync_now,
            commands::serve_teammates,
            commands::stop_serving_teammates,
            commands::serving_teammates,
            commands::sync_with_teammate,
            commands::find_teammates,
            commands::sync_with_found,
            commands::new_enrolment_code,
            commands::antenna_devices,
            commands::revoke_device,
            commands::register_antenna,
            commands::erase_this_tablet,
            commands::clear_this_tablet,
        ])
        .run(tauri::generate_context!())
        .expect("the app window could not start: check that WebKitGTK 4.1 is installed");
}

#[cfg(test)]
mod tests {
    /// Only the app's own files, served from the binary: no inline script
    /// or style, no eval, no remote source (the IPC origin aside).
    #[test]
    fn the_content_security_policy_allows_nothing_remote_or_inline() {
        let config: serde_json::Value =
            serde_json::from_str(include_str!("../tauri.conf.json")).expect("JSON");
        let csp = config["app"]["security"]["csp"]
            .as_object()
            .expect("a CSP, as directives");
        assert_eq!(csp["default-src"], "'none'");
        for (directive, sources) in csp {
            let sources = sources.as_str().expect("sources");
            assert!(!sources.contains("unsafe"), "{directive}: {sources}");
            for source in sources.split_whitespace() {
                let remote = source.contains("://") || source.ends_with(':');
                let ipc = source == "ipc:" || source == "http://ipc.localhost";
                assert!(!remote || ipc, "{directive} allows {source}");
            }
        }
        assert!(config["build"].get("devUrl").is_none());
    }
}
