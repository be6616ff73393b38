// Night mode: dark by default at night (19:00–07:00, Paris time), when a
// bright screen in a van blinds the team and lights them up outside.
import { ZONE } from './format';

export type ThemeChoice = 'auto' | 'night' | 'day';

export function isNightAt(now: Date): boolean {
  const hour = Number(
    new Intl.DateTimeFormat('en-GB', { timeZone: ZONE, hour: '2-digit', hourCycle: 'h23' }).format(now),
  );
  return hour >= 19 || hour < 7;
}

export function isNight(choice: ThemeChoice, now: Date): boolean {
  return choice === 'auto' ? isNightAt(now) : choice === 'night';
}
