/**
 * Collation through the official driver: case- and accent-insensitive matching, numeric ordering,
 * collated indexes (used only for the same collation, as mongod's planner), case-insensitive
 * unique indexes, a collection's default collation, mongod's errors for bad collation documents,
 * and a collation surviving a durable restart.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Db, Document } from 'mongodb';
import { failsWith, startDossier, uniqueDbName, type Harness } from '../helpers/dossier.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- explain output of any shape
type Any = any;

const EN_STRENGTH_2 = {
  locale: 'en',
  caseLevel: false,
  caseFirst: 'off',
  strength: 2,
  numericOrdering: false,
  alternate: 'non-ignorable',
  maxVariable: 'punct',
  normalization: false,
  backwards: false,
  version: '57.1',
};

function ixscanOf(plan: Document): Document | undefined {
  let stage: Document | undefined = plan;
  while (stage && stage.stage !== 'IXSCAN') stage = stage.inputStage;
  return stage;
}

describe('collation', () => {
  let h: Harness;
  let db: Db;
  before(async () => {
    h = await startDossier();
  });
  after(async () => {
    await h.stop();
  });

  it('strength 2 matches case variants; the simple collation does not', async () => {
    db = h.client.db(uniqueDbName('coll'));
    const c = db.collection<Any>('words');
    await c.insertMany([{ _id: 1, w: 'apple' }, { _id: 2, w: 'Apple' }, { _id: 3, w: 'APPLE' }, { _id: 4, w: 'äpple' }, { _id: 5, w: 'pear' }]);
    const ci = await c.find({ w: 'apple' }).collation({ locale: 'en', strength: 2 }).sort({ _id: 1 }).toArray();
    assert.deepEqual(ci.map((d) => d._id), [1, 2, 3]);
    const base = await c.find({ w: 'apple' }).collation({ locale: 'en', strength: 1 }).sort({ _id: 1 }).toArray();
    assert.deepEqual(base.map((d) => d._id), [1, 2, 3, 4]);
    assert.equal(await c.countDocuments({ w: 'apple' }), 1);
    assert.equal(await c.countDocuments({ w: { $in: ['APPLE', 'PEAR'] } }, { collation: { locale: 'en', strength: 2 } }), 4);
    assert.deepEqual(await c.distinct('w', { w: { $ne: 'pear' } }, { collation: { locale: 'en', strength: 1 } }), ['apple']);
    const del = await c.deleteMany({ w: 'APPLE' }, { collation: { locale: 'en', strength: 2 } });
    assert.equal(del.deletedCount, 3);
  });

  it('numericOrdering sorts digit runs by value', async () => {
    const c = db.collection('files');
    await c.insertMany([{ f: 'file10' }, { f: 'file9' }, { f: 'file100' }, { f: 'file1' }]);
    const numeric = await c.find({}, { projection: { _id: 0 } }).sort({ f: 1 }).collation({ locale: 'en', numericOrdering: true }).toArray();
    assert.deepEqual(numeric.map((d) => d.f), ['file1', 'file9', 'file10', 'file100']);
    const binary = await c.find({}, { projection: { _id: 0 } }).sort({ f: 1 }).toArray();
    assert.deepEqual(binary.map((d) => d.f), ['file1', 'file10', 'file100', 'file9']);
    const agg = await c.aggregate([{ $sort: { f: -1 } }, { $limit: 1 }], { collation: { locale: 'en', numericOrdering: true } }).toArray();
    assert.equal(agg[0]!.f, 'file100');
  });

  it('aggregation compares, groups and takes $max by the collation', async () => {
    const c = db.collection('agg');
    await c.insertMany([{ k: 'a', v: 'x' }, { k: 'A', v: 'Y' }, { k: 'b', v: 'z' }]);
    const grouped = await c.aggregate([{ $group: { _id: '$k', n: { $sum: 1 }, top: { $max: '$v' } } }, { $sort: { _id: 1 } }], { collation: { locale: 'en', strength: 2 } }).toArray();
    assert.deepEqual(grouped, [{ _id: 'a', n: 2, top: 'Y' }, { _id: 'b', n: 1, top: 'z' }]);
    const eq = await c.aggregate([{ $project: { _id: 0, same: { $eq: ['$k', 'a'] }, set: { $setUnion: [['a', 'A'], ['b']] } } }], { collation: { locale: 'en', strength: 2 } }).toArray();
    assert.deepEqual(eq[1], { same: true, set: ['a', 'b'] });
  });

  it('$lookup joins by the collation', async () => {
    await db.collection<Any>('orders').insertMany([{ _id: 1, item: 'Apple' }, { _id: 2, item: 'kiwi' }]);
    await db.collection<Any>('stock').insertMany([{ _id: 'a', name: 'apple' }, { _id: 'k', name: 'KIWI' }]);
    const lookup = [{ $lookup: { from: 'stock', localField: 'item', foreignField: 'name', as: 's' } }, { $project: { n: { $size: '$s' } } }];
    assert.deepEqual(await db.collection('orders').aggregate(lookup, { collation: { locale: 'en', strength: 2 } }).toArray(), [{ _id: 1, n: 1 }, { _id: 2, n: 1 }]);
    assert.deepEqual(await db.collection('orders').aggregate(lookup).toArray(), [{ _id: 1, n: 0 }, { _id: 2, n: 0 }]);
  });

  it('a collated index serves queries with its collation only', async () => {
    const c = db.collection('indexed');
    await c.insertMany([{ s: 'Hello' }, { s: 'hello' }, { s: 'world' }, { n: 5 }]);
    await c.createIndex({ s: 1 }, { name: 's_en2', collation: { locale: 'en', strength: 2 } });
    const same: Any = await c.find({ s: 'HELLO' }).collation({ locale: 'en', strength: 2 }).explain();
    const ix = ixscanOf(same.queryPlanner.winningPlan);
    assert.equal(ix?.indexName, 's_en2');
    assert.deepEqual(ix?.collation, EN_STRENGTH_2);
    assert.equal(await c.countDocuments({ s: 'HELLO' }, { collation: { locale: 'en', strength: 2 } }), 2);
    const simple: Any = await c.find({ s: 'hello' }).explain();
    assert.equal(ixscanOf(simple.queryPlanner.winningPlan), undefined, 'a string predicate in another collation cannot use the index');
    assert.equal((await c.find({ s: 'hello' }).toArray()).length, 1);
    const other: Any = await c.find({ s: 'hello' }).collation({ locale: 'fr' }).explain();
    assert.equal(ixscanOf(other.queryPlanner.winningPlan), undefined);
    const sorted: Any = await c.find({}).sort({ s: 1 }).explain();
    assert.equal(sorted.queryPlanner.winningPlan.stage, 'SORT', 'keys in another collation do not give a simple sort');
    const listed = await c.listIndexes().toArray();
    assert.deepEqual(listed.find((i) => i.name === 's_en2')?.collation, EN_STRENGTH_2);
  });

  it('a unique index with strength 2 rejects case variants', async () => {
    const c = db.collection('users');
    await c.createIndex({ email: 1 }, { unique: true, collation: { locale: 'en', strength: 2 } });
    await c.insertOne({ email: 'Ann@Example.com' });
    const err = await failsWith(c.insertOne({ email: 'ann@example.COM' }), 11000);
    assert.match(err.message, /index: email_1 collation: \{ locale: "en", .*strength: 2.* dup key: \{ email: /);
    await c.insertOne({ email: 'bob@example.com' });
    assert.equal(await c.countDocuments({}), 2);
  });

  it('a collection default collation applies to queries, its _id index and new indexes', async () => {
    await db.createCollection('people', { collation: { locale: 'en', strength: 2 } });
    const c = db.collection<Any>('people');
    await c.insertMany([{ _id: 'Ann', city: 'Oslo' }, { _id: 'bob', city: 'OSLO' }]);
    await failsWith(c.insertOne({ _id: 'ann' }), 11000);
    assert.equal(await c.countDocuments({ city: 'oslo' }), 2);
    assert.equal(await c.countDocuments({ city: 'oslo' }, { collation: { locale: 'simple' } }), 0);
    assert.equal((await c.findOne({ _id: 'BOB' }))?.city, 'OSLO');
    await c.createIndex({ city: 1 });
    await c.createIndex({ city: -1 }, { collation: { locale: 'simple' } });
    const indexes = await c.listIndexes().toArray();
    assert.deepEqual(indexes.find((i) => i.name === '_id_')?.collation, EN_STRENGTH_2);
    assert.deepEqual(indexes.find((i) => i.name === 'city_1')?.collation, EN_STRENGTH_2);
    assert.equal(indexes.find((i) => i.name === 'city_-1')?.collation, undefined);
    const [info] = await db.listCollections({ name: 'people' }).toArray();
    assert.deepEqual((info as Any).options.collation, EN_STRENGTH_2);
    const up = await c.updateMany({ city: 'oslo' }, { $set: { seen: true } });
    assert.equal(up.modifiedCount, 2);
  });

  it('locale defaults show in the full form (fr_CA is backwards)', async () => {
    await db.createCollection('ca', { collation: { locale: 'fr_CA' } });
    const [info] = await db.listCollections({ name: 'ca' }).toArray();
    assert.deepEqual((info as Any).options.collation, { ...EN_STRENGTH_2, locale: 'fr_CA', strength: 3, backwards: true });
  });

  it('bad collation documents fail with mongod\'s codes', async () => {
    const c = db.collection<Any>('words');
    const run = (collation: Document) => c.find({}).collation(collation as Any).toArray();
    await failsWith(run({ locale: 'xx' }), 2, `Field 'locale' is invalid in: { locale: "xx" }`);
    await failsWith(run({ locale: 'en_XX' }), 2, `Field 'locale' is invalid in: { locale: "en_XX" }. Did you mean 'en'?`);
    await failsWith(run({ strength: 2 }), 4, 'Missing expected field "locale"');
    await failsWith(run({ locale: 'en', strength: 6 }), 9, "Field 'strength' must be an integer 1 through 5. Got: 6");
    await failsWith(run({ locale: 'en', caseFirst: 'middle' }), 9, "Field 'caseFirst' must be 'upper', 'lower', or 'off'. Got: middle");
    await failsWith(run({ locale: 'en', alternate: 'x' }), 9, "Field 'alternate' must be 'non-ignorable' or 'shifted'. Got: x");
    await failsWith(run({ locale: 'en', bogus: true }), 9, 'Collation spec contains unknown field. Collation spec: { locale: "en", bogus: true }');
    await failsWith(run({ locale: 'simple', strength: 1 }), 9, 'If locale=simple, no other fields should be present in: { locale: "simple", strength: 1 }');
    await failsWith(run({ locale: 'en', caseLevel: 'yes' }), 14, '"caseLevel" had the wrong type. Expected bool, found string');
    await failsWith(run({ locale: 'en', version: '1.0' }), 161);
    await failsWith(run({ locale: 'en', strength: 1, caseFirst: 'upper' }), 2);
    await failsWith(c.createIndex({ w: 1 }, { collation: { locale: 'nope' } as Any }), 2);
    await failsWith(db.createCollection('badcoll', { collation: { locale: 'en', strength: 0 } as Any }), 9);
  });
});

describe('collation across a durable restart', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dossier-collation-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps a collection default collation and a collated unique index', async () => {
    let h = await startDossier({ dbPath: dir });
    let db = h.client.db('durable');
    await db.createCollection('names', { collation: { locale: 'en', strength: 2 } });
    await db.collection('names').insertMany([{ n: 'Eve' }, { n: 'eve' }]);
    await db.collection('tags').createIndex({ t: 1 }, { unique: true, collation: { locale: 'en', strength: 1 } });
    await db.collection('tags').insertOne({ t: 'café' });
    await h.stop();

    h = await startDossier({ dbPath: dir });
    try {
      db = h.client.db('durable');
      const [info] = await db.listCollections({ name: 'names' }).toArray();
      assert.deepEqual((info as Any).options.collation, EN_STRENGTH_2);
      assert.equal(await db.collection('names').countDocuments({ n: 'EVE' }), 2);
      const idx = (await db.collection('tags').listIndexes().toArray()).find((i) => i.name === 't_1');
      assert.equal(idx?.collation?.strength, 1);
      await failsWith(db.collection('tags').insertOne({ t: 'CAFE' }), 11000);
    } finally {
      await h.stop();
    }
  });
});
