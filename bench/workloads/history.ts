/**
 * history: transactions that keep updating a small hot set, for a fixed time, on a fresh server;
 * tx/s and the server's RSS are sampled at even intervals. Every update leaves an old version
 * behind, so memory that is not reclaimed shows up here as RSS growing with time.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { LABELS, log, type Context } from '../lib/context.js';
import { CommandFailed, LeanConnection } from '../lib/lean-client.js';
import { removeDirLater, rssBytes, startDossierServer } from '../lib/procs.js';
import { nowMs } from '../lib/stats.js';
import type { TargetId } from '../lib/report.js';
import { FrameTemplate } from '../lib/wire.js';

const HOT_DOCS = 100;
const CLIENTS = 4;
const SAMPLES = 12;
const RSS_DRIFT_MAX = 0.1;
const MB = 1024 * 1024;

async function runOne(ctx: Context, target: TargetId, label: string, dbPath: string): Promise<void> {
  const seconds = ctx.options.historySeconds;
  const server = await startDossierServer(dbPath);
  const conns: LeanConnection[] = [];
  try {
    const seed = new MongoClient(`mongodb://127.0.0.1:${server.port}/?replicaSet=rs0`);
    await seed.db('hist').collection<{ _id: number; n: number }>('hot').insertMany(Array.from({ length: HOT_DOCS }, (_, i) => ({ _id: i, n: 0 })));
    await seed.close();
    let committed = 0;
    let retries = 0;
    let stopped = false;
    const client = async (): Promise<void> => {
      const c = await LeanConnection.open(server.port);
      conns.push(c);
      const lsid = c.lsid;
      const first = new FrameTemplate(['int32', 'int64'], ([id, txn]) => ({
        update: 'hot', updates: [{ q: { _id: id }, u: { $inc: { n: 1 } } }], lsid, txnNumber: txn, autocommit: false, startTransaction: true, readConcern: { level: 'snapshot' }, $db: 'hist',
      }));
      const next = new FrameTemplate(['int32', 'int64'], ([id, txn]) => ({ update: 'hot', updates: [{ q: { _id: id }, u: { $inc: { n: 1 } } }], lsid, txnNumber: txn, autocommit: false, $db: 'hist' }));
      const commit = new FrameTemplate(['int64'], ([txn]) => ({ commitTransaction: 1, lsid, txnNumber: txn, autocommit: false, writeConcern: { w: 'majority' }, $db: 'admin' }));
      const abort = new FrameTemplate(['int64'], ([txn]) => ({ abortTransaction: 1, lsid, txnNumber: txn, autocommit: false, $db: 'admin' }));
      while (!stopped) {
        const txn = ++c.txnNumber;
        const a = Math.floor(Math.random() * HOT_DOCS);
        const b = (a + 1 + Math.floor(Math.random() * (HOT_DOCS - 1))) % HOT_DOCS;
        try {
          await c.command(first.frame(c.requestId(), [a, txn]));
          await c.command(next.frame(c.requestId(), [b, txn]));
          await c.command(commit.frame(c.requestId(), [txn]));
          committed++;
        } catch (e) {
          if (!(e instanceof CommandFailed) || !e.transient) throw e;
          retries++;
          await c.command(abort.frame(c.requestId(), [txn])).catch(() => undefined);
        }
      }
    };
    const rss: number[] = [];
    const txPerSec: number[] = [];
    const intervalMs = (seconds * 1000) / SAMPLES;
    let last = { at: nowMs(), committed: 0 };
    const sampler = setInterval(() => {
      const at = nowMs();
      txPerSec.push(((committed - last.committed) * 1000) / (at - last.at));
      rss.push(rssBytes(server.pid));
      last = { at, committed };
    }, intervalMs);
    let failure: unknown;
    const clients = Array.from({ length: CLIENTS }, () => client().catch((e: unknown) => {
      failure ??= e;
      stopped = true;
    }));
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000 + intervalMs / 2));
    stopped = true;
    clearInterval(sampler);
    await Promise.all(clients);
    if (failure !== undefined) throw failure;
    // The first sample includes start-up growth (the oplog, caches); flat means flat after it.
    const base = rss[1] ?? rss[0]!;
    const rest = rss.slice(2);
    const drift = rest.length > 0 ? Math.max(...rest.map((r) => Math.abs(r - base) / base)) : 0;
    const total = (committed * 1000) / (seconds * 1000);
    const note = `every ${(intervalMs / 1000).toFixed(1)} s — RSS MB: ${rss.map((r) => (r / MB).toFixed(0)).join(', ')}; tx/s: ${txPerSec.map((t) => t.toFixed(0)).join(', ')}`;
    ctx.rows.push({ kind: 'value', workload: 'history', metric: `RSS drift over ${seconds} s (from the 2nd sample)`, target, label, value: drift * 100, unit: '%', goal: `≤ ${RSS_DRIFT_MAX * 100}`, met: drift <= RSS_DRIFT_MAX, note });
    ctx.rows.push({ kind: 'value', workload: 'history', metric: `tx/s, ${CLIENTS} lean clients, 2 updates per tx on ${HOT_DOCS} hot docs`, target, label, value: total, unit: 'tx/s', note: `${retries} retries; last interval ${txPerSec.at(-1)?.toFixed(0)} tx/s vs first ${txPerSec[0]?.toFixed(0)}` });
    log(`  ${label}: ${total.toFixed(0)} tx/s, RSS drift ${(drift * 100).toFixed(1)}% (${note})`);
  } finally {
    for (const c of conns) c.close();
    await server.stop();
  }
}

export async function runHistory(ctx: Context): Promise<void> {
  log(`history: ${ctx.options.historySeconds} s of transactions on ${HOT_DOCS} hot documents`);
  if (ctx.wants('dossier-memory')) {
    await runOne(ctx, 'dossier-memory', LABELS['dossier-memory'], 'memory://').catch((e: unknown) => {
      log(`history failed: ${(e as Error).stack ?? String(e)}`);
      ctx.rows.push({ kind: 'skipped', workload: 'history', target: 'dossier-memory', client: 'lean', label: LABELS['dossier-memory'], reason: `failed: ${(e as Error).message}` });
    });
  }
  if (ctx.wants('dossier-durable')) {
    const dir = mkdtempSync(join(tmpdir(), 'dossier-bench-hist-'));
    removeDirLater(dir);
    const label = await ctx.durableLabel();
    await runOne(ctx, 'dossier-durable', label, join(dir, 'db')).catch((e: unknown) => {
      log(`history failed: ${(e as Error).stack ?? String(e)}`);
      ctx.rows.push({ kind: 'skipped', workload: 'history', target: 'dossier-durable', client: 'lean', label, reason: `failed: ${(e as Error).message}` });
    });
  }
}
