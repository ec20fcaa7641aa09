/** `npm run bench -- [options]`: what to run and for how long. */
import { join } from 'node:path';
import type { TargetId } from './report.js';

export const WORKLOADS = ['bank', 'crud', 'startup', 'memory', 'history', 'checkpoint'] as const;
export type Workload = (typeof WORKLOADS)[number];

export const TARGETS: readonly TargetId[] = [
  'dossier-durable', 'dossier-memory', 'dossier-inproc', 'ceiling', 'postgres', 'nedb-memory', 'nedb-file', 'lokijs',
];

export interface BenchOptions {
  quick: boolean;
  only: ReadonlySet<Workload>;
  targets: ReadonlySet<TargetId>;
  clients: readonly number[];
  /** Measured seconds per crud cell (one op, one target, one client count). */
  crudSeconds: number;
  /** Measured seconds per bank cell. */
  bankSeconds: number;
  warmupSeconds: number;
  historySeconds: number;
  startupRuns: number;
  memoryDocs: number;
  outDir: string;
  /** Runs the Dossier server under `node --cpu-prof` during bank and prints where its time goes. */
  profile: boolean;
}

export const USAGE = `npm run bench -- [options]
  --quick               short cells (1 s), clients 1,8, 10 s history, 20,000 docs for memory
  --only LIST           workloads: ${WORKLOADS.join(',')}
  --targets LIST        targets: ${TARGETS.join(',')}
  --clients LIST        client counts (default 1,8,32)
  --duration S          measured seconds per throughput cell (default 3 for crud, 5 for bank)
  --history S           seconds of the history workload (default 60)
  --out DIR             where latest.md and latest.jsonl go (default bench/results)
  --profile             profile the Dossier server during bank (node --cpu-prof) and summarise by layer`;

function list(value: string | undefined, flag: string): string[] {
  if (value === undefined || value.startsWith('--')) throw new Error(`${flag} needs a value`);
  return value.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

function positive(value: string | undefined, flag: string): number {
  const n = Number(value);
  if (!(n > 0)) throw new Error(`${flag} needs a positive number, got '${value}'`);
  return n;
}

export function parseOptions(argv: readonly string[], root: string): BenchOptions {
  const quick = argv.includes('--quick');
  const o: BenchOptions = {
    quick,
    only: new Set(WORKLOADS),
    targets: new Set(TARGETS),
    clients: quick ? [1, 8] : [1, 8, 32],
    crudSeconds: quick ? 1 : 3,
    bankSeconds: quick ? 1 : 5,
    warmupSeconds: quick ? 0.3 : 1,
    historySeconds: quick ? 10 : 60,
    startupRuns: 20,
    memoryDocs: quick ? 20_000 : 100_000,
    outDir: join(root, 'bench', 'results'),
    profile: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = (): string | undefined => argv[++i];
    switch (a) {
      case '--quick':
        break;
      case '--only': {
        const names = list(next(), a);
        for (const n of names) if (!(WORKLOADS as readonly string[]).includes(n)) throw new Error(`unknown workload '${n}'`);
        o.only = new Set(names as Workload[]);
        break;
      }
      case '--targets': {
        const names = list(next(), a);
        for (const n of names) if (!TARGETS.includes(n as TargetId)) throw new Error(`unknown target '${n}'`);
        o.targets = new Set(names as TargetId[]);
        break;
      }
      case '--clients':
        o.clients = list(next(), a).map((s) => Math.round(positive(s, a)));
        break;
      case '--duration': {
        const s = positive(next(), a);
        o.crudSeconds = s;
        o.bankSeconds = s;
        break;
      }
      case '--history':
        o.historySeconds = positive(next(), a);
        break;
      case '--out':
        o.outDir = list(next(), a).join(',');
        break;
      case '--profile':
        o.profile = true;
        break;
      case '--help':
      case '-h':
        throw new Error(USAGE);
      default:
        throw new Error(`unknown option '${a}'\n${USAGE}`);
    }
  }
  return o;
}
