// A standard JavaScript automerge-repo client (the npm packages, their
// WebSocket adapter as it ships) talking to maraude-server: what a web or
// Node client of another team would run. tests/sync/js_client.rs drives it.
//
//   node client.mjs find --server URL --device UUID --document ID
//   node client.mjs log  --server URL --device UUID --document ID \
//                        [--item blanket] [--quantity 2] [--by Nour]
//   node client.mjs forge --server URL --device UUID --document ANTENNA_ID \
//                        --what tombstone|schema|retention [--case UUID] [--by Mira]
//   node client.mjs forge --server URL --device UUID --document WAREHOUSE_ID \
//                        --what movement --signed DEVICE_UUID [--item I --quantity N]
//
// The device's credential comes from MARAUDE_CREDENTIAL, never an argument
// (arguments show in `ps`). `find` prints the shift's entries as JSON:
// those written in the shift document itself (by the tablet that started
// the shift), and those of each other tablet's log, which the shift
// document links to under `logs` (tablet → log's UUID, which names its
// document); `log` prints them too, then adds a
// distribution entry to the shift document as the Rust core writes one and
// waits until the server holds it, printing {"entries": [...], "logged": {...}}.
//
// `forge` is what a volunteer's modified client would write into the
// antenna document: a tombstone for a case (signed with a lead's
// nickname), a newer schema, or a retention of 0 days; or, with a lead's
// ticket, a donation in the warehouse signed with a tablet's id (another
// tablet's, or its own as the control). It prints
// {"held": true|false}: whether the server confirmed holding the change
// within a few seconds (it must not).
//
// Exit codes: 0 done; 1 failed; 2 bad usage; 3 the server answered that
// the document is unavailable to this device; 4 no answer in time.
//
// The adapter cannot set an Authorization header on the WebSocket upgrade
// (it calls `new WebSocket(url)`), and the credential must not go in the
// URL, so the client trades it for a single-use ticket first
// (POST /v1/sync/ticket) and connects to /v1/sync?ticket=….

import { parseArgs } from "node:util";
import { webcrypto } from "node:crypto";
import { Repo, ImmutableString, interpretAsDocumentId } from "@automerge/automerge-repo";
import { WebSocketClientAdapter } from "@automerge/automerge-repo-network-websocket";

const UNAVAILABLE = 3;
const TIMEOUT = 4;
const WAIT_MS = 20_000;

function fail(message, code = 1) {
  process.stderr.write(`maraude js client: ${message}\n`);
  process.exit(code);
}

// The adapter throws from its socket's error handler (a refused upgrade,
// say): say what happened in one line, not a stack trace.
process.on("uncaughtException", (e) => fail(e?.message ?? String(e)));
process.on("unhandledRejection", (e) => fail(e?.message ?? String(e)));

const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    server: { type: "string" },
    device: { type: "string" },
    document: { type: "string" },
    item: { type: "string", default: "blanket" },
    quantity: { type: "string", default: "1" },
    by: { type: "string", default: "Nour" },
    what: { type: "string" },
    case: { type: "string" },
    signed: { type: "string" },
  },
});
const mode = positionals[0];
if (!["find", "log", "forge"].includes(mode) || !opts.server || !opts.device || !opts.document) {
  fail(
    "usage: node client.mjs find|log --server URL --device UUID --document ID " +
      "[--item ITEM --quantity N --by NICKNAME], credential in MARAUDE_CREDENTIAL",
    2,
  );
}
const credential = process.env.MARAUDE_CREDENTIAL;
if (!credential) fail("set MARAUDE_CREDENTIAL to the device's credential", 2);

/** A single-use ticket for the sync socket, bought with the credential. */
async function ticket(server) {
  const answer = await fetch(new URL("/v1/sync/ticket", server), {
    method: "POST",
    headers: { authorization: `Bearer ${credential}` },
  }).catch((e) => fail(`cannot reach the server at ${server}: ${e.cause?.message ?? e.message}`));
  const body = await answer.json().catch(() => ({}));
  if (!answer.ok) fail(`no sync ticket (${answer.status}): ${body.message ?? "no reason given"}`);
  return body.ticket;
}

/** UUID v7, as the Rust side's entry ids: milliseconds first, then random. */
function uuidv7() {
  const b = webcrypto.getRandomValues(new Uint8Array(16));
  let ms = BigInt(Date.now());
  for (let i = 5; i >= 0; i--, ms >>= 8n) b[i] = Number(ms & 0xffn);
  b[6] = (b[6] & 0x0f) | 0x70;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * A distribution entry in the shape `maraude-core` writes (`Entry` with
 * `EntryContent::Distribution`, through `document/json.rs`): strings as
 * scalar strings (Automerge JS would make collaborative text of a plain
 * string), whole numbers as integers, no person.
 */
function distribution({ item, quantity, by, device }) {
  const now = new Date().toISOString();
  return {
    id: uuidv7(),
    at: now,
    logged_by: by,
    logged_at: now,
    device,
    kind: "distribution",
    item,
    quantity,
    composition: { men: 0, women: 0, children: 0, minors_alone: 0 },
    history: [],
  };
}

function asScalars(value) {
  if (typeof value === "string") return new ImmutableString(value);
  if (Array.isArray(value)) return value.map(asScalars);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, asScalars(v)]));
  }
  return value;
}

/** A document's entries; the map key is an entry's id. */
function entriesOf(doc) {
  const entries = JSON.parse(JSON.stringify(doc.entries ?? {}));
  return Object.entries(entries).map(([id, entry]) => ({ id, ...entry }));
}

function byTime(a, b) {
  return a.at === b.at ? a.id.localeCompare(b.id) : a.at.localeCompare(b.at);
}

/** The document a record's UUID names: its 16 bytes, bs58check-encoded. */
function documentOf(uuid) {
  const hex = uuid.replaceAll("-", "");
  return interpretAsDocumentId(Uint8Array.from(hex.match(/../g), (h) => parseInt(h, 16)));
}

async function find(repo, documentId) {
  try {
    return await repo.find(documentId, { signal: AbortSignal.timeout(WAIT_MS) });
  } catch (e) {
    if (/unavailable/i.test(e.message)) {
      fail(`document ${documentId} is unavailable to this device`, UNAVAILABLE);
    }
    if (e.name === "TimeoutError" || e.name === "AbortError") {
      fail(`no answer for document ${documentId} within ${WAIT_MS / 1000} s`, TIMEOUT);
    }
    fail(`cannot find document ${documentId}: ${e.message}`);
  }
}

/**
 * The shift's entries: its own (those of the tablet that started it, whose
 * `logs` entry is the shift itself) and its other tablets' logs'.
 */
async function shiftEntries(repo, shift) {
  const all = entriesOf(shift);
  for (const log of Object.values(shift.logs ?? {}).map(String)) {
    if (log === String(shift.id)) continue;
    all.push(...entriesOf((await find(repo, documentOf(log))).doc()));
  }
  return all.sort(byTime);
}

function sameHeads(a = [], b = []) {
  return a.length === b.length && [...a].sort().join() === [...b].sort().join();
}

/** Resolves once the server's sync messages say it has our heads. */
function serverHolds(repo, handle) {
  return new Promise((resolve) => {
    const check = () => {
      for (const peer of repo.peers) {
        const storageId = repo.peerMetadataByPeerId[peer]?.storageId;
        const theirs = storageId && handle.getSyncInfo(storageId)?.lastHeads;
        if (sameHeads(theirs, handle.heads())) {
          handle.off("remote-heads", check);
          resolve(peer);
          return;
        }
      }
    };
    handle.on("remote-heads", check);
    check();
  });
}

function deadline(ms, what) {
  return new Promise((_, reject) =>
    setTimeout(() => reject(Object.assign(new Error(what), { timeout: true })), ms).unref(),
  );
}

const socketUrl = new URL("/v1/sync", opts.server);
socketUrl.protocol = socketUrl.protocol === "https:" ? "wss:" : "ws:";
socketUrl.searchParams.set("ticket", await ticket(opts.server));
// A ticket opens one connection: no redial within this run (the adapter
// would present the spent ticket again).
const adapter = new WebSocketClientAdapter(socketUrl.toString(), 10 * WAIT_MS);
const repo = new Repo({ network: [adapter], peerId: `device-${opts.device}` });

const handle = await find(repo, opts.document);
if (mode === "forge") {
  const now = new ImmutableString(new Date().toISOString());
  handle.change((doc) => {
    if (opts.what === "tombstone") {
      const line = doc.cases[opts.case];
      if (!line) fail(`no case ${opts.case} in the antenna document`, 2);
      line.erased_at = now;
      line.erased_because = new ImmutableString("asked");
      line.erased_by = new ImmutableString(opts.by);
    } else if (opts.what === "schema") {
      doc.schema = 99;
    } else if (opts.what === "retention") {
      doc.settings.retention_days = 0;
    } else if (opts.what === "movement") {
      if (!opts.signed) fail("--what movement needs --signed DEVICE_UUID", 2);
      const id = uuidv7();
      doc.movements[id] = asScalars({
        id,
        at: new Date().toISOString(),
        by: opts.by,
        device: opts.signed,
        item: opts.item,
        movement: "receipt",
        quantity: Number(opts.quantity),
        source: "donation",
        from: "",
      });
    } else {
      fail(`--what: tombstone, schema, retention or movement, not "${opts.what}"`, 2);
    }
  });
  const held = await Promise.race([
    serverHolds(repo, handle).then(() => true),
    new Promise((resolve) => setTimeout(() => resolve(false), 5_000).unref()),
  ]);
  process.stdout.write(`${JSON.stringify({ held })}\n`);
  await repo.shutdown();
  process.exit(0);
}
const entries = await shiftEntries(repo, handle.doc());
let output = { entries };
if (mode === "log") {
  const quantity = Number(opts.quantity);
  if (!Number.isInteger(quantity)) fail(`--quantity: a whole number, not "${opts.quantity}"`, 2);
  const entry = distribution({ item: opts.item, quantity, by: opts.by, device: opts.device });
  handle.change((doc) => {
    doc.entries[entry.id] = asScalars(entry);
  });
  try {
    await Promise.race([serverHolds(repo, handle), deadline(WAIT_MS, "the server did not confirm the entry")]);
  } catch (e) {
    fail(`${e.message} within ${WAIT_MS / 1000} s`, TIMEOUT);
  }
  output = { entries, logged: entry };
}

// What the connection negotiated, for the curious (stderr: not the output).
const ws = adapter.socket;
process.stderr.write(
  `maraude js client: websocket extensions "${ws?.extensions ?? ""}", ` +
    `${ws?._socket?.bytesWritten ?? "?"} bytes sent, ${ws?._socket?.bytesRead ?? "?"} received\n`,
);
process.stdout.write(`${JSON.stringify(output)}\n`);
await repo.shutdown();
process.exit(0);
