// What each chart of the period report draws, from the core's report:
// pure, so that what is charted is tested without a canvas.
import type { PeriodReport } from '../lib/api';

export interface Series {
  /** A code or an id, for the label and the colour. */
  key: string;
  label: string;
  values: number[];
  /** Drawn as a line over the bars (people met over arrivals). */
  line?: boolean;
}

export interface ChartData {
  labels: string[];
  series: Series[];
}

/** The items a stacked chart shows by name; the rest are summed in one. */
export const TOP_ITEMS = 6;
export const TOP_PLACES = 10;

/** Distributed per item and week: the period's most given items, then
 * "others" (when there are more). */
export function itemsPerWeek(r: PeriodReport, weekLabel: (monday: string) => string, others: string): ChartData {
  const ranked = [...r.items].filter((i) => i.distributed > 0).sort((a, b) => b.distributed - a.distributed);
  const shown = ranked.slice(0, TOP_ITEMS);
  const rest = ranked.slice(TOP_ITEMS).map((i) => i.item);
  const series: Series[] = shown.map((i) => ({
    key: i.item,
    label: i.label,
    values: r.weeks.map((w) => w.items[i.item] ?? 0),
  }));
  if (rest.length > 0) {
    series.push({
      key: 'others',
      label: others,
      values: r.weeks.map((w) => rest.reduce((sum, id) => sum + (w.items[id] ?? 0), 0)),
    });
  }
  return { labels: r.weeks.map((w) => weekLabel(w.start)), series };
}

/** New arrivals per week by composition (bars), and people met (a line).
 * Arrivals whose breakdown was not given are "not detailed". */
export function peoplePerWeek(
  r: PeriodReport,
  weekLabel: (monday: string) => string,
  label: (key: 'men' | 'women' | 'children' | 'minors_alone' | 'unknown' | 'people_met') => string,
): ChartData {
  const parts = ['men', 'women', 'children', 'minors_alone'] as const;
  const series: Series[] = parts.map((p) => ({
    key: p,
    label: label(p),
    values: r.weeks.map((w) => w.arrivals_composition[p]),
  }));
  series.push({
    key: 'unknown',
    label: label('unknown'),
    values: r.weeks.map((w) => {
      const c = w.arrivals_composition;
      return Math.max(0, w.arrivals_people - (c.men + c.women + c.children + c.minors_alone));
    }),
  });
  series.push({ key: 'people_met', label: label('people_met'), values: r.weeks.map((w) => w.people_met), line: true });
  return { labels: r.weeks.map((w) => weekLabel(w.start)), series };
}

/** Incidents per month, stacked by type. */
export function incidentsPerMonth(
  r: PeriodReport,
  monthLabel: (month: string) => string,
  typeLabel: (type: string) => string,
): ChartData {
  const types = [...new Set(r.months.flatMap((m) => Object.keys(m.incidents_by_type)))].sort();
  return {
    labels: r.months.map((m) => monthLabel(m.month)),
    series: types.map((type) => ({
      key: type,
      label: typeLabel(type),
      values: r.months.map((m) => m.incidents_by_type[type] ?? 0),
    })),
  };
}

/** Follow-ups opened in the period: how they ended, and those still open. */
export function caseOutcomes(r: PeriodReport, outcomeLabel: (outcome: string) => string, stillOpen: string): ChartData {
  const outcomes = Object.entries(r.cases.outcomes).filter(([, n]) => (n ?? 0) > 0);
  const rows: [string, string, number][] = outcomes.map(([o, n]) => [o, outcomeLabel(o), n ?? 0]);
  if (r.cases.still_open > 0) rows.push(['still_open', stillOpen, r.cases.still_open]);
  rows.sort((a, b) => b[2] - a[2]);
  return {
    labels: rows.map(([, label]) => label),
    series: [{ key: 'cases', label: '', values: rows.map(([, , n]) => n) }],
  };
}

/** The places with the most activity: people met and items given. */
export function activityByPlace(
  r: PeriodReport,
  label: (key: 'people_met' | 'distributed') => string,
): ChartData {
  const places = r.places
    .filter((p) => p.people_met + p.distributed > 0)
    .slice()
    .sort((a, b) => b.people_met + b.distributed - (a.people_met + a.distributed))
    .slice(0, TOP_PLACES);
  return {
    labels: places.map((p) => p.name),
    series: [
      { key: 'people_met', label: label('people_met'), values: places.map((p) => p.people_met) },
      { key: 'distributed', label: label('distributed'), values: places.map((p) => p.distributed) },
    ],
  };
}

/** Whether a chart has anything to draw. */
export function isEmpty(data: ChartData): boolean {
  return data.series.every((s) => s.values.every((v) => v === 0));
}
