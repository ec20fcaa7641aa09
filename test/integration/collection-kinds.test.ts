/**
 * Collection kinds and options beyond the plain collection, through the official driver:
 * clustered collections, time-series collections, changeStreamPreAndPostImages, collMod's
 * two-step conversion of an index to unique, the Atlas Search index commands (refused with
 * SearchNotEnabled, as by any mongod outside Atlas), and pipeline-style updates keeping _id.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Db, Document } from 'mongodb';
import { failsWith, startDossier, uniqueDbName, type Harness } from '../helpers/dossier.js';

describe('collection kinds and options', () => {
  let h: Harness;
  before(async () => {
    h = await startDossier();
  });
  after(async () => {
    await h.stop();
  });
  const freshDb = (): Db => h.client.db(uniqueDbName('kinds'));
  /** Documents with numeric and string _ids, which the driver's default typing does not expect. */
  type Doc = { _id?: number | string; [field: string]: unknown };
  const coll = (db: Db, name: string) => db.collection<Doc>(name);

  describe('clustered collections', () => {
    it('lists the canonical clusteredIndex and shows it in listIndexes instead of _id_', async () => {
      const db = freshDb();
      await db.createCollection('c', { clusteredIndex: { key: { _id: 1 }, unique: true, name: 'by id' } });
      const [info] = (await db.listCollections({ name: 'c' }).toArray()) as Document[];
      assert.deepEqual(info!.options, { clusteredIndex: { v: 2, key: { _id: 1 }, name: 'by id', unique: true } });
      assert.equal(info!.idIndex, undefined);
      assert.deepEqual(await coll(db, 'c').listIndexes().toArray(), [{ v: 2, key: { _id: 1 }, name: 'by id', unique: true, clustered: true }]);
      await coll(db, 'c').insertOne({ _id: 1 });
      await failsWith(coll(db, 'c').insertOne({ _id: 1 }), 11000);
      await db.createCollection('d', { clusteredIndex: { key: { _id: 1 }, unique: true } });
      const [d] = (await db.listCollections({ name: 'd' }).toArray()) as Document[];
      assert.equal(d!.options.clusteredIndex.name, '_id_');
    });

    it('refuses other cluster keys, unique: false, the legacy boolean form and hiding the cluster key', async () => {
      const db = freshDb();
      await failsWith(db.command({ create: 'a', clusteredIndex: { key: { a: 1 }, unique: true } }), 197, 'The clusteredIndex option is only supported for key: {_id: 1}');
      await failsWith(db.command({ create: 'a', clusteredIndex: { key: { _id: 1 }, unique: false } }), 5979700);
      await failsWith(db.command({ create: 'a', clusteredIndex: true }), 5979703);
      await failsWith(db.command({ create: 'a', clusteredIndex: { key: { _id: 1 }, unique: true }, idIndex: { key: { _id: 1 }, name: '_id_' } }), 72);
      await failsWith(db.command({ create: 'a', expireAfterSeconds: 10 }), 72, "'expireAfterSeconds' is only supported on time-series collections or when the 'clusteredIndex' option is specified");
      await db.command({ create: 'c', clusteredIndex: { key: { _id: 1 }, unique: true } });
      await failsWith(db.command({ collMod: 'c', index: { name: '_id_', hidden: true } }), 6011800);
    });
  });

  describe('time-series collections', () => {
    it('completes the bucketing options, lists the collection as timeseries and indexes meta and time', async () => {
      const db = freshDb();
      await db.createCollection('m', { timeseries: { timeField: 't', metaField: 'meta', granularity: 'minutes' }, expireAfterSeconds: 3600 });
      await db.createCollection('s', { timeseries: { timeField: 't' } });
      await db.createCollection('b', { timeseries: { timeField: 't', bucketMaxSpanSeconds: 600, bucketRoundingSeconds: 600 } });
      const infos = new Map(((await db.listCollections().toArray()) as Doc[]).map((i) => [i.name as string, i]));
      assert.equal(infos.get('m')!.type, 'timeseries');
      assert.deepEqual(infos.get('m')!.info, { readOnly: false });
      assert.deepEqual(infos.get('m')!.options, {
        timeseries: { timeField: 't', metaField: 'meta', granularity: 'minutes', bucketMaxSpanSeconds: 86400 },
        expireAfterSeconds: 3600,
      });
      assert.deepEqual(infos.get('s')!.options, { timeseries: { timeField: 't', granularity: 'seconds', bucketMaxSpanSeconds: 3600 } });
      assert.deepEqual(infos.get('b')!.options, { timeseries: { timeField: 't', bucketRoundingSeconds: 600, bucketMaxSpanSeconds: 600 } });
      assert.deepEqual(await coll(db, 'm').listIndexes().toArray(), [{ v: 2, key: { meta: 1, t: 1 }, name: 'meta_1_t_1' }]);
      assert.deepEqual(await coll(db, 's').listIndexes().toArray(), []);
    });

    it('keeps measurements with the same _id and refuses one without a date in the time field', async () => {
      const db = freshDb();
      await db.createCollection('m', { timeseries: { timeField: 't' } });
      const c = coll(db, 'm');
      await c.insertMany([{ _id: 1, t: new Date(1000) }, { _id: 1, t: new Date(2000) }] as Doc[]);
      assert.deepEqual(await c.find({}, { sort: { t: 1 } }).toArray(), [{ _id: 1, t: new Date(1000) }, { _id: 1, t: new Date(2000) }]);
      await failsWith(c.insertOne({ t: 5 }), 2, "'t' must be present and contain a valid BSON UTC datetime value");
      await failsWith(c.insertOne({ x: 1 }, { bypassDocumentValidation: true }), 2);
    });

    it('refuses bad bucketing options and time-series writes in a transaction', async () => {
      const db = freshDb();
      await failsWith(db.command({ create: 'x', timeseries: { timeField: 't', granularity: 'days' } }), 2);
      await failsWith(db.command({ create: 'x', timeseries: { timeField: 't', bucketMaxSpanSeconds: 600 } }), 72, /need to be set alongside each other/);
      await failsWith(db.command({ create: 'x', timeseries: { timeField: 't', bucketMaxSpanSeconds: 600, bucketRoundingSeconds: 60 } }), 72, /needs to be equal/);
      await failsWith(db.command({ create: 'x', timeseries: { timeField: 't', granularity: 'hours', bucketMaxSpanSeconds: 600 } }), 72, /not configurable/);
      await failsWith(db.command({ create: 'x', timeseries: { metaField: 'm' } }), 40414);
      await failsWith(db.command({ create: 'x', timeseries: { timeField: 't', metaField: 't' } }), 72, "'metaField' cannot be the same as 'timeField'");
      await failsWith(db.command({ create: 'x', timeseries: { timeField: 't' }, capped: true, size: 4096 }), 72, /: 'timeseries' is not allowed with 'capped'$/);
      await db.createCollection('m', { timeseries: { timeField: 't' } });
      const session = h.client.startSession();
      try {
        session.startTransaction();
        await failsWith(coll(db, 'm').insertOne({ t: new Date() }, { session }), 263, 'Cannot insert into a time-series collection in a multi-document transaction.');
        await session.abortTransaction().catch(() => undefined);
      } finally {
        await session.endSession();
      }
    });

    it('expires measurements by their time field', async () => {
      const db = freshDb();
      await db.createCollection('m', { timeseries: { timeField: 't' }, expireAfterSeconds: 60 });
      const c = coll(db, 'm');
      const now = Date.now();
      await c.insertMany([{ _id: 'old', t: new Date(now - 3_600_000) }, { _id: 'new', t: new Date(now + 3_600_000) }]);
      h.dossier.instance.ttlMonitor.runPass();
      assert.deepEqual((await c.find().toArray()).map((d) => d._id), ['new']);
    });
  });

  describe('capped collections', () => {
    it('round the size up to 256 bytes, keep the newest documents and report their limits', async () => {
      const db = freshDb();
      await db.createCollection('c', { capped: true, size: 1000, max: 3 });
      const [info] = (await db.listCollections({ name: 'c' }).toArray()) as Doc[];
      assert.deepEqual(info!.options, { capped: true, size: 1024, max: 3 });
      const c = coll(db, 'c');
      for (let i = 1; i <= 5; i++) await c.insertOne({ _id: i });
      assert.deepEqual((await c.find().toArray()).map((d) => d._id), [3, 4, 5]);
      const [stats] = await c.aggregate([{ $collStats: { storageStats: {} } }, { $project: { capped: '$storageStats.capped', max: '$storageStats.max', maxSize: '$storageStats.maxSize', _id: 0 } }]).toArray();
      assert.deepEqual(stats, { capped: true, max: 3, maxSize: 1024 });
      await failsWith(c.insertOne({ _id: 6, big: 'x'.repeat(2000) }), 2, 'object to insert exceeds cappedMaxSize');
      await db.createCollection('s', { capped: true, size: 300 });
      const s = coll(db, 's');
      for (let i = 1; i <= 20; i++) await s.insertOne({ _id: i, pad: 'x'.repeat(40) });
      const left = (await s.find().toArray()).map((d) => d._id as number);
      assert.ok(left.length < 20 && left[left.length - 1] === 20 && left.every((id, k) => k === 0 || id === left[k - 1]! + 1), String(left));
      await failsWith(db.command({ create: 'x', capped: true }), 72, "the 'size' field is required when 'capped' is true");
    });

    it('serve tailable cursors that stay open and see later inserts', async () => {
      const db = freshDb();
      await db.createCollection('t', { capped: true, size: 4096 });
      const c = coll(db, 't');
      await c.insertMany([{ _id: 1 }, { _id: 2 }]);
      const first = await db.command({ find: 't', tailable: true, batchSize: 5 });
      assert.deepEqual(first.cursor.firstBatch, [{ _id: 1 }, { _id: 2 }]);
      assert.notEqual(Number(first.cursor.id), 0);
      const empty = await db.command({ getMore: first.cursor.id, collection: 't' });
      assert.deepEqual(empty.cursor.nextBatch, []);
      assert.notEqual(Number(empty.cursor.id), 0);
      await c.insertOne({ _id: 3 });
      const more = await db.command({ getMore: first.cursor.id, collection: 't' });
      assert.deepEqual(more.cursor.nextBatch, [{ _id: 3 }]);
      await db.command({ killCursors: 't', cursors: [first.cursor.id] });
      await failsWith(db.command({ find: 'plain', tailable: true }).then(() => db.createCollection('plain')).then(() => db.command({ find: 'plain', tailable: true })), 2, /tailable cursor requested on non capped collection/);
      await failsWith(db.command({ find: 't', awaitData: true }), 9, "Cannot set 'awaitData' without also setting 'tailable'");
      await failsWith(db.command({ find: 't', tailable: true, sort: { _id: 1 } }), 2, 'cannot use tailable option with a sort other than {$natural: 1}');
      await db.createCollection('empty', { capped: true, size: 4096 });
      const none = await db.command({ find: 'empty', tailable: true });
      assert.equal(Number(none.cursor.id), 0);
    });

    it('wait for new documents on an awaitData getMore, up to its maxTimeMS', async () => {
      const db = freshDb();
      await db.createCollection('a', { capped: true, size: 4096 });
      const c = coll(db, 'a');
      await c.insertOne({ _id: 1 });
      const first = await db.command({ find: 'a', tailable: true, awaitData: true });
      const started = Date.now();
      const idle = await db.command({ getMore: first.cursor.id, collection: 'a', maxTimeMS: 200 });
      assert.deepEqual(idle.cursor.nextBatch, []);
      assert.ok(Date.now() - started >= 150, 'waited');
      setTimeout(() => void c.insertOne({ _id: 2 }), 50);
      const woke = await db.command({ getMore: first.cursor.id, collection: 'a', maxTimeMS: 5000 });
      assert.deepEqual(woke.cursor.nextBatch, [{ _id: 2 }]);
      await db.command({ killCursors: 'a', cursors: [first.cursor.id] });
    });

    it('refuse writes in a transaction', async () => {
      const db = freshDb();
      await db.createCollection('tx', { capped: true, size: 4096 });
      const session = h.client.startSession();
      try {
        session.startTransaction();
        await failsWith(coll(db, 'tx').insertOne({ _id: 1 }, { session }), 263, /is a capped collection\. Writes in transactions are not allowed on capped collections\./);
        await session.abortTransaction().catch(() => undefined);
        session.startTransaction();
        await failsWith(coll(db, 'tx').updateOne({}, { $set: { a: 1 } }, { session }), 263);
        await session.abortTransaction().catch(() => undefined);
      } finally {
        await session.endSession();
      }
    });
  });

  describe('collMod', () => {
    it('keeps changeStreamPreAndPostImages only while enabled', async () => {
      const db = freshDb();
      await db.createCollection('p', { changeStreamPreAndPostImages: { enabled: true } });
      const options = async (): Promise<Document> => ((await db.listCollections({ name: 'p' }).toArray()) as Doc[])[0]!.options as Document;
      assert.deepEqual(await options(), { changeStreamPreAndPostImages: { enabled: true } });
      await db.command({ collMod: 'p', changeStreamPreAndPostImages: { enabled: false } });
      assert.deepEqual(await options(), {});
      await db.createCollection('q', { changeStreamPreAndPostImages: { enabled: false } });
      assert.deepEqual(((await db.listCollections({ name: 'q' }).toArray()) as Doc[])[0]!.options, {});
    });

    it('converts an index to unique in two steps and reports the documents in the way', async () => {
      const db = freshDb();
      const c = coll(db, 'u');
      await c.insertMany([{ _id: 1, x: 1 }, { _id: 2, x: 1 }, { _id: 3, x: 2 }] as Doc[]);
      await c.createIndex({ x: 1 });
      await failsWith(db.command({ collMod: 'u', index: { keyPattern: { x: 1 }, unique: true } }), 72, "Cannot make index unique with 'prepareUnique=false'. Run collMod to set it first.");
      const prepared = await db.command({ collMod: 'u', index: { keyPattern: { x: 1 }, prepareUnique: true } });
      assert.equal(prepared.prepareUnique_old, false);
      assert.equal(prepared.prepareUnique_new, true);
      await failsWith(c.insertOne({ _id: 4, x: 2 } as Document), 11000);
      const err = await failsWith(db.command({ collMod: 'u', index: { keyPattern: { x: 1 }, unique: true } }), 359);
      assert.deepEqual(err.errorResponse.violations, [{ ids: [1, 2] }]);
      await failsWith(db.command({ collMod: 'u', index: { keyPattern: { x: 1 }, unique: true }, dryRun: true }), 359);
      await c.deleteOne({ _id: 2 });
      const dry = await db.command({ collMod: 'u', index: { keyPattern: { x: 1 }, unique: true }, dryRun: true });
      assert.equal(dry.unique_new, undefined);
      const converted = await db.command({ collMod: 'u', index: { keyPattern: { x: 1 }, unique: true } });
      assert.equal(converted.unique_new, true);
      const [, index] = await c.listIndexes().toArray();
      assert.deepEqual(index, { v: 2, key: { x: 1 }, name: 'x_1', unique: true });
      const back = await db.command({ collMod: 'u', index: { name: 'x_1', forceNonUnique: true } });
      assert.equal(back.forceNonUnique_new, true);
      await c.insertOne({ _id: 5, x: 1 } as Doc);
      await failsWith(db.command({ collMod: 'u', index: { name: 'x_1', unique: false } }), 2, 'Cannot make index non-unique');
      await failsWith(db.command({ collMod: 'u', index: { name: 'x_1', prepareUnique: true, hidden: true } }), 72, 'prepareUnique cannot be combined with any other modification.');
    });
  });

  describe('Atlas Search index commands', () => {
    const notEnabled = /^Using Atlas Search Database Commands and the \$listSearchIndexes aggregation stage requires additional configuration/;

    it('answer SearchNotEnabled (31082) after parsing their input', async () => {
      const db = freshDb();
      const c = coll(db, 's');
      await failsWith(db.command({ createSearchIndexes: 's', indexes: [{ name: 'x', definition: { mappings: { dynamic: true } } }] }), 31082, notEnabled);
      await failsWith(db.command({ updateSearchIndex: 's', name: 'x', definition: {} }), 31082, notEnabled);
      await failsWith(db.command({ dropSearchIndex: 's', name: 'x' }), 31082, notEnabled);
      await failsWith(db.command({ listSearchIndexes: 's' }), 31082, notEnabled);
      await failsWith(c.listSearchIndexes().toArray(), 31082, notEnabled);
      await failsWith(c.aggregate([{ $match: {} }, { $listSearchIndexes: {} }]).toArray(), 31082, notEnabled);
      await failsWith(db.command({ createSearchIndexes: 's' }), 40414);
      await failsWith(db.command({ createSearchIndexes: 's', indexes: [{ name: 'x' }] }), 40414);
      await failsWith(db.command({ updateSearchIndex: 's', name: 'x' }), 40414);
      await failsWith(db.command({ dropSearchIndex: 's', bogus: 1 }), 40415);
      await failsWith(db.command({ dropSearchIndex: 's', name: 'x', writeConcern: { w: 1 } }), 72, 'Command does not support writeConcern');
    });
  });

  describe('pipeline-style updates', () => {
    it('keep the _id the pipeline dropped and refuse changing it', async () => {
      const db = freshDb();
      const c = coll(db, 'p');
      await c.insertOne({ _id: 1, a: { b: 1 }, c: 2 } as Doc);
      await c.updateOne({ _id: 1 }, [{ $replaceRoot: { newRoot: '$a' } }, { $set: { d: 3 } }]);
      assert.deepEqual(await c.findOne({ _id: 1 }), { _id: 1, b: 1, d: 3 });
      await failsWith(c.updateOne({ _id: 1 }, [{ $set: { _id: 2 } }]), 66, /_id/);
      await c.updateOne({ _id: 9 }, [{ $set: { x: 1 } }], { upsert: true });
      assert.deepEqual(await c.findOne({ _id: 9 }), { _id: 9, x: 1 });
    });
  });
});
