// The entry forms' state, and how it becomes what the core expects. Pure:
// the form component holds a Draft, these functions say what is missing and
// build the NewEntry (and NewCase) to send. The core checks everything again.
import type {
  Composition,
  Entry,
  EntryContent,
  EntryEdit,
  IncidentType,
  NewCase,
  NewEntry,
  Need,
  Service,
  Urgency,
  Vulnerability,
} from '../lib/api';
import { ZONE } from '../lib/format';

/** The kinds of entry that have a form (distributions use the quick log). */
export const FORM_KINDS = ['headcount', 'arrival', 'shelter_request', 'referral', 'incident', 'note'] as const;
/** A distribution has a form too, to correct one. */
export type FormKind = (typeof FORM_KINDS)[number] | 'distribution';

/** Languages met most often on the coast, as codes stored in the entry. */
// Those the teams meet most (field guide; issue 17 added Urdu, Vietnamese
// and Sorani beside Kurmanji's "ku"), then "another" (`und`).
export const COMMON_LANGUAGES = ['ar', 'ps', 'fa', 'ur', 'ti', 'am', 'so', 'ku', 'ckb', 'vi', 'en', 'fr', 'und'] as const;

/** The catalogue's "other" (core `ItemId::other`): it asks what was given. */
export const OTHER_ITEM = 'other';

export interface Draft {
  kind: FormKind;
  item: string;
  size: string;
  quantity: number;
  /** Group size, household size, people met or people affected. */
  people: number;
  vulnerable: number;
  composition: Composition;
  languages: string[];
  needs: Need[];
  /** A note's or incident's words; for a distribution of "other", what
   * was given. */
  text: string;
  /** The person a case is for: an alias, never a full name. */
  alias: string;
  phone: string;
  vulnerabilities: Vulnerability[];
  called115: boolean;
  answer115: string;
  service: Service | '';
  urgency: Urgency;
  accompanied: boolean;
  incidentType: IncidentType | '';
  reportedTo: string;
  /** The team members who saw an incident (their nicknames). */
  witnesses: string[];
  /** When an incident happened, `HH:MM` in Paris, if not when it is
   * logged: the team often logs it once the people are safe. */
  time: string;
  /** The case of the entry being corrected (shelter request, referral). */
  caseId: string;
}

export function emptyComposition(): Composition {
  return { men: 0, women: 0, children: 0, minors_alone: 0 };
}

export function newDraft(kind: FormKind): Draft {
  return {
    kind,
    item: '',
    size: '',
    quantity: 1,
    people: kind === 'incident' ? 0 : 1,
    vulnerable: 0,
    composition: emptyComposition(),
    languages: [],
    needs: [],
    text: '',
    alias: '',
    phone: '',
    vulnerabilities: [],
    called115: false,
    answer115: '',
    service: '',
    urgency: 'routine',
    accompanied: false,
    incidentType: '',
    reportedTo: '',
    witnesses: [],
    time: '',
    caseId: '',
  };
}

/** A draft holding an entry's values, to correct it. */
export function draftOf(entry: Entry): Draft {
  const d = newDraft(entry.kind);
  switch (entry.kind) {
    case 'distribution':
      d.item = entry.item;
      d.size = entry.size ?? '';
      d.text = entry.what ?? '';
      d.quantity = entry.quantity;
      d.people = entry.people ?? 0;
      d.composition = { ...emptyComposition(), ...entry.composition };
      break;
    case 'headcount':
      d.people = entry.people;
      d.vulnerable = entry.vulnerable;
      d.composition = { ...emptyComposition(), ...entry.composition };
      break;
    case 'arrival':
      d.people = entry.group_size;
      d.composition = { ...emptyComposition(), ...entry.composition };
      d.languages = [...(entry.languages ?? [])];
      d.needs = [...(entry.needs ?? [])];
      d.text = entry.information_given ?? '';
      break;
    case 'shelter_request':
      d.people = entry.household_size;
      d.composition = { ...emptyComposition(), ...entry.composition };
      d.caseId = entry.case;
      break;
    case 'referral':
      d.service = entry.service;
      d.urgency = entry.urgency;
      d.accompanied = entry.accompanied ?? false;
      d.caseId = entry.case;
      break;
    case 'incident':
      d.incidentType = entry.incident_type;
      d.people = entry.people_affected;
      d.text = entry.description;
      d.reportedTo = entry.reported_to ?? '';
      d.witnesses = [...(entry.witnesses ?? [])];
      d.time = parisTime(entry.at);
      break;
    case 'note':
      d.text = entry.text;
      break;
  }
  return d;
}

/** The fields a form shows as required, for the missing ones' messages. */
export type Required =
  | 'item'
  | 'quantity'
  | 'people'
  | 'alias'
  | 'service'
  | 'reason'
  | 'incident_type'
  | 'description'
  | 'text'
  | 'breakdown'
  | 'time'
  | 'what';

/** Whether the draft opens a case (a new shelter request or referral). */
export function opensCase(d: Draft): boolean {
  return (d.kind === 'shelter_request' || d.kind === 'referral') && d.caseId === '';
}

/** What must be filled before the draft can be saved; empty when ready. */
export function missing(d: Draft): Required[] {
  const out: Required[] = [];
  const blank = (s: string) => s.trim() === '';
  switch (d.kind) {
    case 'distribution':
      if (d.item === '') out.push('item');
      if (d.item === OTHER_ITEM && blank(d.text)) out.push('what');
      if (d.quantity < 1) out.push('quantity');
      break;
    case 'headcount':
    case 'arrival':
    case 'shelter_request':
      if (d.people < 1) out.push('people');
      break;
    case 'referral':
      if (d.service === '') out.push('service');
      if (opensCase(d) && blank(d.text)) out.push('reason');
      break;
    case 'incident':
      if (d.incidentType === '') out.push('incident_type');
      if (blank(d.text)) out.push('description');
      break;
    case 'note':
      if (blank(d.text)) out.push('text');
      break;
  }
  if (opensCase(d) && blank(d.alias)) out.push('alias');
  if (breakdownOver(d)) out.push('breakdown');
  if (d.kind === 'incident' && d.time !== '' && !/^([01]\d|2[0-3]):[0-5]\d$/.test(d.time)) out.push('time');
  return out;
}

/** How many people the breakdown counts (men, women, children, minors
 * alone: the core adds them up the same way). */
export function breakdownTotal(d: Draft): number {
  const c = d.composition;
  return c.men + c.women + c.children + c.minors_alone;
}

/** The breakdown counts more people than the group, household or headcount
 * (the core refuses it): said while typing, not after a refusal. */
export function breakdownOver(d: Draft): boolean {
  const counted = d.kind === 'headcount' || d.kind === 'arrival' || d.kind === 'shelter_request';
  return counted && breakdownTotal(d) > d.people;
}

/** The calendar fields of an instant in Paris (from `formatToParts`: a
 * formatted date's layout differs between engines). */
function parisFields(at: Date): { year: number; month: number; day: number; hour: number; minute: number } {
  const parts = new Intl.DateTimeFormat('en-GB', {
    timeZone: ZONE,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(at);
  const n = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return { year: n('year'), month: n('month'), day: n('day'), hour: n('hour'), minute: n('minute') };
}

/** `HH:MM` of an instant, in Paris. */
export function parisTime(iso: string): string {
  const f = parisFields(new Date(iso));
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(f.hour)}:${two(f.minute)}`;
}

/** The last instant at `HH:MM` Paris time not after `now` (an incident
 * logged at 00:20 that happened at 23:50 happened yesterday), as RFC 3339. */
export function lastAt(hhmm: string, now: Date): string {
  const [h = 0, m = 0] = hhmm.split(':').map(Number);
  // Paris's offset from UTC at an instant, in minutes.
  const offset = (at: Date) => {
    const f = parisFields(at);
    const local = Date.UTC(f.year, f.month - 1, f.day, f.hour, f.minute);
    return Math.round((local - Math.floor(at.getTime() / 60000) * 60000) / 60000);
  };
  const today = parisFields(now);
  for (const back of [0, 1]) {
    const guess = new Date(Date.UTC(today.year, today.month - 1, today.day - back, h, m));
    const at = new Date(guess.getTime() - offset(guess) * 60000);
    if (at.getTime() <= now.getTime()) return at.toISOString();
  }
  return now.toISOString();
}

/** Nonzero composition only: an untouched breakdown is not recorded. */
function composition(c: Composition): Composition {
  return { ...c };
}

function optional(s: string): string | undefined {
  return s.trim() === '' ? undefined : s.trim();
}

/** The entry's content. The case id of a new case is set by the store. */
export function contentOf(d: Draft): EntryContent {
  switch (d.kind) {
    case 'distribution':
      return {
        kind: 'distribution',
        item: d.item,
        size: optional(d.size),
        // "Other" says what it was (the draft's text); any other item names it.
        what: d.item === OTHER_ITEM ? optional(d.text) : undefined,
        quantity: d.quantity,
        people: d.people > 0 ? d.people : undefined,
        composition: composition(d.composition),
      };
    case 'headcount':
      return { kind: 'headcount', people: d.people, vulnerable: d.vulnerable, composition: composition(d.composition) };
    case 'arrival':
      return {
        kind: 'arrival',
        group_size: d.people,
        composition: composition(d.composition),
        languages: [...d.languages],
        needs: [...d.needs],
        information_given: d.text.trim(),
      };
    case 'shelter_request':
      return {
        kind: 'shelter_request',
        case: d.caseId || NIL_CASE,
        household_size: d.people,
        composition: composition(d.composition),
      };
    case 'referral':
      return {
        kind: 'referral',
        case: d.caseId || NIL_CASE,
        service: d.service as Service,
        urgency: d.urgency,
        accompanied: d.accompanied,
      };
    case 'incident':
      return {
        kind: 'incident',
        incident_type: d.incidentType as IncidentType,
        people_affected: d.people,
        description: d.text.trim(),
        witnesses: [...d.witnesses],
        reported_to: optional(d.reportedTo),
      };
    case 'note':
      return { kind: 'note', text: d.text.trim() };
  }
}

/** Stands for the case id until the store sets the new case's own. */
export const NIL_CASE = '00000000-0000-0000-0000-000000000000';

export function newEntryOf(d: Draft, place: string | undefined, now: Date = new Date()): NewEntry {
  const at = d.kind === 'incident' && d.time !== '' ? lastAt(d.time, now) : undefined;
  return { ...contentOf(d), place, at };
}

/** The case a new shelter request or referral opens, with its person. */
export function newCaseOf(d: Draft): NewCase | null {
  if (!opensCase(d)) return null;
  const person = { alias: d.alias.trim(), phone: optional(d.phone), languages: [...d.languages] };
  if (d.kind === 'shelter_request') {
    return {
      person,
      request: 'shelter',
      household_size: d.people,
      composition: composition(d.composition),
      vulnerabilities: [...d.vulnerabilities],
      called_115: d.called115,
      answer_115: d.called115 ? optional(d.answer115) : undefined,
    };
  }
  return {
    person,
    request: 'referral',
    service: d.service as Service,
    urgency: d.urgency,
    reason: d.text.trim(),
  };
}

/** Adds `value` to the list, or takes it out if there. */
export function toggle<T>(list: T[], value: T): T[] {
  return list.includes(value) ? list.filter((v) => v !== value) : [...list, value];
}

/** The correction of `entry`: new content, same time, the place given. */
export function editOf(d: Draft, entry: Entry, place: string | undefined): EntryEdit {
  // A time changed moves the entry to its last such moment before it was
  // logged; otherwise it keeps its own.
  const moved = d.kind === 'incident' && d.time !== '' && d.time !== parisTime(entry.at);
  return { ...contentOf(d), at: moved ? lastAt(d.time, new Date(entry.logged_at)) : entry.at, place };
}
