/**
 * Run in a fresh process by the start-up workload: `Dossier.create()` to the first successful
 * ping through the official driver, N times; prints the timings as one JSON line. A fresh
 * process, so the first run pays module loading as a test suite's first test would.
 */
import { performance } from 'node:perf_hooks';
import { MongoClient } from 'mongodb';
import { Dossier } from '../../src/index.js';

const runs = Number(process.argv[2] ?? 20);
const toPingMs: number[] = [];
const createMs: number[] = [];
for (let i = 0; i < runs; i++) {
  const t0 = performance.now();
  const dossier = await Dossier.create();
  const t1 = performance.now();
  const client = new MongoClient(dossier.uri);
  await client.db('admin').command({ ping: 1 });
  const t2 = performance.now();
  createMs.push(t1 - t0);
  toPingMs.push(t2 - t0);
  await client.close();
  await dossier.stop();
}
process.stdout.write(`${JSON.stringify({ toPingMs, createMs })}\n`);
