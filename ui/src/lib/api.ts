// Every call from the UI to Rust goes through here: one typed function per
// command of src-tauri/src/commands.rs. The types mirror the JSON the core
// serialises (maraude-core's Antenna, Shift, Entry, NightReport).
import { invoke } from '@tauri-apps/api/core';

export type Lang = 'fr' | 'en';
export type ShiftKind = 'night_maraude' | 'day_maraude' | 'day_centre' | 'accompaniment';
export const SHIFT_KINDS: ShiftKind[] = ['night_maraude', 'day_maraude', 'day_centre', 'accompaniment'];

export interface Label {
  fr: string;
  en: string;
}

export interface CatalogueItem {
  label: Label;
  sizes: string[];
  active: boolean;
  order: number;
}

export interface Place {
  name: string;
  kind: string;
  active: boolean;
}

export interface Volunteer {
  role: 'volunteer' | 'lead' | 'coordinator';
  active: boolean;
}

export interface Antenna {
  id: string;
  name: string;
  catalogue: Record<string, CatalogueItem>;
  places: Record<string, Place>;
  volunteers: Record<string, Volunteer>;
}

export interface Shift {
  id: string;
  kind: ShiftKind;
  date: string;
  started_at: string;
  ended_at?: string;
  lead: string;
  team: string[];
  vehicle?: string;
  stock_loaded: Record<string, number>;
  stock_returned: Record<string, number>;
  handover: string;
}

export interface NewShift {
  kind: ShiftKind;
  lead: string;
  team: string[];
  vehicle?: string;
  stock_loaded?: Record<string, number>;
}

export interface Composition {
  men: number;
  women: number;
  children: number;
  minors_alone: number;
}

export const NEEDS = ['medical', 'shelter', 'food', 'information', 'clothes', 'legal'] as const;
export type Need = (typeof NEEDS)[number];
export const SERVICES = [
  'pass_clinic',
  'hospital_emergency',
  'legal_aid',
  'child_protection',
  'asylum_procedure',
  'day_centre',
  'other_association',
] as const;
export type Service = (typeof SERVICES)[number];
export const URGENCIES = ['routine', 'soon', 'urgent'] as const;
export type Urgency = (typeof URGENCIES)[number];
export const INCIDENT_TYPES = [
  'eviction',
  'destruction_of_belongings',
  'violence',
  'refused_transport',
  'sea_interception',
  'other',
] as const;
export type IncidentType = (typeof INCIDENT_TYPES)[number];
export const VULNERABILITIES = ['pregnancy', 'baby', 'illness', 'disability', 'minor_alone', 'woman_alone'] as const;
export type Vulnerability = (typeof VULNERABILITIES)[number];

/** What an entry records (the core's EntryContent, tag `kind`). */
export type EntryContent =
  | { kind: 'distribution'; item: string; size?: string; quantity: number; people?: number; composition?: Composition }
  | { kind: 'headcount'; people: number; vulnerable: number; composition?: Composition }
  | {
      kind: 'arrival';
      group_size: number;
      composition?: Composition;
      languages?: string[];
      needs?: Need[];
      information_given?: string;
    }
  | { kind: 'shelter_request'; case: string; household_size: number; composition?: Composition }
  | { kind: 'referral'; case: string; service: Service; urgency: Urgency; accompanied?: boolean }
  | {
      kind: 'incident';
      incident_type: IncidentType;
      people_affected: number;
      description: string;
      witnesses?: string[];
      reported_to?: string;
    }
  | { kind: 'note'; text: string };

export type EntryKind = EntryContent['kind'];

export type Entry = EntryContent & {
  id: string;
  at: string;
  place?: string;
  logged_by: string;
  logged_at: string;
  device: string;
  void?: { at: string; by: string; reason: string };
};

/** What a volunteer logs: the content, and where (the time is now). */
export type NewEntry = EntryContent & { place?: string };

/** A correction: the new content, time and place of an entry. */
export type EntryEdit = EntryContent & { at: string; place?: string };

export interface Person {
  alias: string;
  phone?: string;
  languages?: string[];
}

/** A shelter request or a referral, with the person it is for. */
export type NewCase = { person: Person } & (
  | {
      request: 'shelter';
      household_size: number;
      composition?: Composition;
      vulnerabilities?: Vulnerability[];
      called_115?: boolean;
      answer_115?: string;
    }
  | { request: 'referral'; service: Service; urgency: Urgency; reason: string; accompanied_by?: string }
);

export type Outcome =
  | { outcome: 'placed'; place: string }
  | { outcome: 'no_place' | 'refused' | 'lost_contact' | 'seen' | 'not_seen' };

export type CaseAction = { action: 'note'; note: string } | ({ action: 'closed' } & Outcome);

export type CaseKind = 'shelter_request' | 'referral';

export interface FollowUp {
  case: string;
  short: string;
  kind: CaseKind;
  alias: string;
  opened_at: string;
  days_open: number;
  last_update: string;
  detail: string;
  urgent: boolean;
  people: number;
}

export interface ShiftEnd {
  stock_returned: Record<string, number>;
  handover: string;
}

export interface ItemLine {
  item: string;
  label: string;
  quantity: number;
  entries: number;
  people_served: number;
}

export interface StockLine {
  item: string;
  label: string;
  loaded: number;
  distributed: number;
  returned: number;
  unaccounted: number;
}

export interface CaseLine {
  case: string;
  short: string;
  people: number;
  detail: string;
  urgent: boolean;
  open: boolean;
  outcome?: string;
}

export interface IncidentLine {
  entry: string;
  at: string;
  place?: string;
  incident_type: IncidentType;
  people_affected: number;
  description: string;
}

export interface NightReport {
  shift: string;
  antenna: string;
  kind: ShiftKind;
  date: string;
  started_at: string;
  ended_at?: string;
  lead: string;
  team: string[];
  people_met: { total: number; vulnerable: number };
  arrivals: { groups: number; people: number };
  distributions: ItemLine[];
  stock: StockLine[];
  shelter_requests: CaseLine[];
  referrals: CaseLine[];
  incidents: IncidentLine[];
  notes: string[];
  handover: string;
  entries: number;
  edited: number;
  voided: number;
}

export interface Exported {
  path: string;
  bytes: number;
}

export interface DeviceInfo {
  device: string;
  store: string;
  version: string;
}

export interface Status {
  has_store: boolean;
  unlocked: boolean;
}

/** Where this tablet syncs (never its credential). */
export interface Enrolment {
  server: string;
  role: 'volunteer' | 'lead' | 'coordinator';
  antenna: string;
}

/** What a sync did (maraude-sync's SyncSummary). */
export interface SyncSummary {
  documents_sent: number;
  documents_received: number;
  changes_received: number;
  documents_refused: number;
  /** What the other side refused of this tablet's writes, and why (the
   * sync crate's sentences): a modified or outdated tablet's. */
  refusals: string[];
  cases_erased: number;
  reconnections: number;
  millis: number;
}

export interface ErrorAnswer {
  code: string;
  message: string;
}

export type LastSync = { at: string } & (
  | { result: 'synced'; summary: SyncSummary }
  | { result: 'failed'; error: ErrorAnswer }
);

export interface ServerStatus {
  enrolment: Enrolment | null;
  /** Documents changed here since the server last had them. */
  to_send: number;
  syncing: { done: number; total: number } | null;
  /** The last sync with the server: this run's, or the last one that
   * went through as the store recorded it. */
  last_sync: LastSync | null;
}

/** This tablet serving its teammates: the address they type, and whether
 * they can find it on the network instead. */
export interface Serving {
  address: string;
  announced: boolean;
}

/** A code that enrols one more tablet (single use). */
export interface EnrolmentCode {
  code: string;
  role: 'volunteer' | 'lead' | 'coordinator';
  expires_at: string;
}

/** A tablet of the antenna, as the server knows it. */
export interface Tablet {
  device: string;
  name: string;
  role: 'volunteer' | 'lead' | 'coordinator';
  enrolled_at: string;
  revoked_at: string | null;
  last_sync: string | null;
}

/** A tablet of the antenna found serving on this network. */
export interface Found {
  /** Its random name for this serving session. */
  name: string;
  addresses: string[];
}

/** A case's tombstone: what stays of an erased case (no person data). */
export interface Tombstone {
  kind: CaseKind;
  opened_at: string;
  erased_at?: string;
}

/** A failed command: `code` picks the translated text (see i18n error.*). */
export class AppError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Commands answer {code, message}; Tauri itself answers a string (e.g. a
 * field it could not read). */
export function toAppError(e: unknown): AppError {
  if (e instanceof AppError) return e;
  if (typeof e === 'object' && e !== null && 'code' in e && 'message' in e) {
    return new AppError(String(e.code), String(e.message));
  }
  return new AppError('other', typeof e === 'string' ? e : String(e));
}

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (e) {
    throw toAppError(e);
  }
}

export const api = {
  status: () => call<Status>('status'),
  createAntenna: (name: string, passphrase: string) => call<Antenna>('create_antenna', { name, passphrase }),
  createDemoAntenna: (passphrase: string) => call<Antenna>('create_demo_antenna', { passphrase }),
  /** null: the tablet joined an antenna and has not received it yet. */
  unlock: (passphrase: string) => call<Antenna | null>('unlock', { passphrase }),
  lock: () => call<void>('lock'),
  antenna: () => call<Antenna>('antenna'),
  currentShift: () => call<Shift | null>('current_shift'),
  startShift: (shift: NewShift) => call<Shift>('start_shift', { shift }),
  logEntry: (shift: string, by: string, entry: NewEntry) => call<Entry>('log_entry', { shift, by, entry }),
  undoLast: (shift: string, by: string) => call<Entry>('undo_last', { shift, by }),
  entries: (shift: string) => call<Entry[]>('entries', { shift }),
  nightReport: (shift: string, lang: Lang) =>
    call<{ report: NightReport; text: string }>('night_report', { shift, lang }),
  /** The shift's anonymous entry for the case is derived from it by the core. */
  openCase: (shift: string, by: string, kase: NewCase, place: string | undefined) =>
    call<Entry>('open_case', { shift, by, case: kase, place: place ?? null }),
  editEntry: (entry: string, by: string, edit: EntryEdit) => call<Entry>('edit_entry', { entry, by, edit }),
  voidEntry: (entry: string, by: string, reason: string) => call<Entry>('void_entry', { entry, by, reason }),
  endShift: (shift: string, end: ShiftEnd) => call<Shift>('end_shift', { shift, end }),
  recentShifts: () => call<Shift[]>('recent_shifts'),
  followUps: () => call<FollowUp[]>('follow_ups'),
  actOnCase: (kase: string, by: string, action: CaseAction, shift?: string) =>
    call<unknown>('act_on_case', { case: kase, by, action, shift: shift ?? null }),
  exportNightCsv: (shift: string, lang: Lang) => call<Exported>('export_night_csv', { shift, lang }),
  deviceInfo: () => call<DeviceInfo>('device_info'),
  mayErase: (by: string) => call<boolean>('may_erase', { by }),
  eraseCase: (kase: string, by: string) => call<Tombstone>('erase_case', { case: kase, by }),
  serverStatus: () => call<ServerStatus>('server_status'),
  enrol: (server: string, code: string, deviceName: string) =>
    call<Enrolment>('enrol', { server, code, deviceName }),
  joinAntenna: (server: string, code: string, deviceName: string, passphrase: string) =>
    call<Enrolment>('join_antenna', { server, code, deviceName, passphrase }),
  firstSync: () => call<Antenna>('first_sync'),
  syncNow: () => call<LastSync>('sync_now'),
  serveTeammates: () => call<Serving>('serve_teammates'),
  stopServingTeammates: () => call<void>('stop_serving_teammates'),
  servingTeammates: () => call<Serving | null>('serving_teammates'),
  /** A failed sync is an answer (result 'failed'); an address that is none
   * is an error. */
  syncWithTeammate: (address: string) => call<LastSync>('sync_with_teammate', { address }),
  findTeammates: () => call<Found[]>('find_teammates'),
  newEnrolmentCode: (role: 'volunteer' | 'lead') => call<EnrolmentCode>('new_enrolment_code', { role }),
  antennaDevices: () => call<Tablet[]>('antenna_devices'),
  eraseThisTablet: (antennaName: string) => call<void>('erase_this_tablet', { antennaName }),
  registerAntenna: (server: string, token: string, deviceName: string) =>
    call<Enrolment>('register_antenna', { server, token, deviceName }),
  revokeDevice: (device: string) => call<Tablet>('revoke_device', { device }),
  syncWithFound: (found: Found) => call<LastSync>('sync_with_found', { found }),
};
