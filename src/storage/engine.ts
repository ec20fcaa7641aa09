/**
 * The storage engine: the catalog, the oplog, and the one commit path every write takes.
 *
 * Node runs one thread, so a commit runs to completion between awaits: it takes one timestamp
 * from the hybrid logical clock, publishes every pending version at it, and appends the oplog
 * entries in the same step. Readers that began before keep their snapshot; old versions are
 * kept while any open reader may still see them and dropped afterwards.
 */
import type { Clock } from '../platform/index.js';
import type { Journal, RecordPlacement } from '../durability/index.js';
import { Collection, IndexState, RecordChain, type CollectionOptions, type IndexSpec, type RecordId, type Version } from './collection.js';
import { StorageTxn, duplicateKey, type WriteOp } from './txn.js';
import { Long, documentSize, encodeDocument, dossierError, fail, timestampOf, tsKeyOf, tsKeyAtSeconds, Timestamp, UUID, type Document, type HybridLogicalClock, type TsKey } from './deps.js';
import { compareKeys } from './keys.js';
import { storedDiff, updateDiff, updateDiffFromPaths } from './oplog-diff.js';
import type { CheckpointSource, Persistence } from './persistence.js';
import { readRecoveredState, type RecoveredState } from './recovery.js';

export const OPLOG_NS = { db: 'local', name: 'oplog.rs' } as const;
/** The in-memory engine's oplog cap; mongod's inMemory engine takes 5% of RAM, which a JS heap cannot hold. */
export const OPLOG_SIZE_DEFAULT_BYTES = 192 * 1024 * 1024;
/** A durable engine's oplog: mongod's rule, 5% of the free disk space, at least 990 MB, at most 50 GB. */
export const OPLOG_SIZE_DISK_FRACTION = 0.05;
export const OPLOG_SIZE_DURABLE_MIN_BYTES = 990 * 1024 * 1024;
export const OPLOG_SIZE_DURABLE_MAX_BYTES = 50 * 1024 * 1024 * 1024;
/** Oplog bytes a durable engine keeps in memory; older entries are read back from the journal. */
export const OPLOG_RESIDENT_BYTES_MAX = 64 * 1024 * 1024;

export function durableOplogSizeBytes(freeDiskBytes: number): number {
  return Math.min(OPLOG_SIZE_DURABLE_MAX_BYTES, Math.max(OPLOG_SIZE_DURABLE_MIN_BYTES, Math.floor(freeDiskBytes * OPLOG_SIZE_DISK_FRACTION)));
}
/** Term of the single-node replica set until elections exist. */
export const CURRENT_TERM = 1;
/** Records with old versions pruned per commit, so history shrinks as the window moves without a long pause. */
const HISTORY_SWEEP_PER_COMMIT = 8;
/** Every oplog entry's `t` (the term: constant on a one-member set) and `v` (entry format 2), shared. */
const OPLOG_TERM = Long.fromNumber(CURRENT_TERM);
const OPLOG_VERSION = Long.fromNumber(2);

export type OplogFields = Document;

export interface CommitOptions {
  /** Fields every oplog entry of this commit carries (lsid, txnNumber, stmtId, prevOpTime). */
  oplogFields?: OplogFields;
  /** A multi-document transaction: one applyOps entry (a chain of partialTxn entries when large). */
  asTransaction?: boolean;
  /** Bookkeeping writes mongod does not replicate (config.transactions): no oplog entry. */
  unreplicated?: boolean;
  /**
   * A command entry (`op: 'c'` on `<db>.$cmd`) logged after the writes, at the same timestamp: the
   * catalog change that a write to a catalog collection stands for (a view's `create`, kept as a
   * `system.views` document), which oplog readers such as change streams look for.
   */
  commandEntry?: { db: string; o: Document };
}

/** An applyOps entry stays under the 16 MiB document limit; larger transactions become a chain. */
export const APPLY_OPS_ENTRY_MAX_BYTES = 16 * 1024 * 1024 - 64 * 1024;
/** minSnapshotHistoryWindowInSeconds: how far back atClusterTime reads may go. */
export const SNAPSHOT_HISTORY_WINDOW_DEFAULT_SECONDS = 300;

export type CatalogOp = { ns: string; o: Document; o2?: Document; ui?: UUID };

/**
 * Where pre-images live, as in mongod: one document per update or delete of a collection with
 * `changeStreamPreAndPostImages` enabled, `_id: {nsUUID, ts, applyOpsIndex}`. Like mongod's, it
 * is not replicated (no oplog entry of its own); a durable engine journals it as a local write.
 */
export const PREIMAGES_NS = { db: 'config', name: 'system.preimages' } as const;
/** Expired pre-images removed per write that adds new ones, so the collection never needs a long sweep. */
const PREIMAGE_EXPIRY_PER_WRITE = 16;

/** One oplog entry as a reader sees it: its record id (the order of the oplog), timestamp and document. */
export interface OplogRead {
  rid: RecordId;
  ts: TsKey;
  entry: Document;
}

export class StorageEngine {
  private readonly databases = new Map<string, Map<string, Collection>>();
  private readonly open = new Set<StorageTxn>();
  /**
   * Records holding more than one version, in the order they got history: a queue swept from the
   * front as the oldest readable snapshot moves (an array with a head index, because a Map
   * emptied from the front keeps its deleted slots and each sweep would walk them again).
   */
  private historyQueue: Array<{ chain: RecordChain; coll: Collection; rid: RecordId }> = [];
  private historyHead = 0;
  private readonly withHistory = new Set<RecordChain>();
  private lastCommit: TsKey;
  private oplogBytes = 0;
  private readonly oplogSizes = new Map<RecordId, number>();
  /**
   * A durable engine keeps the newest oplog entries' bytes in memory, up to this budget; older
   * ones are read back from the journal when read. `oplogResident` are the entries still holding
   * bytes, oldest first (array + head index, as the history queue).
   */
  private oplogResident: Array<{ version: Version; length: number }> = [];
  private oplogResidentHead = 0;
  private oplogResidentBytes = 0;
  /** OPLOG_RESIDENT_BYTES_MAX, settable so tests can make the journal serve reads with little data. */
  oplogResidentBytesMax = OPLOG_RESIDENT_BYTES_MAX;
  readonly oplog: Collection;
  oplogSizeMaxBytes: number;
  /** replSetResizeOplog's minRetentionHours: entries younger than this stay past the cap. */
  oplogMinRetentionHours = 0;
  /** Versions younger than this many seconds are kept for atClusterTime reads. */
  historyWindowSeconds = SNAPSHOT_HISTORY_WINDOW_DEFAULT_SECONDS;

  /** Set when the engine is durable: every commit goes to its journal. */
  readonly persistence: Persistence | undefined;
  /** What start-up recovery found (undefined for a new or in-memory engine). */
  readonly recovered: RecoveredState | undefined;

  constructor(
    readonly hlc: HybridLogicalClock,
    private readonly clock: Clock,
    options: { oplogSizeBytes?: number; persistence?: Persistence; partialFilterOf?: (spec: IndexSpec) => ((doc: Document) => boolean) | undefined } = {},
  ) {
    this.oplogSizeMaxBytes = options.oplogSizeBytes ?? OPLOG_SIZE_DEFAULT_BYTES;
    this.persistence = options.persistence;
    this.recovered = options.persistence ? readRecoveredState(options.persistence) : undefined;
    // Timestamps never go backwards across restarts: the clock starts past everything recovered.
    if (this.recovered) hlc.observe(this.recovered.lastTs);
    this.lastCommit = hlc.tick();
    const oplogUuid = new UUID();
    this.oplog = new Collection(OPLOG_NS.db, OPLOG_NS.name, oplogUuid, { capped: true, size: this.oplogSizeMaxBytes }, this.lastCommit, false);
    this.collectionsOf(OPLOG_NS.db, true)!.set(OPLOG_NS.name, this.oplog);
    if (this.recovered) this.restore(this.recovered, options.partialFilterOf ?? (() => undefined));
    else this.appendOplog([{ op: 'n', ns: '', o: { msg: 'initiating set' } }], this.lastCommit, {});
  }

  /** Rebuilds collections, indexes and the oplog from what recovery read. */
  private restore(state: RecoveredState, partialFilterOf: (spec: IndexSpec) => ((doc: Document) => boolean) | undefined): void {
    for (const c of state.collections) {
      const coll = new Collection(c.db, c.name, c.uuid, c.options, c.createdTs, c.hasIdIndex);
      for (const spec of c.indexes) coll.indexes.set(spec.name, new IndexState(spec, partialFilterOf(spec)));
      for (const [rid, doc] of c.records) {
        const chain = new RecordChain();
        chain.versions = [{ ts: state.lastTs, doc }];
        coll.restoreRecord(rid, chain);
        coll.addIndexEntries(doc, rid, () => {});
      }
      this.collectionsOf(c.db, true)!.set(c.name, coll);
      for (const rid of state.replayTouched.get(c.uuid.toHexString()) ?? []) this.persistence!.markDirty(coll, rid);
      // The chains hold the documents now; the list would only keep a second array alive.
      c.records.length = 0;
    }
    for (const uuid of state.replayDropped) this.persistence!.collectionDroppedUuid(uuid);
    // The newest entries stay in memory (copied out of the file buffers read at start-up); older
    // ones are read back from the journal when someone reads them.
    const journal = this.persistence!.journal;
    let resident = 0;
    let firstResident = state.oplog.length;
    while (firstResident > 0 && resident + state.oplog[firstResident - 1]!.bytes.length <= this.oplogResidentBytesMax) resident += state.oplog[--firstResident]!.bytes.length;
    state.oplog.forEach(({ ts, bytes, record, start }, i) => {
      // The loader holds the length only: holding `bytes` would keep the whole file read at start-up alive.
      const load = journalLoader(journal, record, start, start + bytes.length);
      if (i >= firstResident) this.storeOplogEntry(ts, Buffer.from(bytes)).load = load;
      else this.storeOplogEntry(ts, bytes, load);
    });
    state.oplog.length = 0;
    this.truncateOplog();
    // A mark in the oplog where this run begins, as mongod's startup writes one.
    this.appendOplog([{ op: 'n', ns: '', o: { msg: 'recovered from journal' } }], this.lastCommit, {});
  }

  /** What a checkpoint reads from the engine. */
  get checkpointSource(): CheckpointSource {
    const engine = this;
    return {
      get lastCommitTs() {
        return engine.lastCommit;
      },
      pin: (ts) => {
        const t = this.begin(ts);
        return () => this.abort(t);
      },
      catalogEntries: () => {
        const out = new Map<string, Document>();
        for (const colls of this.databases.values()) for (const coll of colls.values()) if (coll !== this.oplog) out.set(coll.uuid.toHexString(), catalogEntryOf(coll));
        return out;
      },
      recordAt: (coll, rid, ts) => coll.records.get(rid)?.visibleAt(ts) ?? null,
      oldestOplogTs: () => this.oldestOplogTs(),
    };
  }

  /** Refuses new writes while the journal cannot take them (a full or failing disk). */
  assertWritable(): void {
    this.persistence?.assertWritable();
  }

  /** Journals a retryable write statement's result beside its commit (see persistence.ts). */
  logStatementResult(lsid: Document, txnNumber: bigint, stmtId: number, result: Document): void {
    this.persistence?.logCommit(this.lastCommit, [], [{ lw: 'stmt', lsid, txnNumber: Long.fromBigInt(txnNumber), stmtId, result }]);
  }

  /** The newest commit timestamp: every write at or before it is visible to new readers. */
  get lastCommitTs(): TsKey {
    return this.lastCommit;
  }

  // ---- catalog ----

  databaseNames(): string[] {
    return [...this.databases.entries()].filter(([, colls]) => colls.size > 0).map(([name]) => name).sort();
  }

  collectionsOf(db: string, create = false): Map<string, Collection> | undefined {
    let colls = this.databases.get(db);
    if (!colls && create) {
      colls = new Map();
      this.databases.set(db, colls);
    }
    return colls;
  }

  getCollection(db: string, name: string): Collection | undefined {
    return this.databases.get(db)?.get(name);
  }

  createCollection(db: string, name: string, options: CollectionOptions, idIndexSpec: IndexSpec | null = { v: 2, key: { _id: 1 }, name: '_id_' }): Collection {
    this.assertWritable();
    const colls = this.collectionsOf(db, true)!;
    if (colls.has(name)) fail('NamespaceExists', `Collection ${db}.${name} already exists.`);
    const ts = this.hlc.tick();
    const coll = new Collection(db, name, new UUID(), options, ts, idIndexSpec !== null);
    if (idIndexSpec) coll.indexes.set('_id_', new IndexState(idIndexSpec));
    colls.set(name, coll);
    const o: Document = { create: name, ...options };
    if (idIndexSpec) o.idIndex = idIndexSpec;
    this.commitCatalogOp({ ns: `${db}.$cmd`, ui: coll.uuid, o }, ts, coll);
    return coll;
  }

  dropCollection(coll: Collection): void {
    const colls = this.databases.get(coll.db);
    if (colls?.get(coll.name) !== coll) return;
    colls.delete(coll.name);
    if (colls.size === 0) this.databases.delete(coll.db);
    this.persistence?.collectionDropped(coll);
    this.commitCatalogOp({ ns: `${coll.db}.$cmd`, ui: coll.uuid, o: { drop: coll.name } }, this.hlc.tick(), coll, true);
  }

  renameCollection(coll: Collection, toDb: string, toName: string, dropTarget: Collection | undefined): void {
    this.assertWritable();
    const fromNs = coll.ns;
    if (dropTarget) this.dropCollection(dropTarget);
    const from = this.databases.get(coll.db)!;
    from.delete(coll.name);
    if (from.size === 0) this.databases.delete(coll.db);
    coll.db = toDb;
    coll.name = toName;
    this.collectionsOf(toDb, true)!.set(toName, coll);
    const o: Document = { renameCollection: fromNs, to: coll.ns, stayTemp: false };
    if (dropTarget) o.dropTarget = dropTarget.uuid;
    this.commitCatalogOp({ ns: `${fromNs.split('.')[0]}.$cmd`, ui: coll.uuid, o }, this.hlc.tick(), coll);
  }

  /** Builds an index over the collection's records; fails (and leaves no index) on a duplicate key. */
  createIndex(coll: Collection, spec: IndexSpec, partialFilter?: (doc: Document) => boolean): IndexState {
    this.assertWritable();
    const index = new IndexState(spec, partialFilter);
    coll.indexes.set(spec.name, index);
    try {
      for (const [rid, chain] of coll.records.entries()) {
        const docs = chain.versions.map((v) => v.doc);
        if (chain.pending) docs.push(chain.pending.doc);
        for (const doc of docs) for (const key of index.keysOf(doc)) index.tree.set({ key, rid }, true);
        if (index.unique) this.checkUniqueOnBuild(coll, index, rid, chain);
      }
    } catch (e) {
      coll.indexes.delete(spec.name);
      throw e;
    }
    this.commitCatalogOp({ ns: `${coll.db}.$cmd`, ui: coll.uuid, o: { createIndexes: coll.name, ...spec } }, this.hlc.tick(), coll);
    return index;
  }

  private checkUniqueOnBuild(coll: Collection, index: IndexState, rid: RecordId, chain: RecordChain): void {
    const doc = chain.latest()?.doc ?? null;
    for (const key of index.keysOf(doc)) {
      for (const other of index.entriesWithKey(key)) {
        if (other.rid === rid) continue;
        const otherDoc = coll.records.get(other.rid)?.latest()?.doc ?? null;
        if (otherDoc && index.keysOf(otherDoc).some((k) => compareKeys(k, key, index.fields, index.collator) === 0)) throw duplicateKey(coll, index, key);
      }
    }
  }

  dropIndex(coll: Collection, name: string): void {
    this.assertWritable();
    const dropped = coll.indexes.get(name);
    if (!dropped || !coll.indexes.delete(name)) throw dossierError('IndexNotFound', `index not found with name [${name}]`);
    // o2 carries the dropped index's spec, as mongod's entry does (change streams report it).
    this.commitCatalogOp({ ns: `${coll.db}.$cmd`, ui: coll.uuid, o: { dropIndexes: coll.name, index: name }, o2: { ...dropped.spec } }, this.hlc.tick(), coll);
  }

  /** collMod: the caller has changed the collection's options or index specs; journal the result. */
  collectionModified(coll: Collection, o: Document): void {
    this.commitCatalogOp({ ns: `${coll.db}.$cmd`, ui: coll.uuid, o: { collMod: coll.name, ...o } }, this.hlc.tick(), coll);
  }

  /** dropDatabase's own entry, after the drops of its collections (change streams end a database's stream on it). */
  databaseDropped(db: string): void {
    const ts = this.hlc.tick();
    this.appendOplog([{ op: 'c', ns: `${db}.$cmd`, o: { dropDatabase: 1 } }], ts, {});
    this.lastCommit = ts;
  }

  /** Writes a no-op oplog entry (appendOplogNote, and the periodic noop writer). */
  noop(o: Document): TsKey {
    const ts = this.hlc.tick();
    this.appendOplog([{ op: 'n', ns: '', o }], ts, {});
    this.lastCommit = ts;
    return ts;
  }

  /** A catalog change's oplog entry; the journal also gets the collection's whole catalog entry after it. */
  private commitCatalogOp(op: CatalogOp, ts: TsKey, coll: Collection, dropped = false): void {
    const local = this.persistence ? [dropped ? { lw: 'catalog', ui: coll.uuid, dropped: true } : { lw: 'catalog', ui: coll.uuid, ...catalogEntryOf(coll) }] : [];
    this.appendOplog([{ op: 'c', ns: op.ns, ui: op.ui, o: op.o, o2: op.o2 }], ts, {}, local);
    this.lastCommit = ts;
  }

  // ---- transactions ----

  begin(readTs: TsKey = this.lastCommit): StorageTxn {
    const txn = new StorageTxn(readTs, (t) => this.ended(t));
    this.open.add(txn);
    return txn;
  }

  /**
   * Publishes `txn`'s writes at one new timestamp and appends their oplog entries; a transaction
   * without writes just ends. Returns the commit timestamp, or null for a read-only transaction.
   */
  commit(txn: StorageTxn, options: CommitOptions = {}): TsKey | null {
    if (!txn.hasWrites) {
      txn.finish('committed');
      return null;
    }
    // Bookkeeping (config.transactions) follows a write that already happened, so it is never refused.
    if (!options.unreplicated) this.assertWritable();
    const ops = txn.ops.map((w) => oplogEntryOf(w));
    // A large transaction's partial entries take their own, earlier timestamps; its writes
    // become visible at the last one, the commit.
    const chunks = options.asTransaction && !options.unreplicated ? applyOpsChunks(ops) : [];
    const partialTs = chunks.slice(0, -1).map(() => this.hlc.tick());
    const ts = this.hlc.tick();
    const touched = [...txn.touched.entries()];
    txn.finish('committed', ts);
    this.lastCommit = ts;
    if (!options.unreplicated) {
      if (options.asTransaction) {
        chunks.forEach((chunk, i) => {
          const o: Document = { applyOps: chunk };
          if (i < chunks.length - 1) o.partialTxn = true;
          else if (chunks.length > 1) o.count = Long.fromNumber(ops.length);
          this.appendOplog([{ op: 'c', ns: 'admin.$cmd', o }], i < chunks.length - 1 ? partialTs[i]! : ts, options.oplogFields ?? {});
        });
      } else {
        if (options.commandEntry) ops.push({ op: 'c', ns: `${options.commandEntry.db}.$cmd`, o: options.commandEntry.o });
        this.appendOplog(ops, ts, options.oplogFields ?? {});
      }
    } else this.persistence?.logCommit(ts, [], ops.map((o) => ({ lw: 'w', ...o })));
    if (this.persistence) for (const [, t] of touched) this.persistence.markDirty(t.coll, t.rid);
    const oldest = this.oldestReadTs();
    for (const [chain, t] of touched) this.prune(t.coll, t.rid, chain, oldest);
    this.sweepHistory(HISTORY_SWEEP_PER_COMMIT);
    if (!options.unreplicated) this.recordPreImages(txn.ops, ts);
    return ts;
  }

  /**
   * Writes the pre-images of this commit's updates and deletes on collections that keep them
   * (changeStreamPreAndPostImages). They get a commit of their own right after the write's, in the
   * same synchronous step, so no reader can see the write without its pre-image; `_id.ts` is the
   * write's timestamp and `applyOpsIndex` its position in the commit, which is how a change
   * stream finds them.
   */
  private recordPreImages(ops: readonly WriteOp[], ts: TsKey): void {
    const images: Document[] = [];
    ops.forEach((w, i) => {
      if (w.op === 'i' || !w.before || !keepsPreImages(w.coll)) return;
      images.push({ _id: { nsUUID: w.coll.uuid, ts: timestampOf(ts), applyOpsIndex: Long.fromNumber(i) }, operationTime: new Date(this.clock.nowMs()), preImage: w.before });
    });
    if (images.length === 0) return;
    const coll = this.getCollection(PREIMAGES_NS.db, PREIMAGES_NS.name) ?? this.createCollection(PREIMAGES_NS.db, PREIMAGES_NS.name, {});
    const txn = this.begin();
    try {
      for (const doc of images) txn.insert(coll, doc);
      this.expirePreImages(txn, coll);
      this.commit(txn, { unreplicated: true });
    } finally {
      this.abort(txn);
    }
  }

  /** Pre-images older than the oldest oplog entry can no longer be asked for (mongod's expired pre-image remover). */
  private expirePreImages(txn: StorageTxn, coll: Collection): void {
    const oldestOplog = this.oldestOplogTs();
    const expired: RecordId[] = [];
    for (const { rid, doc } of txn.scan(coll)) {
      const id = doc._id as Document;
      if (expired.length >= PREIMAGE_EXPIRY_PER_WRITE || tsKeyOf(id.ts as Timestamp) >= oldestOplog) break;
      expired.push(rid);
    }
    for (const rid of expired) txn.delete(coll, rid);
  }

  /** The pre-image of the write at (`ts`, `applyOpsIndex`) on the collection `nsUUID`, if one was kept. */
  preImage(nsUUID: UUID, ts: TsKey, applyOpsIndex: number): Document | undefined {
    const coll = this.getCollection(PREIMAGES_NS.db, PREIMAGES_NS.name);
    if (!coll) return undefined;
    const txn = this.begin();
    try {
      const found = txn.findById(coll, { nsUUID, ts: timestampOf(ts), applyOpsIndex: Long.fromNumber(applyOpsIndex) });
      return found?.doc.preImage as Document | undefined;
    } finally {
      this.abort(txn);
    }
  }

  abort(txn: StorageTxn): void {
    if (txn.isActive) txn.finish('aborted');
  }

  /**
   * The oldest snapshot anybody may still read: open readers, and the history window that
   * atClusterTime reads are promised. Versions older than what it sees can go.
   */
  oldestReadTs(): TsKey {
    let oldest = Math.min(this.lastCommit, this.historyWindowStart());
    for (const t of this.open) if (t.readTs < oldest) oldest = t.readTs;
    return oldest;
  }

  /** The first timestamp inside the snapshot history window. */
  historyWindowStart(): TsKey {
    const secs = Math.floor(this.clock.nowMs() / 1000) - this.historyWindowSeconds;
    return tsKeyAtSeconds(Math.max(0, secs));
  }

  /**
   * Prunes up to `budget` records that still hold old versions, oldest history first. It stops at
   * the first record with nothing to drop yet (its second version is newer than what the oldest
   * reader sees): records got their history in commit order, so the ones behind it are no more
   * prunable either, and walking them on every commit was most of an update's cost.
   */
  sweepHistory(budget: number): void {
    if (this.withHistory.size === 0) return;
    const oldest = this.oldestReadTs();
    const queue = this.historyQueue;
    let swept = 0;
    while (swept < budget && this.historyHead < queue.length) {
      const entry = queue[this.historyHead]!;
      const next = entry.chain.versions[1];
      if (next !== undefined && next.ts > oldest) break;
      this.historyHead++;
      swept++;
      this.withHistory.delete(entry.chain);
      this.prune(entry.coll, entry.rid, entry.chain, oldest);
    }
    if (this.historyHead > 1024 && this.historyHead * 2 > queue.length) {
      this.historyQueue = queue.slice(this.historyHead);
      this.historyHead = 0;
    }
  }

  /** Records still holding more than one version, for tests and serverStatus. */
  get recordsWithHistory(): number {
    return this.withHistory.size;
  }

  get openTransactionCount(): number {
    return this.open.size;
  }

  private ended(txn: StorageTxn): void {
    this.open.delete(txn);
    this.sweepHistory(HISTORY_SWEEP_PER_COMMIT);
  }

  private prune(coll: Collection, rid: RecordId, chain: RecordChain, oldest: TsKey): void {
    // The newest version at or before `oldest` stays (it is what the oldest reader sees); versions
    // are in commit order, so a binary search finds it without walking a long history.
    let lo = 0;
    let hi = chain.versions.length - 1;
    let keepFrom = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (chain.versions[mid]!.ts <= oldest) {
        keepFrom = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    const dropped = chain.versions.splice(0, keepFrom).map((v) => v.doc);
    const only = chain.versions[0];
    const gone = chain.versions.length === 1 && only!.doc === null && only!.ts <= oldest && !chain.pending;
    if (gone) {
      chain.versions.length = 0;
      if (coll.records.get(rid) === chain) coll.records.delete(rid);
    }
    if (dropped.length > 0 || gone) coll.noteDroppedVersions(rid, dropped, chain, gone);
    if (chain.versions.length > 1 && !this.withHistory.has(chain)) {
      this.withHistory.add(chain);
      this.historyQueue.push({ chain, coll, rid });
    }
  }

  // ---- oplog ----

  private appendOplog(entries: Document[], ts: TsKey, extra: OplogFields, local: Document[] = []): void {
    const wall = new Date(this.clock.nowMs());
    const journaled: Buffer[] = [];
    const stored: Version[] = [];
    const tsValue = timestampOf(ts);
    for (const e of entries) {
      // Built field by field: `delete` would turn the entry into a slow dictionary object, and a
      // spread followed by more fields is V8's slow path on Node 20; this runs for every write.
      const entry: Document = {};
      for (const k in e) if (e[k] !== undefined || (k !== 'o2' && k !== 'ui')) entry[k] = e[k];
      for (const k in extra) entry[k] = (extra as Document)[k];
      entry.ts = tsValue;
      entry.t = OPLOG_TERM;
      entry.v = OPLOG_VERSION;
      entry.wall = wall;
      const bytes = encodeDocument(entry);
      journaled.push(bytes);
      stored.push(this.storeOplogEntry(ts, bytes));
    }
    if (this.persistence) {
      const journal = this.persistence.journal;
      this.persistence.logCommit(ts, journaled, local, (where) => {
        // Once durable, each entry can be read back from its place in the record.
        let at = 0;
        for (let i = 0; i < stored.length; i++) {
          const length = journaled[i]!.length;
          stored[i]!.load = journalLoader(journal, where, at, at + length);
          at += length;
        }
      });
      this.evictOplogBytes();
    }
    this.truncateOplog();
  }

  /** Drops the bytes of the oldest resident entries past the budget (those already durable and placed). */
  private evictOplogBytes(): void {
    while (this.oplogResidentBytes > this.oplogResidentBytesMax && this.oplogResidentHead < this.oplogResident.length) {
      const entry = this.oplogResident[this.oplogResidentHead]!;
      if (entry.version.bytes && !entry.version.load) break;
      entry.version.bytes = undefined;
      this.oplogResidentBytes -= entry.length;
      this.oplogResidentHead++;
    }
    if (this.oplogResidentHead > 1024 && this.oplogResidentHead * 2 > this.oplogResident.length) {
      this.oplogResident = this.oplogResident.slice(this.oplogResidentHead);
      this.oplogResidentHead = 0;
    }
  }

  /** An oplog entry, new or read back from the journal at start-up; stored encoded (or, if `load` is given, only where to read it). */
  private storeOplogEntry(ts: TsKey, bytes: Buffer, load?: () => Buffer): Version {
    const rid = this.oplog.allocateRecordId();
    const chain = new RecordChain();
    const version: Version = load ? { ts, doc: null, load } : { ts, doc: null, bytes };
    chain.versions = [version];
    this.oplog.records.set(rid, chain);
    this.oplogSizes.set(rid, bytes.length);
    this.oplogBytes += bytes.length;
    if (!load && this.persistence) {
      this.oplogResident.push({ version, length: bytes.length });
      this.oplogResidentBytes += bytes.length;
    }
    return version;
  }

  /** replSetResizeOplog: a new cap, applied at once. */
  resizeOplog(bytes: number): void {
    this.oplogSizeMaxBytes = bytes;
    this.oplog.options = { ...this.oplog.options, size: bytes };
    this.truncateOplog();
  }

  /** The oplog is capped: the oldest entries go once it passes its size (and, if set, its minimum retention). */
  private truncateOplog(): void {
    const keepAfter = this.oplogMinRetentionHours > 0 ? tsKeyAtSeconds(Math.max(0, Math.floor(this.clock.nowMs() / 1000 - this.oplogMinRetentionHours * 3600))) : 0;
    while (this.oplogBytes > this.oplogSizeMaxBytes && this.oplog.records.size > 1) {
      const first = this.oplog.records.minKey()!;
      if (keepAfter > 0 && (this.oplog.records.get(first)?.versions[0]?.ts ?? 0) >= keepAfter) break;
      this.oplogBytes -= this.oplogSizes.get(first) ?? 0;
      this.oplogSizes.delete(first);
      this.oplog.records.delete(first);
    }
  }

  get oplogSizeBytes(): number {
    return this.oplogBytes;
  }

  /** The timestamp of the oldest entry still in the oplog. */
  oldestOplogTs(): TsKey {
    const first = this.oplog.records.minKey();
    return first === undefined ? this.lastCommit : (this.oplog.records.get(first)?.versions[0]?.ts ?? this.lastCommit);
  }

  /**
   * The record id of the first oplog entry at or after `ts` (the id the next entry will get when
   * there is none). Record ids grow with timestamps and truncation only removes the oldest, so
   * the ids in the oplog are contiguous and a binary search over them finds it.
   */
  oplogRidAtOrAfter(ts: TsKey): RecordId {
    const min = this.oplog.records.minKey();
    const max = this.oplog.records.maxKey();
    if (min === undefined || max === undefined) return this.oplog.nextRecordId;
    let lo = min;
    let hi = max + 1;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const v = this.oplog.records.get(mid)?.versions[0];
      if (v !== undefined && v.ts >= ts) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /**
   * Reads the oplog entries from record id `from` on, oldest first, stopping before any entry
   * newer than `upTo` (a reader that must not see what is not yet durable). Fails with
   * ChangeStreamHistoryLost when `from` has already been truncated away: the reader missed entries.
   */
  *readOplog(from: RecordId, upTo: TsKey): Generator<OplogRead, void, undefined> {
    const min = this.oplog.records.minKey();
    if (min !== undefined && from < min) throw dossierError('ChangeStreamHistoryLost', 'Resume of change stream was not possible, as the resume point may no longer be in the oplog.');
    for (let rid = from; ; rid++) {
      const v = this.oplog.records.get(rid)?.versions[0];
      if (!v || v.ts > upTo) return;
      yield { rid, ts: v.ts, entry: this.oplog.records.get(rid)!.visibleAt(v.ts)! };
    }
  }
}

function keepsPreImages(coll: Collection): boolean {
  const opt = coll.options.changeStreamPreAndPostImages as Document | undefined;
  return opt !== undefined && opt.enabled === true;
}

/**
 * Reads an oplog entry back from its journal record. Made here, outside appendOplog, so the
 * closure holds only these four values: one made inside would keep that commit's whole scope
 * alive (its encoded entries among them), for as long as the entry stays in the oplog.
 */
function journalLoader(journal: Journal, where: RecordPlacement, start: number, end: number): () => Buffer {
  return () => journal.readPayload(where).subarray(start, end);
}

/** A collection's catalog entry as checkpoints and journal catalog records hold it. */
export function catalogEntryOf(coll: Collection): Document {
  return { db: coll.db, name: coll.name, options: coll.options, hasIdIndex: coll.hasIdIndex, createdTs: coll.createdTs, indexes: [...coll.indexes.values()].map((i) => i.spec) };
}

function oplogEntryOf(w: WriteOp): Document {
  const ns = w.coll.ns;
  const ui = w.coll.uuid;
  switch (w.op) {
    case 'i':
      return { op: 'i', ns, ui, o: w.doc!, o2: { _id: w.doc!._id } };
    case 'u': {
      const entry: Document = { op: 'u', ns, ui, o: w.doc!, o2: { _id: w.doc!._id } };
      if (!w.replacement && w.before) entry.diff = storedDiff(w.modifiedPaths ? updateDiffFromPaths(w.before, w.doc!, w.modifiedPaths) : updateDiff(w.before, w.doc!));
      return entry;
    }
    case 'd':
      return { op: 'd', ns, ui, o: { _id: w.before?._id ?? null } };
  }
}

/**
 * A transaction's oplog: one applyOps entry, or, past the entry size limit, a chain of entries
 * marked partialTxn, the last one (the commit) without the mark.
 */
function applyOpsChunks(ops: Document[]): Document[][] {
  const chunks: Document[][] = [[]];
  let bytes = 0;
  for (const op of ops) {
    const size = documentSize(op);
    if (bytes + size > APPLY_OPS_ENTRY_MAX_BYTES && chunks[chunks.length - 1]!.length > 0) {
      chunks.push([]);
      bytes = 0;
    }
    chunks[chunks.length - 1]!.push(op);
    bytes += size;
  }
  return chunks;
}
