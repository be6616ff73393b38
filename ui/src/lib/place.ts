// When the quick log asks "still at …?": the van may have driven on since
// the place was last chosen or logged at.

/** The reminder when an antenna has not set one (core's `Settings`). */
export const PLACE_REMINDER_MINUTES = 20;

/** Whether to ask before the next entry: a place is set, and nothing was
 * logged there (nor the place chosen or confirmed) for `minutes` (0:
 * never). `since` and `now` are milliseconds since 1970; `since` 0 means
 * not known yet, and then nothing is asked. */
export function placeCheckDue(place: string | undefined, since: number, now: number, minutes: number): boolean {
  return place !== undefined && minutes > 0 && since > 0 && now - since >= minutes * 60_000;
}
