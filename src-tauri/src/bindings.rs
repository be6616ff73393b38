//! The UI's TypeScript types (`ui/src/lib/bindings.ts`), generated from the
//! Rust types the commands take and answer, so that the two cannot drift.
//!
//! A test compares the file with what the Rust types say now; after
//! changing one of them, write the file again with
//! `UPDATE_BINDINGS=1 cargo test -p maraude-app bindings`.

use std::collections::BTreeMap;

use ts_rs::{Config, TS, TypeVisitor};

/// Every type a command takes or answers (their fields' types follow), and
/// the lists of codes the UI offers to choose from.
fn roots(out: &mut Declarations) {
    use maraude_core::{access, antenna, case, document, entry, report, shift};
    out.visit::<maraude_core::Lang>();
    out.visit::<access::Role>();
    out.visit::<antenna::Antenna>();
    out.visit::<shift::ShiftKind>();
    out.visit::<shift::Shift>();
    out.visit::<shift::NewShift>();
    out.visit::<shift::ShiftEnd>();
    out.visit::<entry::Entry>();
    out.visit::<entry::EntryContent>();
    out.visit::<entry::NewEntry>();
    out.visit::<entry::EntryEdit>();
    out.visit::<entry::Need>();
    out.visit::<entry::Service>();
    out.visit::<entry::Urgency>();
    out.visit::<entry::IncidentType>();
    out.visit::<case::NewCase>();
    out.visit::<case::Case>();
    out.visit::<case::CaseAction>();
    out.visit::<case::Outcome>();
    out.visit::<case::CaseKind>();
    out.visit::<case::Vulnerability>();
    out.visit::<document::CaseRef>();
    out.visit::<report::FollowUp>();
    out.visit::<crate::commands::Status>();
    out.visit::<crate::commands::NightReportView>();
    out.visit::<crate::commands::PeriodReportView>();
    out.visit::<report::PeriodTable>();
    out.visit::<maraude_core::warehouse::StockReport>();
    out.visit::<maraude_core::warehouse::NewMovement>();
    out.visit::<maraude_core::warehouse::StockMovement>();
    out.visit::<crate::commands::NeedsView>();
    out.visit::<crate::commands::Exported>();
    out.visit::<crate::commands::DeviceInfo>();
    out.visit::<crate::server::ServerStatus>();
    out.visit::<crate::teammates::Serving>();
    out.visit::<crate::teammates::Found>();
    out.visit::<maraude_protocol::api::EnrolmentCode>();
    out.visit::<maraude_protocol::api::DeviceInfo>();
    out.visit::<crate::error::AppError>();
    out.visit::<maraude_device::erasure::Withdrawal>();
    out.visit::<crate::commands::QuickUnlockStatus>();
    out.visit::<maraude_core::report::Handover>();
    out.visit::<crate::commands::AddedPlace>();
    out.visit::<maraude_core::antenna::ReferenceChange>();
    out.visit::<maraude_core::report::ClosedFollowUp>();
    out.visit::<maraude_store::Cleared>();
    out.visit::<maraude_store::FiguresOnly>();
}

/// Each declared type by its TypeScript name, found from the roots through
/// their fields.
struct Declarations {
    config: Config,
    found: BTreeMap<String, String>,
}

impl TypeVisitor for Declarations {
    fn visit<T: TS + 'static + ?Sized>(&mut self) {
        // Only the types that are declared (derived), not String or Vec.
        if T::output_path().is_none() {
            return;
        }
        let name = T::name(&self.config);
        let docs = T::docs().unwrap_or_default();
        let decl = T::decl(&self.config);
        let declaration = format!("{docs}export {decl}");
        if let Some(seen) = self.found.get(&name) {
            let seen = seen.rsplit("export ").next().unwrap_or_default();
            // Two Rust types of one name (antenna::Role and access::Role
            // say the same): the UI would get one of them for both.
            assert!(
                seen == decl,
                "two different Rust types are named {name} in TypeScript: rename one ({})",
                std::any::type_name::<T>()
            );
            return;
        }
        self.found.insert(name, declaration);
        T::visit_dependencies(self);
    }
}

/// The whole file.
fn typescript() -> String {
    let mut declarations = Declarations {
        // serde_json writes every integer as a JSON number.
        config: Config::new().with_large_int("number"),
        found: BTreeMap::new(),
    };
    roots(&mut declarations);
    let mut file = String::from(
        "// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.\n\
         // After changing a Rust type: UPDATE_BINDINGS=1 cargo test -p maraude-app bindings\n",
    );
    for declaration in declarations.found.values() {
        file.push('\n');
        file.push_str(declaration);
        file.push('\n');
    }
    file
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    #[test]
    fn the_uis_types_are_the_rust_types() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/lib/bindings.ts");
        let now = super::typescript();
        if std::env::var_os("UPDATE_BINDINGS").is_some() {
            std::fs::write(&path, &now).unwrap();
        }
        let written = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            written == now,
            "ui/src/lib/bindings.ts is not what the Rust types say: write it again with \
             `UPDATE_BINDINGS=1 cargo test -p maraude-app bindings`, then check the UI with `npm run check`"
        );
    }
}
