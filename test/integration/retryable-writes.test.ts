/**
 * Retryable writes: a statement retried with the same lsid and txnNumber is executed once and
 * answered from its record; the oplog carries lsid, txnNumber, stmtId and prevOpTime.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startDossier, uniqueDbName, type Harness } from '../helpers/dossier.js';
import { RawCommander } from '../helpers/raw-client.js';
import { Long, UUID } from '../../src/bson/index.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDoc = any;

describe('retryable writes', () => {
  let h: Harness;
  let r: RawCommander;
  before(async () => {
    h = await startDossier();
    r = await RawCommander.open(h.dossier.port);
  });
  after(async () => {
    r.close();
    await h.stop();
  });
  const t = (n: number): Long => Long.fromNumber(n);
  const num = (v: unknown): number => Number((v as { valueOf(): unknown })?.valueOf?.() ?? v);

  it('a retried insert batch is not executed again and reports retriedStmtIds', async () => {
    const db = uniqueDbName('rw');
    const lsid = { id: new UUID() };
    const cmd = { insert: 'c', documents: [{ _id: 1 }, { _id: 2 }], lsid, txnNumber: t(1) };
    const first: AnyDoc = await r.run(db, cmd);
    assert.equal(num(first.n), 2);
    assert.equal(first.retriedStmtIds, undefined);
    const again: AnyDoc = await r.run(db, cmd);
    assert.equal(num(again.ok), 1);
    assert.equal(num(again.n), 2);
    assert.equal(again.writeErrors, undefined, 'a re-execution would have hit duplicate keys');
    assert.deepEqual(again.retriedStmtIds.map(num), [0, 1]);
    assert.equal((await h.client.db(db).collection('c').find().toArray()).length, 2);
  });

  it('a retried $inc update applies once; a new txnNumber applies again', async () => {
    const db = uniqueDbName('rw');
    await h.client.db(db).collection<AnyDoc>('c').insertOne({ _id: 1, n: 0 });
    const lsid = { id: new UUID() };
    const cmd = (n: number) => ({ update: 'c', updates: [{ q: { _id: 1 }, u: { $inc: { n: 1 } } }], lsid, txnNumber: t(n) });
    await r.run(db, cmd(1));
    const retry: AnyDoc = await r.run(db, cmd(1));
    assert.equal(num(retry.nModified), 1);
    assert.equal((await h.client.db(db).collection<AnyDoc>('c').findOne({ _id: 1 }))?.n, 1);
    await r.run(db, cmd(2));
    assert.equal((await h.client.db(db).collection<AnyDoc>('c').findOne({ _id: 1 }))?.n, 2);
    const old: AnyDoc = await r.run(db, cmd(1));
    assert.equal(num(old.code), 225, 'an older txnNumber is TransactionTooOld');
  });

  it('a retried upsert returns the same upserted _id and inserts once', async () => {
    const db = uniqueDbName('rw');
    const lsid = { id: new UUID() };
    const cmd = { update: 'c', updates: [{ q: { k: 'x' }, u: { $set: { v: 1 } }, upsert: true }], lsid, txnNumber: t(1) };
    const a: AnyDoc = await r.run(db, cmd);
    const b: AnyDoc = await r.run(db, cmd);
    assert.equal(a.upserted[0]._id.toHexString(), b.upserted[0]._id.toHexString());
    assert.equal((await h.client.db(db).collection('c').find().toArray()).length, 1);
  });

  it('a retried findAndModify returns the original pre-image, not a new one', async () => {
    const db = uniqueDbName('rw');
    await h.client.db(db).collection<AnyDoc>('c').insertOne({ _id: 1, n: 0 });
    const lsid = { id: new UUID() };
    const cmd = { findAndModify: 'c', query: { _id: 1 }, update: { $inc: { n: 1 } }, lsid, txnNumber: t(3) };
    const a: AnyDoc = await r.run(db, cmd);
    const b: AnyDoc = await r.run(db, cmd);
    assert.equal(num(a.value.n), 0);
    assert.equal(num(b.value.n), 0);
    assert.equal((await h.client.db(db).collection<AnyDoc>('c').findOne({ _id: 1 }))?.n, 1);
  });

  it('retrying a txnNumber that was used by a transaction is IncompleteTransactionHistory', async () => {
    const db = uniqueDbName('rw');
    const lsid = { id: new UUID() };
    await r.run(db, { insert: 'c', documents: [{ _id: 1 }], lsid, txnNumber: t(4), startTransaction: true, autocommit: false });
    await r.run('admin', { commitTransaction: 1, lsid, txnNumber: t(4), autocommit: false });
    const e: AnyDoc = await r.run(db, { insert: 'c', documents: [{ _id: 1 }], lsid, txnNumber: t(4) });
    assert.equal(num(e.code), 217);
    assert.equal(e.codeName, 'IncompleteTransactionHistory');
  });

  it('the oplog entries of a retryable write carry lsid, txnNumber, stmtId and prevOpTime chaining', async () => {
    const db = uniqueDbName('rw');
    const lsid = { id: new UUID() };
    await r.run(db, { insert: 'c', documents: [{ _id: 'p' }, { _id: 'q' }], lsid, txnNumber: t(1) });
    const entries = await h.client.db('local').collection<AnyDoc>('oplog.rs').find({ ns: `${db}.c`, op: 'i' }).sort({ ts: 1 }).toArray();
    assert.equal(entries.length, 2);
    assert.deepEqual(entries.map((e) => e.stmtId), [0, 1]);
    assert.ok(entries.every((e) => e.lsid?.id && Number(e.txnNumber) === 1));
    assert.equal(entries[0].prevOpTime.ts.toString(), '0');
    assert.equal(entries[1].prevOpTime.ts.toString(), entries[0].ts.toString());
    const record = await h.client.db('config').collection<AnyDoc>('transactions').findOne({ '_id.id': entries[0].lsid.id });
    assert.equal(Number(record?.txnNum), 1);
    assert.equal(record?.lastWriteOpTime.ts.toString(), entries[1].ts.toString());
  });

  it('txnNumber on a command that is not a retryable write is refused', async () => {
    const e: AnyDoc = await r.run(uniqueDbName('rw'), { find: 'c', lsid: { id: new UUID() }, txnNumber: t(1) });
    assert.equal(num(e.code), 50768);
  });

  it('the driver\'s retryable writes work end to end (retryWrites on by default)', async () => {
    const c = h.client.db(uniqueDbName('rw')).collection<AnyDoc>('c');
    await c.insertOne({ _id: 1, n: 0 });
    await c.updateOne({ _id: 1 }, { $inc: { n: 1 } });
    await c.findOneAndUpdate({ _id: 1 }, { $inc: { n: 1 } });
    await c.deleteOne({ _id: 2 });
    assert.equal((await c.findOne({ _id: 1 }))?.n, 2);
  });
});

describe('write concern and read concern on one node', () => {
  let h: Harness;
  let r: RawCommander;
  before(async () => {
    h = await startDossier();
    r = await RawCommander.open(h.dossier.port);
  });
  after(async () => {
    r.close();
    await h.stop();
  });
  const num = (v: unknown): number => Number((v as { valueOf(): unknown })?.valueOf?.() ?? v);

  it('w: 1, majority and j are satisfied; w above the member count is UnsatisfiableWriteConcern; unknown tags UnknownReplWriteConcern', async () => {
    const db = uniqueDbName('wc');
    for (const wc of [{ w: 1 }, { w: 'majority' }, { w: 'majority', j: true, wtimeout: 100 }]) {
      const ok: AnyDoc = await r.run(db, { insert: 'c', documents: [{}], writeConcern: wc });
      assert.equal(num(ok.ok), 1);
      assert.equal(ok.writeConcernError, undefined);
    }
    const two: AnyDoc = await r.run(db, { insert: 'c', documents: [{}], writeConcern: { w: 2 } });
    assert.equal(num(two.ok), 1);
    assert.equal(num(two.n), 1, 'the write itself happened');
    assert.equal(num(two.writeConcernError.code), 100);
    assert.equal(two.writeConcernError.codeName, 'UnsatisfiableWriteConcern');
    const tag: AnyDoc = await r.run(db, { insert: 'c', documents: [{}], writeConcern: { w: 'dc-east' } });
    assert.equal(num(tag.writeConcernError.code), 79);
    const bad: AnyDoc = await r.run(db, { insert: 'c', documents: [{}], writeConcern: { w: 'majority', bogus: 1 } });
    assert.equal(num(bad.ok), 0);
  });

  it('a retryable write with a retryable writeConcernError gets RetryableWriteError', async () => {
    // UnsatisfiableWriteConcern is not retryable: no label.
    const two: AnyDoc = await r.run(uniqueDbName('wc'), { insert: 'c', documents: [{}], writeConcern: { w: 2 }, lsid: { id: new UUID() }, txnNumber: Long.fromNumber(1) });
    assert.equal(two.errorLabels, undefined);
  });

  it('every reply, success or error, carries operationTime and $clusterTime with a signature', async () => {
    const ok: AnyDoc = await r.run('admin', { ping: 1 });
    const err: AnyDoc = await r.run('admin', { nope: 1 });
    for (const reply of [ok, err]) {
      assert.equal(reply.operationTime._bsontype, 'Timestamp');
      assert.equal(reply.$clusterTime.clusterTime._bsontype, 'Timestamp');
      assert.equal(reply.$clusterTime.signature.hash.length(), 20);
      assert.equal(reply.$clusterTime.signature.keyId._bsontype, 'Long');
    }
  });

  it('afterClusterTime beyond the cluster time is refused; gossiped cluster time is accepted and then readable', async () => {
    const db = uniqueDbName('rc');
    const ping: AnyDoc = await r.run('admin', { ping: 1 });
    const ct = ping.$clusterTime.clusterTime;
    const future = new (ct.constructor)({ t: ct.high + 1000, i: 1 });
    const refused: AnyDoc = await r.run(db, { find: 'c', readConcern: { afterClusterTime: future } });
    assert.equal(num(refused.ok), 0);
    assert.equal(num(refused.code), 72);
    // A client gossips a later $clusterTime; a read after it then succeeds (a no-op write covers it).
    const gossip: AnyDoc = await r.run('admin', { ping: 1, $clusterTime: { clusterTime: future, signature: ping.$clusterTime.signature } });
    assert.equal(gossip.$clusterTime.clusterTime.high, future.high);
    const read: AnyDoc = await r.run(db, { find: 'c', readConcern: { afterClusterTime: future } });
    assert.equal(num(read.ok), 1);
    assert.ok(read.operationTime.high >= future.high);
  });

  it('causal consistency: a causally consistent session reads its own writes', async () => {
    const session = h.client.startSession({ causalConsistency: true });
    try {
      const c = h.client.db(uniqueDbName('rc')).collection<AnyDoc>('c');
      await c.insertOne({ _id: 1, v: 'mine' }, { session });
      assert.equal((await c.findOne({ _id: 1 }, { session, readConcern: { level: 'majority' } }))?.v, 'mine');
      assert.ok(session.operationTime);
    } finally {
      await session.endSession();
    }
  });

  it('snapshot reads at atClusterTime see the past and answer cursor.atClusterTime; outside the window: SnapshotTooOld', async () => {
    const db = uniqueDbName('rc');
    await r.run(db, { insert: 'c', documents: [{ _id: 1, v: 'old' }] });
    const first: AnyDoc = await r.run(db, { find: 'c', readConcern: { level: 'snapshot' } });
    const at = first.cursor.atClusterTime;
    assert.equal(at._bsontype, 'Timestamp');
    await r.run(db, { update: 'c', updates: [{ q: { _id: 1 }, u: { $set: { v: 'new' } } }] });
    const past: AnyDoc = await r.run(db, { find: 'c', readConcern: { level: 'snapshot', atClusterTime: at } });
    assert.equal(past.cursor.firstBatch[0].v, 'old');
    assert.equal(past.cursor.atClusterTime.toString(), at.toString());
    const now: AnyDoc = await r.run(db, { find: 'c', readConcern: { level: 'snapshot' } });
    assert.equal(now.cursor.firstBatch[0].v, 'new');
    const ancient = new (at.constructor)({ t: at.high - 3600, i: 1 });
    const tooOld: AnyDoc = await r.run(db, { find: 'c', readConcern: { level: 'snapshot', atClusterTime: ancient } });
    assert.equal(num(tooOld.code), 239);
    const notSupported: AnyDoc = await r.run(db, { insert: 'c', documents: [{}], readConcern: { level: 'snapshot' } });
    assert.equal(num(notSupported.code), 72);
  });
});
