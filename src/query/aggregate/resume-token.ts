/**
 * Change stream resume tokens: `{_data: <hex string>}`.
 *
 * mongod encodes its token as a KeyString so that comparing two `_data` strings orders the events
 * they stand for. Dossier's encoding is its own but keeps that property: fixed-width fields in
 * order of significance, upper-case hex, so string order is event order.
 *
 *   clusterTime  16 hex  seconds and increment, 8 each
 *   version       2 hex  TOKEN_VERSION
 *   tokenType     2 hex  00 high-water mark (a point in time, before any event at it), 80 event
 *   txnOpIndex    8 hex  the event's place among those of its commit (a transaction's operations)
 *   fromInvalidate 2 hex 01 for the invalidate that follows a drop/rename/dropDatabase
 *   uuid         32 hex  the collection's UUID, zeros when the event has none
 */
import { fail, failLocation } from '../../base/index.js';
import { isDocument, typeNameOf, Timestamp, UUID, type BsonValue, type Document } from '../../bson/index.js';

export const TOKEN_VERSION = 2;
const TOKEN_HEX_LENGTH = 16 + 2 + 2 + 8 + 2 + 32;
const EMPTY_UUID_HEX = '0'.repeat(32);

export const enum TokenType {
  HighWaterMark = 0x00,
  Event = 0x80,
}

export interface ResumeTokenData {
  clusterTime: Timestamp;
  tokenType: TokenType;
  txnOpIndex: number;
  fromInvalidate: boolean;
  uuid: UUID | undefined;
}

function hex(n: number, width: number): string {
  return n.toString(16).toUpperCase().padStart(width, '0');
}

export function encodeResumeToken(t: ResumeTokenData): string {
  return (
    hex(t.clusterTime.high >>> 0, 8) +
    hex(t.clusterTime.low >>> 0, 8) +
    hex(TOKEN_VERSION, 2) +
    hex(t.tokenType, 2) +
    hex(t.txnOpIndex, 8) +
    hex(t.fromInvalidate ? 1 : 0, 2) +
    (t.uuid ? t.uuid.toHexString(false).toUpperCase() : EMPTY_UUID_HEX)
  );
}

/** The token document events carry as `_id` and cursors as `postBatchResumeToken`. */
export function resumeTokenDocument(t: ResumeTokenData): Document {
  return { _data: encodeResumeToken(t) };
}

export function highWaterMark(clusterTime: Timestamp): ResumeTokenData {
  return { clusterTime, tokenType: TokenType.HighWaterMark, txnOpIndex: 0, fromInvalidate: false, uuid: undefined };
}

/** Parses a resumeAfter/startAfter value with mongod's errors. */
export function decodeResumeToken(value: BsonValue, field: string): ResumeTokenData {
  if (!isDocument(value)) fail('TypeMismatch', `BSON field '$changeStream.${field}' is the wrong type '${typeNameOf(value)}', expected type 'object'`);
  const data = value._data;
  if (typeof data !== 'string') {
    failLocation(40647, `Bad resume token: _data of missing or of wrong type. Expected string, got ${data === undefined ? 'missing' : typeNameOf(data)}`);
  }
  if (!/^[0-9A-Fa-f]*$/.test(data) || data.length % 2 !== 0) fail('FailedToParse', 'resume token string was not a valid hex string');
  if (data.length !== TOKEN_HEX_LENGTH) fail('FailedToParse', `Bad resume token: wrong length ${data.length / 2} bytes, expected ${TOKEN_HEX_LENGTH / 2}`);
  const d = data.toUpperCase();
  const field8 = (at: number): number => parseInt(d.slice(at, at + 8), 16);
  const version = parseInt(d.slice(16, 18), 16);
  if (version !== TOKEN_VERSION) fail('FailedToParse', `Bad resume token: unsupported version ${version}`);
  const tokenType = parseInt(d.slice(18, 20), 16);
  if (tokenType !== TokenType.HighWaterMark && tokenType !== TokenType.Event) fail('FailedToParse', `Bad resume token: unknown token type ${tokenType}`);
  const invalidate = parseInt(d.slice(28, 30), 16);
  if (invalidate > 1) fail('FailedToParse', 'Bad resume token: fromInvalidate must be 0 or 1');
  const uuidHex = d.slice(30);
  return {
    clusterTime: new Timestamp({ t: field8(0), i: field8(8) }),
    tokenType,
    txnOpIndex: field8(20),
    fromInvalidate: invalidate === 1,
    uuid: uuidHex === EMPTY_UUID_HEX ? undefined : new UUID(uuidHex.toLowerCase()),
  };
}

/** Whether `doc` is the token document `{_data: token}` exactly (the check that the pipeline left `_id` alone). */
export function isTokenDocument(doc: BsonValue, token: string): boolean {
  return isDocument(doc) && Object.keys(doc).length === 1 && doc._data === token;
}
