/// The commands the UI may call: the only door from the webview to Rust.
/// Read by build.rs (to make one permission each) and by the capability
/// test, so that the three lists (this one, `generate_handler!` in
/// `run()`, capabilities/main.json) stay one.
pub const COMMANDS: &[&str] = &[
    "status",
    "create_antenna",
    "create_demo_antenna",
    "unlock",
    "unlock_with_pin",
    "quick_unlock_status",
    "set_pin",
    "remove_pin",
    "lock",
    "keep_unsaved",
    "unsaved",
    "antenna",
    "current_shift",
    "start_shift",
    "log_entry",
    "undo_last",
    "entries",
    "night_report",
    "open_case",
    "edit_entry",
    "void_entry",
    "end_shift",
    "recent_shifts",
    "follow_ups",
    "handover",
    "add_place",
    "act_on_case",
    "export_night_csv",
    "period_report",
    "want_detail",
    "export_period_csv",
    "stock",
    "record_movement",
    "needs",
    "set_minimum",
    "change_reference",
    "case_details",
    "closed_follow_ups",
    "device_info",
    "may_erase",
    "erase_case",
    "server_status",
    "enrol",
    "join_antenna",
    "first_sync",
    "sync_now",
    "serve_teammates",
    "stop_serving_teammates",
    "serving_teammates",
    "sync_with_teammate",
    "find_teammates",
    "sync_with_found",
    "new_enrolment_code",
    "antenna_devices",
    "revoke_device",
    "register_antenna",
    "erase_this_tablet",
    "clear_this_tablet",
];

#[cfg(test)]
mod tests {
    use super::COMMANDS;

    /// The window is granted each command of the list, and nothing else.
    #[test]
    fn the_main_window_may_call_exactly_the_apps_commands() {
        let capability: serde_json::Value =
            serde_json::from_str(include_str!("../capabilities/main.json")).expect("JSON");
        let granted: Vec<&str> = capability["permissions"]
            .as_array()
            .expect("a list of permissions")
            .iter()
            .filter_map(|p| p.as_str())
            .collect();
        let expected: Vec<String> = COMMANDS
            .iter()
            .map(|c| format!("allow-{}", c.replace('_', "-")))
            .collect();
        assert_eq!(granted, expected);
    }
}
