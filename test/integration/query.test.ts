/**
 * The query language end to end: find through the official driver, the answers mongod 8.0 gives.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Binary, BSONRegExp, Decimal128, Double, Int32, Long, MaxKey, MinKey, ObjectId, Timestamp, type Collection, type Db, type Document } from 'mongodb';
import { startDossier, uniqueDbName, type Harness } from '../helpers/dossier.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;
type ServerError = { code?: number; codeName?: string; message?: string };

async function rejectsWith(p: Promise<unknown>, code: number, codeName?: string, message?: RegExp): Promise<void> {
  await assert.rejects(p, (e: ServerError) => {
    assert.equal(e.code, code, `expected code ${code}, got ${e.code}: ${e.message}`);
    if (codeName !== undefined) assert.equal(e.codeName, codeName);
    if (message) assert.match(String(e.message), message);
    return true;
  });
}

describe('the query language through find', () => {
  let h: Harness;
  let db: Db;
  before(async () => {
    h = await startDossier();
    db = h.client.db(uniqueDbName('q'));
  });
  after(async () => {
    await h.stop();
  });

  /** A fresh collection holding `docs`; `ids(filter)` answers the matching _ids in _id order. */
  async function load(name: string, docs: Document[]): Promise<{ c: Collection<Any>; ids: (filter: Document) => Promise<unknown[]> }> {
    const c = db.collection<Any>(name);
    await c.insertMany(docs);
    return { c, ids: async (filter) => (await c.find(filter).sort({ _id: 1 }).toArray()).map((d) => d._id) };
  }

  describe('comparison and BSON types', () => {
    it('int32, int64, double and decimal compare by value', async () => {
      const { c, ids } = await load('nums', [
        { _id: 1, v: new Int32(5) },
        { _id: 2, v: Long.fromNumber(5) },
        { _id: 3, v: new Double(5) },
        { _id: 4, v: Decimal128.fromString('5.0') },
        { _id: 5, v: new Double(5.5) },
        { _id: 6, v: Long.fromString('9007199254740993') },
        { _id: 7, v: new Double(9007199254740992) },
        { _id: 8, v: Decimal128.fromString('-0.1') },
      ]);
      assert.deepEqual(await ids({ v: 5 }), [1, 2, 3, 4]);
      assert.deepEqual(await ids({ v: Long.fromNumber(5) }), [1, 2, 3, 4]);
      assert.deepEqual(await ids({ v: Decimal128.fromString('5') }), [1, 2, 3, 4]);
      assert.deepEqual(await ids({ v: { $gt: 5, $lt: 6 } }), [5]);
      assert.deepEqual(await ids({ v: { $gt: new Double(9007199254740992) } }), [6]);
      assert.deepEqual(await ids({ v: Long.fromString('9007199254740992') }), [7]);
      assert.deepEqual(await ids({ v: { $lt: 0 } }), [8]);
      assert.deepEqual(await ids({ v: { $in: [Decimal128.fromString('5.5'), -1] } }), [5]);
      // What comes back keeps its BSON type.
      const back = await c.find({ v: 5 }, { sort: { _id: 1 }, promoteValues: false }).toArray();
      assert.deepEqual(back.map((d) => d.v._bsontype), ['Int32', 'Long', 'Double', 'Decimal128']);
    });

    it('$gt/$lt stay inside the operand type bracket', async () => {
      const { ids } = await load('brackets', [
        { _id: 1, v: 10 },
        { _id: 2, v: 'abc' },
        { _id: 3, v: new Date(1000) },
        { _id: 4, v: true },
        { _id: 5, v: null },
        { _id: 6, v: { x: 1 } },
        { _id: 7, v: new ObjectId('000000000000000000000001') },
        { _id: 8 },
        { _id: 9, v: new MinKey() },
        { _id: 10, v: new MaxKey() },
      ]);
      assert.deepEqual(await ids({ v: { $gt: 5 } }), [1]);
      assert.deepEqual(await ids({ v: { $gte: '' } }), [2]);
      assert.deepEqual(await ids({ v: { $lt: new Date(2000) } }), [3]);
      assert.deepEqual(await ids({ v: { $gte: false } }), [4]);
      assert.deepEqual(await ids({ v: { $gt: {} } }), [6]);
      assert.deepEqual(await ids({ v: { $lte: null } }), [5, 8]);
      assert.deepEqual(await ids({ v: { $gt: new MinKey() } }), [1, 2, 3, 4, 5, 6, 7, 8, 10]);
      assert.deepEqual(await ids({ v: { $lt: new MaxKey() } }), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
      assert.deepEqual(await ids({ v: { $ne: 10 } }), [2, 3, 4, 5, 6, 7, 8, 9, 10]);
    });

    it('null matches null and missing; $exists and $type tell them apart', async () => {
      const { ids } = await load('nulls', [{ _id: 1, a: null }, { _id: 2 }, { _id: 3, a: 0 }, { _id: 4, a: [null, 1] }, { _id: 5, a: [1] }, { _id: 6, a: { b: null } }]);
      assert.deepEqual(await ids({ a: null }), [1, 2, 4]);
      assert.deepEqual(await ids({ a: { $ne: null } }), [3, 5, 6]);
      assert.deepEqual(await ids({ a: { $exists: true } }), [1, 3, 4, 5, 6]);
      assert.deepEqual(await ids({ a: { $exists: false } }), [2]);
      assert.deepEqual(await ids({ a: { $type: 'null' } }), [1, 4]);
      // Arrays of scalars ({a: [null, 1]}, {a: [1]}) do not: see the test below.
      assert.deepEqual(await ids({ 'a.b': null }), [1, 2, 3, 6]);
      assert.deepEqual(await ids({ 'a.b': { $exists: true } }), [6]);
      assert.deepEqual(await ids({ a: { $in: [null, 0] } }), [1, 2, 3, 4]);
    });

    // mongod 8.0 (jstests/core/query/null_query_semantics.js at FCV 8.0): {'a.b': null} matches
    // an array only through a document element lacking b or holding null there; arrays of
    // scalars, empty arrays and arrays of arrays match {$ne: null} instead. (The fix of
    // SERVER-36681, which makes them match null, is FCV 9.0.) An index on 'a.b' gives the same answers.
    it("{'a.b': null} through arrays: only document elements count, with or without an index", async () => {
      const { c, ids } = await load('nullArrays', [
        { _id: 1, a: [1, 'x'] }, { _id: 2, a: [] }, { _id: 3, a: [[]] }, { _id: 4, a: [{ b: 1 }] }, { _id: 5, a: [{ b: 1 }, {}] },
        { _id: 6, a: [null, null] }, { _id: 7, a: [{ b: null }, { b: 3 }] }, { _id: 8, a: 4 }, { _id: 9 }, { _id: 10, a: { b: 'hi' } },
      ]);
      const check = async (): Promise<void> => {
        assert.deepEqual(await ids({ 'a.b': null }), [5, 7, 8, 9]);
        assert.deepEqual(await ids({ 'a.b': { $ne: null } }), [1, 2, 3, 4, 6, 10]);
        assert.deepEqual(await ids({ 'a.b': { $in: [null, 75] } }), [5, 7, 8, 9]);
        assert.deepEqual(await ids({ 'a.b': { $nin: [null, 75] } }), [1, 2, 3, 4, 6, 10]);
        assert.deepEqual(await ids({ $or: [{ 'a.b': null }, { 'a.b': 1 }] }), [4, 5, 7, 8, 9]);
        assert.deepEqual(await ids({ a: { $elemMatch: { b: null } } }), [3, 5, 7]);
        assert.deepEqual(await ids({ a: { $elemMatch: { $ne: null } } }), [1, 3, 4, 5, 7]);
      };
      await check();
      await c.createIndex({ 'a.b': 1 });
      await check();
      // Multikey on 'a', so excluding null cannot narrow a scan of 'a.b' (as mongod, no index).
      const explain = await c.find({ 'a.b': { $ne: null } }).explain();
      assert.equal(explain.queryPlanner.winningPlan.stage, 'COLLSCAN');
      await c.createIndex({ a: 1 });
      await check();
    });

    it('$type: names, numbers, "number" and lists', async () => {
      const { ids } = await load('types', [
        { _id: 1, v: new Int32(1) },
        { _id: 2, v: Long.fromNumber(1) },
        { _id: 3, v: new Double(1.5) },
        { _id: 4, v: Decimal128.fromString('1') },
        { _id: 5, v: 's' },
        { _id: 6, v: [1, 's'] },
        { _id: 7, v: new Binary(Buffer.from('x'), 4) },
        { _id: 8, v: new Timestamp({ t: 1, i: 1 }) },
        { _id: 9, v: new BSONRegExp('x', 'i') },
      ]);
      assert.deepEqual(await ids({ v: { $type: 'int' } }), [1, 6]);
      assert.deepEqual(await ids({ v: { $type: 16 } }), [1, 6]);
      assert.deepEqual(await ids({ v: { $type: 'long' } }), [2]);
      assert.deepEqual(await ids({ v: { $type: 'double' } }), [3]);
      assert.deepEqual(await ids({ v: { $type: 'decimal' } }), [4]);
      assert.deepEqual(await ids({ v: { $type: 'number' } }), [1, 2, 3, 4, 6]);
      assert.deepEqual(await ids({ v: { $type: 'string' } }), [5, 6]);
      assert.deepEqual(await ids({ v: { $type: 'array' } }), [6]);
      assert.deepEqual(await ids({ v: { $type: ['binData', 'timestamp'] } }), [7, 8]);
      assert.deepEqual(await ids({ v: { $type: 11 } }), [9]);
      await rejectsWith(db.collection('types').find({ v: { $type: 'nope' } }).toArray(), 2, 'BadValue', /Unknown type name alias: nope/);
      await rejectsWith(db.collection('types').find({ v: { $type: 100 } }).toArray(), 2, 'BadValue');
    });
  });

  describe('strings, arrays and logic', () => {
    it('$regex with options, regex literals, and $in with regexes', async () => {
      const { ids } = await load('strs', [
        { _id: 1, s: 'apple' },
        { _id: 2, s: 'Apricot' },
        { _id: 3, s: 'banana' },
        { _id: 4, s: 'line1\nappear' },
        { _id: 5, s: ['zed', 'Avocado'] },
        { _id: 6, s: 42 },
      ]);
      assert.deepEqual(await ids({ s: { $regex: '^a' } }), [1]);
      assert.deepEqual(await ids({ s: { $regex: '^a', $options: 'i' } }), [1, 2, 5]);
      assert.deepEqual(await ids({ s: /^a/i }), [1, 2, 5]);
      assert.deepEqual(await ids({ s: { $regex: '^app', $options: 'm' } }), [1, 4]);
      assert.deepEqual(await ids({ s: { $regex: 'a p p l e', $options: 'x' } }), [1]);
      assert.deepEqual(await ids({ s: { $regex: 'line1.appear', $options: 's' } }), [4]);
      assert.deepEqual(await ids({ s: new BSONRegExp('NANA', 'i') }), [3]);
      assert.deepEqual(await ids({ s: { $in: [/^b/, 'zed', 42] } }), [3, 5, 6]);
      assert.deepEqual(await ids({ s: { $nin: [/a/] } }), [2, 6]);
      assert.deepEqual(await ids({ s: { $not: /^a/i } }), [3, 4, 6]);
      await rejectsWith(db.collection('strs').find({ s: { $regex: '(' } }).toArray(), 51091, 'Location51091', /Regular expression is invalid/);
      await rejectsWith(db.collection('strs').find({ s: { $regex: 'a', $options: 'q' } }).toArray(), 51108, 'Location51108', /invalid flag in regex options: q/);
    });

    it('$all, $size, $elemMatch (value and document forms)', async () => {
      const { ids } = await load('arrs', [
        { _id: 1, a: [1, 2, 3], d: [{ k: 'x', n: 1 }, { k: 'y', n: 5 }] },
        { _id: 2, a: [2, 3], d: [{ k: 'x', n: 5 }] },
        { _id: 3, a: 2, d: { k: 'x', n: 5 } },
        { _id: 4, a: [], d: [] },
        { _id: 5, a: [[2, 3]], d: [{ k: 'y', n: 1 }, { k: 'x', n: 9 }] },
      ]);
      assert.deepEqual(await ids({ a: { $all: [2, 3] } }), [1, 2]);
      assert.deepEqual(await ids({ a: { $all: [2] } }), [1, 2, 3]);
      assert.deepEqual(await ids({ a: { $all: [[2, 3]] } }), [2, 5]);
      assert.deepEqual(await ids({ a: { $all: [] } }), []);
      assert.deepEqual(await ids({ a: { $size: 2 } }), [2]);
      assert.deepEqual(await ids({ a: { $size: 0 } }), [4]);
      assert.deepEqual(await ids({ a: { $elemMatch: { $gt: 2, $lt: 4 } } }), [1, 2]);
      assert.deepEqual(await ids({ d: { $elemMatch: { k: 'x', n: { $gt: 3 } } } }), [2, 5]);
      // Without $elemMatch each condition may be met by a different element.
      assert.deepEqual(await ids({ 'd.k': 'x', 'd.n': 1 }), [1, 5]);
      assert.deepEqual(await ids({ d: { $elemMatch: { k: 'x', n: 1 } } }), [1]);
      assert.deepEqual(await ids({ a: { $all: [{ $elemMatch: { $gt: 2 } }] } }), [1, 2]);
      await rejectsWith(db.collection('arrs').find({ a: { $size: 1.5 } }).toArray(), 2, 'BadValue');
      await rejectsWith(db.collection('arrs').find({ a: { $elemMatch: 1 } }).toArray(), 2, 'BadValue', /\$elemMatch needs an Object/);
      await rejectsWith(db.collection('arrs').find({ a: { $all: 1 } }).toArray(), 2, 'BadValue', /\$all needs an array/);
    });

    it('$mod, $not, $nor, $and, $or', async () => {
      const { ids } = await load('logic', [
        { _id: 1, n: 1 },
        { _id: 2, n: 4 },
        { _id: 3, n: -5 },
        { _id: 4, n: 7.9 },
        { _id: 5, n: 'x' },
        { _id: 6 },
      ]);
      assert.deepEqual(await ids({ n: { $mod: [4, 0] } }), [2]);
      assert.deepEqual(await ids({ n: { $mod: [4, -1] } }), [3]);
      assert.deepEqual(await ids({ n: { $mod: [2, 1] } }), [1, 4]);
      assert.deepEqual(await ids({ n: { $not: { $gt: 2 } } }), [1, 3, 5, 6]);
      assert.deepEqual(await ids({ $nor: [{ n: 1 }, { n: { $type: 'string' } }] }), [2, 3, 4, 6]);
      assert.deepEqual(await ids({ $or: [{ n: 1 }, { n: { $lt: 0 } }] }), [1, 3]);
      assert.deepEqual(await ids({ $and: [{ n: { $gt: 0 } }, { n: { $lt: 5 } }] }), [1, 2]);
      await rejectsWith(db.collection('logic').find({ n: { $mod: [0, 1] } }).toArray(), 2, 'BadValue', /divisor cannot be 0/);
      await rejectsWith(db.collection('logic').find({ n: { $mod: [1] } }).toArray(), 2, 'BadValue');
      await rejectsWith(db.collection('logic').find({ $or: [] }).toArray(), 2, 'BadValue', /nonempty array/);
      await rejectsWith(db.collection('logic').find({ n: { $not: 5 } }).toArray(), 2, 'BadValue', /\$not needs a regex or a document/);
      await rejectsWith(db.collection('logic').find({ n: { $bogus: 1 } }).toArray(), 2, 'BadValue', /unknown operator: \$bogus/);
      await rejectsWith(db.collection('logic').find({ $bogus: 1 }).toArray(), 2, 'BadValue', /unknown top level operator: \$bogus/);
    });

    it('dotted paths: numeric components and implicit array traversal', async () => {
      const { ids } = await load('paths', [
        { _id: 1, a: [{ b: 1 }, { b: 2 }] },
        { _id: 2, a: [{ b: 2 }, { b: 1 }] },
        { _id: 3, a: { 0: { b: 1 } } },
        { _id: 4, a: [[{ b: 1 }]] },
        { _id: 5, a: { b: [1, 3] } },
        { _id: 6, a: [{ c: [{ b: 1 }] }] },
      ]);
      assert.deepEqual(await ids({ 'a.0.b': 1 }), [1, 3, 4]);
      assert.deepEqual(await ids({ 'a.1.b': 1 }), [2]);
      assert.deepEqual(await ids({ 'a.b': 1 }), [1, 2, 5]);
      assert.deepEqual(await ids({ 'a.b': { $gt: 2 } }), [5]);
      assert.deepEqual(await ids({ 'a.0.0.b': 1 }), [4]);
      assert.deepEqual(await ids({ 'a.c.b': 1 }), [6]);
      assert.deepEqual(await ids({ 'a.b.1': 3 }), [5]);
    });

    it('$comment is accepted and ignored, top level and as find option', async () => {
      const { c, ids } = await load('cmt', [{ _id: 1, a: 1 }, { _id: 2, a: 2 }]);
      assert.deepEqual(await ids({ a: 1, $comment: 'why' }), [1]);
      assert.deepEqual((await c.find({ a: 2 }, { comment: { reason: 'test' } }).toArray()).map((d) => d._id), [2]);
    });

    it('$jsonSchema in a find filter', async () => {
      const { ids } = await load('schema', [{ _id: 1, name: 'x', n: new Int32(2) }, { _id: 2, name: 5 }, { _id: 3 }]);
      assert.deepEqual(await ids({ $jsonSchema: { required: ['name'], properties: { name: { bsonType: 'string' } } } }), [1]);
      assert.deepEqual(await ids({ $jsonSchema: { properties: { n: { bsonType: 'int' } } } }), [1, 2, 3]);
    });
  });

  describe('sort', () => {
    it('across types follows the BSON order; missing sorts with null', async () => {
      const c = db.collection<Any>('sortTypes');
      await c.insertMany([
        { _id: 'maxkey', v: new MaxKey() },
        { _id: 'regex', v: new BSONRegExp('a') },
        { _id: 'ts', v: new Timestamp({ t: 1, i: 0 }) },
        { _id: 'date', v: new Date(0) },
        { _id: 'bool', v: false },
        { _id: 'oid', v: new ObjectId('000000000000000000000001') },
        { _id: 'bin', v: new Binary(Buffer.from('a')) },
        { _id: 'obj', v: { a: 1 } },
        { _id: 'str', v: 'a' },
        { _id: 'num', v: 1 },
        { _id: 'null', v: null },
        { _id: 'minkey', v: new MinKey() },
      ]);
      await c.insertOne({ _id: 'missing' });
      const order = (await c.find().sort({ v: 1, _id: 1 }).toArray()).map((d) => d._id);
      assert.deepEqual(order, ['minkey', 'missing', 'null', 'num', 'str', 'obj', 'bin', 'oid', 'bool', 'date', 'ts', 'regex', 'maxkey']);
      const reversed = (await c.find().sort({ v: -1, _id: -1 }).toArray()).map((d) => d._id);
      assert.deepEqual(reversed, [...order].reverse());
    });

    it('arrays sort by their smallest element ascending and largest descending', async () => {
      const c = db.collection<Any>('sortArrays');
      await c.insertMany([{ _id: 1, a: [3, 10] }, { _id: 2, a: 5 }, { _id: 3, a: [1, 4] }, { _id: 4, a: [] }, { _id: 5 }]);
      assert.deepEqual((await c.find().sort({ a: 1, _id: 1 }).toArray()).map((d) => d._id), [4, 5, 3, 1, 2]);
      assert.deepEqual((await c.find().sort({ a: -1, _id: 1 }).toArray()).map((d) => d._id), [1, 2, 3, 5, 4]);
    });

    it('numbers of all types sort by value; sort on a dotted path', async () => {
      const c = db.collection<Any>('sortNums');
      await c.insertMany([
        { _id: 1, x: { n: Decimal128.fromString('2.5') } },
        { _id: 2, x: { n: Long.fromNumber(2) } },
        { _id: 3, x: { n: new Int32(3) } },
        { _id: 4, x: { n: new Double(-1) } },
      ]);
      assert.deepEqual((await c.find().sort({ 'x.n': 1 }).toArray()).map((d) => d._id), [4, 2, 1, 3]);
      await rejectsWith(db.command({ find: 'sortNums', sort: { a: 2 } }), 15975, 'Location15975', /\$sort key ordering must be 1/);
    });
  });

  describe('projection', () => {
    let c: Collection<Any>;
    before(async () => {
      c = db.collection<Any>('proj');
      await c.insertMany([
        { _id: 1, name: 'a', arr: [1, 2, 3, 4, 5], docs: [{ k: 1, v: 'x' }, { k: 2, v: 'y' }, { k: 3, v: 'z' }], sub: { p: 1, q: 2 } },
        { _id: 2, name: 'b', arr: [9], docs: [], sub: { p: 3 } },
      ]);
    });

    it('inclusion, exclusion, _id, dotted fields', async () => {
      assert.deepEqual(await c.findOne({ _id: 1 }, { projection: { name: 1 } }), { _id: 1, name: 'a' });
      assert.deepEqual(await c.findOne({ _id: 1 }, { projection: { name: 1, _id: 0 } }), { name: 'a' });
      assert.deepEqual(await c.findOne({ _id: 1 }, { projection: { 'sub.q': 1, _id: 0 } }), { sub: { q: 2 } });
      assert.deepEqual(await c.findOne({ _id: 2 }, { projection: { arr: 0, docs: 0, 'sub.p': 0 } }), { _id: 2, name: 'b', sub: {} });
      assert.deepEqual(await c.findOne({ _id: 1 }, { projection: { 'docs.k': 1, _id: 0 } }), { docs: [{ k: 1 }, { k: 2 }, { k: 3 }] });
    });

    it('$slice: count, negative count, [skip, limit]', async () => {
      assert.deepEqual((await c.findOne({ _id: 1 }, { projection: { arr: { $slice: 2 } } }))?.arr, [1, 2]);
      assert.deepEqual((await c.findOne({ _id: 1 }, { projection: { arr: { $slice: -2 } } }))?.arr, [4, 5]);
      assert.deepEqual((await c.findOne({ _id: 1 }, { projection: { arr: { $slice: [1, 2] } } }))?.arr, [2, 3]);
      assert.deepEqual((await c.findOne({ _id: 1 }, { projection: { arr: { $slice: [-2, 10] } } }))?.arr, [4, 5]);
      // $slice alone keeps every other field, as an exclusion projection does.
      const doc = await c.findOne({ _id: 2 }, { projection: { arr: { $slice: 1 } } });
      assert.deepEqual(Object.keys(doc!), ['_id', 'name', 'arr', 'docs', 'sub']);
    });

    it('$elemMatch and positional a.$', async () => {
      assert.deepEqual(await c.findOne({ _id: 1 }, { projection: { docs: { $elemMatch: { k: { $gte: 2 } } } } }), { _id: 1, docs: [{ k: 2, v: 'y' }] });
      assert.deepEqual(await c.findOne({ _id: 2 }, { projection: { docs: { $elemMatch: { k: 1 } } } }), { _id: 2 });
      assert.deepEqual(await c.findOne({ 'docs.k': 3 }, { projection: { 'docs.$': 1 } }), { _id: 1, docs: [{ k: 3, v: 'z' }] });
      assert.deepEqual(await c.findOne({ arr: { $gt: 3 } }, { projection: { 'arr.$': 1, _id: 0 } }), { arr: [4] });
      await rejectsWith(c.findOne({ name: 'a' }, { projection: { 'arr.$': 1 } }), 51246, 'Location51246');
    });

    it('mixing inclusion and exclusion fails with 31254 / 31253', async () => {
      await rejectsWith(c.findOne({}, { projection: { name: 1, arr: 0 } }), 31254, 'Location31254', /Cannot do exclusion on field arr in inclusion projection/);
      await rejectsWith(c.findOne({}, { projection: { arr: 0, name: 1 } }), 31253, 'Location31253', /Cannot do inclusion on field name in exclusion projection/);
    });
  });

  describe('cursors', () => {
    let c: Collection<Any>;
    before(async () => {
      c = db.collection<Any>('cur');
      await c.insertMany(Array.from({ length: 10 }, (_, i) => ({ _id: i })));
    });

    it('skip, limit, batchSize, singleBatch', async () => {
      assert.deepEqual((await c.find().sort({ _id: 1 }).skip(3).limit(4).toArray()).map((d) => d._id), [3, 4, 5, 6]);
      assert.deepEqual((await c.find().sort({ _id: -1 }).skip(8).toArray()).map((d) => d._id), [1, 0]);
      const r = await db.command({ find: 'cur', sort: { _id: 1 }, batchSize: 3 });
      assert.deepEqual(r.cursor.firstBatch.map((d: Document) => d._id), [0, 1, 2]);
      assert.notEqual(Number(r.cursor.id), 0);
      assert.equal(r.cursor.ns, `${db.databaseName}.cur`);
      const more = await db.command({ getMore: r.cursor.id, collection: 'cur', batchSize: 4 });
      assert.deepEqual(more.cursor.nextBatch.map((d: Document) => d._id), [3, 4, 5, 6]);
      const rest = await db.command({ getMore: r.cursor.id, collection: 'cur' });
      assert.deepEqual(rest.cursor.nextBatch.map((d: Document) => d._id), [7, 8, 9]);
      assert.equal(Number(rest.cursor.id), 0);
      const single = await db.command({ find: 'cur', batchSize: 3, singleBatch: true });
      assert.equal(single.cursor.firstBatch.length, 3);
      assert.equal(Number(single.cursor.id), 0);
      const limited = await db.command({ find: 'cur', limit: 2, batchSize: 5 });
      assert.equal(limited.cursor.firstBatch.length, 2);
      assert.equal(Number(limited.cursor.id), 0);
      await rejectsWith(db.command({ find: 'cur', limit: -1 }), 51024, 'Location51024');
      await rejectsWith(db.command({ find: 'cur', skip: 'x' }), 14, 'TypeMismatch');
    });

    it('batchSize 0 opens a cursor with an empty first batch', async () => {
      const zero = await db.command({ find: 'cur', batchSize: 0 });
      await db.command({ killCursors: 'cur', cursors: [zero.cursor.id] }).catch(() => undefined);
      assert.equal(zero.cursor.firstBatch.length, 0);
      assert.notEqual(Number(zero.cursor.id), 0);
    });

    it('getMore after killCursors fails with CursorNotFound (43)', async () => {
      const r = await db.command({ find: 'cur', batchSize: 2 });
      const id = r.cursor.id;
      const killed = await db.command({ killCursors: 'cur', cursors: [id, Long.fromNumber(12345)] });
      assert.deepEqual(killed.cursorsKilled.map(String), [String(id)]);
      assert.deepEqual(killed.cursorsNotFound.map(String), ['12345']);
      assert.deepEqual(killed.cursorsAlive, []);
      await rejectsWith(db.command({ getMore: id, collection: 'cur' }), 43, 'CursorNotFound', /cursor id \d+ not found/);
    });

    it('a cursor keeps its snapshot across getMore', async () => {
      const r = await db.command({ find: 'cur', sort: { _id: 1 }, batchSize: 5 });
      await c.deleteMany({ _id: { $gte: 5 } });
      await c.insertOne({ _id: 100 });
      const more = await db.command({ getMore: r.cursor.id, collection: 'cur' });
      assert.deepEqual(more.cursor.nextBatch.map((d: Document) => d._id), [5, 6, 7, 8, 9]);
      assert.deepEqual((await c.find().toArray()).map((d) => d._id), [0, 1, 2, 3, 4, 100]);
    });
  });
});
