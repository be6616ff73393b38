//! The SQL schema, versioned with `PRAGMA user_version` by
//! rusqlite_migration. Append a migration; never edit a released one.
//!
//! Two kinds of tables:
//! - `chunks` is the truth: Automerge documents as samod storage keys
//!   (`<document id>/incremental/<change hash>`, `<document id>/snapshot/
//!   <compaction hash>`) and their bytes, so that samod can serve the store as
//!   it is;
//! - everything else is the index, derived from the documents and rebuilt
//!   from them at will (`Store::rebuild_index`).

use rusqlite::Connection;
use rusqlite_migration::{M, Migrations};

use crate::error::StoreError;

const MIGRATIONS: &[&str] = &[
    // 1: first release.
    "
    CREATE TABLE device (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        device_id TEXT NOT NULL,
        antenna_id TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE chunks (
        key TEXT PRIMARY KEY,
        data BLOB NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE documents (
        doc TEXT PRIMARY KEY,
        type TEXT NOT NULL,
        record TEXT NOT NULL,
        heads TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE antenna (
        id TEXT PRIMARY KEY,
        body TEXT NOT NULL
    );
    CREATE TABLE shifts (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        date TEXT NOT NULL,
        started_at TEXT NOT NULL,
        ended_at TEXT,
        body TEXT NOT NULL
    );
    CREATE INDEX shifts_date ON shifts(date);
    CREATE TABLE entries (
        id TEXT PRIMARY KEY,
        shift TEXT NOT NULL,
        shift_kind TEXT NOT NULL,
        date TEXT NOT NULL,
        at TEXT NOT NULL,
        kind TEXT NOT NULL,
        place TEXT,
        item TEXT,
        quantity INTEGER NOT NULL,
        people INTEGER NOT NULL,
        men INTEGER NOT NULL,
        women INTEGER NOT NULL,
        children INTEGER NOT NULL,
        minors_alone INTEGER NOT NULL,
        vulnerable INTEGER NOT NULL,
        detail TEXT,
        case_id TEXT,
        voided INTEGER NOT NULL,
        body TEXT NOT NULL
    );
    CREATE INDEX entries_shift ON entries(shift, at);
    CREATE INDEX entries_date ON entries(date);
    CREATE TABLE cases (
        id TEXT PRIMARY KEY,
        opened_at TEXT NOT NULL,
        open INTEGER NOT NULL,
        alias TEXT NOT NULL,
        summary TEXT NOT NULL
    );
    CREATE INDEX cases_open ON cases(open, opened_at);
    ",
    // 2: an entry's figures apart from its body, stored in date order, its
    // time as an integer. The period report scans the figures of a year
    // (~100,000 rows); with the bodies beside them it decrypted five times
    // as many pages.
    "
    CREATE TABLE entry_bodies (
        id TEXT PRIMARY KEY,
        shift TEXT NOT NULL,
        at TEXT NOT NULL,
        body TEXT NOT NULL
    );
    INSERT INTO entry_bodies (id, shift, at, body) SELECT id, shift, at, body FROM entries;
    CREATE INDEX entry_bodies_shift ON entry_bodies(shift, at);
    CREATE TABLE entry_figures (
        date TEXT NOT NULL,
        id TEXT NOT NULL,
        shift TEXT NOT NULL,
        shift_kind TEXT NOT NULL,
        at_us INTEGER NOT NULL,
        kind TEXT NOT NULL,
        place TEXT,
        item TEXT,
        quantity INTEGER NOT NULL,
        people INTEGER NOT NULL,
        men INTEGER NOT NULL,
        women INTEGER NOT NULL,
        children INTEGER NOT NULL,
        minors_alone INTEGER NOT NULL,
        vulnerable INTEGER NOT NULL,
        detail TEXT,
        case_id TEXT,
        voided INTEGER NOT NULL,
        PRIMARY KEY (date, id)
    ) WITHOUT ROWID;
    -- `at` was RFC 3339 with microseconds and Z, `at_us` is microseconds
    -- since 1970 UTC: an integer reads faster than a timestamp parses.
    INSERT INTO entry_figures SELECT date, id, shift, shift_kind,
        CAST(strftime('%s', at) AS INTEGER) * 1000000 + CAST(substr(at, 21, 6) AS INTEGER),
        kind, place, item,
        quantity, people, men, women, children, minors_alone, vulnerable, detail, case_id, voided
        FROM entries;
    DROP TABLE entries;
    CREATE UNIQUE INDEX entry_figures_id ON entry_figures(id);
    CREATE INDEX entry_figures_shift ON entry_figures(shift);
    ",
    // 3: sync. `peer_heads` is what each peer was last known to share (sync
    // state, not index: a rebuild keeps it); `quarantine` lists documents
    // received that could not be indexed; `server_link` is this device's
    // enrolment with its antenna's base server.
    "
    CREATE TABLE peer_heads (
        peer TEXT NOT NULL,
        doc TEXT NOT NULL,
        heads TEXT NOT NULL,
        PRIMARY KEY (peer, doc)
    ) WITHOUT ROWID;
    CREATE TABLE quarantine (
        doc TEXT PRIMARY KEY,
        reason TEXT NOT NULL,
        at TEXT NOT NULL
    );
    CREATE TABLE server_link (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        url TEXT NOT NULL,
        role TEXT NOT NULL,
        credential TEXT NOT NULL,
        linked_at TEXT NOT NULL
    );
    ",
    // 4: erasure. The cases erased on this antenna, with their tombstone:
    // their chunks are deleted and chunks received later for them are
    // dropped. Not index: a rebuild keeps it, since the documents are gone.
    "
    CREATE TABLE erased_cases (
        id TEXT PRIMARY KEY,
        doc TEXT NOT NULL UNIQUE,
        tombstone TEXT NOT NULL
    );
    ",
    // 5: teammates. The device's certificate from its antenna (its key,
    // the certificate, the antenna's authority) and the antenna's latest
    // revocation list, with which tablets authenticate each other offline.
    "
    ALTER TABLE server_link ADD COLUMN peer_key BLOB;
    ALTER TABLE server_link ADD COLUMN peer_certificate BLOB;
    ALTER TABLE server_link ADD COLUMN peer_authority BLOB;
    ALTER TABLE server_link ADD COLUMN revocations BLOB;
    ",
    // 6: the last sync with the server (when, and what it did as JSON), so
    // that the app still says "synced 2 h ago" after a restart.
    "
    ALTER TABLE server_link ADD COLUMN last_sync_at TEXT;
    ALTER TABLE server_link ADD COLUMN last_sync_summary TEXT;
    ",
    // 7: tablet logs. A teammate's tablet logs a shift's entries in a
    // document of its own (`tablet_logs`: where each tablet logs which
    // shift, the shift's day for who may receive it); each entry row
    // records the tablet log it is in (`log`; NULL: the shift document).
    "
    ALTER TABLE entry_bodies ADD COLUMN log TEXT;
    CREATE INDEX entry_bodies_log ON entry_bodies(log) WHERE log IS NOT NULL;
    CREATE TABLE tablet_logs (
        id TEXT PRIMARY KEY,
        shift TEXT NOT NULL,
        device TEXT NOT NULL,
        date TEXT NOT NULL
    );
    CREATE INDEX tablet_logs_shift ON tablet_logs(shift, device);
    ",
    // 8: the antenna's team secret, which keys the daily tag teammates
    // find each other by on a network (received with the certificate).
    "
    ALTER TABLE server_link ADD COLUMN team_secret BLOB;
    ",
    // 9: what the app's screen held when it locked (a form half filled),
    // so that a lock loses nothing; never synced (`unsaved`).
    "
    CREATE TABLE unsaved (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        state TEXT NOT NULL,
        kept_at TEXT NOT NULL
    );
    ",
    // 10: the warehouse's stock movements (index of its document).
    "
    CREATE TABLE stock_movements (
        id TEXT PRIMARY KEY,
        at TEXT NOT NULL,
        item TEXT NOT NULL,
        body TEXT NOT NULL
    );
    CREATE INDEX stock_movements_item ON stock_movements(item);
    ",
    // 11: a distribution's size in its figures (`detail`), for the
    // warehouse's figures per size; read from the entries' bodies. The
    // sized distributions by time: a few among a year's entries.
    "
    UPDATE entry_figures SET detail = (
        SELECT json_extract(b.body, '$.size') FROM entry_bodies b WHERE b.id = entry_figures.id
    ) WHERE kind = 'distribution';
    CREATE INDEX entry_figures_sized ON entry_figures(at_us)
        WHERE kind = 'distribution' AND detail IS NOT NULL;
    ",
    // 12: the team secret before the last one, and since when the last
    // one is held: teammates that have not synced since a revocation
    // still meet this tablet for a while (`link::PREVIOUS_SECRET_DAYS`).
    "
    ALTER TABLE server_link ADD COLUMN previous_team_secret BLOB;
    ALTER TABLE server_link ADD COLUMN team_secret_since TEXT;
    ",
    // 13: the figures of shifts kept as figures only (`minimising`): not
    // derived from documents (their documents have left the tablet), so a
    // rebuild of the index keeps them. The reports read the views. A
    // shift or an entry is in one table or the other, never both: a shift
    // or entry indexed again (its document came back with a late
    // correction) removes its figures (`index::put_shift`, `put_entry`).
    // The figures' entry and shift ids are UUIDs' 16 bytes, not their
    // 36-character text: a year is ~95,000 rows on a lead's tablet.
    "
    CREATE TABLE rollup_shifts (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        date TEXT NOT NULL,
        started_at TEXT NOT NULL,
        ended_at TEXT,
        body TEXT NOT NULL
    );
    CREATE INDEX rollup_shifts_date ON rollup_shifts(date);
    CREATE TABLE rollup_figures (
        date TEXT NOT NULL,
        id BLOB NOT NULL,
        shift BLOB NOT NULL,
        shift_kind TEXT NOT NULL,
        at_us INTEGER NOT NULL,
        kind TEXT NOT NULL,
        place TEXT,
        item TEXT,
        quantity INTEGER NOT NULL,
        people INTEGER NOT NULL,
        men INTEGER NOT NULL,
        women INTEGER NOT NULL,
        children INTEGER NOT NULL,
        minors_alone INTEGER NOT NULL,
        vulnerable INTEGER NOT NULL,
        detail TEXT,
        case_id TEXT,
        voided INTEGER NOT NULL,
        PRIMARY KEY (id)
    ) WITHOUT ROWID;
    CREATE VIEW all_shifts AS
        SELECT id, kind, date, started_at, ended_at, body FROM shifts
        UNION ALL
        SELECT id, kind, date, started_at, ended_at, body FROM rollup_shifts;
    CREATE VIEW all_figures AS
        SELECT date, id, shift, shift_kind, at_us, kind, place, item, quantity, people, men,
               women, children, minors_alone, vulnerable, detail, case_id, voided
            FROM entry_figures
        UNION ALL
        SELECT date, id, shift, shift_kind, at_us, kind, place, item, quantity, people, men,
               women, children, minors_alone, vulnerable, detail, case_id, voided
            FROM rollup_figures;
    ",
    // 14: an old shift's figures added up: one row per tablet log, entry
    // kind, place, item and size (detail), with the number of entries it
    // adds up (a fifth of the rows per entry); headcounts stay one per
    // entry (the census takes each place's latest). `log` is the document
    // the figures came from, so that a document indexed again replaces
    // its own; rows kept per entry before this have their entry's id
    // there. `first` is the first entry's id, a row's key. `place_kind`
    // stands for the place where the antenna keeps no places in old
    // figures (`Settings::old_places_by_kind`). The reports read the view.
    // `rollup_shifts.logs`: the shift's tablet logs (16 bytes each), and
    // `detail_wanted`: old shifts a coordinator asked the server for, kept
    // in detail until then (`Store::want_detail`).
    "
    ALTER TABLE rollup_shifts ADD COLUMN logs BLOB;
    CREATE TABLE detail_wanted (
        shift TEXT PRIMARY KEY,
        until TEXT NOT NULL
    );
    CREATE TABLE rollup_groups (
        shift BLOB NOT NULL,
        log BLOB NOT NULL,
        first BLOB NOT NULL,
        date TEXT NOT NULL,
        shift_kind TEXT NOT NULL,
        at_us INTEGER NOT NULL,
        kind TEXT NOT NULL,
        place TEXT,
        place_kind TEXT,
        item TEXT,
        detail TEXT,
        entries INTEGER NOT NULL,
        quantity INTEGER NOT NULL,
        people INTEGER NOT NULL,
        men INTEGER NOT NULL,
        women INTEGER NOT NULL,
        children INTEGER NOT NULL,
        minors_alone INTEGER NOT NULL,
        vulnerable INTEGER NOT NULL,
        PRIMARY KEY (shift, log, first)
    ) WITHOUT ROWID;
    INSERT INTO rollup_groups
        SELECT shift, id, id, date, shift_kind, at_us, kind, place, NULL, item, detail, 1,
               quantity, people, men, women, children, minors_alone, vulnerable
        FROM rollup_figures WHERE voided = 0;
    DROP VIEW all_figures;
    DROP TABLE rollup_figures;
    CREATE VIEW all_figures AS
        SELECT date, id, shift, shift_kind, at_us, kind, place, NULL AS place_kind, item, quantity,
               people, men, women, children, minors_alone, vulnerable, detail, case_id, voided,
               1 AS entries
            FROM entry_figures
        UNION ALL
        SELECT date, first, shift, shift_kind, at_us, kind, place, place_kind, item, quantity,
               people, men, women, children, minors_alone, vulnerable, detail, NULL, 0, entries
            FROM rollup_groups;
    ",
    // `server_link.acknowledged_at`: when the server recorded this
    // device's last acknowledgement, in its own words; sent back at the
    // next sync, it shows a server restored from an older backup.
    "
    ALTER TABLE server_link ADD COLUMN acknowledged_at TEXT;
    ",
];

/// The newest store format this build knows.
pub(crate) fn latest() -> i64 {
    MIGRATIONS.len() as i64
}

pub(crate) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > latest() {
        return Err(StoreError::NewerFormat {
            found,
            known: latest(),
        });
    }
    let migrations = Migrations::new(MIGRATIONS.iter().map(|sql| M::up(sql)).collect());
    migrations
        .to_latest(conn)
        .map_err(|e| StoreError::Migration(e.to_string()))
}
