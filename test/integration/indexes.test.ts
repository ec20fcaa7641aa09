/**
 * Indexes and the planner through the official driver: compound, descending and reverse scans,
 * multikey, sparse, partial, unique (also under concurrent inserts), CannotIndexParallelArrays,
 * hints, explain verbosities and the TTL monitor (on a ManualClock, so no sleeps).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MongoClient, type Db, type Document } from 'mongodb';
import { ManualClock } from '../../src/platform/index.js';
import { startDossier, uniqueDbName, type Harness } from '../helpers/dossier.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;
type ServerError = { code?: number; codeName?: string; message?: string; keyValue?: Document };

async function rejectsWith(p: Promise<unknown>, code: number, codeName?: string, message?: RegExp): Promise<ServerError> {
  let caught: ServerError | undefined;
  await assert.rejects(p, (e: ServerError) => {
    caught = e;
    assert.equal(e.code, code, `expected code ${code}, got ${e.code}: ${e.message}`);
    if (codeName !== undefined) assert.equal(e.codeName, codeName);
    if (message) assert.match(String(e.message), message);
    return true;
  });
  return caught!;
}

/** The IXSCAN stage of a winning plan (under FETCH, and SORT when there is one). */
function ixscanOf(plan: Document): Document | undefined {
  let stage: Document | undefined = plan;
  while (stage && stage.stage !== 'IXSCAN') stage = stage.inputStage;
  return stage;
}

describe('indexes and the planner', () => {
  let h: Harness;
  before(async () => {
    h = await startDossier();
  });
  after(async () => {
    await h.stop();
  });
  const freshDb = (): Db => h.client.db(uniqueDbName('ix'));

  describe('compound indexes', () => {
    let db: Db;
    before(async () => {
      db = freshDb();
      const c = db.collection<Any>('grid');
      const docs = [];
      for (let a = 0; a < 10; a++) for (let b = 0; b < 10; b++) docs.push({ _id: a * 10 + b, a, b });
      await c.insertMany(docs);
      await c.createIndex({ a: 1, b: 1 });
    });

    it('equality + range uses both fields as bounds and examines only matching keys', async () => {
      const c = db.collection<Any>('grid');
      const found = await c.find({ a: 5, b: { $gt: 3 } }).toArray();
      assert.deepEqual(found.map((d) => d._id), [54, 55, 56, 57, 58, 59]);
      const plan = await c.find({ a: 5, b: { $gt: 3 } }).explain('executionStats');
      const ix = ixscanOf(plan.queryPlanner.winningPlan)!;
      assert.equal(plan.queryPlanner.winningPlan.stage, 'FETCH');
      assert.equal(ix.indexName, 'a_1_b_1');
      assert.deepEqual(ix.keyPattern, { a: 1, b: 1 });
      assert.deepEqual(ix.indexBounds, { a: ['[5, 5]'], b: ['(3, inf.0]'] });
      assert.equal(ix.direction, 'forward');
      assert.equal(plan.executionStats.nReturned, 6);
      assert.equal(plan.executionStats.totalKeysExamined, 6);
      assert.equal(plan.executionStats.totalDocsExamined, 6);
    });

    it('a sort on the field after an equality prefix is served by the index (no SORT stage)', async () => {
      const c = db.collection<Any>('grid');
      const asc = await c.find({ a: 7 }).sort({ b: 1 }).toArray();
      assert.deepEqual(asc.map((d) => d.b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      const planAsc = await c.find({ a: 7 }).sort({ b: 1 }).explain();
      assert.equal(planAsc.queryPlanner.winningPlan.stage, 'FETCH');
      assert.equal(ixscanOf(planAsc.queryPlanner.winningPlan)!.direction, 'forward');
      const desc = await c.find({ a: 7 }).sort({ b: -1 }).limit(3).toArray();
      assert.deepEqual(desc.map((d) => d.b), [9, 8, 7]);
      const planDesc = await c.find({ a: 7 }).sort({ b: -1 }).explain();
      assert.equal(planDesc.queryPlanner.winningPlan.stage, 'FETCH');
      const ix = ixscanOf(planDesc.queryPlanner.winningPlan)!;
      assert.equal(ix.direction, 'backward');
      assert.deepEqual(ix.indexBounds, { a: ['[7, 7]'], b: ['[MaxKey, MinKey]'] });
    });

    it('a sort the index cannot give gets a SORT stage and the right order', async () => {
      const c = db.collection<Any>('grid');
      const plan = await c.find({ a: { $gte: 8 } }).sort({ b: 1, a: -1 }).explain();
      assert.equal(plan.queryPlanner.winningPlan.stage, 'SORT');
      assert.deepEqual(plan.queryPlanner.winningPlan.sortPattern, { b: 1, a: -1 });
      const docs = await c.find({ a: { $gte: 8 } }).sort({ b: 1, a: -1 }).limit(4).toArray();
      assert.deepEqual(docs.map((d) => d._id), [90, 80, 91, 81]);
      const mixed = await c.find({}).sort({ a: 1, b: -1 }).explain();
      assert.equal(mixed.queryPlanner.winningPlan.stage, 'SORT');
    });

    it('a full sort on the key pattern is an index scan over [MinKey, MaxKey]', async () => {
      const c = db.collection<Any>('grid');
      const plan = await c.find({}).sort({ a: -1, b: -1 }).explain();
      const ix = ixscanOf(plan.queryPlanner.winningPlan)!;
      assert.equal(plan.queryPlanner.winningPlan.stage, 'FETCH');
      assert.equal(ix.direction, 'backward');
      assert.deepEqual(ix.indexBounds, { a: ['[MaxKey, MinKey]'], b: ['[MaxKey, MinKey]'] });
      const top = await c.find({}).sort({ a: -1, b: -1 }).limit(2).toArray();
      assert.deepEqual(top.map((d) => d._id), [99, 98]);
    });

    it('descending key fields: scans in both directions, bounds listed in scan order', async () => {
      const c = db.collection<Any>('desc');
      await c.insertMany([
        { _id: 1, x: 1, y: 1 },
        { _id: 2, x: 2, y: 1 },
        { _id: 3, x: 2, y: 3 },
        { _id: 4, x: 3, y: 2 },
        { _id: 5, x: 3, y: 5 },
      ]);
      await c.createIndex({ x: 1, y: -1 });
      const fwd = await c.find({ x: { $gte: 2 } }).sort({ x: 1, y: -1 }).toArray();
      assert.deepEqual(fwd.map((d) => d._id), [3, 2, 5, 4]);
      const fwdPlan = await c.find({ x: { $gte: 2 } }).sort({ x: 1, y: -1 }).explain();
      const fwdIx = ixscanOf(fwdPlan.queryPlanner.winningPlan)!;
      assert.equal(fwdPlan.queryPlanner.winningPlan.stage, 'FETCH');
      assert.equal(fwdIx.direction, 'forward');
      assert.deepEqual(fwdIx.indexBounds, { x: ['[2, inf.0]'], y: ['[MaxKey, MinKey]'] });
      const back = await c.find({ x: { $gte: 2 } }).sort({ x: -1, y: 1 }).toArray();
      assert.deepEqual(back.map((d) => d._id), [4, 5, 2, 3]);
      const backIx = ixscanOf((await c.find({ x: { $gte: 2 } }).sort({ x: -1, y: 1 }).explain()).queryPlanner.winningPlan)!;
      assert.equal(backIx.direction, 'backward');
      assert.deepEqual(backIx.indexBounds, { x: ['[inf.0, 2]'], y: ['[MinKey, MaxKey]'] });
      const yRange = ixscanOf((await c.find({ x: 3, y: { $gt: 1, $lte: 5 } }).explain()).queryPlanner.winningPlan)!;
      assert.deepEqual(yRange.indexBounds, { x: ['[3, 3]'], y: ['[5, 1)'] });
      assert.deepEqual((await c.find({ x: 3, y: { $gt: 1, $lte: 5 } }).toArray()).map((d) => d._id), [5, 4]);
    });

    it('a single-field index scanned in reverse for a descending sort', async () => {
      const c = db.collection<Any>('rev');
      await c.insertMany([{ n: 3 }, { n: 1 }, { n: 2 }, { n: 5 }, { n: 4 }]);
      await c.createIndex({ n: 1 });
      const plan = await c.find({ n: { $lt: 5 } }).sort({ n: -1 }).explain();
      const ix = ixscanOf(plan.queryPlanner.winningPlan)!;
      assert.equal(plan.queryPlanner.winningPlan.stage, 'FETCH');
      assert.equal(ix.direction, 'backward');
      assert.deepEqual(ix.indexBounds, { n: ['(5, -inf.0]'] });
      assert.deepEqual((await c.find({ n: { $lt: 5 } }).sort({ n: -1 }).toArray()).map((d) => d.n), [4, 3, 2, 1]);
    });
  });

  describe('multikey indexes', () => {
    it('arrays of scalars: one key per element, each document returned once', async () => {
      const c = freshDb().collection<Any>('tags');
      await c.createIndex({ tags: 1 });
      await c.insertMany([
        { _id: 1, tags: ['a', 'b'] },
        { _id: 2, tags: ['b', 'b', 'c'] },
        { _id: 3, tags: 'b' },
        { _id: 4, tags: [] },
        { _id: 5 },
      ]);
      assert.deepEqual((await c.find({ tags: 'b' }).toArray()).map((d) => d._id), [1, 2, 3]);
      const plan = await c.find({ tags: 'b' }).explain('executionStats');
      const ix = ixscanOf(plan.queryPlanner.winningPlan)!;
      assert.equal(ix.isMultiKey, true);
      assert.deepEqual(ix.multiKeyPaths, { tags: ['tags'] });
      assert.equal(plan.executionStats.nReturned, 3);
      assert.equal(plan.executionStats.totalDocsExamined, 3);
      // An empty array is indexed as undefined; a missing field as null.
      assert.deepEqual((await c.find({ tags: [] }).toArray()).map((d) => d._id), [4]);
      assert.deepEqual((await c.find({ tags: null }).toArray()).map((d) => d._id), [5]);
      assert.deepEqual((await c.find({ tags: { $in: ['a', 'c'] } }).toArray()).map((d) => d._id), [1, 2]);
    });

    it('arrays of documents: dotted paths through the array', async () => {
      const c = freshDb().collection<Any>('orders');
      await c.createIndex({ 'items.sku': 1, 'items.qty': 1 });
      await c.insertMany([
        { _id: 1, items: [{ sku: 'x', qty: 1 }, { sku: 'y', qty: 5 }] },
        { _id: 2, items: [{ sku: 'y', qty: 2 }] },
        { _id: 3, items: { sku: 'x', qty: 9 } },
      ]);
      assert.deepEqual((await c.find({ 'items.sku': 'x' }).toArray()).map((d) => d._id), [1, 3]);
      const plan = await c.find({ 'items.sku': 'y' }).explain();
      assert.equal(ixscanOf(plan.queryPlanner.winningPlan)!.indexName, 'items.sku_1_items.qty_1');
      // Without $elemMatch sku and qty may come from different elements.
      assert.deepEqual((await c.find({ 'items.sku': 'x', 'items.qty': 5 }).toArray()).map((d) => d._id), [1]);
      assert.deepEqual((await c.find({ items: { $elemMatch: { sku: 'x', qty: 5 } } }).toArray()).map((d) => d._id), []);
      assert.deepEqual((await c.find({ items: { $elemMatch: { sku: 'y', qty: { $gte: 2 } } } }).sort({ _id: 1 }).toArray()).map((d) => d._id), [1, 2]);
    });

    it('range bounds are not intersected on a multikey path: {a: [4, 12]} matches {$gt: 5, $lt: 10}', async () => {
      const db = freshDb();
      const plain = db.collection<Any>('plain');
      const indexed = db.collection<Any>('indexed');
      const docs = [{ _id: 1, a: [4, 12] }, { _id: 2, a: 7 }, { _id: 3, a: [1, 2] }, { _id: 4, a: [20] }, { _id: 5, a: 4 }];
      await plain.insertMany(docs);
      await indexed.insertMany(docs);
      await indexed.createIndex({ a: 1 });
      const q = { a: { $gt: 5, $lt: 10 } };
      assert.deepEqual((await plain.find(q).toArray()).map((d) => d._id), [1, 2]);
      assert.deepEqual((await indexed.find(q).sort({ _id: 1 }).toArray()).map((d) => d._id), [1, 2]);
      const ix = ixscanOf((await indexed.find(q).explain()).queryPlanner.winningPlan)!;
      assert.equal(ix.isMultiKey, true);
      assert.notDeepEqual(ix.indexBounds, { a: ['(5, 10)'] });
      assert.equal(ix.indexBounds.a.length, 1);
      assert.ok(['(5, inf.0]', '[-inf.0, 10)'].includes(ix.indexBounds.a[0]), ix.indexBounds.a[0]);
      // $elemMatch asks one element to meet both bounds: then they are intersected.
      const em = { a: { $elemMatch: { $gt: 5, $lt: 10 } } };
      assert.deepEqual((await indexed.find(em).toArray()).map((d) => d._id), []);
      await indexed.insertOne({ _id: 6, a: [3, 8] });
      assert.deepEqual((await indexed.find(em).toArray()).map((d) => d._id), [6]);
      assert.deepEqual(ixscanOf((await indexed.find(em).explain()).queryPlanner.winningPlan)!.indexBounds, { a: ['(5, 10)'] });
    });

    it('a sort on a multikey field is not taken from the index; arrays sort by their min (asc) / max (desc) element', async () => {
      const c = freshDb().collection<Any>('ms');
      await c.createIndex({ a: 1 });
      await c.insertMany([{ _id: 1, a: [5, 1] }, { _id: 2, a: 3 }, { _id: 3, a: [2, 9] }]);
      const plan = await c.find({ a: { $gte: 0 } }).sort({ a: 1 }).explain();
      assert.equal(plan.queryPlanner.winningPlan.stage, 'SORT');
      assert.deepEqual((await c.find({ a: { $gte: 0 } }).sort({ a: 1 }).toArray()).map((d) => d._id), [1, 3, 2]);
      assert.deepEqual((await c.find({ a: { $gte: 0 } }).sort({ a: -1 }).toArray()).map((d) => d._id), [3, 1, 2]);
    });
  });

  describe('sparse and partial indexes', () => {
    it('a sparse index is not used for {x: null} or {x: {$exists: false}}', async () => {
      const c = freshDb().collection<Any>('sp');
      await c.createIndex({ x: 1 }, { sparse: true });
      await c.insertMany([{ _id: 1, x: 1 }, { _id: 2 }, { _id: 3, x: null }, { _id: 4, x: 2 }]);
      assert.deepEqual((await c.find({ x: null }).toArray()).map((d) => d._id), [2, 3]);
      assert.equal((await c.find({ x: null }).explain()).queryPlanner.winningPlan.stage, 'COLLSCAN');
      assert.deepEqual((await c.find({ x: { $exists: false } }).toArray()).map((d) => d._id), [2]);
      assert.equal((await c.find({ x: { $exists: false } }).explain()).queryPlanner.winningPlan.stage, 'COLLSCAN');
      const used = await c.find({ x: { $gte: 1 } }).explain('executionStats');
      assert.equal(ixscanOf(used.queryPlanner.winningPlan)!.isSparse, true);
      assert.equal(used.executionStats.nReturned, 2);
    });

    it('a sparse unique index allows many documents without the field', async () => {
      const c = freshDb().collection<Any>('spu');
      await c.createIndex({ u: 1 }, { unique: true, sparse: true });
      await c.insertMany([{ _id: 1 }, { _id: 2 }, { _id: 3, u: 1 }]);
      await rejectsWith(c.insertOne({ _id: 4, u: 1 }), 11000);
    });

    it('a partial index holds only matching documents; queries still see everything', async () => {
      const c = freshDb().collection<Any>('pt');
      await c.createIndex({ a: 1 }, { partialFilterExpression: { b: { $gt: 5 } } });
      await c.insertMany([{ _id: 1, a: 1, b: 10 }, { _id: 2, a: 1, b: 1 }, { _id: 3, a: 1 }]);
      assert.deepEqual((await c.find({ a: 1 }).toArray()).map((d) => d._id), [1, 2, 3]);
      // The query does not imply the filter, so the index cannot answer it.
      assert.equal((await c.find({ a: 1 }).explain()).queryPlanner.winningPlan.stage, 'COLLSCAN');
      const stats = await h.client.db(c.dbName).command({ collStats: 'pt' });
      assert.equal(stats.nindexes, 2);
    });

    // mongod's rule (jstests/core/index/index_partial_read_ops.js): a partial index answers a
    // query only when the query's filter implies the index's partialFilterExpression.
    it('the planner uses a partial index when the filter implies its expression, never otherwise', async () => {
      const c = freshDb().collection<Any>('pimp');
      await c.createIndex({ x: 1 }, { partialFilterExpression: { a: { $lte: 1.5 } } });
      await c.insertMany([{ _id: 1, x: 5, a: 2 }, { _id: 2, x: 6, a: 1 }, { _id: 3, x: 6 }, { _id: 4, x: 6, a: 'str' }]);
      const planOf = async (filter: Document): Promise<{ stage: string; ids: unknown[]; name?: string }> => {
        const explain = await c.find(filter).explain('executionStats');
        const ix = ixscanOf(explain.queryPlanner.winningPlan);
        const ids = (await c.find(filter).sort({ _id: 1 }).toArray()).map((d) => d._id);
        return { stage: ix ? 'IXSCAN' : explain.queryPlanner.winningPlan.stage, ids, ...(ix ? { name: ix.indexName } : {}) };
      };
      const implied: Array<[Document, number[]]> = [
        [{ x: 6, a: 1 }, [2]], [{ x: { $gt: 1 }, a: 1 }, [2]], [{ x: 6, a: { $lte: 1 } }, [2]], [{ x: 6, a: { $lt: 1.5 } }, [2]],
        [{ x: 6, a: { $in: [0, 1] } }, [2]], [{ x: 6, a: { $eq: 1.5 } }, []], [{ x: 6, $and: [{ a: { $gte: 0 } }, { a: { $lt: 1 } }] }, []],
        [{ x: 6, $or: [{ a: 1 }, { a: 0 }] }, [2]],
      ];
      for (const [filter, ids] of implied) {
        const p = await planOf(filter);
        assert.equal(p.stage, 'IXSCAN', JSON.stringify(filter));
        assert.equal(p.name, 'x_1');
        assert.deepEqual(p.ids, ids, JSON.stringify(filter));
      }
      const explain = await c.find({ x: 6, a: 1 }).explain();
      assert.equal(ixscanOf(explain.queryPlanner.winningPlan)!.isPartial, true);
      // Filters that do not imply a <= 1.5: a wider range, no predicate on a, a string, $ne, $or with a branch outside.
      for (const filter of [{ x: 6, a: { $lt: 1.6 } }, { x: 6 }, { x: 6, a: 'str' }, { x: 6, a: { $ne: 2 } }, { x: 6, a: { $gte: 1 } }, { x: 6, $or: [{ a: 1 }, { a: 2 }] }, { x: 6, a: { $lte: null } }]) {
        const p = await planOf(filter);
        assert.equal(p.stage, 'COLLSCAN', JSON.stringify(filter));
      }
      assert.deepEqual((await planOf({ x: 6 })).ids, [2, 3, 4]);
      assert.deepEqual((await planOf({ x: 6, a: 'str' })).ids, [4]);
      // An aggregation's leading $match plans the same way.
      const aggPlan = async (match: Document): Promise<Document | undefined> => {
        const e = await c.aggregate([{ $match: match }]).explain();
        return ixscanOf((e.queryPlanner ?? e.stages?.[0]?.$cursor?.queryPlanner).winningPlan);
      };
      assert.equal((await aggPlan({ x: { $gt: 1 }, a: 1 }))?.indexName, 'x_1');
      assert.equal(await aggPlan({ x: { $gt: 1 }, a: 2 }), undefined);
    });

    it('partial index expressions: $exists, $type, $gt ranges, equality, $and of them', async () => {
      const c = freshDb().collection<Any>('pkinds');
      await c.createIndex({ x: 1 }, { name: 'ex', partialFilterExpression: { a: { $exists: true } } });
      await c.createIndex({ y: 1 }, { name: 'ty', partialFilterExpression: { t: { $type: 'string' } } });
      await c.createIndex({ z: 1 }, { name: 'and', partialFilterExpression: { n: { $gt: 10 }, s: 'on' } });
      await c.insertMany([
        { _id: 1, x: 1, y: 1, z: 1, a: 1, t: 's', n: 20, s: 'on' },
        { _id: 2, x: 1, y: 1, z: 1, t: 5, n: 5, s: 'on' },
        { _id: 3, x: 1, y: 1, z: 1, a: null, n: 20 },
      ]);
      const indexFor = async (filter: Document): Promise<string | undefined> => ixscanOf((await c.find(filter).explain()).queryPlanner.winningPlan)?.indexName;
      assert.equal(await indexFor({ x: 1, a: 1 }), 'ex');
      assert.equal(await indexFor({ x: 1, a: { $gt: 0 } }), 'ex');
      assert.equal(await indexFor({ x: 1, a: { $exists: true } }), 'ex');
      assert.equal(await indexFor({ x: 1, a: { $type: 'int' } }), 'ex');
      assert.equal(await indexFor({ x: 1, a: null }), undefined);
      assert.equal(await indexFor({ x: 1, a: { $in: [1, null] } }), undefined);
      assert.equal(await indexFor({ x: 1 }), undefined);
      assert.equal(await indexFor({ y: 1, t: 's' }), 'ty');
      assert.equal(await indexFor({ y: 1, t: { $type: 'string' } }), 'ty');
      assert.equal(await indexFor({ y: 1, t: { $type: ['string', 'int'] } }), undefined);
      assert.equal(await indexFor({ y: 1, t: 5 }), undefined);
      assert.equal(await indexFor({ z: 1, n: { $gt: 11 }, s: 'on' }), 'and');
      assert.equal(await indexFor({ z: 1, n: { $gte: 10 }, s: 'on' }), undefined);
      assert.equal(await indexFor({ z: 1, n: 20 }), undefined);
      assert.deepEqual((await c.find({ z: 1, n: { $gt: 11 }, s: 'on' }).toArray()).map((d) => d._id), [1]);
      assert.deepEqual((await c.find({ x: 1, a: null }).sort({ _id: 1 }).toArray()).map((d) => d._id), [2, 3]);
      // A sort on the key uses the partial index only under the same rule.
      const sorted = await c.find({ a: { $gt: 0 } }).sort({ x: 1 }).explain();
      assert.equal(ixscanOf(sorted.queryPlanner.winningPlan)?.indexName, 'ex');
      const unsorted = await c.find({}).sort({ x: 1 }).explain();
      assert.equal(ixscanOf(unsorted.queryPlanner.winningPlan), undefined);
    });

    it('a partial unique index allows duplicates outside its filter', async () => {
      const c = freshDb().collection<Any>('pu');
      await c.createIndex({ email: 1 }, { unique: true, partialFilterExpression: { active: true } });
      await c.insertMany([
        { _id: 1, email: 'x@y', active: false },
        { _id: 2, email: 'x@y', active: false },
        { _id: 3, email: 'x@y' },
        { _id: 4, email: 'x@y', active: true },
      ]);
      const e = await rejectsWith(c.insertOne({ _id: 5, email: 'x@y', active: true }), 11000);
      assert.deepEqual(e.keyValue, { email: 'x@y' });
      await rejectsWith(c.updateOne({ _id: 1 }, { $set: { active: true } }), 11000);
      await c.updateOne({ _id: 4 }, { $set: { active: false } });
      await c.updateOne({ _id: 1 }, { $set: { active: true } });
      assert.deepEqual((await c.find({ active: true }).toArray()).map((d) => d._id), [1]);
    });
  });

  describe('unique indexes', () => {
    it('two documents without the field collide on a non-sparse unique index (null key)', async () => {
      const c = freshDb().collection<Any>('um');
      await c.createIndex({ u: 1 }, { unique: true });
      await c.insertOne({ _id: 1 });
      const e = await rejectsWith(c.insertOne({ _id: 2 }), 11000, undefined, /index: u_1 dup key: \{ u: null \}/);
      assert.deepEqual(e.keyValue, { u: null });
      await rejectsWith(c.insertOne({ _id: 3, u: null }), 11000);
      await c.insertOne({ _id: 4, u: 0 });
      assert.deepEqual((await c.find().toArray()).map((d) => d._id), [1, 4]);
    });

    it('compound unique: the whole key must repeat; numeric types compare by value', async () => {
      const c = freshDb().collection<Any>('cu');
      await c.createIndex({ a: 1, b: 1 }, { unique: true });
      await c.insertMany([{ a: 1, b: 1 }, { a: 1, b: 2 }, { a: 2, b: 1 }]);
      const e = await rejectsWith(c.insertOne({ a: 1.0, b: 2 }), 11000);
      assert.match(String(e.message), /dup key: \{ a: 1(\.0)?, b: 2 \}/);
    });

    it('exactly one of 20 concurrent inserts of the same key from 20 connections succeeds', async () => {
      const dbName = uniqueDbName('conc');
      const c = h.client.db(dbName).collection<Any>('race');
      await c.createIndex({ k: 1 }, { unique: true });
      const clients = await Promise.all(Array.from({ length: 20 }, () => MongoClient.connect(h.uri, { serverSelectionTimeoutMS: 5000 })));
      try {
        const results = await Promise.allSettled(clients.map((cl, i) => cl.db(dbName).collection<Any>('race').insertOne({ _id: i, k: 'same' })));
        const ok = results.filter((r) => r.status === 'fulfilled');
        const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
        assert.equal(ok.length, 1);
        assert.equal(failed.length, 19);
        for (const f of failed) assert.equal((f.reason as ServerError).code, 11000);
        // And the same for _id.
        const idResults = await Promise.allSettled(clients.map((cl, i) => cl.db(dbName).collection<Any>('race').insertOne({ _id: 'one', k: i })));
        assert.equal(idResults.filter((r) => r.status === 'fulfilled').length, 1);
      } finally {
        await Promise.all(clients.map((cl) => cl.close()));
      }
      assert.equal((await c.find({ k: 'same' }).toArray()).length, 1);
      assert.equal((await c.find({ _id: 'one' }).toArray()).length, 1);
    });
  });

  describe('CannotIndexParallelArrays', () => {
    it('refuses a document with two arrays in one compound index (171), on insert and on build', async () => {
      const db = freshDb();
      const c = db.collection<Any>('pa');
      await c.createIndex({ a: 1, b: 1 });
      await c.insertOne({ _id: 1, a: [1, 2], b: 1 });
      await c.insertOne({ _id: 2, a: 1, b: [1, 2] });
      await rejectsWith(c.insertOne({ _id: 3, a: [1, 2], b: [3, 4] }), 171, undefined, /cannot index parallel arrays \[b\] \[a\]/);
      await rejectsWith(c.updateOne({ _id: 1 }, { $set: { b: [5, 6] } }), 171);
      assert.deepEqual(await c.findOne({ _id: 1 }), { _id: 1, a: [1, 2], b: 1 });
      const d = db.collection<Any>('pb');
      await d.insertOne({ a: [1], b: [2] });
      await rejectsWith(d.createIndex({ a: 1, b: 1 }), 171, 'CannotIndexParallelArrays');
      assert.deepEqual((await d.listIndexes().toArray()).map((i) => i.name), ['_id_']);
    });
  });

  describe('hint and explain', () => {
    let db: Db;
    before(async () => {
      db = freshDb();
      const c = db.collection<Any>('h');
      await c.insertMany(Array.from({ length: 20 }, (_, i) => ({ _id: i, a: i % 5, b: i })));
      await c.createIndex({ a: 1 });
      await c.createIndex({ b: 1 }, { name: 'by_b' });
    });

    it('hint by name and by key pattern picks that index', async () => {
      const c = db.collection<Any>('h');
      const byName = await c.find({ a: 1, b: { $gt: 10 } }).hint('by_b').explain('executionStats');
      assert.equal(ixscanOf(byName.queryPlanner.winningPlan)!.indexName, 'by_b');
      assert.equal(byName.executionStats.nReturned, 2);
      assert.equal(byName.executionStats.totalKeysExamined, 9);
      assert.equal(byName.executionStats.totalDocsExamined, 9);
      const byKey = await c.find({ a: 1, b: { $gt: 10 } }).hint({ a: 1 }).explain('executionStats');
      assert.equal(ixscanOf(byKey.queryPlanner.winningPlan)!.indexName, 'a_1');
      assert.equal(byKey.executionStats.totalDocsExamined, 4);
      assert.deepEqual((await c.find({ a: 1, b: { $gt: 10 } }).hint({ a: 1 }).toArray()).map((d) => d._id), [11, 16]);
      // A hint with no predicate on the index scans all of it.
      const full = ixscanOf((await c.find({}).hint('by_b').explain()).queryPlanner.winningPlan)!;
      assert.deepEqual(full.indexBounds, { b: ['[MinKey, MaxKey]'] });
    });

    it('$natural hints a collection scan, forward or backward', async () => {
      const c = db.collection<Any>('h');
      const fwd = await c.find({ a: 1 }).hint({ $natural: 1 }).explain();
      assert.deepEqual(fwd.queryPlanner.winningPlan, { stage: 'COLLSCAN', direction: 'forward' });
      const back = await c.find({ a: 1 }).hint({ $natural: -1 }).toArray();
      assert.deepEqual(back.map((d) => d._id), [16, 11, 6, 1]);
      assert.equal((await c.find({ a: 1 }).hint({ $natural: -1 }).explain()).queryPlanner.winningPlan.direction, 'backward');
    });

    it('a hint naming no index (or a hidden one) fails with BadValue (2)', async () => {
      const c = db.collection<Any>('h');
      await rejectsWith(c.find({}).hint('nope').toArray(), 2, 'BadValue', /hint provided does not correspond to an existing index/);
      await rejectsWith(c.find({}).hint({ zz: 1 }).toArray(), 2, 'BadValue');
      await db.command({ collMod: 'h', index: { name: 'by_b', hidden: true } });
      try {
        await rejectsWith(c.find({}).hint('by_b').toArray(), 2, 'BadValue');
      } finally {
        await db.command({ collMod: 'h', index: { name: 'by_b', hidden: false } });
      }
    });

    it('explain verbosities: queryPlanner has no executionStats; executionStats counts keys and documents', async () => {
      const c = db.collection<Any>('h');
      const qp = await db.command({ explain: { find: 'h', filter: { a: 2 } }, verbosity: 'queryPlanner' });
      assert.equal(qp.queryPlanner.namespace, `${db.databaseName}.h`);
      assert.equal(qp.executionStats, undefined);
      assert.equal(ixscanOf(qp.queryPlanner.winningPlan)!.indexName, 'a_1');
      assert.deepEqual(qp.queryPlanner.rejectedPlans, []);
      const es = await c.find({ a: 2 }).explain('executionStats');
      assert.equal(es.executionStats.executionSuccess, true);
      assert.equal(es.executionStats.nReturned, 4);
      assert.equal(es.executionStats.totalKeysExamined, 4);
      assert.equal(es.executionStats.totalDocsExamined, 4);
      const scan = await c.find({ _id: { $exists: true }, b: { $type: 'string' } }).hint({ $natural: 1 }).explain('executionStats');
      assert.equal(scan.executionStats.nReturned, 0);
      assert.equal(scan.executionStats.totalKeysExamined, 0);
      assert.equal(scan.executionStats.totalDocsExamined, 20);
      const all = await c.find({ a: 2 }).explain('allPlansExecution');
      assert.equal(all.executionStats.nReturned, 4);
      const id = await c.find({ _id: 3 }).explain('executionStats');
      assert.equal(id.queryPlanner.winningPlan.stage, 'EXPRESS_IXSCAN');
      assert.equal(id.executionStats.totalKeysExamined, 1);
      assert.equal(id.executionStats.totalDocsExamined, 1);
      await rejectsWith(db.command({ explain: { find: 'h' }, verbosity: 'loud' }), 2, 'BadValue');
      await rejectsWith(db.command({ explain: 5 }), 14, 'TypeMismatch');
    });

    it('explain of a missing collection is EOF', async () => {
      const plan = await db.command({ explain: { find: 'none', filter: { a: 1 } }, verbosity: 'executionStats' });
      assert.equal(plan.queryPlanner.winningPlan.stage, 'EOF');
      assert.equal(plan.executionStats.nReturned, 0);
    });
  });
});

describe('the TTL monitor (ManualClock)', () => {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  let h: Harness;
  let db: Db;
  const HOUR_MS = 3_600_000;
  before(async () => {
    h = await startDossier({ clock });
    db = h.client.db(uniqueDbName('ttl'));
  });
  after(async () => {
    await h.stop();
  });

  it('deletes expired documents each ttlMonitorSleepSecs; the earliest date of an array counts; other values are ignored', async () => {
    const c = db.collection<Any>('sessions');
    await c.createIndex({ at: 1 }, { expireAfterSeconds: 3600 });
    const now = clock.nowMs();
    await c.insertMany([
      { _id: 'old', at: new Date(now - 2 * HOUR_MS) },
      { _id: 'fresh', at: new Date(now) },
      { _id: 'array-old', at: [new Date(now + 24 * HOUR_MS), new Date(now - 2 * HOUR_MS)] },
      { _id: 'array-fresh', at: [new Date(now + 24 * HOUR_MS), 'x'] },
      { _id: 'string', at: 'yesterday' },
      { _id: 'number', at: 0 },
      { _id: 'missing' },
    ]);
    const ids = async (): Promise<string[]> => (await c.find({}, { sort: { _id: 1 } }).toArray()).map((d) => d._id);
    clock.advance(59_000);
    assert.equal((await ids()).length, 7, 'no pass before ttlMonitorSleepSecs');
    clock.advance(1_000);
    assert.deepEqual(await ids(), ['array-fresh', 'fresh', 'missing', 'number', 'string']);
    clock.advance(HOUR_MS);
    assert.deepEqual(await ids(), ['array-fresh', 'missing', 'number', 'string']);
    // The counter spans every TTL index: config.system.sessions' lsidTTLIndex expires session records too.
    const sessionRecordsExpired = h.dossier.instance.ttlMonitor.deletedDocuments - 3;
    assert.ok(sessionRecordsExpired >= 0 && sessionRecordsExpired <= h.dossier.instance.sessions.size + 10);
    assert.equal(h.dossier.instance.ttlMonitor.passes, 61);
  });

  it('expireAfterSeconds 0 deletes at the date itself', async () => {
    const c = db.collection<Any>('zero');
    await c.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0 });
    const now = clock.nowMs();
    await c.insertMany([
      { _id: 1, expiresAt: new Date(now - 1000) },
      { _id: 2, expiresAt: new Date(now + 30_000) },
      { _id: 3, expiresAt: new Date(now + 10 * HOUR_MS) },
    ]);
    clock.advance(60_000);
    assert.deepEqual((await c.find().toArray()).map((d) => d._id), [3]);
  });

  it('a TTL deletion is an ordinary delete: an oplog entry each', async () => {
    const c = db.collection<Any>('logged');
    await c.createIndex({ at: 1 }, { expireAfterSeconds: 1 });
    await c.insertMany([{ _id: 'a', at: new Date(clock.nowMs() - 5000) }, { _id: 'b', at: new Date(clock.nowMs() - 5000) }]);
    clock.advance(60_000);
    const deletes = await h.client.db('local').collection('oplog.rs').find({ op: 'd', ns: `${db.databaseName}.logged` }).toArray();
    assert.deepEqual(deletes.map((e) => e.o).sort((x, y) => (x._id < y._id ? -1 : 1)), [{ _id: 'a' }, { _id: 'b' }]);
    assert.notDeepEqual(deletes[0]!.ts, deletes[1]!.ts);
  });
});
