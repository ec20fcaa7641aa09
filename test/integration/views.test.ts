/**
 * Views through the official driver: created with `db.createCollection(name, {viewOn, pipeline})`,
 * read with find, count, distinct and aggregate (the view's pipeline first, views on views, the
 * view's collation), listed by listCollections with system.views beside them, refused for writes
 * and index commands with CommandNotSupportedOnView, checked at create with mongod's codes,
 * dropped, and kept across a durable restart.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Db } from 'mongodb';
import { failsWith, startDossier, uniqueDbName, type Harness } from '../helpers/dossier.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- documents of any shape
type Any = any;

const ORDERS = [
  { _id: 1, item: 'apple', qty: 5, status: 'A' },
  { _id: 2, item: 'Banana', qty: 20, status: 'A' },
  { _id: 3, item: 'cherry', qty: 15, status: 'B' },
  { _id: 4, item: 'APPLE', qty: 30, status: 'A' },
];

describe('views', () => {
  let h: Harness;
  let db: Db;
  before(async () => {
    h = await startDossier();
    db = h.client.db(uniqueDbName('views'));
    await db.collection<Any>('orders').insertMany(ORDERS);
    await db.createCollection('active', { viewOn: 'orders', pipeline: [{ $match: { status: 'A' } }] });
  });
  after(async () => {
    await h.stop();
  });

  it('find runs the view pipeline, then filter, sort, skip, limit and projection', async () => {
    const v = db.collection<Any>('active');
    assert.deepEqual(await v.find({}).sort({ _id: 1 }).toArray(), ORDERS.filter((o) => o.status === 'A'));
    const page = await v.find({ qty: { $gt: 5 } }, { projection: { _id: 0, item: 1 } }).sort({ qty: -1 }).skip(1).limit(1).toArray();
    assert.deepEqual(page, [{ item: 'Banana' }]);
    assert.equal((await v.findOne({ _id: 3 })), null, 'the view hides what its pipeline filters out');
  });

  it('a small batchSize pages the view through getMore', async () => {
    const all = await db.collection<Any>('active').find({}, { batchSize: 1 }).sort({ _id: 1 }).toArray();
    assert.deepEqual(all.map((d) => d._id), [1, 2, 4]);
  });

  it('count, estimatedDocumentCount, countDocuments, distinct and aggregate read through the view', async () => {
    const v = db.collection<Any>('active');
    assert.equal(await v.estimatedDocumentCount(), 3);
    assert.equal(await v.countDocuments({ qty: { $gte: 20 } }), 2);
    assert.equal((await db.command({ count: 'active', query: { qty: { $gte: 20 } }, limit: 1 })).n, 1);
    assert.deepEqual(await v.distinct('item'), ['APPLE', 'Banana', 'apple']);
    const total = await v.aggregate([{ $group: { _id: null, qty: { $sum: '$qty' } } }]).toArray();
    assert.deepEqual(total, [{ _id: null, qty: 55 }]);
  });

  it('$lookup and $unionWith read a view through its pipeline', async () => {
    await db.collection<Any>('items').insertMany([{ _id: 'apple' }, { _id: 'cherry' }]);
    const joined = await db
      .collection('items')
      .aggregate([{ $lookup: { from: 'active', localField: '_id', foreignField: 'item', as: 'orders' } }, { $project: { ids: '$orders._id' } }])
      .toArray();
    assert.deepEqual(joined, [{ _id: 'apple', ids: [1] }, { _id: 'cherry', ids: [] }]);
    const union = await db.collection('items').aggregate([{ $unionWith: { coll: 'active', pipeline: [{ $project: { _id: 1 } }] } }]).toArray();
    assert.deepEqual(union.map((d) => d._id), ['apple', 'cherry', 1, 2, 4]);
  });

  it('views on views apply every pipeline, innermost first', async () => {
    await db.createCollection('activeBig', { viewOn: 'active', pipeline: [{ $match: { qty: { $gte: 20 } } }, { $project: { item: 1 } }] });
    const docs = await db.collection<Any>('activeBig').find({}).sort({ _id: 1 }).toArray();
    assert.deepEqual(docs, [{ _id: 2, item: 'Banana' }, { _id: 4, item: 'APPLE' }]);
  });

  it('a view with a collation reads in it and refuses another', async () => {
    await db.createCollection('byItem', { viewOn: 'orders', pipeline: [], collation: { locale: 'en', strength: 2 } });
    const v = db.collection<Any>('byItem');
    assert.deepEqual((await v.find({ item: 'apple' }).sort({ _id: 1 }).toArray()).map((d) => d._id), [1, 4]);
    assert.deepEqual(await v.distinct('item', { item: { $in: ['APPLE', 'banana'] } }), ['apple', 'Banana']);
    await failsWith(v.find({}).collation({ locale: 'fr' }).toArray(), 167, "Cannot override a view's default collation");
    const [info] = await db.listCollections({ name: 'byItem' }).toArray();
    assert.equal((info as Any).options.collation.strength, 2);
    await failsWith(db.createCollection('conflict', { viewOn: 'byItem', pipeline: [] }), 167, /has conflicting collation with view/);
  });

  it('listCollections shows views with their definition, and system.views', async () => {
    const infos = await db.listCollections().toArray();
    const active = infos.find((i) => i.name === 'active') as Any;
    assert.deepEqual(active, { name: 'active', type: 'view', options: { viewOn: 'orders', pipeline: [{ $match: { status: 'A' } }] }, info: { readOnly: true } });
    assert.ok(infos.some((i) => i.name === 'system.views' && i.type === 'collection'));
    const views = await db.listCollections({ type: 'view' }, { nameOnly: true }).toArray();
    assert.deepEqual(views.map((v) => v.name).sort(), ['active', 'activeBig', 'byItem']);
    const defs = await db.collection<Any>('system.views').find({ _id: `${db.databaseName}.active` }).toArray();
    assert.deepEqual(defs, [{ _id: `${db.databaseName}.active`, viewOn: 'orders', pipeline: [{ $match: { status: 'A' } }] }]);
  });

  it('writes and index commands on a view fail with CommandNotSupportedOnView (166)', async () => {
    const v = db.collection<Any>('active');
    const message = `Namespace ${db.databaseName}.active is a view, not a collection`;
    await failsWith(v.insertOne({ x: 1 }), 166, message);
    await failsWith(v.updateOne({}, { $set: { x: 1 } }), 166, message);
    await failsWith(v.deleteMany({}), 166, message);
    await failsWith(v.findOneAndUpdate({}, { $set: { x: 1 } }), 166, message);
    await failsWith(v.createIndex({ qty: 1 }), 166, message);
    await failsWith(v.listIndexes().toArray(), 166, message);
    await failsWith(db.collection<Any>('orders').aggregate([{ $out: 'active' }]).toArray(), 166);
    await failsWith(h.client.db('admin').command({ renameCollection: `${db.databaseName}.active`, to: `${db.databaseName}.renamed` }), 166, `cannot rename view: ${db.databaseName}.active`);
    await failsWith(h.client.db('admin').command({ renameCollection: `${db.databaseName}.orders`, to: `${db.databaseName}.active` }), 48);
    assert.equal(await db.collection('orders').countDocuments(), 4, 'nothing was written');
  });

  it('bad definitions fail at create with mongod\'s codes', async () => {
    const ns = db.databaseName;
    await failsWith(db.command({ create: 'bad', pipeline: [] }), 72, "'pipeline' requires 'viewOn' to also be specified");
    await failsWith(
      db.command({ create: 'bad', viewOn: 'orders', pipeline: [{ $out: 'x' }] }),
      167,
      `Invalid pipeline for view ${ns}.bad :: caused by :: The aggregation stage $out in location 0 of the pipeline cannot be used in the view definition of ${ns}.bad because it writes to disk`,
    );
    await failsWith(db.command({ create: 'bad', viewOn: 'orders', pipeline: [{ $match: {} }, { $merge: { into: 'x' } }] }), 167, /\$merge in location 1/);
    await failsWith(db.command({ create: 'bad', viewOn: 'orders', pipeline: [{ $nope: 1 }] }), 40324, /Unrecognized pipeline stage name: '\$nope'/);
    await failsWith(db.command({ create: 'bad', viewOn: 'orders', pipeline: [{ $documents: [] }] }), 73);
    await failsWith(db.command({ create: 'bad', viewOn: 5, pipeline: [] }), 14);
    await failsWith(db.command({ create: 'bad', viewOn: 'orders', pipeline: {} }), 14);
    await failsWith(db.command({ create: 'bad', viewOn: 'orders', capped: true, size: 100 }), 72, /option not supported on a view/);
    await failsWith(db.command({ create: 'active', viewOn: 'orders', pipeline: [] }), 48);
    await failsWith(db.command({ create: 'orders', viewOn: 'active', pipeline: [] }), 48);
    await failsWith(db.command({ create: 'active' }), 48, /A view already exists/);
    await db.command({ create: 'loopA', viewOn: 'loopB', pipeline: [] });
    await failsWith(db.command({ create: 'loopB', viewOn: 'loopA', pipeline: [] }), 5, `View cycle detected: [${ns}.loopB => ${ns}.loopA => ${ns}.loopB]`);
    // The same definition again is a no-op.
    assert.equal((await db.command({ create: 'active', viewOn: 'orders', pipeline: [{ $match: { status: 'A' } }] })).ok, 1);
    assert.ok(!(await db.listCollections({ name: 'bad' }).toArray()).length);
  });

  it('collMod changes a view\'s pipeline and nothing else', async () => {
    await db.createCollection('modme', { viewOn: 'orders', pipeline: [{ $match: { status: 'B' } }] });
    assert.deepEqual((await db.collection<Any>('modme').find().toArray()).map((d) => d._id), [3]);
    await db.command({ collMod: 'modme', pipeline: [{ $match: { qty: { $gte: 20 } } }] });
    assert.deepEqual((await db.collection<Any>('modme').find().sort({ _id: 1 }).toArray()).map((d) => d._id), [2, 4]);
    await db.command({ collMod: 'modme', viewOn: 'active' });
    assert.deepEqual((await db.collection<Any>('modme').find().sort({ _id: 1 }).toArray()).map((d) => d._id), [2, 4]);
    await failsWith(db.command({ collMod: 'modme', validator: {} }), 72, 'option not supported on a view: validator');
    await failsWith(db.command({ collMod: 'modme', pipeline: [{ $out: 'x' }] }), 167);
    await failsWith(db.command({ collMod: 'orders', pipeline: [] }), 72, 'option only supported on a view: pipeline');
    await failsWith(db.command({ collMod: 'active', viewOn: 'modme' }), 5, /View cycle detected/);
  });

  it('drop removes a view and leaves its collection', async () => {
    await db.createCollection('temp', { viewOn: 'orders', pipeline: [] });
    assert.equal(await db.collection('temp').drop(), true);
    assert.deepEqual(await db.listCollections({ name: 'temp' }).toArray(), []);
    assert.equal(await db.collection('orders').countDocuments(), 4);
    await db.collection<Any>('temp').insertOne({ now: 'a collection' });
    assert.equal((await db.listCollections({ name: 'temp' }).toArray())[0]?.type, 'collection');
  });
});

describe('views across a durable restart', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dossier-views-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps view definitions and reads through them after a restart', async () => {
    let h = await startDossier({ dbPath: dir });
    await h.client.db('shop').collection<Any>('orders').insertMany(ORDERS);
    await h.client.db('shop').createCollection('cheap', { viewOn: 'orders', pipeline: [{ $match: { qty: { $lt: 20 } } }], collation: { locale: 'en', strength: 2 } });
    await h.stop();

    h = await startDossier({ dbPath: dir });
    try {
      const db = h.client.db('shop');
      const [info] = await db.listCollections({ name: 'cheap' }).toArray();
      assert.equal((info as Any).type, 'view');
      assert.equal((info as Any).options.collation.strength, 2);
      const docs = await db.collection<Any>('cheap').find({ item: 'APPLE' }).toArray();
      assert.deepEqual(docs.map((d) => d._id), [1]);
      await failsWith(db.collection<Any>('cheap').insertOne({}), 166);
    } finally {
      await h.stop();
    }
  });
});
