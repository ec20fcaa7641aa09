/**
 * start-up: `Dossier.create()` to the first successful ping (median of N in a fresh process),
 * and the server command (`npm start`, `node bin/dossier.js`) to a port that accepts connections.
 */
import { spawn, execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { log, type Context } from '../lib/context.js';
import { DOSSIER_BIN, freePort, onCleanup, ROOT, waitForPort } from '../lib/procs.js';
import { median } from '../lib/stats.js';

const CREATE_TO_PING_GOAL_MS = 30;

/** Starts `command` in its own process group, times it to a listening port, and kills the group. */
async function timeToListen(command: string, args: string[], port: number): Promise<number> {
  const t0 = performance.now();
  // Its own group: `npm start` runs a shell and then node, and all of them must go.
  const child = spawn(command, args, { cwd: ROOT, stdio: 'ignore', detached: true });
  const pid = child.pid!;
  const killGroup = (): void => {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  };
  const done = onCleanup(killGroup);
  try {
    await waitForPort(port, 30_000, child);
    return performance.now() - t0;
  } finally {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      process.kill(-pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
    await Promise.race([exited, sleep(3000)]);
    done();
  }
}

export async function runStartup(ctx: Context): Promise<void> {
  const runs = ctx.options.startupRuns;
  log(`start-up: Dossier.create() to first ping, ${runs} runs in a fresh process`);
  const out = execFileSync(process.execPath, [join(ROOT, 'dist', 'bench', 'lib', 'startup-child.js'), String(runs)], { encoding: 'utf8' });
  const { toPingMs, createMs } = JSON.parse(out.trim().split('\n').pop()!) as { toPingMs: number[]; createMs: number[] };
  const med = median(toPingMs);
  ctx.rows.push({
    kind: 'value', workload: 'startup', metric: `Dossier.create() to first ping, median of ${runs}`, target: 'dossier-inproc', label: 'Dossier in-process',
    value: med, unit: 'ms', goal: `≤ ${CREATE_TO_PING_GOAL_MS}`, met: med <= CREATE_TO_PING_GOAL_MS,
    note: `first (cold, with module loading) ${toPingMs[0]!.toFixed(1)} ms; create() alone median ${median(createMs).toFixed(1)} ms`,
  });
  log(`  median ${med.toFixed(1)} ms (first ${toPingMs[0]!.toFixed(1)} ms)`);

  const serverRuns = ctx.options.quick ? 3 : 5;
  const commands: Array<[string, (port: number) => [string, string[]]]> = [
    ['`node bin/dossier.js` to listening port', (p) => [process.execPath, [DOSSIER_BIN, '--port', String(p), '--quiet']]],
    ['`npm start` to listening port', (p) => ['npm', ['start', '--silent', '--', '--port', String(p), '--quiet']]],
  ];
  for (const [metric, cmd] of commands) {
    const times: number[] = [];
    for (let i = 0; i < serverRuns; i++) {
      const port = await freePort();
      const [command, args] = cmd(port);
      times.push(await timeToListen(command, args, port));
    }
    const m = median(times);
    ctx.rows.push({ kind: 'value', workload: 'startup', metric: `${metric}, median of ${serverRuns}`, target: 'dossier-memory', label: 'Dossier server', value: m, unit: 'ms', note: `runs: ${times.map((t) => t.toFixed(0)).join(', ')} ms` });
    log(`  ${metric}: median ${m.toFixed(0)} ms`);
  }
}
