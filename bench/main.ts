/**
 * `npm run bench`: runs the workloads against Dossier and its peers in one run, then writes
 * bench/results/latest.md and latest.jsonl with the rows and the ratios between them.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { Context, log } from './lib/context.js';
import { parseOptions, type Workload } from './lib/options.js';
import { installExitHandlers, ROOT, runAllCleanups } from './lib/procs.js';
import { summariseProfiles } from './lib/profile.js';
import { computeRatios, toJsonLines, toMarkdown, type RunInfo } from './lib/report.js';
import { bankRatios, runBank } from './workloads/bank.js';
import { crudRatios, runCrud } from './workloads/crud.js';
import { runHistory } from './workloads/history.js';
import { runMemory } from './workloads/memory.js';
import { runStartup } from './workloads/startup.js';
import { runCheckpoint } from './workloads/checkpoint.js';

const argv = process.argv.slice(2);
let options;
try {
  options = parseOptions(argv, ROOT);
} catch (e) {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exit(2);
}
installExitHandlers();
const ctx = new Context(options);
const loadAvgStart = loadavg();
const started = new Date();

// Start-up and memory first: they want a quiet machine and fresh servers.
const order: Array<[Workload, (c: Context) => Promise<void>]> = [
  ['startup', runStartup],
  ['memory', runMemory],
  ['crud', runCrud],
  ['bank', runBank],
  ['history', runHistory],
  ['checkpoint', runCheckpoint],
];
try {
  for (const [name, run] of order) if (options.only.has(name)) await run(ctx);
} finally {
  await ctx.stopAll();
}

if (ctx.profileDir) {
  const byLayer = summariseProfiles(ctx.profileDir);
  const busy = [...byLayer].filter(([layer]) => layer !== 'idle').reduce((s, [, ms]) => s + ms, 0);
  for (const [layer, ms] of [...byLayer].sort((a, b) => b[1] - a[1])) {
    if (layer === 'idle') continue;
    ctx.rows.push({ kind: 'value', workload: 'profile', metric: layer, target: 'dossier-durable', label: 'Dossier server (node --cpu-prof)', value: (100 * ms) / busy, unit: '%', note: `${ms.toFixed(0)} ms self time` });
  }
  log(`profile: ${ctx.profileDir}`);
}

const cpuList = cpus();
const info: RunInfo = {
  date: started.toISOString(),
  nproc: cpuList.length,
  cpuModel: cpuList[0]?.model ?? 'unknown',
  node: process.versions.node,
  loadAvgStart,
  loadAvgEnd: loadavg(),
  options: `npm run bench${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}`,
};
const ratios = computeRatios(ctx.rows, [...bankRatios(), ...crudRatios()]);
mkdirSync(options.outDir, { recursive: true });
const markdown = toMarkdown(info, ctx.rows, ratios);
writeFileSync(join(options.outDir, 'latest.md'), markdown);
writeFileSync(join(options.outDir, 'latest.jsonl'), toJsonLines(info, ctx.rows, ratios));
process.stdout.write(markdown);
log(`wrote ${join(options.outDir, 'latest.md')} and latest.jsonl`);
runAllCleanups();
// Drivers and sockets may keep timers alive; everything that matters is written.
process.exit(0);
