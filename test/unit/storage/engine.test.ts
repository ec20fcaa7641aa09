/**
 * The MVCC storage engine on its own: snapshot reads, first-writer-wins conflicts, abort,
 * unique indexes between open transactions, history pruning (record chains and index entries),
 * and the oplog appended at commit. Time moves only through a ManualClock.
 */
import { beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../src/platform/index.js';
import { HybridLogicalClock } from '../../../src/time/index.js';
import { DossierError } from '../../../src/base/index.js';
import { StorageEngine, type Collection, type IndexState, type StorageTxn } from '../../../src/storage/index.js';
import { Int32, type Document } from '../../../src/bson/index.js';

let clock: ManualClock;
let engine: StorageEngine;
let coll: Collection;

function setup(): void {
  clock = new ManualClock(Date.UTC(2026, 0, 1));
  engine = new StorageEngine(new HybridLogicalClock(clock), clock);
  // The snapshot history window (atClusterTime reads), where the engine has one: none here, so
  // pruning depends only on open readers and the one-second clock steps below.
  (engine as unknown as { historyWindowSeconds?: number }).historyWindowSeconds = 0;
  coll = engine.createCollection('db', 'c', {});
}

function autocommit<T>(work: (txn: StorageTxn) => T): T {
  const txn = engine.begin();
  try {
    const out = work(txn);
    engine.commit(txn);
    return out;
  } catch (e) {
    engine.abort(txn);
    throw e;
  }
}

/**
 * Asserts `fn` throws a DossierError with that code. Labels are not storage's business: the
 * transaction layer adds TransientTransactionError to a WriteConflict inside a multi-document
 * transaction (an autocommit write retries it instead), so storage errors carry none.
 */
function throwsCode(fn: () => unknown, code: number, codeName: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof DossierError, String(e));
    assert.equal(e.code, code);
    assert.equal(e.codeName, codeName);
    assert.deepEqual(e.errorLabels, []);
    return true;
  });
}

const chainLength = (rid: number): number => coll.records.get(rid)?.versions.length ?? 0;
const entriesFor = (index: IndexState, rid: number): unknown[] => [...index.tree.keys()].filter((e) => e.rid === rid).map((e) => e.key);
const index = (name: string): IndexState => coll.indexes.get(name)!;
const find = (txn: StorageTxn, id: unknown): Document | undefined => txn.findById(coll, id as never)?.doc;

describe('storage: snapshot reads', () => {
  beforeEach(setup);

  it('a transaction begun before a commit does not see it; one begun after does', () => {
    const early = engine.begin();
    autocommit((t) => t.insert(coll, { _id: 1, v: 'a' }));
    assert.equal(find(early, 1), undefined);
    assert.equal([...early.scan(coll)].length, 0);
    const late = engine.begin();
    assert.deepEqual(find(late, 1), { _id: 1, v: 'a' });
    engine.abort(early);
    engine.abort(late);
  });

  it('a reader keeps seeing the version of its snapshot through later updates and deletes', () => {
    const rid = autocommit((t) => t.insert(coll, { _id: 1, v: 1 }));
    const reader = engine.begin();
    autocommit((t) => t.update(coll, rid, { _id: 1, v: 2 }));
    const middle = engine.begin();
    autocommit((t) => t.delete(coll, rid));
    assert.deepEqual(reader.get(coll, rid), { _id: 1, v: 1 });
    assert.deepEqual(middle.get(coll, rid), { _id: 1, v: 2 });
    assert.equal(engine.begin().get(coll, rid), null);
    engine.abort(reader);
    engine.abort(middle);
  });

  it('a transaction sees its own pending writes; nobody else does until commit', () => {
    const writer = engine.begin();
    const rid = writer.insert(coll, { _id: 1 });
    writer.update(coll, rid, { _id: 1, x: 1 });
    const other = engine.begin();
    assert.deepEqual(writer.get(coll, rid), { _id: 1, x: 1 });
    assert.equal(other.get(coll, rid), null);
    const ts = engine.commit(writer);
    assert.equal(ts, engine.lastCommitTs);
    assert.equal(other.get(coll, rid), null);
    assert.deepEqual(engine.begin().get(coll, rid), { _id: 1, x: 1 });
  });

  it('commit timestamps strictly increase; a read-only commit has none', () => {
    const t1 = autocommit((t) => (t.insert(coll, { _id: 1 }), engine.lastCommitTs));
    const a = engine.lastCommitTs;
    autocommit((t) => t.insert(coll, { _id: 2 }));
    const b = engine.lastCommitTs;
    assert.ok(b > a);
    assert.ok(a >= t1);
    const reader = engine.begin();
    assert.equal(engine.commit(reader), null);
    assert.equal(engine.lastCommitTs, b);
  });
});

describe('storage: first-writer-wins', () => {
  beforeEach(setup);

  it('two open transactions writing one record: the second fails at once with WriteConflict (112)', () => {
    const rid = autocommit((t) => t.insert(coll, { _id: 1, n: 0 }));
    const t1 = engine.begin();
    const t2 = engine.begin();
    t1.update(coll, rid, { _id: 1, n: 1 });
    throwsCode(() => t2.update(coll, rid, { _id: 1, n: 2 }), 112, 'WriteConflict');
    throwsCode(() => t2.delete(coll, rid), 112, 'WriteConflict');
    engine.commit(t1);
    engine.abort(t2);
    assert.deepEqual(engine.begin().get(coll, rid), { _id: 1, n: 1 });
  });

  it('writing a record committed after my snapshot fails with WriteConflict, even with no writer open', () => {
    const rid = autocommit((t) => t.insert(coll, { _id: 1, n: 0 }));
    const stale = engine.begin();
    autocommit((t) => t.update(coll, rid, { _id: 1, n: 1 }));
    throwsCode(() => stale.update(coll, rid, { _id: 1, n: 2 }), 112, 'WriteConflict');
    throwsCode(() => stale.delete(coll, rid), 112, 'WriteConflict');
    engine.abort(stale);
    const fresh = engine.begin();
    fresh.update(coll, rid, { _id: 1, n: 3 });
    engine.commit(fresh);
    assert.deepEqual(engine.begin().get(coll, rid), { _id: 1, n: 3 });
  });

  it('after the first writer aborts, the record is free again', () => {
    const rid = autocommit((t) => t.insert(coll, { _id: 1 }));
    const t1 = engine.begin();
    const t2 = engine.begin();
    t1.delete(coll, rid);
    engine.abort(t1);
    t2.update(coll, rid, { _id: 1, ok: true });
    engine.commit(t2);
    assert.deepEqual(engine.begin().get(coll, rid), { _id: 1, ok: true });
  });
});

describe('storage: abort', () => {
  beforeEach(setup);

  it('an aborted insert leaves no record and no index entry', () => {
    engine.createIndex(coll, { v: 2, key: { a: 1 }, name: 'a_1' });
    autocommit((t) => t.insert(coll, { _id: 0, a: 0 }));
    const records = coll.records.size;
    const idEntries = index('_id_').tree.size;
    const aEntries = index('a_1').tree.size;
    const oplogEntries = engine.oplog.records.size;
    const t = engine.begin();
    t.insert(coll, { _id: 1, a: 1 });
    t.insert(coll, { _id: 2, a: [2, 3] });
    assert.equal(index('a_1').tree.size, aEntries + 3);
    engine.abort(t);
    assert.equal(coll.records.size, records);
    assert.equal(index('_id_').tree.size, idEntries);
    assert.equal(index('a_1').tree.size, aEntries);
    assert.equal(engine.oplog.records.size, oplogEntries);
    assert.equal(find(engine.begin(), 1), undefined);
  });

  it('an aborted update removes the new keys and keeps the old version', () => {
    engine.createIndex(coll, { v: 2, key: { a: 1 }, name: 'a_1' });
    const rid = autocommit((t) => t.insert(coll, { _id: 1, a: 1 }));
    const t = engine.begin();
    t.update(coll, rid, { _id: 1, a: 5 });
    assert.deepEqual(entriesFor(index('a_1'), rid), [[1], [5]]);
    engine.abort(t);
    assert.deepEqual(entriesFor(index('a_1'), rid), [[1]]);
    assert.equal(chainLength(rid), 1);
    assert.equal(coll.records.get(rid)!.pending, undefined);
    assert.deepEqual(engine.begin().get(coll, rid), { _id: 1, a: 1 });
  });
});

describe('storage: unique indexes between transactions', () => {
  beforeEach(() => {
    setup();
    engine.createIndex(coll, { v: 2, key: { u: 1 }, name: 'u_1', unique: true });
  });

  it('a key pending in another open transaction is a WriteConflict; once committed, a DuplicateKey (11000)', () => {
    const t1 = engine.begin();
    const t2 = engine.begin();
    t1.insert(coll, { _id: 1, u: 'k' });
    throwsCode(() => t2.insert(coll, { _id: 2, u: 'k' }), 112, 'WriteConflict');
    engine.commit(t1);
    // t2's snapshot predates the commit: still a conflict, not a duplicate it cannot see.
    throwsCode(() => t2.insert(coll, { _id: 3, u: 'k' }), 112, 'WriteConflict');
    engine.abort(t2);
    const t3 = engine.begin();
    throwsCode(() => t3.insert(coll, { _id: 4, u: 'k' }), 11000, 'DuplicateKey');
    engine.abort(t3);
    assert.equal(coll.records.size, 1);
  });

  it('one transaction inserting the key twice gets DuplicateKey; the _id index is unique too', () => {
    const t = engine.begin();
    t.insert(coll, { _id: 1, u: 1 });
    throwsCode(() => t.insert(coll, { _id: 2, u: 1 }), 11000, 'DuplicateKey');
    throwsCode(() => t.insert(coll, { _id: 1, u: 2 }), 11000, 'DuplicateKey');
    engine.commit(t);
    assert.equal([...engine.begin().scan(coll)].length, 1);
  });

  it('a key freed by a committed delete (or update) can be taken by a later transaction', () => {
    const rid = autocommit((t) => t.insert(coll, { _id: 1, u: 'k' }));
    autocommit((t) => t.update(coll, rid, { _id: 1, u: 'other' }));
    autocommit((t) => t.insert(coll, { _id: 2, u: 'k' }));
    autocommit((t) => t.delete(coll, rid));
    autocommit((t) => t.insert(coll, { _id: 3, u: 'other' }));
    assert.deepEqual([...engine.begin().scan(coll)].map((r) => r.doc._id), [2, 3]);
  });

  it('missing fields collide as null on a non-sparse unique index', () => {
    autocommit((t) => t.insert(coll, { _id: 1 }));
    const t = engine.begin();
    throwsCode(() => t.insert(coll, { _id: 2 }), 11000, 'DuplicateKey');
    engine.abort(t);
  });
});

describe('storage: history pruning', () => {
  beforeEach(() => {
    setup();
    engine.createIndex(coll, { v: 2, key: { a: 1 }, name: 'a_1' });
  });

  it('keeps old versions while a reader needs them, and drops them (with their index entries) after', () => {
    const rid = autocommit((t) => t.insert(coll, { _id: 1, a: 0 }));
    clock.advance(1000);
    const reader = engine.begin();
    for (let v = 1; v <= 3; v++) {
      autocommit((t) => t.update(coll, rid, { _id: 1, a: v }));
      clock.advance(1000);
    }
    assert.equal(chainLength(rid), 4);
    assert.deepEqual(entriesFor(index('a_1'), rid), [[0], [1], [2], [3]]);
    assert.deepEqual(reader.get(coll, rid), { _id: 1, a: 0 });
    // Entries are a superset: a new reader scanning a=0 finds the entry but not the document.
    const now = engine.begin();
    const bounds = [[{ low: 0, lowInclusive: true, high: 0, highInclusive: true }]];
    assert.deepEqual([...now.indexScan(coll, index('a_1'), bounds)], []);
    assert.deepEqual([...reader.indexScan(coll, index('a_1'), bounds)].map((r) => r.doc), [{ _id: 1, a: 0 }]);
    engine.abort(now);
    engine.abort(reader);
    assert.equal(chainLength(rid), 1);
    assert.deepEqual(coll.records.get(rid)!.versions[0]!.doc, { _id: 1, a: 3 });
    assert.deepEqual(entriesFor(index('a_1'), rid), [[3]]);
  });

  it('without readers, each commit leaves one version', () => {
    const rid = autocommit((t) => t.insert(coll, { _id: 1, a: 0 }));
    for (let v = 1; v <= 5; v++) {
      clock.advance(1000);
      autocommit((t) => t.update(coll, rid, { _id: 1, a: v }));
    }
    clock.advance(1000);
    engine.abort(engine.begin());
    assert.equal(chainLength(rid), 1);
    assert.deepEqual(entriesFor(index('a_1'), rid), [[5]]);
  });

  it('a deleted record disappears once nobody can see it', () => {
    const rid = autocommit((t) => t.insert(coll, { _id: 1, a: 7 }));
    clock.advance(1000);
    const reader = engine.begin();
    autocommit((t) => t.delete(coll, rid));
    clock.advance(1000);
    assert.ok(coll.records.has(rid));
    assert.deepEqual(reader.get(coll, rid), { _id: 1, a: 7 });
    engine.abort(reader);
    engine.abort(engine.begin());
    assert.equal(coll.records.has(rid), false);
    assert.deepEqual(entriesFor(index('a_1'), rid), []);
    assert.deepEqual(entriesFor(index('_id_'), rid), []);
  });
});

describe('storage: the oplog is appended at commit', () => {
  beforeEach(setup);

  it('one entry per write, at the commit timestamp, nothing before commit', () => {
    const before = engine.oplog.records.size;
    const t = engine.begin();
    const rid = t.insert(coll, { _id: 1 });
    assert.equal(engine.oplog.records.size, before);
    engine.commit(t);
    assert.equal(engine.oplog.records.size, before + 1);
    // Oplog entries are kept encoded; reading the record decodes them.
    const last = engine.oplog.records.get(engine.oplog.records.maxKey()!)!.visibleAt(Infinity)!;
    assert.equal(last.op, 'i');
    assert.equal(last.ns, 'db.c');
    // Encoded and decoded again, the entry keeps BSON types: the JS number 1 is an int32.
    assert.deepEqual(last.o, { _id: new Int32(1) });
    assert.equal(last.ts.high, Math.floor(clock.nowMs() / 1000));
    clock.advance(1000);
    autocommit((tx) => tx.delete(coll, rid));
    const del = engine.oplog.records.get(engine.oplog.records.maxKey()!)!.visibleAt(Infinity)!;
    assert.equal(del.op, 'd');
    assert.deepEqual(del.o, { _id: new Int32(1) });
    assert.ok(del.ts.high > last.ts.high);
  });
});
