// The tablet's link with its base server, as the top bar and Settings show
// it: enrolment, the sync under way, the last one. Rust keeps the truth
// (server_status); this only asks for it and runs a sync on request.
import { api, type LastSync, type Role, type ServerStatus } from './api';
import { session } from './session.svelte';

/** How often the progress of a sync under way is read. */
const PROGRESS_MS = 400;

class Server {
  status = $state<ServerStatus | null>(null);
  /** The sync this app ran last, shown until the next one. */
  result = $state<LastSync | null>(null);
  /** Read for "synced 2 h ago"; moved on by `tick`. */
  now = $state(new Date());

  async refresh() {
    try {
      this.status = await api.serverStatus();
    } catch {
      // Locked meanwhile: the next unlock reads it again.
    }
    this.now = new Date();
  }

  tick() {
    this.now = new Date();
  }

  /** This tablet's role as its antenna certified it; a tablet not
   * enrolled is its antenna's own, its coordinator's. What it may do is
   * checked again in Rust and by every receiver: this only chooses what
   * to offer. */
  get role(): Role {
    return this.status?.enrolment?.role ?? 'coordinator';
  }

  get syncing(): boolean {
    return !!this.status?.syncing;
  }

  /** Syncs now; the screens keep working meanwhile (the store serves both).
   * Afterwards the antenna is read again: places, volunteers or the
   * follow-ups may have changed. */
  async sync() {
    try {
      this.result = await this.showingProgress(api.syncNow);
      if (this.result.result === 'synced' && session.antenna) session.antenna = await api.antenna();
    } catch (e) {
      const error = e as { code?: string; message?: string };
      this.result = {
        at: new Date().toISOString(),
        result: 'failed',
        error: { code: error.code ?? 'other', message: error.message ?? String(e) },
      };
    }
  }

  /** Runs a sync (with the server, or a teammate's tablet) while the top
   * bar reads its progress. */
  async showingProgress<T>(sync: () => Promise<T>): Promise<T> {
    if (this.status) this.status = { ...this.status, syncing: { done: 0, total: 0 } };
    const poll = setInterval(() => void this.refresh(), PROGRESS_MS);
    try {
      return await sync();
    } finally {
      clearInterval(poll);
      await this.refresh();
    }
  }

  /** Locking forgets what was shown. */
  clear() {
    this.status = null;
    this.result = null;
  }
}

export const server = new Server();
