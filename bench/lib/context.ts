/**
 * What the workloads share in one run: the options, the rows measured so far, and the servers,
 * each started on first use and kept until the end of the run (stopped by pid, also on errors).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { Dossier } from '../../src/index.js';
import type { BenchOptions } from './options.js';
import { startPostgres, type PostgresPeer } from './postgres.js';
import { cpuMicros, removeDirLater, startCeilingServer, startDossierServer, type Started } from './procs.js';
import type { ResultRow, TargetId } from './report.js';

export interface WireTarget {
  target: TargetId;
  label: string;
  port: number;
  uri: string;
  /** The server's CPU time in µs, when it runs in its own process. */
  serverCpu?: () => number;
  pid?: number;
}

export const LABELS: Readonly<Record<TargetId, string>> = {
  'dossier-durable': 'Dossier durable (TCP, --dbpath)',
  'dossier-memory': 'Dossier memory:// (TCP)',
  'dossier-inproc': 'Dossier in-process (Dossier.create)',
  ceiling: 'driver ceiling (do-nothing server)',
  postgres: 'PostgreSQL 15 (fsync on, REPEATABLE READ)',
  'nedb-memory': 'NeDB (memory)',
  'nedb-file': 'NeDB (file)',
  lokijs: 'LokiJS (memory)',
};

export const DURABLE_NOT_YET = 'Dossier durable (not yet implemented in this build)';

export function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

/**
 * Whether this build keeps data across a restart with --dbpath: a write acknowledged with j:true,
 * a clean stop, a restart on the same directory, and a read. Until durable storage lands the
 * rows say so instead of passing memory figures off as durable ones.
 */
export async function probeDurability(): Promise<boolean> {
  const dir = mkdtempSync(join(tmpdir(), 'dossier-bench-probe-'));
  const remove = removeDirLater(dir);
  try {
    const first = await startDossierServer(dir);
    const c1 = new MongoClient(`mongodb://127.0.0.1:${first.port}/?directConnection=true`);
    await c1.db('probe').collection<{ _id: number; kept: boolean }>('p').insertOne({ _id: 1, kept: true }, { writeConcern: { w: 1, j: true } });
    await c1.close();
    await first.stop();
    const second = await startDossierServer(dir);
    const c2 = new MongoClient(`mongodb://127.0.0.1:${second.port}/?directConnection=true`);
    const doc = await c2.db('probe').collection<{ _id: number; kept: boolean }>('p').findOne({ _id: 1 });
    await c2.close();
    await second.stop();
    return doc !== null;
  } finally {
    remove();
  }
}

export class Context {
  readonly rows: ResultRow[] = [];
  private durable: Promise<WireTarget & { started: Started }> | undefined;
  private memory: Promise<WireTarget & { started: Started }> | undefined;
  private ceilingServer: Promise<WireTarget & { started: Started }> | undefined;
  private pg: Promise<PostgresPeer> | undefined;
  private inproc: Promise<Dossier> | undefined;
  private durableWorks: Promise<boolean> | undefined;

  constructor(readonly options: BenchOptions) {}

  wants(target: TargetId): boolean {
    return this.options.targets.has(target);
  }

  durableLabel(): Promise<string> {
    this.durableWorks ??= probeDurability();
    return this.durableWorks.then((ok) => (ok ? LABELS['dossier-durable'] : DURABLE_NOT_YET));
  }

  private async wire(target: TargetId, started: Started, label: string): Promise<WireTarget & { started: Started }> {
    const pid = started.pid;
    return { target, label, port: started.port, uri: `mongodb://127.0.0.1:${started.port}/?replicaSet=rs0`, serverCpu: () => cpuMicros(pid), pid, started };
  }

  dossierDurable(): Promise<WireTarget> {
    this.durable ??= (async () => {
      const label = await this.durableLabel();
      const dir = mkdtempSync(join(tmpdir(), 'dossier-bench-data-'));
      removeDirLater(dir);
      if (this.options.profile) this.profileDir = mkdtempSync(join(tmpdir(), 'dossier-bench-prof-'));
      const nodeArgs = this.profileDir ? ['--cpu-prof', '--cpu-prof-dir', this.profileDir] : [];
      return this.wire('dossier-durable', await startDossierServer(join(dir, 'db'), nodeArgs), label);
    })();
    return this.durable;
  }

  dossierMemory(): Promise<WireTarget> {
    this.memory ??= (async () => this.wire('dossier-memory', await startDossierServer('memory://'), LABELS['dossier-memory']))();
    return this.memory;
  }

  ceiling(): Promise<WireTarget> {
    this.ceilingServer ??= (async () => this.wire('ceiling', await startCeilingServer(), LABELS.ceiling))();
    return this.ceilingServer;
  }

  /** In the bench's own process: the official driver and the server share its one thread. */
  async dossierInproc(): Promise<WireTarget> {
    this.inproc ??= Dossier.create();
    const d = await this.inproc;
    return { target: 'dossier-inproc', label: LABELS['dossier-inproc'], port: d.port, uri: d.uri };
  }

  postgres(): Promise<PostgresPeer> {
    this.pg ??= startPostgres();
    return this.pg;
  }

  /** Where the profiled server writes its .cpuprofile (set when --profile). */
  profileDir: string | undefined;

  async stopAll(): Promise<void> {
    const stops: Array<Promise<unknown>> = [];
    for (const p of [this.durable, this.memory, this.ceilingServer]) if (p) stops.push(p.then((t) => t.started.stop(), () => undefined));
    if (this.pg) stops.push(this.pg.then((p) => p.stop(), () => undefined));
    if (this.inproc) stops.push(this.inproc.then((d) => d.stop(), () => undefined));
    await Promise.all(stops);
  }
}
