/**
 * History growth: old versions are kept while a snapshot, an open transaction or the history
 * window needs them, and dropped after. One document updated 200,000 times must not make memory
 * grow without bound. Time moves with a ManualClock so the window passes deterministically.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MongoClient, type AnyBulkWriteOperation } from 'mongodb';
import { Dossier } from '../../src/index.js';
import { ManualClock } from '../../src/platform/index.js';

const UPDATES = 200_000;
const BATCH = 1000;
const WINDOW_SECONDS = 5;

describe('version history stays bounded', () => {
  let clock: ManualClock;
  let dossier: Dossier;
  let client: MongoClient;
  before(async () => {
    clock = new ManualClock(Date.now());
    // A small oplog: it is capped, and in memory its cap would otherwise dominate what this measures.
    dossier = await Dossier.create({ clock, oplogSizeMB: 4, setParameter: { minSnapshotHistoryWindowInSeconds: WINDOW_SECONDS } });
    client = await MongoClient.connect(dossier.uri);
  });
  after(async () => {
    await client.close();
    await dossier.stop();
  });

  function chainLength(): number {
    const coll = dossier.instance.getCollection('hist', 'hot')!;
    let longest = 0;
    for (const [, chain] of coll.records.entries()) longest = Math.max(longest, chain.versions.length);
    return longest;
  }

  it(`one document updated ${UPDATES} times keeps at most the window's versions`, { timeout: 300_000 }, async () => {
    const hot = client.db('hist').collection<{ _id: number; n: number; pad: string }>('hot');
    await hot.insertOne({ _id: 1, n: 0, pad: 'x'.repeat(200) });
    const ops: AnyBulkWriteOperation<{ _id: number; n: number; pad: string }>[] = Array.from({ length: BATCH }, () => ({ updateOne: { filter: { _id: 1 }, update: { $inc: { n: 1 } } } }));
    const heapAt: number[] = [];
    for (let done = 0; done < UPDATES; done += BATCH) {
      await hot.bulkWrite(ops, { ordered: true });
      clock.advance(1000);
      if (done % (UPDATES / 4) === 0) {
        global.gc?.();
        heapAt.push(process.memoryUsage().heapUsed);
      }
      // One second of updates per batch: the window holds about WINDOW_SECONDS batches.
      assert.ok(chainLength() <= (WINDOW_SECONDS + 2) * BATCH, `chain grew to ${chainLength()}`);
    }
    assert.equal((await hot.findOne({ _id: 1 }))?.n, UPDATES);
    clock.advance((WINDOW_SECONDS + 2) * 1000);
    assert.ok(chainLength() <= 1, `after the window, ${chainLength()} versions remain`);
    // From the first quarter on, the version chain, the indexes and the oplog are all at their bounds.
    const growth = heapAt[heapAt.length - 1]! - heapAt[1]!;
    if (global.gc) assert.ok(growth < 32e6, `heap grew by ${(growth / 1e6).toFixed(0)} MB over 100,000 updates`);
    // eslint-disable-next-line no-console
    console.log(`# history: heap at quarters ${heapAt.map((b) => `${(b / 1e6).toFixed(0)} MB`).join(', ')}`);
  });

  it('an open snapshot transaction holds history; ending it releases it', async () => {
    const c = client.db('hist').collection<{ _id: number; v: number }>('held');
    await c.insertOne({ _id: 1, v: 0 });
    const session = client.startSession();
    try {
      session.startTransaction({ readConcern: { level: 'snapshot' } });
      assert.equal((await c.findOne({ _id: 1 }, { session }))?.v, 0);
      for (let i = 1; i <= 50; i++) await c.updateOne({ _id: 1 }, { $set: { v: i } });
      clock.advance((WINDOW_SECONDS + 2) * 1000);
      assert.equal((await c.findOne({ _id: 1 }, { session }))?.v, 0, 'the snapshot still reads its version');
      const coll = dossier.instance.getCollection('hist', 'held')!;
      const held = [...coll.records.entries()][0]![1].versions.length;
      assert.ok(held >= 2, `history kept for the open snapshot (${held})`);
      await session.commitTransaction();
      clock.advance(2000);
      assert.equal([...coll.records.entries()][0]![1].versions.length, 1);
    } finally {
      await session.endSession();
    }
  });
});
