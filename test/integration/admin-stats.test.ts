/**
 * Catalog statistics and the count/distinct query commands through the real driver:
 * dbStats, collStats, listDatabases, count, distinct.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Int32, Long, type Db } from 'mongodb';
import { failsWith, startDossier, uniqueDbName, type Harness } from '../helpers/dossier.js';

let h: Harness;
let db: Db;
let dbName: string;


before(async () => {
  h = await startDossier();
  dbName = uniqueDbName('stats');
  db = h.client.db(dbName);
  await db.collection<{ _id: number } & Record<string, unknown>>('c').insertMany([
    { _id: 1, a: 1, tag: 'x' },
    { _id: 2, a: 1.0, tag: 'y' },
    { _id: 3, a: [2, [3]], tag: 'x' },
    { _id: 4, a: 'str', tag: 'x' },
    { _id: 5, b: { c: [{ d: 1 }, { d: 2 }, { e: 1 }] }, tag: 'z' },
    { _id: 6, a: null, tag: 'y' },
    { _id: 7, a: new Long(1), tag: 'y' },
  ]);
  await db.collection('d').insertOne({ z: 1 });
});
after(async () => {
  await h.stop();
});

describe('count', () => {
  it('counts all, matching, with skip and limit', async () => {
    assert.equal((await db.command({ count: 'c' })).n, 7);
    assert.equal((await db.command({ count: 'c', query: { tag: 'x' } })).n, 3);
    assert.equal((await db.command({ count: 'c', query: { tag: 'x' }, skip: 1 })).n, 2);
    assert.equal((await db.command({ count: 'c', limit: 2 })).n, 2);
    assert.equal((await db.command({ count: 'c', limit: -2 })).n, 2, 'a negative limit means the same');
    assert.equal((await db.command({ count: 'c', skip: 10 })).n, 0);
    assert.equal((await db.command({ count: 'nope' })).n, 0);
    assert.equal(await db.collection('c').estimatedDocumentCount(), 7);
  });

  it('uses a hint', async () => {
    assert.equal((await db.command({ count: 'c', query: { _id: { $gt: 3 } }, hint: '_id_' })).n, 4);
    assert.equal((await db.command({ count: 'c', hint: { _id: 1 } })).n, 7);
    await failsWith(db.command({ count: 'c', hint: 5 }), 9, 'Hint must be a string or an object');
  });

  it('rejects bad arguments as mongod', async () => {
    await failsWith(db.command({ count: 'c', skip: -1 }), 9, 'Expected a positive number in: skip: -1');
    await failsWith(db.command({ count: 'c', skip: 'x' }), 2, 'skip value is not a valid number');
    await failsWith(db.command({ count: 'c', limit: 'x' }), 2, 'limit value is not a valid number');
    await failsWith(db.command({ count: 'c', query: 5 }), 14);
    await failsWith(db.command({ count: 'c', bogus: 1 }), 40415, "BSON field 'count.bogus' is an unknown field.");
    await failsWith(db.command({ count: 'c', collation: { locale: 'fr', bogus: 1 } }), 9, 'Collation spec contains unknown field. Collation spec: { locale: "fr", bogus: 1 }');
    await failsWith(db.command({ count: 'c', query: { $bogus: 1 } }), 2);
  });
});

describe('distinct', () => {
  it('unwinds arrays one level, dedups by BSON equality and sorts', async () => {
    const r = await db.command({ distinct: 'c', key: 'a' }, { promoteValues: false });
    // 1, 1.0 and NumberLong(1) are one value; the first seen (int 1) is kept.
    assert.equal(r.values.length, 5);
    assert.equal(r.values[0], null);
    assert.ok(r.values[1] instanceof Int32 && r.values[1].value === 1);
    assert.ok(r.values[2] instanceof Int32 && r.values[2].value === 2);
    assert.equal(String(r.values[3]), 'str');
    assert.ok(Array.isArray(r.values[4]));
    assert.equal(r.values[4][0].value, 3);
  });

  it('follows dotted paths through arrays of documents', async () => {
    assert.deepEqual((await db.command({ distinct: 'c', key: 'b.c.d' })).values, [1, 2]);
    assert.deepEqual((await db.command({ distinct: 'c', key: 'b.c.1.d' })).values, [2]);
    // a.1 indexes the array, and the element found there ([3]) is a trailing array: unwound.
    assert.deepEqual((await db.command({ distinct: 'c', key: 'a.1' })).values, [3]);
  });

  it('applies the query', async () => {
    assert.deepEqual((await db.command({ distinct: 'c', key: 'tag', query: { a: 1 } })).values, ['x', 'y']);
    assert.deepEqual(await db.collection('c').distinct('tag'), ['x', 'y', 'z']);
    assert.deepEqual((await db.command({ distinct: 'nope', key: 'a' })).values, []);
  });

  it('rejects bad arguments', async () => {
    await failsWith(db.command({ distinct: 'c' }), 40414, "BSON field 'distinct.key' is missing but a required field");
    await failsWith(db.command({ distinct: 'c', key: 1 }), 14, "BSON field 'distinct.key' is the wrong type 'int', expected type 'string'");
    await failsWith(db.command({ distinct: 'c', key: 'a', query: 'x' }), 14);
    await failsWith(db.command({ distinct: 'c', key: 'a', bogus: 1 }), 40415);
  });
});

describe('dbStats', () => {
  it('counts collections, objects, indexes and sizes', async () => {
    const r = await db.command({ dbStats: 1 });
    assert.equal(r.db, dbName);
    assert.equal(r.collections, 2);
    assert.equal(r.views, 0);
    assert.equal(r.objects, 8);
    assert.equal(r.indexes, 2);
    assert.ok(r.dataSize > 0);
    assert.equal(r.storageSize, r.dataSize);
    assert.ok(r.indexSize > 0);
    assert.equal(r.totalSize, r.dataSize + r.indexSize);
    assert.equal(r.scaleFactor, 1);
    assert.ok(Math.abs(r.avgObjSize - r.dataSize / r.objects) < 1e-9);
  });

  it('scales sizes', async () => {
    const one = await db.command({ dbStats: 1 });
    const r = await db.command({ dbStats: 1, scale: 10 });
    assert.equal(r.scaleFactor, 10);
    assert.equal(r.dataSize, Math.floor(one.dataSize / 10));
    await failsWith(db.command({ dbStats: 1, scale: 0 }), 2);
    await failsWith(db.command({ dbStats: 1, scale: 'x' }), 14);
  });

  it('reports zeros for a database that does not exist', async () => {
    const r = await h.client.db(uniqueDbName('empty')).command({ dbStats: 1 });
    assert.equal(r.collections, 0);
    assert.equal(r.objects, 0);
    assert.equal(r.dataSize, 0);
  });

  it('grows with the data', async () => {
    const a = await db.command({ dbStats: 1 });
    await db.collection('d').insertOne({ big: 'x'.repeat(1000) });
    const b = await db.command({ dbStats: 1 });
    assert.ok(b.dataSize - a.dataSize > 1000);
    assert.equal(b.objects, a.objects + 1);
    await db.collection('d').deleteOne({ big: { $exists: true } });
  });
});

describe('collStats', () => {
  it('describes one collection', async () => {
    const r = await db.command({ collStats: 'c' });
    assert.equal(r.ns, `${dbName}.c`);
    assert.equal(r.count, 7);
    assert.ok(r.size > 0);
    assert.equal(r.avgObjSize, Math.floor(r.size / 7));
    assert.equal(r.nindexes, 1);
    assert.ok(r.indexSizes._id_ > 0);
    assert.equal(r.totalIndexSize, r.indexSizes._id_);
    assert.equal(r.capped, false);
    assert.equal(r.scaleFactor, 1);
  });

  it('fails with NamespaceNotFound for a missing collection', async () => {
    await failsWith(db.command({ collStats: 'nope' }), 26, `Collection [${dbName}.nope] not found.`);
  });
});

describe('listDatabases', () => {
  it('lists databases with sizes, and local with the oplog', async () => {
    const r = await h.client.db('admin').command({ listDatabases: 1 });
    const names = r.databases.map((d: { name: string }) => d.name);
    assert.ok(names.includes(dbName));
    assert.ok(names.includes('local'));
    assert.equal(names.includes('admin'), false, 'admin has no collections');
    const mine = r.databases.find((d: { name: string }) => d.name === dbName);
    assert.equal(mine.empty, false);
    assert.ok(mine.sizeOnDisk > 0);
    const total = r.databases.reduce((n: number, d: { sizeOnDisk: number }) => n + d.sizeOnDisk, 0);
    assert.equal(r.totalSize, total);
    assert.equal(r.totalSizeMb, Math.floor(total / (1024 * 1024)));
    const raw = await h.client.db('admin').command({ listDatabases: 1 }, { promoteLongs: false });
    assert.ok(raw.totalSize instanceof Long);
  });

  it('nameOnly and filter', async () => {
    const r = await h.client.db('admin').command({ listDatabases: 1, nameOnly: true });
    assert.ok(r.databases.every((d: object) => Object.keys(d).join() === 'name'));
    assert.equal('totalSize' in r, false);
    const f = await h.client.db('admin').command({ listDatabases: 1, filter: { name: dbName } });
    assert.deepEqual(f.databases.map((d: { name: string }) => d.name), [dbName]);
    const big = await h.client.db('admin').command({ listDatabases: 1, filter: { sizeOnDisk: { $gt: 1e12 } } });
    assert.deepEqual(big.databases, []);
    assert.equal(big.totalSize, 0);
    const list = await h.client.db('admin').admin().listDatabases();
    assert.ok(list.databases.some((d) => d.name === dbName));
  });

  it('rejects bad arguments and non-admin databases', async () => {
    await failsWith(h.client.db('admin').command({ listDatabases: 1, filter: 5 }), 14);
    await failsWith(h.client.db('admin').command({ listDatabases: 1, bogus: 1 }), 40415);
    await failsWith(h.client.db('test').command({ listDatabases: 1 }), 13);
  });
});
