/**
 * Mongoose's own documented transaction examples (mongoosejs.com/docs/transactions.html), run
 * against Dossier with mongoose 9 and 8: commit and abort with a session, `withTransaction`,
 * `Connection#transaction()` retrying a transient error and resetting document state when the
 * transaction aborts, and sessions carried by documents (`save`), `create`, `aggregate` and
 * `populate`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MongoClient } from 'mongodb';
import { Dossier } from '../../src/index.js';
import { MONGOOSES } from '../helpers/mongooses.js';

describe('mongoose transactions (the documented examples)', () => {
  let dossier: Dossier;
  before(async () => {
    dossier = await Dossier.create();
  });
  after(async () => {
    await dossier.stop();
  });

  for (const [label, mongoose] of MONGOOSES) {
    const dbName = (what: string): string => `mt_${label.replace(/\W/g, '')}_${what}`;

    it(`${label}: a session's writes are visible to it before commit, to others only after; abort discards them`, async () => {
      const db = await mongoose.createConnection(dossier.getUri(dbName('basic'))).asPromise();
      try {
        const Customer = db.model('Customer', new mongoose.Schema({ name: String }));
        await Customer.createCollection();
        const session = await db.startSession();
        session.startTransaction();
        await Customer.create([{ name: 'Test' }], { session });
        assert.equal(await Customer.findOne({ name: 'Test' }), null, 'not visible outside the transaction');
        const inside = await Customer.findOne({ name: 'Test' }).session(session);
        assert.ok(inside, 'visible inside the transaction');
        await session.commitTransaction();
        assert.ok(await Customer.findOne({ name: 'Test' }), 'visible after commit');

        session.startTransaction();
        await Customer.create([{ name: 'Gone' }], { session });
        await session.abortTransaction();
        assert.equal(await Customer.findOne({ name: 'Gone' }), null, 'abort leaves nothing');
        await session.endSession();
      } finally {
        await db.close();
      }
    });

    it(`${label}: session.withTransaction commits the callback's writes`, async () => {
      const db = await mongoose.createConnection(dossier.getUri(dbName('with'))).asPromise();
      try {
        const Customer = db.model('Customer', new mongoose.Schema({ name: String }));
        await Customer.createCollection();
        const session = await db.startSession();
        await session.withTransaction(async () => {
          await Customer.create([{ name: 'Test' }], { session });
          await Customer.updateOne({ name: 'Test' }, { $set: { name: 'Test2' } }, { session });
        });
        assert.equal(await Customer.countDocuments({ name: 'Test2' }), 1);
        await session.endSession();
      } finally {
        await db.close();
      }
    });

    it(`${label}: Connection#transaction() retries a transient error and resets document state when it aborts`, async () => {
      const db = await mongoose.createConnection(dossier.getUri(dbName('conn'))).asPromise();
      try {
        const Person = db.model('Person', new mongoose.Schema({ name: String, rank: String }));
        await Person.createCollection();

        // The docs' example: the callback throws, the transaction aborts, and the document is
        // new again (its save was rolled back with the transaction).
        const doc = new Person({ name: 'Will Riker' });
        await assert.rejects(
          db.transaction(async (session) => {
            doc.rank = 'Captain';
            await doc.save({ session });
            assert.equal(doc.isNew, false);
            throw new Error('Oops');
          }),
          /Oops/,
        );
        assert.equal(doc.isNew, true, 'transaction() reset the document state');
        assert.equal(await Person.countDocuments(), 0);

        // A transient error from the server makes transaction() run the callback again: on the
        // first attempt another connection commits a change to the document after this
        // transaction's snapshot, so this transaction's update is a WriteConflict
        // (TransientTransactionError), and the retry commits.
        await Person.create({ name: 'Data', rank: 'Lieutenant Commander' });
        const other = new MongoClient(dossier.getUri());
        await other.connect();
        let attempts = 0;
        try {
          await db.transaction(async (session) => {
            attempts++;
            assert.ok(await Person.findOne({ name: 'Data' }).session(session), 'the snapshot is taken');
            if (attempts === 1) await other.db(dbName('conn')).collection('people').updateOne({ name: 'Data' }, { $set: { rank: 'elsewhere' } });
            await Person.updateOne({ name: 'Data' }, { $set: { rank: `attempt ${attempts}` } }, { session });
          });
        } finally {
          await other.close();
        }
        assert.equal(attempts, 2, 'retried once after the TransientTransactionError');
        assert.equal((await Person.findOne({ name: 'Data' }).lean())?.rank, 'attempt 2');
      } finally {
        await db.close();
      }
    });

    it(`${label}: a document loaded with a session saves with it; aggregate and populate take the session`, async () => {
      const db = await mongoose.createConnection(dossier.getUri(dbName('docs'))).asPromise();
      try {
        const User = db.model('User', new mongoose.Schema({ name: String }));
        const Event = db.model('Event', new mongoose.Schema({ type: String, user: { type: mongoose.Schema.Types.ObjectId, ref: 'User' } }));
        await User.createCollection();
        await Event.createCollection();
        await User.create({ name: 'foo' });

        const session = await db.startSession();
        session.startTransaction();
        const user = await User.findOne({ name: 'foo' }).session(session);
        assert.ok(user);
        assert.equal(user.$session(), session, 'the document remembers its session');
        user.name = 'bar';
        await user.save(); // uses the document's session
        assert.equal(await User.findOne({ name: 'bar' }), null, 'the save is inside the transaction');

        await Event.create([{ type: 'login', user: user._id }, { type: 'login', user: user._id }], { session, ordered: true });
        const counts = await Event.aggregate<{ _id: string; n: number }>([{ $group: { _id: '$type', n: { $sum: 1 } } }]).session(session);
        assert.deepEqual(counts, [{ _id: 'login', n: 2 }], 'aggregate reads the transaction');
        assert.deepEqual(await Event.aggregate([{ $count: 'n' }]), [], 'others see nothing yet');

        const event = await Event.findOne({ type: 'login' }).session(session).populate<{ user: { name: string } }>('user');
        assert.equal(event?.user.name, 'bar', 'populate reads through the same session');

        await session.commitTransaction();
        await session.endSession();
        assert.equal(await User.countDocuments({ name: 'bar' }), 1);
        assert.equal(await Event.countDocuments(), 2);
      } finally {
        await db.close();
      }
    });
  }
});
