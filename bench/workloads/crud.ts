/**
 * crud: insertOne, findOne by _id, updateOne $inc by _id, find by an indexed secondary field,
 * each measured on its own, at each client count, against every target that has the operation.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient, type Collection } from 'mongodb';
import { Datastore } from '../lib/nedb.js';
import Loki from 'lokijs';
import type pg from 'pg';
import { log, type Context, type WireTarget, LABELS } from '../lib/context.js';
import { LeanConnection } from '../lib/lean-client.js';
import { measure } from '../lib/measure.js';
import { removeDirLater, ROOT } from '../lib/procs.js';
import type { ClientKind, RatioSpec, TargetId } from '../lib/report.js';
import { COLL, DB, PAD, SEED_DOCS, crudDoc, crudFrames, type CrudDoc } from '../lib/crud-shape.js';

export const CRUD_OPS = ['insertOne', 'findOne by _id', 'updateOne $inc by _id', 'find by indexed field'] as const;
export type CrudOp = (typeof CRUD_OPS)[number];

export { SEED_DOCS, crudDoc, type CrudDoc };

/** One client's view of a target: each method does one operation. */
interface CrudClient {
  insert(doc: CrudDoc): Promise<void>;
  findById(id: number): Promise<void>;
  incById(id: number): Promise<void>;
  findByK(k: number): Promise<void>;
  close(): Promise<void>;
}

interface CrudAdapter {
  target: TargetId;
  client: ClientKind;
  label: string;
  serverCpu?: () => number;
  note?: string;
  /** Empties the collection, loads SEED_DOCS documents, creates the index on k. */
  seed(): Promise<void>;
  open(): Promise<CrudClient>;
  close(): Promise<void>;
}

async function seedWithDriver(uri: string): Promise<void> {
  const client = new MongoClient(uri);
  try {
    const coll = client.db(DB).collection<CrudDoc>(COLL);
    await coll.drop().catch(() => undefined);
    for (let i = 0; i < SEED_DOCS; i += 1000) await coll.insertMany(Array.from({ length: Math.min(1000, SEED_DOCS - i) }, (_, j) => crudDoc(i + j)));
    await coll.createIndex({ k: 1 });
  } finally {
    await client.close();
  }
}

function driverAdapter(t: WireTarget): CrudAdapter {
  const client = new MongoClient(t.uri, { maxPoolSize: 64 });
  const coll: Collection<CrudDoc> = client.db(DB).collection<CrudDoc>(COLL);
  return {
    target: t.target, client: 'driver', label: t.label, ...(t.serverCpu ? { serverCpu: t.serverCpu } : {}),
    seed: () => seedWithDriver(t.uri),
    async open() {
      return {
        insert: async (doc) => void (await coll.insertOne(doc)),
        findById: async (id) => void (await coll.findOne({ _id: id })),
        incById: async (id) => void (await coll.updateOne({ _id: id }, { $inc: { n: 1 } })),
        findByK: async (k) => void (await coll.find({ k }).toArray()),
        close: async () => undefined,
      };
    },
    close: () => client.close(),
  };
}

function leanAdapter(t: WireTarget): CrudAdapter {
  const { insert, findById, incById, findByK } = crudFrames();
  const conns: LeanConnection[] = [];
  return {
    target: t.target, client: 'lean', label: t.label, ...(t.serverCpu ? { serverCpu: t.serverCpu } : {}),
    seed: () => seedWithDriver(t.uri),
    async open() {
      const c = await LeanConnection.open(t.port);
      conns.push(c);
      return {
        insert: async (doc) => void (await c.command(insert.frame(c.requestId(), [doc._id, doc.k]))),
        findById: async (id) => void (await c.command(findById.frame(c.requestId(), [id]))),
        incById: async (id) => void (await c.command(incById.frame(c.requestId(), [id]))),
        findByK: async (k) => void (await c.command(findByK.frame(c.requestId(), [k]))),
        close: async () => c.close(),
      };
    },
    close: async () => {
      for (const c of conns) c.close();
    },
  };
}

function postgresAdapter(ctx: Context): CrudAdapter {
  const clients: pg.Client[] = [];
  return {
    target: 'postgres', client: 'pg', label: LABELS.postgres,
    async seed() {
      const peer = await ctx.postgres();
      const c = await peer.client();
      try {
        await c.query('DROP TABLE IF EXISTS docs');
        await c.query('CREATE TABLE docs (id integer PRIMARY KEY, k integer NOT NULL, n integer NOT NULL, pad text NOT NULL)');
        await c.query('INSERT INTO docs SELECT i, i, 0, $1 FROM generate_series(0, $2::integer - 1) AS i', [PAD, SEED_DOCS]);
        await c.query('CREATE INDEX docs_k ON docs (k)');
        await c.query('VACUUM ANALYZE docs');
      } finally {
        await c.end();
      }
    },
    async open() {
      const peer = await ctx.postgres();
      const c = await peer.client();
      clients.push(c);
      // Named queries are prepared once per connection, as a lean pg application does.
      return {
        insert: async (doc) => void (await c.query({ name: 'ins', text: 'INSERT INTO docs (id, k, n, pad) VALUES ($1, $2, $3, $4)', values: [doc._id, doc.k, doc.n, doc.pad] })),
        findById: async (id) => void (await c.query({ name: 'get', text: 'SELECT id, k, n, pad FROM docs WHERE id = $1', values: [id] })),
        incById: async (id) => void (await c.query({ name: 'inc', text: 'UPDATE docs SET n = n + 1 WHERE id = $1', values: [id] })),
        findByK: async (k) => void (await c.query({ name: 'byk', text: 'SELECT id, k, n, pad FROM docs WHERE k = $1', values: [k] })),
        close: async () => undefined,
      };
    },
    close: async () => {
      await Promise.all(clients.map((c) => c.end()));
    },
  };
}

function nedbAdapter(file: boolean): CrudAdapter {
  let store: Datastore<CrudDoc> | undefined;
  const target: TargetId = file ? 'nedb-file' : 'nedb-memory';
  return {
    target, client: 'embedded', label: LABELS[target],
    ...(file ? { note: 'appends to its data file on each write (no fsync)' } : {}),
    async seed() {
      if (file) {
        const dir = mkdtempSync(join(tmpdir(), 'dossier-bench-nedb-'));
        removeDirLater(dir);
        store = new Datastore<CrudDoc>({ filename: join(dir, 'docs.db') });
        await store.loadDatabaseAsync();
      } else {
        store = new Datastore<CrudDoc>({ inMemoryOnly: true });
      }
      await store.insertAsync(Array.from({ length: SEED_DOCS }, (_, i) => crudDoc(i)));
      await store.ensureIndexAsync({ fieldName: 'k' });
    },
    async open() {
      const s = store!;
      return {
        insert: async (doc) => void (await s.insertAsync(doc)),
        findById: async (id) => void (await s.findOneAsync({ _id: id })),
        incById: async (id) => void (await s.updateAsync({ _id: id }, { $inc: { n: 1 } })),
        findByK: async (k) => void (await s.findAsync({ k })),
        close: async () => undefined,
      };
    },
    close: async () => undefined,
  };
}

function lokiAdapter(): CrudAdapter {
  let coll: Loki.Collection<CrudDoc> | undefined;
  return {
    target: 'lokijs', client: 'embedded', label: LABELS.lokijs,
    async seed() {
      const db = new Loki('bench.db');
      coll = db.addCollection<CrudDoc>('docs', { unique: ['_id'], indices: ['k'] });
      coll.insert(Array.from({ length: SEED_DOCS }, (_, i) => crudDoc(i)));
    },
    async open() {
      const c = coll!;
      return {
        insert: async (doc) => void c.insert(doc),
        findById: async (id) => void c.by('_id', id),
        incById: async (id) => {
          const doc = c.by('_id', id);
          if (doc) {
            doc.n++;
            c.update(doc);
          }
        },
        findByK: async (k) => void c.find({ k }),
        close: async () => undefined,
      };
    },
    close: async () => undefined,
  };
}

async function adapters(ctx: Context): Promise<Array<() => Promise<CrudAdapter>>> {
  const out: Array<() => Promise<CrudAdapter>> = [];
  const wire: Array<[TargetId, () => Promise<WireTarget>]> = [
    ['dossier-durable', () => ctx.dossierDurable()],
    ['dossier-memory', () => ctx.dossierMemory()],
    ['ceiling', () => ctx.ceiling()],
  ];
  for (const [id, get] of wire) {
    if (!ctx.wants(id)) continue;
    out.push(async () => leanAdapter(await get()));
    out.push(async () => driverAdapter(await get()));
  }
  if (ctx.wants('dossier-inproc')) out.push(async () => driverAdapter(await ctx.dossierInproc()));
  if (ctx.wants('postgres')) out.push(async () => postgresAdapter(ctx));
  if (ctx.wants('nedb-memory')) out.push(async () => nedbAdapter(false));
  if (ctx.wants('nedb-file')) out.push(async () => nedbAdapter(true));
  if (ctx.wants('lokijs')) out.push(async () => lokiAdapter());
  return out;
}

export async function runCrud(ctx: Context): Promise<void> {
  const { options } = ctx;
  for (const make of await adapters(ctx)) {
    let adapter: CrudAdapter | undefined;
    try {
      adapter = await make();
      log(`crud: ${adapter.label} (${adapter.client})`);
      await adapter.seed();
      let nextId = SEED_DOCS;
      for (const op of CRUD_OPS) {
        for (const clients of options.clients) {
          const conns = await Promise.all(Array.from({ length: clients }, () => adapter!.open()));
          const a = adapter;
          const pick = (): number => Math.floor(Math.random() * SEED_DOCS);
          const run: (c: number) => Promise<number> =
            op === 'insertOne' ? async (c) => (await conns[c]!.insert(crudDoc(nextId++)), 0)
            : op === 'findOne by _id' ? async (c) => (await conns[c]!.findById(pick()), 0)
            : op === 'updateOne $inc by _id' ? async (c) => (await conns[c]!.incById(pick()), 0)
            : async (c) => (await conns[c]!.findByK(pick()), 0);
          try {
            const m = await measure({ clients, seconds: options.crudSeconds, warmupSeconds: options.warmupSeconds, ...(a.serverCpu ? { serverCpu: a.serverCpu } : {}) }, run);
            ctx.rows.push({ kind: 'throughput', workload: 'crud', op, target: a.target, client: a.client, label: a.label, clients, ...m, ...(a.note ? { note: a.note } : {}) });
            log(`  ${op} × ${clients}: ${m.opsPerSec.toFixed(0)} ops/s, p99 ${m.p99Ms.toFixed(2)} ms${m.serverCpuUsPerOp !== undefined ? `, server ${m.serverCpuUsPerOp.toFixed(0)} µs/op` : ''}`);
          } finally {
            await Promise.all(conns.map((c) => c.close()));
          }
        }
      }
    } catch (e) {
      const label = adapter?.label ?? 'a crud target';
      log(`crud: ${label} failed: ${(e as Error).stack ?? String(e)}`);
      ctx.rows.push({ kind: 'skipped', workload: 'crud', target: adapter?.target ?? 'dossier-memory', client: adapter?.client ?? 'driver', label, reason: `failed: ${(e as Error).message.split('\n')[0]}` });
    } finally {
      await adapter?.close().catch(() => undefined);
    }
  }
  crudCpuGoals(ctx);
  if (ctx.wants('dossier-durable') || ctx.wants('dossier-memory')) serverOwnCpu(ctx);
}

/** The issue's per-operation CPU budget for the server, checked on the durable server with the lean client. */
const CPU_GOALS_US: ReadonlyArray<[CrudOp, number]> = [['findOne by _id', 40], ['updateOne $inc by _id', 60]];

export function crudCpuGoals(ctx: Context): void {
  for (const [op, goal] of CPU_GOALS_US) {
    for (const r of [...ctx.rows]) {
      if (r.kind !== 'throughput' || r.workload !== 'crud' || r.op !== op || r.target !== 'dossier-durable' || r.client !== 'lean' || r.serverCpuUsPerOp === undefined) continue;
      ctx.rows.push({
        kind: 'value', workload: 'crud', metric: `server CPU per ${op} (lean, ${r.clients} client${r.clients === 1 ? '' : 's'})`, target: r.target, label: r.label,
        value: r.serverCpuUsPerOp, unit: 'µs', goal: `≤ ${goal}`, met: r.serverCpuUsPerOp <= goal,
      });
    }
  }
}

/**
 * The server's own CPU per operation, the socket taken away (see lib/dispatch-child.ts), for both
 * engines; the issue's budget is checked against the durable one.
 */
function serverOwnCpu(ctx: Context): void {
  const ops = ctx.options.quick ? 5_000 : 20_000;
  log(`crud: server CPU per operation without the socket (in a fresh process, ${ops} operations each)`);
  const out = execFileSync(process.execPath, [join(ROOT, 'dist', 'bench', 'lib', 'dispatch-child.js'), String(ops)], { encoding: 'utf8' });
  const results = JSON.parse(out.trim().split('\n').pop()!) as Record<'memory' | 'durable', Record<string, number>>;
  for (const [engine, target, label] of [['durable', 'dossier-durable', 'Dossier durable (--dbpath), in-process'], ['memory', 'dossier-memory', 'Dossier memory://, in-process']] as const) {
    for (const [op, goal] of CPU_GOALS_US) {
      const value = results[engine][op];
      if (value === undefined) continue;
      ctx.rows.push({
        kind: 'value', workload: 'crud', metric: `server's own CPU per ${op}, no socket (decode, dispatch, encode in-process, 8 in flight)`, target, label,
        value, unit: 'µs', ...(engine === 'durable' ? { goal: `≤ ${goal}`, met: value <= goal } : {}),
      });
      log(`  ${engine} ${op}: ${value.toFixed(1)} µs`);
    }
  }
}

export function crudRatios(): RatioSpec[] {
  const lean = { 1: 1.0, 8: 1.0, 32: 1.0 };
  return [
    { name: 'Dossier durable (lean) / PostgreSQL', workload: 'crud', numerator: { target: 'dossier-durable', client: 'lean' }, denominator: { target: 'postgres', client: 'pg' }, goalByClients: lean },
    { name: 'Dossier memory (lean) / PostgreSQL', workload: 'crud', numerator: { target: 'dossier-memory', client: 'lean' }, denominator: { target: 'postgres', client: 'pg' } },
    { name: 'Dossier durable (lean) / lean ceiling', workload: 'crud', numerator: { target: 'dossier-durable', client: 'lean' }, denominator: { target: 'ceiling', client: 'lean' } },
    { name: 'Dossier durable (driver) / driver ceiling', workload: 'crud', numerator: { target: 'dossier-durable', client: 'driver' }, denominator: { target: 'ceiling', client: 'driver' } },
    { name: 'Dossier memory (driver) / driver ceiling', workload: 'crud', numerator: { target: 'dossier-memory', client: 'driver' }, denominator: { target: 'ceiling', client: 'driver' } },
    { name: 'Dossier in-process (driver) / driver ceiling', workload: 'crud', numerator: { target: 'dossier-inproc', client: 'driver' }, denominator: { target: 'ceiling', client: 'driver' } },
    { name: 'Dossier in-process (driver) / NeDB memory', workload: 'crud', numerator: { target: 'dossier-inproc', client: 'driver' }, denominator: { target: 'nedb-memory', client: 'embedded' }, compareP99: false },
    { name: 'Dossier in-process (driver) / LokiJS', workload: 'crud', numerator: { target: 'dossier-inproc', client: 'driver' }, denominator: { target: 'lokijs', client: 'embedded' }, compareP99: false },
  ];
}
