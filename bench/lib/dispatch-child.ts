/**
 * Run in a fresh process by the crud workload: the server's own CPU per operation without the
 * socket. The same OP_MSG frames the lean client sends go through the server's path (wire decode,
 * dispatchCommand, reply encode) inside this process, one at a time, and `process.cpuUsage` is
 * read around the loop. Over TCP the kernel's loopback send, which wakes the reading process, adds
 * 30-300 µs per reply on a loaded VM; this is what is left when that is taken away. The CPU of
 * every thread counts, so a durable write pays for its journal write in libuv's thread pool;
 * CLIENTS loops run side by side, as that many connections would, so group commit can share it.
 * Prints one JSON line: { "<engine>": { "<op>": µs per op } }.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Dossier } from '../../src/index.js';
import { dispatchCommand, type ConnectionInfo } from '../../src/commands/index.js';
import { decodeMessage, encodeOpMsgReply } from '../../src/wire/index.js';
import { COLL, DB, SEED_DOCS, crudDoc, crudFrames } from './crud-shape.js';

const ops = Number(process.argv[2] ?? 20_000);
/** Operations in flight at once (connections, for the server). */
const CLIENTS = 8;

const { findById, incById } = crudFrames();
const templates = { 'findOne by _id': findById, 'updateOne $inc by _id': incById };

async function measure(dossier: Dossier): Promise<Record<string, number>> {
  const connection: ConnectionInfo = { id: 1, remote: 'in-process', local: 'in-process', clientMetadata: undefined, helloDone: true, closed: false, connectedAtMs: Date.now() };
  const run = async (frame: Buffer, requestId: number): Promise<void> => {
    const msg = decodeMessage(frame);
    if (msg.opCode !== 'msg') throw new Error('expected OP_MSG');
    const { reply } = await dispatchCommand(dossier.instance, connection, DB, msg.body);
    if (Number(reply.ok) !== 1) throw new Error(`command failed: ${String(reply.errmsg)}`);
    encodeOpMsgReply(reply, requestId, requestId);
  };
  for (let i = 0; i < SEED_DOCS; i += 1000) {
    const documents = Array.from({ length: 1000 }, (_, j) => crudDoc(i + j));
    await dispatchCommand(dossier.instance, connection, DB, { insert: COLL, documents, $db: DB });
  }
  const out: Record<string, number> = {};
  for (const [op, template] of Object.entries(templates)) {
    const frames = Array.from({ length: SEED_DOCS }, (_, i) => template.frame(i + 1, [i]));
    for (let i = 0; i < ops / 4; i++) await run(frames[i % SEED_DOCS]!, i);
    const before = process.cpuUsage();
    let next = 0;
    await Promise.all(Array.from({ length: CLIENTS }, async () => {
      while (next < ops) {
        const i = next++;
        await run(frames[(i * 7919) % SEED_DOCS]!, i);
      }
    }));
    const used = process.cpuUsage(before);
    out[op] = (used.user + used.system) / ops;
  }
  return out;
}

const results: Record<string, Record<string, number>> = {};
// The first pass warms the JIT up, so neither engine's figure pays for compiling the path.
for (let pass = 0; pass < 2; pass++) {
  const dossier = await Dossier.create();
  try {
    results.memory = await measure(dossier);
  } finally {
    await dossier.stop();
  }
}
const dir = mkdtempSync(join(tmpdir(), 'dossier-bench-dispatch-'));
try {
  const dossier = await Dossier.create({ dbPath: dir });
  try {
    results.durable = await measure(dossier);
  } finally {
    await dossier.stop();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.stdout.write(`${JSON.stringify(results)}\n`);
