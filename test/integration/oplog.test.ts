/**
 * The oplog (local.oplog.rs) through the official driver: one entry per committed write, in
 * strictly increasing timestamp order, with mongod's field names and BSON types.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type Db, type Document } from 'mongodb';
import { startDossier, uniqueDbName, type Harness } from '../helpers/dossier.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

describe('the oplog', () => {
  let h: Harness;
  let db: Db;
  before(async () => {
    h = await startDossier();
    db = h.client.db(uniqueDbName('oplog'));
  });
  after(async () => {
    await h.stop();
  });

  const oplog = () => h.client.db('local').collection<Any>('oplog.rs');
  /** Matching entries in oplog order, BSON types kept. */
  async function entries(filter: Document = {}): Promise<Document[]> {
    return oplog().find(filter, { promoteValues: false, promoteLongs: false, sort: { $natural: 1 } }).toArray();
  }
  const tsKey = (ts: { high: number; low: number }): bigint => (BigInt(ts.high >>> 0) << 32n) | BigInt(ts.low >>> 0);

  it('starts with the "initiating set" no-op', async () => {
    const [first] = await entries();
    assert.equal(first!.op, 'n');
    assert.equal(first!.ns, '');
    assert.deepEqual(first!.o, { msg: 'initiating set' });
  });

  it('an insert, an update and a delete append i, u and d entries with every field typed as mongod', async () => {
    const ns = `${db.databaseName}.crud`;
    const c = db.collection<Any>('crud');
    await c.insertOne({ _id: 1, a: 1 });
    await c.updateOne({ _id: 1 }, { $set: { a: 2 } });
    await c.deleteOne({ _id: 1 });
    const [ins, upd, del] = await entries({ ns });
    assert.equal(ins!.op, 'i');
    assert.equal(ins!.ns, ns);
    assert.equal(ins!.o._id.valueOf(), 1);
    assert.equal(ins!.o.a.valueOf(), 1);
    assert.equal(ins!.o2._id.valueOf(), 1);
    assert.equal(ins!.ts._bsontype, 'Timestamp');
    assert.equal(ins!.t._bsontype, 'Long');
    assert.equal(ins!.t.toNumber(), 1);
    assert.ok(ins!.wall instanceof Date);
    assert.equal(ins!.ui._bsontype, 'Binary');
    assert.equal(ins!.ui.sub_type, 4);
    assert.equal(upd!.op, 'u');
    assert.equal(upd!.o2._id.valueOf(), 1);
    assert.equal(upd!.o.a.valueOf(), 2);
    assert.equal(del!.op, 'd');
    assert.deepEqual(Object.keys(del!.o), ['_id']);
    assert.equal(del!.o._id.valueOf(), 1);
    assert.equal(del!.o2, undefined);
    // The collection's UUID is the one listCollections reports.
    const [info] = (await db.listCollections({ name: 'crud' }).toArray()) as Document[];
    assert.equal(Buffer.from(ins!.ui.buffer).toString('hex'), Buffer.from(info!.info.uuid.buffer).toString('hex'));
    assert.equal(tsKey(ins!.ts) < tsKey(upd!.ts) && tsKey(upd!.ts) < tsKey(del!.ts), true);
  });

  it('each document of insertMany and each one updateMany changes gets its own entry; a no-op write none', async () => {
    const ns = `${db.databaseName}.many`;
    const c = db.collection<Any>('many');
    await c.insertMany([{ _id: 1 }, { _id: 2 }, { _id: 3 }]);
    await c.updateMany({}, { $set: { x: 1 } });
    await c.updateMany({ _id: { $gt: 100 } }, { $set: { y: 1 } });
    await c.updateOne({ _id: 1 }, { $set: { x: 1 } });
    await c.deleteMany({ _id: { $lte: 2 } });
    const ops = (await entries({ ns })).map((e) => `${e.op}${e.o2?._id ?? e.o._id}`);
    assert.deepEqual(ops, ['i1', 'i2', 'i3', 'u1', 'u2', 'u3', 'd1', 'd2']);
  });

  it('every insert gets its own timestamp, and the write reply operationTime is the entry ts', async () => {
    const c = db.collection<Any>('ts');
    await c.insertMany(Array.from({ length: 20 }, (_, i) => ({ _id: i })));
    const reply = await db.command({ insert: 'ts', documents: [{ _id: 'last' }] });
    const inserts = await entries({ ns: `${db.databaseName}.ts` });
    assert.equal(inserts.length, 21);
    for (let i = 1; i < inserts.length; i++) assert.ok(tsKey(inserts[i - 1]!.ts) < tsKey(inserts[i]!.ts), `entry ${i} does not follow ${i - 1}`);
    const last = inserts[inserts.length - 1]!;
    assert.equal(last.o._id, 'last');
    assert.equal(tsKey(reply.operationTime), tsKey(last.ts));
  });

  it('timestamps strictly increase over the whole oplog (multi-document updates and deletes too)', async () => {
    const c = db.collection<Any>('multi');
    await c.insertMany([{ _id: 1 }, { _id: 2 }, { _id: 3 }]);
    await c.updateMany({}, { $set: { x: 1 } });
    await c.deleteMany({});
    const all = await entries();
    for (let i = 1; i < all.length; i++) assert.ok(tsKey(all[i - 1]!.ts) < tsKey(all[i]!.ts), `entry ${i} (${all[i]!.op} ${all[i]!.ns}) does not follow ${i - 1}`);
  });

  it('create, createIndexes, dropIndexes, renameCollection and drop are c entries on <db>.$cmd', async () => {
    const cmdNs = `${db.databaseName}.$cmd`;
    const start = (await entries()).length;
    await db.createCollection('cat');
    await db.collection('cat').createIndex({ a: 1 });
    await db.collection('cat').dropIndex('a_1');
    await db.renameCollection('cat', 'cat2');
    await db.collection('cat2').drop();
    const cs = (await entries()).slice(start).filter((e) => e.ns === cmdNs);
    assert.deepEqual(cs.map((e) => e.op), ['c', 'c', 'c', 'c', 'c']);
    assert.equal(cs[0]!.o.create, 'cat');
    assert.deepEqual(Object.keys(cs[0]!.o.idIndex.key), ['_id']);
    assert.equal(cs[1]!.o.createIndexes, 'cat');
    assert.equal(cs[1]!.o.name, 'a_1');
    assert.deepEqual(Object.keys(cs[1]!.o.key), ['a']);
    assert.deepEqual(cs[2]!.o, { dropIndexes: 'cat', index: 'a_1' });
    assert.equal(cs[3]!.o.renameCollection, `${db.databaseName}.cat`);
    assert.equal(cs[3]!.o.to, `${db.databaseName}.cat2`);
    assert.deepEqual(cs[4]!.o, { drop: 'cat2' });
    // All five share the collection's UUID.
    const uuids = new Set(cs.map((e) => Buffer.from(e.ui.buffer).toString('hex')));
    assert.equal(uuids.size, 1);
  });

  it('an implicit collection creation by insert logs the create before the insert', async () => {
    const coll = 'implicit';
    await db.collection<Any>(coll).insertOne({ _id: 1 });
    const related = (await entries()).filter((e) => e.ns === `${db.databaseName}.${coll}` || e.o?.create === coll);
    assert.deepEqual(related.map((e) => e.op), ['c', 'i']);
  });

  it('a failed write appends nothing', async () => {
    const c = db.collection<Any>('fail');
    await c.insertOne({ _id: 1 });
    const count = (await entries()).length;
    await assert.rejects(c.insertOne({ _id: 1 }), { code: 11000 });
    await assert.rejects(c.updateOne({ _id: 1 }, { $inc: { _id: 1 } }), { code: 66 });
    assert.equal((await entries()).length, count);
  });

  it('can be queried like any collection', async () => {
    const ns = `${db.databaseName}.crud`;
    const ids = await oplog().find({ ns, op: { $in: ['i', 'd'] } }, { projection: { _id: 0, op: 1 } }).toArray();
    assert.deepEqual(ids, [{ op: 'i' }, { op: 'd' }]);
    const newest = await oplog().find({}).sort({ $natural: -1 }).limit(1).toArray();
    assert.equal(newest.length, 1);
  });
});
