/**
 * One running Dossier: the storage engine and clocks, server-side cursors, parameters, the
 * replica-set identity it answers hello with, counters for serverStatus, and the operations in
 * flight for currentOp/killOp. The server layer creates one per process (or per Dossier.create()).
 */
import { fail } from '../base/index.js';
import { Long, ObjectId, type Document } from '../bson/index.js';
import type { Clock, RandomSource, Timer } from '../platform/index.js';
import { HybridLogicalClock } from '../time/index.js';
import { StorageEngine, CHECKPOINT_INTERVAL_DEFAULT_SECONDS, type Collection, type Persistence, type StorageTxn } from '../storage/index.js';
import { CursorManager } from './cursors.js';
import { Parameters } from './parameters.js';
import { validateCollectionName } from './namespaces.js';
import type { ConnectionInfo } from './connection.js';
import { assertNotView } from './views.js';
import { buildCollectionHooks, partialFilterOf } from './validation.js';
import { TtlMonitor } from './ttl.js';
import { SessionCatalog } from '../sessions/index.js';
import { SessionsCollection } from './sessions-collection.js';

export interface InstanceConfig {
  /** "host:port" clients reach this member at: hello's `me`, `primary` and `hosts`. */
  host: string;
  port: number;
  bindIp: string;
  replSetName: string;
  dbPath: string;
  /** The oplog's cap; the engine's default when absent. */
  oplogSizeBytes?: number;
  enableTestCommands: boolean;
  /** The argv-like options getCmdLineOpts reports. */
  argv: string[];
  parsed: Document;
}

export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

export interface OperationRecord {
  opid: number;
  connection: ConnectionInfo;
  command: Document;
  db: string;
  ns: string;
  op: string;
  startedAtMs: number;
  killed: boolean;
}

/** Records pruned of old versions each second, as the history window moves. */
const HISTORY_SWEEP_PER_TICK = 10_000;

/** mongod's RamLog holds the newest 1024 lines. */
export const RAM_LOG_LINES_MAX = 1024;

export type OpCounters = { insert: number; query: number; update: number; delete: number; getmore: number; command: number };

export class Instance {
  readonly hlc: HybridLogicalClock;
  readonly engine: StorageEngine;
  readonly cursors: CursorManager;
  readonly parameters: Parameters;
  readonly startedAtMs: number;
  readonly processId: ObjectId;
  readonly electionId = new ObjectId('7fffffff0000000000000001');
  topologyVersionCounter = 0;
  readonly opcounters: OpCounters = { insert: 0, query: 0, update: 0, delete: 0, getmore: 0, command: 0 };
  /** serverStatus.transactions: multi-document transactions started, committed and aborted. */
  readonly transactionCounters = { totalStarted: 0, totalCommitted: 0, totalAborted: 0 };
  readonly connections = new Map<number, ConnectionInfo>();
  totalConnectionsCreated = 0;
  readonly operations = new Map<number, OperationRecord>();
  private nextOpId = 1;
  /** The newest log lines, for getLog (mongod's RamLog keeps 1024). */
  readonly logLines: string[] = [];
  totalLogLinesWritten = 0;
  /** The set's id, made at initiation as mongod does (kept in local.system.replset there). */
  readonly replicaSetId: ObjectId;
  readonly log: Logger;
  private closed = false;
  readonly ttlMonitor: TtlMonitor;
  readonly sessions: SessionCatalog;
  readonly sessionsCollection: SessionsCollection;
  private historySweeper: Timer | undefined;

  constructor(
    readonly config: InstanceConfig,
    readonly clock: Clock,
    readonly random: RandomSource,
    log: Logger,
    startupParameters: Record<string, unknown> = {},
    /** The data directory's journal and checkpoints; absent for memory://. */
    readonly persistence?: Persistence,
  ) {
    this.startedAtMs = clock.nowMs();
    this.processId = new ObjectId();
    this.log = this.teeToRamLog(log);
    const idBytes = Buffer.alloc(12);
    idBytes.writeUInt32BE(Math.floor(this.startedAtMs / 1000) >>> 0, 0);
    Buffer.from(random.bytes(8)).copy(idBytes, 4);
    this.replicaSetId = new ObjectId(idBytes);
    this.parameters = new Parameters(startupParameters as Document);
    this.hlc = new HybridLogicalClock(clock);
    const oplogSize = config.oplogSizeBytes === undefined ? {} : { oplogSizeBytes: config.oplogSizeBytes };
    this.engine = new StorageEngine(this.hlc, clock, persistence ? { ...oplogSize, persistence, partialFilterOf } : oplogSize);
    if (persistence) this.startDurability(persistence);
    this.cursors = new CursorManager(clock, this.engine, () => {
      const b = random.bytes(8);
      return Buffer.from(b).readBigInt64LE() & 0x7fffffffffffffffn;
    });
    this.ttlMonitor = new TtlMonitor(this);
    this.ttlMonitor.start();
    this.engine.historyWindowSeconds = this.parameters.getNumber('minSnapshotHistoryWindowInSeconds');
    this.sessions = new SessionCatalog(this.engine, clock, {
      maxSessions: () => this.parameters.getNumber('maxSessions'),
      sessionTimeoutMinutes: () => this.parameters.getNumber('localLogicalSessionTimeoutMinutes'),
      onSessionKilled: (session) => this.cursors.killWhere((c) => c.lsid !== undefined && c.sessionKey === session.key),
      onTransactionEnd: (session) => {
        if (session.state === 'committed') this.transactionCounters.totalCommitted++;
        else this.transactionCounters.totalAborted++;
        this.cursors.killWhere((c) => session.transactionCursors.has(c.id));
      },
      onTransactionExpired: (session) => {
        this.log.info({ lsid: session.key, txnNumber: String(session.activeTxnNumber) }, 'Aborting transaction because it has been running for longer than \'transactionLifetimeLimitSeconds\'');
      },
    });
    this.restoreSessions();
    this.sessions.start();
    this.sessionsCollection = new SessionsCollection(this);
    this.sessionsCollection.start();
    const sweep = (): void => {
      this.engine.historyWindowSeconds = this.parameters.getNumber('minSnapshotHistoryWindowInSeconds');
      this.engine.sweepHistory(HISTORY_SWEEP_PER_TICK);
      this.historySweeper = clock.setTimer(1000, sweep);
    };
    this.historySweeper = clock.setTimer(1000, sweep);
  }

  /** After recovery: validators compiled again, sessions restored, checkpoints scheduled. */
  private startDurability(persistence: Persistence): void {
    const recovered = this.engine.recovered;
    if (recovered) {
      for (const db of this.engine.databaseNames()) for (const coll of this.engine.collectionsOf(db)!.values()) buildCollectionHooks(coll);
      this.log.info(
        { checkpointTs: recovered.checkpointTs, replayedRecords: recovered.replayed, collections: recovered.collections.length, sessions: recovered.sessions.length, cutTail: recovered.cutTail },
        'recovered from the last checkpoint and the journal',
      );
    }
    persistence.onCheckpointError = (e) => this.log.error({ error: e instanceof Error ? e.message : String(e) }, 'checkpoint failed; the journal keeps every change');
    persistence.startCheckpointing(this.engine.checkpointSource, () => this.parameters.getNumber('syncdelay') || CHECKPOINT_INTERVAL_DEFAULT_SECONDS);
  }

  /** Sessions the journal knew, once the catalog exists. */
  private restoreSessions(): void {
    for (const s of this.engine.recovered?.sessions ?? []) this.sessions.restore(s);
  }

  /** Every log call also lands in the in-memory log getLog reads, as one JSON line. */
  private teeToRamLog(inner: Logger): Logger {
    const record = (severity: string, obj: object, msg?: string): void => {
      const attr = Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, v instanceof Error ? v.message : v]));
      this.logLines.push(JSON.stringify({ t: { $date: new Date(this.clock.nowMs()).toISOString() }, s: severity, c: 'DOSSIER', msg: msg ?? '', attr }));
      if (this.logLines.length > RAM_LOG_LINES_MAX) this.logLines.shift();
      this.totalLogLinesWritten++;
    };
    return {
      info: (o, m) => (record('I', o, m), inner.info(o, m)),
      warn: (o, m) => (record('W', o, m), inner.warn(o, m)),
      error: (o, m) => (record('E', o, m), inner.error(o, m)),
      debug: (o, m) => inner.debug(o, m),
    };
  }

  get isClosed(): boolean {
    return this.closed;
  }

  topologyVersion(): Document {
    return { processId: this.processId, counter: Long.fromNumber(this.topologyVersionCounter) };
  }

  getCollection(db: string, name: string): Collection | undefined {
    return this.engine.getCollection(db, name);
  }

  /**
   * The collection, created implicitly as a write to a missing collection does in mongod. Inside
   * a multi-document transaction the creation belongs to it: hidden from others' listings until it
   * commits, dropped if it aborts.
   */
  ensureCollection(db: string, name: string, transaction?: StorageTxn): Collection {
    const existing = this.engine.getCollection(db, name);
    if (existing) return existing;
    validateCollectionName(db, name, { forWrite: true });
    // A write to a view's name must not create a collection under it.
    assertNotView(this, db, name, transaction);
    const coll = this.engine.createCollection(db, name, {});
    buildCollectionHooks(coll);
    if (transaction) this.createInTransaction(coll, transaction);
    return coll;
  }

  /** Ties a collection created inside a transaction to it (see ensureCollection). */
  createInTransaction(coll: Collection, transaction: StorageTxn): void {
    coll.createdBy = transaction;
    transaction.onAbort(() => this.engine.dropCollection(coll));
  }

  beginOperation(connection: ConnectionInfo, db: string, command: Document, op: string, ns: string): OperationRecord {
    const rec: OperationRecord = { opid: this.nextOpId++, connection, command, db, ns, op, startedAtMs: this.clock.nowMs(), killed: false };
    this.operations.set(rec.opid, rec);
    return rec;
  }

  endOperation(rec: OperationRecord): void {
    this.operations.delete(rec.opid);
  }

  killOperation(opid: number): boolean {
    const rec = this.operations.get(opid);
    if (!rec) return false;
    rec.killed = true;
    return true;
  }

  private readonly topologyListeners = new Set<() => void>();

  /** Calls `listener` once, at the next topology change or at shutdown (streaming hello waits on this). */
  onTopologyChangeOrClose(listener: () => void): void {
    this.topologyListeners.add(listener);
  }

  private notifyTopologyListeners(): void {
    const listeners = [...this.topologyListeners];
    this.topologyListeners.clear();
    for (const l of listeners) l();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.ttlMonitor.stop();
    this.historySweeper?.cancel();
    this.sessionsCollection.stop();
    this.sessions.stop();
    this.cursors.close();
    this.notifyTopologyListeners();
  }

  /** Flushes the journal, writes a last checkpoint and releases the data directory. */
  async closeStorage(): Promise<void> {
    await this.persistence?.close(this.engine.checkpointSource);
  }

  assertOpen(): void {
    if (this.closed) fail('ShutdownInProgress', 'The server is in quiesce mode and will shut down');
  }
}

