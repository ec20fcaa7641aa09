/**
 * bank: 10,000 accounts of balance 1000; each transfer reads both balances and writes both in
 * one transaction (snapshot isolation; the read-modify-write with $set makes a lost update show
 * up in the final total), retried on transient errors. At the end of each target the total,
 * the count and the smallest balance are checked.
 */
import { MongoClient, type ClientSession, type Collection } from 'mongodb';
import type pg from 'pg';
import type { Long } from 'bson';
import { LABELS, log, type Context, type WireTarget } from '../lib/context.js';
import { CommandFailed, LeanConnection } from '../lib/lean-client.js';
import { measure } from '../lib/measure.js';
import { nowMs } from '../lib/stats.js';
import type { ClientKind, RatioSpec, TargetId } from '../lib/report.js';
import { FrameTemplate } from '../lib/wire.js';

export const ACCOUNTS = 10_000;
export const INITIAL_BALANCE = 1000;
const AMOUNT_MAX = 50;
const DB = 'bank';
const COLL = 'accounts';
/** A commit whose outcome is unknown is retried this many times before the run gives up. */
const COMMIT_RETRIES_MAX = 5;

interface Account {
  _id: number;
  balance: number;
}

interface Transfer {
  from: number;
  to: number;
  amount: number;
}

function randomTransfer(): Transfer {
  const from = Math.floor(Math.random() * ACCOUNTS);
  let to = Math.floor(Math.random() * (ACCOUNTS - 1));
  if (to >= from) to++;
  return { from, to, amount: 1 + Math.floor(Math.random() * AMOUNT_MAX) };
}

interface Totals {
  count: number;
  total: number;
  min: number;
}

/** One client: does a transfer, returns the retries it took. */
type TransferFn = (t: Transfer) => Promise<number>;

/** Mean time per command of the lean transfer, summed over its connections (reset per cell). */
export const LEAN_STEPS = ['find (starts the transaction, snapshot)', 'find', 'update $set', 'update $set', 'commitTransaction (w: majority)'] as const;

class StepTimes {
  readonly sumMs: number[] = LEAN_STEPS.map(() => 0);
  readonly count: number[] = LEAN_STEPS.map(() => 0);

  add(step: number, ms: number): void {
    this.sumMs[step]! += ms;
    this.count[step]! += 1;
  }

  reset(): void {
    this.sumMs.fill(0);
    this.count.fill(0);
  }

  meanMs(step: number): number {
    return this.count[step]! > 0 ? this.sumMs[step]! / this.count[step]! : Number.NaN;
  }
}

interface BankSide {
  client: ClientKind;
  /** Per-command times, for the lean client only. */
  steps?: StepTimes;
  open(): Promise<{ transfer: TransferFn; close(): Promise<void> }>;
  close(): Promise<void>;
}

interface BankTarget {
  target: TargetId;
  label: string;
  serverCpu?: () => number;
  seed(): Promise<void>;
  sides: BankSide[];
  /** Absent when the target keeps no data (the ceiling). */
  totals?: () => Promise<Totals>;
}

async function seedMongo(uri: string): Promise<void> {
  const client = new MongoClient(uri);
  try {
    const coll = client.db(DB).collection<Account>(COLL);
    await coll.drop().catch(() => undefined);
    for (let i = 0; i < ACCOUNTS; i += 1000) {
      await coll.insertMany(Array.from({ length: Math.min(1000, ACCOUNTS - i) }, (_, j) => ({ _id: i + j, balance: INITIAL_BALANCE })));
    }
  } finally {
    await client.close();
  }
}

async function totalsMongo(uri: string): Promise<Totals> {
  const client = new MongoClient(uri);
  try {
    const [r] = await client.db(DB).collection<Account>(COLL)
      .aggregate<Totals>([{ $group: { _id: null, count: { $sum: 1 }, total: { $sum: '$balance' }, min: { $min: '$balance' } } }])
      .toArray();
    return r ?? { count: 0, total: 0, min: 0 };
  } finally {
    await client.close();
  }
}

function driverSide(t: WireTarget): BankSide {
  const client = new MongoClient(t.uri, { maxPoolSize: 64 });
  const coll: Collection<Account> = client.db(DB).collection<Account>(COLL);
  return {
    client: 'driver',
    async open() {
      const session: ClientSession = client.startSession();
      const transfer: TransferFn = async ({ from, to, amount }) => {
        let attempts = 0;
        await session.withTransaction(
          async () => {
            attempts++;
            const a = await coll.findOne({ _id: from }, { session });
            const b = await coll.findOne({ _id: to }, { session });
            if (!a || !b) throw new Error(`account ${from} or ${to} is missing`);
            if (a.balance < amount) return;
            await coll.updateOne({ _id: from }, { $set: { balance: a.balance - amount } }, { session });
            await coll.updateOne({ _id: to }, { $set: { balance: b.balance + amount } }, { session });
          },
          { readConcern: { level: 'snapshot' }, writeConcern: { w: 'majority' } },
        );
        return attempts - 1;
      };
      return { transfer, close: () => session.endSession() };
    },
    close: () => client.close(),
  };
}

function balanceOf(reply: { cursor?: { firstBatch?: Array<{ balance?: unknown }> } }, id: number): number {
  const b = reply.cursor?.firstBatch?.[0]?.balance;
  if (typeof b !== 'number') throw new Error(`account ${id} is missing`);
  return b;
}

/** The transfer as five prebuilt frames on one connection and one session, as the issue describes. */
function leanSide(t: WireTarget): BankSide {
  const conns: LeanConnection[] = [];
  const steps = new StepTimes();
  return {
    client: 'lean',
    steps,
    async open() {
      const c = await LeanConnection.open(t.port);
      conns.push(c);
      const lsid = c.lsid;
      const txnFields = (txn: number | Long): Record<string, unknown> => ({ lsid, txnNumber: txn, autocommit: false });
      const findFirst = new FrameTemplate(['int32', 'int64'], ([id, txn]) => ({
        find: COLL, filter: { _id: id }, limit: 1, singleBatch: true, ...txnFields(txn!), startTransaction: true, readConcern: { level: 'snapshot' }, $db: DB,
      }));
      const findNext = new FrameTemplate(['int32', 'int64'], ([id, txn]) => ({ find: COLL, filter: { _id: id }, limit: 1, singleBatch: true, ...txnFields(txn!), $db: DB }));
      const setBalance = new FrameTemplate(['int32', 'int32', 'int64'], ([id, balance, txn]) => ({
        update: COLL, updates: [{ q: { _id: id }, u: { $set: { balance } } }], ordered: true, ...txnFields(txn!), $db: DB,
      }));
      const commit = new FrameTemplate(['int64'], ([txn]) => ({ commitTransaction: 1, ...txnFields(txn!), writeConcern: { w: 'majority' }, $db: 'admin' }));
      const abort = new FrameTemplate(['int64'], ([txn]) => ({ abortTransaction: 1, ...txnFields(txn!), $db: 'admin' }));
      const transfer: TransferFn = async ({ from, to, amount }) => {
        for (let retries = 0; ; retries++) {
          const txn = ++c.txnNumber;
          try {
            let t = nowMs();
            const timed = async <T>(step: number, p: Promise<T>): Promise<T> => {
              const r = await p;
              const now = nowMs();
              steps.add(step, now - t);
              t = now;
              return r;
            };
            const a = balanceOf(await timed(0, c.command(findFirst.frame(c.requestId(), [from, txn]))), from);
            const b = balanceOf(await timed(1, c.command(findNext.frame(c.requestId(), [to, txn]))), to);
            if (a >= amount) {
              await timed(2, c.command(setBalance.frame(c.requestId(), [from, a - amount, txn])));
              await timed(3, c.command(setBalance.frame(c.requestId(), [to, b + amount, txn])));
            }
            for (let attempt = 0; ; attempt++) {
              try {
                t = nowMs();
                await timed(4, c.command(commit.frame(c.requestId(), [txn])));
                break;
              } catch (e) {
                if (!(e instanceof CommandFailed) || !e.unknownCommitResult || attempt >= COMMIT_RETRIES_MAX) throw e;
              }
            }
            return retries;
          } catch (e) {
            if (!(e instanceof CommandFailed) || !e.transient) throw e;
            // As the driver does: abort (the server may have aborted already; its answer does not matter).
            await c.command(abort.frame(c.requestId(), [txn])).catch(() => undefined);
          }
        }
      };
      return { transfer, close: async () => c.close() };
    },
    close: async () => {
      for (const c of conns) c.close();
    },
  };
}

const PG_RETRY_CODES = new Set(['40001', '40P01']);

function postgresTarget(ctx: Context): BankTarget {
  const clients: pg.Client[] = [];
  return {
    target: 'postgres',
    label: LABELS.postgres,
    async seed() {
      const c = await (await ctx.postgres()).client();
      try {
        await c.query('DROP TABLE IF EXISTS accounts');
        await c.query('CREATE TABLE accounts (id integer PRIMARY KEY, balance integer NOT NULL)');
        await c.query('INSERT INTO accounts SELECT i, $1 FROM generate_series(0, $2::integer - 1) AS i', [INITIAL_BALANCE, ACCOUNTS]);
        await c.query('VACUUM ANALYZE accounts');
      } finally {
        await c.end();
      }
    },
    sides: [
      {
        client: 'pg',
        async open() {
          const c = await (await ctx.postgres()).client();
          clients.push(c);
          const balance = async (id: number): Promise<number> => {
            const r = await c.query<{ balance: number }>({ name: 'bal', text: 'SELECT balance FROM accounts WHERE id = $1', values: [id] });
            if (r.rows.length !== 1) throw new Error(`account ${id} is missing`);
            return r.rows[0]!.balance;
          };
          const set = (id: number, v: number): Promise<unknown> => c.query({ name: 'set', text: 'UPDATE accounts SET balance = $1 WHERE id = $2', values: [v, id] });
          const transfer: TransferFn = async ({ from, to, amount }) => {
            for (let retries = 0; ; retries++) {
              try {
                await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
                const a = await balance(from);
                const b = await balance(to);
                if (a >= amount) {
                  await set(from, a - amount);
                  await set(to, b + amount);
                }
                await c.query('COMMIT');
                return retries;
              } catch (e) {
                await c.query('ROLLBACK').catch(() => undefined);
                if (!PG_RETRY_CODES.has(String((e as { code?: unknown }).code))) throw e;
              }
            }
          };
          return { transfer, close: async () => undefined };
        },
        close: async () => {
          await Promise.all(clients.map((c) => c.end()));
          clients.length = 0;
        },
      },
    ],
    async totals() {
      const c = await (await ctx.postgres()).client();
      try {
        const r = await c.query<{ count: string; total: string; min: number }>('SELECT count(*) AS count, sum(balance) AS total, min(balance) AS min FROM accounts');
        const row = r.rows[0]!;
        return { count: Number(row.count), total: Number(row.total), min: Number(row.min) };
      } finally {
        await c.end();
      }
    },
  };
}

function mongoTarget(t: WireTarget, withLean: boolean, keepsData: boolean): BankTarget {
  const sides = [driverSide(t)];
  if (withLean) sides.push(leanSide(t));
  return {
    target: t.target, label: t.label, ...(t.serverCpu ? { serverCpu: t.serverCpu } : {}),
    seed: () => seedMongo(t.uri),
    sides,
    ...(keepsData ? { totals: () => totalsMongo(t.uri) } : {}),
  };
}

async function targets(ctx: Context): Promise<Array<() => Promise<BankTarget>>> {
  const out: Array<() => Promise<BankTarget>> = [];
  if (ctx.wants('dossier-durable')) out.push(async () => mongoTarget(await ctx.dossierDurable(), true, true));
  if (ctx.wants('dossier-memory')) out.push(async () => mongoTarget(await ctx.dossierMemory(), true, true));
  if (ctx.wants('dossier-inproc')) out.push(async () => mongoTarget(await ctx.dossierInproc(), false, true));
  if (ctx.wants('ceiling')) out.push(async () => mongoTarget(await ctx.ceiling(), true, false));
  if (ctx.wants('postgres')) out.push(async () => postgresTarget(ctx));
  return out;
}

export async function runBank(ctx: Context): Promise<void> {
  const { options } = ctx;
  for (const id of ['nedb-memory', 'nedb-file', 'lokijs'] as const) {
    if (ctx.wants(id)) ctx.rows.push({ kind: 'skipped', workload: 'bank', target: id, client: 'embedded', label: LABELS[id], reason: 'no multi-document transactions' });
  }
  for (const make of await targets(ctx)) {
    let target: BankTarget | undefined;
    try {
      target = await make();
      log(`bank: ${target.label}`);
      await target.seed();
      for (const side of target.sides) {
        for (const clients of options.clients) {
          const conns = await Promise.all(Array.from({ length: clients }, () => side.open()));
          side.steps?.reset();
          try {
            const m = await measure(
              { clients, seconds: options.bankSeconds, warmupSeconds: options.warmupSeconds, ...(target.serverCpu ? { serverCpu: target.serverCpu } : {}) },
              (c) => conns[c]!.transfer(randomTransfer()),
            );
            ctx.rows.push({ kind: 'throughput', workload: 'bank', op: 'transfer', target: target.target, client: side.client, label: target.label, clients, ...m });
            log(`  ${side.client} × ${clients}: ${m.opsPerSec.toFixed(0)} tx/s, p50 ${m.p50Ms.toFixed(2)} ms, p99 ${m.p99Ms.toFixed(2)} ms, ${m.retries} retries`);
            // At one client a command's latency is the server's time plus the wire's: where a transfer's time goes.
            if (side.steps && clients === 1) {
              for (let i = 0; i < LEAN_STEPS.length; i++) {
                ctx.rows.push({ kind: 'value', workload: 'bank', metric: `lean transfer at 1 client, mean latency of step ${i + 1}: ${LEAN_STEPS[i]}`, target: target.target, label: target.label, value: side.steps.meanMs(i), unit: 'ms' });
              }
            }
          } finally {
            await Promise.all(conns.map((c) => c.close()));
          }
        }
        await side.close();
      }
      if (target.totals) {
        const t = await target.totals();
        const expected = ACCOUNTS * INITIAL_BALANCE;
        const ok = t.count === ACCOUNTS && t.total === expected && t.min >= 0;
        ctx.rows.push({
          kind: 'value', workload: 'bank', metric: 'invariants after the run (total, count, no negative balance)', target: target.target, label: target.label,
          value: t.total, unit: '', goal: `total = ${expected.toLocaleString('en-US')}`, met: ok, note: `count ${t.count}, smallest balance ${t.min}`,
        });
        log(`  invariants: ${ok ? 'hold' : 'BROKEN'} (count ${t.count}, total ${t.total}, min ${t.min})`);
      }
    } catch (e) {
      const label = target?.label ?? 'a bank target';
      log(`bank: ${label} failed: ${(e as Error).stack ?? String(e)}`);
      ctx.rows.push({ kind: 'skipped', workload: 'bank', target: target?.target ?? 'dossier-memory', client: 'driver', label, reason: `failed: ${(e as Error).message.split('\n')[0]}` });
      for (const side of target?.sides ?? []) await side.close().catch(() => undefined);
    }
  }
}

export function bankRatios(): RatioSpec[] {
  return [
    { name: 'Dossier durable (driver) / driver ceiling', workload: 'bank', numerator: { target: 'dossier-durable', client: 'driver' }, denominator: { target: 'ceiling', client: 'driver' }, goalByClients: { 1: 0.75, 8: 0.75 } },
    { name: 'Dossier durable (lean) / PostgreSQL', workload: 'bank', numerator: { target: 'dossier-durable', client: 'lean' }, denominator: { target: 'postgres', client: 'pg' }, goalByClients: { 1: 1.0, 8: 1.0, 32: 0.8 }, p99RatioMax: 1.5 },
    { name: 'Dossier durable (lean) / lean ceiling', workload: 'bank', numerator: { target: 'dossier-durable', client: 'lean' }, denominator: { target: 'ceiling', client: 'lean' } },
    { name: 'Dossier memory (driver) / driver ceiling', workload: 'bank', numerator: { target: 'dossier-memory', client: 'driver' }, denominator: { target: 'ceiling', client: 'driver' } },
    { name: 'Dossier memory (lean) / PostgreSQL', workload: 'bank', numerator: { target: 'dossier-memory', client: 'lean' }, denominator: { target: 'postgres', client: 'pg' } },
    { name: 'Dossier in-process (driver) / driver ceiling', workload: 'bank', numerator: { target: 'dossier-inproc', client: 'driver' }, denominator: { target: 'ceiling', client: 'driver' } },
    { name: 'PostgreSQL / driver ceiling', workload: 'bank', numerator: { target: 'postgres', client: 'pg' }, denominator: { target: 'ceiling', client: 'driver' } },
  ];
}
