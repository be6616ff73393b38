// Every call from the UI to Rust goes through here: one typed function per
// command of src-tauri/src/commands.rs. The types are the Rust types the
// commands take and answer, generated into ./bindings.ts (never edited by
// hand: src-tauri/src/bindings.rs says how to write it again).
import { invoke } from '@tauri-apps/api/core';
import type {
  AddedPlace,
  Antenna,
  Cleared,
  Enrolment,
  Case,
  CaseAction,
  CaseRef,
  ClosedFollowUp,
  DeviceInfo,
  Entry,
  EntryContent,
  EntryEdit,
  EnrolmentCode,
  Exported,
  FiguresOnly,
  Found,
  FollowUp,
  Handover,
  IncidentType,
  Lang,
  LastSync,
  Need,
  NewCase,
  NewEntry,
  NewShift,
  NightReportView,
  NeedsView,
  NewMovement,
  StockMovement,
  StockReport,
  PeriodReportView,
  PeriodTable,
  PlaceKind,
  PinState,
  QuickUnlockStatus,
  ReferenceChange,
  Role,
  ServerStatus,
  Service,
  Serving,
  Shift,
  ShiftEnd,
  ShiftKind,
  Status,
  Tablet,
  Urgency,
  Vulnerability,
  Withdrawal,
} from './bindings';

export type * from './bindings';
/** A failed command's answer, as Rust sends it. */
export type { AppError as ErrorAnswer } from './bindings';

/** Every code of a union the Rust types define, each once: TypeScript
 * refuses a list that misses one (`missing` names it). */
function every<T extends string>() {
  return <const L extends readonly T[]>(
    list: L & (Exclude<T, L[number]> extends never ? unknown : { missing: Exclude<T, L[number]> }),
  ): L => list;
}

export const SHIFT_KINDS = every<ShiftKind>()(['night_maraude', 'day_maraude', 'day_centre', 'accompaniment']);
export const NEEDS = every<Need>()(['medical', 'shelter', 'food', 'information', 'clothes', 'legal']);
export const SERVICES = every<Service>()([
  'pass_clinic',
  'hospital_emergency',
  'legal_aid',
  'child_protection',
  'asylum_procedure',
  'day_centre',
  'other_association',
]);
export const PLACE_KINDS = every<PlaceKind>()([
  'living_place',
  'distribution_point',
  'station',
  'beach',
  'day_centre',
  'other',
]);
export const URGENCIES = every<Urgency>()(['routine', 'soon', 'urgent']);
export const INCIDENT_TYPES = every<IncidentType>()([
  'eviction',
  'destruction_of_belongings',
  'violence',
  'refused_transport',
  'sea_interception',
  'other',
]);
export const VULNERABILITIES = every<Vulnerability>()([
  'pregnancy',
  'baby',
  'illness',
  'disability',
  'minor_alone',
  'woman_alone',
]);

export type EntryKind = EntryContent['kind'];

/** What stays of an erased case (no person data). */
export type Tombstone = CaseRef;

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
  /** Quick unlock: the store's key under a PIN and the system's keystore. */
  quickUnlockStatus: () => call<QuickUnlockStatus>('quick_unlock_status'),
  /** A wrong PIN costs a try: ask quickUnlockStatus how many are left. */
  unlockWithPin: (pin: string) => call<Antenna | null>('unlock_with_pin', { pin }),
  setPin: (passphrase: string, pin: string) => call<PinState>('set_pin', { passphrase, pin }),
  removePin: () => call<void>('remove_pin'),
  lock: () => call<void>('lock'),
  /** What the screen holds that is no record yet, kept in the encrypted
   * store (see unsaved.svelte.ts). */
  keepUnsaved: (state: string) => call<void>('keep_unsaved', { state }),
  unsaved: () => call<string | null>('unsaved'),
  antenna: () => call<Antenna>('antenna'),
  currentShift: () => call<Shift | null>('current_shift'),
  startShift: (shift: NewShift) => call<Shift>('start_shift', { shift }),
  logEntry: (shift: string, by: string, entry: NewEntry) => call<Entry>('log_entry', { shift, by, entry }),
  undoLast: (shift: string, by: string) => call<Entry>('undo_last', { shift, by }),
  entries: (shift: string) => call<Entry[]>('entries', { shift }),
  nightReport: (shift: string, lang: Lang) =>
    call<NightReportView>('night_report', { shift, lang }),
  /** The shift's anonymous entry for the case is derived from it by the core. */
  openCase: (shift: string, by: string, kase: NewCase, place: string | undefined) =>
    call<Entry>('open_case', { shift, by, case: kase, place: place ?? null }),
  editEntry: (entry: string, by: string, edit: EntryEdit) => call<Entry>('edit_entry', { entry, by, edit }),
  voidEntry: (entry: string, by: string, reason: string) => call<Entry>('void_entry', { entry, by, reason }),
  endShift: (shift: string, end: ShiftEnd) => call<Shift>('end_shift', { shift, end }),
  recentShifts: () => call<Shift[]>('recent_shifts'),
  followUps: () => call<FollowUp[]>('follow_ups'),
  /** A follow-up's page: the person, the request and every step. */
  caseDetails: (kase: string) => call<Case>('case_details', { case: kase }),
  /** A place found in the field; the answer holds the antenna with it. */
  addPlace: (name: string, kind: PlaceKind) => call<AddedPlace>('add_place', { name, kind }),
  /** The last notes of a shift of `kind` and the urgent follow-ups. */
  handover: (kind: ShiftKind) => call<Handover>('handover', { kind }),
  actOnCase: (kase: string, by: string, action: CaseAction, shift?: string) =>
    call<unknown>('act_on_case', { case: kase, by, action, shift: shift ?? null }),
  exportNightCsv: (shift: string, lang: Lang) => call<Exported>('export_night_csv', { shift, lang }),
  /** Totals, weeks and months between two days (`2026-11-23`), both included. */
  periodReport: (from: string, to: string, lang: Lang) => call<PeriodReportView>('period_report', { from, to, lang }),
  wantDetail: (shift: string) => call<FiguresOnly>('want_detail', { shift }),
  exportPeriodCsv: (from: string, to: string, lang: Lang, table: PeriodTable) =>
    call<Exported>('export_period_csv', { from, to, lang, table }),
  stock: (lang: Lang) => call<StockReport>('stock', { lang }),
  recordMovement: (by: string, movement: NewMovement) => call<StockMovement>('record_movement', { by, movement }),
  /** What to ask donors for in the next `days`, with the call to paste. */
  needs: (days: number, lang: Lang) => call<NeedsView>('needs', { days, lang }),
  /** The coordinator's minimum of an item on the shelves (null: none). */
  setMinimum: (item: string, minimum: number | null) => call<Antenna>('set_minimum', { item, minimum }),
  closedFollowUps: () => call<ClosedFollowUp[]>('closed_follow_ups'),
  /** The catalogue, a place or a volunteer, from the lists screen. */
  changeReference: (change: ReferenceChange) => call<Antenna>('change_reference', { change }),
  deviceInfo: () => call<DeviceInfo>('device_info'),
  mayErase: (by: string) => call<boolean>('may_erase', { by }),
  eraseCase: (kase: string, by: string) => call<Tombstone>('erase_case', { case: kase, by }),
  serverStatus: () => call<ServerStatus>('server_status'),
  /** `plainHttp`: the volunteer said the network is trusted for an
   * http:// address (Rust refuses one to another machine otherwise). */
  enrol: (server: string, plainHttp: boolean, code: string, deviceName: string) =>
    call<Enrolment>('enrol', { server, plainHttp, code, deviceName }),
  joinAntenna: (server: string, plainHttp: boolean, code: string, deviceName: string, passphrase: string) =>
    call<Enrolment>('join_antenna', { server, plainHttp, code, deviceName, passphrase }),
  firstSync: () => call<Antenna>('first_sync'),
  syncNow: () => call<LastSync>('sync_now'),
  serveTeammates: () => call<Serving>('serve_teammates'),
  stopServingTeammates: () => call<void>('stop_serving_teammates'),
  servingTeammates: () => call<Serving | null>('serving_teammates'),
  /** A failed sync is an answer (result 'failed'); an address that is none
   * is an error. */
  syncWithTeammate: (address: string) => call<LastSync>('sync_with_teammate', { address }),
  findTeammates: () => call<Found[]>('find_teammates'),
  newEnrolmentCode: (role: Exclude<Role, 'coordinator'>) => call<EnrolmentCode>('new_enrolment_code', { role }),
  antennaDevices: () => call<Tablet[]>('antenna_devices'),
  /** Deletes what the server already holds; the UI locks right after. */
  clearThisTablet: (antennaName: string) => call<Cleared>('clear_this_tablet', { antennaName }),
  /** What the server was told, to say at the first start that follows. */
  eraseThisTablet: (antennaName: string) => call<Withdrawal>('erase_this_tablet', { antennaName }),
  registerAntenna: (server: string, plainHttp: boolean, token: string, deviceName: string) =>
    call<Enrolment>('register_antenna', { server, plainHttp, token, deviceName }),
  revokeDevice: (device: string) => call<Tablet>('revoke_device', { device }),
  syncWithFound: (found: Found) => call<LastSync>('sync_with_found', { found }),
};
