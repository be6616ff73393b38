// What the screen holds that is no record yet: a form half filled, the
// screen it was on, the sticky place, the address last typed for a
// teammate. Kept in the encrypted store (never in the webview's storage,
// which a seized tablet gives away in clear), so that a lock, the idle
// timer's in the cold included, loses nothing: it all comes back after
// unlocking.
import { api } from './api';
import type { Draft, FormKind } from '../forms/draft';
import { session, type Screen } from './session.svelte';
import { teammates } from './teammates.svelte';

/** A form open and not saved: a new entry of `shift`, or the correction of
 * `entry`. */
export interface OpenForm {
  shift: string;
  kind: FormKind;
  entry?: string;
  draft: Draft;
  place?: string;
}

/** What is kept, as JSON in the store. */
interface Kept {
  shift: string | null;
  screen: Screen;
  place?: string;
  teammateAddress?: string;
  form?: OpenForm;
}

const SCREENS: Screen[] = [
  'shift',
  'quick_log',
  'timeline',
  'report',
  'end_shift',
  'follow_ups',
  'settings',
  'teammates',
];

class Unsaved {
  /** The form open now, as its fields are (set by the form itself). */
  form = $state<OpenForm | null>(null);
  /** Whether what was kept came back: until then nothing is kept over it. */
  restored = $state(false);

  /** What to keep now (reactive: the app keeps it when it changes). */
  snapshot(): Kept {
    return {
      shift: session.shift?.id ?? null,
      screen: session.screen,
      place: session.place,
      teammateAddress: teammates.address || undefined,
      form: this.form ?? undefined,
    };
  }

  /** Keeps the screen's state in the store now (before a lock). */
  async keep(): Promise<void> {
    if (!session.antenna) return;
    await api.keepUnsaved(JSON.stringify(this.snapshot()));
  }

  /** After unlocking: brings back what was kept (`text`, from
   * `api.unsaved`), for the same shift only (another shift's form or place
   * would be wrong here). Called in the same tick as `session.open`, so
   * that the screens open with it. */
  apply(text: string | null) {
    const kept = parse(text);
    this.form = null;
    this.restored = true;
    if (!kept) return;
    teammates.address = kept.teammateAddress ?? '';
    const shift = session.shift;
    if (!shift || kept.shift !== shift.id) return;
    if (kept.place && session.antenna?.places[kept.place]) session.place = kept.place;
    if (SCREENS.includes(kept.screen)) session.screen = kept.screen;
    if (kept.form && kept.form.shift === shift.id) this.form = kept.form;
  }

  /** The open form, if it is a new entry of `kind` in the current shift. */
  newEntryForm(): OpenForm | null {
    const form = this.form;
    return form && !form.entry && form.shift === session.shift?.id ? form : null;
  }

  clear() {
    this.form = null;
    this.restored = false;
  }
}

function parse(text: string | null): Kept | null {
  if (!text) return null;
  try {
    const kept = JSON.parse(text) as Kept;
    return typeof kept === 'object' && kept !== null ? kept : null;
  } catch {
    return null;
  }
}

export const unsaved = new Unsaved();
