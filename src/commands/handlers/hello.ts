/**
 * hello / isMaster: the handshake. Dossier always answers as the primary of a single-node replica
 * set, so drivers allow sessions, transactions and retryable writes. With `topologyVersion` and
 * `maxAwaitTimeMS` (the streaming protocol) the reply waits until the topology changes or the
 * time runs out — it waits on a timer, never spins.
 */
import { fail } from '../../base/index.js';
import {
  BSON_OBJECT_SIZE_MAX_BYTES, HELLO_MAX_AWAIT_TIME_MS_MAX, LOGICAL_SESSION_TIMEOUT_MINUTES, MAX_WIRE_VERSION,
  MESSAGE_SIZE_MAX_BYTES, MIN_WIRE_VERSION, WRITE_BATCH_SIZE_MAX,
} from '../../base/limits.js';
import { compareValues, isDocument, Long, toJsNumber, typeNameOf, type Document } from '../../bson/index.js';
import { CURRENT_TERM } from '../../storage/index.js';
import { timestampOf } from '../../time/index.js';
import type { CommandContext, CommandDefinition } from '../types.js';
import type { Instance } from '../instance.js';
import { supportedCompressors } from '../compression.js';

export function lastWriteFields(instance: Instance): Document {
  const ts = timestampOf(instance.engine.lastCommitTs);
  const date = new Date(ts.high * 1000);
  const opTime = { ts, t: Long.fromNumber(CURRENT_TERM) };
  return { opTime, lastWriteDate: date, majorityOpTime: opTime, majorityWriteDate: date };
}

function helloReply(ctx: CommandContext, legacyName: boolean): Document {
  const { instance, body } = ctx;
  const me = instance.config.host;
  const reply: Document = {
    topologyVersion: instance.topologyVersion(),
    hosts: [me],
    setName: instance.config.replSetName,
    setVersion: 1,
    [legacyName ? 'ismaster' : 'isWritablePrimary']: true,
    secondary: false,
    primary: me,
    me,
    electionId: instance.electionId,
    lastWrite: lastWriteFields(instance),
    maxBsonObjectSize: BSON_OBJECT_SIZE_MAX_BYTES,
    maxMessageSizeBytes: MESSAGE_SIZE_MAX_BYTES,
    maxWriteBatchSize: WRITE_BATCH_SIZE_MAX,
    localTime: new Date(instance.clock.nowMs()),
    logicalSessionTimeoutMinutes: instance.parameters.getNumber('localLogicalSessionTimeoutMinutes') || LOGICAL_SESSION_TIMEOUT_MINUTES,
    connectionId: ctx.connection.id,
    minWireVersion: MIN_WIRE_VERSION,
    maxWireVersion: MAX_WIRE_VERSION,
    readOnly: false,
  };
  if (body.helloOk === true) reply.helloOk = true;
  if (Array.isArray(body.compression)) {
    const offered = body.compression.filter((c: unknown): c is string => typeof c === 'string');
    reply.compression = offered.filter((c) => supportedCompressors().includes(c));
  }
  if (typeof body.saslSupportedMechs === 'string') reply.saslSupportedMechs = [];
  return reply;
}

async function runHello(ctx: CommandContext, legacyName: boolean): Promise<Document> {
  const { body, connection, instance } = ctx;
  if (body.client !== undefined) {
    if (connection.helloDone) fail('ClientMetadataCannotBeMutated', 'The client metadata document may only be sent in the first hello');
    if (!isDocument(body.client)) fail('TypeMismatch', `BSON field 'client' is the wrong type '${typeNameOf(body.client)}', expected type 'object'`);
    connection.clientMetadata = body.client;
  }
  connection.helloDone = true;
  const tv = body.topologyVersion;
  const maxAwait = body.maxAwaitTimeMS;
  if (maxAwait !== undefined && tv === undefined) fail('InvalidOptions', 'A request with a \'maxAwaitTimeMS\' must also include a \'topologyVersion\'');
  if (tv !== undefined && maxAwait === undefined) fail('InvalidOptions', 'A request with a \'topologyVersion\' must include \'maxAwaitTimeMS\'');
  if (tv !== undefined) {
    if (!isDocument(tv)) fail('TypeMismatch', `BSON field 'topologyVersion' is the wrong type '${typeNameOf(tv)}', expected type 'object'`);
    const waitMs = toJsNumber(maxAwait);
    if (!(waitMs >= 0)) fail('BadValue', 'maxAwaitTimeMS must be a non-negative integer');
    const sameProcess = tv.processId !== undefined && compareValues(tv.processId, instance.processId) === 0;
    const sameCounter = tv.counter !== undefined && toJsNumber(tv.counter) === instance.topologyVersionCounter;
    if (sameProcess && sameCounter) await waitForTopologyChange(ctx, Math.min(waitMs, HELLO_MAX_AWAIT_TIME_MS_MAX));
  }
  return helloReply(ctx, legacyName);
}

function waitForTopologyChange(ctx: CommandContext, waitMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = ctx.instance.clock.setTimer(waitMs, resolve);
    ctx.instance.onTopologyChangeOrClose(() => {
      timer.cancel();
      resolve();
    });
  });
}

export const helloCommand: CommandDefinition = {
  name: 'hello',
  help: 'Returns the topology of this node: a single-node replica-set primary.',
  kind: 'diagnostic',
  noAuth: true,
  allowedInTransaction: true,
  options: ['helloOk', 'client', 'topologyVersion', 'maxAwaitTimeMS', 'compression', 'saslSupportedMechs', 'loadBalanced'],
  run: (ctx) => runHello(ctx, false),
};

export const isMasterCommand: CommandDefinition = {
  name: 'isMaster',
  aliases: ['ismaster'],
  help: 'The legacy handshake: like hello, with `ismaster` instead of `isWritablePrimary`.',
  kind: 'diagnostic',
  noAuth: true,
  allowedInTransaction: true,
  options: helloCommand.options!,
  run: (ctx) => runHello(ctx, true),
};
