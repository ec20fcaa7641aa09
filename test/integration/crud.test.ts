import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Decimal128, Double, Int32, Long, ObjectId, Timestamp, Binary, BSONRegExp, MinKey, MaxKey, type Db } from 'mongodb';
import { startDossier, uniqueDbName, type Harness } from '../helpers/dossier.js';

describe('CRUD through the official driver', () => {
  let h: Harness;
  let db: Db;
  before(async () => {
    h = await startDossier();
  });
  after(async () => {
    await h.stop();
  });
  const freshDb = (): Db => (db = h.client.db(uniqueDbName()));
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const freshColl = (name: string) => freshDb().collection<any>(name);

  it('insertOne / findOne keep every BSON type, and field order', async () => {
    const c = freshColl('types');
    const doc = {
      _id: new ObjectId(),
      i32: new Int32(7),
      i64: Long.fromString('9007199254740993'),
      dbl: new Double(1),
      dec: Decimal128.fromString('1.10'),
      ts: new Timestamp({ t: 5, i: 6 }),
      date: new Date(1700000000000),
      bin: new Binary(Buffer.from('abc'), 4),
      re: new BSONRegExp('^a', 'i'),
      min: new MinKey(),
      max: new MaxKey(),
      nul: null,
      nested: { z: 1, a: [new Int32(1), 'x', { q: true }] },
    };
    await c.insertOne(doc);
    const back = await c.findOne({ _id: doc._id }, { promoteValues: false, bsonRegExp: true });
    assert.ok(back);
    assert.deepEqual(Object.keys(back), Object.keys(doc));
    assert.equal(back.i32._bsontype, 'Int32');
    assert.equal(back.i64._bsontype, 'Long');
    assert.equal(back.i64.toString(), '9007199254740993');
    assert.equal(back.dbl._bsontype, 'Double');
    assert.equal(back.dbl.value, 1);
    assert.equal(back.dec.toString(), '1.10');
    assert.equal(back.ts.high, 5);
    assert.equal(back.bin.sub_type, 4);
    assert.equal(back.re.options, 'i');
    assert.equal(back.min._bsontype, 'MinKey');
    assert.equal(back.nul, null);
    assert.ok(!('missing' in back));
  });

  it('insertMany, find with filter, sort, skip, limit, projection', async () => {
    const c = freshColl('people');
    await c.insertMany([
      { _id: 1, name: 'ann', age: 31, tags: ['a', 'b'] },
      { _id: 2, name: 'bob', age: 25, tags: ['b'] },
      { _id: 3, name: 'cy', age: 40, tags: [] },
      { _id: 4, name: 'di', age: 25 },
    ]);
    const young = await c.find({ age: { $lt: 35 } }, { sort: { age: 1, _id: -1 }, projection: { name: 1, _id: 0 } }).toArray();
    assert.deepEqual(young, [{ name: 'di' }, { name: 'bob' }, { name: 'ann' }]);
    const page = await c.find({}, { sort: { _id: 1 }, skip: 1, limit: 2 }).toArray();
    assert.deepEqual(page.map((d) => d._id), [2, 3]);
    assert.equal((await c.find({ tags: 'b' }).toArray()).length, 2);
    const sliced = await c.findOne({ _id: 1 }, { projection: { tags: { $slice: 1 } } });
    assert.deepEqual(sliced?.tags, ['a']);
  });

  it('getMore serves large results in batches', async () => {
    const c = freshColl('many');
    await c.insertMany(Array.from({ length: 1050 }, (_, i) => ({ _id: i, v: i % 7 })));
    const all = await c.find({}, { batchSize: 100 }).toArray();
    assert.equal(all.length, 1050);
    assert.deepEqual(all.slice(0, 3).map((d) => d._id), [0, 1, 2]);
    const cursor = c.find({ v: 3 }).batchSize(10);
    let n = 0;
    for await (const d of cursor) {
      assert.equal(d.v, 3);
      n++;
    }
    assert.equal(n, 150);
  });

  it('updateOne with operators, upsert, and updateMany', async () => {
    const c = freshColl('u');
    await c.insertMany([{ _id: 1, n: 1, a: [1, 2, 3] }, { _id: 2, n: 5, a: [3] }]);
    const r1 = await c.updateOne({ _id: 1 }, { $inc: { n: 2 }, $push: { a: { $each: [4], $position: 0 } }, $set: { 'x.y': 'z' } } as Record<string, unknown>);
    assert.equal(r1.matchedCount, 1);
    assert.equal(r1.modifiedCount, 1);
    assert.deepEqual(await c.findOne({ _id: 1 }), { _id: 1, n: 3, a: [4, 1, 2, 3], x: { y: 'z' } });
    const r2 = await c.updateOne({ _id: 9 }, { $set: { n: 0 } }, { upsert: true });
    assert.equal(r2.upsertedId, 9);
    assert.equal(r2.upsertedCount, 1);
    const r3 = await c.updateMany({ n: { $gte: 0 } }, { $set: { seen: true } });
    assert.equal(r3.matchedCount, 3);
    assert.equal((await c.find({ seen: true }).toArray()).length, 3);
    const r4 = await c.updateOne({ a: 3 }, { $set: { 'a.$': 30 } });
    assert.equal(r4.modifiedCount, 1);
    assert.deepEqual((await c.findOne({ _id: 1 }))?.a, [4, 1, 2, 30]);
    await c.updateOne({ _id: 2 }, { $set: { 'a.$[e]': 0 } }, { arrayFilters: [{ e: { $gte: 3 } }] });
    assert.deepEqual((await c.findOne({ _id: 2 }))?.a, [0]);
  });

  it('replaceOne keeps _id and rejects changing it', async () => {
    const c = freshColl('r');
    await c.insertOne({ _id: 1, a: 1 });
    await c.replaceOne({ _id: 1 }, { b: 2 });
    assert.deepEqual(await c.findOne({ _id: 1 }), { _id: 1, b: 2 });
    await assert.rejects(c.replaceOne({ _id: 1 }, { _id: 2, b: 3 }), { code: 66 });
  });

  it('deleteOne / deleteMany', async () => {
    const c = freshColl('d');
    await c.insertMany([{ k: 1 }, { k: 1 }, { k: 2 }]);
    assert.equal((await c.deleteOne({ k: 1 })).deletedCount, 1);
    assert.equal((await c.deleteMany({})).deletedCount, 2);
    assert.equal((await c.find().toArray()).length, 0);
  });

  it('findOneAndUpdate / findOneAndDelete / findOneAndReplace', async () => {
    const c = freshColl('fam');
    await c.insertMany([{ _id: 1, n: 1 }, { _id: 2, n: 2 }]);
    const before = await c.findOneAndUpdate({ _id: 1 }, { $inc: { n: 10 } });
    assert.deepEqual(before, { _id: 1, n: 1 });
    const afterDoc = await c.findOneAndUpdate({ _id: 1 }, { $inc: { n: 10 } }, { returnDocument: 'after' });
    assert.deepEqual(afterDoc, { _id: 1, n: 21 });
    const up = await c.findOneAndUpdate({ _id: 3 }, { $set: { n: 3 } }, { upsert: true, returnDocument: 'after' });
    assert.deepEqual(up, { _id: 3, n: 3 });
    const removed = await c.findOneAndDelete({}, { sort: { n: -1 } });
    assert.deepEqual(removed, { _id: 1, n: 21 });
    const replaced = await c.findOneAndReplace({ _id: 2 }, { m: 1 }, { returnDocument: 'after', projection: { _id: 0 } });
    assert.deepEqual(replaced, { m: 1 });
  });

  it('duplicate _id gives E11000 with keyPattern/keyValue; unordered goes on', async () => {
    const c = freshColl('dup');
    await c.insertOne({ _id: 1 });
    await assert.rejects(c.insertOne({ _id: 1 }), (e: { code?: number; message?: string; keyValue?: unknown }) => {
      assert.equal(e.code, 11000);
      assert.match(String(e.message), /E11000 duplicate key error collection: .*\.dup index: _id_ dup key: \{ _id: 1 \}/);
      assert.deepEqual(e.keyValue, { _id: 1 });
      return true;
    });
    await assert.rejects(c.insertMany([{ _id: 2 }, { _id: 1 }, { _id: 3 }], { ordered: false }));
    assert.equal((await c.find().toArray()).length, 3);
    await assert.rejects(c.insertMany([{ _id: 4 }, { _id: 1 }, { _id: 5 }], { ordered: true }));
    assert.equal((await c.find({ _id: 5 }).toArray()).length, 0);
  });

  it('unique secondary index, explain shows the index scan', async () => {
    const c = freshColl('ix');
    await c.createIndex({ email: 1 }, { unique: true });
    await c.insertOne({ email: 'a@x' });
    await assert.rejects(c.insertOne({ email: 'a@x' }), { code: 11000 });
    await c.insertMany(Array.from({ length: 50 }, (_, i) => ({ email: `u${i}@x`, n: i })));
    const plan = await c.find({ email: 'u7@x' }).explain('executionStats');
    const winning = plan.queryPlanner.winningPlan;
    assert.equal(winning.stage, 'FETCH');
    assert.equal(winning.inputStage.stage, 'IXSCAN');
    assert.equal(winning.inputStage.indexName, 'email_1');
    assert.equal(plan.executionStats.totalDocsExamined, 1);
    const scan = await c.find({ n: 7 }).explain();
    assert.equal(scan.queryPlanner.winningPlan.stage, 'COLLSCAN');
  });

  it('listCollections, listIndexes, dropIndexes, drop, dropDatabase', async () => {
    const d = freshDb();
    await d.createCollection('a');
    await d.collection<Record<string, unknown>>('b').insertOne({ x: 1 });
    await d.collection('b').createIndex({ x: -1 }, { name: 'x_desc' });
    const names = (await d.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).sort();
    assert.deepEqual(names, ['a', 'b']);
    const indexes = await d.collection('b').listIndexes().toArray();
    assert.deepEqual(indexes.map((i) => i.name), ['_id_', 'x_desc']);
    await d.collection('b').dropIndex('x_desc');
    assert.equal((await d.collection('b').listIndexes().toArray()).length, 1);
    assert.equal(await d.collection('a').drop(), true);
    await d.dropDatabase();
    assert.deepEqual(await d.listCollections().toArray(), []);
  });

  it('distinct and count', async () => {
    const c = freshColl('dc');
    await c.insertMany([{ a: 1 }, { a: [1, 2] }, { a: 3 }, { b: 1 }]);
    const values = await c.distinct('a');
    assert.deepEqual([...values].sort(), [1, 2, 3]);
    assert.equal(await c.estimatedDocumentCount(), 4);
  });
});

describe('let variables', () => {
  let h: Harness;
  before(async () => {
    h = await startDossier();
  });
  after(async () => {
    await h.stop();
  });

  it('find, pipeline-style update and delete read $$ variables from let', async () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const c = h.client.db(uniqueDbName()).collection<any>('let');
    await c.insertMany([{ _id: 1, a: 1 }, { _id: 2, a: 2 }]);
    assert.deepEqual(await c.find({ $expr: { $eq: ['$a', '$$x'] } }, { let: { x: 2 } }).toArray(), [{ _id: 2, a: 2 }]);
    await c.updateOne({ $expr: { $eq: ['$_id', '$$id'] } }, [{ $set: { b: '$$v' } }], { let: { id: 1, v: 'hi' } });
    assert.equal((await c.deleteOne({ $expr: { $eq: ['$_id', '$$id'] } }, { let: { id: 2 } })).deletedCount, 1);
    assert.deepEqual(await c.find().toArray(), [{ _id: 1, a: 1, b: 'hi' }]);
  });
});
