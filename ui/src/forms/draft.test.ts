import { describe, expect, it } from 'vitest';
import type { Entry } from '../lib/api';
import { draftOf, editOf, lastAt, missing, NIL_CASE, newCaseOf, newDraft, newEntryOf, toggle } from './draft';

const logged = {
  id: 'e1',
  at: '2026-11-22T21:30:00Z',
  logged_by: 'Jo',
  logged_at: '2026-11-22T21:30:05Z',
  device: 'd1',
  history: [],
};
const noOne = { men: 0, women: 0, children: 0, minors_alone: 0 };

describe('what a form requires', () => {
  it('asks only for what the field guide needs', () => {
    expect(missing(newDraft('headcount'))).toEqual([]);
    expect(missing(newDraft('arrival'))).toEqual([]);
    expect(missing(newDraft('note'))).toEqual(['text']);
    expect(missing(newDraft('incident'))).toEqual(['incident_type', 'description']);
    expect(missing(newDraft('shelter_request'))).toEqual(['alias']);
    expect(missing(newDraft('referral'))).toEqual(['service', 'reason', 'alias']);
  });

  it('does not take blanks for text', () => {
    const d = newDraft('note');
    d.text = '   ';
    expect(missing(d)).toEqual(['text']);
  });

  it('asks no person when correcting a shelter request: its case exists', () => {
    const d = draftOf({ ...logged, kind: 'shelter_request', case: 'c1', household_size: 3, composition: noOne });
    expect(missing(d)).toEqual([]);
    expect(newCaseOf(d)).toBeNull();
  });

  it('counts at least one person in a group, a household or a headcount', () => {
    const d = newDraft('arrival');
    d.people = 0;
    expect(missing(d)).toEqual(['people']);
  });
});

describe('what a form sends', () => {
  it('opens a shelter case with the person, and an anonymous entry', () => {
    const d = newDraft('shelter_request');
    d.alias = ' Amira ';
    d.people = 3;
    d.composition.women = 1;
    d.composition.children = 2;
    d.vulnerabilities = ['baby'];
    d.languages = ['ar'];
    d.called115 = true;
    d.answer115 = 'no place tonight';
    expect(newCaseOf(d)).toEqual({
      person: { alias: 'Amira', phone: undefined, languages: ['ar'] },
      request: 'shelter',
      household_size: 3,
      composition: { men: 0, women: 1, children: 2, minors_alone: 0 },
      vulnerabilities: ['baby'],
      called_115: true,
      answer_115: 'no place tonight',
    });
    const entry = newEntryOf(d, 'gare');
    expect(entry).toEqual({
      kind: 'shelter_request',
      case: NIL_CASE,
      household_size: 3,
      composition: { men: 0, women: 1, children: 2, minors_alone: 0 },
      place: 'gare',
    });
    expect(JSON.stringify(entry)).not.toContain('Amira');
  });

  it('records a breakdown of nobody when none was given, as the core would', () => {
    const d = newDraft('headcount');
    d.people = 12;
    expect(newEntryOf(d, undefined)).toEqual({
      kind: 'headcount',
      people: 12,
      vulnerable: 0,
      composition: noOne,
      place: undefined,
    });
  });

  it('sends a referral reason to the case, not to the shift', () => {
    const d = newDraft('referral');
    d.alias = 'K.';
    d.service = 'pass_clinic';
    d.urgency = 'urgent';
    d.text = 'wound on the foot';
    expect(newCaseOf(d)).toMatchObject({ request: 'referral', service: 'pass_clinic', reason: 'wound on the foot' });
    expect(JSON.stringify(newEntryOf(d, undefined))).not.toContain('wound');
  });

  it('corrects an entry keeping its time, and can move its place', () => {
    const entry: Entry = {
      ...logged,
      kind: 'distribution',
      item: 'blanket',
      quantity: 3,
      composition: noOne,
      place: 'gare',
    };
    const d = draftOf(entry);
    d.quantity = 2;
    expect(editOf(d, entry, 'dunes')).toEqual({
      kind: 'distribution',
      item: 'blanket',
      size: undefined,
      quantity: 2,
      people: undefined,
      composition: noOne,
      at: '2026-11-22T21:30:00Z',
      place: 'dunes',
    });
  });

  it('asks what an item "other" was, keeps it when corrected, and drops it for a named item', () => {
    const entry: Entry = {
      ...logged,
      kind: 'distribution',
      item: 'other',
      what: 'lampe torche',
      quantity: 2,
      composition: noOne,
    };
    const d = draftOf(entry);
    expect(missing(d)).toEqual([]);
    expect(editOf(d, entry, undefined)).toMatchObject({ item: 'other', what: 'lampe torche' });
    d.text = '  ';
    expect(missing(d)).toEqual(['what']);
    d.item = 'blanket';
    expect(missing(d)).toEqual([]);
    expect(editOf(d, entry, undefined)).toMatchObject({ item: 'blanket', what: undefined });
  });

  it('keeps the case of a corrected referral', () => {
    const entry: Entry = {
      ...logged,
      kind: 'referral',
      case: 'c9',
      service: 'legal_aid',
      urgency: 'soon',
      accompanied: false,
    };
    const d = draftOf(entry);
    d.urgency = 'urgent';
    expect(editOf(d, entry, undefined)).toMatchObject({ kind: 'referral', case: 'c9', urgency: 'urgent' });
  });
});

describe('an incident', () => {
  it('names its witnesses and when it happened, yesterday if that time is not yet past', () => {
    const d = newDraft('incident');
    d.incidentType = 'eviction';
    d.text = 'Tentes prises';
    d.witnesses = ['Jo', 'Mira'];
    d.time = '23:50';
    // 00:30 in Paris on 7 December (winter: UTC+1).
    const now = new Date('2026-12-06T23:30:00Z');
    expect(newEntryOf(d, 'dunes', now)).toMatchObject({
      kind: 'incident',
      witnesses: ['Jo', 'Mira'],
      at: '2026-12-06T22:50:00.000Z',
    });
    d.time = '00:10';
    expect(newEntryOf(d, 'dunes', now).at).toBe('2026-12-06T23:10:00.000Z');
    // In summer Paris is UTC+2.
    expect(lastAt('21:00', new Date('2026-07-01T20:00:00Z'))).toBe('2026-07-01T19:00:00.000Z');
  });

  it('without a time is logged now, and refuses a time that is not one', () => {
    const d = newDraft('incident');
    expect(newEntryOf(d, undefined).at).toBeUndefined();
    d.time = '25:00';
    expect(missing(d)).toContain('time');
  });

  it('corrected keeps its time unless the time is changed', () => {
    const entry: Entry = {
      ...logged,
      kind: 'incident',
      incident_type: 'eviction',
      people_affected: 4,
      description: 'Tentes prises',
      witnesses: ['Jo'],
    };
    const d = draftOf(entry);
    expect(d.witnesses).toEqual(['Jo']);
    expect(d.time).toBe('22:30');
    expect(editOf(d, entry, undefined).at).toBe(entry.at);
    d.time = '22:00';
    expect(editOf(d, entry, undefined).at).toBe('2026-11-22T21:00:00.000Z');
  });
});

describe('a breakdown', () => {
  it('that counts more people than the group is said before saving', () => {
    const d = newDraft('arrival');
    d.people = 4;
    d.composition = { men: 3, women: 1, children: 1, minors_alone: 0 };
    expect(missing(d)).toEqual(['breakdown']);
    d.composition.children = 0;
    expect(missing(d)).toEqual([]);
  });
});

describe('toggle', () => {
  it('adds, then takes out', () => {
    expect(toggle(['ar'], 'ps')).toEqual(['ar', 'ps']);
    expect(toggle(['ar', 'ps'], 'ar')).toEqual(['ps']);
  });
});
