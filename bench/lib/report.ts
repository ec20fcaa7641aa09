/**
 * Results of one bench run: rows as measured, ratios between rows of the same run (the only
 * kind of performance claim the project makes), rendered as JSON lines and a Markdown table.
 */
import type { Measured } from './measure.js';

export type TargetId =
  | 'dossier-durable' | 'dossier-memory' | 'dossier-inproc' | 'ceiling'
  | 'postgres' | 'nedb-memory' | 'nedb-file' | 'lokijs';

/** driver: official `mongodb`; lean: the bench's OP_MSG client; pg: `pg`; embedded: the store's own API in-process. */
export type ClientKind = 'driver' | 'lean' | 'pg' | 'embedded';

/** One throughput measurement: a workload's operation, against one target, with N clients. */
export interface ThroughputRow extends Measured {
  kind: 'throughput';
  workload: string;
  op: string;
  target: TargetId;
  client: ClientKind;
  /** What the target is, as printed (e.g. "Dossier durable (TCP)"). */
  label: string;
  clients: number;
  note?: string;
}

/** A workload the target cannot run (NeDB has no transactions...). */
export interface SkippedRow {
  kind: 'skipped';
  workload: string;
  target: TargetId;
  client: ClientKind;
  label: string;
  reason: string;
}

/** A single figure: start-up time, RSS, a check's outcome. */
export interface ValueRow {
  kind: 'value';
  workload: string;
  metric: string;
  target: TargetId;
  label: string;
  value: number;
  unit: string;
  /** e.g. "≤ 30"; `met` says whether the value meets it. */
  goal?: string;
  met?: boolean;
  note?: string;
}

export type ResultRow = ThroughputRow | SkippedRow | ValueRow;

export interface Side {
  target: TargetId;
  client: ClientKind;
}

/** "numerator / denominator" for every op and client count both sides measured. */
export interface RatioSpec {
  name: string;
  workload: string;
  numerator: Side;
  denominator: Side;
  /** Minimum ratio of ops/s per client count; absent: reported without a goal. */
  goalByClients?: Readonly<Record<number, number>>;
  /** Maximum ratio of p99 latencies (numerator / denominator). */
  p99RatioMax?: number;
  /** false when the denominator answers in-process in microseconds, where a p99 ratio says nothing. */
  compareP99?: boolean;
}

export interface RatioRow {
  kind: 'ratio';
  name: string;
  workload: string;
  op: string;
  clients: number;
  numeratorOpsPerSec: number;
  denominatorOpsPerSec: number;
  ratio: number;
  p99Ratio: number;
  goal?: number;
  p99RatioMax?: number;
  met?: boolean;
}

function same(row: ThroughputRow, side: Side): boolean {
  return row.target === side.target && row.client === side.client;
}

export function computeRatios(rows: readonly ResultRow[], specs: readonly RatioSpec[]): RatioRow[] {
  const throughput = rows.filter((r): r is ThroughputRow => r.kind === 'throughput');
  const out: RatioRow[] = [];
  for (const spec of specs) {
    for (const num of throughput) {
      if (num.workload !== spec.workload || !same(num, spec.numerator)) continue;
      const den = throughput.find((d) => d.workload === num.workload && d.op === num.op && d.clients === num.clients && same(d, spec.denominator));
      if (!den || den.opsPerSec <= 0) continue;
      const ratio = num.opsPerSec / den.opsPerSec;
      const p99Ratio = spec.compareP99 !== false && den.p99Ms > 0 ? num.p99Ms / den.p99Ms : Number.NaN;
      const row: RatioRow = {
        kind: 'ratio', name: spec.name, workload: num.workload, op: num.op, clients: num.clients,
        numeratorOpsPerSec: num.opsPerSec, denominatorOpsPerSec: den.opsPerSec, ratio, p99Ratio,
      };
      const goal = spec.goalByClients?.[num.clients];
      if (goal !== undefined) row.goal = goal;
      if (spec.p99RatioMax !== undefined && goal !== undefined) row.p99RatioMax = spec.p99RatioMax;
      if (goal !== undefined) row.met = ratio >= goal && (row.p99RatioMax === undefined || p99Ratio <= row.p99RatioMax);
      out.push(row);
    }
  }
  return out;
}

export interface RunInfo {
  date: string;
  nproc: number;
  cpuModel: string;
  node: string;
  loadAvgStart: number[];
  loadAvgEnd: number[];
  options: string;
}

export function toJsonLines(info: RunInfo, rows: readonly ResultRow[], ratios: readonly RatioRow[]): string {
  const lines = [{ kind: 'run', ...info }, ...rows, ...ratios].map((r) => JSON.stringify(r, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)));
  return `${lines.join('\n')}\n`;
}

function fmt(n: number | undefined, digits = 0): string {
  if (n === undefined || !Number.isFinite(n)) return '–';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function fmtMs(n: number): string {
  if (!Number.isFinite(n)) return '–';
  return n < 1 ? n.toFixed(3) : n < 10 ? n.toFixed(2) : n.toFixed(1);
}

function table(header: string[], body: string[][]): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...body.map((cells) => `| ${cells.map(esc).join(' | ')} |`),
  ].join('\n');
}

export function toMarkdown(info: RunInfo, rows: readonly ResultRow[], ratios: readonly RatioRow[]): string {
  const parts: string[] = [];
  parts.push('# Bench results');
  parts.push(
    `${info.date} · ${info.nproc} CPUs (${info.cpuModel}) · Node ${info.node} · load average ${info.loadAvgStart.map((l) => l.toFixed(2)).join(' ')} at start, ` +
      `${info.loadAvgEnd.map((l) => l.toFixed(2)).join(' ')} at end · \`${info.options}\``,
  );
  const workloads = [...new Set(rows.map((r) => r.workload))];
  for (const workload of workloads) {
    parts.push(`## ${workload}`);
    const mine = rows.filter((r) => r.workload === workload);
    const tp = mine.filter((r): r is ThroughputRow => r.kind === 'throughput');
    if (tp.length > 0) {
      parts.push(
        table(
          ['op', 'target', 'client', 'clients', 'ops/s', 'p50 ms', 'p99 ms', 'retries', 'server CPU µs/op', 'note'],
          tp.map((r) => [
            r.op, r.label, r.client, String(r.clients), fmt(r.opsPerSec), fmtMs(r.p50Ms), fmtMs(r.p99Ms), fmt(r.retries),
            r.serverCpuUsPerOp === undefined ? '–' : fmt(r.serverCpuUsPerOp), r.note ?? '',
          ]),
        ),
      );
    }
    const values = mine.filter((r): r is ValueRow => r.kind === 'value');
    if (values.length > 0) {
      parts.push(
        table(
          ['metric', 'target', 'value', 'goal', 'note'],
          values.map((r) => [r.metric, r.label, `${fmt(r.value, r.unit === 'ms' && r.value < 10 ? 2 : r.unit === 'ms' && r.value < 100 ? 1 : 0)} ${r.unit}`.trim(), r.goal === undefined ? '' : `${r.goal} ${r.met ? '✓' : '✗'}`, r.note ?? '']),
        ),
      );
    }
    const skipped = mine.filter((r): r is SkippedRow => r.kind === 'skipped');
    if (skipped.length > 0) parts.push(skipped.map((r) => `- ${r.label} (${r.client}): skipped — ${r.reason}`).join('\n'));
    const rs = ratios.filter((r) => r.workload === workload);
    if (rs.length > 0) {
      parts.push(`### ${workload}: ratios`);
      parts.push(
        table(
          ['ratio', 'op', 'clients', 'ops/s', 'ratio', 'p99 ratio', 'goal'],
          rs.map((r) => [
            r.name, r.op, String(r.clients), `${fmt(r.numeratorOpsPerSec)} / ${fmt(r.denominatorOpsPerSec)}`, `${r.ratio.toFixed(2)}×`,
            Number.isFinite(r.p99Ratio) ? `${r.p99Ratio.toFixed(2)}×` : '–',
            r.goal === undefined ? '' : `≥ ${r.goal.toFixed(2)}×${r.p99RatioMax !== undefined ? `, p99 ≤ ${r.p99RatioMax}×` : ''} ${r.met ? '✓' : '✗'}`,
          ]),
        ),
      );
    }
  }
  return `${parts.join('\n\n')}\n`;
}
