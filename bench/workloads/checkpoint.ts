/**
 * checkpoint: how long commands wait while a checkpoint runs. A durable server holds 100,000
 * documents of ~200 bytes written since its last checkpoint; `fsync` then checkpoints all of them
 * while another connection pings without pause. The ping latencies during the checkpoint are
 * compared with the same pings on the idle server (the bound: a few milliseconds).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { log, type Context } from '../lib/context.js';
import { removeDirLater, startDossierServer } from '../lib/procs.js';
import { Latencies, nowMs } from '../lib/stats.js';

const DOCUMENTS = 100_000;
const BATCH = 1000;
const PAUSE_GOAL_MS = 5;

type Doc = { _id: number; pad: string; n: number };

async function pingWhile(client: MongoClient, running: () => boolean): Promise<Latencies> {
  const samples = new Latencies();
  const admin = client.db('admin');
  while (running()) {
    const t0 = nowMs();
    await admin.command({ ping: 1 });
    samples.add(nowMs() - t0);
  }
  return samples;
}

export async function runCheckpoint(ctx: Context): Promise<void> {
  const documents = ctx.options.quick ? DOCUMENTS / 10 : DOCUMENTS;
  log(`checkpoint: ${documents} documents, then fsync while pinging`);
  const dir = mkdtempSync(join(tmpdir(), 'dossier-bench-ckpt-'));
  const remove = removeDirLater(dir);
  // syncdelay far away: the only checkpoint is the one fsync asks for.
  const server = await startDossierServer(dir);
  const uri = `mongodb://127.0.0.1:${server.port}/?directConnection=true`;
  const writer = await MongoClient.connect(uri);
  const pinger = await MongoClient.connect(uri, { maxPoolSize: 1 });
  try {
    await writer.db('admin').command({ setParameter: 1, syncdelay: 3600 });
    await writer.db('admin').command({ fsync: 1 });
    const coll = writer.db('ckpt').collection<Doc>('c');
    for (let i = 0; i < documents; i += BATCH) {
      await coll.insertMany(Array.from({ length: BATCH }, (_, k) => ({ _id: i + k, pad: 'x'.repeat(170), n: i + k })), { writeConcern: { w: 1 } });
    }
    let idleDone = false;
    const idleStop = setTimeout(() => (idleDone = true), 2000);
    const idle = await pingWhile(pinger, () => !idleDone);
    clearTimeout(idleStop);
    let checkpointing = true;
    const t0 = nowMs();
    const during = pingWhile(pinger, () => checkpointing);
    await writer.db('admin').command({ fsync: 1 });
    const checkpointMs = nowMs() - t0;
    checkpointing = false;
    const busy = await during;
    // The p99 rather than the maximum: on a shared machine the idle server's own maximum (GC, the
    // scheduler) is as large as anything a checkpoint adds.
    const pause = busy.percentile(99) - idle.percentile(99);
    ctx.rows.push({
      kind: 'value', workload: 'checkpoint', metric: `p99 ping during a checkpoint of ${documents} documents, above the idle p99`, target: 'dossier-durable', label: 'Dossier durable (TCP, --dbpath)',
      value: pause, unit: 'ms', goal: `≤ ${PAUSE_GOAL_MS}`, met: pause <= PAUSE_GOAL_MS,
      note: `checkpoint (fsync) took ${checkpointMs.toFixed(0)} ms; pings during it: ${busy.count}, p50 ${busy.percentile(50).toFixed(2)} ms, p99 ${busy.percentile(99).toFixed(2)} ms, max ${busy.percentile(100).toFixed(2)} ms; idle p50 ${idle.percentile(50).toFixed(2)} ms, p99 ${idle.percentile(99).toFixed(2)} ms, max ${idle.percentile(100).toFixed(2)} ms`,
    });
    log(`  checkpoint ${checkpointMs.toFixed(0)} ms; ping max ${busy.percentile(100).toFixed(2)} ms (idle p50 ${idle.percentile(50).toFixed(2)} ms)`);
  } finally {
    await writer.close();
    await pinger.close();
    await server.stop();
    remove();
  }
}
