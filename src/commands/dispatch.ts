/**
 * The shared pipeline every command goes through: look the command up, check where it may run,
 * parse the generic arguments, gossip cluster time, check the session out and move its
 * transaction state, apply the read concern, run the handler, wait for the write concern, and
 * turn the result or the error into mongod's reply (error labels, operationTime, $clusterTime).
 */
import { DossierError, ErrorCodes, fail } from '../base/index.js';
import { Binary, Double, Long, orderedKeys, toJsNumber, typeNameOf, type Document } from '../bson/index.js';
import { errorLabelsFor, type Session } from '../sessions/index.js';
import { timestampOf, tsKeyOf } from '../time/index.js';
import { lookupCommand } from './registry.js';
import { parseGenericArguments, type GenericArguments } from './generic.js';
import { errorReply, toDossierError } from './replies.js';
import { recordCommandUsage } from './usage-log.js';
import {
  FailPointError, failPointsOf, failPointTarget, sleepMs, supportsWriteConcern, takeCloseRequest,
  type FailPointTarget, type WriteConcernErrorAction,
} from './failpoints.js';
import { beginOrContinue, checkOutSession, isCommitOrAbort, transactionOf, validateSessionArguments, type SessionInfo } from './session-support.js';
import { readTimestampOutsideTransaction, validateReadConcern } from './read-concern.js';
import { validateWriteConcern, waitForWriteConcern } from './write-concern.js';
import { recordSessionWrite } from './write-path.js';
import type { Instance } from './instance.js';
import type { ConnectionInfo } from './connection.js';
import type { CommandContext, CommandDefinition } from './types.js';
import { opensChangeStream } from './change-streams.js';

const ZERO_HASH = new Binary(Buffer.alloc(20), 0);
/** mongod sends `ok` as a double. */
const OK = new Double(1);

export interface DispatchResult {
  reply: Document;
  /** The handler asked for the connection to close after the reply (e.g. failCommand closeConnection). */
  closeConnection?: boolean;
}

const KEY_ID_NONE = Long.fromNumber(0);

/**
 * Adds `$clusterTime` and `operationTime` to a reply. Fields are assigned, not spread: on Node 20
 * `{ ...a, k: v }` takes V8's slow path and costs more than running a find by _id.
 */
function addClusterTimeFields(reply: Document, instance: Instance): Document {
  reply.$clusterTime = { clusterTime: timestampOf(instance.hlc.now()), signature: { hash: ZERO_HASH, keyId: KEY_ID_NONE } };
  reply.operationTime = timestampOf(instance.engine.lastCommitTs);
  return reply;
}

function commandName(body: Document): string {
  const first = orderedKeys(body)[0];
  if (first === undefined) fail('CommandNotFound', 'no such command: \'\'');
  return first;
}

function namespaceOf(def: CommandDefinition, db: string, body: Document): string {
  const target = body[Object.keys(body)[0]!];
  return typeof target === 'string' && def.kind !== 'admin' ? `${db}.${target}` : `${db}.$cmd`;
}

/** What the error-label rules need to know about the request, gathered as far as parsing got. */
interface RequestFacts {
  name: string;
  generic: GenericArguments | undefined;
  lastCommitBefore: number;
  /** The command got past the checks to run (so it waits for write concern, even if it fails). */
  ran?: boolean;
  /** An aggregate opening a change stream (its errors may be labelled resumable). */
  changeStream?: boolean;
}

export async function dispatchCommand(instance: Instance, connection: ConnectionInfo, db: string, body: Document): Promise<DispatchResult> {
  let def: CommandDefinition | undefined;
  const facts: RequestFacts = { name: '', generic: undefined, lastCommitBefore: instance.engine.lastCommitTs };
  try {
    instance.assertOpen();
    const name = commandName(body);
    facts.name = name;
    def = lookupCommand(name);
    if (!def || (def.testOnly && !instance.config.enableTestCommands)) fail('CommandNotFound', `no such command: '${name}'`);
    facts.name = def.name;
    facts.changeStream = def.name === 'aggregate' && opensChangeStream(body.pipeline);
    if (typeNameOf(db) !== 'string' || db.length === 0) fail('InvalidNamespace', `Invalid database name: '${String(db)}'`);
    if (def.adminOnly && db !== 'admin') fail('Unauthorized', `${def.name} may only be run against the admin database.`);
    countCommand(instance, def);
    const generic = parseGenericArguments(body, db);
    facts.generic = generic;
    const ct = generic.$clusterTime?.clusterTime;
    if (ct !== undefined && typeNameOf(ct) === 'timestamp') instance.hlc.observe(tsKeyOf(ct));
    validateSessionArguments(def, generic);
    validateWriteConcern(def, generic.writeConcern);
    // failCommand, where mongod evaluates it: session options parsed, session not yet checked
    // out, so an injected error leaves the transaction alone.
    const failPoints = failPointsOf(instance);
    if (failPoints.anyEnabled) {
      const action = failPoints.beforeCommand(failPointTarget(def, namespaceOf(def, db, body), connection));
      if (action) {
        await sleepMs(instance.clock, action.blockMs);
        if (action.closeConnection) return { reply: {}, closeConnection: true };
        if (action.error) throw action.error;
      }
    }
    const session = await checkOutSession(instance, generic);
    try {
      facts.ran = true;
      const result = await runInSession(instance, connection, db, body, def, generic, session);
      return takeCloseRequest(connection) ? { reply: result.reply, closeConnection: true } : result;
    } finally {
      session?.checkIn(instance.clock.nowMs());
    }
  } catch (e) {
    const err = toDossierError(e);
    if (def) recordCommandUsage(def.name, body, false, err.code);
    if (err.code === ErrorCodes.InternalError) instance.log.error({ err: e, command: def?.name }, 'command failed with an internal error');
    const reply = addClusterTimeFields(errorReply(err), instance);
    // mongod waits for write concern after a failed command too, which is where failCommand's
    // writeConcernError lands.
    const wce = def && facts.ran ? injectedWriteConcernError(instance, def, db, body, connection) : undefined;
    if (wce) reply.writeConcernError = wce.writeConcernError;
    applyLabels(instance, reply, facts, err.code, wce ? toJsNumber(wce.writeConcernError.code) : undefined, err, wce?.labelsOverride);
    if (takeCloseRequest(connection)) return { reply, closeConnection: true };
    return { reply };
  }
}

/** failCommand's writeConcernError for a command that takes a write concern, when it fires. */
function injectedWriteConcernError(instance: Instance, def: CommandDefinition, db: string, body: Document, connection: ConnectionInfo): WriteConcernErrorAction | undefined {
  const failPoints = failPointsOf(instance);
  if (!failPoints.anyEnabled || !supportsWriteConcern(def.name)) return undefined;
  const target: FailPointTarget = failPointTarget(def, namespaceOf(def, db, body), connection);
  return failPoints.afterCommand(target);
}

async function runInSession(
  instance: Instance,
  connection: ConnectionInfo,
  db: string,
  body: Document,
  def: CommandDefinition,
  generic: GenericArguments,
  session: Session | undefined,
): Promise<DispatchResult> {
  const info: SessionInfo = beginOrContinue(instance, def, db, generic, session);
  const statement = info.inTransaction && !isCommitOrAbort(def.name);
  validateReadConcern(def, generic.readConcern, info.inTransaction);
  const snapshotRead = !info.inTransaction && generic.readConcern?.level === 'snapshot';
  const readTimestamp = info.inTransaction ? undefined : await readTimestampOutsideTransaction(instance, generic.readConcern);
  const op = instance.beginOperation(connection, db, body, def.kind === 'write' ? def.name : 'command', namespaceOf(def, db, body));
  try {
    const ctx: CommandContext = {
      instance,
      connection,
      db,
      body,
      generic,
      opId: op.opid,
      killed: () => op.killed,
      session,
      txnNumber: info.txnNumber,
      inTransaction: info.inTransaction,
      transaction: transactionOf(info),
      retryableWrite: info.retryableWrite,
      readTimestamp,
      snapshotRead,
    };
    let result: Document;
    try {
      result = await def.run(ctx);
    } catch (e) {
      // Any failed statement aborts its transaction, as mongod does; later statements and the
      // commit then answer NoSuchTransaction.
      if (statement) session!.abortOpenTransaction(instance.engine, `a ${def.name} statement failed`);
      throw e;
    }
    if (statement) session!.statementsRun++;
    recordCommandUsage(def.name, body, true, undefined);
    // failCommand's writeConcernError replaces the real wait, as in mongod (statements of a
    // transaction included: the fail point does not look at that).
    const injected = injectedWriteConcernError(instance, def, db, body, connection);
    const writeConcernError = injected
      ? injected.writeConcernError
      : statement
        ? undefined
        : await waitForWriteConcern(instance, generic.writeConcern, instance.engine.lastCommitTs, supportsWriteConcern(def.name));
    // Copied key by key: an object made by `{ ...result }` turns slow (µs per field) once fields
    // are added to it, on Node 20.
    const reply: Document = {};
    for (const k in result) reply[k] = result[k];
    reply.ok = OK;
    addClusterTimeFields(reply, instance);
    if (writeConcernError) {
      reply.writeConcernError = writeConcernError;
      applyLabels(instance, reply, { name: def.name, generic, lastCommitBefore: instance.engine.lastCommitTs }, undefined, toJsNumber(writeConcernError.code), undefined, injected?.labelsOverride);
    }
    return { reply };
  } finally {
    instance.endOperation(op);
    // A retryable write's statements (all, or those before an error) are recorded once per command.
    if (session?.transactionRecordStale && session.lastWriteTs !== undefined) recordSessionWrite(instance, session, session.activeTxnNumber, session.lastWriteTs, undefined);
  }
}

/** Adds errorLabels by mongod's rules, unless the error carries labels set by a fail point. */
function applyLabels(
  instance: Instance,
  reply: Document,
  facts: RequestFacts,
  code: number | undefined,
  writeConcernCode: number | undefined,
  err: DossierError | undefined,
  labelsOverride?: readonly string[],
): void {
  // A fail point's errorLabels replace the server's own, even when empty (mongod's errorLabelsOverride).
  const override = err instanceof FailPointError && err.labelsOverride !== undefined ? err.labelsOverride : labelsOverride;
  if (override !== undefined) {
    if (override.length > 0) reply.errorLabels = [...override];
    else delete reply.errorLabels;
    return;
  }
  if (err && err.errorLabels.length > 0) {
    reply.errorLabels = [...err.errorLabels];
    return;
  }
  const labels = errorLabelsFor({
    commandName: facts.name,
    hasTxnNumber: facts.generic?.txnNumber !== undefined,
    hasAutocommit: facts.generic?.autocommit !== undefined,
    code,
    writeConcernCode,
    noWritesPerformed: instance.engine.lastCommitTs === facts.lastCommitBefore,
    changeStream: facts.changeStream,
  });
  if (labels.length > 0) reply.errorLabels = labels;
  else delete reply.errorLabels;
}

function countCommand(instance: Instance, def: CommandDefinition): void {
  switch (def.name) {
    case 'find':
      instance.opcounters.query++;
      break;
    case 'getMore':
      instance.opcounters.getmore++;
      break;
    case 'insert':
    case 'update':
    case 'delete':
      break; // counted per document/statement by the handlers
    default:
      instance.opcounters.command++;
  }
}

