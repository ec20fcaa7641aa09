/**
 * Change streams through the official driver's `watch()`: the events mongod 8.0 sends, resuming,
 * the three scopes, pre- and post-images, and getMore's wait for new entries.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Long, MongoClient, Timestamp, type ChangeStream, type Db, type Document } from 'mongodb';
import { failsWith, startDossier, uniqueDbName, type Harness } from '../helpers/dossier.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

/** The next event, or a failure after `ms` (a broken stream must not hang the suite). */
async function nextWithin(cs: ChangeStream<Any, Any>, ms = 5000): Promise<Any> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no change event within ${ms} ms`)), ms)));
  try {
    return await Promise.race([cs.next(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Opens the stream on the server (the driver sends the aggregate lazily). */
async function opened(cs: ChangeStream<Any, Any>): Promise<ChangeStream<Any, Any>> {
  await cs.tryNext();
  return cs;
}

describe('change streams', () => {
  let h: Harness;
  let other: MongoClient;
  before(async () => {
    h = await startDossier();
    other = new MongoClient(h.uri);
    await other.connect();
  });
  after(async () => {
    await other.close();
    await h.stop();
  });

  const freshDb = (): Db => h.client.db(uniqueDbName('cs'));

  it('reports insert, update, replace and delete with mongod shapes and field order', async () => {
    const db = freshDb();
    const c = db.collection<Any>('events');
    await db.createCollection('events');
    const cs = await opened(c.watch());
    await c.insertOne({ _id: 1, a: 1, arr: [1, 2, 3], sub: { x: 1, y: 2 } });
    await c.updateOne({ _id: 1 }, { $set: { a: 2, 'sub.x': 5 }, $unset: { 'sub.y': '' } });
    await c.updateOne({ _id: 1 }, [{ $set: { arr: [1, 2] } }]);
    await c.replaceOne({ _id: 1 }, { b: 1 });
    await c.deleteOne({ _id: 1 });
    // Operator updates report each field as the operator set it, as mongod logs them.
    await c.insertOne({ _id: 2, sub: { x: 1, y: 2 }, list: [1, 2, 3] });
    await c.updateOne({ _id: 2 }, { $set: { sub: { x: 2 } }, $push: { list: 4 } } as Any);
    await c.updateOne({ _id: 2 }, { $pull: { list: 2 } } as Any);

    const ins = await nextWithin(cs);
    assert.deepEqual(Object.keys(ins), ['_id', 'operationType', 'clusterTime', 'wallTime', 'fullDocument', 'ns', 'documentKey']);
    assert.equal(ins.operationType, 'insert');
    assert.equal(typeof ins._id._data, 'string');
    assert.ok(ins.clusterTime instanceof Timestamp);
    assert.ok(ins.wallTime instanceof Date);
    assert.deepEqual(ins.ns, { db: db.databaseName, coll: 'events' });
    assert.deepEqual(ins.documentKey, { _id: 1 });
    assert.deepEqual(ins.fullDocument, { _id: 1, a: 1, arr: [1, 2, 3], sub: { x: 1, y: 2 } });

    const upd = await nextWithin(cs);
    assert.deepEqual(Object.keys(upd), ['_id', 'operationType', 'clusterTime', 'wallTime', 'ns', 'documentKey', 'updateDescription']);
    assert.deepEqual(upd.updateDescription, { updatedFields: { a: 2, 'sub.x': 5 }, removedFields: ['sub.y'], truncatedArrays: [] });

    const trunc = await nextWithin(cs);
    assert.deepEqual(trunc.updateDescription, { updatedFields: {}, removedFields: [], truncatedArrays: [{ field: 'arr', newSize: 2 }] });

    const rep = await nextWithin(cs);
    assert.equal(rep.operationType, 'replace');
    assert.deepEqual(rep.fullDocument, { _id: 1, b: 1 });
    assert.equal(rep.updateDescription, undefined);

    const del = await nextWithin(cs);
    assert.deepEqual(Object.keys(del), ['_id', 'operationType', 'clusterTime', 'wallTime', 'ns', 'documentKey']);
    assert.deepEqual(del.documentKey, { _id: 1 });

    await nextWithin(cs);
    const setWhole = await nextWithin(cs);
    assert.deepEqual(setWhole.updateDescription, { updatedFields: { 'list.3': 4, sub: { x: 2 } }, removedFields: [], truncatedArrays: [] });
    const pulled = await nextWithin(cs);
    assert.deepEqual(pulled.updateDescription.updatedFields, { list: [1, 3, 4] });

    // Tokens order events: each one sorts after the one before.
    const tokens = [ins, upd, trunc, rep, del].map((e) => e._id._data as string);
    assert.deepEqual([...tokens].sort(), tokens);
    assert.equal(new Set(tokens).size, tokens.length);
    await cs.close();
  });

  it('updateLookup returns the document as it is now', async () => {
    const db = freshDb();
    const c = db.collection<Any>('lookup');
    await c.insertOne({ _id: 1, n: 0 });
    const cs = await opened(c.watch([], { fullDocument: 'updateLookup' }));
    await c.updateOne({ _id: 1 }, { $inc: { n: 1 } });
    const ev = await nextWithin(cs);
    assert.equal(ev.operationType, 'update');
    assert.deepEqual(ev.fullDocument, { _id: 1, n: 1 });
    // Deleted before the event is read: the lookup finds nothing and says so with null.
    await c.updateOne({ _id: 1 }, { $inc: { n: 1 } });
    await c.deleteOne({ _id: 1 });
    const late = await nextWithin(cs);
    assert.equal(late.operationType, 'update');
    assert.equal(late.fullDocument, null);
    await cs.close();
  });

  it("reports a transaction's writes one event per operation, at the commit's clusterTime, with lsid and txnNumber", async () => {
    const db = freshDb();
    const a = db.collection<Any>('a');
    const b = db.collection<Any>('b');
    await a.insertOne({ _id: 0 });
    await db.createCollection('b');
    const cs = await opened(db.watch());
    const session = h.client.startSession();
    try {
      await session.withTransaction(async () => {
        await a.insertOne({ _id: 1 }, { session });
        await b.insertOne({ _id: 2 }, { session });
        await a.updateOne({ _id: 0 }, { $set: { t: true } }, { session });
      });
    } finally {
      await session.endSession();
    }
    const events = [await nextWithin(cs), await nextWithin(cs), await nextWithin(cs)];
    assert.deepEqual(events.map((e) => e.operationType), ['insert', 'insert', 'update']);
    assert.deepEqual(events.map((e) => e.ns.coll), ['a', 'b', 'a']);
    for (const e of events) {
      assert.ok(e.clusterTime.equals(events[0].clusterTime), 'one clusterTime for the whole transaction');
      assert.ok(e.lsid && e.lsid.id, 'lsid present');
      assert.ok(e.txnNumber instanceof Long || typeof e.txnNumber === 'number');
    }
    const tokens = events.map((e) => e._id._data as string);
    assert.deepEqual([...tokens].sort(), tokens);
    assert.equal(new Set(tokens).size, 3);
    await cs.close();
  });

  it('resumes after a driver-side disconnect without losing or repeating events', async () => {
    const db = freshDb();
    const c = db.collection<Any>('resume');
    await db.createCollection('resume');
    const cs = await opened(c.watch([], { batchSize: 1 }));
    await c.insertOne({ _id: 1 });
    assert.equal((await nextWithin(cs)).documentKey._id, 1);
    // The next getMore's connection is closed under it; the driver resumes from its token.
    await h.client.db('admin').command({ configureFailPoint: 'failCommand', mode: { times: 1 }, data: { failCommands: ['getMore'], closeConnection: true } });
    await other.db(db.databaseName).collection<Any>('resume').insertMany([{ _id: 2 }, { _id: 3 }]);
    const ids = [(await nextWithin(cs)).documentKey._id, (await nextWithin(cs)).documentKey._id];
    assert.deepEqual(ids, [2, 3]);
    await cs.close();
  });

  it('resumeAfter a token continues after it; startAfter an invalidate starts a new stream', async () => {
    const db = freshDb();
    const c = db.collection<Any>('tokens');
    await db.createCollection('tokens');
    const cs = await opened(c.watch());
    await c.insertMany([{ _id: 1 }, { _id: 2 }, { _id: 3 }]);
    const first = await nextWithin(cs);
    await cs.close();
    const resumed = c.watch([], { resumeAfter: first._id });
    assert.equal((await nextWithin(resumed)).documentKey._id, 2);
    assert.equal((await nextWithin(resumed)).documentKey._id, 3);
    await c.drop();
    assert.equal((await nextWithin(resumed)).operationType, 'drop');
    const invalidate = await nextWithin(resumed);
    assert.equal(invalidate.operationType, 'invalidate');
    await resumed.close();

    await failsWith(opened(c.watch([], { resumeAfter: invalidate._id })), 260);
    const after = await opened(c.watch([], { startAfter: invalidate._id }));
    await c.insertOne({ _id: 'again' });
    const ev = await nextWithin(after);
    assert.equal(ev.operationType, 'insert');
    assert.equal(ev.documentKey._id, 'again');
    await after.close();
  });

  it('a database stream sees its collections only; a cluster stream sees every database', async () => {
    const db1 = freshDb();
    const db2 = freshDb();
    const dbStream = await opened(db1.watch());
    const clusterStream = await opened(h.client.watch());
    await db2.collection<Any>('x').insertOne({ _id: 'db2' });
    await db1.collection<Any>('y').insertOne({ _id: 'db1' });
    const seen = await nextWithin(dbStream);
    assert.deepEqual([seen.ns, seen.documentKey._id], [{ db: db1.databaseName, coll: 'y' }, 'db1']);
    const c1 = await nextWithin(clusterStream);
    const c2 = await nextWithin(clusterStream);
    assert.deepEqual([c1.ns.db, c2.ns.db], [db2.databaseName, db1.databaseName]);
    // dropDatabase ends a database stream: its drops, dropDatabase, then invalidate.
    await db1.dropDatabase();
    const types: string[] = [];
    for (let i = 0; i < 3; i++) types.push((await nextWithin(dbStream)).operationType);
    assert.deepEqual(types, ['drop', 'dropDatabase', 'invalidate']);
    await dbStream.close();
    await clusterStream.close();
  });

  it('pre- and post-images with changeStreamPreAndPostImages', async () => {
    const db = freshDb();
    await db.createCollection('images', { changeStreamPreAndPostImages: { enabled: true } });
    const c = db.collection<Any>('images');
    await c.insertOne({ _id: 1, v: 'one' });
    const cs = await opened(c.watch([], { fullDocument: 'required', fullDocumentBeforeChange: 'required' }));
    await c.updateOne({ _id: 1 }, { $set: { v: 'two' } });
    await c.replaceOne({ _id: 1 }, { v: 'three' });
    await c.deleteOne({ _id: 1 });
    const upd = await nextWithin(cs);
    assert.deepEqual(upd.fullDocument, { _id: 1, v: 'two' });
    assert.deepEqual(upd.fullDocumentBeforeChange, { _id: 1, v: 'one' });
    const rep = await nextWithin(cs);
    assert.deepEqual(rep.fullDocumentBeforeChange, { _id: 1, v: 'two' });
    const del = await nextWithin(cs);
    assert.deepEqual(del.fullDocumentBeforeChange, { _id: 1, v: 'three' });
    assert.equal(Object.keys(del).at(-1), 'fullDocumentBeforeChange');
    await cs.close();

    // The pre-images live where mongod keeps them.
    const kept = await h.client.db('config').collection<Any>('system.preimages').find({ 'preImage._id': 1 }).toArray();
    assert.ok(kept.length >= 3);
    assert.ok(kept[0]._id.ts instanceof Timestamp);

    // Without the option, "required" fails when the event comes and "whenAvailable" says null.
    await db.createCollection('plain');
    const p = db.collection<Any>('plain');
    await p.insertOne({ _id: 1 });
    const soft = await opened(p.watch([], { fullDocumentBeforeChange: 'whenAvailable' }));
    const hard = await opened(p.watch([], { fullDocumentBeforeChange: 'required' }));
    await p.deleteOne({ _id: 1 });
    assert.equal((await nextWithin(soft)).fullDocumentBeforeChange, null);
    await failsWith(nextWithin(hard), 47);
    await soft.close();
    await hard.close();
  });

  it('getMore waits for new entries without blocking other connections, and wakes on a write', async () => {
    const db = freshDb();
    const c = db.collection<Any>('wait');
    await db.createCollection('wait');
    const cs = await opened(c.watch([], { maxAwaitTimeMS: 3000 }));
    const started = Date.now();
    const pending = nextWithin(cs, 10_000);
    await new Promise((r) => setTimeout(r, 200));
    // Another connection is served while the getMore waits.
    const pingStart = Date.now();
    await other.db('admin').command({ ping: 1 });
    assert.ok(Date.now() - pingStart < 500, 'ping answered while the change stream waits');
    await other.db(db.databaseName).collection<Any>('wait').insertOne({ _id: 'wake' });
    const ev = await pending;
    assert.equal(ev.documentKey._id, 'wake');
    assert.ok(Date.now() - started < 2500, `woken by the write, not by maxAwaitTimeMS (${Date.now() - started} ms)`);
    await cs.close();
  });

  it('every batch carries postBatchResumeToken, which advances on empty batches', async () => {
    const db = freshDb();
    await db.createCollection('pbrt');
    const opened = await db.command({ aggregate: 'pbrt', pipeline: [{ $changeStream: {} }], cursor: {} });
    const first = opened.cursor.postBatchResumeToken._data as string;
    assert.deepEqual(opened.cursor.firstBatch, []);
    assert.deepEqual(Object.keys(opened.cursor), ['firstBatch', 'postBatchResumeToken', 'id', 'ns']);
    // Writes elsewhere move the stream's position though it reports nothing.
    await db.collection<Any>('elsewhere').insertOne({ _id: 1 });
    const more = await db.command({ getMore: opened.cursor.id, collection: 'pbrt', maxTimeMS: 50 });
    assert.deepEqual(more.cursor.nextBatch, []);
    assert.ok((more.cursor.postBatchResumeToken._data as string) > first);
    // Resuming from it reports only what came after.
    await db.collection<Any>('pbrt').insertOne({ _id: 'next' });
    const resumed = await db.command({ aggregate: 'pbrt', pipeline: [{ $changeStream: { resumeAfter: more.cursor.postBatchResumeToken } }], cursor: {} });
    let got = resumed.cursor.firstBatch as Document[];
    if (got.length === 0) got = (await db.command({ getMore: resumed.cursor.id, collection: 'pbrt', maxTimeMS: 500 })).cursor.nextBatch;
    assert.deepEqual(got.map((e) => e.documentKey._id), ['next']);
    await db.command({ killCursors: 'pbrt', cursors: [opened.cursor.id, resumed.cursor.id] });
  });

  it("refuses what mongod refuses, with mongod's codes", async () => {
    const db = freshDb();
    const c = db.collection<Any>('errors');
    await db.createCollection('errors');
    await failsWith(c.aggregate([{ $changeStream: {} }, { $group: { _id: null } }]).toArray(), 20, /\$group is not permitted in a \$changeStream pipeline/);
    await failsWith(c.aggregate([{ $match: {} }, { $changeStream: {} }]).toArray(), 40602);
    await failsWith(c.aggregate([{ $changeStream: { bogus: 1 } }]).toArray(), 40415);
    await failsWith(c.aggregate([{ $changeStream: { fullDocument: 'sometimes' } }]).toArray(), 2);
    await failsWith(c.aggregate([{ $changeStream: { resumeAfter: { _data: 'zz' } } }]).toArray(), 9);
    await failsWith(c.aggregate([{ $changeStream: { startAtOperationTime: new Timestamp({ t: 1, i: 1 }) } }]).toArray(), 286);
    await failsWith(db.aggregate([{ $changeStream: { allChangesForCluster: true } }]).toArray(), 72);
    await failsWith(h.client.db('admin').aggregate([{ $changeStream: {} }]).toArray(), 73);
    const session = h.client.startSession();
    try {
      session.startTransaction();
      await failsWith(c.aggregate([{ $changeStream: {} }], { session }).toArray(), 263);
      await session.abortTransaction();
    } finally {
      await session.endSession();
    }
    // Removing the resume token is fatal, and labelled so the driver does not resume.
    const cs = await opened(c.watch([{ $project: { _id: 0 } }]));
    await c.insertOne({ _id: 1 });
    const err = await failsWith(nextWithin(cs), 280);
    assert.ok(err.hasErrorLabel('NonResumableChangeStreamError'));
    await cs.close();
  });

  it('a resume point the oplog no longer holds is ChangeStreamHistoryLost', async () => {
    const small = await startDossier({ oplogSizeMB: 1 });
    try {
      const c = small.client.db(uniqueDbName('cs')).collection<Any>('lost');
      await c.insertOne({ _id: 0 });
      const cs = await opened(c.watch());
      await c.insertOne({ _id: 'first' });
      const token = (await nextWithin(cs))._id;
      await cs.close();
      const filler = 'x'.repeat(64 * 1024);
      for (let i = 0; i < 40; i++) await c.insertOne({ filler });
      await failsWith(opened(c.watch([], { resumeAfter: token })), 286);
    } finally {
      await small.stop();
    }
  });

  it('showExpandedEvents adds catalog events and collectionUUID', async () => {
    const db = freshDb();
    const cs = await opened(db.watch([], { showExpandedEvents: true }));
    await db.createCollection('expanded');
    const c = db.collection<Any>('expanded');
    await c.createIndex({ x: 1 });
    await c.dropIndex('x_1');
    await db.command({ collMod: 'expanded' });
    await c.insertOne({ _id: 1, a: { 1: 1 } });
    await c.updateOne({ _id: 1 }, { $set: { 'a.1': 2 } });
    const types: string[] = [];
    const events: Any[] = [];
    for (let i = 0; i < 6; i++) {
      const e = await nextWithin(cs);
      types.push(e.operationType);
      events.push(e);
    }
    assert.deepEqual(types, ['create', 'createIndexes', 'dropIndexes', 'modify', 'insert', 'update']);
    assert.deepEqual(events[1].operationDescription.indexes[0].key, { x: 1 });
    assert.equal(events[2].operationDescription.indexes[0].name, 'x_1');
    assert.ok(events[4].collectionUUID, 'collectionUUID on expanded events');
    assert.deepEqual(events[5].updateDescription.disambiguatedPaths, { 'a.1': ['a', '1'] });
    await cs.close();
  });

  it("showExpandedEvents reports a view's creation as create, with its definition and no collectionUUID", async () => {
    const db = freshDb();
    const cs = await opened(db.watch([], { showExpandedEvents: true }));
    await db.createCollection('onView', { viewOn: 'base', pipeline: [{ $match: { a: 1 } }] });
    const e = await nextWithin(cs);
    assert.equal(e.operationType, 'create');
    assert.deepEqual(e.ns, { db: db.databaseName, coll: 'onView' });
    assert.deepEqual(e.operationDescription, { viewOn: 'base', pipeline: [{ $match: { a: 1 } }] });
    assert.equal(e.collectionUUID, undefined);
    // The system.views document behind it is not an event of its own.
    assert.equal(await cs.tryNext(), null);
    await cs.close();
  });

  it('resumes across a restart of a durable server, pre-images included', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dossier-cs-'));
    try {
      let s = await startDossier({ dbPath: dir });
      let token: Document;
      try {
        const db = s.client.db('durable');
        await db.createCollection('c', { changeStreamPreAndPostImages: { enabled: true } });
        const c = db.collection<Any>('c');
        await c.insertOne({ _id: 1, v: 1 });
        const cs = await opened(c.watch());
        await c.insertOne({ _id: 2, v: 1 });
        token = (await nextWithin(cs))._id;
        await cs.close();
        await c.updateOne({ _id: 1 }, { $set: { v: 2 } }, { writeConcern: { w: 'majority', j: true } });
      } finally {
        await s.stop();
      }
      s = await startDossier({ dbPath: dir });
      try {
        const cs = s.client.db('durable').collection<Any>('c').watch([], { resumeAfter: token, fullDocumentBeforeChange: 'required' });
        const ev = await nextWithin(cs);
        assert.equal(ev.operationType, 'update');
        assert.deepEqual(ev.updateDescription.updatedFields, { v: 2 });
        assert.deepEqual(ev.fullDocumentBeforeChange, { _id: 1, v: 1 });
        await cs.close();
      } finally {
        await s.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a dropped collection\'s stream reports drop and invalidate on its own cursor, then closes it', async () => {
    const db = freshDb();
    await db.createCollection('dropped');
    const opened = await db.command({ aggregate: 'dropped', pipeline: [{ $changeStream: {} }], cursor: {} });
    await db.collection<Any>('dropped').drop();
    const more = await db.command({ getMore: opened.cursor.id, collection: 'dropped', maxTimeMS: 500 });
    assert.deepEqual(more.cursor.nextBatch.map((e: Any) => e.operationType), ['drop', 'invalidate']);
    assert.equal(Number(more.cursor.id), 0);
    assert.deepEqual(more.cursor.postBatchResumeToken, more.cursor.nextBatch[1]._id);
  });
});
