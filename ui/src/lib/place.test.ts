import { describe, expect, it } from 'vitest';
import { placeCheckDue } from './place';

const minute = 60_000;
const at = 1_800_000_000_000;

describe('the place reminder', () => {
  it('asks once the place has gone unconfirmed for the antenna’s minutes', () => {
    expect(placeCheckDue('dunes-nord', at, at + 19 * minute, 20)).toBe(false);
    expect(placeCheckDue('dunes-nord', at, at + 20 * minute, 20)).toBe(true);
  });

  it('never asks without a place, when switched off, or before anything is known', () => {
    expect(placeCheckDue(undefined, at, at + 60 * minute, 20)).toBe(false);
    expect(placeCheckDue('dunes-nord', at, at + 60 * minute, 0)).toBe(false);
    expect(placeCheckDue('dunes-nord', 0, at, 20)).toBe(false);
  });
});
