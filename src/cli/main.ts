/**
 * The `dossier` command, with mongod's flag names:
 *   dossier --port 27017 --bind_ip 127.0.0.1 --replSet rs0 --dbpath DIR --setParameter name=value
 */
import { Command, Option } from 'commander';
import { resolve } from 'node:path';
import { Dossier, MEMORY_DB_PATH } from '../embed/index.js';
import { createLogger, type LogLevel } from '../server/index.js';

export const DEFAULT_PORT = 27017;
/** mongod's /data/db, but beside where the server starts, so it needs no privileges. */
export const DEFAULT_DB_PATH = './data/db';

function collectParameter(value: string, previous: Record<string, string>): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new Error(`--setParameter expects name=value, got '${value}'`);
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

export async function main(argv: string[]): Promise<Dossier> {
  const program = new Command()
    .name('dossier')
    .description('A MongoDB-compatible document database with sessions and transactions on a single node.')
    .option('--port <port>', 'TCP port to listen on', (v) => Number.parseInt(v, 10), DEFAULT_PORT)
    .option('--bind_ip <addresses>', 'comma-separated addresses to listen on', '127.0.0.1')
    .option('--bind_ip_all', 'listen on all IPv4 addresses')
    .option('--replSet <name>', 'replica set name', 'rs0')
    .option('--dbpath <path>', `directory for data files (created if missing), or ${MEMORY_DB_PATH} to keep data in memory`, DEFAULT_DB_PATH)
    .option('--setParameter <name=value>', 'set a server parameter (repeatable)', collectParameter, {} as Record<string, string>)
    .option('--enableTestCommands <0|1>', 'enable test-only commands such as configureFailPoint', '1')
    .addOption(new Option('--storageEngine <engine>', 'storage engine').choices(['inMemory', 'wiredTiger']))
    .option('--oplogSize <MB>', 'oplog size in megabytes', (v) => Number.parseInt(v, 10))
    .option('--quiet', 'log less')
    .option('-v, --verbose', 'log more')
    .version((await import('../base/limits.js')).SERVER_VERSION, '--version');
  program.parse(argv, { from: 'user' });
  const o = program.opts<{
    port: number; bind_ip: string; bind_ip_all?: boolean; replSet: string; dbpath: string;
    setParameter: Record<string, string>; enableTestCommands: string; storageEngine?: string; oplogSize?: number; quiet?: boolean; verbose?: boolean;
  }>();
  const level: LogLevel = o.quiet ? 'warn' : o.verbose ? 'debug' : 'info';
  const logger = createLogger(level);
  const parameters = { ...o.setParameter };
  const enableTestCommands = (parameters.enableTestCommands ?? o.enableTestCommands) !== '0' && (parameters.enableTestCommands ?? o.enableTestCommands) !== 'false';
  delete parameters.enableTestCommands;
  let dbPath = o.storageEngine === 'inMemory' ? MEMORY_DB_PATH : o.dbpath;
  if (dbPath !== MEMORY_DB_PATH) dbPath = resolve(dbPath);
  const bindIp = o.bind_ip_all ? '0.0.0.0' : o.bind_ip;
  const dossier = await Dossier.create({
    port: o.port,
    bindIp,
    replSetName: o.replSet,
    dbPath,
    logger,
    setParameter: parameters,
    enableTestCommands,
    ...(o.oplogSize !== undefined ? { oplogSizeMB: o.oplogSize } : {}),
    argv: ['dossier', ...argv],
  });
  logger.info({ address: `${bindIp}:${dossier.port}`, replSet: o.replSet, dbPath, uri: dossier.uri }, `Dossier listening on ${bindIp}:${dossier.port}`);
  const shutdown = (signal: string): void => {
    logger.info({ signal }, 'shutting down');
    void dossier.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  return dossier;
}
