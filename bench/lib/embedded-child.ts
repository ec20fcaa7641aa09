/**
 * An embedded store alone in a process (NeDB in memory or LokiJS), for the memory workload:
 * prints its RSS idle and after loading N documents of ~200 bytes, as one JSON line.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Datastore } from './nedb.js';
import Loki from 'lokijs';

const kind = process.argv[2];
const docs = Number(process.argv[3] ?? 100_000);
const PAD = 'x'.repeat(162);
const batch = (from: number, n: number): Array<{ _id: number; k: number; n: number; pad: string }> =>
  Array.from({ length: n }, (_, j) => ({ _id: from + j, k: from + j, n: 0, pad: PAD }));

let keep: unknown;
let insert: (d: ReturnType<typeof batch>) => Promise<void>;
if (kind === 'nedb-memory') {
  const store = new Datastore({ inMemoryOnly: true });
  await store.ensureIndexAsync({ fieldName: 'k' });
  keep = store;
  insert = async (d) => void (await store.insertAsync(d));
} else if (kind === 'lokijs') {
  const coll = new Loki('mem.db').addCollection('docs', { unique: ['_id'], indices: ['k'] });
  keep = coll;
  insert = async (d) => void coll.insert(d);
} else {
  throw new Error(`unknown store '${kind}'`);
}
await sleep(500);
const idle = process.memoryUsage().rss;
for (let i = 0; i < docs; i += 1000) await insert(batch(i, Math.min(1000, docs - i)));
await sleep(1000);
const loaded = process.memoryUsage().rss;
process.stdout.write(`${JSON.stringify({ idle, loaded, kept: keep !== undefined })}\n`);
