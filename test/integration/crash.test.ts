/**
 * Crash recovery: a real server process with --dbpath takes bank transfers (snapshot read concern,
 * majority write concern) and inserts (w: "majority") from 8 clients and is killed with SIGKILL at
 * a random moment, again and again. After every restart: each acknowledged insert and transfer is
 * there, every transfer is all-or-nothing (each balance equals 1000 plus what the transfer ledger
 * says came in minus what went out), the total is unchanged, no balance is negative, and validate
 * passes on every collection.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { MongoClient } from 'mongodb';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const BIN = join(ROOT, 'bin', 'dossier.js');
const CYCLES = 20;
const CLIENTS = 8;
const ACCOUNTS = 100;
const START_BALANCE = 1000;

type Account = { _id: number; balance: number };
type Transfer = { _id: string; from: number; to: number; amount: number };
type Event = { _id: string };

const children = new Set<ChildProcess>();
const dir = mkdtempSync(join(tmpdir(), 'dossier-crash-'));
after(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** Starts the server and resolves with its port once it logs that it listens. */
function startServer(): Promise<{ child: ChildProcess; port: number; exited: Promise<void> }> {
  const child = spawn(process.execPath, [BIN, '--port', '0', '--dbpath', dir, '--setParameter', 'syncdelay=1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => (children.delete(child), resolve())));
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const m = /Dossier listening on [^:]+:(\d+)/.exec(line);
      if (m) resolve({ child, port: Number(m[1]), exited });
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code} before listening: ${stderr}`)));
  });
}

function client(port: number): MongoClient {
  return new MongoClient(`mongodb://127.0.0.1:${port}/?replicaSet=rs0`, { serverSelectionTimeoutMS: 2000, connectTimeoutMS: 2000, maxPoolSize: 2 });
}

function randomInt(n: number): number {
  return Math.floor(Math.random() * n);
}

describe('crash recovery under load', () => {
  it(`loses nothing acknowledged across ${CYCLES} SIGKILLs`, async () => {
    const ackedInserts: string[] = [];
    const ackedTransfers: string[] = [];
    let seq = 0;

    {
      const { child, port, exited } = await startServer();
      const c = client(port);
      const accounts = c.db('bank').collection<Account>('accounts');
      await accounts.insertMany(Array.from({ length: ACCOUNTS }, (_, i) => ({ _id: i, balance: START_BALANCE })), { writeConcern: { w: 'majority' } });
      await c.db('bank').createCollection('transfers');
      await c.db('bank').createCollection('events');
      await c.close();
      child.kill('SIGKILL');
      await exited;
    }

    let stats = { transfers: 0, inserts: 0, failed: 0 };
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const { child, port, exited } = await startServer();
      await verify(port, ackedInserts, ackedTransfers, cycle);

      let stopped = false;
      const clients = Array.from({ length: CLIENTS }, () => client(port));
      const workers = clients.map(async (c, w) => {
        await c.connect().catch(() => undefined);
        const db = c.db('bank');
        while (!stopped) {
          const id = `${cycle}-${w}-${seq++}`;
          try {
            if (Math.random() < 0.5) {
              await db.collection<Event>('events').insertOne({ _id: id }, { writeConcern: { w: 'majority' } });
              ackedInserts.push(id);
              stats.inserts++;
            } else if (await transfer(c, id)) {
              ackedTransfers.push(id);
              stats.transfers++;
            }
          } catch {
            stats.failed++;
            if (stopped) break;
          }
        }
      });
      await new Promise((r) => setTimeout(r, 150 + randomInt(1200)));
      child.kill('SIGKILL');
      stopped = true;
      await exited;
      await Promise.all(clients.map((c) => c.close(true).catch(() => undefined)));
      await Promise.all(workers);
    }
    const { port, child, exited } = await startServer();
    await verify(port, ackedInserts, ackedTransfers, CYCLES);
    child.kill('SIGTERM');
    await exited;
    assert.ok(stats.transfers > CYCLES && stats.inserts > CYCLES, `the load did work: ${JSON.stringify(stats)}`);
  });
});

/** One transfer in a snapshot transaction with majority write concern; false if it was refused for funds. */
async function transfer(c: MongoClient, id: string): Promise<boolean> {
  const db = c.db('bank');
  const accounts = db.collection<Account>('accounts');
  const from = randomInt(ACCOUNTS);
  const to = (from + 1 + randomInt(ACCOUNTS - 1)) % ACCOUNTS;
  const amount = 1 + randomInt(50);
  const session = c.startSession();
  try {
    session.startTransaction({ readConcern: { level: 'snapshot' }, writeConcern: { w: 'majority' } });
    const a = await accounts.findOne({ _id: from }, { session });
    await accounts.findOne({ _id: to }, { session });
    if (!a || a.balance < amount) {
      await session.abortTransaction();
      return false;
    }
    await accounts.updateOne({ _id: from }, { $inc: { balance: -amount } }, { session });
    await accounts.updateOne({ _id: to }, { $inc: { balance: amount } }, { session });
    await db.collection<Transfer>('transfers').insertOne({ _id: id, from, to, amount }, { session });
    await session.commitTransaction();
    return true;
  } catch (e) {
    if (session.inTransaction()) await session.abortTransaction().catch(() => undefined);
    throw e;
  } finally {
    await session.endSession().catch(() => undefined);
  }
}

async function verify(port: number, ackedInserts: string[], ackedTransfers: string[], cycle: number): Promise<void> {
  const c = client(port);
  try {
    const db = c.db('bank');
    const accounts = await db.collection<Account>('accounts').find().toArray();
    const transfers = await db.collection<Transfer>('transfers').find().toArray();
    const events = new Set((await db.collection<Event>('events').find({}, { projection: { _id: 1 } }).toArray()).map((e) => e._id));
    const transferIds = new Set(transfers.map((t) => t._id));
    const lostInserts = ackedInserts.filter((id) => !events.has(id));
    assert.deepEqual(lostInserts, [], `after crash ${cycle}: acknowledged inserts lost`);
    const lostTransfers = ackedTransfers.filter((id) => !transferIds.has(id));
    assert.deepEqual(lostTransfers, [], `after crash ${cycle}: acknowledged transfers lost`);
    assert.equal(accounts.length, ACCOUNTS);
    const expected = new Map<number, number>(accounts.map((a) => [a._id, START_BALANCE]));
    for (const t of transfers) {
      expected.set(t.from, expected.get(t.from)! - t.amount);
      expected.set(t.to, expected.get(t.to)! + t.amount);
    }
    for (const a of accounts) {
      assert.equal(a.balance, expected.get(a._id), `after crash ${cycle}: account ${a._id} disagrees with the transfer ledger (a transfer was partly applied)`);
      assert.ok(a.balance >= 0, `after crash ${cycle}: account ${a._id} is negative`);
    }
    assert.equal(accounts.reduce((s, a) => s + a.balance, 0), ACCOUNTS * START_BALANCE, `after crash ${cycle}: total balance changed`);
    for (const name of ['accounts', 'transfers', 'events']) {
      const v = await db.command({ validate: name });
      assert.equal(v.valid, true, `after crash ${cycle}: validate ${name}: ${JSON.stringify(v.errors)}`);
    }
  } finally {
    await c.close();
  }
}
