/**
 * currentOp: the operations in flight, one entry per operation, in mongod's legacy currentOp
 * shape. As mongod does (it runs `[{$currentOp}, {$match: <the other fields>}]`), every field
 * besides `currentOp`, `$all`, `$ownOps`, `$truncateOps` and the generic arguments is a match
 * expression over the entries. `$all: true` adds the idle connections (active: false).
 * Without authentication every operation is the caller's own, so `$ownOps` filters nothing.
 */
import { isNumeric, Long, toJsNumber, type BsonValue, type Document } from '../../bson/index.js';
import { matches, parseFilter } from '../../query/filter/index.js';
import type { ConnectionInfo } from '../connection.js';
import { isGenericArgument } from '../generic.js';
import type { Instance, OperationRecord } from '../instance.js';
import type { CommandDefinition } from '../types.js';
import { hostAndPort } from './serverStatus.js';

const OWN_PARAMETERS = new Set(['$all', '$ownOps', '$truncateOps']);

/** mongod prints currentOpTime in local ISO-8601 with an offset; Dossier's servers run in UTC. */
function isoWithOffset(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+00:00');
}

/** mongod's BSONElement::trueValue: false for false, null and numeric zero; true otherwise. */
function trueValue(v: BsonValue): boolean {
  if (v === undefined || v === null || v === false) return false;
  return isNumeric(v) ? toJsNumber(v) !== 0 : true;
}

function connectionFields(instance: Instance, c: ConnectionInfo, nowMs: number): Document {
  const entry: Document = {
    type: 'op',
    host: hostAndPort(instance),
    desc: `conn${c.id}`,
    connectionId: c.id,
    client: c.remote,
  };
  const meta = c.clientMetadata;
  if (meta) {
    const appName = (meta.application as Document | undefined)?.name;
    if (typeof appName === 'string') entry.appName = appName;
    entry.clientMetadata = meta;
  }
  entry.active = false;
  entry.currentOpTime = isoWithOffset(nowMs);
  return entry;
}

function operationEntry(instance: Instance, op: OperationRecord, nowMs: number): Document {
  const entry = connectionFields(instance, op.connection, nowMs);
  const runningMicros = Math.max(0, nowMs - op.startedAtMs) * 1000;
  entry.active = true;
  entry.threaded = true;
  entry.opid = op.opid;
  const lsid = op.command.lsid;
  if (lsid !== undefined) entry.lsid = lsid;
  entry.secs_running = Long.fromNumber(Math.floor(runningMicros / 1_000_000));
  entry.microsecs_running = Long.fromNumber(runningMicros);
  entry.op = op.op;
  entry.ns = op.ns;
  entry.redacted = false;
  entry.command = op.command;
  entry.numYields = 0;
  entry.locks = {};
  entry.waitingForLock = false;
  entry.lockStats = {};
  entry.waitingForFlowControl = false;
  entry.flowControlStats = {};
  if (op.killed) entry.killPending = true;
  return entry;
}

export const currentOpCommand: CommandDefinition = {
  name: 'currentOp',
  help: 'Lists the operations in progress: { currentOp: 1, $all: <bool>, $ownOps: <bool>, <filter fields> }',
  kind: 'diagnostic',
  adminOnly: true,
  run(ctx) {
    const { instance, body } = ctx;
    const filterDoc: Document = {};
    const [, ...fields] = Object.keys(body);
    for (const f of fields) {
      if (OWN_PARAMETERS.has(f) || isGenericArgument(f)) continue;
      filterDoc[f] = body[f];
    }
    const filter = parseFilter(filterDoc);
    const includeIdle = trueValue(body.$all);
    const nowMs = instance.clock.nowMs();
    const entries: Document[] = [];
    const busy = new Set<number>();
    for (const op of instance.operations.values()) {
      busy.add(op.connection.id);
      entries.push(operationEntry(instance, op, nowMs));
    }
    if (includeIdle) {
      for (const c of instance.connections.values()) if (!busy.has(c.id)) entries.push(connectionFields(instance, c, nowMs));
    }
    return { inprog: entries.filter((e) => matches(filter, e)) };
  },
};
