/**
 * Durable storage through the official driver: data, indexes, catalog changes, retryable-write
 * records and the clock survive a restart; a torn journal tail is cut, corruption elsewhere stops
 * start-up with the file and offset; a full or failing disk refuses writes with a clear error,
 * keeps serving reads, and acknowledges nothing it did not write.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Long, MongoClient, MongoServerError, MongoWriteConcernError, Timestamp, UUID } from 'mongodb';
import { Dossier, type DossierOptions } from '../../src/index.js';
import { FaultInjectingDisk } from '../../src/platform/index.js';
import { RawCommander } from '../helpers/raw-client.js';
import { startDossier, type Harness } from '../helpers/dossier.js';
import { tsKeyOf } from '../../src/time/index.js';
import { Long as BsonLong, UUID as BsonUUID } from 'bson';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- test documents of any shape
type AnyDoc = any;
const num = (v: AnyDoc): number => Number(v?.valueOf?.() ?? v);

const dirs: string[] = [];
function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'dossier-durable-'));
  dirs.push(d);
  return d;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A Dossier on `dbPath` and a driver client: the project's test harness, with a data directory. */
function open(dbPath: string, extra: DossierOptions = {}): Promise<Harness> {
  return startDossier({ dbPath, ...extra });
}

function journalFiles(dbPath: string): string[] {
  return readdirSync(join(dbPath, 'journal'))
    .filter((n) => n.startsWith('oplog.'))
    .sort()
    .map((n) => join(dbPath, 'journal', n));
}

describe('durable storage: restart', () => {
  it('keeps documents, indexes, validators, renames and drops across a restart', async () => {
    const dir = dataDir();
    let s = await open(dir);
    const db = s.client.db('shop');
    await db.collection<AnyDoc>('items').createIndex({ sku: 1 }, { unique: true });
    await db.collection<AnyDoc>('items').insertMany([
      { _id: 1, sku: 'a', price: 1.0, qty: Long.fromNumber(3), at: new Timestamp({ t: 5, i: 1 }), id: new UUID() },
      { _id: 2, sku: 'b', price: 2.5 },
      { _id: 3, sku: 'c' },
    ]);
    await db.collection<AnyDoc>('items').updateOne({ _id: 2 }, { $inc: { price: 1 } });
    await db.collection<AnyDoc>('items').deleteOne({ _id: 3 });
    await db.createCollection('checked', { validator: { $jsonSchema: { required: ['name'] } } });
    await db.collection<AnyDoc>('old').insertOne({ _id: 'x' });
    await db.collection<AnyDoc>('old').rename('renamed');
    await db.collection<AnyDoc>('gone').insertOne({ _id: 1 });
    await db.collection<AnyDoc>('gone').drop();
    await db.command({ collMod: 'items', index: { name: 'sku_1', hidden: true } });
    const before = await db.collection<AnyDoc>('items').find().sort({ _id: 1 }).toArray();
    const opTimeBefore = (await db.command({ ping: 1 })).operationTime as Timestamp;
    await s.stop();

    s = await open(dir);
    const db2 = s.client.db('shop');
    assert.deepEqual(await db2.collection<AnyDoc>('items').find().sort({ _id: 1 }).toArray(), before);
    const raw = await db2.collection<AnyDoc>('items').findOne({ _id: 1 }, { promoteLongs: false, promoteValues: false });
    assert.ok(raw?.qty instanceof Long, 'int64 stays int64');
    await assert.rejects(db2.collection<AnyDoc>('items').insertOne({ sku: 'a' }), (e: MongoServerError) => e.code === 11000);
    const idx = (await db2.collection<AnyDoc>('items').indexes()).find((i) => i.name === 'sku_1');
    assert.equal(idx?.hidden, true);
    await assert.rejects(db2.collection<AnyDoc>('checked').insertOne({ other: 1 }), (e: MongoServerError) => e.code === 121);
    assert.deepEqual(await db2.collection<AnyDoc>('renamed').find().toArray(), [{ _id: 'x' }]);
    const names = (await db2.listCollections().toArray()).map((c) => c.name).sort();
    assert.deepEqual(names, ['checked', 'items', 'renamed']);
    const opTimeAfter = (await db2.command({ ping: 1 })).operationTime as Timestamp;
    assert.ok(opTimeAfter.gt(opTimeBefore), 'timestamps never go backwards across restarts');
    const oplogCount = await s.client.db('local').collection('oplog.rs').countDocuments({ ns: 'shop.items', op: 'i' });
    assert.equal(oplogCount, 3, 'the oplog survives the restart');
    const v = await db2.command({ validate: 'items' });
    assert.equal(v.valid, true);
    assert.equal(v.nrecords, 2);
    await s.stop();
  });

  it('answers a retried write after a restart without executing it again', async () => {
    const dir = dataDir();
    let s = await open(dir);
    await s.client.db('bank').collection<AnyDoc>('acct').insertOne({ _id: 1, balance: 100 });
    const lsid = { id: new BsonUUID() };
    const cmd = { update: 'acct', updates: [{ q: { _id: 1 }, u: { $inc: { balance: 10 } } }], lsid, txnNumber: BsonLong.fromNumber(7) };
    const txnLsid = { id: new BsonUUID() };
    let raw = await RawCommander.open(s.dossier.port);
    const first: AnyDoc = await raw.run('bank', cmd);
    assert.equal(num(first.nModified), 1);
    await raw.run('bank', { insert: 'acct', documents: [{ _id: 2, balance: 5 }], lsid: txnLsid, txnNumber: BsonLong.fromNumber(1), startTransaction: true, autocommit: false });
    const commit: AnyDoc = await raw.run('admin', { commitTransaction: 1, lsid: txnLsid, txnNumber: BsonLong.fromNumber(1), autocommit: false });
    assert.equal(num(commit.ok), 1);
    raw.close();
    await s.stop();

    s = await open(dir);
    raw = await RawCommander.open(s.dossier.port);
    try {
      const retry: AnyDoc = await raw.run('bank', cmd);
      assert.equal(num(retry.ok), 1);
      assert.equal(num(retry.n), 1);
      assert.equal(num(retry.nModified), 1);
      assert.equal((await s.client.db('bank').collection<AnyDoc>('acct').findOne({ _id: 1 }))?.balance, 110, 'the retry did not run again');
      const commitRetry: AnyDoc = await raw.run('admin', { commitTransaction: 1, lsid: txnLsid, txnNumber: BsonLong.fromNumber(1), autocommit: false });
      assert.equal(num(commitRetry.ok), 1, JSON.stringify(commitRetry));
      const older: AnyDoc = await raw.run('bank', { ...cmd, txnNumber: BsonLong.fromNumber(6) });
      assert.equal(older.codeName, 'TransactionTooOld');
    } finally {
      raw.close();
    }
    const rec = await s.client.db('config').collection<AnyDoc>('transactions').findOne({ txnNum: 7 });
    assert.ok(rec, 'config.transactions survives the restart');
    await s.stop();
  });

  it('a restart replays the journal when no checkpoint covers the writes', async () => {
    const dir = dataDir();
    let s = await open(dir);
    await s.client.db('j').collection<AnyDoc>('c').insertMany(Array.from({ length: 50 }, (_, i) => ({ _id: i, v: i })));
    // The final checkpoint at stop covers everything; remove it so only the journal remains.
    await s.stop();
    rmSync(join(dir, 'checkpoint'), { recursive: true, force: true });
    s = await open(dir);
    assert.equal(await s.client.db('j').collection<AnyDoc>('c').countDocuments(), 50);
    await s.stop();
  });
});

describe('durable storage: damaged journal', () => {
  it('cuts a torn tail at the last whole record and starts', async () => {
    const dir = dataDir();
    let s = await open(dir);
    await s.client.db('t').collection<AnyDoc>('c').insertMany([{ _id: 1 }, { _id: 2 }]);
    await s.stop();
    rmSync(join(dir, 'checkpoint'), { recursive: true, force: true });
    const last = journalFiles(dir).at(-1)!;
    const whole = readFileSync(last).length;
    // A crash in the middle of a write: a header that promises more bytes than arrived.
    const torn = Buffer.alloc(40, 7);
    torn.writeUInt32LE(1000, 0);
    appendFileSync(last, torn);
    s = await open(dir);
    assert.equal(await s.client.db('t').collection<AnyDoc>('c').countDocuments(), 2);
    assert.equal(readFileSync(last).length >= whole, true);
    await s.client.db('t').collection<AnyDoc>('c').insertOne({ _id: 3 });
    await s.stop();
    rmSync(join(dir, 'checkpoint'), { recursive: true, force: true });
    s = await open(dir);
    assert.equal(await s.client.db('t').collection<AnyDoc>('c').countDocuments(), 3, 'writes after the cut are readable after the next restart');
    await s.stop();
  });

  it('refuses to start on a corrupt record in the middle, naming the file and offset', async () => {
    const dir = dataDir();
    const s = await open(dir);
    for (let i = 0; i < 5; i++) await s.client.db('t').collection<AnyDoc>('c').insertOne({ _id: i, pad: 'x'.repeat(100) });
    await s.stop();
    rmSync(join(dir, 'checkpoint'), { recursive: true, force: true });
    const file = journalFiles(dir)[0]!;
    const bytes = readFileSync(file);
    // Flip a byte inside the second record's payload (records: 16-byte header + payload).
    const firstLen = bytes.readUInt32LE(0);
    const second = 16 + firstLen;
    bytes[second + 16 + 5] ^= 0xff;
    writeFileSync(file, bytes);
    await assert.rejects(Dossier.create({ dbPath: dir }), (e: Error) => {
      assert.match(e.message, new RegExp(`journal file ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is corrupt at offset ${second}: checksum mismatch`));
      return true;
    });
  });
});

describe('durable storage: disk faults', () => {
  it('ENOSPC: the write is not acknowledged, writes are refused while the disk is full, reads go on, nothing half-written stays', async () => {
    const dir = dataDir();
    const disk = new FaultInjectingDisk();
    let s = await open(dir, { disk });
    const coll = s.client.db('f').collection<AnyDoc>('c');
    await coll.insertOne({ _id: 1 });
    disk.persistent = { code: 'ENOSPC', partialBytes: 10 };
    const err = await coll.insertOne({ _id: 2 }).then(
      () => assert.fail('a write the journal could not take was acknowledged'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof MongoWriteConcernError || err instanceof MongoServerError, String(err));
    assert.equal((err as MongoServerError).code, 14031);
    assert.match((err as Error).message, /disk is full/);
    await assert.rejects(coll.insertOne({ _id: 3 }), (e: MongoServerError) => e.code === 14031);
    await assert.rejects(coll.updateOne({ _id: 1 }, { $set: { a: 1 } }), (e: MongoServerError) => e.code === 14031);
    assert.equal((await coll.findOne({ _id: 1 }))?._id, 1, 'reads still work');
    assert.equal((await s.client.db('admin').command({ ping: 1 })).ok, 1);
    // Space comes back: the journal writes what it holds and writes are taken again.
    disk.persistent = undefined;
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        await coll.insertOne({ _id: 4 });
        break;
      } catch (e) {
        if (Date.now() > deadline) throw e;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    await s.stop();
    rmSync(join(dir, 'checkpoint'), { recursive: true, force: true });
    s = await open(dir);
    const ids = (await s.client.db('f').collection<AnyDoc>('c').find().toArray()).map((d) => d._id);
    assert.ok(ids.includes(1) && ids.includes(4), `acknowledged writes present: ${ids.join(',')}`);
    assert.ok(!ids.includes(3), 'a refused write never happened');
    await s.stop();
  });

  it('EIO on fsync: the waiting write gets a clear error and the server stays up', async () => {
    const dir = dataDir();
    const disk = new FaultInjectingDisk();
    const s = await open(dir, { disk });
    const coll = s.client.db('f').collection<AnyDoc>('c');
    await coll.insertOne({ _id: 1 });
    disk.failNext({ code: 'EIO', on: 'sync' });
    const err = await coll.insertOne({ _id: 2 }).then(
      () => assert.fail('acknowledged a write whose fsync failed'),
      (e: unknown) => e,
    );
    assert.equal((err as MongoServerError).code, 96);
    assert.match((err as Error).message, /journal write failed/);
    assert.equal((await coll.findOne({ _id: 1 }))?._id, 1);
    await s.stop();
  });
});

describe('durable storage: group commit', () => {
  it('commits from many connections share flushes, and each is acknowledged only once durable', async () => {
    const dir = dataDir();
    const dossier = await Dossier.create({ dbPath: dir });
    const clients = await Promise.all(Array.from({ length: 16 }, () => MongoClient.connect(dossier.uri, { maxPoolSize: 1 })));
    try {
      const journal = dossier.instance.persistence!.journal;
      const before = { ...journal.stats };
      // The journal's durable timestamp when each insert was acknowledged (the server is in this process).
      const durableAtAck = new Map<number, number>();
      await Promise.all(
        clients.map(async (c, i) => {
          for (let k = 0; k < 20; k++) {
            await c.db('g').collection<AnyDoc>('c').insertOne({ _id: i * 100 + k }, { writeConcern: { w: 'majority' } });
            durableAtAck.set(i * 100 + k, journal.lastDurableTs);
          }
        }),
      );
      const acked = [...durableAtAck.keys()];
      const entries = await clients[0]!.db('local').collection<AnyDoc>('oplog.rs').find({ ns: 'g.c', op: 'i' }).toArray();
      for (const e of entries) {
        const ts = tsKeyOf(e.ts);
        assert.ok(ts <= durableAtAck.get(e.o._id)!, `insert ${e.o._id} was acknowledged before the journal held it`);
      }
      assert.equal(entries.length, 320);
      const records = journal.stats.records - before.records;
      const flushes = journal.stats.flushes - before.flushes;
      assert.equal(acked.length, 320);
      assert.ok(records >= 320, `one record per commit at least: ${records}`);
      assert.ok(flushes < records / 2, `commits share flushes: ${flushes} flushes for ${records} records`);
    } finally {
      await Promise.all(clients.map((c) => c.close()));
      await dossier.stop();
    }
  });

  it('a read with readConcern majority sees what the journal holds, and afterClusterTime waits for it', async () => {
    const dir = dataDir();
    const s = await open(dir);
    const coll = s.client.db('m').collection<AnyDoc>('c');
    const session = s.client.startSession({ causalConsistency: true });
    await coll.insertOne({ _id: 1 }, { session, writeConcern: { w: 1 } });
    const doc = await coll.findOne({ _id: 1 }, { session, readConcern: { level: 'majority' } });
    assert.deepEqual(doc, { _id: 1 });
    await session.endSession();
    await s.stop();
  });
});

describe('durable storage: the oplog', () => {
  it("follows mongod's size rule and serves old entries from the journal, before and after a restart", async () => {
    const dir = dataDir();
    let s = await open(dir);
    const stats = await s.client.db('local').command({ collStats: 'oplog.rs' });
    assert.ok(stats.maxSize >= 990 * 1024 * 1024 && stats.maxSize <= 50 * 1024 ** 3, `5% of the disk, 990 MB..50 GB: ${stats.maxSize}`);
    // Keep almost nothing in memory, so reads of older entries go to the journal files.
    s.dossier.instance.engine.oplogResidentBytesMax = 2000;
    const coll = s.client.db('o').collection<AnyDoc>('c');
    for (let i = 0; i < 60; i++) await coll.insertOne({ _id: i, pad: 'p'.repeat(100) });
    const read = async (): Promise<number[]> =>
      (await s.client.db('local').collection<AnyDoc>('oplog.rs').find({ ns: 'o.c', op: 'i' }).toArray()).map((e) => e.o._id as number);
    const onDisk = (): number => [...s.dossier.instance.engine.oplog.records.values()].filter((c) => c.versions[0]?.bytes === undefined).length;
    assert.ok(onDisk() >= 50, `old entries hold no bytes in memory: ${onDisk()}`);
    assert.deepEqual(await read(), Array.from({ length: 60 }, (_, i) => i));
    await s.stop();
    s = await open(dir);
    s.dossier.instance.engine.oplogResidentBytesMax = 2000;
    await s.client.db('o').collection<AnyDoc>('c').insertOne({ _id: 60 });
    assert.ok(onDisk() >= 50, `after a restart too: ${onDisk()}`);
    assert.deepEqual(await read(), Array.from({ length: 61 }, (_, i) => i));
    await s.stop();
  });
});

describe('durable storage: commands', () => {
  it('fsync flushes and checkpoints; lock is refused; validate finds documents and index keys', async () => {
    const dir = dataDir();
    const s = await open(dir);
    const admin = s.client.db('admin');
    await s.client.db('v').collection<AnyDoc>('c').createIndex({ a: 1 });
    await s.client.db('v').collection<AnyDoc>('c').insertMany([{ a: 1 }, { a: [2, 3] }, { b: 1 }]);
    assert.equal((await admin.command({ fsync: 1 })).numFiles, 1);
    await assert.rejects(admin.command({ fsync: 1, lock: true }), (e: MongoServerError) => e.code === 115);
    await assert.rejects(admin.command({ fsyncUnlock: 1 }), (e: MongoServerError) => e.code === 125);
    const v = await s.client.db('v').command({ validate: 'c', full: true });
    assert.equal(v.valid, true);
    assert.equal(v.nrecords, 3);
    assert.equal(v.keysPerIndex.a_1, 4);
    assert.deepEqual(v.missingIndexEntries, []);
    await assert.rejects(s.client.db('v').command({ validate: 'nope' }), (e: MongoServerError) => e.code === 26);
    await assert.rejects(admin.command({ replSetResizeOplog: 1, size: 900 }), (e: MongoServerError) => e.code === 2);
    await admin.command({ replSetResizeOplog: 1, size: 2000, minRetentionHours: 1 });
    const stats = await s.client.db('local').command({ collStats: 'oplog.rs' });
    assert.equal(stats.maxSize, 2000 * 1024 * 1024);
    await s.stop();
  });
});
