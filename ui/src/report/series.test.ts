import { describe, expect, it } from 'vitest';
import type { PeriodReport, WeekTotal } from '../lib/api';
import { activityByPlace, caseOutcomes, incidentsPerMonth, isEmpty, itemsPerWeek, peoplePerWeek } from './series';

const none = { men: 0, women: 0, children: 0, minors_alone: 0 };

function week(start: string, items: Record<string, number>, extra: Partial<WeekTotal> = {}): WeekTotal {
  const distributed = Object.values(items).reduce((a, b) => a + b, 0);
  return {
    start,
    week: start,
    items,
    distributed,
    people_met: 0,
    arrivals_people: 0,
    arrivals_composition: none,
    incidents: 0,
    ...extra,
  };
}

function report(over: Partial<PeriodReport>): PeriodReport {
  return {
    antenna: 'Calais',
    from: '2026-11-02',
    to: '2026-11-15',
    shifts: 2,
    shifts_by_kind: {},
    items: [],
    places: [],
    months: [],
    weeks: [],
    held_since: '2026-01-01',
    people_met: 0,
    people_met_composition: none,
    arrivals_groups: 0,
    arrivals_people: 0,
    arrivals_composition: none,
    incidents: {},
    incident_people_affected: 0,
    referrals_by_service: {},
    cases: { shelter_requests_opened: 0, referrals_opened: 0, still_open: 0, outcomes: {} },
    census: [],
    ...over,
  };
}

const item = (id: string, distributed: number) => ({
  item: id,
  label: id.toUpperCase(),
  distributed,
  entries: 1,
  loaded: 0,
  returned: 0,
});

describe('the period report charts', () => {
  it('stacks the most given items per week, then the others in one', () => {
    const ids = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    const r = report({
      items: ids.map((id, i) => item(id, 100 - i)),
      weeks: [
        week('2026-11-02', Object.fromEntries(ids.map((id) => [id, 1]))),
        week('2026-11-09', { a: 5, h: 7 }),
      ],
    });
    const data = itemsPerWeek(r, (d) => `w${d}`, 'others');
    expect(data.labels).toEqual(['w2026-11-02', 'w2026-11-09']);
    expect(data.series.map((s) => s.key)).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'others']);
    expect(data.series[0]?.values).toEqual([1, 5]);
    expect(data.series.at(-1)?.values).toEqual([2, 7]);
  });

  it('splits arrivals by composition, the undetailed apart, with people met as a line', () => {
    const r = report({
      weeks: [
        week('2026-11-02', {}, { arrivals_people: 10, arrivals_composition: { ...none, men: 4, women: 2 }, people_met: 50 }),
      ],
    });
    const data = peoplePerWeek(r, (d) => d, (k) => k);
    const by = Object.fromEntries(data.series.map((s) => [s.key, s.values[0]]));
    expect(by).toEqual({ men: 4, women: 2, children: 0, minors_alone: 0, unknown: 4, people_met: 50 });
    expect(data.series.find((s) => s.key === 'people_met')?.line).toBe(true);
  });

  it('stacks incidents by type per month', () => {
    const month = (m: string, by: Record<string, number>) => ({
      month: m,
      shifts: 0,
      distributed: 0,
      people_met: 0,
      arrivals_people: 0,
      incidents: 0,
      shelter_requests: 0,
      referrals: 0,
      incidents_by_type: by,
    });
    const r = report({ months: [month('2026-10', { eviction: 3 }), month('2026-11', { eviction: 1, violence: 2 })] });
    const data = incidentsPerMonth(r, (m) => m, (t) => t);
    expect(data.series).toEqual([
      { key: 'eviction', label: 'eviction', values: [3, 1] },
      { key: 'violence', label: 'violence', values: [0, 2] },
    ]);
  });

  it('ranks outcomes, with the follow-ups still open', () => {
    const r = report({
      cases: { shelter_requests_opened: 6, referrals_opened: 1, still_open: 2, outcomes: { placed: 4, refused: 1 } },
    });
    const data = caseOutcomes(r, (o) => o, 'open');
    expect(data.labels).toEqual(['placed', 'open', 'refused']);
    expect(data.series[0]?.values).toEqual([4, 2, 1]);
  });

  it('shows the busiest places, and knows an empty chart', () => {
    const place = (name: string, people_met: number, distributed: number) => ({
      place: name,
      kind: null,
      name,
      people_met,
      distributed,
      arrivals_people: 0,
      incidents: 0,
    });
    const r = report({ places: [place('quiet', 0, 0), place('dunes', 40, 10), place('port', 5, 80)] });
    const data = activityByPlace(r, (k) => k);
    expect(data.labels).toEqual(['port', 'dunes']);
    expect(isEmpty(data)).toBe(false);
    expect(isEmpty(activityByPlace(report({}), (k) => k))).toBe(true);
  });
});
