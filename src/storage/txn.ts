/**
 * A storage transaction: reads from the snapshot at `readTs` plus its own pending writes, and
 * publishes every write at one commit timestamp. An autocommit insert is one of these with a
 * single write; a multi-document transaction is one held open across commands.
 *
 * Conflicts are first-writer-wins, as mongod: writing a record that another open transaction has
 * written, or that was committed after this snapshot, fails at once with WriteConflict.
 */
import type { Collection, IndexEntry, IndexState, RecordId, Version } from './collection.js';
import type { ModifiedPath } from './oplog-diff.js';
import { RecordChain } from './collection.js';
import { type IndexKey } from './keys.js';
import { compareValues, collationDocument, dossierError, type Collator, fail, formatDocument, type BsonValue, type Document, type TsKey, ErrorCodes, DossierError } from './deps.js';
import { MaxKey, MinKey } from '../bson/index.js';

/**
 * `replacement`: an update that replaced the whole document (a change stream reports it as
 * `replace`); `modifiedPaths`: the fields an operator update changed (its delta is built from them).
 */
export type WriteOp = { op: 'i' | 'u' | 'd'; coll: Collection; rid: RecordId; doc: Document | null; before: Document | null } & UpdateKind;

/** How an update changed its document; neither field for a pipeline update (its delta is a diff of the two versions). */
export interface UpdateKind {
  replacement?: boolean;
  modifiedPaths?: readonly ModifiedPath[];
}

/** One interval of index key values for one key-pattern field, in ascending value terms. */
export type KeyInterval = { low: BsonValue; lowInclusive: boolean; high: BsonValue; highInclusive: boolean };

export type TxnState = 'active' | 'committed' | 'aborted';

let nextTxnId = 1;
const SCAN_CHUNK = 256;

export class StorageTxn {
  readonly id = nextTxnId++;
  state: TxnState = 'active';
  readonly ops: WriteOp[] = [];
  /** Chains this transaction holds a pending version on, with the collection they belong to. */
  readonly touched = new Map<RecordChain, { coll: Collection; rid: RecordId; before: Document | null }>();
  readonly addedEntries: Array<[IndexState, IndexEntry]> = [];

  private endWaiters: Array<() => void> = [];
  /** Undo steps for catalog changes made inside this transaction, run if it aborts. */
  private readonly abortActions: Array<() => void> = [];

  /** Registers an undo step to run if this transaction aborts (a collection or index it created). */
  onAbort(action: () => void): void {
    this.abortActions.push(action);
  }

  constructor(
    public readTs: TsKey,
    private readonly onEnd: (txn: StorageTxn) => void,
  ) {}

  /** Resolves once this transaction commits or aborts (a blocked single-statement write waits on it). */
  whenEnded(): Promise<void> {
    if (this.state !== 'active') return Promise.resolve();
    return new Promise((resolve) => this.endWaiters.push(resolve));
  }

  get isActive(): boolean {
    return this.state === 'active';
  }

  get hasWrites(): boolean {
    return this.ops.length > 0;
  }

  // ---- reads ----

  get(coll: Collection, rid: RecordId): Document | null {
    const chain = coll.records.get(rid);
    return chain ? chain.visibleTo(this) : null;
  }

  findById(coll: Collection, id: BsonValue): { rid: RecordId; doc: Document } | undefined {
    const idIndex = coll.idIndex;
    if (!idIndex) {
      for (const r of this.scan(coll)) if (compareValues(r.doc._id, id) === 0) return r;
      return undefined;
    }
    for (const e of idIndex.entriesWithKey([id])) {
      const doc = this.get(coll, e.rid);
      // A collated _id index (a collection default collation) holds _id values equal under it.
      if (doc && compareValues(doc._id, id, idIndex.collator) === 0) return { rid: e.rid, doc };
    }
    return undefined;
  }

  /**
   * Records in record-id (insertion) order, or reverse, starting after `afterRid`. The tree is read
   * in chunks, each from a fresh iterator, because a suspended scan (a cursor between getMores)
   * must survive other commands changing the tree.
   */
  *scan(coll: Collection, options: { reverse?: boolean; afterRid?: RecordId } = {}): Generator<{ rid: RecordId; doc: Document }> {
    const reverse = options.reverse === true;
    let cursor = options.afterRid;
    for (;;) {
      const chunk: Array<[RecordId, RecordChain]> = [];
      const iter = reverse
        ? coll.records.entriesReversed(cursor ?? undefined, undefined, cursor !== undefined)
        : coll.records.entries(cursor !== undefined ? cursor + 1 : undefined);
      for (const [rid, chain] of iter) {
        chunk.push([rid, chain]);
        if (chunk.length === SCAN_CHUNK) break;
      }
      for (const [rid, chain] of chunk) {
        const doc = chain.visibleTo(this);
        if (doc) yield { rid, doc };
      }
      if (chunk.length < SCAN_CHUNK) return;
      cursor = chunk[chunk.length - 1]![0];
    }
  }

  /**
   * Records whose keys in `index` fall in `bounds` (one interval list per key-pattern field),
   * in index order (or reverse). Each record is produced once, at its first qualifying key.
   */
  *indexScan(coll: Collection, index: IndexState, bounds: KeyInterval[][], reverse = false): Generator<{ rid: RecordId; doc: Document; key: IndexKey }> {
    const seen = new Set<RecordId>();
    const fields = index.fields;
    const first = fields[0]!;
    const firstIntervals = first.direction === 1 ? bounds[0]! : [...bounds[0]!].reverse();
    const ordered = reverse ? [...firstIntervals].reverse() : firstIntervals;
    const restMin = fields.slice(1).map((f) => (f.direction === 1 ? new MinKey() : new MaxKey()));
    const restMax = fields.slice(1).map((f) => (f.direction === 1 ? new MaxKey() : new MinKey()));
    for (const interval of ordered) {
      // In tree order a descending field runs from the interval's high end to its low end.
      const [lo, loIncl, hi, hiIncl] =
        first.direction === 1
          ? [interval.low, interval.lowInclusive, interval.high, interval.highInclusive]
          : [interval.high, interval.highInclusive, interval.low, interval.lowInclusive];
      const lowEntry: IndexEntry = loIncl ? { key: [lo, ...restMin], rid: -Infinity } : { key: [lo, ...restMax], rid: Infinity };
      const highEntry: IndexEntry = hiIncl ? { key: [hi, ...restMax], rid: Infinity } : { key: [hi, ...restMin], rid: -Infinity };
      if (index.tree._compare(lowEntry, highEntry) > 0) continue;
      const entries: IndexEntry[] = [];
      index.tree.forRange(lowEntry, highEntry, false, (k) => void entries.push(k));
      if (reverse) entries.reverse();
      for (const entry of entries) {
        if (seen.has(entry.rid)) continue;
        if (!restInBounds(entry.key, bounds, index.collator)) continue;
        const doc = this.get(coll, entry.rid);
        if (!doc || !index.hasKey(doc, entry.key)) continue;
        seen.add(entry.rid);
        yield { rid: entry.rid, doc, key: entry.key };
      }
    }
  }

  // ---- writes ----

  insert(coll: Collection, doc: Document): RecordId {
    this.assertActive();
    const rid = coll.allocateRecordId();
    const chain = new RecordChain();
    chain.pending = { txn: this, doc };
    coll.records.set(rid, chain);
    this.touched.set(chain, { coll, rid, before: null });
    try {
      this.addEntries(coll, rid, doc);
    } catch (e) {
      this.undoChain(chain);
      throw e;
    }
    this.ops.push({ op: 'i', coll, rid, doc, before: null });
    return rid;
  }

  update(coll: Collection, rid: RecordId, doc: Document, kind: UpdateKind = {}): void {
    this.assertActive();
    const chain = this.claim(coll, rid);
    const before = chain.visibleTo(this);
    const previousPending = chain.pending;
    chain.pending = { txn: this, doc };
    try {
      this.addEntries(coll, rid, doc);
    } catch (e) {
      chain.pending = previousPending?.txn === this ? previousPending : undefined;
      if (!chain.pending) this.touched.delete(chain);
      throw e;
    }
    // Field by field, not spread: this runs for every update (V8's object spread is its slow path).
    this.ops.push({ op: 'u', coll, rid, doc, before, replacement: kind.replacement, modifiedPaths: kind.modifiedPaths });
  }

  delete(coll: Collection, rid: RecordId): void {
    this.assertActive();
    const chain = this.claim(coll, rid);
    const before = chain.visibleTo(this);
    chain.pending = { txn: this, doc: null };
    this.ops.push({ op: 'd', coll, rid, doc: null, before });
  }

  /** Takes the write right on a record, or fails with WriteConflict (first writer wins). */
  private claim(coll: Collection, rid: RecordId): RecordChain {
    const chain = coll.records.get(rid);
    if (!chain) throw dossierError('NoSuchKey', `record ${rid} not found in ${coll.ns}`);
    if (chain.pending && chain.pending.txn !== this) throw writeConflict(chain.pending.txn);
    const latest = chain.latest();
    if (latest && latest.ts > this.readTs) throw writeConflict();
    if (!chain.pending) this.touched.set(chain, { coll, rid, before: chain.visibleAt(this.readTs) });
    return chain;
  }

  private addEntries(coll: Collection, rid: RecordId, doc: Document): void {
    const added = coll.addIndexEntries(doc, rid, (index, key) => {
      // prepareUnique (set by collMod before converting an index to unique) refuses new duplicates only.
      if (index.unique || index.spec.prepareUnique === true) this.checkUnique(coll, index, key, rid);
    });
    this.addedEntries.push(...added);
  }

  private checkUnique(coll: Collection, index: IndexState, key: IndexKey, rid: RecordId): void {
    for (const entry of index.entriesWithKey(key)) {
      if (entry.rid === rid) continue;
      const chain = coll.records.get(entry.rid);
      if (!chain) continue;
      if (chain.pending && chain.pending.txn !== this) {
        if (index.hasKey(chain.pending.doc, key) || index.hasKey(chain.latest()?.doc ?? null, key)) throw writeConflict(chain.pending.txn);
        continue;
      }
      if (chain.pending && chain.pending.txn === this) {
        if (index.hasKey(chain.pending.doc, key)) throw duplicateKey(coll, index, key);
        continue;
      }
      const latest = chain.latest();
      if (latest && index.hasKey(latest.doc, key)) {
        if (latest.ts > this.readTs) throw writeConflict();
        throw duplicateKey(coll, index, key);
      }
    }
  }

  private undoChain(chain: RecordChain): void {
    const t = this.touched.get(chain);
    if (!t) return;
    const dropped = chain.pending ? [chain.pending.doc] : [];
    chain.pending = undefined;
    this.touched.delete(chain);
    if (chain.versions.length === 0) t.coll.records.delete(t.rid);
    t.coll.reconcileIndexEntries(t.rid, dropped, chain.versions.length ? chain : undefined);
  }

  private assertActive(): void {
    if (this.state !== 'active') fail('InternalError', `storage transaction ${this.id} is ${this.state}`);
  }

  /** Called by the engine; publishes or drops pending versions. */
  finish(state: 'committed' | 'aborted', commitTs?: TsKey): void {
    if (state === 'committed') {
      for (const chain of this.touched.keys()) {
        const version: Version = { ts: commitTs!, doc: chain.pending!.doc };
        // A first version gets an array of its size: push onto an empty array reserves 17 slots,
        // 150 bytes per record that most records never use.
        if (chain.versions.length === 0) chain.versions = [version];
        else chain.versions.push(version);
        chain.pending = undefined;
      }
    } else {
      for (const chain of [...this.touched.keys()]) this.undoChain(chain);
      for (const undo of this.abortActions.reverse()) undo();
    }
    this.state = state;
    this.onEnd(this);
    const waiters = this.endWaiters;
    this.endWaiters = [];
    for (const w of waiters) w();
  }
}

function restInBounds(key: IndexKey, bounds: KeyInterval[][], collator: Collator | null): boolean {
  for (let i = 1; i < bounds.length; i++) {
    const v = key[i];
    if (!bounds[i]!.some((iv) => inInterval(v, iv, collator))) return false;
  }
  return true;
}

/** Whether `v` lies in `iv`, strings compared by the index's collator. */
export function inInterval(v: BsonValue, iv: KeyInterval, collator?: Collator | null): boolean {
  const lo = compareValues(v, iv.low, collator);
  if (lo < 0 || (lo === 0 && !iv.lowInclusive)) return false;
  const hi = compareValues(v, iv.high, collator);
  return hi < 0 || (hi === 0 && iv.highInclusive);
}

const blockers = new WeakMap<DossierError, StorageTxn>();

/**
 * WriteConflict, as mongod words it. Labels are the command layer's business (they depend on
 * whether the write ran in a transaction); the open transaction that holds the record, if any, is
 * remembered so a single-statement write can wait for it to end and retry, as mongod does.
 */
export function writeConflict(blocker?: StorageTxn): DossierError {
  const e = new DossierError(ErrorCodes.WriteConflict, 'Write conflict during plan execution and yielding is disabled. :: Please retry your operation or multi-document transaction.');
  if (blocker) blockers.set(e, blocker);
  return e;
}

/** The open transaction a WriteConflict waited on, if it came from one. */
export function blockingTransactionOf(e: unknown): StorageTxn | undefined {
  return e instanceof DossierError ? blockers.get(e) : undefined;
}

/** DuplicateKey (11000) as mongod words it, with keyPattern and keyValue. */
export function duplicateKey(coll: Collection, index: IndexState, key: IndexKey): DossierError {
  const keyPattern: Document = {};
  index.fields.forEach((f) => (keyPattern[f.path] = index.spec.key[f.path]));
  const keyValue = index.keyDocument(key);
  const collation = index.collator ? ` collation: ${formatDocument(collationDocument(index.collator))}` : '';
  return new DossierError(ErrorCodes.DuplicateKey, `E11000 duplicate key error collection: ${coll.ns} index: ${index.name}${collation} dup key: ${formatDocument(keyValue)}`, {
    extra: { keyPattern, keyValue },
  });
}

