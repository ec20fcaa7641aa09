/**
 * External clients the drivers tests run against Dossier: pymongo from Debian's packages and
 * mongosh from the npm registry. Each test installs what it needs itself (as the benchmarks
 * install PostgreSQL), so `npm test` works on a fresh machine.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** Debian's interpreter: pymongo comes from the python3-pymongo package, not from pip. */
export const DEBIAN_PYTHON = '/usr/bin/python3';

export function ensurePymongo(): void {
  const check = (): boolean => spawnSync(DEBIAN_PYTHON, ['-c', 'import pymongo'], { stdio: 'ignore' }).status === 0;
  if (check()) return;
  const install = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'python3-pymongo'], { encoding: 'utf8', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (!check()) {
    const update = spawnSync('apt-get', ['update'], { encoding: 'utf8' });
    spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'python3-pymongo'], { encoding: 'utf8', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    if (!check()) throw new Error(`cannot install python3-pymongo: ${install.stderr}\n${update.stderr}`);
  }
}

const MONGOSH_VERSION = '2';

/** mongosh in a cache folder of the checkout; its dependency tree conflicts with the mongodb 6 alias, so it lives apart. */
export function ensureMongosh(root: string): string {
  const dir = join(root, 'node_modules', '.cache', 'dossier-mongosh');
  const bin = join(dir, 'node_modules', '.bin', 'mongosh');
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  execFileSync('npm', ['install', '--prefix', dir, '--no-audit', '--no-fund', '--no-save', `mongosh@${MONGOSH_VERSION}`], { stdio: 'ignore', timeout: 600_000 });
  return bin;
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a client process without blocking the event loop: the Dossier under test lives in this
 * same process, so a synchronous spawn would leave it unable to answer.
 */
export function runClient(command: string, args: string[], options: { timeoutMs: number; env?: NodeJS.ProcessEnv }): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}
