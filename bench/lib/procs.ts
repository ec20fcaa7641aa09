/**
 * Processes the bench starts (servers under test, peers, children that measure memory), and what
 * it reads about them from /proc. Everything started is registered for cleanup, so Ctrl-C or an
 * error in the middle of a run still stops each process by its own pid.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout's root (this file is at dist/bench/lib/procs.js once compiled). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const DOSSIER_BIN = join(ROOT, 'bin', 'dossier.js');

type Cleanup = () => void;
const cleanups = new Map<number, Cleanup>();
let nextCleanupId = 1;

/** Registers a synchronous cleanup; returns a function that runs it now and unregisters it. */
export function onCleanup(fn: Cleanup): () => void {
  const id = nextCleanupId++;
  cleanups.set(id, fn);
  return () => {
    if (cleanups.delete(id)) fn();
  };
}

export function runAllCleanups(): void {
  const fns = [...cleanups.values()].reverse();
  cleanups.clear();
  for (const fn of fns) {
    try {
      fn();
    } catch {
      // Best effort: the others must still run.
    }
  }
}

let handlersInstalled = false;
/** Ctrl-C, kill and uncaught errors all go through the cleanups before the process ends. */
export function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\nbench: ${signal}, stopping what it started\n`);
      runAllCleanups();
      process.exit(130);
    });
  }
  process.on('exit', runAllCleanups);
}

export function removeDirLater(dir: string): () => void {
  return onCleanup(() => rmSync(dir, { recursive: true, force: true }));
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export async function waitForPort(port: number, timeoutMs: number, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ port, host: '127.0.0.1' }, () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (child && child.exitCode !== null) throw new Error(`process exited with ${child.exitCode} before listening on ${port}`);
    if (Date.now() > deadline) throw new Error(`nothing listening on ${port} after ${timeoutMs} ms`);
    await sleep(5);
  }
}

export interface Started {
  child: ChildProcess;
  pid: number;
  port: number;
  /** Output so far, for error messages. */
  output(): string;
  stop(): Promise<void>;
}

/** Spawns a server process that listens on `port`; resolves once the port accepts connections. */
export async function startListening(command: string, args: string[], port: number, options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Started> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env });
  let output = '';
  const keep = (c: Buffer): void => {
    output = (output + c.toString()).slice(-8000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`cannot start ${command}`);
  const kill = onCleanup(() => {
    if (child.exitCode === null && child.signalCode === null) process.kill(pid, 'SIGKILL');
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      process.kill(pid, 'SIGTERM');
      await Promise.race([exited, sleep(5000)]);
    }
    kill();
  };
  try {
    await waitForPort(port, options.timeoutMs ?? 30_000, child);
  } catch (e) {
    await stop();
    throw new Error(`${(e as Error).message}\n${output}`);
  }
  return { child, pid, port, output: () => output, stop };
}

/** `node [nodeArgs] bin/dossier.js` on a free port, as a user would start it. */
export async function startDossierServer(dbPath: string, nodeArgs: string[] = []): Promise<Started> {
  const port = await freePort();
  return startListening(process.execPath, [...nodeArgs, DOSSIER_BIN, '--port', String(port), '--bind_ip', '127.0.0.1', '--dbpath', dbPath, '--quiet'], port);
}

/** The do-nothing wire server, in its own process like the servers it stands in for. */
export async function startCeilingServer(): Promise<Started> {
  const port = await freePort();
  return startListening(process.execPath, [join(ROOT, 'dist', 'bench', 'lib', 'ceiling-main.js'), String(port)], port);
}

const CLOCK_TICKS_PER_S = 100;

/** user + system CPU of a process in microseconds (from /proc, at clock-tick resolution). */
export function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may itself contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return (ticks / CLOCK_TICKS_PER_S) * 1e6;
}

/** Resident set size in bytes, from /proc/PID/status. */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) * 1024 : Number.NaN;
}

/** The process and its direct children (PostgreSQL's backends and helpers). */
export function processFamily(pid: number): number[] {
  const out = [pid];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return out;
}

export function familyCpuMicros(pid: number): number {
  let total = 0;
  for (const p of processFamily(pid)) {
    try {
      total += cpuMicros(p);
    } catch {
      // Ended while we looked.
    }
  }
  return total;
}

/** Proportional set size in bytes: shared pages divided among the processes sharing them. */
export function pssBytes(pid: number): number {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const m = /^Pss:\s+(\d+) kB/m.exec(rollup);
  return m ? Number(m[1]) * 1024 : Number.NaN;
}

/** PSS of a process and its children: PostgreSQL's memory without counting shared buffers once per backend. */
export function familyPssBytes(pid: number): number {
  let total = 0;
  for (const p of processFamily(pid)) {
    try {
      total += pssBytes(p);
    } catch {
      // Ended while we looked.
    }
  }
  return total;
}
