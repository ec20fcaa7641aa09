/**
 * PostgreSQL 15 from Debian's packages, started by the bench: initdb into a temp dir, pg_ctl
 * start on a free loopback port with fsync and synchronous_commit on (durable, like the peer it
 * is compared with), stopped by the postmaster's pid at the end or on Ctrl-C.
 */
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { freePort, onCleanup, removeDirLater } from './procs.js';

const PG_BIN = '/usr/lib/postgresql/15/bin';
/** initdb refuses to run as root; Debian's package creates this user. */
const PG_USER = 'postgres';

export interface PostgresPeer {
  port: number;
  pid: number;
  version: string;
  client(): Promise<pg.Client>;
  stop(): Promise<void>;
}

function run(cmd: string, args: string[], asUser: string | undefined): { status: number | null; out: string } {
  const r = asUser
    ? spawnSync('runuser', ['-u', asUser, '--', cmd, ...args], { encoding: 'utf8' })
    : spawnSync(cmd, args, { encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

function ensureInstalled(): void {
  if (existsSync(join(PG_BIN, 'initdb'))) return;
  if (process.getuid?.() !== 0) throw new Error(`${PG_BIN}/initdb is missing; install it with: sudo apt-get install -y postgresql`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let r = spawnSync('apt-get', ['install', '-y', 'postgresql'], { encoding: 'utf8', env });
  if (!existsSync(join(PG_BIN, 'initdb'))) {
    spawnSync('apt-get', ['update'], { encoding: 'utf8', env });
    r = spawnSync('apt-get', ['install', '-y', 'postgresql'], { encoding: 'utf8', env });
  }
  if (!existsSync(join(PG_BIN, 'initdb'))) throw new Error(`cannot install postgresql: ${r.stderr}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function startPostgres(): Promise<PostgresPeer> {
  ensureInstalled();
  const asUser = process.getuid?.() === 0 ? PG_USER : undefined;
  const dir = mkdtempSync(join(tmpdir(), 'dossier-bench-pg-'));
  const removeDir = removeDirLater(dir);
  if (asUser) {
    const ids = spawnSync('id', ['-u', asUser], { encoding: 'utf8' }).stdout.trim();
    const gid = spawnSync('id', ['-g', asUser], { encoding: 'utf8' }).stdout.trim();
    chownSync(dir, Number(ids), Number(gid));
  }
  const data = join(dir, 'data');
  const init = run(join(PG_BIN, 'initdb'), ['-D', data, '-U', 'bench', '--auth=trust', '-E', 'UTF8', '--no-sync'], asUser);
  if (init.status !== 0) throw new Error(`initdb failed: ${init.out}`);
  const port = await freePort();
  const settings = [
    `-p ${port}`, `-k ${dir}`, '-c listen_addresses=127.0.0.1', '-c fsync=on', '-c synchronous_commit=on',
    '-c full_page_writes=on', '-c max_connections=200',
  ].join(' ');
  const start = run(join(PG_BIN, 'pg_ctl'), ['-D', data, '-o', settings, '-l', join(dir, 'log'), '-w', '-t', '60', 'start'], asUser);
  if (start.status !== 0) throw new Error(`pg_ctl start failed: ${start.out}\n${existsSync(join(dir, 'log')) ? readFileSync(join(dir, 'log'), 'utf8') : ''}`);
  const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  // Fast shutdown: SIGINT to the postmaster aborts sessions and stops cleanly.
  const kill = onCleanup(() => {
    if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  });
  const connect = async (): Promise<pg.Client> => {
    const c = new pg.Client({ host: '127.0.0.1', port, user: 'bench', database: 'postgres' });
    await c.connect();
    return c;
  };
  const probe = await connect();
  const version = String((await probe.query<{ server_version: string }>('SHOW server_version')).rows[0]?.server_version);
  await probe.end();
  return {
    port, pid, version, client: connect,
    async stop() {
      if (isAlive(pid)) {
        process.kill(pid, 'SIGINT');
        for (let i = 0; i < 200 && isAlive(pid); i++) await sleep(50);
      }
      kill();
      removeDir();
    },
  };
}
