import { describe, expect, it } from 'vitest';
import { mondayOf, presetRange, rangeProblem, todayHere } from './periods';

describe('periods', () => {
  it('starts weeks on Monday', () => {
    expect(mondayOf('2026-12-06')).toBe('2026-11-30'); // a Sunday
    expect(mondayOf('2026-11-30')).toBe('2026-11-30');
    expect(mondayOf('2026-01-01')).toBe('2025-12-29'); // across a year
  });

  it('gives each preset its range', () => {
    const today = '2026-12-06';
    expect(presetRange('this_week', today)).toEqual({ from: '2026-11-30', to: today });
    expect(presetRange('last_week', today)).toEqual({ from: '2026-11-23', to: '2026-11-29' });
    expect(presetRange('this_month', today)).toEqual({ from: '2026-12-01', to: today });
    expect(presetRange('last_month', today)).toEqual({ from: '2026-11-01', to: '2026-11-30' });
    expect(presetRange('this_year', today)).toEqual({ from: '2026-01-01', to: today });
  });

  it('goes back a year for last month in January, and knows February', () => {
    expect(presetRange('last_month', '2027-01-15')).toEqual({ from: '2026-12-01', to: '2026-12-31' });
    expect(presetRange('last_month', '2028-03-02')).toEqual({ from: '2028-02-01', to: '2028-02-29' });
  });

  it('says what is wrong with a typed range', () => {
    expect(rangeProblem({ from: '2026-11-01', to: '2026-11-30' })).toBeNull();
    expect(rangeProblem({ from: '2026-11-30', to: '2026-11-01' })).toBe('end_before_start');
    expect(rangeProblem({ from: '', to: '2026-11-01' })).toBe('missing');
  });

  it('reads today from the local calendar', () => {
    expect(todayHere(new Date(2026, 11, 6, 23, 30))).toBe('2026-12-06');
  });
});
