//! A catalogue or a list of places from a file someone made (a
//! coordinator's spreadsheet, or a crafted file): both decoders, in both
//! formats, on any text, without a panic. What decodes is written again as
//! `maraude export` writes it (the core's CSV, serde's JSON) and must
//! decode to the same value, unless the export is longer than an import
//! reads.

#![no_main]

use libfuzzer_sys::fuzz_target;
use maraude_core::antenna::Antenna;
use maraude_core::import::{self, Format, ImportError};
use maraude_core::report::{catalogue_csv, places_csv};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for format in [Format::Csv, Format::Json] {
        if let Ok(items) = import::catalogue(&text, format) {
            let mut antenna = Antenna::new("Calais").expect("an antenna");
            antenna.catalogue = items;
            let again = match format {
                Format::Csv => catalogue_csv(&antenna),
                Format::Json => {
                    serde_json::to_string_pretty(&antenna.catalogue).expect("a catalogue as JSON")
                }
            };
            round_trip(
                &again,
                import::catalogue(&again, format),
                &antenna.catalogue,
            );
        }
        if let Ok(places) = import::places(&text, format) {
            let mut antenna = Antenna::new("Calais").expect("an antenna");
            antenna.places = places;
            let again = match format {
                Format::Csv => places_csv(&antenna),
                Format::Json => {
                    serde_json::to_string_pretty(&antenna.places).expect("places as JSON")
                }
            };
            round_trip(&again, import::places(&again, format), &antenna.places);
        }
    }
});

fn round_trip<T: PartialEq + std::fmt::Debug>(
    exported: &str,
    back: Result<T, ImportError>,
    decoded: &T,
) {
    if exported.len() > import::MAX_BYTES {
        assert_eq!(
            back,
            Err(ImportError::TooLarge {
                max: import::MAX_BYTES
            })
        );
    } else {
        assert_eq!(back.as_ref(), Ok(decoded), "exported as {exported:?}");
    }
}
