/**
 * Snapshot isolation under load: 8 clients run random transfers while readers sum every balance
 * inside snapshot transactions. Every sum a reader sees must equal the starting total (no read
 * skew), for at least 20,000 committed transfers; at the end the total and the count are intact
 * and no balance went negative.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MongoClient, type Collection } from 'mongodb';
import { Dossier } from '../../src/index.js';

const ACCOUNTS = 200;
const START_BALANCE = 1000;
const TRANSFERS_MIN = 20_000;
const WRITERS = 8;
const READERS = 2;

type Account = { _id: number; balance: number };

describe('bank under concurrency', () => {
  let dossier: Dossier;
  const clients: MongoClient[] = [];
  before(async () => {
    dossier = await Dossier.create();
    for (let i = 0; i < 3; i++) clients.push(await MongoClient.connect(dossier.uri, { maxPoolSize: 8 }));
    await clients[0]!.db('bank').collection<Account>('accounts').insertMany(Array.from({ length: ACCOUNTS }, (_, i) => ({ _id: i, balance: START_BALANCE })));
  });
  after(async () => {
    for (const c of clients) await c.close();
    await dossier.stop();
  });

  it(`${WRITERS} writers, ${READERS} snapshot readers, ${TRANSFERS_MIN}+ transfers: no read skew, nothing lost`, { timeout: 600_000 }, async () => {
    const total = ACCOUNTS * START_BALANCE;
    let committed = 0;
    let retries = 0;
    let sums = 0;
    let stop = false;
    let seed = 12345;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };

    const writer = async (client: MongoClient): Promise<void> => {
      const accounts: Collection<Account> = client.db('bank').collection<Account>('accounts');
      while (committed < TRANSFERS_MIN) {
        const from = random(ACCOUNTS);
        let to = random(ACCOUNTS);
        if (to === from) to = (to + 1) % ACCOUNTS;
        const amount = 1 + random(20);
        const session = client.startSession();
        try {
          await session.withTransaction(
            async () => {
              retries++;
              const a = await accounts.findOne({ _id: from }, { session });
              if (!a || a.balance < amount) return;
              await accounts.updateOne({ _id: from }, { $inc: { balance: -amount } }, { session });
              await accounts.updateOne({ _id: to }, { $inc: { balance: amount } }, { session });
            },
            { readConcern: { level: 'snapshot' }, writeConcern: { w: 'majority' } },
          );
          retries--;
          committed++;
        } finally {
          await session.endSession();
        }
      }
    };

    const reader = async (client: MongoClient): Promise<void> => {
      const accounts = client.db('bank').collection<Account>('accounts');
      while (!stop) {
        const session = client.startSession();
        try {
          session.startTransaction({ readConcern: { level: 'snapshot' } });
          const all = await accounts.find({}, { session }).toArray();
          await session.commitTransaction();
          const sum = all.reduce((s, a) => s + a.balance, 0);
          assert.equal(all.length, ACCOUNTS);
          assert.equal(sum, total, `a snapshot reader saw ${sum}, not ${total}`);
          sums++;
        } finally {
          await session.endSession();
        }
      }
    };

    const readers = Array.from({ length: READERS }, (_, i) => reader(clients[i % clients.length]!));
    await Promise.all(Array.from({ length: WRITERS }, (_, i) => writer(clients[i % clients.length]!)));
    stop = true;
    await Promise.all(readers);

    const final = await clients[0]!.db('bank').collection<Account>('accounts').find().toArray();
    assert.equal(final.length, ACCOUNTS);
    assert.equal(final.reduce((s, a) => s + a.balance, 0), total);
    assert.ok(final.every((a) => a.balance >= 0));
    assert.ok(committed >= TRANSFERS_MIN);
    assert.ok(sums > 0, 'the readers ran');
    // eslint-disable-next-line no-console
    console.log(`# bank: ${committed} transfers committed, ${retries} transient retries, ${sums} snapshot sums checked`);
  });
});
