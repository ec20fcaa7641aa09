/**
 * Dossier in-process: `await Dossier.create()` starts a server on a free loopback port in the
 * same process and gives its `uri`; `await stop()` frees everything. The shape follows
 * mongodb-memory-server's MongoMemoryReplSet (create / getUri / stop) so a test suite can switch
 * by changing one import.
 */
import { Instance, setSupportedCompressors, type Logger } from '../commands/index.js';
import { nodeDisk, systemClock, systemRandom, type Clock, type Disk, type RandomSource } from '../platform/index.js';
import { Persistence, durableOplogSizeBytes } from '../storage/index.js';
import { WireServer, createLogger, type LogLevel } from '../server/index.js';
import { availableCompressors, loadOptionalCompressors } from '../wire/index.js';

export const DEFAULT_REPL_SET_NAME = 'rs0';
export const DEFAULT_BIND_IP = '127.0.0.1';
export const MEMORY_DB_PATH = 'memory://';

export interface DossierOptions {
  /** TCP port; 0 (the default for Dossier.create) picks a free one. */
  port?: number;
  /** Address to listen on; 127.0.0.1 as mongod's default. */
  bindIp?: string;
  /** A directory for durable data (journal + checkpoints), or `memory://` (the default) to keep data in memory. */
  dbPath?: string;
  replSetName?: string;
  /** mongodb-memory-server's spelling of the set name. */
  replSet?: { name?: string };
  /** Log level of the pino logger; 'silent' by default in-process. */
  logLevel?: LogLevel;
  /** Server parameters as mongod's --setParameter name=value. */
  setParameter?: Record<string, unknown>;
  /** The oplog's cap in megabytes (mongod's --oplogSize); default 192 in memory, mongod's 5%-of-disk rule with a dbPath. */
  oplogSizeMB?: number;
  /** Test commands (configureFailPoint...), on by default as with --enableTestCommands. */
  enableTestCommands?: boolean;
  /** Seams for tests. */
  clock?: Clock;
  disk?: Disk;
  random?: RandomSource;
  logger?: Logger;
  argv?: string[];
}

export class Dossier {
  private stopped = false;

  private constructor(
    readonly instance: Instance,
    private readonly server: WireServer,
    readonly host: string,
    readonly port: number,
    readonly replSetName: string,
  ) {}

  static async create(options: DossierOptions = {}): Promise<Dossier> {
    await loadOptionalCompressors();
    setSupportedCompressors(availableCompressors());
    const bindIp = options.bindIp ?? DEFAULT_BIND_IP;
    const replSetName = options.replSet?.name ?? options.replSetName ?? DEFAULT_REPL_SET_NAME;
    const dbPath = options.dbPath ?? MEMORY_DB_PATH;
    const log = options.logger ?? createLogger(options.logLevel ?? 'silent');
    const clock = options.clock ?? systemClock;
    const enableTestCommands = options.enableTestCommands ?? true;
    const disk = options.disk ?? nodeDisk;
    const persistence =
      dbPath === MEMORY_DB_PATH
        ? undefined
        : await Persistence.open(dbPath, disk, clock, (e) => {
            if (e) log.error({ error: e.message, code: e.code }, 'journal write failed: writes are refused until the disk takes them again');
            else log.info({}, 'journal writes resumed');
          });
    // mongod's rule for a durable node (5% of the disk, 990 MB..50 GB); 192 MB in memory.
    const oplogSizeBytes = options.oplogSizeMB !== undefined ? options.oplogSizeMB * 1024 * 1024 : persistence ? durableOplogSizeBytes(disk.freeBytes(dbPath)) : undefined;
    const config = {
      host: '',
      ...(oplogSizeBytes === undefined ? {} : { oplogSizeBytes }),
      port: options.port ?? 0,
      bindIp,
      replSetName,
      dbPath,
      enableTestCommands,
      argv: options.argv ?? [],
      parsed: {
        net: { port: options.port ?? 0, bindIp },
        replication: { replSet: replSetName },
        storage: { dbPath },
        setParameter: { enableTestCommands: enableTestCommands ? '1' : '0', ...stringValues(options.setParameter ?? {}) },
      },
    };
    let instance: Instance;
    try {
      instance = new Instance(config, clock, options.random ?? systemRandom, log, options.setParameter ?? {}, persistence);
    } catch (e) {
      // Recovery failed (a corrupt checkpoint, say): release the data directory before reporting it.
      await persistence?.close(undefined);
      throw e;
    }
    const server = new WireServer(instance);
    let port: number;
    try {
      const listenHost = bindIp.split(',')[0]!.trim();
      ({ port } = await server.listen(options.port ?? 0, listenHost));
    } catch (e) {
      instance.close();
      await instance.closeStorage();
      throw e;
    }
    const advertised = bindIp === '0.0.0.0' || bindIp === '::' ? '127.0.0.1' : bindIp.split(',')[0]!.trim();
    instance.config.host = `${advertised.includes(':') ? `[${advertised}]` : advertised}:${port}`;
    instance.config.port = port;
    (instance.config.parsed.net as { port: number }).port = port;
    return new Dossier(instance, server, advertised, port, replSetName);
  }

  /** The connection string: `mongodb://127.0.0.1:<port>/?replicaSet=rs0`. */
  get uri(): string {
    return this.getUri();
  }

  /** Like MongoMemoryReplSet#getUri: optionally names the database in the path. */
  getUri(dbName?: string): string {
    return `mongodb://${this.instance.config.host}/${dbName ?? ''}?replicaSet=${encodeURIComponent(this.replSetName)}`;
  }

  get connectionCount(): number {
    return this.server.connectionCount;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.instance.close();
    await this.server.close();
    await this.instance.closeStorage();
  }
}

function stringValues(o: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, String(v)]));
}
