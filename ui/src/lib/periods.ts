// The periods a lead asks for (this week, last month, …) as the date
// ranges the core's period report takes. Weeks start on Monday, as in
// France; dates are the tablet's calendar days ("2026-11-23").

export const PRESETS = ['this_week', 'last_week', 'this_month', 'last_month', 'this_year'] as const;
export type Preset = (typeof PRESETS)[number];

export interface Range {
  from: string;
  to: string;
}

/** `YYYY-MM-DD` of a date's calendar day (UTC fields: the dates here are
 * built at noon UTC, so no zone moves them). */
function iso(d: Date): string {
  return d.toISOString().slice(0, 10);
}

function day(date: string): Date {
  return new Date(`${date}T12:00:00Z`);
}

function addDays(date: string, n: number): string {
  const d = day(date);
  d.setUTCDate(d.getUTCDate() + n);
  return iso(d);
}

/** Monday of `date`'s week. */
export function mondayOf(date: string): string {
  const weekday = (day(date).getUTCDay() + 6) % 7; // Monday 0 … Sunday 6
  return addDays(date, -weekday);
}

/** The range a preset means on `today`. A running period ends today. */
export function presetRange(preset: Preset, today: string): Range {
  const [y, m] = today.split('-').map(Number) as [number, number];
  const pad = (n: number) => String(n).padStart(2, '0');
  switch (preset) {
    case 'this_week':
      return { from: mondayOf(today), to: today };
    case 'last_week': {
      const monday = addDays(mondayOf(today), -7);
      return { from: monday, to: addDays(monday, 6) };
    }
    case 'this_month':
      return { from: `${y}-${pad(m)}-01`, to: today };
    case 'last_month': {
      const [ly, lm] = m === 1 ? [y - 1, 12] : [y, m - 1];
      const firstOfThis = `${y}-${pad(m)}-01`;
      return { from: `${ly}-${pad(lm)}-01`, to: addDays(firstOfThis, -1) };
    }
    case 'this_year':
      return { from: `${y}-01-01`, to: today };
  }
}

/** Today on the tablet's calendar. */
export function todayHere(now: Date = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}

/** What is wrong with a typed range, if anything: said before asking the
 * core (which checks it too). */
export function rangeProblem(range: Range): 'missing' | 'end_before_start' | null {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(range.from) || !/^\d{4}-\d{2}-\d{2}$/.test(range.to)) return 'missing';
  return range.to < range.from ? 'end_before_start' : null;
}
