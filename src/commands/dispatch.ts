/**
 * The shared pipeline every command goes through: look the command up, check where it may run,
 * parse the generic arguments, gossip cluster time, run the handler, and turn the result or the
 * error into mongod's reply shape with operationTime and $clusterTime.
 */
import { DossierError, ErrorCodes, fail } from '../base/index.js';
import { Binary, Double, Long, typeNameOf, type Document } from '../bson/index.js';
import { timestampOf, tsKeyOf } from '../time/index.js';
import { lookupCommand } from './registry.js';
import { parseGenericArguments } from './generic.js';
import { errorReply, toDossierError } from './replies.js';
import type { Instance } from './instance.js';
import type { ConnectionInfo } from './connection.js';
import type { CommandContext, CommandDefinition } from './types.js';

const ZERO_HASH = new Binary(Buffer.alloc(20), 0);
/** mongod sends `ok` as a double. */
const OK = new Double(1);

export interface DispatchResult {
  reply: Document;
  /** The handler asked for the connection to close after the reply (e.g. failCommand closeConnection). */
  closeConnection?: boolean;
}

function clusterTimeFields(instance: Instance): Document {
  const now = timestampOf(instance.hlc.now());
  return {
    $clusterTime: { clusterTime: now, signature: { hash: ZERO_HASH, keyId: Long.fromNumber(0) } },
    operationTime: timestampOf(instance.engine.lastCommitTs),
  };
}

function commandName(body: Document): string {
  const first = Object.keys(body)[0];
  if (first === undefined) fail('CommandNotFound', 'no such command: \'\'');
  return first;
}

function namespaceOf(def: CommandDefinition, db: string, body: Document): string {
  const target = body[Object.keys(body)[0]!];
  return typeof target === 'string' && def.kind !== 'admin' ? `${db}.${target}` : `${db}.$cmd`;
}

export async function dispatchCommand(instance: Instance, connection: ConnectionInfo, db: string, body: Document): Promise<DispatchResult> {
  let def: CommandDefinition | undefined;
  try {
    instance.assertOpen();
    const name = commandName(body);
    def = lookupCommand(name);
    if (!def || (def.testOnly && !instance.config.enableTestCommands)) fail('CommandNotFound', `no such command: '${name}'`);
    if (typeNameOf(db) !== 'string' || db.length === 0) fail('InvalidNamespace', `Invalid database name: '${String(db)}'`);
    if (def.adminOnly && db !== 'admin') fail('Unauthorized', `${def.name} may only be run against the admin database.`);
    countCommand(instance, def);
    const generic = parseGenericArguments(body, db);
    const ct = generic.$clusterTime?.clusterTime;
    if (ct !== undefined && typeNameOf(ct) === 'timestamp') instance.hlc.observe(tsKeyOf(ct));
    if (generic.autocommit === false || generic.startTransaction === true) {
      fail('IllegalOperation', 'Multi-document transactions are not supported by this Dossier build yet');
    }
    if (generic.txnNumber !== undefined && generic.lsid === undefined) {
      fail('InvalidOptions', 'Transaction number requires a sessionId to be specified');
    }
    const op = instance.beginOperation(connection, db, body, def.kind === 'write' ? def.name : 'command', namespaceOf(def, db, body));
    try {
      const ctx: CommandContext = { instance, connection, db, body, generic, opId: op.opid, killed: () => op.killed };
      const result = await def.run(ctx);
      return { reply: { ...result, ok: OK, ...clusterTimeFields(instance) } };
    } finally {
      instance.endOperation(op);
    }
  } catch (e) {
    const err = toDossierError(e);
    if (err.code === ErrorCodes.InternalError) instance.log.error({ err: e, command: def?.name }, 'command failed with an internal error');
    return { reply: { ...errorReply(err), ...clusterTimeFields(instance) } };
  }
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

export { DossierError };
