//! A coordinator's files, read; each way one can be wrong, said.

use proptest::prelude::*;

use super::*;
use crate::antenna::Antenna;
use crate::report::{catalogue_csv, places_csv};

fn item(id: &str) -> ItemId {
    id.parse().unwrap()
}

fn place(id: &str) -> PlaceId {
    id.parse().unwrap()
}

/// Calais, with places of each kind and names a spreadsheet would run.
fn calais() -> Antenna {
    let mut a = Antenna::new("Calais").unwrap();
    for (id, name, kind) in [
        ("dunes-north", "Dunes nord", PlaceKind::LivingPlace),
        ("gare", "Gare de Calais", PlaceKind::Station),
        ("sangatte", "Plage de Sangatte", PlaceKind::Beach),
        ("secours", "Secours populaire", PlaceKind::DistributionPoint),
        ("accueil", "Accueil de jour", PlaceKind::DayCentre),
        ("bridge", "=HYPERLINK(\"http://x\")", PlaceKind::Other),
        ("quai", "-2 quai", PlaceKind::Other),
    ] {
        a.places.insert(
            place(id),
            Place {
                name: name.into(),
                kind,
                active: true,
            },
        );
    }
    a.catalogue.insert(
        item("rain_poncho"),
        CatalogueItem {
            label: Label::new("@Poncho, de pluie", "Rain \"poncho\""),
            sizes: vec!["S".into(), "M".into(), "=L".into()],
            active: true,
            order: 23,
            minimum: None,
        },
    );
    a
}

fn err_of<T: std::fmt::Debug>(r: Result<T, ImportError>) -> String {
    r.unwrap_err().to_string()
}

#[test]
fn a_coordinators_spreadsheet_of_places_is_read() {
    let places = places(
        "id,name,kind\n\
         gare , Gare de Calais ,station\n\
         \n\
         ,,\n\
         hospital-road,Rue de l'Hôpital,\n\
         lac,Lac du Moulin\n",
        Format::Csv,
    )
    .unwrap();
    assert_eq!(places.len(), 3);
    assert_eq!(places[&place("gare")].name, "Gare de Calais");
    assert_eq!(places[&place("gare")].kind, PlaceKind::Station);
    // No kind: a living place, which most places are.
    assert_eq!(places[&place("hospital-road")].kind, PlaceKind::LivingPlace);
    assert_eq!(places[&place("lac")].kind, PlaceKind::LivingPlace);
    assert!(places.values().all(|p| p.active));
}

#[test]
fn a_catalogue_sheet_gives_sizes_separated_by_semicolons_or_spaces() {
    let items = catalogue(
        "id,fr,en,sizes\n\
         soap,Savon,Soap\n\
         shoes,Chaussures,Shoes,38;39 40  41;\n\
         socks,Chaussettes,Socks,\n",
        Format::Csv,
    )
    .unwrap();
    assert_eq!(items[&item("soap")].sizes, Vec::<String>::new());
    assert_eq!(items[&item("shoes")].sizes, ["38", "39", "40", "41"]);
    assert_eq!(items[&item("socks")].sizes, Vec::<String>::new());
    assert_eq!(
        items[&item("shoes")].label,
        Label::new("Chaussures", "Shoes")
    );
    assert!(items.values().all(|i| i.active && i.order == 0));
}

#[test]
fn an_exported_catalogue_comes_back_as_it_was() {
    let mut antenna = calais();
    // JSON carries everything, a retired item and the order too.
    antenna.catalogue.get_mut(&item("tent")).unwrap().active = false;
    let json = serde_json::to_string_pretty(&antenna.catalogue).unwrap();
    assert_eq!(catalogue(&json, Format::Json).unwrap(), antenna.catalogue);

    // CSV carries the ids, the labels and the sizes: what it brings is
    // active, and the antenna gives it its order.
    let back = catalogue(&catalogue_csv(&antenna), Format::Csv).unwrap();
    let mut expected = antenna.catalogue.clone();
    for i in expected.values_mut() {
        i.active = true;
        i.order = 0;
    }
    assert_eq!(back, expected);
    assert_eq!(back[&item("rain_poncho")].sizes, ["S", "M", "=L"]);
}

#[test]
fn exported_places_come_back_as_they_were() {
    let mut antenna = calais();
    antenna.places.get_mut(&place("gare")).unwrap().active = false;
    let json = serde_json::to_string_pretty(&antenna.places).unwrap();
    assert_eq!(places(&json, Format::Json).unwrap(), antenna.places);

    let back = places(&places_csv(&antenna), Format::Csv).unwrap();
    let mut expected = antenna.places.clone();
    for p in expected.values_mut() {
        p.active = true;
    }
    assert_eq!(back, expected);
    // Escaped for the spreadsheet on the way out, as typed on the way in.
    assert_eq!(back[&place("bridge")].name, "=HYPERLINK(\"http://x\")");
    assert_eq!(back[&place("quai")].name, "-2 quai");
}

#[test]
fn a_row_without_enough_columns_is_named_by_its_line() {
    assert_eq!(
        err_of(catalogue(
            "id,fr,en\nsoap,Savon,Soap\n\nblanket,Couverture\n",
            Format::Csv
        )),
        "line 4 has 2 columns; expected id,fr,en[,sizes]"
    );
    assert_eq!(
        places("id,name\ngare,Gare\nlac\n", Format::Csv),
        Err(ImportError::TooFewColumns {
            line: 3,
            found: 1,
            expected: "id,name[,kind]"
        })
    );
}

#[test]
fn lines_are_counted_as_an_editor_counts_them() {
    // A blank line, and a name on two lines (quoted): the bad row is on
    // line 6 of the file.
    let text = "\nid,name\ngare,\"Gare\nde Calais\"\n\nlac\n";
    assert_eq!(
        err_of(places(text, Format::Csv)),
        "line 6 has 1 columns; expected id,name[,kind]"
    );
}

#[test]
fn an_item_or_a_place_given_twice_is_refused() {
    assert_eq!(
        err_of(catalogue(
            "id,fr,en\nblanket,Couverture,Blanket\nblanket,Plaid,Throw\n",
            Format::Csv
        )),
        "line 3: item blanket appears twice"
    );
    assert_eq!(
        err_of(places(
            "id,name\ngare,Gare\nlac,Lac\n gare ,Gare SNCF\n",
            Format::Csv
        )),
        "line 4: place gare appears twice"
    );
}

#[test]
fn a_file_without_rows_says_what_it_needs() {
    for text in ["", "id,fr,en\n", "id,fr,en\n\n , , \n"] {
        assert_eq!(
            err_of(catalogue(text, Format::Csv)),
            "no rows; expected a header line then id,fr,en[,sizes]",
            "{text:?}"
        );
    }
    assert_eq!(
        err_of(places("id,name,kind", Format::Csv)),
        "no rows; expected a header line then id,name[,kind]"
    );
}

#[test]
fn a_bad_id_or_kind_is_named_by_its_line() {
    let err = err_of(catalogue(
        "id,fr,en\nsoap,Savon,Soap\nRain Poncho,Poncho,Poncho\n",
        Format::Csv,
    ));
    assert!(
        err.starts_with("line 3: not a valid item id: \"Rain Poncho\""),
        "{err}"
    );
    let err = err_of(places("id,name,kind\ngare,Gare,stattion\n", Format::Csv));
    assert!(
        err.starts_with("line 2: place kind: unknown variant `stattion`, expected one of"),
        "{err}"
    );
}

#[test]
fn a_label_or_a_name_that_breaks_the_antennas_rules_is_refused() {
    assert_eq!(
        err_of(catalogue("id,fr,en\nsoap,Savon, \n", Format::Csv)),
        "line 2: item soap: English label must not be empty"
    );
    let long = "x".repeat(81);
    assert_eq!(
        err_of(places(&format!("id,name\ngare,{long}\n"), Format::Csv)),
        "line 2: place gare: place name is too long: 81 characters, at most 80; shorten it"
    );
    // In JSON there are no lines: the item or place is named.
    assert_eq!(
        err_of(catalogue(
            r#"{"soap": {"label": {"fr": "", "en": "Soap"}}}"#,
            Format::Json
        )),
        "item soap: French label must not be empty"
    );
    assert_eq!(
        err_of(places(
            r#"{"gare": {"name": " ", "kind": "station"}}"#,
            Format::Json
        )),
        "place gare: place name must not be empty"
    );
    let sizes: Vec<String> = (0..=crate::limits::MAX_SIZES)
        .map(|n| n.to_string())
        .collect();
    let text = format!(
        "id,fr,en,sizes\nshoes,Chaussures,Shoes,{}\n",
        sizes.join(";")
    );
    assert!(matches!(
        catalogue(&text, Format::Csv),
        Err(ImportError::BadItem {
            line: Some(2),
            problem: Invalid::TooMany { .. },
            ..
        })
    ));
}

#[test]
fn a_json_file_that_is_not_an_export_says_what_it_should_be() {
    let err = err_of(catalogue("[1, 2]", Format::Json));
    assert!(
        err.starts_with("not a catalogue in the JSON form Maraude exports: invalid type"),
        "{err}"
    );
    let err = err_of(places(r#"{"gare": {"name": "Gare"}}"#, Format::Json));
    assert!(
        err.starts_with("not places in the JSON form Maraude exports: missing field `kind`"),
        "{err}"
    );
    let err = err_of(places(
        r#"{"Gare": {"name": "Gare", "kind": "station"}}"#,
        Format::Json,
    ));
    assert!(err.contains("not a valid place id: \"Gare\""), "{err}");
    // A CSV given as JSON (a file misnamed .json).
    assert!(matches!(
        places("id,name\ngare,Gare\n", Format::Json),
        Err(ImportError::NotPlacesJson { .. })
    ));
}

#[test]
fn a_huge_file_is_refused_before_it_is_read() {
    let row = "soap,Savon,Soap\n";
    let text = format!("id,fr,en\n{}", row.repeat(MAX_BYTES / row.len() + 1));
    assert_eq!(
        catalogue(&text, Format::Csv),
        Err(ImportError::TooLarge { max: MAX_BYTES })
    );
    assert_eq!(
        places(&" ".repeat(MAX_BYTES + 1), Format::Json),
        Err(ImportError::TooLarge { max: MAX_BYTES })
    );
}

#[test]
fn more_rows_than_an_antenna_uses_are_refused() {
    let rows: String = (0..=MAX_ROWS)
        .map(|n| format!("p{n},Place {n}\n"))
        .collect();
    assert_eq!(
        err_of(places(&format!("id,name\n{rows}"), Format::Csv)),
        "more than 1000 places: far more than an antenna uses; check that it is the right file"
    );
    let items: Vec<String> = (0..=MAX_ROWS)
        .map(|n| format!(r#""i{n}": {{"label": {{"fr": "a", "en": "b"}}}}"#))
        .collect();
    assert_eq!(
        catalogue(&format!("{{{}}}", items.join(",")), Format::Json),
        Err(ImportError::TooManyRows {
            what: "items",
            max: MAX_ROWS
        })
    );
    // A thousand is fine.
    let rows: String = (0..MAX_ROWS).map(|n| format!("p{n},Place {n}\n")).collect();
    assert_eq!(
        places(&format!("id,name\n{rows}"), Format::Csv)
            .unwrap()
            .len(),
        MAX_ROWS
    );
}

#[test]
fn an_error_says_its_problem_once() {
    // The CLI prints an error and its sources: the problem is in the
    // message, so there is no source to print it again.
    let e = catalogue("id,fr,en\nsoap,Savon, \n", Format::Csv).unwrap_err();
    assert!(std::error::Error::source(&e).is_none());
}

/// What the `imports` fuzz target asserts of any text: each decoder, in
/// each format, decodes it or refuses it, and what decodes is written again
/// as `maraude export` writes it and reads back the same.
fn decodes_or_is_refused_and_reads_back(text: &str) {
    for format in [Format::Csv, Format::Json] {
        let mut antenna = Antenna::new("Calais").unwrap();
        if let Ok(items) = catalogue(text, format) {
            antenna.catalogue = items;
            let again = match format {
                Format::Csv => catalogue_csv(&antenna),
                Format::Json => serde_json::to_string_pretty(&antenna.catalogue).unwrap(),
            };
            assert_eq!(
                catalogue(&again, format).as_ref(),
                Ok(&antenna.catalogue),
                "{text:?} exported as {again:?}"
            );
        }
        if let Ok(places) = places(text, format) {
            antenna.places = places;
            let again = match format {
                Format::Csv => places_csv(&antenna),
                Format::Json => serde_json::to_string_pretty(&antenna.places).unwrap(),
            };
            assert_eq!(
                super::places(&again, format).as_ref(),
                Ok(&antenna.places),
                "{text:?} exported as {again:?}"
            );
        }
    }
}

/// Each input the fuzz target (or a reader of this code) found failing,
/// kept as a fixture and replayed.
#[test]
fn every_file_that_once_failed_decodes_or_is_refused_and_reads_back() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/import");
    let mut replayed = 0;
    for entry in std::fs::read_dir(&dir).expect("the fixtures directory") {
        let bytes = std::fs::read(entry.expect("a fixture").path()).expect("a fixture");
        decodes_or_is_refused_and_reads_back(&String::from_utf8_lossy(&bytes));
        replayed += 1;
    }
    assert!(replayed >= 2, "fixtures in {}: {replayed}", dir.display());
}

proptest! {
    /// Rows of the characters a spreadsheet makes trouble with (a quote,
    /// a formula's first character, white space, the sizes' separators),
    /// after ids that parse and labels that are not blank.
    #[test]
    fn a_sheet_of_awkward_cells_decodes_or_is_refused_and_reads_back(
        rows in prop::collection::vec(
            (
                "[a-c][a-c0-9]{0,2}",
                "(a|'|=|-|@|;| |\t){0,4}a(a|'|=| |\t){0,2}",
                "(a|'|=|-|@|;| |\t){0,4}a",
                "(1|'|=|-|@|;| |\t){0,6}",
            ),
            1..4,
        ),
    ) {
        let mut text = String::from("id,fr,en,sizes\n");
        for (id, fr, en, sizes) in rows {
            text.push_str(&format!("{id},{fr},{en},{sizes}\n"));
        }
        decodes_or_is_refused_and_reads_back(&text);
    }

    #[test]
    fn a_sheet_of_awkward_place_names_decodes_or_is_refused_and_reads_back(
        rows in prop::collection::vec(
            (
                "[a-c][a-c0-9]{0,2}",
                "(a|'|=|-|@|;| |\t|\"){0,4}a(a|'|=| |\t){0,2}",
                prop_oneof![Just(""), Just("beach"), Just(" day_centre\t")],
            ),
            1..4,
        ),
    ) {
        let mut text = String::from("id,name,kind\n");
        for (id, name, kind) in rows {
            text.push_str(&format!("{id},{name},{kind}\n"));
        }
        decodes_or_is_refused_and_reads_back(&text);
    }
}
