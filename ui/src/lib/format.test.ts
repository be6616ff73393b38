import { describe, expect, it } from 'vitest';
import type { Antenna, Entry } from './api';
import {
  activePlaces,
  dayOf,
  entrySummary,
  languageName,
  placeName,
  quickLogItems,
  splitNicknames,
  timeOf,
} from './format';
import { translate, type Key, type Params } from './i18n/translate';

const antenna: Antenna = {
  id: 'a',
  name: 'Calais',
  catalogue: {
    blanket: { label: { fr: 'Couverture', en: 'Blanket' }, sizes: [], active: true, order: 9 },
    tea_coffee: { label: { fr: 'Thé / café', en: 'Tea / coffee' }, sizes: [], active: true, order: 2 },
    shoes: { label: { fr: 'Chaussures', en: 'Shoes' }, sizes: ['42', '43'], active: true, order: 15 },
    old_item: { label: { fr: 'Ancien', en: 'Old' }, sizes: [], active: false, order: 1 },
  },
  places: {
    gare: { name: 'Gare', kind: 'station', active: true },
    'dunes-nord': { name: 'Dunes nord', kind: 'living_place', active: true },
    closed: { name: 'Ancien squat', kind: 'living_place', active: false },
  },
  volunteers: {},
  settings: { retention_days: 90 },
};

const entry = (content: Partial<Entry>): Entry =>
  ({
    id: 'e',
    at: '2026-01-15T20:05:00Z',
    logged_by: 'Jo',
    logged_at: '2026-01-15T20:05:00Z',
    device: 'd',
    kind: 'distribution',
    item: 'blanket',
    quantity: 1,
    ...content,
  }) as Entry;

const en = (key: Key, params?: Params) => translate('en', key, params);
const fr = (key: Key, params?: Params) => translate('fr', key, params);

describe('display helpers', () => {
  it('shows the active items in the antenna order, retired ones hidden', () => {
    expect(quickLogItems(antenna, 'en').map((i) => i.id)).toEqual(['tea_coffee', 'blanket', 'shoes']);
    expect(quickLogItems(antenna, 'fr')[1]?.label).toBe('Couverture');
  });

  it('lists active places by name', () => {
    expect(activePlaces(antenna, 'fr').map((p) => p.name)).toEqual(['Dunes nord', 'Gare']);
    expect(placeName(antenna, 'gare')).toBe('Gare');
    expect(placeName(antenna, undefined)).toBeUndefined();
  });

  it('tells the time in Paris, summer and winter', () => {
    expect(timeOf('2026-01-15T20:05:00Z', 'fr')).toBe('21:05');
    expect(timeOf('2026-07-15T20:05:00Z', 'en')).toBe('22:05');
  });

  it('names the day of a shift in the volunteer language', () => {
    expect(dayOf('2026-11-23', 'fr')).toBe('lundi 23 novembre 2026');
    expect(dayOf('2026-11-23', 'en')).toBe('Monday, November 23, 2026');
  });

  it('summarises an entry in one line, in the volunteer language', () => {
    expect(entrySummary(entry({ quantity: 3 }), antenna, 'en', en)).toBe('3 × Blanket');
    expect(entrySummary(entry({ quantity: 1 }), antenna, 'fr', fr)).toBe('1 × Couverture');
    expect(entrySummary(entry({ item: 'shoes', size: '42', quantity: 1 }), antenna, 'en', en)).toBe(
      '1 × Shoes (42)',
    );
    expect(entrySummary(entry({ kind: 'headcount', people: 70, vulnerable: 2 } as Partial<Entry>), antenna, 'en', en)).toBe(
      '70 people met',
    );
    const eviction = { kind: 'incident', incident_type: 'eviction', people_affected: 40, description: 'x' };
    expect(entrySummary(entry(eviction as Partial<Entry>), antenna, 'fr', fr)).toBe(
      'Incident : Expulsion, 40 personnes',
    );
    const referral = { kind: 'referral', case: 'c', service: 'pass_clinic', urgency: 'soon' };
    expect(entrySummary(entry(referral as Partial<Entry>), antenna, 'en', en)).toBe('Referral: PASS clinic');
    // A service a newer app added reads as its code, not as a missing text.
    const newer = { ...referral, service: 'dentist' };
    expect(entrySummary(entry(newer as Partial<Entry>), antenna, 'en', en)).toBe('Referral: dentist');
  });

  it('reads a typed team, ignoring blanks and repeats', () => {
    expect(splitNicknames(' Sam, Lou ,, Sam ,Ali ')).toEqual(['Sam', 'Lou', 'Ali']);
    expect(splitNicknames('')).toEqual([]);
  });
});

describe('languageName', () => {
  it('names the languages the teams meet, and "another" in words', () => {
    expect(languageName('ur', 'fr')).toBe('Ourdou');
    expect(languageName('vi', 'en')).toBe('Vietnamese');
    expect(languageName('und', 'fr')).toBe('Autre langue');
    expect(languageName('und', 'en')).toBe('Another language');
  });
});
