// Generated from the Rust types by src-tauri/src/bindings.rs: do not edit.
// After changing a Rust type: UPDATE_BINDINGS=1 cargo test -p maraude-app bindings

export type AddedPlace = { place: PlaceId, antenna: Antenna, };

export type AgeGroup = "child" | "minor" | "young_adult" | "adult" | "senior";

/**
 * The reference data of one antenna, as held in its antenna document.
 */
export type Antenna = { id: AntennaId, name: string, catalogue: { [key in ItemId]: CatalogueItem }, places: { [key in PlaceId]: Place }, volunteers: { [key in Nickname]: Volunteer }, settings: Settings, };

/**
 * One antenna (local branch) of an association.
 */
export type AntennaId = string;

/**
 * A failed command, as the UI receives it: `code` says which case it is (the
 * UI shows its own translated text for the codes it knows), `message` says
 * what went wrong and what to do, in English, for the others.
 */
export type AppError = { code: string, message: string, };

export type Arrivals = { groups: number, people: number, composition: Composition, languages: { [key in string]: number }, needs: { [key in Need]?: number }, };

/**
 * A follow-up case as stored in its own document.
 */
export type Case = { id: CaseId, antenna: AntennaId, opened_at: string, opened_by: Nickname, opened_in_shift: ShiftId, person: Person, updates: Array<CaseUpdate>, } & ({ "request": "shelter", household_size: number, composition: Composition, vulnerabilities: Array<Vulnerability>, 
/**
 * Whether the emergency shelter line (115) was called.
 */
called_115: boolean, answer_115?: string | null, } | { "request": "referral", service: Service, urgency: Urgency, reason: string, 
/**
 * The volunteer who goes along, if anyone does.
 */
accompanied_by?: Nickname | null, }) & ({ "status": "open" } | { "status": "closed", closed_at: string, } & ({ "outcome": "placed", place: string, } | { "outcome": "no_place" } | { "outcome": "refused" } | { "outcome": "lost_contact" } | { "outcome": "seen" } | { "outcome": "not_seen" }));

export type CaseAction = { "action": "note", note: string, } | { "action": "closed", } & ({ "outcome": "placed", place: string, } | { "outcome": "no_place" } | { "outcome": "refused" } | { "outcome": "lost_contact" } | { "outcome": "seen" } | { "outcome": "not_seen" }) | { "action": "reopened", reason: string, };

/**
 * One follow-up case (shelter request or referral).
 */
export type CaseId = string;

export type CaseKind = "shelter_request" | "referral";

export type CaseLine = { case: CaseId, short: string, people: number, 
/**
 * Service for a referral, "shelter" for a shelter request.
 */
detail: string, urgent: boolean, open: boolean, outcome: string | null, };

/**
 * A case as listed in the antenna document. After erasure, only this stays
 * (see [`crate::erasure`]): no alias, no phone, no free text; the outcome
 * and closing date only so that the period figures do not change.
 */
export type CaseRef = { kind: CaseKind, opened_at: string, outcome?: string | null, closed_at?: string | null, erased_at?: string | null, erased_because?: ErasedBecause | null, erased_by?: Nickname | null, };

export type CaseTotals = { shelter_requests_opened: number, referrals_opened: number, still_open: number, outcomes: { [key in string]: number }, };

/**
 * One step of the follow-up, appended by whichever shift acted.
 */
export type CaseUpdate = { at: string, by: Nickname, device: DeviceId, shift?: ShiftId | null, } & ({ "action": "note", note: string, } | { "action": "closed", } & ({ "outcome": "placed", place: string, } | { "outcome": "no_place" } | { "outcome": "refused" } | { "outcome": "lost_contact" } | { "outcome": "seen" } | { "outcome": "not_seen" }) | { "action": "reopened", reason: string, });

export type CatalogueItem = { label: Label, 
/**
 * Sizes a distribution of this item must name (shoes: 38…46); empty when
 * the item has no sizes.
 */
sizes: Array<string>, 
/**
 * Retired items stay in the catalogue so that old entries keep their
 * label, but cannot be logged any more.
 */
active: boolean, 
/**
 * Position on the quick-log screen.
 */
order: number, 
/**
 * What the warehouse keeps on its shelves at least: the needs list
 * asks for what would go below it.
 */
minimum?: number | null, };

export type CensusLine = { place: PlaceId, name: string, date: string, people: number, composition: Composition, vulnerable: number, };

/**
 * What a clearing left.
 */
export type Cleared = { 
/**
 * Documents deleted: the server holds each as this tablet had it.
 */
documents: number, 
/**
 * Documents kept because the server does not hold them yet.
 */
kept: number, };

/**
 * A closed case the tablet still holds (until the antenna's retention
 * erases it): to look back at, or reopen.
 */
export type ClosedFollowUp = { case: CaseId, short: string, kind: CaseKind, alias: string, opened_at: string, closed_at: string, 
/**
 * Its code (`placed`, `no_place`, …), as the outcome's `outcome`.
 */
outcome: string, people: number, };

/**
 * A rough breakdown of a group. Counts only; all optional (zero).
 */
export type Composition = { men: number, women: number, children: number, 
/**
 * Unaccompanied minors (MNA).
 */
minors_alone: number, };

/**
 * One device (tablet, laptop, server) holding a store.
 */
export type DeviceId = string;

/**
 * What the settings screen shows about this device.
 */
export type DeviceInfo = { device: DeviceId, store: string, version: string, };

/**
 * Where this tablet syncs, for Settings: never the credential.
 */
export type Enrolment = { server: string, 
/**
 * The device's role on the server.
 */
role: Role, antenna: string, };

export type EnrolmentCode = { 
/**
 * Single use; typed or scanned on the new device.
 */
code: string, role: Role, expires_at: string, };

/**
 * One entry of a shift's log as stored.
 */
export type Entry = { id: EntryId, 
/**
 * When it happened (the volunteer may log it a little later).
 */
at: string, place?: PlaceId | null, logged_by: Nickname, logged_at: string, device: DeviceId, void?: Void | null, history: Array<Revision>, } & ({ "kind": "distribution", item: ItemId, size?: string | null, quantity: Quantity, 
/**
 * How many people were served, when someone counted.
 */
people?: number | null, composition: Composition, 
/**
 * What was given, in a few words, when the item is the catalogue's
 * "other" ([`ItemId::is_other`]): "other" alone tells the warehouse nothing.
 */
what?: string | null, } | { "kind": "headcount", people: number, composition: Composition, 
/**
 * People flagged as vulnerable, so they can be referred.
 */
vulnerable: number, } | { "kind": "arrival", group_size: number, composition: Composition, languages: Array<string>, needs: Array<Need>, information_given: string, } | { "kind": "shelter_request", case: CaseId, household_size: number, composition: Composition, } | { "kind": "referral", case: CaseId, service: Service, urgency: Urgency, accompanied: boolean, } | { "kind": "incident", incident_type: IncidentType, people_affected: number, description: string, witnesses: Array<Nickname>, 
/**
 * To whom it was reported (police, ombudsman, lawyer), if it was.
 */
reported_to?: string | null, } | { "kind": "note", text: string, });

/**
 * What an entry records. The tag `kind` is stored in the document, so
 * variant and field names are part of the document format: rename nothing.
 */
export type EntryContent = { "kind": "distribution", item: ItemId, size?: string | null, quantity: Quantity, 
/**
 * How many people were served, when someone counted.
 */
people?: number | null, composition: Composition, 
/**
 * What was given, in a few words, when the item is the catalogue's
 * "other" ([`ItemId::is_other`]): "other" alone tells the warehouse nothing.
 */
what?: string | null, } | { "kind": "headcount", people: number, composition: Composition, 
/**
 * People flagged as vulnerable, so they can be referred.
 */
vulnerable: number, } | { "kind": "arrival", group_size: number, composition: Composition, languages: Array<string>, needs: Array<Need>, information_given: string, } | { "kind": "shelter_request", case: CaseId, household_size: number, composition: Composition, } | { "kind": "referral", case: CaseId, service: Service, urgency: Urgency, accompanied: boolean, } | { "kind": "incident", incident_type: IncidentType, people_affected: number, description: string, witnesses: Array<Nickname>, 
/**
 * To whom it was reported (police, ombudsman, lawyer), if it was.
 */
reported_to?: string | null, } | { "kind": "note", text: string, };

/**
 * A correction: the full new content, time and place of the entry.
 */
export type EntryEdit = { at: string, place?: PlaceId | null, } & ({ "kind": "distribution", item: ItemId, size?: string | null, quantity: Quantity, 
/**
 * How many people were served, when someone counted.
 */
people?: number | null, composition: Composition, 
/**
 * What was given, in a few words, when the item is the catalogue's
 * "other" ([`ItemId::is_other`]): "other" alone tells the warehouse nothing.
 */
what?: string | null, } | { "kind": "headcount", people: number, composition: Composition, 
/**
 * People flagged as vulnerable, so they can be referred.
 */
vulnerable: number, } | { "kind": "arrival", group_size: number, composition: Composition, languages: Array<string>, needs: Array<Need>, information_given: string, } | { "kind": "shelter_request", case: CaseId, household_size: number, composition: Composition, } | { "kind": "referral", case: CaseId, service: Service, urgency: Urgency, accompanied: boolean, } | { "kind": "incident", incident_type: IncidentType, people_affected: number, description: string, witnesses: Array<Nickname>, 
/**
 * To whom it was reported (police, ombudsman, lawyer), if it was.
 */
reported_to?: string | null, } | { "kind": "note", text: string, });

/**
 * One entry in a shift's log.
 */
export type EntryId = string;

/**
 * Why a case was erased.
 */
export type ErasedBecause = "asked" | "retention";

/**
 * Where an exported file went, for the screen to say.
 */
export type Exported = { path: string, bytes: number, };

/**
 * An old shift kept as figures only (`Store::figures_only_shifts`).
 */
export type FiguresOnly = { id: ShiftId, kind: ShiftKind, date: string, 
/**
 * Its detail was asked of the server and has not come back yet.
 */
asked: boolean, };

/**
 * An open case, for the volunteers who follow it up. The alias is shown
 * here (it is how the team finds the person again) and nowhere else.
 */
export type FollowUp = { case: CaseId, short: string, kind: CaseKind, alias: string, opened_at: string, days_open: number, last_update: string, detail: string, urgent: boolean, people: number, };

/**
 * A tablet of the antenna found serving on the network, until the sync's
 * handshake proves it a teammate.
 */
export type Found = { 
/**
 * Its random name for this serving session, to tell two apart.
 */
name: string, 
/**
 * Where it serves, as it would show them.
 */
addresses: Array<string>, };

/**
 * The handover for a shift about to start.
 */
export type Handover = { 
/**
 * The notes of the last ended shift of this kind that left some.
 */
last: HandoverNote | null, 
/**
 * Open follow-ups marked urgent, oldest first.
 */
urgent: Array<FollowUp>, 
/**
 * What the last shift of this kind loaded, proposed as tonight's van
 * load (the team corrects what differs).
 */
load: ProposedLoad | null, };

/**
 * Notes left at the end of a shift, with which shift left them.
 */
export type HandoverNote = { shift: ShiftId, date: string, lead: Nickname, ended_at: string, notes: string, };

export type IncidentLine = { entry: EntryId, at: string, place: string | null, incident_type: IncidentType, people_affected: number, description: string, witnesses: Array<string>, reported_to: string | null, };

export type IncidentType = "eviction" | "destruction_of_belongings" | "violence" | "refused_transport" | "sea_interception" | "other";

/**
 * A catalogue item, e.g. `blanket`, `hygiene_kit_women`.
 */
export type ItemId = string;

export type ItemLine = { item: ItemId, label: string, quantity: number, entries: number, people_served: number, 
/**
 * For the catalogue's "other": what was given, each said once, in
 * the order first logged.
 */
what: Array<string>, };

/**
 * One item the warehouse will lack.
 */
export type ItemNeed = { item: ItemId, label: string, on_hand: number, 
/**
 * What the vans took (loaded − returned) per week, over the trend.
 */
per_week: number, 
/**
 * Expected to leave in the coming days.
 */
expected_use: number, minimum: number, 
/**
 * To ask for: expected use and minimum, less stock on hand.
 */
to_ask: number, 
/**
 * The sizes that will run short, for items with sizes: those whose
 * figure is below what the last weeks gave of them, projected.
 */
sizes: Array<string>, };

/**
 * Distributed, and taken out of and back to the warehouse by the vans.
 */
export type ItemTotal = { item: ItemId, label: string, distributed: number, entries: number, loaded: number, returned: number, };

export type JsonValue = number | string | boolean | Array<JsonValue> | { [key in string]: JsonValue } | null;

/**
 * A label in the two languages the interface speaks from the start.
 */
export type Label = { fr: string, en: string, };

/**
 * The languages of the interface and of the plain-text summaries.
 */
export type Lang = "fr" | "en";

/**
 * How the last sync this app ran ended.
 */
export type LastSync = { at: string, } & ({ "result": "synced", summary: SyncSummary, } | { "result": "failed", error: AppError, });

export type MonthTotal = { 
/**
 * `2026-11`
 */
month: string, shifts: number, distributed: number, people_met: number, arrivals_people: number, incidents: number, shelter_requests: number, referrals: number, 
/**
 * Incidents by type (`eviction`, …).
 */
incidents_by_type: { [key in string]: number }, };

export type Need = "medical" | "shelter" | "food" | "information" | "clothes" | "legal";

/**
 * What to ask donors for, for the next `days`.
 */
export type NeedsList = { antenna: string, today: string, days: number, 
/**
 * Items to ask for, the largest shortfall first.
 */
needs: Array<ItemNeed>, };

/**
 * What to ask donors for in the next `days`, and the call for donations.
 */
export type NeedsView = { list: NeedsList, text: string, };

/**
 * What a volunteer fills in to open a case.
 */
export type NewCase = { person: Person, } & ({ "request": "shelter", household_size: number, composition: Composition, vulnerabilities: Array<Vulnerability>, 
/**
 * Whether the emergency shelter line (115) was called.
 */
called_115: boolean, answer_115?: string | null, } | { "request": "referral", service: Service, urgency: Urgency, reason: string, 
/**
 * The volunteer who goes along, if anyone does.
 */
accompanied_by?: Nickname | null, });

/**
 * What the warehouse records. A count gives what the shelves hold; the
 * figure it corrects is the stock on hand when it is recorded.
 */
export type NewChange = { "movement": "receipt", quantity: number, source: Source, from: string, } | { "movement": "transfer_in", quantity: number, from: string, } | { "movement": "transfer_out", quantity: number, to: string, } | { "movement": "count", counted: number, reason: string, };

/**
 * What a volunteer fills in to log an entry.
 */
export type NewEntry = { 
/**
 * Defaults to now.
 */
at?: string | null, place?: PlaceId | null, } & ({ "kind": "distribution", item: ItemId, size?: string | null, quantity: Quantity, 
/**
 * How many people were served, when someone counted.
 */
people?: number | null, composition: Composition, 
/**
 * What was given, in a few words, when the item is the catalogue's
 * "other" ([`ItemId::is_other`]): "other" alone tells the warehouse nothing.
 */
what?: string | null, } | { "kind": "headcount", people: number, composition: Composition, 
/**
 * People flagged as vulnerable, so they can be referred.
 */
vulnerable: number, } | { "kind": "arrival", group_size: number, composition: Composition, languages: Array<string>, needs: Array<Need>, information_given: string, } | { "kind": "shelter_request", case: CaseId, household_size: number, composition: Composition, } | { "kind": "referral", case: CaseId, service: Service, urgency: Urgency, accompanied: boolean, } | { "kind": "incident", incident_type: IncidentType, people_affected: number, description: string, witnesses: Array<Nickname>, 
/**
 * To whom it was reported (police, ombudsman, lawyer), if it was.
 */
reported_to?: string | null, } | { "kind": "note", text: string, });

/**
 * A movement as typed at the warehouse, before it is checked and dated.
 */
export type NewMovement = { item: ItemId, size: string | null, change: NewChange, };

/**
 * What the team fills in when leaving.
 */
export type NewShift = { kind: ShiftKind, 
/**
 * Defaults to now.
 */
started_at?: string | null, lead: Nickname, team: Array<Nickname>, vehicle?: string | null, stock_loaded: { [key in ItemId]: number }, };

/**
 * A volunteer's nickname as the team knows them. Never a full legal name is
 * required; this is what appears in "logged by" and witness lists.
 */
export type Nickname = string;

/**
 * The night's log on one screen.
 */
export type NightReport = { shift: ShiftId, antenna: string, kind: ShiftKind, date: string, started_at: string, ended_at: string | null, lead: string, team: Array<string>, vehicle: string | null, places_visited: Array<string>, people_met: PeopleMet, arrivals: Arrivals, distributions: Array<ItemLine>, stock: Array<StockLine>, shelter_requests: Array<CaseLine>, referrals: Array<CaseLine>, incidents: Array<IncidentLine>, notes: Array<string>, handover: string, entries: number, edited: number, voided: number, };

/**
 * The night report, and its plain-text summary for the messaging group.
 */
export type NightReportView = { report: NightReport, text: string, };

/**
 * How a case ended.
 */
export type Outcome = { "outcome": "placed", place: string, } | { "outcome": "no_place" } | { "outcome": "refused" } | { "outcome": "lost_contact" } | { "outcome": "seen" } | { "outcome": "not_seen" };

/**
 * Headcounts at places.
 */
export type PeopleMet = { total: number, composition: Composition, vulnerable: number, by_place: Array<PlaceCount>, };

/**
 * Totals over a date range, with monthly trends for the activity report.
 */
export type PeriodReport = { antenna: string, from: string, to: string, shifts: number, shifts_by_kind: { [key in ShiftKind]?: number }, items: Array<ItemTotal>, places: Array<PlaceTotal>, months: Array<MonthTotal>, 
/**
 * Every week the period touches (from the first day the device holds
 * records), Monday first, empty ones included: the charts' time axis.
 */
weeks: Array<WeekTotal>, 
/**
 * The first day this device holds records for (`None`: none at all).
 * A period starting earlier is reported from there: tablets keep only
 * what their role needs, the server keeps the rest.
 */
held_since: string | null, people_met: number, people_met_composition: Composition, arrivals_groups: number, arrivals_people: number, arrivals_composition: Composition, incidents: { [key in string]: number }, incident_people_affected: number, referrals_by_service: { [key in string]: number }, cases: CaseTotals, 
/**
 * The last headcount of each place in the period: the census.
 */
census: Array<CensusLine>, };

/**
 * A period's report (leads and coordinators: the week's meeting, the
 * activity report), and its plain-text summary.
 */
export type PeriodReportView = { report: PeriodReport, text: string, 
/**
 * Of the period's shifts, those older than four weeks that this
 * tablet keeps as figures only (the server holds their detail),
 * newest first.
 */
figures_only: Array<FiguresOnly>, };

/**
 * A table of the period report, each its own CSV (the report screen's
 * "CSV" beside each table).
 */
export type PeriodTable = "items" | "places" | "weeks" | "months" | "incidents" | "cases" | "census";

/**
 * At most this about a person, and only with their agreement for the phone.
 */
export type Person = { alias: string, age_group?: AgeGroup | null, languages: Array<string>, phone?: string | null, };

/**
 * What the unlock screen shows before anything is typed.
 */
export type PinState = { "state": "not_set" } | { "state": "set", tries_left: number, };

export type Place = { name: string, kind: PlaceKind, active: boolean, };

export type PlaceCount = { place: PlaceId | null, name: string, people: number, };

/**
 * A living place or meeting point, e.g. `dunes-north`.
 */
export type PlaceId = string;

export type PlaceKind = "living_place" | "distribution_point" | "station" | "beach" | "day_centre" | "other";

export type PlaceTotal = { place: PlaceId | null, 
/**
 * Set on the line of old shifts' figures kept by place kind only
 * (`Settings::old_places_by_kind`); `place` is then `None`.
 */
kind: PlaceKind | null, name: string, people_met: number, distributed: number, arrivals_people: number, incidents: number, };

/**
 * A sync under way: documents in sync out of those to sync.
 */
export type Progress = { done: number, total: number, };

/**
 * The van load of an earlier shift of the same kind.
 */
export type ProposedLoad = { shift: ShiftId, date: string, stock: { [key in ItemId]: number }, };

/**
 * How many of something were handed out: never zero, never absurd.
 */
export type Quantity = number;

/**
 * Whether a PIN unlocks this tablet, with its tries left, and why a PIN
 * cannot be set when the tablet has no keystore.
 */
export type QuickUnlockStatus = { pin: PinState, 
/**
 * Why there is no keystore to keep a PIN's secret in; none when there is.
 */
no_keystore: string | null, };

/**
 * One change to the reference data, as a lead or coordinator makes it
 * from the app or the CLI ([`Antenna::apply`]). Who may make which is
 * `authority::check_reference_data`'s to say, on the tablet and on every
 * receiver: anyone adds a place, leads add and retire volunteers, the
 * rest is the coordinator's.
 */
export type ReferenceChange = { "change": "item", id: ItemId, label: Label, sizes: Array<string>, } | { "change": "move_item", id: ItemId, up: boolean, } | { "change": "item_active", id: ItemId, active: boolean, } | { "change": "item_minimum", id: ItemId, minimum: number | null, } | { "change": "place", id: PlaceId, name: string, kind: PlaceKind, } | { "change": "place_active", id: PlaceId, active: boolean, } | { "change": "volunteer", nickname: Nickname, role: Role, } | { "change": "volunteer_active", nickname: Nickname, active: boolean, } | { "change": "settings", settings: Settings, };

/**
 * A correction recorded in the entry's history. Nothing is ever silently
 * overwritten: an edit keeps the old and new value of each field changed.
 */
export type Revision = { at: string, by: Nickname, device: DeviceId, } & ({ "action": "edit", changes: { [key in string]: [JsonValue, JsonValue] }, } | { "action": "void", reason: string, });

/**
 * A device's role in its antenna, given at enrolment.
 */
export type Role = "volunteer" | "lead" | "coordinator";

/**
 * What the top bar and Settings show.
 */
export type ServerStatus = { 
/**
 * `None` until the tablet is enrolled.
 */
enrolment: Enrolment | null, 
/**
 * Documents changed here since the server last had them.
 */
to_send: number, syncing: Progress | null, 
/**
 * The last sync with the server: this run's, or else the last one
 * that went through as the store recorded it (after a restart).
 */
last_sync: LastSync | null, };

export type Service = "pass_clinic" | "hospital_emergency" | "legal_aid" | "child_protection" | "asylum_procedure" | "day_centre" | "other_association";

/**
 * Where teammates reach this tablet, to type on theirs.
 */
export type Serving = { address: string, 
/**
 * Whether teammates can find it on the network; if not (no multicast
 * here), they type the address.
 */
announced: boolean, };

/**
 * Antenna settings that change behaviour everywhere.
 */
export type Settings = { 
/**
 * Closed cases are erased this many days after closure.
 */
retention_days: number, 
/**
 * The figures a lead's tablet keeps of shifts older than its detail
 * window name each place's kind only, not the place: a seized
 * tablet then does not say where the antenna went, night after
 * night, over the year. Off unless set (and then not written, so
 * that antennas that never set it keep their documents as they were).
 */
old_places_by_kind?: boolean, 
/**
 * After this many minutes without an entry at the current place, the
 * quick log asks "still at …?" before the next one (the van may have
 * driven on); 0: never.
 */
place_reminder_minutes?: number, };

/**
 * One item's line of the stock.
 */
export type ShelfLine = { item: ItemId, label: string, 
/**
 * Can be negative: the vans took more than was recorded (a count
 * puts it right).
 */
on_hand: number, received: number, transferred_in: number, transferred_out: number, loaded: number, returned: number, 
/**
 * The counts' corrections, added up.
 */
corrected: number, 
/**
 * Per size, for the items that have sizes, in the catalogue's order.
 */
sizes: Array<SizeLine>, 
/**
 * The minimum the coordinator keeps on the shelves.
 */
minimum: number, 
/**
 * How many movements the warehouse recorded for it: an item it never
 * received nor counted (a phone charge, a hot meal) is not its stock.
 */
movements: number, };

/**
 * The shift's own fields, as stored in its document (entries aside).
 */
export type Shift = { id: ShiftId, antenna: AntennaId, kind: ShiftKind, 
/**
 * The day the shift started, in Paris time: a night maraude that ends
 * at 2 am belongs to the evening it started.
 */
date: string, started_at: string, ended_at?: string | null, lead: Nickname, team: Array<Nickname>, vehicle?: string | null, stock_loaded: { [key in ItemId]: number }, stock_returned: { [key in ItemId]: number }, handover: string, };

/**
 * What the team fills in when back: stock returned and handover notes.
 */
export type ShiftEnd = { ended_at?: string | null, stock_returned: { [key in ItemId]: number }, handover: string, };

/**
 * One shift: a maraude, a day-centre opening, an accompaniment run.
 */
export type ShiftId = string;

export type ShiftKind = "night_maraude" | "day_maraude" | "day_centre" | "accompaniment";

/**
 * One size of an item. The vans load and bring back without sizes, but
 * each distribution names its size: so a size's figure is what came in
 * of that size (receipts, transfers, counts) less what was given out of
 * it. Between shifts, once the vans have brought back what they did not
 * give, that is what the shelves hold of it.
 */
export type SizeLine = { size: string, on_hand: number, received: number, given: number, };

export type Source = "donation" | "purchase";

/**
 * What the first screen needs to know.
 */
export type Status = { 
/**
 * Whether this device holds an antenna (else: create one, or a demo).
 */
has_store: boolean, unlocked: boolean, 
/**
 * The app locks after this long untouched (10 minutes, unless
 * `MARAUDE_IDLE_LOCK_SECONDS` says otherwise).
 */
idle_lock_seconds: number, };

export type StockLine = { item: ItemId, label: string, loaded: number, distributed: number, returned: number, 
/**
 * loaded − distributed − returned, once the shift has ended: not zero
 * means a miscount, or something handed out without being logged.
 * `None` while the shift runs: what is still in the van is not missing.
 */
unaccounted: number | null, };

/**
 * One change to the warehouse's stock, as recorded.
 */
export type StockMovement = { id: string, at: string, by: Nickname, device: DeviceId, item: ItemId, 
/**
 * One of the item's sizes, for items that have them.
 */
size?: string | null, } & ({ "movement": "receipt", quantity: number, source: Source, 
/**
 * Who gave or sold it ("Secours populaire", "collecte lycée"):
 * an organisation, never a person's phone.
 */
from: string, } | { "movement": "transfer_in", quantity: number, from: string, } | { "movement": "transfer_out", quantity: number, to: string, } | { "movement": "count", counted: number, expected: number, reason: string, });

/**
 * Stock on hand of every item that moved, in the catalogue's order.
 */
export type StockReport = { 
/**
 * The warehouse's first movement: the vans count from that day on.
 */
since: string | null, lines: Array<ShelfLine>, movements: number, };

/**
 * What a sync did, for the summary line and the app's status. The app
 * keeps the last one in the store and reads it back: a field missing
 * from one written by an earlier version reads as 0.
 */
export type SyncSummary = { 
/**
 * Documents that had changed here since the server last had them.
 */
documents_sent: number, 
/**
 * Documents that came back with changes from the server.
 */
documents_received: number, 
/**
 * Changes received, over all documents.
 */
changes_received: number, 
/**
 * Documents the server refused or did not have (out of scope).
 */
documents_refused: number, 
/**
 * What the other side refused of this device's writes, and why (one
 * line each: the rule, in words that say what to do).
 */
refusals: Array<string>, 
/**
 * Sync-protocol payload bytes (not counting WebSocket and TCP framing).
 */
bytes_sent: number, bytes_received: number, 
/**
 * Follow-up cases erased on this device during the sync: by retention
 * here, or because their tombstone arrived.
 */
cases_erased: number, 
/**
 * Revoked devices the server's list had lost (restored from an older
 * backup) that it revokes again, taking back this tablet's list.
 */
revocations_restored: number, 
/**
 * Times the connection was cut and dialled again.
 */
reconnections: number, millis: number, 
/**
 * A teammate's tablet, by the name its certificate carries; `None`
 * for the server, or a certificate from before names.
 */
teammate: string | null, };

/**
 * `GET /v1/devices` — the antenna's devices, for a lead or coordinator.
 * (`Tablet` in the app's screens: a tablet of the antenna.)
 */
export type Tablet = { device: string, name: string, role: Role, enrolled_at: string, revoked_at: string | null, last_sync: string | null, };

export type Urgency = "routine" | "soon" | "urgent";

/**
 * Set when an entry was voided: it stays in the log, struck through, and
 * leaves every total.
 */
export type Void = { at: string, by: Nickname, reason: string, };

export type Volunteer = { role: Role, active: boolean, };

export type Vulnerability = "pregnancy" | "baby" | "illness" | "disability" | "minor_alone" | "woman_alone";

/**
 * One week (Monday to Sunday) of the period, for the charts over time.
 */
export type WeekTotal = { 
/**
 * The Monday that starts it (which may be before the period's start).
 */
start: string, 
/**
 * ISO week, `2026-W48`.
 */
week: string, 
/**
 * Distributed per item.
 */
items: { [key in ItemId]: number }, distributed: number, people_met: number, arrivals_people: number, arrivals_composition: Composition, incidents: number, };

/**
 * What the server was told of the erasure.
 */
export type Withdrawal = { "server": "not_enrolled" } | { "server": "revoked" } | { "server": "already_revoked" } | { "server": "not_reached", why: string, } | { "server": "refused", code: string, why: string, };
