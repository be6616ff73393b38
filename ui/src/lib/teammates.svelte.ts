// Teammates' tablets, without the server: whether this tablet lets them
// sync with it (and at which address), the address last typed for another
// one, and what the last sync with a teammate did. Rust serves and syncs;
// this only asks and shows.
import { api, type Found, type LastSync, type Serving } from './api';
import { server } from './server.svelte';
import { session } from './session.svelte';

class Teammates {
  serving = $state<Serving | null>(null);
  /** The address typed last: in the van it is usually the same tablet's
   * (kept by `unsaved`, in the encrypted store). */
  address = $state('');
  result = $state<LastSync | null>(null);
  /** The address of the sync shown in `result`. */
  syncedWith = $state('');
  /** Tablets found serving on this network, after a search. */
  found = $state<Found[] | null>(null);
  searching = $state(false);

  async refresh() {
    try {
      this.serving = await api.servingTeammates();
    } catch {
      this.serving = null;
    }
  }

  /** Starts serving; errors (no certificate yet…) are thrown to the screen. */
  async serve() {
    this.serving = await api.serveTeammates();
  }

  async stop() {
    await api.stopServingTeammates();
    this.serving = null;
  }

  /** Syncs with the tablet at `address`; the top bar shows the progress. */
  async sync(address: string) {
    const typed = address.trim();
    this.address = typed;
    this.result = null;
    this.result = await server.showingProgress(() => api.syncWithTeammate(typed));
    this.syncedWith = typed;
    // Places, volunteers or follow-ups may have come from the other tablet.
    if (this.result.result === 'synced' && session.antenna) session.antenna = await api.antenna();
  }

  /** Looks for teammates' tablets serving on this network (a few
   * seconds); errors are thrown to the screen. */
  async find() {
    this.searching = true;
    this.found = null;
    // A new search: the last sync's outcome is not what is on screen now.
    this.result = null;
    try {
      this.found = await api.findTeammates();
    } finally {
      this.searching = false;
    }
  }

  /** Syncs with a tablet the search found. */
  async syncFound(found: Found) {
    this.result = null;
    this.result = await server.showingProgress(() => api.syncWithFound(found));
    this.syncedWith = found.addresses[0] ?? found.name;
    if (this.result.result === 'synced' && session.antenna) session.antenna = await api.antenna();
  }

  /** Locking stops serving (Rust does) and forgets what was shown; the
   * address typed stays. */
  clear() {
    this.address = '';
    this.serving = null;
    this.result = null;
    this.found = null;
  }
}

export const teammates = new Teammates();
