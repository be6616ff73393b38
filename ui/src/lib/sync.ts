// How the sync reads on screen: since when, what it did. Display only: the
// sync itself and its counts are Rust's (maraude-sync's SyncSummary).
import type { LastSync, ServerStatus, SyncSummary } from './api';
import type { Translate } from './format';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** "synced just now / 5 min ago / 2 h ago / 3 days ago", from the last
 * sync that went through; `now` is passed in so that it can be tested. */
export function syncedAgo(at: string, now: Date, t: Translate): string {
  const ms = Math.max(0, now.getTime() - new Date(at).getTime());
  if (ms < MINUTE) return t('sync.just_now');
  if (ms < HOUR) return t('sync.minutes_ago', { n: Math.floor(ms / MINUTE) });
  if (ms < DAY) return t('sync.hours_ago', { n: Math.floor(ms / HOUR) });
  return t('sync.days_ago', { n: Math.floor(ms / DAY) });
}

/** One line for what a sync did. */
export function summaryText(summary: SyncSummary, t: Translate): string {
  const parts: string[] = [];
  if (summary.documents_sent === 0 && summary.documents_received === 0) {
    parts.push(t('sync.nothing_new'));
  } else {
    parts.push(t('sync.sent', { n: summary.documents_sent }), t('sync.received', { n: summary.documents_received }));
  }
  if (summary.cases_erased > 0) parts.push(t('sync.cases_erased', { n: summary.cases_erased }));
  if (summary.revocations_restored > 0) {
    parts.push(t('sync.revocations_restored', { n: summary.revocations_restored }));
  }
  if (summary.refusals.length > 0) parts.push(t('sync.refused', { n: summary.refusals.length }));
  return parts.join(' · ');
}

/** What the top bar's sync badge says: under way, failed, since when, or
 * nothing yet. */
export function badgeText(status: ServerStatus, now: Date, t: Translate): string {
  if (status.syncing) {
    const { done, total } = status.syncing;
    return total > 0 ? t('sync.progress', { done, total }) : t('sync.syncing');
  }
  const last: LastSync | null = status.last_sync;
  if (!last) return t('sync.not_yet');
  if (last.result === 'failed') return t('sync.failed');
  return syncedAgo(last.at, now, t);
}

/** A server address as people type it ("sync.example.org") made a URL:
 * https:// unless another scheme is typed (as Rust reads it). */
export function serverAddress(typed: string): string {
  const s = typed.trim();
  if (s === '' || /^[a-z][a-z0-9+.-]*:\/\//i.test(s)) return s;
  return `https://${s}`;
}

/** Whether the address goes out in clear (the tablet then asks whether the
 * network is trusted; Rust refuses it otherwise, but to this very tablet). */
export function isPlainHttp(typed: string): boolean {
  return /^http:\/\//i.test(typed.trim());
}
