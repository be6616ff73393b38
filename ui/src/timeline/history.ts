// An entry's history in words: each correction's fields, old → new, as
// the team reads them (names of places and items, Paris times), not as
// the document stores them.
import type { Antenna, Entry } from '../lib/api';
import { itemLabel, placeName, timeOf, type Translate } from '../lib/format';
import type { Key, Locale } from '../lib/i18n/translate';

/** The label of each field a correction can change (the core's names). */
const FIELDS: Record<string, Key> = {
  at: 'history.field.at',
  place: 'form.place',
  item: 'report.item',
  size: 'form.size',
  what: 'form.what',
  quantity: 'report.quantity',
  people: 'form.people_met',
  group_size: 'form.people_met',
  household_size: 'form.people_met',
  people_affected: 'form.people_affected',
  vulnerable: 'form.vulnerable',
  composition: 'form.breakdown',
  witnesses: 'form.witnesses',
  incident_type: 'form.incident_type',
  description: 'form.text.incident',
  reported_to: 'form.reported_to',
  text: 'form.text.note',
  service: 'form.service',
  urgency: 'form.urgency',
  accompanied: 'form.accompanied',
  languages: 'form.languages',
  needs: 'form.needs',
  information_given: 'form.text.arrival',
};

const PEOPLE: Record<string, Key> = {
  men: 'form.men',
  women: 'form.women',
  children: 'form.children',
  minors_alone: 'form.minors_alone',
};

/** One value as the team reads it. */
function shown(field: string, value: unknown, antenna: Antenna, locale: Locale, t: Translate): string {
  if (value === null || value === undefined || value === '') return '—';
  if (field === 'at' && typeof value === 'string') return timeOf(value, locale);
  if (field === 'place' && typeof value === 'string') return placeName(antenna, value) ?? value;
  if (field === 'item' && typeof value === 'string') return itemLabel(antenna, value, locale);
  if (typeof value === 'boolean') return value ? t('case.yes') : t('case.no');
  if (Array.isArray(value)) return value.length === 0 ? '—' : value.join(', ');
  if (typeof value === 'object') {
    const parts = Object.entries(value as Record<string, unknown>)
      .filter(([, n]) => typeof n === 'number' && n > 0)
      .map(([k, n]) => `${PEOPLE[k] ? t(PEOPLE[k]) : k} ${n}`);
    return parts.length === 0 ? '—' : parts.join(', ');
  }
  return String(value);
}

/** A correction's changes, one line per field: "Quantité : 3 → 2". */
export function changeLines(
  changes: Record<string, [unknown, unknown]>,
  antenna: Antenna,
  locale: Locale,
  t: Translate,
): string[] {
  return Object.entries(changes).map(([field, [before, after]]) => {
    return t('history.change', {
      field: FIELDS[field] ? t(FIELDS[field]) : field,
      before: shown(field, before, antenna, locale, t),
      after: shown(field, after, antenna, locale, t),
    });
  });
}

/** The timeline's filters: a kind, a place, who logged it; empty is any. */
export interface Filters {
  kind: string;
  place: string;
  by: string;
}

export function matches(entry: Entry, f: Filters): boolean {
  return (
    (f.kind === '' || entry.kind === f.kind) &&
    (f.place === '' || (entry.place ?? '') === f.place) &&
    (f.by === '' || entry.logged_by === f.by)
  );
}

/** The values a filter can take: those of tonight's entries, sorted. */
export function choices(entries: Entry[], pick: (e: Entry) => string | null | undefined): string[] {
  return [...new Set(entries.map(pick).filter((v): v is string => !!v))].sort();
}
