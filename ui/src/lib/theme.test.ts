import { describe, expect, it } from 'vitest';
import { isNight, isNightAt } from './theme';

describe('night mode', () => {
  it('is on from 19:00 to 07:00 Paris time, whatever the device clock zone', () => {
    expect(isNightAt(new Date('2026-01-15T18:00:00Z'))).toBe(true); // 19:00 in Paris
    expect(isNightAt(new Date('2026-01-15T17:59:00Z'))).toBe(false);
    expect(isNightAt(new Date('2026-01-16T01:00:00Z'))).toBe(true);
    expect(isNightAt(new Date('2026-07-16T05:00:00Z'))).toBe(false); // 07:00 in summer
    expect(isNightAt(new Date('2026-07-16T04:59:00Z'))).toBe(true);
  });

  it('follows the volunteer choice over the clock', () => {
    const noon = new Date('2026-01-15T11:00:00Z');
    expect(isNight('auto', noon)).toBe(false);
    expect(isNight('night', noon)).toBe(true);
    expect(isNight('day', new Date('2026-01-15T23:00:00Z'))).toBe(false);
  });
});
