/**
 * serverStatus: the numbers an operator (and mongosh, Compass, exporters) reads about the
 * running server. Only sections whose values Dossier really tracks are present: a section of
 * zeros that are not measured would mislead monitoring. A section can be left out with
 * `{<section>: 0}` as on mongod.
 */
import * as os from 'node:os';
import { SERVER_VERSION } from '../../base/limits.js';
import { Double, Long, toJsNumber, typeNameOf, type BsonValue, type Document } from '../../bson/index.js';
import { isGenericArgument } from '../generic.js';
import type { Instance } from '../instance.js';
import type { CommandDefinition } from '../types.js';
import { lastWriteFields } from './hello.js';

/** mongod's default maxIncomingConnections (DEFAULT_MAX_CONN); `available` is what is left of it. */
export const MAX_INCOMING_CONNECTIONS = 1_000_000;
const MB = 1024 * 1024;

/** "hostname:port", as mongod's getHostNameCachedAndPort() (the port is always shown off 27017). */
export function hostAndPort(instance: Instance): string {
  const port = instance.config.port;
  return port === 27017 ? os.hostname() : `${os.hostname()}:${port}`;
}

function long(n: number): Long {
  return Long.fromNumber(n);
}

function connectionsSection(instance: Instance): Document {
  const current = instance.connections.size;
  const active = new Set([...instance.operations.values()].map((op) => op.connection.id)).size;
  return {
    current,
    available: Math.max(0, MAX_INCOMING_CONNECTIONS - current),
    totalCreated: instance.totalConnectionsCreated,
    active,
  };
}

function opcountersSection(instance: Instance): Document {
  const c = instance.opcounters;
  return { insert: long(c.insert), query: long(c.query), update: long(c.update), delete: long(c.delete), getmore: long(c.getmore), command: long(c.command) };
}

function memSection(): Document {
  const usage = process.memoryUsage();
  // Node does not expose the virtual size without reading /proc; the resident set is its floor.
  const residentMb = Math.round(usage.rss / MB);
  return { bits: 64, resident: residentMb, virtual: residentMb, supported: true };
}

function cursorMetrics(instance: Instance): Document {
  const all = instance.cursors.all();
  return {
    timedOut: long(instance.cursors.timedOut),
    totalOpened: long(instance.cursors.totalOpened),
    open: {
      noTimeout: long(all.filter((c) => c.noCursorTimeout).length),
      pinned: long(all.filter((c) => c.inUse).length),
      total: long(all.length),
    },
  };
}

/** The `repl` section: the hello fields of a single-node replica-set primary. */
export function replSection(instance: Instance): Document {
  const me = instance.config.host;
  return {
    topologyVersion: instance.topologyVersion(),
    hosts: [me],
    setName: instance.config.replSetName,
    setVersion: 1,
    isWritablePrimary: true,
    secondary: false,
    primary: me,
    me,
    electionId: instance.electionId,
    lastWrite: lastWriteFields(instance),
    rbid: 1,
  };
}

function storageEngineSection(instance: Instance): Document {
  const persistent = !instance.config.dbPath.startsWith('memory:');
  return {
    name: persistent ? 'dossier' : 'inMemory',
    supportsCommittedReads: true,
    persistent,
    readOnly: false,
    supportsSnapshotReadConcern: true,
    supportsPendingDrops: false,
    dropPendingIdents: long(0),
    backupCursorOpen: false,
  };
}

function isExcluded(v: BsonValue): boolean {
  if (typeof v === 'boolean') return !v;
  const t = typeNameOf(v);
  return (t === 'int' || t === 'long' || t === 'double' || t === 'decimal') && toJsNumber(v) === 0;
}

/** Transactions: open ones (checked out by a command: active; between statements: inactive) and totals. */
function transactionsSection(instance: Instance): Document {
  let active = 0;
  let open = 0;
  for (const s of instance.sessions.all()) {
    if (!s.inTransaction) continue;
    open++;
    if (s.isCheckedOut) active++;
  }
  const t = instance.transactionCounters;
  return {
    currentActive: long(active),
    currentInactive: long(open - active),
    currentOpen: long(open),
    totalAborted: long(t.totalAborted),
    totalCommitted: long(t.totalCommitted),
    totalStarted: long(t.totalStarted),
  };
}

export const serverStatusCommand: CommandDefinition = {
  name: 'serverStatus',
  help: 'returns lots of administrative server statistics',
  kind: 'diagnostic',
  run(ctx) {
    const { instance } = ctx;
    const nowMs = instance.clock.nowMs();
    const uptimeMs = Math.max(0, nowMs - instance.startedAtMs);
    const sections: Document = {
      connections: connectionsSection(instance),
      mem: memSection(),
      metrics: { cursor: cursorMetrics(instance) },
      opcounters: opcountersSection(instance),
      // A primary applies no replicated operations: these are real zeros.
      opcountersRepl: { insert: long(0), query: long(0), update: long(0), delete: long(0), getmore: long(0), command: long(0) },
      repl: replSection(instance),
      storageEngine: storageEngineSection(instance),
      transactions: transactionsSection(instance),
    };
    const [, ...fields] = Object.keys(ctx.body);
    for (const f of fields) {
      if (!isGenericArgument(f) && f in sections && isExcluded(ctx.body[f])) delete sections[f];
    }
    return {
      host: hostAndPort(instance),
      version: SERVER_VERSION,
      process: 'mongod',
      pid: long(process.pid),
      uptime: new Double(Math.floor(uptimeMs / 1000)),
      uptimeMillis: long(uptimeMs),
      uptimeEstimate: long(Math.floor(uptimeMs / 1000)),
      localTime: new Date(nowMs),
      ...sections,
    };
  },
};
