import { describe, expect, it } from 'vitest';
import type { ServerStatus, SyncSummary } from './api';
import { translate, type Key, type Params } from './i18n/translate';
import { badgeText, isPlainHttp, serverAddress, summaryText, syncedAgo } from './sync';

const en = (key: Key, params?: Params) => translate('en', key, params);
const fr = (key: Key, params?: Params) => translate('fr', key, params);

const now = new Date('2026-11-23T23:30:00Z');
const ago = (ms: number) => new Date(now.getTime() - ms).toISOString();

const summary = (over: Partial<SyncSummary> = {}): SyncSummary => ({
  documents_sent: 0,
  documents_received: 0,
  changes_received: 0,
  documents_refused: 0,
  refusals: [],
  bytes_sent: 0,
  bytes_received: 0,
  cases_erased: 0,
  revocations_restored: 0,
  reconnections: 0,
  millis: 120,
  teammate: null,
  ...over,
});

const enrolled = (over: Partial<ServerStatus> = {}): ServerStatus => ({
  enrolment: { server: 'http://192.168.1.10:8470/', role: 'lead', antenna: 'Calais' },
  to_send: 0,
  syncing: null,
  last_sync: null,
  ...over,
});

describe('since when the tablet is in sync', () => {
  it('says it in minutes, hours, then days', () => {
    expect(syncedAgo(ago(20_000), now, en)).toBe('Synced just now');
    expect(syncedAgo(ago(5 * 60_000), now, en)).toBe('Synced 5 min ago');
    expect(syncedAgo(ago(2 * 3_600_000 + 59 * 60_000), now, en)).toBe('Synced 2 h ago');
    expect(syncedAgo(ago(86_400_000), now, en)).toBe('Synced 1 day ago');
    expect(syncedAgo(ago(3 * 86_400_000), now, fr)).toBe('Synchronisé il y a 3 jours');
  });

  it('takes a clock a little behind the sync for just now', () => {
    expect(syncedAgo(new Date(now.getTime() + 5_000).toISOString(), now, en)).toBe('Synced just now');
  });
});

describe('the top bar badge', () => {
  it('shows progress while syncing, then the failure or the time', () => {
    expect(badgeText(enrolled(), now, en)).toBe('Not synced yet');
    expect(badgeText(enrolled({ syncing: { done: 0, total: 0 } }), now, en)).toBe('Syncing…');
    expect(badgeText(enrolled({ syncing: { done: 3, total: 12 } }), now, en)).toBe('Syncing 3/12');
    const failed = enrolled({
      last_sync: { at: ago(1000), result: 'failed', error: { code: 'server_unreachable', message: 'x' } },
    });
    expect(badgeText(failed, now, en)).toBe('Sync failed');
    const synced = enrolled({ last_sync: { at: ago(2 * 3_600_000), result: 'synced', summary: summary() } });
    expect(badgeText(synced, now, en)).toBe('Synced 2 h ago');
  });
});

describe('what a sync did', () => {
  it('counts documents sent and received, and cases erased', () => {
    expect(summaryText(summary(), en)).toBe('Already in sync');
    expect(summaryText(summary({ documents_sent: 1, documents_received: 4 }), en)).toBe(
      '1 document sent · 4 received',
    );
    expect(summaryText(summary({ documents_received: 2, cases_erased: 1 }), fr)).toBe(
      '0 document envoyé · 2 reçus · 1 suivi effacé ici',
    );
  });

  it('says when the server had lost revoked tablets and revokes them again', () => {
    expect(summaryText(summary({ documents_sent: 3, revocations_restored: 2 }), en)).toBe(
      '3 documents sent · 0 received · the server had lost 2 revoked tablets: revoked again',
    );
    expect(summaryText(summary({ revocations_restored: 1 }), fr)).toBe(
      'Déjà à jour · le serveur avait perdu 1 tablette révoquée : révoquée à nouveau',
    );
  });

  it('says when the other side refused some of this tablet\'s changes', () => {
    const refused = summary({ documents_sent: 2, refusals: ['a volunteer\'s tablet may not change the antenna\'s catalogue'] });
    expect(summaryText(refused, en)).toBe('2 documents sent · 0 received · 1 change refused: not this tablet\'s role');
  });
});

describe('a server address as typed', () => {
  it('gets https:// when it has no scheme, and is kept otherwise', () => {
    expect(serverAddress(' 192.168.1.10:8470 ')).toBe('https://192.168.1.10:8470');
    expect(serverAddress('http://entrepot.local:8470')).toBe('http://entrepot.local:8470');
    // Refused by Rust with what to type instead, not rewritten here.
    expect(serverAddress('https://sync.example.org')).toBe('https://sync.example.org');
    expect(serverAddress('')).toBe('');
  });

  it('is plain HTTP only when typed so', () => {
    expect(isPlainHttp(' HTTP://entrepot.local:8470')).toBe(true);
    expect(isPlainHttp('entrepot.local:8470')).toBe(false);
    expect(isPlainHttp('https://sync.example.org')).toBe(false);
  });
});
