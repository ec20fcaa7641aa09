/**
 * Start-up recovery: the last checkpoint, then every journal record after it applied in order.
 *
 * Replay works on plain maps (records by id, an _id lookup) and builds the in-memory collections
 * and their indexes once at the end, so a unique index is never checked against a half-replayed
 * state. Every entry applies idempotently — inserts and updates carry the whole document, deletes
 * name the _id, catalog records carry the whole catalog entry — which is what lets a checkpoint be
 * written in slices: replaying from its sealed timestamp over a half-written one gives the same result.
 *
 * Retryable writes and transactions are recovered from the same entries (lsid, txnNumber, stmtId),
 * as mongod rebuilds its session table from the oplog, so a retry after a restart is not executed again.
 */
import type { RecordPlacement } from '../durability/index.js';
import { CHECKPOINT_TABLES, type Persistence } from './persistence.js';
import { decodeDocument, Long, UUID, valueFingerprint, type BsonValue, type Document, type TsKey } from './deps.js';
import type { CollectionOptions, IndexSpec } from './collection.js';

type RecoveredCollection = {
  uuid: string;
  entry: Document;
  records: Map<number, Document>;
  byId: Map<string, number>;
  nextRid: number;
};

/** A session's last retryable write or transaction, as the journal shows it. */
export interface RecoveredSession {
  lsid: Document;
  txnNumber: bigint;
  kind: 'retryableWrite' | 'transaction';
  /** Results of the executed statements of a retryable write, by stmtId. */
  executed: Map<number, Document>;
  lastWriteTs: TsKey;
}

export interface RecoveredState {
  checkpointTs: TsKey;
  lastTs: TsKey;
  collections: Array<{ uuid: UUID; db: string; name: string; options: CollectionOptions; hasIdIndex: boolean; createdTs: TsKey; indexes: IndexSpec[]; records: Array<[number, Document]> }>;
  /** Every oplog entry the journal holds: its bytes (a view into the file read at start-up) and where to read it again. */
  oplog: Array<{ ts: TsKey; bytes: Buffer; record: RecordPlacement; start: number }>;
  sessions: RecoveredSession[];
  replayed: number;
  /** Records the replay wrote or deleted, by collection uuid: not in the checkpoint yet, so the next one must write them. */
  replayTouched: Map<string, Set<number>>;
  /** Collections the replay dropped: their checkpointed records must go. */
  replayDropped: Set<string>;
  cutTail: Persistence['recovered']['cutTail'];
}

export function readRecoveredState(p: Persistence): RecoveredState | undefined {
  const meta = p.store.meta();
  const records = p.recovered.records;
  if (!meta && records.length === 0) return undefined;
  const checkpointTs = meta?.checkpointTs ?? 0;
  const colls = new Map<string, RecoveredCollection>();
  for (const { key, value } of p.store.entries(CHECKPOINT_TABLES.catalog)) {
    const uuid = String(key);
    colls.set(uuid, { uuid, entry: decodeDocument(value), records: new Map(), byId: new Map(), nextRid: 1 });
  }
  for (const { key, value } of p.store.entries(CHECKPOINT_TABLES.records)) {
    const [uuid, ridKey] = key as [string, number];
    const coll = colls.get(uuid);
    if (!coll) continue;
    const rid = Number(ridKey);
    const doc = decodeDocument(value);
    coll.records.set(rid, doc);
    coll.byId.set(valueFingerprint(doc._id as BsonValue), rid);
    if (rid >= coll.nextRid) coll.nextRid = rid + 1;
  }
  p.noteRecoveredCatalog(colls.keys(), checkpointTs);

  const replay = new Replay(colls);
  const oplog: RecoveredState['oplog'] = [];
  let lastTs = checkpointTs;
  let replayed = 0;
  for (const record of records) {
    const apply = record.ts > checkpointTs;
    if (apply) replayed++;
    if (record.ts > lastTs) lastTs = record.ts;
    for (const bytes of documentsIn(record.payload)) {
      const doc = decodeDocument(bytes);
      if (doc.lw === undefined) {
        oplog.push({ ts: record.ts, bytes, record: { path: record.path, offset: record.offset, length: record.length }, start: bytes.byteOffset - record.payload.byteOffset });
        replay.sessionsFrom(doc, record.ts);
        if (apply) replay.oplogEntry(doc);
      } else replay.local(doc, apply);
    }
  }
  // The records are views into the segment files read at start-up: let those go.
  records.length = 0;
  const collections: RecoveredState['collections'] = [];
  for (const c of colls.values()) {
    const e = c.entry;
    collections.push({
      uuid: new UUID(c.uuid),
      db: e.db as string,
      name: e.name as string,
      options: (e.options ?? {}) as CollectionOptions,
      hasIdIndex: e.hasIdIndex !== false,
      createdTs: Number(e.createdTs ?? 0),
      indexes: (e.indexes ?? []) as IndexSpec[],
      records: [...c.records.entries()].sort((a, b) => a[0] - b[0]),
    });
  }
  return {
    checkpointTs,
    lastTs,
    collections,
    oplog,
    sessions: [...replay.sessions.values()],
    replayed,
    replayTouched: replay.touched,
    replayDropped: replay.dropped,
    cutTail: p.recovered.cutTail,
  };
}

/** The BSON documents laid back to back in a journal record's payload. */
function* documentsIn(payload: Buffer): Generator<Buffer> {
  let offset = 0;
  while (offset + 4 <= payload.length) {
    const size = payload.readInt32LE(offset);
    yield payload.subarray(offset, offset + size);
    offset += size;
  }
}

class Replay {
  /** A large transaction's partialTxn entries, held until its commit entry arrives. */
  private readonly partial = new Map<string, Document[]>();
  readonly sessions = new Map<string, RecoveredSession>();
  readonly touched = new Map<string, Set<number>>();
  readonly dropped = new Set<string>();

  constructor(private readonly colls: Map<string, RecoveredCollection>) {}

  local(doc: Document, apply: boolean): void {
    if (doc.lw === 'stmt') {
      const s = this.session(doc.lsid as Document, toBigInt(doc.txnNumber), 'retryableWrite', 0);
      if (s) s.executed.set(Number(doc.stmtId), doc.result as Document);
      return;
    }
    if (!apply) return;
    if (doc.lw === 'catalog') {
      const uuid = (doc.ui as UUID).toHexString();
      if (doc.dropped === true) {
        this.colls.delete(uuid);
        this.touched.delete(uuid);
        this.dropped.add(uuid);
        return;
      }
      const existing = this.colls.get(uuid);
      const entry = { ...doc };
      delete entry.lw;
      delete entry.ui;
      if (existing) existing.entry = entry;
      else this.colls.set(uuid, { uuid, entry, records: new Map(), byId: new Map(), nextRid: 1 });
    } else if (doc.lw === 'w') this.write(doc);
  }

  oplogEntry(entry: Document): void {
    if (entry.op === 'c' && entry.o && (entry.o as Document).applyOps) {
      const o = entry.o as Document;
      const key = entry.lsid ? `${valueFingerprint(entry.lsid as BsonValue)}:${String(entry.txnNumber)}` : '';
      const held = this.partial.get(key) ?? [];
      held.push(...(o.applyOps as Document[]));
      if (o.partialTxn === true) {
        this.partial.set(key, held);
        return;
      }
      this.partial.delete(key);
      for (const op of held) this.write(op);
      return;
    }
    if (entry.op === 'i' || entry.op === 'u' || entry.op === 'd') this.write(entry);
  }

  private write(op: Document): void {
    const ui = op.ui as UUID | undefined;
    const coll = ui ? this.colls.get(ui.toHexString()) : undefined;
    if (!coll) return;
    let touched = this.touched.get(coll.uuid);
    if (!touched) this.touched.set(coll.uuid, (touched = new Set()));
    if (op.op === 'd') {
      const fp = valueFingerprint(((op.o as Document)._id ?? null) as BsonValue);
      const rid = coll.byId.get(fp);
      if (rid !== undefined) {
        coll.records.delete(rid);
        coll.byId.delete(fp);
        touched.add(rid);
      }
      return;
    }
    const doc = op.o as Document;
    const fp = valueFingerprint(doc._id as BsonValue);
    let rid = coll.byId.get(fp);
    if (rid === undefined) {
      rid = coll.nextRid++;
      coll.byId.set(fp, rid);
    }
    coll.records.set(rid, doc);
    touched.add(rid);
  }

  /** Notes the session facts an oplog entry carries: a retryable write's statement, or a committed transaction. */
  sessionsFrom(entry: Document, ts: TsKey): void {
    if (!entry.lsid || entry.txnNumber === undefined) return;
    const o = entry.o as Document | undefined;
    if (entry.op === 'c' && o?.applyOps) {
      if (o.partialTxn !== true) this.session(entry.lsid as Document, toBigInt(entry.txnNumber), 'transaction', ts);
      return;
    }
    if (entry.stmtId === undefined) return;
    const s = this.session(entry.lsid as Document, toBigInt(entry.txnNumber), 'retryableWrite', ts);
    if (!s) return;
    const stmtId = Number(entry.stmtId);
    // The exact result comes from the statement's own record; this stands in if a crash kept the entry but not that record.
    const prior = s.executed.get(stmtId);
    if (entry.op === 'i') s.executed.set(stmtId, { n: 1, nModified: 0, upsertedId: { _id: (o as Document)._id } });
    else s.executed.set(stmtId, { n: ((prior?.n as number) ?? 0) + 1, nModified: ((prior?.nModified as number) ?? 0) + (entry.op === 'u' ? 1 : 0) });
  }

  private session(lsid: Document, txnNumber: bigint, kind: RecoveredSession['kind'], ts: TsKey): RecoveredSession | undefined {
    const key = valueFingerprint(lsid as BsonValue);
    const s = this.sessions.get(key);
    if (s && s.txnNumber > txnNumber) return undefined;
    if (s && s.txnNumber === txnNumber && s.kind === kind) {
      if (ts > s.lastWriteTs) s.lastWriteTs = ts;
      return s;
    }
    const fresh: RecoveredSession = { lsid, txnNumber, kind, executed: new Map(), lastWriteTs: ts };
    this.sessions.set(key, fresh);
    return fresh;
  }
}

function toBigInt(v: unknown): bigint {
  if (v instanceof Long) return v.toBigInt();
  if (typeof v === 'bigint') return v;
  return BigInt(Number(v));
}
