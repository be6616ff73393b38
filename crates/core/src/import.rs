//! Reference data from a file: a catalogue or a list of places, from a
//! coordinator's spreadsheet (CSV) or as `maraude export … --format json`
//! wrote it.
//!
//! Decoding only: merging the result into the antenna (and giving new
//! items their position on the quick-log screen) is the caller's. What
//! decodes is valid: every id parses, every label, name and size keeps the
//! antenna's rules ([`CatalogueItem::validate`], [`Place::validate`]),
//! nothing is there twice, and the file and its rows stay under
//! [`MAX_BYTES`] and [`MAX_ROWS`]. What does not decodes to an
//! [`ImportError`] that names the line: nothing of the file is taken. These
//! files come from outside (a spreadsheet, or someone's crafted file): no
//! input makes a decoder panic (the `imports` fuzz target).
//!
//! CSV: a header line (its names are not read), then one row a line:
//!
//! - catalogue: `id,fr,en[,sizes]`, sizes separated by `;` or spaces;
//! - places: `id,name[,kind]`, a living place when the kind is blank.
//!
//! Cells are trimmed and blank rows skipped. Further columns, such as the
//! `active` an export writes, are not read: what a CSV brings is active. A
//! cell an export escaped for spreadsheets comes back as it was
//! ([`read_cell`]), so that [`catalogue_csv`](crate::report::catalogue_csv)
//! and [`places_csv`](crate::report::places_csv) read back as they wrote.
//!
//! JSON: the map an export writes, as it is (`active` and `order` too).

use std::collections::BTreeMap;

use thiserror::Error;

use crate::antenna::{CatalogueItem, Label, Place, PlaceKind};
use crate::error::Invalid;
use crate::ids::{ItemId, PlaceId};
use crate::report::read_cell;

/// Largest file an import reads: a thousand items, as an export writes
/// them in JSON, take about a seventh of it.
pub const MAX_BYTES: usize = 1 << 20;
/// Most items, or places, one file brings: far more than an antenna uses,
/// and every tablet of the antenna keeps a copy of its lists.
pub const MAX_ROWS: usize = 1000;

/// How the file is written; the caller knows it from the file's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Json,
}

/// Why a file cannot be imported, and what to do. Nothing of it is taken.
/// A CSV's errors name the line (as a text editor counts them).
///
/// (No `#[source]`: the inner problem is said in the message, once.)
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ImportError {
    #[error(
        "more than {max} bytes: longer than any catalogue or list of places; check that it is the right file"
    )]
    TooLarge { max: usize },
    #[error(
        "more than {max} {what}: far more than an antenna uses; check that it is the right file"
    )]
    TooManyRows { what: &'static str, max: usize },
    /// What the CSV reader refuses. Little in a text (it reads any line
    /// of any length of cells), but what it refuses is said, not unwrapped.
    #[error("line {line} is not valid CSV: {detail}")]
    NotCsv { line: u64, detail: String },
    #[error("no rows; expected a header line then {expected}")]
    NoRows { expected: &'static str },
    #[error("line {line} has {found} columns; expected {expected}")]
    TooFewColumns {
        line: u64,
        found: usize,
        expected: &'static str,
    },
    /// An id or a place kind that does not parse.
    #[error("line {line}: {problem}")]
    BadCell { line: u64, problem: Invalid },
    #[error("line {line}: {what} {id} appears twice")]
    Twice {
        line: u64,
        what: &'static str,
        id: String,
    },
    /// `line` is `None` in a JSON file.
    #[error("{}item {id}: {problem}", at(.line))]
    BadItem {
        line: Option<u64>,
        id: ItemId,
        problem: Invalid,
    },
    /// `line` is `None` in a JSON file.
    #[error("{}place {id}: {problem}", at(.line))]
    BadPlace {
        line: Option<u64>,
        id: PlaceId,
        problem: Invalid,
    },
    #[error("not a catalogue in the JSON form Maraude exports: {detail}")]
    NotCatalogueJson { detail: String },
    #[error("not places in the JSON form Maraude exports: {detail}")]
    NotPlacesJson { detail: String },
}

impl ImportError {
    /// A stable code for programs (see [`Invalid::code`]).
    pub fn code(&self) -> &'static str {
        match self {
            ImportError::TooLarge { .. } => "file_too_large",
            ImportError::TooManyRows { .. } => "too_many_rows",
            ImportError::NotCsv { .. } | ImportError::NoRows { .. } => "not_csv",
            ImportError::TooFewColumns { .. } => "too_few_columns",
            ImportError::BadCell { problem, .. }
            | ImportError::BadItem { problem, .. }
            | ImportError::BadPlace { problem, .. } => problem.code(),
            ImportError::Twice { .. } => "duplicate",
            ImportError::NotCatalogueJson { .. } => "not_catalogue_json",
            ImportError::NotPlacesJson { .. } => "not_places_json",
        }
    }
}

fn at(line: &Option<u64>) -> String {
    line.map(|l| format!("line {l}: ")).unwrap_or_default()
}

/// A catalogue's items, by id. Their `order` is 0 from a CSV: their place
/// on the quick-log screen is the antenna's to give.
pub fn catalogue(
    text: &str,
    format: Format,
) -> Result<BTreeMap<ItemId, CatalogueItem>, ImportError> {
    check_size(text)?;
    let bad_item = |line, id: &ItemId, problem| ImportError::BadItem {
        line,
        id: id.clone(),
        problem,
    };
    match format {
        Format::Json => {
            let items: BTreeMap<ItemId, CatalogueItem> =
                serde_json::from_str(text).map_err(|e| ImportError::NotCatalogueJson {
                    detail: e.to_string(),
                })?;
            check_rows(items.len(), CATALOGUE.what)?;
            for (id, item) in &items {
                item.validate().map_err(|p| bad_item(None, id, p))?;
            }
            Ok(items)
        }
        Format::Csv => {
            let mut items = BTreeMap::new();
            for Row { line, cells } in csv_rows(text, &CATALOGUE)? {
                let [id, fr, en, rest @ ..] = cells.as_slice() else {
                    return Err(too_few(line, &cells, &CATALOGUE));
                };
                let id: ItemId = id
                    .parse()
                    .map_err(|problem| ImportError::BadCell { line, problem })?;
                let sizes = rest
                    .first()
                    .map(|s| {
                        // Trimmed each: a tab the cell kept inside
                        // would not come back from an export, whose cell
                        // the reader trims.
                        s.split([';', ' '])
                            .map(str::trim)
                            .filter(|s| !s.is_empty())
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default();
                let item = CatalogueItem {
                    label: Label {
                        fr: fr.clone(),
                        en: en.clone(),
                    },
                    sizes,
                    active: true,
                    order: 0,
                    minimum: None,
                };
                item.validate().map_err(|p| bad_item(Some(line), &id, p))?;
                if items.contains_key(&id) {
                    return Err(ImportError::Twice {
                        line,
                        what: "item",
                        id: id.to_string(),
                    });
                }
                items.insert(id, item);
            }
            Ok(items)
        }
    }
}

/// An antenna's places, by id.
pub fn places(text: &str, format: Format) -> Result<BTreeMap<PlaceId, Place>, ImportError> {
    check_size(text)?;
    let bad_place = |line, id: &PlaceId, problem| ImportError::BadPlace {
        line,
        id: id.clone(),
        problem,
    };
    match format {
        Format::Json => {
            let places: BTreeMap<PlaceId, Place> =
                serde_json::from_str(text).map_err(|e| ImportError::NotPlacesJson {
                    detail: e.to_string(),
                })?;
            check_rows(places.len(), PLACES.what)?;
            for (id, place) in &places {
                place.validate().map_err(|p| bad_place(None, id, p))?;
            }
            Ok(places)
        }
        Format::Csv => {
            let mut places = BTreeMap::new();
            for Row { line, cells } in csv_rows(text, &PLACES)? {
                let [id, name, rest @ ..] = cells.as_slice() else {
                    return Err(too_few(line, &cells, &PLACES));
                };
                let id: PlaceId = id
                    .parse()
                    .map_err(|problem| ImportError::BadCell { line, problem })?;
                let kind = match rest.first().filter(|k| !k.is_empty()) {
                    Some(k) => k
                        .parse()
                        .map_err(|problem| ImportError::BadCell { line, problem })?,
                    None => PlaceKind::LivingPlace,
                };
                let place = Place {
                    name: name.clone(),
                    kind,
                    active: true,
                };
                place
                    .validate()
                    .map_err(|p| bad_place(Some(line), &id, p))?;
                if places.contains_key(&id) {
                    return Err(ImportError::Twice {
                        line,
                        what: "place",
                        id: id.to_string(),
                    });
                }
                places.insert(id, place);
            }
            Ok(places)
        }
    }
}

fn check_size(text: &str) -> Result<(), ImportError> {
    if text.len() > MAX_BYTES {
        return Err(ImportError::TooLarge { max: MAX_BYTES });
    }
    Ok(())
}

fn check_rows(n: usize, what: &'static str) -> Result<(), ImportError> {
    if n > MAX_ROWS {
        return Err(ImportError::TooManyRows {
            what,
            max: MAX_ROWS,
        });
    }
    Ok(())
}

/// The columns a CSV of one kind of reference data must have.
struct Columns {
    expected: &'static str,
    /// What its rows are, in a message.
    what: &'static str,
}

const CATALOGUE: Columns = Columns {
    expected: "id,fr,en[,sizes]",
    what: "items",
};

const PLACES: Columns = Columns {
    expected: "id,name[,kind]",
    what: "places",
};

/// A CSV row that is not blank, its cells as Maraude exported them.
struct Row {
    line: u64,
    cells: Vec<String>,
}

/// The line where a row starts, as the coordinator's editor counts them.
/// The reader's position is where it began reading the row, before the
/// blank lines it skipped.
fn line_of(text: &str, position: &csv::Position) -> u64 {
    let skipped = usize::try_from(position.byte())
        .ok()
        .and_then(|byte| text.as_bytes().get(byte..))
        .unwrap_or_default()
        .iter()
        .take_while(|b| matches!(b, b'\r' | b'\n'))
        .filter(|b| **b == b'\n')
        .count();
    position.line().saturating_add(skipped as u64)
}

fn too_few(line: u64, cells: &[String], columns: &Columns) -> ImportError {
    ImportError::TooFewColumns {
        line,
        found: cells.len(),
        expected: columns.expected,
    }
}

/// The rows after the header that are not blank, at least one.
fn csv_rows(text: &str, columns: &Columns) -> Result<Vec<Row>, ImportError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut record = csv::StringRecord::new();
    let mut rows = Vec::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let line = e.position().map_or(reader.position().line(), |p| p.line());
                return Err(ImportError::NotCsv {
                    line,
                    detail: e.to_string(),
                });
            }
        }
        let line = line_of(text, record.position().unwrap_or(reader.position()));
        if record.iter().all(str::is_empty) {
            continue;
        }
        check_rows(rows.len() + 1, columns.what)?;
        rows.push(Row {
            line,
            // What Maraude exported comes back as it was.
            cells: record.iter().map(|c| read_cell(c).to_string()).collect(),
        });
    }
    if rows.is_empty() {
        return Err(ImportError::NoRows {
            expected: columns.expected,
        });
    }
    Ok(rows)
}

#[cfg(test)]
mod tests;
