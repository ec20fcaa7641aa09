/**
 * Multi-document transactions through the official driver: snapshot isolation, first-writer-wins
 * conflicts, commit/abort, and the txnNumber state machine as mongod answers it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MongoClient, type Collection, type Db } from 'mongodb';
// Raw frames are encoded by the server's own bson (6.x); its types must come from there.
import { Long, UUID } from '../../src/bson/index.js';
import { startDossier, uniqueDbName, type Harness } from '../helpers/dossier.js';
import { RawCommander } from '../helpers/raw-client.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDoc = any;

describe('multi-document transactions', () => {
  let h: Harness;
  let other: MongoClient;
  before(async () => {
    h = await startDossier();
    other = await MongoClient.connect(h.uri);
  });
  after(async () => {
    await other.close();
    await h.stop();
  });
  const fresh = async (docs: AnyDoc[] = []): Promise<{ db: Db; c: Collection<AnyDoc>; name: string }> => {
    const name = uniqueDbName('txn');
    const db = h.client.db(name);
    const c = db.collection<AnyDoc>('accounts');
    if (docs.length) await c.insertMany(docs);
    else await db.createCollection('accounts');
    return { db, c, name };
  };

  it('commits both halves at once; other clients see neither half before the commit', async () => {
    const { c, name } = await fresh([{ _id: 'a', balance: 100 }, { _id: 'b', balance: 0 }]);
    const outside = other.db(name).collection<AnyDoc>('accounts');
    const session = h.client.startSession();
    try {
      session.startTransaction({ readConcern: { level: 'snapshot' }, writeConcern: { w: 'majority' } });
      await c.updateOne({ _id: 'a' }, { $inc: { balance: -30 } }, { session });
      // Inside: my own write is visible; outside: nothing yet.
      assert.equal((await c.findOne({ _id: 'a' }, { session }))?.balance, 70);
      assert.equal((await outside.findOne({ _id: 'a' }))?.balance, 100);
      await c.updateOne({ _id: 'b' }, { $inc: { balance: 30 } }, { session });
      assert.equal((await outside.findOne({ _id: 'b' }))?.balance, 0);
      await session.commitTransaction();
    } finally {
      await session.endSession();
    }
    assert.deepEqual(await outside.find().sort({ _id: 1 }).toArray(), [{ _id: 'a', balance: 70 }, { _id: 'b', balance: 30 }]);
  });

  it('abort leaves nothing, including inserts and a collection created inside', async () => {
    const { c, name } = await fresh([{ _id: 1, v: 1 }]);
    const session = h.client.startSession();
    try {
      session.startTransaction();
      await c.insertOne({ _id: 2, v: 2 }, { session });
      await c.updateOne({ _id: 1 }, { $set: { v: 100 } }, { session });
      await c.deleteOne({ _id: 1 }, { session });
      await session.abortTransaction();
    } finally {
      await session.endSession();
    }
    assert.deepEqual(await other.db(name).collection('accounts').find().toArray(), [{ _id: 1, v: 1 }]);
  });

  it('a transaction reads its snapshot: commits after it started are invisible to it', async () => {
    const { c, name } = await fresh([{ _id: 1, v: 'old' }, { _id: 2, v: 'old' }]);
    const session = h.client.startSession();
    try {
      session.startTransaction({ readConcern: { level: 'snapshot' } });
      assert.equal((await c.findOne({ _id: 1 }, { session }))?.v, 'old');
      await other.db(name).collection<AnyDoc>('accounts').updateMany({}, { $set: { v: 'new' } });
      const seen = await c.find({}, { session }).toArray();
      assert.deepEqual(seen.map((d) => d.v), ['old', 'old']);
      await session.commitTransaction();
    } finally {
      await session.endSession();
    }
    assert.deepEqual((await c.find().toArray()).map((d) => d.v), ['new', 'new']);
  });

  it('first writer wins: the second writer gets WriteConflict + TransientTransactionError, and its commit NoSuchTransaction', async () => {
    const { c } = await fresh([{ _id: 1, n: 0 }]);
    const s1 = h.client.startSession();
    const s2 = other.startSession();
    const c2 = other.db(c.dbName).collection<AnyDoc>('accounts');
    try {
      s1.startTransaction();
      s2.startTransaction();
      await c.updateOne({ _id: 1 }, { $inc: { n: 1 } }, { session: s1 });
      await assert.rejects(c2.updateOne({ _id: 1 }, { $inc: { n: 10 } }, { session: s2 }), (e: AnyDoc) => {
        assert.equal(e.code, 112);
        assert.equal(e.codeName, 'WriteConflict');
        assert.ok(e.errorLabels.includes('TransientTransactionError'), `labels ${e.errorLabels}`);
        return true;
      });
      await s1.commitTransaction();
      await assert.rejects(s2.commitTransaction(), (e: AnyDoc) => {
        assert.equal(e.code, 251);
        assert.ok(e.errorLabels.includes('TransientTransactionError'));
        return true;
      });
    } finally {
      await s1.endSession();
      await s2.endSession();
    }
    assert.equal((await c.findOne({ _id: 1 }))?.n, 1);
  });

  it('writing a document committed after my snapshot is a WriteConflict too', async () => {
    const { c } = await fresh([{ _id: 1, n: 0 }]);
    const session = h.client.startSession();
    try {
      session.startTransaction();
      await c.findOne({ _id: 1 }, { session });
      await other.db(c.dbName).collection<AnyDoc>('accounts').updateOne({ _id: 1 }, { $set: { n: 5 } });
      await assert.rejects(c.updateOne({ _id: 1 }, { $inc: { n: 1 } }, { session }), { code: 112 });
      await session.abortTransaction().catch(() => undefined);
    } finally {
      await session.endSession();
    }
    assert.equal((await c.findOne({ _id: 1 }))?.n, 5);
  });

  it('a single write outside a transaction waits for the transaction holding the document, then applies', async () => {
    const { c } = await fresh([{ _id: 1, n: 0 }]);
    const session = h.client.startSession();
    try {
      session.startTransaction();
      await c.updateOne({ _id: 1 }, { $inc: { n: 1 } }, { session });
      let done = false;
      const blocked = other.db(c.dbName).collection<AnyDoc>('accounts').updateOne({ _id: 1 }, { $inc: { n: 100 } }).then(() => (done = true));
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(done, false, 'the plain write must wait for the transaction');
      await session.commitTransaction();
      await blocked;
    } finally {
      await session.endSession();
    }
    assert.equal((await c.findOne({ _id: 1 }))?.n, 101);
  });

  it('withTransaction retries on conflict until it commits', async () => {
    const { c } = await fresh([{ _id: 1, n: 0 }]);
    const clients = [h.client, other];
    await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        const session = clients[i % 2]!.startSession();
        const coll = clients[i % 2]!.db(c.dbName).collection<AnyDoc>('accounts');
        try {
          await session.withTransaction(async () => {
            const doc = await coll.findOne({ _id: 1 }, { session });
            await coll.updateOne({ _id: 1 }, { $set: { n: doc!.n + 1 } }, { session });
          });
        } finally {
          await session.endSession();
        }
      }),
    );
    assert.equal((await c.findOne({ _id: 1 }))?.n, 10);
  });

  it('unique indexes hold across concurrent transactions', async () => {
    const { c } = await fresh();
    await c.createIndex({ email: 1 }, { unique: true });
    const s1 = h.client.startSession();
    const s2 = other.startSession();
    try {
      s1.startTransaction();
      s2.startTransaction();
      await c.insertOne({ email: 'x@y' }, { session: s1 });
      await assert.rejects(other.db(c.dbName).collection<AnyDoc>('accounts').insertOne({ email: 'x@y' }, { session: s2 }), { code: 112 });
      await s1.commitTransaction();
      await s2.abortTransaction().catch(() => undefined);
    } finally {
      await s1.endSession();
      await s2.endSession();
    }
    assert.equal((await c.find({ email: 'x@y' }).toArray()).length, 1);
  });

  it('a duplicate key inside a transaction fails the statement (no transient label) and aborts the transaction', async () => {
    const { c } = await fresh([{ _id: 1 }]);
    const session = h.client.startSession();
    try {
      session.startTransaction();
      await assert.rejects(c.insertOne({ _id: 1 }, { session }), (e: AnyDoc) => {
        assert.equal(e.code, 11000);
        assert.ok(!(e.errorLabels ?? []).includes('TransientTransactionError'));
        return true;
      });
      await assert.rejects(c.insertOne({ _id: 2 }, { session }), { code: 251 });
    } finally {
      await session.endSession();
    }
  });

  /** Raw commands: the driver would replace lsid/txnNumber with its own session's. */
  async function raw(): Promise<{ run: (db: string, body: Record<string, unknown>) => Promise<AnyDoc>; expectError: (db: string, body: Record<string, unknown>, code: number, message?: RegExp) => Promise<AnyDoc>; close: () => void }> {
    const r = await RawCommander.open(h.dossier.port);
    const run = async (db: string, body: Record<string, unknown>): Promise<AnyDoc> => {
      const reply: AnyDoc = await r.run(db, body);
      assert.equal(Number(reply.ok), 1, `${JSON.stringify(Object.keys(body)[0])} failed: ${reply.errmsg}`);
      return reply;
    };
    const expectError = async (db: string, body: Record<string, unknown>, code: number, message?: RegExp): Promise<AnyDoc> => {
      const reply: AnyDoc = await r.run(db, body);
      assert.equal(Number(reply.ok), 0, `expected ${code} from ${Object.keys(body)[0]}`);
      assert.equal(Number(reply.code), code, String(reply.errmsg));
      if (message) assert.match(String(reply.errmsg), message);
      return reply;
    };
    return { run, expectError, close: () => r.close() };
  }
  const t = (n: number): Long => Long.fromNumber(n);

  it('commands not allowed in a transaction get OperationNotSupportedInTransaction with mongod\'s text', async () => {
    const { name } = await fresh([{ _id: 1 }]);
    const r = await raw();
    try {
      const lsid = { id: new UUID() };
      await r.run(name, { find: 'accounts', lsid, txnNumber: t(1), startTransaction: true, autocommit: false });
      const e = await r.expectError(name, { count: 'accounts', lsid, txnNumber: t(1), autocommit: false }, 263, /^Cannot run 'count' in a multi-document transaction\.$/);
      assert.equal(e.codeName, 'OperationNotSupportedInTransaction');
      assert.equal(e.errorLabels, undefined);
      await r.expectError('config', { find: 'x', lsid, txnNumber: t(2), startTransaction: true, autocommit: false }, 263);
      await r.expectError('admin', { find: 'x', lsid, txnNumber: t(3), startTransaction: true, autocommit: false }, 263);
    } finally {
      r.close();
    }
  });

  it('the txnNumber state machine answers as mongod', async () => {
    const { name, c } = await fresh([{ _id: 1, n: 0 }]);
    const r = await raw();
    try {
      const lsid = { id: new UUID() };
      // start 5, write, commit; commit again is ok.
      await r.run(name, { update: 'accounts', updates: [{ q: { _id: 1 }, u: { $inc: { n: 1 } } }], lsid, txnNumber: t(5), startTransaction: true, autocommit: false });
      await r.run('admin', { commitTransaction: 1, lsid, txnNumber: t(5), autocommit: false });
      await r.run('admin', { commitTransaction: 1, lsid, txnNumber: t(5), autocommit: false });
      // statements after commit: TransactionCommitted.
      await r.expectError(name, { find: 'accounts', lsid, txnNumber: t(5), autocommit: false }, 256);
      // an older number: TransactionTooOld.
      await r.expectError(name, { find: 'accounts', lsid, txnNumber: t(4), startTransaction: true, autocommit: false }, 225);
      // restarting the active number on a replica set: ConflictingOperationInProgress.
      await r.expectError(name, { find: 'accounts', lsid, txnNumber: t(5), startTransaction: true, autocommit: false }, 117);
      // continuing a number that never started: NoSuchTransaction with TransientTransactionError.
      const e = await r.expectError(name, { find: 'accounts', lsid, txnNumber: t(9), autocommit: false }, 251, /Given transaction number 9 does not match any in-progress transactions. The active transaction number is 5/);
      assert.deepEqual(e.errorLabels, ['TransientTransactionError']);
      // a higher number aborts the old one: its insert never becomes visible.
      await r.run(name, { insert: 'accounts', documents: [{ _id: 2 }], lsid, txnNumber: t(6), startTransaction: true, autocommit: false });
      await r.run(name, { find: 'accounts', lsid, txnNumber: t(7), startTransaction: true, autocommit: false });
      await r.expectError('admin', { commitTransaction: 1, lsid, txnNumber: t(6), autocommit: false }, 225);
      await r.run('admin', { abortTransaction: 1, lsid, txnNumber: t(7), autocommit: false });
      const afterAbort = await r.expectError('admin', { commitTransaction: 1, lsid, txnNumber: t(7), autocommit: false }, 251);
      assert.deepEqual(afterAbort.errorLabels, ['TransientTransactionError']);
      await r.expectError('admin', { abortTransaction: 1, lsid, txnNumber: t(7), autocommit: false }, 251);
      assert.deepEqual(await c.find({ _id: 2 }).toArray(), []);
      // a read-only transaction commits, with a recoveryToken.
      await r.run(name, { find: 'accounts', lsid, txnNumber: t(8), startTransaction: true, autocommit: false });
      await r.run('admin', { commitTransaction: 1, lsid, txnNumber: t(8), autocommit: false, recoveryToken: {} });
      await r.expectError('admin', { abortTransaction: 1, lsid, txnNumber: t(8), autocommit: false }, 256);
      // argument combinations.
      await r.expectError(name, { find: 'accounts', lsid, txnNumber: t(10), autocommit: true }, 72);
      await r.expectError(name, { find: 'accounts', txnNumber: t(10), autocommit: false }, 72);
      await r.expectError(name, { find: 'accounts', lsid, txnNumber: t(10) }, 50768);
      await r.expectError(name, { find: 'accounts', lsid, txnNumber: t(10), startTransaction: true }, 72);
    } finally {
      r.close();
    }
  });

  it('only the first statement may carry a readConcern; statements may not carry a writeConcern', async () => {
    const { name } = await fresh([{ _id: 1 }]);
    const r = await raw();
    try {
      const lsid = { id: new UUID() };
      await r.run(name, { find: 'accounts', lsid, txnNumber: t(1), startTransaction: true, autocommit: false, readConcern: { level: 'snapshot' } });
      await r.expectError(name, { find: 'accounts', lsid, txnNumber: t(1), autocommit: false, readConcern: { level: 'snapshot' } }, 72);
      const lsid2 = { id: new UUID() };
      await r.expectError(name, { insert: 'accounts', documents: [{}], lsid: lsid2, txnNumber: t(1), startTransaction: true, autocommit: false, writeConcern: { w: 1 } }, 72);
      await r.expectError(name, { find: 'accounts', lsid: { id: new UUID() }, txnNumber: t(1), startTransaction: true, autocommit: false, readConcern: { level: 'linearizable' } }, 72);
    } finally {
      r.close();
    }
  });

  it('a committed transaction is one applyOps oplog entry with lsid and txnNumber; an aborted one writes nothing', async () => {
    const { c } = await fresh();
    const oplog = h.client.db('local').collection<AnyDoc>('oplog.rs');
    const before = await oplog.find().sort({ ts: -1 }).limit(1).next();
    const session = h.client.startSession();
    try {
      session.startTransaction();
      await c.insertOne({ _id: 'x' }, { session });
      await c.insertOne({ _id: 'y' }, { session });
      await session.commitTransaction();
      session.startTransaction();
      await c.insertOne({ _id: 'z' }, { session });
      await session.abortTransaction();
    } finally {
      await session.endSession();
    }
    const entries = await oplog.find({ ts: { $gt: before.ts } }).toArray();
    const txnEntries = entries.filter((e) => e.o?.applyOps);
    assert.equal(txnEntries.length, 1);
    const e = txnEntries[0];
    assert.equal(e.op, 'c');
    assert.equal(e.ns, 'admin.$cmd');
    assert.deepEqual(e.o.applyOps.map((o: AnyDoc) => [o.op, o.o._id]), [['i', 'x'], ['i', 'y']]);
    assert.ok(e.lsid?.id);
    assert.ok(e.txnNumber !== undefined);
    assert.ok(e.prevOpTime);
    assert.equal(entries.filter((x) => x.o?._id === 'z' || x.o?.applyOps?.some((o: AnyDoc) => o.o?._id === 'z')).length, 0);
  });

  it('a transaction larger than 16 MB is a chain of partialTxn applyOps entries', async () => {
    const { c } = await fresh();
    const oplog = h.client.db('local').collection<AnyDoc>('oplog.rs');
    const before = await oplog.find().sort({ ts: -1 }).limit(1).next();
    const session = h.client.startSession();
    const big = 'x'.repeat(1024 * 1024);
    try {
      session.startTransaction();
      for (let i = 0; i < 20; i++) await c.insertOne({ _id: i, big }, { session });
      await session.commitTransaction();
    } finally {
      await session.endSession();
    }
    const chain = await oplog.find({ ts: { $gt: before.ts }, 'o.applyOps': { $exists: true } }).sort({ ts: 1 }).toArray();
    assert.equal(chain.length, 2);
    assert.equal(chain[0].o.partialTxn, true);
    assert.ok(chain[0].ts.lessThan(chain[1].ts), 'each entry has its own timestamp, the commit last');
    assert.equal(chain[1].o.partialTxn, undefined);
    assert.equal(chain[0].o.applyOps.length + chain[1].o.applyOps.length, 20);
    assert.equal((await c.find({}, { projection: { _id: 1 } }).toArray()).length, 20);
  });

  it('a collection and an index created inside a transaction are listed for others only after the commit, and gone after an abort', async () => {
    const name = uniqueDbName('txn');
    const db = h.client.db(name);
    const outside = other.db(name);
    const names = async () => (await outside.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).sort();
    const session = h.client.startSession();
    try {
      session.startTransaction();
      await db.createCollection('made', { session });
      await db.collection<AnyDoc>('implicit').insertOne({ _id: 1 }, { session });
      await db.collection<AnyDoc>('made').createIndex({ x: 1 }, { session });
      assert.deepEqual(await names(), []);
      await session.commitTransaction();
      assert.deepEqual(await names(), ['implicit', 'made']);
      assert.deepEqual((await outside.collection('made').listIndexes().toArray()).map((i) => i.name), ['_id_', 'x_1']);
      session.startTransaction();
      await db.collection<AnyDoc>('dropped').insertOne({ _id: 1 }, { session });
      await db.collection<AnyDoc>('made').createIndex({ y: 1 }, { session });
      assert.deepEqual((await outside.collection('made').listIndexes().toArray()).map((i) => i.name), ['_id_', 'x_1']);
      await session.abortTransaction();
    } finally {
      await session.endSession();
    }
    assert.deepEqual(await names(), ['implicit', 'made']);
    assert.deepEqual((await outside.collection('made').listIndexes().toArray()).map((i) => i.name), ['_id_', 'x_1']);
  });

  it('serverStatus counts transactions started, committed and aborted, and the open ones', async () => {
    const { c } = await fresh();
    const status = async () => (await h.client.db('admin').command({ serverStatus: 1 })).transactions;
    const before = await status();
    const session = h.client.startSession();
    try {
      session.startTransaction();
      await c.insertOne({ _id: 1 }, { session });
      assert.equal(Number((await status()).currentOpen), Number(before.currentOpen) + 1);
      await session.commitTransaction();
      session.startTransaction();
      await c.insertOne({ _id: 2 }, { session });
      await session.abortTransaction();
    } finally {
      await session.endSession();
    }
    const after = await status();
    assert.equal(Number(after.totalStarted) - Number(before.totalStarted), 2);
    assert.equal(Number(after.totalCommitted) - Number(before.totalCommitted), 1);
    assert.equal(Number(after.totalAborted) - Number(before.totalAborted), 1);
    assert.equal(Number(after.currentOpen), Number(before.currentOpen));
  });

  it('cursors do not cross the transaction boundary', async () => {
    const { c } = await fresh(Array.from({ length: 10 }, (_, i) => ({ _id: i })));
    const session = h.client.startSession();
    try {
      session.startTransaction();
      const cursor = c.find({}, { session, batchSize: 2 });
      await cursor.next();
      await session.commitTransaction();
      await assert.rejects(cursor.toArray());
    } finally {
      await session.endSession();
    }
  });
});
