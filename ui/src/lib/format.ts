// How records read on screen: labels, times, one-line summaries. Display
// only: counting and checking are the core's.
import { SERVICES, type Antenna, type Entry, type Service } from './api';
import type { Key, Locale, Params } from './i18n/translate';

export type Translate = (key: Key, params?: Params) => string;

/** The antenna's time zone: shifts, reports and screens speak Paris time. */
export const ZONE = 'Europe/Paris';

/** 24-hour clock in both languages: a night maraude runs 19:30–02:00 in
 * France, and "1:00 AM" next to "11:00 PM" reads badly in a van. */
export function timeOf(iso: string, locale: Locale): string {
  return new Intl.DateTimeFormat(locale, { timeZone: ZONE, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(
    new Date(iso),
  );
}

/** A shift's day ("2026-11-23", Paris) as the volunteer reads it. */
export function dayOf(date: string, locale: Locale): string {
  // Noon UTC is the same day in Paris, whatever the season.
  return new Intl.DateTimeFormat(locale, {
    timeZone: ZONE,
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    year: 'numeric',
  }).format(new Date(`${date}T12:00:00Z`));
}

export function itemLabel(antenna: Antenna, item: string, locale: Locale): string {
  return antenna.catalogue[item]?.label[locale] ?? item;
}

export function placeName(antenna: Antenna, place: string | null | undefined): string | undefined {
  return place == null ? undefined : (antenna.places[place]?.name ?? place);
}

/** The items a volunteer can log, in the antenna's quick-log order. */
export function quickLogItems(antenna: Antenna, locale: Locale): { id: string; label: string; sizes: string[] }[] {
  return Object.entries(antenna.catalogue)
    .filter(([, item]) => item.active)
    .sort(([, a], [, b]) => a.order - b.order || a.label[locale].localeCompare(b.label[locale], locale))
    .map(([id, item]) => ({ id, label: item.label[locale], sizes: item.sizes }));
}

/** The places a team can be at, by name. */
export function activePlaces(antenna: Antenna, locale: Locale): { id: string; name: string }[] {
  return Object.entries(antenna.places)
    .filter(([, p]) => p.active)
    .map(([id, p]) => ({ id, name: p.name }))
    .sort((a, b) => a.name.localeCompare(b.name, locale));
}

/** One line for an entry in the timeline, the toast or the undo message. */
export function entrySummary(entry: Entry, antenna: Antenna, locale: Locale, t: Translate): string {
  switch (entry.kind) {
    case 'distribution': {
      const said = entry.size ?? entry.what;
      const item = itemLabel(antenna, entry.item, locale) + (said ? ` (${said})` : '');
      return t('entry.distribution', { n: entry.quantity, item });
    }
    case 'headcount':
      return t('entry.headcount', { n: entry.people });
    case 'arrival':
      return t('entry.arrival', { n: entry.group_size });
    case 'shelter_request':
      return t('entry.shelter_request', { n: entry.household_size });
    case 'referral':
      return t('entry.referral', { service: serviceLabel(entry.service, t) });
    case 'incident':
      return t('entry.incident', { what: t(`code.incident.${entry.incident_type}`), n: entry.people_affected });
    case 'note':
      return t('entry.note');
  }
}

/** Nicknames typed as "Sam, Lou ,, Ali" → ["Sam", "Lou", "Ali"]. */
export function splitNicknames(typed: string): string[] {
  return [...new Set(typed.split(',').map((s) => s.trim()).filter((s) => s.length > 0))];
}

/** BCP 47's "undetermined": a language the form does not list. */
export const OTHER_LANGUAGE = 'und';

/** A language code ("ps") by its name in the volunteer's language
 * ("Pashto", "pachto"); the code itself where the system has no name. */
export function languageName(code: string, locale: Locale): string {
  // The system's name for it reads "root" or "undetermined".
  if (code === OTHER_LANGUAGE) return locale === 'fr' ? 'Autre langue' : 'Another language';
  try {
    const name = new Intl.DisplayNames([locale], { type: 'language' }).of(code);
    return name && name !== code ? name.charAt(0).toLocaleUpperCase(locale) + name.slice(1) : code;
  } catch {
    return code;
  }
}

/** A day and month ("lun. 23 nov."), Paris time, for lists. */
export function dateOf(iso: string, locale: Locale): string {
  return new Intl.DateTimeFormat(locale, { timeZone: ZONE, weekday: 'short', day: 'numeric', month: 'short' }).format(
    new Date(iso),
  );
}

/** A service code in words; an unknown code (a newer app's) as it is. */
export function serviceLabel(code: string, t: Translate): string {
  return (SERVICES as readonly string[]).includes(code) ? t(`code.service.${code as Service}`) : code;
}
