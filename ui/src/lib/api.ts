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
}

export interface Composition {
  men: number;
  women: number;
  children: number;
  minors_alone: number;
}

export type EntryContent =
  | { kind: 'distribution'; item: string; size?: string; quantity: number; people?: number }
  | { kind: 'headcount'; people: number; vulnerable: number }
  | { kind: 'arrival'; group_size: number }
  | { kind: 'shelter_request'; household_size: number }
  | { kind: 'referral'; service: string; urgency: string }
  | { kind: 'incident'; incident_type: string; people_affected: number; description: string }
  | { kind: 'note'; text: string };

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

export interface ItemLine {
  item: string;
  label: string;
  quantity: number;
  entries: number;
  people_served: number;
}

export interface NightReport {
  shift: string;
  antenna: string;
  kind: ShiftKind;
  date: string;
  lead: string;
  team: string[];
  people_met: { total: number; vulnerable: number };
  arrivals: { groups: number; people: number };
  distributions: ItemLine[];
  entries: number;
  edited: number;
  voided: number;
}

export interface Status {
  has_store: boolean;
  unlocked: boolean;
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
  unlock: (passphrase: string) => call<Antenna>('unlock', { passphrase }),
  lock: () => call<void>('lock'),
  antenna: () => call<Antenna>('antenna'),
  currentShift: () => call<Shift | null>('current_shift'),
  startShift: (shift: NewShift) => call<Shift>('start_shift', { shift }),
  logEntry: (shift: string, by: string, entry: NewEntry) => call<Entry>('log_entry', { shift, by, entry }),
  undoLast: (shift: string, by: string) => call<Entry>('undo_last', { shift, by }),
  entries: (shift: string) => call<Entry[]>('entries', { shift }),
  nightReport: (shift: string, lang: Lang) =>
    call<{ report: NightReport; text: string }>('night_report', { shift, lang }),
};
