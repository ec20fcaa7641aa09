import type { Document } from '../bson/index.js';
import { DossierError, ErrorCodes, MESSAGE_SIZE_MAX_BYTES, fail, failLocation } from '../base/index.js';
import type { BsonValidationLimits } from './bson-validate.js';
import { encodeReplyDocument, readDocument } from './bson-decode.js';
import { MESSAGE_HEADER_SIZE_BYTES, OpCode, OpQueryFlag, OpReplyFlag } from './constants.js';
import { writeHeader } from './op-msg.js';

/**
 * OP_QUERY (2004) survives only for the legacy handshake: old drivers (and pymongo 3.x) send
 * isMaster/ismaster/hello to "admin.$cmd" with it, and mongod answers with OP_REPLY (1).
 * Layout: flags int32, fullCollectionName cstring, numberToSkip int32, numberToReturn int32,
 * query document, optional returnFieldsSelector document.
 */

export interface OpQueryFlags {
  readonly tailableCursor: boolean;
  readonly secondaryOk: boolean;
  readonly oplogReplay: boolean;
  readonly noCursorTimeout: boolean;
  readonly awaitData: boolean;
  readonly exhaust: boolean;
  readonly partial: boolean;
  readonly raw: number;
}

export interface ParsedOpQuery {
  readonly flags: OpQueryFlags;
  readonly fullCollectionName: string;
  /** The part before the first '.'; "admin" for "admin.$cmd". */
  readonly databaseName: string;
  /** The part after the first '.'; "$cmd" for a command. */
  readonly collectionName: string;
  readonly isCommand: boolean;
  readonly numberToSkip: number;
  readonly numberToReturn: number;
  readonly query: Document;
  readonly returnFieldsSelector: Document | undefined;
}

function opQueryFlags(raw: number): OpQueryFlags {
  return {
    tailableCursor: (raw & OpQueryFlag.tailableCursor) !== 0,
    secondaryOk: (raw & OpQueryFlag.secondaryOk) !== 0,
    oplogReplay: (raw & OpQueryFlag.oplogReplay) !== 0,
    noCursorTimeout: (raw & OpQueryFlag.noCursorTimeout) !== 0,
    awaitData: (raw & OpQueryFlag.awaitData) !== 0,
    exhaust: (raw & OpQueryFlag.exhaust) !== 0,
    partial: (raw & OpQueryFlag.partial) !== 0,
    raw,
  };
}

function truncated(what: string): never {
  fail('Overflow', `Invalid OP_QUERY: not enough bytes to read ${what}`);
}

export function parseOpQuery(frame: Buffer, limits: BsonValidationLimits): ParsedOpQuery {
  const end = frame.length;
  let pos = MESSAGE_HEADER_SIZE_BYTES;
  if (end - pos < 4) truncated('flags');
  const flags = opQueryFlags(frame.readInt32LE(pos));
  pos += 4;
  let nul = pos;
  while (nul < end && frame[nul] !== 0) nul++;
  if (nul >= end) failLocation(18633, 'Failed to parse ns string');
  const fullCollectionName = frame.toString('utf8', pos, nul);
  pos = nul + 1;
  if (end - pos < 8) truncated('numberToSkip and numberToReturn');
  const numberToSkip = frame.readInt32LE(pos);
  const numberToReturn = frame.readInt32LE(pos + 4);
  pos += 8;
  if (pos >= end) fail('Overflow', 'Invalid OP_QUERY: the message contains no query document');
  const query = readDocument(frame, pos, end, limits);
  pos += query.length;
  // mongod reads the selector when bytes remain, and ignores anything after it.
  const returnFieldsSelector = pos < end ? readDocument(frame, pos, end, limits).document : undefined;
  const dot = fullCollectionName.indexOf('.');
  const databaseName = dot < 0 ? fullCollectionName : fullCollectionName.slice(0, dot);
  const collectionName = dot < 0 ? '' : fullCollectionName.slice(dot + 1);
  return {
    flags,
    fullCollectionName,
    databaseName,
    collectionName,
    isCommand: collectionName === '$cmd',
    numberToSkip,
    numberToReturn,
    query: query.document,
    returnFieldsSelector,
  };
}

/**
 * The command an OP_QUERY on "<db>.$cmd" carries, as mongod upconverts it to an OP_MSG body
 * (rpc/legacy_request.cpp + upconvertRequest): unwraps {$query: cmd, $readPreference: rp}
 * (or {query: ...}), turns the secondaryOk flag into $readPreference secondaryPreferred when no
 * read preference was given, and appends $db. Throws as mongod does for what it refuses.
 */
export function upconvertOpQuery(q: ParsedOpQuery): Document {
  if (q.flags.exhaust) {
    failLocation(18527, `The 'exhaust' OP_QUERY flag is invalid for commands: ${q.fullCollectionName}`);
  }
  if (q.numberToReturn !== 1 && q.numberToReturn !== -1) {
    fail('InvalidOptions', `Bad numberToReturn (${q.numberToReturn}) for $cmd type ns - can only be 1 or -1`);
  }
  let command: Document = q.query;
  let readPreference: unknown = undefined;
  const first = Object.keys(command)[0];
  if (first === '$query' || first === 'query') {
    if (Object.prototype.hasOwnProperty.call(command, '$maxTimeMS')) {
      fail('InvalidOptions', 'cannot use $maxTimeMS query option with commands; use maxTimeMS command option instead');
    }
    readPreference = command['$readPreference'];
    const inner: unknown = command[first];
    if (inner === null || typeof inner !== 'object' || Array.isArray(inner)) {
      fail('TypeMismatch', `The ${first} field of a legacy command must be an object`);
    }
    command = inner as Document;
  } else if (Object.prototype.hasOwnProperty.call(command, '$readPreference')) {
    readPreference = command['$readPreference'];
  }
  if (Object.prototype.hasOwnProperty.call(command, '$db')) failLocation(40621, '$db is not allowed in OP_QUERY requests');
  const body: Document = {};
  for (const [key, value] of Object.entries(command)) {
    if (key === '$readPreference') continue;
    Object.defineProperty(body, key, { value, enumerable: true, writable: true, configurable: true });
  }
  if (readPreference !== undefined) body['$readPreference'] = readPreference;
  else if (q.flags.secondaryOk) body['$readPreference'] = { mode: 'secondaryPreferred' };
  body['$db'] = q.databaseName;
  return body;
}

export interface OpReplyOptions {
  /** Default: awaitCapable, as mongod sets on every OP_REPLY. */
  readonly responseFlags?: number;
  readonly cursorId?: bigint;
  readonly startingFrom?: number;
}

/** Builds an OP_REPLY carrying `documents` (one, for a command reply). */
export function buildOpReply(documents: Document | readonly Document[], responseTo: number, requestId: number, options: OpReplyOptions = {}): Buffer {
  const docs = Array.isArray(documents) ? (documents as readonly Document[]) : [documents as Document];
  const encoded = docs.map((d) => encodeReplyDocument(d));
  const headerLength = MESSAGE_HEADER_SIZE_BYTES + 20;
  const length = encoded.reduce((n, b) => n + b.length, headerLength);
  if (length > MESSAGE_SIZE_MAX_BYTES) {
    throw new DossierError(ErrorCodes.BSONObjectTooLarge, `BSON size limit hit while building Message. Size: ${length}`);
  }
  const out = Buffer.allocUnsafe(length);
  writeHeader(out, length, requestId, responseTo, OpCode.OP_REPLY);
  out.writeInt32LE(options.responseFlags ?? OpReplyFlag.awaitCapable, 16);
  out.writeBigInt64LE(options.cursorId ?? 0n, 20);
  out.writeInt32LE(options.startingFrom ?? 0, 28);
  out.writeInt32LE(encoded.length, 32);
  let pos = headerLength;
  for (const b of encoded) {
    b.copy(out, pos);
    pos += b.length;
  }
  return out;
}
