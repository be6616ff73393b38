import { describe, expect, it } from 'vitest';
import type { Antenna, Entry } from '../lib/api';
import { translate, type Key, type Params } from '../lib/i18n/translate';
import { changeLines, choices, matches } from './history';

const antenna = {
  id: 'a',
  name: 'Calais',
  catalogue: { blanket: { label: { fr: 'Couverture', en: 'Blanket' }, sizes: [], active: true, order: 9 } },
  places: {
    gare: { name: 'Gare', kind: 'station', active: true },
    'dunes-nord': { name: 'Dunes nord', kind: 'living_place', active: true },
  },
  volunteers: {},
  settings: { retention_days: 90 },
} as unknown as Antenna;

const fr = (key: Key, params?: Params) => translate('fr', key, params);
const en = (key: Key, params?: Params) => translate('en', key, params);

const entry = (kind: string, place: string | undefined, by: string) =>
  ({ id: `${kind}${place}${by}`, kind, place, logged_by: by }) as unknown as Entry;

describe('an entry’s history', () => {
  it('says each change in the team’s words: names, Paris time, who of a breakdown', () => {
    const changes = {
      quantity: [3, 2],
      place: ['gare', 'dunes-nord'],
      at: ['2026-01-15T20:05:00Z', '2026-01-15T19:50:00Z'],
      composition: [{ men: 0, women: 0 }, { men: 2, women: 1 }],
      item: ['blanket', 'blanket'],
      size: [null, 'L'],
    } as Record<string, [unknown, unknown]>;
    expect(changeLines(changes, antenna, 'fr', fr)).toEqual([
      'Quantité : 3 → 2',
      'Lieu : Gare → Dunes nord',
      'Heure : 21:05 → 20:50',
      'Détail (facultatif) : — → Hommes 2, Femmes 1',
      'Article : Couverture → Couverture',
      'Taille : — → L',
    ]);
    expect(changeLines({ quantity: [3, 2] }, antenna, 'en', en)).toEqual(['Quantity: 3 → 2']);
  });
});

describe('the timeline’s filters', () => {
  const night = [entry('distribution', 'gare', 'Jo'), entry('arrival', 'gare', 'Mira'), entry('note', undefined, 'Jo')];

  it('keeps the entries of a kind, a place and who logged them, all together', () => {
    const any = { kind: '', place: '', by: '' };
    expect(night.filter((e) => matches(e, any))).toHaveLength(3);
    expect(night.filter((e) => matches(e, { ...any, by: 'Jo' })).map((e) => e.kind)).toEqual(['distribution', 'note']);
    expect(night.filter((e) => matches(e, { ...any, place: 'gare', by: 'Jo' })).map((e) => e.kind)).toEqual([
      'distribution',
    ]);
    expect(night.filter((e) => matches(e, { ...any, kind: 'incident' }))).toHaveLength(0);
  });

  it('offers only what tonight’s entries hold', () => {
    expect(choices(night, (e) => e.place)).toEqual(['gare']);
    expect(choices(night, (e) => e.logged_by)).toEqual(['Jo', 'Mira']);
  });
});
