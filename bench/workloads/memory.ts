/**
 * memory: the server process's RSS idle and after loading N documents of ~200 bytes. Every
 * Dossier here runs in a process of its own (the in-process one in a child that only hosts it),
 * so the figure is the server's and not the bench's.
 */
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { MongoClient } from 'mongodb';
import { LABELS, log, type Context } from '../lib/context.js';
import { familyPssBytes, onCleanup, removeDirLater, ROOT, rssBytes, startDossierServer } from '../lib/procs.js';
import type { TargetId } from '../lib/report.js';
import { crudDoc, type CrudDoc } from './crud.js';

const IDLE_RSS_GOAL_MB = 80;
const MB = 1024 * 1024;
/** Long enough for start-up allocations to settle and a GC to run. */
const SETTLE_MS = 1500;

async function load(uri: string, docs: number): Promise<void> {
  const client = new MongoClient(uri);
  try {
    const coll = client.db('mem').collection<CrudDoc>('docs');
    for (let i = 0; i < docs; i += 1000) await coll.insertMany(Array.from({ length: Math.min(1000, docs - i) }, (_, j) => crudDoc(i + j)));
  } finally {
    await client.close();
  }
}

function push(ctx: Context, target: TargetId, label: string, idle: number, loaded: number, how: string): void {
  const docs = ctx.options.memoryDocs.toLocaleString('en-US');
  ctx.rows.push({ kind: 'value', workload: 'memory', metric: 'idle', target, label, value: idle / MB, unit: 'MB', ...(target.startsWith('dossier') ? { goal: `≤ ${IDLE_RSS_GOAL_MB}`, met: idle / MB <= IDLE_RSS_GOAL_MB } : {}), note: how });
  ctx.rows.push({ kind: 'value', workload: 'memory', metric: `after ${docs} docs of 200 bytes`, target, label, value: loaded / MB, unit: 'MB', note: how });
  log(`  ${label}: idle ${(idle / MB).toFixed(0)} MB, loaded ${(loaded / MB).toFixed(0)} MB`);
}

async function measureServer(ctx: Context, target: TargetId, label: string, dbPath: string): Promise<void> {
  const s = await startDossierServer(dbPath);
  try {
    await sleep(SETTLE_MS);
    const idle = rssBytes(s.pid);
    await load(`mongodb://127.0.0.1:${s.port}/?replicaSet=rs0`, ctx.options.memoryDocs);
    await sleep(SETTLE_MS);
    push(ctx, target, label, idle, rssBytes(s.pid), 'RSS of the server process');
  } finally {
    await s.stop();
  }
}

async function measureInproc(ctx: Context): Promise<void> {
  const child = spawn(process.execPath, [join(ROOT, 'dist', 'bench', 'lib', 'inproc-child.js')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const pid = child.pid!;
  const kill = onCleanup(() => {
    if (child.exitCode === null) process.kill(pid, 'SIGKILL');
  });
  try {
    const lines = createInterface({ input: child.stdout! });
    const first = await new Promise<string>((resolve, reject) => {
      lines.once('line', resolve);
      child.once('exit', (code) => reject(new Error(`in-process child exited with ${code}`)));
    });
    const { uri } = JSON.parse(first) as { uri: string };
    await sleep(SETTLE_MS);
    const idle = rssBytes(pid);
    await load(uri, ctx.options.memoryDocs);
    await sleep(SETTLE_MS);
    push(ctx, 'dossier-inproc', LABELS['dossier-inproc'], idle, rssBytes(pid), 'RSS of a process that only runs Dossier.create()');
  } finally {
    kill();
  }
}

async function measurePostgres(ctx: Context): Promise<void> {
  const peer = await ctx.postgres();
  // One connection open throughout: a backend that exits takes its share of the PSS with it.
  const c = await peer.client();
  try {
    await sleep(SETTLE_MS);
    const idle = familyPssBytes(peer.pid);
    await c.query('DROP TABLE IF EXISTS mem');
    await c.query('CREATE TABLE mem (id integer PRIMARY KEY, k integer NOT NULL, n integer NOT NULL, pad text NOT NULL)');
    await c.query('INSERT INTO mem SELECT i, i, 0, $1 FROM generate_series(0, $2::integer - 1) AS i', ['x'.repeat(162), ctx.options.memoryDocs]);
    await c.query('SELECT count(*) FROM mem');
    await sleep(SETTLE_MS);
    push(ctx, 'postgres', LABELS.postgres, idle, familyPssBytes(peer.pid), 'PSS of the postmaster and its children, one connection open (shared buffers counted once)');
  } finally {
    await c.end();
  }
}

export async function runMemory(ctx: Context): Promise<void> {
  const docs = ctx.options.memoryDocs;
  log(`memory: idle and after ${docs} documents`);
  const steps: Array<[TargetId, () => Promise<void>]> = [
    ['dossier-memory', () => measureServer(ctx, 'dossier-memory', LABELS['dossier-memory'], 'memory://')],
    ['dossier-durable', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'dossier-bench-mem-'));
      removeDirLater(dir);
      await measureServer(ctx, 'dossier-durable', await ctx.durableLabel(), join(dir, 'db'));
    }],
    ['dossier-inproc', () => measureInproc(ctx)],
    ['postgres', () => measurePostgres(ctx)],
  ];
  for (const [target, step] of steps) {
    if (!ctx.wants(target)) continue;
    try {
      await step();
    } catch (e) {
      log(`memory: ${target} failed: ${(e as Error).stack ?? String(e)}`);
      ctx.rows.push({ kind: 'skipped', workload: 'memory', target, client: 'driver', label: LABELS[target], reason: `failed: ${(e as Error).message.split('\n')[0]}` });
    }
  }
  for (const target of ['nedb-memory', 'lokijs'] as const) {
    if (!ctx.wants(target)) continue;
    const out = execFileSync(process.execPath, [join(ROOT, 'dist', 'bench', 'lib', 'embedded-child.js'), target, String(docs)], { encoding: 'utf8' });
    const { idle, loaded } = JSON.parse(out.trim().split('\n').pop()!) as { idle: number; loaded: number };
    push(ctx, target, LABELS[target], idle, loaded, 'RSS of a Node process holding only the store');
  }
}
