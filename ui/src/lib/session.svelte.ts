// What the app holds while unlocked: the antenna's reference data, the
// current shift, who is logging and where the team is. Records themselves
// stay in the store; screens ask for them through api.ts.
import type { Antenna, Shift } from './api';

export type Screen =
  | 'shift'
  | 'quick_log'
  | 'timeline'
  | 'report'
  | 'end_shift'
  | 'follow_ups'
  | 'period'
  | 'warehouse'
  | 'lists'
  | 'settings'
  | 'teammates';

class Session {
  antenna = $state<Antenna | null>(null);
  shift = $state<Shift | null>(null);
  /** The volunteer holding the tablet: the lead at first, then whoever
   * takes it (chosen in the top bar). */
  by = $state('');
  screen = $state<Screen>('shift');
  /** The current place: sticky from one entry to the next, and across a
   * lock or a restart within the same shift (kept by `unsaved`, in the
   * encrypted store). */
  place = $state<string | undefined>(undefined);
  /** When the place was last chosen, confirmed or logged at (ms): the
   * quick log asks "still at …?" after the antenna's reminder. */
  placeSince = $state(0);

  open(antenna: Antenna, shift: Shift | null) {
    this.antenna = antenna;
    this.setShift(shift);
  }

  setShift(shift: Shift | null) {
    this.shift = shift;
    this.by = shift?.lead ?? '';
    this.place = undefined;
    this.screen = shift ? 'quick_log' : 'shift';
  }

  /** Whether the shift on screen has ended (being reviewed). */
  get ended(): boolean {
    return !!this.shift?.ended_at;
  }

  /** Shows an ended shift's report, for the lead's review. */
  review(shift: Shift) {
    this.shift = shift;
    if (!this.by) this.by = shift.lead;
    this.screen = 'report';
  }

  setPlace(place: string | undefined) {
    this.place = place;
    this.placeSince = Date.now();
  }

  /** The team is still where the tablet says (an entry logged there, or
   * "yes" to the reminder). */
  confirmPlace() {
    this.placeSince = Date.now();
  }

  /** The team, lead first: whom the "logging as" button cycles through. */
  get team(): string[] {
    if (!this.shift) return [];
    return [this.shift.lead, ...this.shift.team.filter((n) => n !== this.shift?.lead)];
  }

  close() {
    this.antenna = null;
    this.shift = null;
    this.by = '';
    this.place = undefined;
    this.screen = 'shift';
  }
}

export const session = new Session();
