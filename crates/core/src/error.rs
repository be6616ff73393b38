//! What can be wrong with what a volunteer typed, or with a document that
//! arrived from elsewhere. Messages say what is wrong and what to do.

use thiserror::Error;

/// Input that breaks a rule of the field: nothing is written when this is
/// returned.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Invalid {
    #[error("unknown item \"{given}\" in antenna {antenna}; known items: {known}")]
    UnknownItem {
        given: String,
        antenna: String,
        known: String,
    },
    #[error(
        "item \"{item}\" is retired from the catalogue; pick another item, or ask a lead to add it back to the catalogue"
    )]
    RetiredItem { item: String },
    #[error("unknown place \"{given}\" in antenna {antenna}; known places: {known}")]
    UnknownPlace {
        given: String,
        antenna: String,
        known: String,
    },
    #[error("unknown volunteer \"{given}\"; known volunteers: {known}")]
    UnknownVolunteer { given: String, known: String },
    #[error("{who} was not on this shift's team ({team}); a witness is one of the team")]
    NotOnTheTeam { who: String, team: String },
    #[error("unknown size \"{given}\" for {item}; sizes: {known}")]
    UnknownSize {
        item: String,
        given: String,
        known: String,
    },
    #[error("{field} must be between {min} and {max}, got {given}")]
    OutOfRange {
        field: &'static str,
        min: u32,
        max: u32,
        given: i64,
    },
    #[error("{field} is too long: {given} characters, at most {max}; shorten it")]
    TooLong {
        field: &'static str,
        max: usize,
        given: usize,
    },
    #[error("{field} must not be empty")]
    Empty { field: &'static str },
    #[error("{field}: {given} of them, at most {max}; keep the ones the team uses")]
    TooMany {
        field: &'static str,
        max: usize,
        given: usize,
    },
    /// A code (`day_centre`) that names none; `why` lists the codes.
    #[error("{field}: {why}")]
    UnknownCode { field: &'static str, why: String },
    #[error("{field}: {why}")]
    BadText {
        field: &'static str,
        why: &'static str,
    },
    #[error(
        "{field} looks like it holds a phone number; personal data belongs in a follow-up case, not in the shift log"
    )]
    PersonalDataInLog { field: &'static str },
    #[error("the breakdown ({breakdown} people) is more than the {total} people counted")]
    BreakdownExceedsTotal { breakdown: u32, total: u32 },
    #[error("the end ({end}) is before the start ({start})")]
    EndBeforeStart { start: String, end: String },
    #[error("{what} at {at} is in the future; check the tablet's clock")]
    InTheFuture { what: &'static str, at: String },
    #[error(
        "not a valid {what}: \"{given}\"; use a lowercase slug like `sleeping_bag` or `dunes-north`"
    )]
    BadSlug { what: &'static str, given: String },
    #[error("not a valid {what}: \"{given}\"")]
    BadId { what: &'static str, given: String },
    #[error("{what} \"{given}\" is already in use")]
    Duplicate { what: &'static str, given: String },
    #[error("not a phone number: \"{given}\"; use digits, spaces and an optional leading +")]
    BadPhone { given: String },
    #[error(
        "{at} is outside the shift ({start} to {end}); check the time, or log it in the right shift"
    )]
    OutsideShift {
        at: String,
        start: String,
        end: String,
    },
    #[error("the shift has already ended")]
    AlreadyEnded,
    #[error("cannot change the kind of an entry (it is a {from}); void it and log a new {to}")]
    KindChange {
        from: &'static str,
        to: &'static str,
    },
    #[error("entry is voided; voided entries cannot be edited")]
    EntryVoided,
    #[error("a void needs a reason (what was wrong with the entry)")]
    VoidNeedsReason,
    #[error("the case is closed; reopen it first")]
    CaseClosed,
    #[error("the case is already open")]
    CaseOpen,
    #[error(
        "only an active lead or coordinator of the antenna may erase a case, and \"{who}\" is not one; ask a lead, or a coordinator to list them as a lead"
    )]
    NotALead { who: String },
    #[error(
        "a {by}'s tablet cannot {act} a {role}'s tablet; ask {}",
        crate::access::who_may_manage(*.role)
    )]
    RankTooLow {
        by: crate::access::Role,
        act: crate::access::DeviceAct,
        role: crate::access::Role,
    },
    #[error(
        "this is the antenna's last coordinator's tablet: enrol another coordinator's tablet first, then revoke this one"
    )]
    LastCoordinator,
    #[error("outcome \"{outcome}\" does not fit a {kind}; possible: {possible}")]
    OutcomeMismatch {
        outcome: String,
        kind: &'static str,
        possible: &'static str,
    },
    #[error("nothing to change")]
    NothingToChange,
    #[error(
        "the warehouse holds {on_hand} {item}, not {asked}; if the shelves hold more, record a count first"
    )]
    NotEnoughStock {
        item: String,
        on_hand: i64,
        asked: u32,
    },
}

impl Invalid {
    /// A stable code for programs: the app translates by it, the CLI adds
    /// its own hint by it, `--json` prints it. Never renamed.
    pub fn code(&self) -> &'static str {
        match self {
            Invalid::UnknownItem { .. } => "unknown_item",
            Invalid::RetiredItem { .. } => "retired_item",
            Invalid::UnknownPlace { .. } => "unknown_place",
            Invalid::UnknownVolunteer { .. } => "unknown_volunteer",
            Invalid::NotOnTheTeam { .. } => "not_on_the_team",
            Invalid::UnknownSize { .. } => "unknown_size",
            Invalid::OutOfRange { .. } => "out_of_range",
            Invalid::TooLong { .. } => "too_long",
            Invalid::Empty { .. } => "empty",
            Invalid::TooMany { .. } => "too_many",
            Invalid::UnknownCode { .. } => "unknown_code",
            Invalid::BadText { .. } => "bad_text",
            Invalid::PersonalDataInLog { .. } => "personal_data_in_log",
            Invalid::BreakdownExceedsTotal { .. } => "breakdown_exceeds_total",
            Invalid::EndBeforeStart { .. } => "end_before_start",
            Invalid::InTheFuture { .. } => "in_the_future",
            Invalid::BadSlug { .. } => "bad_slug",
            Invalid::BadId { .. } => "bad_id",
            Invalid::Duplicate { .. } => "duplicate",
            Invalid::BadPhone { .. } => "bad_phone",
            Invalid::OutsideShift { .. } => "outside_shift",
            Invalid::AlreadyEnded => "shift_ended",
            Invalid::KindChange { .. } => "kind_change",
            Invalid::EntryVoided => "entry_voided",
            Invalid::VoidNeedsReason => "void_needs_reason",
            Invalid::CaseClosed => "case_closed",
            Invalid::CaseOpen => "case_open",
            Invalid::NotALead { .. } => "not_a_lead",
            Invalid::RankTooLow { .. } => "rank_too_low",
            Invalid::LastCoordinator => "last_coordinator",
            Invalid::OutcomeMismatch { .. } => "outcome_mismatch",
            Invalid::NothingToChange => "nothing_to_change",
            Invalid::NotEnoughStock { .. } => "not_enough_stock",
        }
    }
}

/// A document that cannot be read as what it claims to be.
#[derive(Debug, Error)]
pub enum DocumentError {
    #[error(
        "this {kind} document uses schema version {found}, newer than this app ({supported}); update Maraude on this device"
    )]
    NewerSchema {
        kind: &'static str,
        found: u64,
        supported: u64,
    },
    #[error("not a {expected} document (it says \"{found}\")")]
    WrongKind {
        expected: &'static str,
        found: String,
    },
    #[error("malformed {kind} document: {detail}")]
    Malformed { kind: &'static str, detail: String },
    #[error("no entry {0} in this shift")]
    NoSuchEntry(String),
    #[error("automerge: {0}")]
    Automerge(#[from] automerge::AutomergeError),
    #[error(transparent)]
    Invalid(#[from] Invalid),
}
