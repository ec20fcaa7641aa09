/** The 8.0 bulkWrite command, through the driver's client.bulkWrite and raw for retries. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startDossier, uniqueDbName, type Harness } from '../helpers/dossier.js';
import { RawCommander } from '../helpers/raw-client.js';
import { Long, UUID } from '../../src/bson/index.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDoc = any;
const num = (v: unknown): number => Number((v as { valueOf(): unknown })?.valueOf?.() ?? v);

describe('bulkWrite (client bulk write)', () => {
  let h: Harness;
  before(async () => {
    h = await startDossier();
  });
  after(async () => {
    await h.stop();
  });

  it('runs inserts, updates, upserts and deletes across namespaces with verbose results', async () => {
    const db = uniqueDbName('bw');
    const r = await h.client.bulkWrite(
      [
        { name: 'insertOne', namespace: `${db}.a`, document: { _id: 1, n: 1 } },
        { name: 'updateOne', namespace: `${db}.a`, filter: { _id: 1 }, update: { $inc: { n: 1 } } },
        { name: 'updateOne', namespace: `${db}.b`, filter: { _id: 7 }, update: { $set: { v: 1 } }, upsert: true },
        { name: 'insertOne', namespace: `${db}.b`, document: { _id: 8 } },
        { name: 'deleteMany', namespace: `${db}.b`, filter: { _id: { $gte: 8 } } },
      ] as never,
      { verboseResults: true },
    );
    assert.equal(r.insertedCount, 2);
    assert.equal(r.matchedCount, 1);
    assert.equal(r.modifiedCount, 1);
    assert.equal(r.upsertedCount, 1);
    assert.equal(r.deletedCount, 1);
    // As mongod: the upsert's per-op n is 1 (the spec's client-bulkWrite-results expects matchedCount 1 there).
    assert.deepEqual(r.updateResults?.get(2), { matchedCount: 1, modifiedCount: 0, upsertedId: 7, didUpsert: true });
    assert.equal((await h.client.db(db).collection<AnyDoc>('a').findOne({ _id: 1 }))?.n, 2);
    assert.deepEqual(await h.client.db(db).collection('b').find().toArray(), [{ _id: 7, v: 1 }]);
  });

  it('an ordered bulk write stops at the first error; an unordered one goes on', async () => {
    const db = uniqueDbName('bw');
    const ops = (id: number) => [
      { name: 'insertOne', namespace: `${db}.c`, document: { _id: 1 } },
      { name: 'insertOne', namespace: `${db}.c`, document: { _id: 1 } },
      { name: 'insertOne', namespace: `${db}.c`, document: { _id: id } },
    ];
    await assert.rejects(h.client.bulkWrite(ops(2) as never, { ordered: true }), (e: AnyDoc) => e.writeErrors?.get(1)?.code === 11000);
    assert.equal((await h.client.db(db).collection('c').find({ _id: 2 as never }).toArray()).length, 0);
    await h.client.db(db).collection('c').deleteMany({});
    await assert.rejects(h.client.bulkWrite(ops(3) as never, { ordered: false }));
    assert.equal((await h.client.db(db).collection('c').find({ _id: 3 as never }).toArray()).length, 1);
  });

  it('is a retryable write: a retried op runs once', async () => {
    const db = uniqueDbName('bw');
    const r = await RawCommander.open(h.dossier.port);
    try {
      await h.client.db(db).collection<AnyDoc>('c').insertOne({ _id: 1, n: 0 });
      const cmd = { bulkWrite: 1, ops: [{ update: 0, filter: { _id: 1 }, updateMods: { $inc: { n: 1 } } }], nsInfo: [{ ns: `${db}.c` }], lsid: { id: new UUID() }, txnNumber: Long.fromNumber(1) };
      const a: AnyDoc = await r.run('admin', cmd);
      const b: AnyDoc = await r.run('admin', cmd);
      assert.equal(num(a.nModified), 1);
      assert.equal(num(b.nModified), 1);
      assert.equal((await h.client.db(db).collection<AnyDoc>('c').findOne({ _id: 1 }))?.n, 1);
    } finally {
      r.close();
    }
  });
});
