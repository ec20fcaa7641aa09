/**
 * Catalog commands through the official driver: create (options, validators), drop, dropDatabase,
 * renameCollection, collMod, createIndexes, listIndexes, dropIndexes, listCollections.
 * Error cases assert mongod's code and codeName.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Int32, Long, type Db, type Document } from 'mongodb';
import { startDossier, uniqueDbName, type Harness } from '../helpers/dossier.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;
type ServerError = { code?: number; codeName?: string; message?: string; errInfo?: Document; errorResponse?: Document };

/** Asserts that `p` rejects with mongod's code (and codeName, and a message pattern when given). */
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

describe('catalog commands', () => {
  let h: Harness;
  let admin: Db;
  before(async () => {
    h = await startDossier();
    admin = h.client.db('admin');
  });
  after(async () => {
    await h.stop();
  });
  const freshDb = (): Db => h.client.db(uniqueDbName('cat'));

  describe('create', () => {
    it('creates an empty collection with an _id index, and lists its options', async () => {
      const db = freshDb();
      const r = await db.command({ create: 'c1' });
      assert.equal(r.ok, 1);
      const [info] = (await db.listCollections({ name: 'c1' }).toArray()) as Document[];
      assert.equal(info!.name, 'c1');
      assert.equal(info!.type, 'collection');
      assert.deepEqual(info!.options, {});
      assert.equal(info!.info.readOnly, false);
      assert.equal(info!.info.uuid._bsontype ?? info!.info.uuid.constructor.name, 'Binary');
      assert.deepEqual(info!.idIndex, { v: 2, key: { _id: 1 }, name: '_id_' });
      const indexes = await db.collection<Any>('c1').listIndexes().toArray();
      assert.deepEqual(indexes, [{ v: 2, key: { _id: 1 }, name: '_id_' }]);
    });

    it('is idempotent with the same options and fails with NamespaceExists (48) with different ones', async () => {
      const db = freshDb();
      await db.command({ create: 'v', validator: { a: { $type: 'int' } }, validationLevel: 'strict' });
      const again = await db.command({ create: 'v', validator: { a: { $type: 'int' } }, validationLevel: 'strict' });
      assert.equal(again.ok, 1);
      await rejectsWith(db.command({ create: 'v', validator: { a: { $type: 'string' } } }), 48, 'NamespaceExists', /already exists, but with different options/);
      await rejectsWith(db.command({ create: 'v' }), 48, 'NamespaceExists');
    });

    it('rejects unsupported options clearly', async () => {
      const db = freshDb();
      await rejectsWith(db.command({ create: 'view', pipeline: [] }), 72, 'InvalidOptions', /'pipeline' requires 'viewOn'/);
      await rejectsWith(db.command({ create: 'coll', collation: { locale: 'xx' } }), 2, 'BadValue', /Field 'locale' is invalid/);
      await rejectsWith(db.command({ create: 'u', bogus: 1 }), 40415, 'Location40415', /BSON field 'create.bogus' is an unknown field/);
      assert.deepEqual(await db.listCollections().toArray(), []);
    });

    it('rejects bad names and bad option values', async () => {
      const db = freshDb();
      await rejectsWith(db.command({ create: 'a$b' }), 73, 'InvalidNamespace');
      await rejectsWith(db.command({ create: '' }), 73, 'InvalidNamespace');
      await rejectsWith(db.command({ create: 'system.foo' }), 73, 'InvalidNamespace');
      await rejectsWith(db.command({ create: 'x', validationLevel: 'loose' }), 2, 'BadValue');
      await rejectsWith(db.command({ create: 'x', validationAction: 'shout' }), 2, 'BadValue');
      await rejectsWith(db.command({ create: 'x', validator: { a: { $bogus: 1 } } }), 2, 'BadValue', /unknown operator: \$bogus/);
      await rejectsWith(db.command({ create: 'x', validator: 5 }), 14, 'TypeMismatch');
    });

    it('a validator rejects inserts and updates with DocumentValidationFailure (121); bypassDocumentValidation skips it', async () => {
      const db = freshDb();
      await db.createCollection('people', { validator: { age: { $type: 'int', $gte: 0 } } });
      const c = db.collection<Any>('people');
      await c.insertOne({ _id: 1, age: new Int32(30) });
      const reply = await db.command({ insert: 'people', documents: [{ _id: 2, age: 'old' }] });
      assert.equal(reply.n, 0);
      assert.equal(reply.writeErrors.length, 1);
      assert.equal(reply.writeErrors[0].code, 121);
      assert.equal(reply.writeErrors[0].errmsg, 'Document failed validation');
      assert.equal(reply.writeErrors[0].errInfo.failingDocumentId, 2);
      await rejectsWith(c.insertOne({ _id: 3, age: -1 }), 121);
      await rejectsWith(c.updateOne({ _id: 1 }, { $set: { age: 'x' } }), 121);
      await rejectsWith(c.replaceOne({ _id: 1 }, { name: 'no age' }), 121);
      assert.deepEqual(await c.find().toArray(), [{ _id: 1, age: 30 }]);
      await c.insertOne({ _id: 4, age: 'bypassed' }, { bypassDocumentValidation: true });
      assert.equal((await c.find().toArray()).length, 2);
    });

    it("validationAction 'warn' accepts invalid documents; validationLevel 'off' disables the validator", async () => {
      const db = freshDb();
      await db.createCollection('w', { validator: { a: { $exists: true } }, validationAction: 'warn' });
      await db.collection<Any>('w').insertOne({ b: 1 });
      await db.createCollection('o', { validator: { a: { $exists: true } }, validationLevel: 'off' });
      await db.collection<Any>('o').insertOne({ b: 1 });
      assert.equal((await db.collection<Any>('w').find().toArray()).length, 1);
      assert.equal((await db.collection<Any>('o').find().toArray()).length, 1);
    });

    it("validationLevel 'moderate' lets invalid existing documents stay invalid but checks valid ones", async () => {
      const db = freshDb();
      const c = db.collection<Any>('m');
      await c.insertMany([{ _id: 1, a: 1 }, { _id: 2, a: 'bad' }]);
      await db.command({ collMod: 'm', validator: { a: { $type: 'number' } }, validationLevel: 'moderate' });
      await c.updateOne({ _id: 2 }, { $set: { b: 1 } });
      await rejectsWith(c.updateOne({ _id: 1 }, { $set: { a: 'x' } }), 121);
      await rejectsWith(c.insertOne({ _id: 3, a: 'x' }), 121);
      assert.deepEqual(await c.find().sort({ _id: 1 }).toArray(), [{ _id: 1, a: 1 }, { _id: 2, a: 'bad', b: 1 }]);
    });

    it('$jsonSchema works as a validator', async () => {
      const db = freshDb();
      await db.createCollection('js', {
        validator: { $jsonSchema: { bsonType: 'object', required: ['name'], properties: { name: { bsonType: 'string' }, n: { bsonType: 'int', minimum: 1 } } } },
      });
      const c = db.collection<Any>('js');
      await c.insertOne({ name: 'x', n: new Int32(2) });
      await rejectsWith(c.insertOne({ n: new Int32(2) }), 121);
      await rejectsWith(c.insertOne({ name: 'y', n: new Int32(0) }), 121);
      await rejectsWith(c.insertOne({ name: 5 }), 121);
      assert.equal((await c.find().toArray()).length, 1);
    });
  });

  describe('drop and dropDatabase', () => {
    it('drop returns nIndexesWas and ns; dropping a missing collection is ok', async () => {
      const db = freshDb();
      await db.collection<Any>('d').insertOne({ a: 1 });
      await db.collection<Any>('d').createIndex({ a: 1 });
      const r = await db.command({ drop: 'd' });
      assert.equal(r.nIndexesWas, 2);
      assert.equal(r.ns, `${db.databaseName}.d`);
      assert.deepEqual(await db.listCollections().toArray(), []);
      const again = await db.command({ drop: 'd' });
      assert.equal(again.ok, 1);
      assert.equal(again.nIndexesWas, undefined);
    });

    it('a dropped collection comes back empty and without its indexes', async () => {
      const db = freshDb();
      await db.collection<Any>('d').insertOne({ a: 1 });
      await db.collection<Any>('d').createIndex({ a: 1 });
      await db.collection<Any>('d').drop();
      await db.collection<Any>('d').insertOne({ b: 1 });
      assert.deepEqual((await db.collection<Any>('d').find({}, { projection: { _id: 0 } }).toArray()), [{ b: 1 }]);
      assert.deepEqual((await db.collection<Any>('d').listIndexes().toArray()).map((i) => i.name), ['_id_']);
    });

    it('dropDatabase drops every collection and answers dropped', async () => {
      const db = freshDb();
      await db.collection<Any>('a').insertOne({});
      await db.collection<Any>('b').insertOne({});
      const r = await db.command({ dropDatabase: 1 });
      assert.equal(r.dropped, db.databaseName);
      assert.deepEqual(await db.listCollections().toArray(), []);
      const dbs = await admin.command({ listDatabases: 1, nameOnly: true });
      assert.ok(!dbs.databases.some((d: Document) => d.name === db.databaseName));
    });

    it('refuses the live oplog, local, admin and config', async () => {
      await rejectsWith(h.client.db('local').command({ drop: 'oplog.rs' }), 20, 'IllegalOperation');
      await rejectsWith(h.client.db('local').command({ dropDatabase: 1 }), 20, 'IllegalOperation');
      await rejectsWith(admin.command({ dropDatabase: 1 }), 20, 'IllegalOperation');
      await rejectsWith(h.client.db('config').command({ dropDatabase: 1 }), 20, 'IllegalOperation');
    });
  });

  describe('renameCollection', () => {
    it('renames within and across databases, keeping documents and indexes', async () => {
      const db = freshDb();
      const other = freshDb();
      await db.collection<Any>('from').insertMany([{ _id: 1, a: 1 }, { _id: 2, a: 2 }]);
      await db.collection<Any>('from').createIndex({ a: 1 });
      await admin.command({ renameCollection: `${db.databaseName}.from`, to: `${db.databaseName}.to` });
      assert.deepEqual((await db.listCollections().toArray()).map((c) => c.name), ['to']);
      assert.equal((await db.collection<Any>('to').find({ a: { $gte: 1 } }).toArray()).length, 2);
      assert.deepEqual((await db.collection<Any>('to').listIndexes().toArray()).map((i) => i.name), ['_id_', 'a_1']);
      await admin.command({ renameCollection: `${db.databaseName}.to`, to: `${other.databaseName}.moved` });
      assert.deepEqual(await db.listCollections().toArray(), []);
      assert.deepEqual(await other.collection<Any>('moved').find().sort({ _id: 1 }).toArray(), [{ _id: 1, a: 1 }, { _id: 2, a: 2 }]);
    });

    it('the driver helper works (it runs against admin)', async () => {
      const db = freshDb();
      await db.collection<Any>('x').insertOne({ _id: 1 });
      await db.renameCollection('x', 'y');
      assert.deepEqual(await db.collection<Any>('y').find().toArray(), [{ _id: 1 }]);
    });

    it('fails with NamespaceNotFound, NamespaceExists, IllegalOperation; dropTarget replaces the target', async () => {
      const db = freshDb();
      const n = db.databaseName;
      await db.collection<Any>('a').insertOne({ _id: 'a' });
      await db.collection<Any>('b').insertOne({ _id: 'b' });
      await rejectsWith(admin.command({ renameCollection: `${n}.missing`, to: `${n}.z` }), 26, 'NamespaceNotFound', /Source collection .*\.missing does not exist/);
      await rejectsWith(admin.command({ renameCollection: `${n}.a`, to: `${n}.b` }), 48, 'NamespaceExists', /target namespace exists/);
      await rejectsWith(admin.command({ renameCollection: `${n}.a`, to: `${n}.a` }), 20, 'IllegalOperation', /to itself/);
      await rejectsWith(admin.command({ renameCollection: `${n}.a`, to: `${n}.bad$name` }), 73, 'InvalidNamespace');
      await admin.command({ renameCollection: `${n}.a`, to: `${n}.b`, dropTarget: true });
      assert.deepEqual((await db.listCollections().toArray()).map((c) => c.name), ['b']);
      assert.deepEqual(await db.collection<Any>('b').find().toArray(), [{ _id: 'a' }]);
    });

    it('runs only against admin (Unauthorized 13)', async () => {
      const db = freshDb();
      await db.collection<Any>('a').insertOne({});
      await rejectsWith(db.command({ renameCollection: `${db.databaseName}.a`, to: `${db.databaseName}.b` }), 13, 'Unauthorized', /may only be run against the admin database/);
    });
  });

  describe('collMod', () => {
    it('changes the validator, and an empty validator removes it', async () => {
      const db = freshDb();
      const c = db.collection<Any>('cm');
      await c.insertOne({ a: 1 });
      await db.command({ collMod: 'cm', validator: { a: { $type: 'string' } } });
      const [info] = (await db.listCollections({ name: 'cm' }).toArray()) as Document[];
      assert.deepEqual(info!.options, { validator: { a: { $type: 'string' } } });
      await rejectsWith(c.insertOne({ a: 2 }), 121);
      await db.command({ collMod: 'cm', validator: {} });
      await c.insertOne({ a: 2 });
      const [after] = (await db.listCollections({ name: 'cm' }).toArray()) as Document[];
      assert.deepEqual(after!.options, {});
    });

    it('hides and unhides an index; a hidden index is not planned but still maintained', async () => {
      const db = freshDb();
      const c = db.collection<Any>('h');
      await c.createIndex({ a: 1 });
      await c.insertMany([{ a: 1 }, { a: 2 }]);
      const r = await db.command({ collMod: 'h', index: { name: 'a_1', hidden: true } });
      assert.equal(r.hidden_old, false);
      assert.equal(r.hidden_new, true);
      const listed = await c.listIndexes().toArray();
      assert.equal(listed[1]!.hidden, true);
      assert.equal((await c.find({ a: 1 }).explain()).queryPlanner.winningPlan.stage, 'COLLSCAN');
      await c.insertOne({ a: 3 });
      const r2 = await db.command({ collMod: 'h', index: { keyPattern: { a: 1 }, hidden: false } });
      assert.equal(r2.hidden_old, true);
      assert.equal(r2.hidden_new, false);
      const plan = await c.find({ a: 3 }).explain('executionStats');
      assert.equal(plan.queryPlanner.winningPlan.inputStage.indexName, 'a_1');
      assert.equal(plan.executionStats.nReturned, 1);
      await rejectsWith(db.command({ collMod: 'h', index: { name: '_id_', hidden: true } }), 2, 'BadValue');
    });

    it('changes a TTL index expireAfterSeconds', async () => {
      const db = freshDb();
      const c = db.collection<Any>('ttl');
      await c.createIndex({ at: 1 }, { expireAfterSeconds: 100 });
      const r = await db.command({ collMod: 'ttl', index: { keyPattern: { at: 1 }, expireAfterSeconds: 5 } });
      assert.equal(r.expireAfterSeconds_old, 100);
      assert.equal(r.expireAfterSeconds_new, 5);
      const [, ix] = await c.listIndexes().toArray();
      assert.equal(ix!.expireAfterSeconds, 5);
      // Since 5.1 collMod turns a single-field index into a TTL index; not a compound one, nor _id.
      await c.createIndex({ b: 1 });
      const converted = await db.command({ collMod: 'ttl', index: { name: 'b_1', expireAfterSeconds: 7 } });
      assert.equal(converted.expireAfterSeconds_old, undefined);
      assert.equal(converted.expireAfterSeconds_new, 7);
      assert.equal((await c.listIndexes().toArray())[2]!.expireAfterSeconds, 7);
      await c.createIndex({ x: 1, y: 1 });
      await rejectsWith(db.command({ collMod: 'ttl', index: { name: 'x_1_y_1', expireAfterSeconds: 5 } }), 72, 'InvalidOptions', /compound/);
      await rejectsWith(db.command({ collMod: 'ttl', index: { name: '_id_', expireAfterSeconds: 5 } }), 72, 'InvalidOptions', /_id field does not support TTL/);
      await rejectsWith(db.command({ collMod: 'ttl', index: { name: 'at_1', expireAfterSeconds: 5, bogus: 1 } }), 40415, 'Location40415');
      await rejectsWith(db.command({ collMod: 'ttl', index: { name: 'at_1', expireAfterSeconds: 'x' } }), 14, 'TypeMismatch');
    });

    it('fails with NamespaceNotFound (26) and IndexNotFound (27)', async () => {
      const db = freshDb();
      await rejectsWith(db.command({ collMod: 'nope', validator: {} }), 26, 'NamespaceNotFound');
      await db.collection<Any>('c').insertOne({});
      await rejectsWith(db.command({ collMod: 'c', index: { name: 'nope', hidden: true } }), 27, 'IndexNotFound');
      await rejectsWith(db.command({ collMod: 'c', index: { hidden: true } }), 72, 'InvalidOptions');
    });
  });

  describe('createIndexes', () => {
    it('creates indexes with options and reports counts; createdCollectionAutomatically', async () => {
      const db = freshDb();
      const r = await db.command({
        createIndexes: 'ci',
        indexes: [
          { key: { a: 1 }, name: 'a_1', unique: true },
          { key: { b: -1, c: 1 }, name: 'b_c', sparse: true },
          { key: { d: 1 }, name: 'd_part', partialFilterExpression: { d: { $gt: 5 } } },
          { key: { at: 1 }, name: 'at_ttl', expireAfterSeconds: 3600 },
        ],
      });
      assert.equal(r.numIndexesBefore, 1);
      assert.equal(r.numIndexesAfter, 5);
      assert.equal(r.createdCollectionAutomatically, true);
      assert.equal(r.note, undefined);
      const listed = await db.collection<Any>('ci').listIndexes().toArray();
      assert.deepEqual(listed, [
        { v: 2, key: { _id: 1 }, name: '_id_' },
        { v: 2, key: { a: 1 }, name: 'a_1', unique: true },
        { v: 2, key: { b: -1, c: 1 }, name: 'b_c', sparse: true },
        { v: 2, key: { d: 1 }, name: 'd_part', partialFilterExpression: { d: { $gt: 5 } } },
        { v: 2, key: { at: 1 }, name: 'at_ttl', expireAfterSeconds: 3600 },
      ]);
      const again = await db.command({ createIndexes: 'ci', indexes: [{ key: { a: 1 }, name: 'a_1', unique: true }] });
      assert.equal(again.note, 'all indexes already exist');
      assert.equal(again.numIndexesBefore, 5);
      assert.equal(again.numIndexesAfter, 5);
      assert.equal(again.createdCollectionAutomatically, false);
    });

    it('the driver helper names indexes as mongod does', async () => {
      const db = freshDb();
      assert.equal(await db.collection<Any>('n').createIndex({ a: 1, 'b.c': -1 }), 'a_1_b.c_-1');
    });

    it('conflicts: same name other key (86), same key other options (85), same key other name (85)', async () => {
      const db = freshDb();
      await db.command({ createIndexes: 'k', indexes: [{ key: { a: 1 }, name: 'a_1' }] });
      await rejectsWith(db.command({ createIndexes: 'k', indexes: [{ key: { b: 1 }, name: 'a_1' }] }), 86, 'IndexKeySpecsConflict');
      await rejectsWith(db.command({ createIndexes: 'k', indexes: [{ key: { a: 1 }, name: 'a_1', unique: true }] }), 85, 'IndexOptionsConflict');
      await rejectsWith(db.command({ createIndexes: 'k', indexes: [{ key: { a: 1 }, name: 'other' }] }), 85, 'IndexOptionsConflict', /Index already exists with a different name: a_1/);
      // A different partialFilterExpression makes it a different index, as in mongod.
      const r = await db.command({ createIndexes: 'k', indexes: [{ key: { a: 1 }, name: 'a_part', partialFilterExpression: { a: { $gt: 1 } } }] });
      assert.equal(r.numIndexesAfter, 3);
    });

    it('bad specs: CannotCreateIndex (67), FailedToParse (9), InvalidIndexSpecificationOption (197)', async () => {
      const db = freshDb();
      await rejectsWith(db.command({ createIndexes: 'bad', indexes: [{ key: { a: 0 }, name: 'z' }] }), 67, 'CannotCreateIndex', /can't be 0/);
      await rejectsWith(db.command({ createIndexes: 'bad', indexes: [{ key: {}, name: 'z' }] }), 67, 'CannotCreateIndex');
      await rejectsWith(db.command({ createIndexes: 'bad', indexes: [{ key: { a: 'nonsense' }, name: 'z' }] }), 67, 'CannotCreateIndex', /Unknown index plugin 'nonsense'/);
      await rejectsWith(db.command({ createIndexes: 'bad', indexes: [{ key: { a: true }, name: 'z' }] }), 67, 'CannotCreateIndex');
      await rejectsWith(db.command({ createIndexes: 'bad', indexes: [{ name: 'z' }] }), 9, 'FailedToParse', /'key' field is a required property/);
      await rejectsWith(db.command({ createIndexes: 'bad', indexes: [{ key: { a: 1 } }] }), 9, 'FailedToParse', /'name' field is a required property/);
      await rejectsWith(db.command({ createIndexes: 'bad', indexes: [{ key: { a: 1 }, name: 'z', bogus: 1 }] }), 197, 'InvalidIndexSpecificationOption');
      await rejectsWith(db.command({ createIndexes: 'bad', indexes: [{ key: { a: 1, b: 1 }, name: 'z', expireAfterSeconds: 1 }] }), 67, 'CannotCreateIndex', /compound/);
      await rejectsWith(db.command({ createIndexes: 'bad', indexes: [{ key: { a: 1 }, name: 'z', expireAfterSeconds: -1 }] }), 67, 'CannotCreateIndex');
      await rejectsWith(db.command({ createIndexes: 'bad', indexes: [{ key: { _id: 1 }, name: 'z', unique: true }] }), 197, 'InvalidIndexSpecificationOption');
      await rejectsWith(db.command({ createIndexes: 'bad', indexes: [] }), 2, 'BadValue');
      await rejectsWith(db.command({ createIndexes: 'bad', indexes: [{ key: { t: 'text' }, name: 'z' }] }), 67, 'CannotCreateIndex', /not supported/);
      await rejectsWith(db.command({ createIndexes: 'bad', indexes: [{ key: { a: 1 }, name: 'z', collation: { locale: 'en', strength: 7 } }] }), 9, 'FailedToParse');
      // None of the failures created the collection.
      assert.deepEqual(await db.listCollections().toArray(), []);
    });

    it('a unique index over existing duplicates fails with 11000 and leaves no index', async () => {
      const db = freshDb();
      const c = db.collection<Any>('dups');
      await c.insertMany([{ a: 1 }, { a: 1 }]);
      await rejectsWith(c.createIndex({ a: 1 }, { unique: true }), 11000, 'DuplicateKey');
      assert.deepEqual((await c.listIndexes().toArray()).map((i) => i.name), ['_id_']);
    });
  });

  describe('listIndexes and dropIndexes', () => {
    it('listIndexes on a missing collection fails with NamespaceNotFound (26)', async () => {
      const db = freshDb();
      await rejectsWith(db.command({ listIndexes: 'nope' }), 26, 'NamespaceNotFound', /ns does not exist/);
    });

    it('listIndexes serves batches through getMore', async () => {
      const db = freshDb();
      const c = db.collection<Any>('many');
      for (const f of ['a', 'b', 'c', 'd']) await c.createIndex({ [f]: 1 });
      const first = await db.command({ listIndexes: 'many', cursor: { batchSize: 2 } });
      assert.deepEqual(first.cursor.firstBatch.map((i: Document) => i.name), ['_id_', 'a_1']);
      assert.equal(first.cursor.ns, `${db.databaseName}.many`);
      const more = await db.command({ getMore: first.cursor.id, collection: 'many', batchSize: 10 });
      assert.deepEqual(more.cursor.nextBatch.map((i: Document) => i.name), ['b_1', 'c_1', 'd_1']);
      assert.equal(Number(more.cursor.id), 0);
    });

    it("dropIndexes by name, key pattern, list and '*'", async () => {
      const db = freshDb();
      const c = db.collection<Any>('di');
      for (const f of ['a', 'b', 'c', 'd', 'e']) await c.createIndex({ [f]: 1 });
      const r = await db.command({ dropIndexes: 'di', index: 'a_1' });
      assert.equal(r.nIndexesWas, 6);
      await db.command({ dropIndexes: 'di', index: { b: 1 } });
      await db.command({ dropIndexes: 'di', index: ['c_1', 'd_1'] });
      assert.deepEqual((await c.listIndexes().toArray()).map((i) => i.name), ['_id_', 'e_1']);
      await c.createIndex({ f: -1 });
      const all = await db.command({ dropIndexes: 'di', index: '*' });
      assert.equal(all.nIndexesWas, 3);
      assert.deepEqual((await c.listIndexes().toArray()).map((i) => i.name), ['_id_']);
    });

    it('dropIndexes refuses _id (72) and unknown indexes (27), missing collections (26)', async () => {
      const db = freshDb();
      const c = db.collection<Any>('dx');
      await c.createIndex({ a: 1 });
      await rejectsWith(db.command({ dropIndexes: 'dx', index: '_id_' }), 72, 'InvalidOptions', /cannot drop _id index/);
      await rejectsWith(db.command({ dropIndexes: 'dx', index: { _id: 1 } }), 72, 'InvalidOptions');
      await rejectsWith(db.command({ dropIndexes: 'dx', index: 'nope' }), 27, 'IndexNotFound', /index not found with name \[nope\]/);
      await rejectsWith(db.command({ dropIndexes: 'dx', index: { zz: 1 } }), 27, 'IndexNotFound');
      await rejectsWith(db.command({ dropIndexes: 'dx', index: ['a_1', 'nope'] }), 27, 'IndexNotFound');
      await rejectsWith(db.command({ dropIndexes: 'missing', index: '*' }), 26, 'NamespaceNotFound');
      await rejectsWith(db.command({ dropIndexes: 'dx', index: 5 }), 14, 'TypeMismatch');
      // A failed list drops nothing.
      assert.deepEqual((await c.listIndexes().toArray()).map((i) => i.name), ['_id_', 'a_1']);
    });
  });

  describe('listCollections', () => {
    it('filters on name, type and options; nameOnly trims the description', async () => {
      const db = freshDb();
      await db.createCollection('b', { validator: { x: 1 } });
      await db.createCollection('a');
      await db.createCollection('c');
      const all = await db.listCollections().toArray();
      assert.deepEqual(all.map((c) => c.name), ['a', 'b', 'c']);
      assert.deepEqual((await db.listCollections({ name: 'b' }).toArray()).map((c) => c.name), ['b']);
      assert.deepEqual((await db.listCollections({ name: { $in: ['a', 'c'] } }).toArray()).map((c) => c.name), ['a', 'c']);
      assert.deepEqual((await db.listCollections({ 'options.validator': { $exists: true } }).toArray()).map((c) => c.name), ['b']);
      assert.deepEqual(await db.listCollections({ type: 'view' }).toArray(), []);
      const names = await db.listCollections({ 'options.validator': { $exists: true } }, { nameOnly: true }).toArray();
      assert.deepEqual(names, [{ name: 'b', type: 'collection' }]);
    });

    it('serves batches with cursor.batchSize and getMore', async () => {
      const db = freshDb();
      for (const n of ['c1', 'c2', 'c3', 'c4', 'c5']) await db.createCollection(n);
      const first = await db.command({ listCollections: 1, nameOnly: true, cursor: { batchSize: 2 } });
      assert.equal(first.cursor.ns, `${db.databaseName}.$cmd.listCollections`);
      assert.deepEqual(first.cursor.firstBatch.map((c: Document) => c.name), ['c1', 'c2']);
      assert.ok(first.cursor.id instanceof Long || typeof first.cursor.id === 'number');
      assert.notEqual(Number(first.cursor.id), 0);
      const second = await db.command({ getMore: first.cursor.id, collection: '$cmd.listCollections', batchSize: 2 });
      assert.deepEqual(second.cursor.nextBatch.map((c: Document) => c.name), ['c3', 'c4']);
      const third = await db.command({ getMore: first.cursor.id, collection: '$cmd.listCollections', batchSize: 2 });
      assert.deepEqual(third.cursor.nextBatch.map((c: Document) => c.name), ['c5']);
      assert.equal(Number(third.cursor.id), 0);
      // The driver follows the cursor the same way.
      assert.equal((await db.listCollections({}, { batchSize: 1 }).toArray()).length, 5);
    });

    it('rejects bad arguments', async () => {
      const db = freshDb();
      await rejectsWith(db.command({ listCollections: 1, filter: 'x' }), 14, 'TypeMismatch');
      await rejectsWith(db.command({ listCollections: 1, filter: { $bogus: 1 } }), 2, 'BadValue');
      await rejectsWith(db.command({ listCollections: 1, bogus: 1 }), 40415, 'Location40415');
    });
  });
});
