/**
 * The two programs the sessions issue names, written as their users write them, run unchanged:
 * a mongoose bank transfer (8 and 9), and a tool-lending ledger across three collections with a
 * causally consistent session, snapshot read concern and majority write concern.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MongoClient, type ClientSession, type Db } from 'mongodb';
import { Dossier } from '../../src/index.js';
import { MONGOOSES } from '../helpers/mongooses.js';


describe('seed program 1: a mongoose bank transfer', () => {
  let dossier: Dossier;
  before(async () => {
    dossier = await Dossier.create();
  });
  after(async () => {
    await dossier.stop();
  });

  for (const [label, mongoose] of MONGOOSES) {
    it(`${label}: transfer commits both halves, abort leaves nothing, Connection#transaction retries conflicts`, async () => {
      const conn = await mongoose.createConnection(dossier.getUri(`bank_${label.replace(/\W/g, '')}`)).asPromise();
      try {
        const Account = conn.model('Account', new mongoose.Schema({ _id: String, balance: Number }));
        await Account.create([{ _id: 'alice', balance: 100 }, { _id: 'bob', balance: 100 }]);

        async function transfer(from: string, to: string, amount: number, commit: boolean): Promise<void> {
          const session = await conn.startSession();
          session.startTransaction();
          try {
            await Account.updateOne({ _id: from }, { $inc: { balance: -amount } }).session(session);
            await Account.updateOne({ _id: to }, { $inc: { balance: amount } }).session(session);
            if (commit) await session.commitTransaction();
            else await session.abortTransaction();
          } finally {
            await session.endSession();
          }
        }

        await transfer('alice', 'bob', 30, true);
        assert.deepEqual((await Account.find().sort({ _id: 1 }).lean()).map((a) => a.balance), [70, 130]);
        await transfer('alice', 'bob', 50, false);
        assert.deepEqual((await Account.find().sort({ _id: 1 }).lean()).map((a) => a.balance), [70, 130]);

        // Many concurrent transfers through Connection#transaction: conflicts are retried until each commits.
        await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            conn.transaction(async (session) => {
              const [from, to] = i % 2 ? ['alice', 'bob'] : ['bob', 'alice'];
              await Account.updateOne({ _id: from }, { $inc: { balance: -1 } }).session(session);
              await Account.updateOne({ _id: to }, { $inc: { balance: 1 } }).session(session);
            }),
          ),
        );
        const balances = (await Account.find().lean()).map((a) => a.balance as number);
        assert.equal(balances.reduce((x, y) => x + y, 0), 200);
        assert.deepEqual(balances.sort(), [130, 70].sort());
      } finally {
        await conn.close();
      }
    });
  }
});

describe('seed program 2: a tool-lending ledger across three collections', () => {
  let dossier: Dossier;
  let client: MongoClient;
  let db: Db;
  before(async () => {
    dossier = await Dossier.create();
    client = await MongoClient.connect(dossier.uri);
    db = client.db('tools');
    await db.collection('tools').insertMany([
      { _id: 'drill', name: 'Drill', heldBy: null },
      { _id: 'saw', name: 'Saw', heldBy: null },
    ] as never[]);
    await db.collection('people').insertMany([
      { _id: 'ann', name: 'Ann', borrowed: [] },
      { _id: 'ben', name: 'Ben', borrowed: [] },
    ] as never[]);
    await db.createCollection('lendingLedger');
  });
  after(async () => {
    await client.close();
    await dossier.stop();
  });

  /** Lends a tool: all three collections change together, or none does. */
  async function lend(toolId: string, personId: string): Promise<'lent' | 'unavailable'> {
    const session: ClientSession = client.startSession({ causalConsistency: true });
    try {
      session.startTransaction({ readConcern: { level: 'snapshot' }, writeConcern: { w: 'majority' } });
      const tools = db.collection('tools');
      const taken = await tools.updateOne({ _id: toolId as never, heldBy: null }, { $set: { heldBy: personId } }, { session });
      await db.collection('lendingLedger').insertOne({ tool: toolId, person: personId, at: new Date() }, { session });
      await db.collection('people').updateOne({ _id: personId as never }, { $push: { borrowed: toolId } as never }, { session });
      if (taken.modifiedCount === 0) {
        await session.abortTransaction();
        return 'unavailable';
      }
      await session.commitTransaction();
      return 'lent';
    } finally {
      await session.endSession();
    }
  }

  it('lends a free tool: the tool, the person and the ledger change together', async () => {
    assert.equal(await lend('drill', 'ann'), 'lent');
    assert.equal((await db.collection('tools').findOne({ _id: 'drill' as never }))?.heldBy, 'ann');
    assert.deepEqual((await db.collection('people').findOne({ _id: 'ann' as never }))?.borrowed, ['drill']);
    assert.equal(await db.collection('lendingLedger').countDocuments().catch(async () => (await db.collection('lendingLedger').find().toArray()).length), 1);
  });

  it('a held tool: the conditional update matches nothing, the code aborts, and none of the three collections changes', async () => {
    const snapshot = async () => ({
      tools: await db.collection('tools').find().sort({ _id: 1 }).toArray(),
      people: await db.collection('people').find().sort({ _id: 1 }).toArray(),
      ledger: await db.collection('lendingLedger').find().toArray(),
    });
    const before = await snapshot();
    assert.equal(await lend('drill', 'ben'), 'unavailable');
    assert.deepEqual(await snapshot(), before);
  });
});
