//! What to type next, for the errors a terminal user meets: the libraries'
//! sentences name no front end (the app says "in Settings", the CLI names
//! a command), so the CLI adds its own hint by the error's code.

use maraude_core::Invalid;
use maraude_core::import::ImportError;
use maraude_device::DeviceError;
use maraude_store::StoreError;
use maraude_sync::SyncError;

/// The stable code of the first error in the chain that has one.
pub fn code_of(e: &anyhow::Error) -> Option<&'static str> {
    e.chain().find_map(|cause| {
        if let Some(e) = cause.downcast_ref::<DeviceError>() {
            Some(e.code())
        } else if let Some(e) = cause.downcast_ref::<SyncError>() {
            Some(e.code())
        } else if let Some(e) = cause.downcast_ref::<StoreError>() {
            Some(e.code())
        } else if let Some(e) = cause.downcast_ref::<ImportError>() {
            Some(e.code())
        } else {
            cause.downcast_ref::<Invalid>().map(Invalid::code)
        }
    })
}

/// The `maraude` command that gets past an error, by its code.
pub fn hint(code: &str) -> Option<&'static str> {
    Some(match code {
        "no_store" => {
            "create a store with `maraude init`, or join an antenna with `maraude enrol --server URL --code CODE`"
        }
        "not_found" => {
            "list shifts with `maraude shift list`, a shift's entries with `maraude entries`, open follow-ups with `maraude follow-ups`"
        }
        "no_open_shift" => "start one with `maraude shift start`",
        "shift_ended" => "start a new shift with `maraude shift start`",
        "antenna_not_received" | "no_certificate" => "sync with the server: `maraude sync`",
        "not_enrolled" => {
            "join an antenna with `maraude enrol --server URL --code CODE`, or register a new one with `maraude register`"
        }
        "retired_item" => "add it back with `maraude catalogue add`",
        "unknown_item" => "see the catalogue with `maraude catalogue list`",
        "unknown_place" => "add a place with `maraude place add ID --name NAME`",
        "not_a_lead" => "a coordinator lists a lead with `maraude volunteer add NAME --role lead`",
        "teammate_unreachable" => {
            "on the other tablet, run `maraude serve-peer` and use the address it shows"
        }
        "plain_http" => "only on a network you trust, add `--plain-http`",
        "not_catalogue_json" => "write one as `maraude export catalogue --format json` does",
        "not_places_json" => "write them as `maraude export places --format json` does",
        "not_enough_stock" => {
            "see the stock with `maraude stock show`; if the shelves hold more, `maraude stock count ITEM N --reason WHY` first"
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn the_code_is_found_under_the_context_the_cli_adds() {
        let e = Err::<(), _>(StoreError::NoOpenShift)
            .context("logging 2 blankets")
            .unwrap_err();
        assert_eq!(code_of(&e), Some("no_open_shift"));
        assert!(
            hint("no_open_shift")
                .unwrap()
                .contains("maraude shift start")
        );
        let e = anyhow::Error::new(SyncError::from(StoreError::NoAntennaYet));
        assert_eq!(code_of(&e), Some("antenna_not_received"));
        assert_eq!(code_of(&anyhow::anyhow!("no code here")), None);
    }

    #[test]
    fn every_hint_names_a_command_that_exists() {
        use clap::CommandFactory;
        let cli = crate::Cli::command();
        for code in [
            "no_store",
            "not_found",
            "no_open_shift",
            "shift_ended",
            "antenna_not_received",
            "no_certificate",
            "not_enrolled",
            "retired_item",
            "unknown_item",
            "unknown_place",
            "not_a_lead",
            "teammate_unreachable",
            "plain_http",
            "not_catalogue_json",
            "not_places_json",
            "not_enough_stock",
        ] {
            let hint = hint(code).unwrap_or_else(|| panic!("no hint for {code}"));
            for command in hint.split("`maraude ").skip(1) {
                let words: Vec<&str> = command
                    .split('`')
                    .next()
                    .unwrap()
                    .split(' ')
                    .take_while(|w| !w.starts_with('-') && !w.chars().all(|c| c.is_uppercase()))
                    .collect();
                let mut found = &cli;
                for word in &words {
                    if let Some(sub) = found.find_subcommand(word) {
                        found = sub;
                        continue;
                    }
                    // `export catalogue`: a value of the command's argument.
                    let a_value = found.get_arguments().any(|a| {
                        a.is_positional()
                            && a.get_possible_values()
                                .iter()
                                .any(|v| v.matches(word, false))
                    });
                    assert!(a_value, "{code}: no `maraude {}`", words.join(" "));
                    break;
                }
            }
        }
    }
}
