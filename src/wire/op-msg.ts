import type { Document } from '../bson/index.js';
import { DossierError, ErrorCodes, MESSAGE_SIZE_MAX_BYTES, fail, failLocation } from '../base/index.js';
import type { BsonValidationLimits } from './bson-validate.js';
import { encodeReplyDocument, readDocument } from './bson-decode.js';
import {
  MESSAGE_HEADER_SIZE_BYTES,
  OP_MSG_REQUIRED_FLAGS_MASK,
  OP_MSG_SUPPORTED_REQUIRED_FLAGS,
  OpCode,
  OpMsgFlag,
} from './constants.js';
import { crc32c } from '../base/index.js';

/**
 * OP_MSG (opCode 2013): flagBits uint32, sections, optional CRC-32C. Parsing follows mongod's
 * OpMsg::parse step by step (src/mongo/rpc/op_msg.cpp) so the same input yields the same error.
 */

export interface OpMsgFlags {
  readonly checksumPresent: boolean;
  readonly moreToCome: boolean;
  readonly exhaustAllowed: boolean;
  /** flagBits as sent (optional unknown bits 17-31 are ignored, as mongod does). */
  readonly raw: number;
}

export interface DocumentSequence {
  readonly identifier: string;
  readonly documents: Document[];
}

export interface ParsedOpMsg {
  readonly flags: OpMsgFlags;
  /** The kind-0 body with each document sequence merged in as an array under its identifier. */
  readonly body: Document;
  /** The kind-1 sections as sent, in order (their documents are the same objects as in body). */
  readonly sequences: readonly DocumentSequence[];
}

const KIND_BODY = 0;
const KIND_DOCUMENT_SEQUENCE = 1;
/** Multitenancy's security token; mongod without multitenancy refuses it with Unauthorized. */
const KIND_SECURITY_TOKEN = 2;
const CHECKSUM_SIZE_BYTES = 4;
/** mongod accepts at most two document sequences (TooManyDocumentSequences beyond). */
const DOCUMENT_SEQUENCES_MAX = 2;

export function opMsgFlags(raw: number): OpMsgFlags {
  return {
    checksumPresent: (raw & OpMsgFlag.checksumPresent) !== 0,
    moreToCome: (raw & OpMsgFlag.moreToCome) !== 0,
    exhaustAllowed: (raw & OpMsgFlag.exhaustAllowed) !== 0,
    raw,
  };
}

/** Reads only flagBits (for error replies: a request with moreToCome gets none). */
export function peekOpMsgFlags(frame: Buffer): OpMsgFlags | undefined {
  return frame.length >= MESSAGE_HEADER_SIZE_BYTES + 4 ? opMsgFlags(frame.readUInt32LE(MESSAGE_HEADER_SIZE_BYTES)) : undefined;
}

/** mongod's BufReader running out of bytes: ErrorCodes::Overflow from the data-range cursor. */
function truncated(what: string): never {
  fail('Overflow', `Invalid OP_MSG: not enough bytes to read ${what}`);
}

/** mongod's dotted-path lookup (extractElementAtPathOrArrayAlongPath): does `path` exist in body? */
function pathExists(body: Document, path: string): boolean {
  let current: unknown = body;
  for (const part of path.split('.')) {
    if (Array.isArray(current)) return true; // an array along the path counts as present
    if (current === null || typeof current !== 'object' || !Object.prototype.hasOwnProperty.call(current, part)) return false;
    current = (current as Record<string, unknown>)[part];
  }
  return current !== undefined;
}

/**
 * Parses the OP_MSG in `frame` (a whole message, header included). Throws DossierError with
 * mongod's codes; the caller decides reply or close (see errors.ts).
 */
export function parseOpMsg(frame: Buffer, limits: BsonValidationLimits): ParsedOpMsg {
  const dataEnd = frame.length;
  let pos = MESSAGE_HEADER_SIZE_BYTES;
  if (dataEnd - pos < 4) truncated('flagBits');
  const raw = frame.readUInt32LE(pos);
  pos += 4;
  if ((raw & ~OP_MSG_SUPPORTED_REQUIRED_FLAGS & OP_MSG_REQUIRED_FLAGS_MASK) !== 0) {
    fail('IllegalOpMsgFlag', `Message contains illegal flags value: Ob${raw.toString(2).padStart(32, '0')}`);
  }
  const flags = opMsgFlags(raw);

  let sectionsEnd = dataEnd;
  if (flags.checksumPresent) {
    // mongod 51252: the message must hold flagBits and the checksum and at least one more byte.
    if (dataEnd - MESSAGE_HEADER_SIZE_BYTES <= CHECKSUM_SIZE_BYTES + 4) {
      failLocation(51252, 'Invalid message size for an OpMsg containing a checksum');
    }
    sectionsEnd -= CHECKSUM_SIZE_BYTES;
  }

  let body: Document | undefined;
  const sequences: DocumentSequence[] = [];
  while (pos < sectionsEnd) {
    const kind = frame[pos++]!;
    if (kind === KIND_BODY) {
      if (body !== undefined) failLocation(40430, 'Multiple body sections in message');
      const { document, length } = readDocument(frame, pos, sectionsEnd, limits);
      body = document;
      pos += length;
      if (Object.prototype.hasOwnProperty.call(body, '$tenant')) {
        fail('InvalidOptions', 'Multitenancy not enabled, cannot set $tenant in command body');
      }
    } else if (kind === KIND_DOCUMENT_SEQUENCE) {
      if (sequences.length >= DOCUMENT_SEQUENCES_MAX) fail('TooManyDocumentSequences', 'Too many document sequences in OP_MSG');
      if (sectionsEnd - pos < 4) truncated('a document sequence size');
      const size = frame.readInt32LE(pos);
      // The size counts itself; a size under 4 or past the sections is a truncated read in mongod.
      if (size < 4 || size > sectionsEnd - pos) truncated('a document sequence');
      const sequenceEnd = pos + size;
      let nul = pos + 4;
      while (nul < sequenceEnd && frame[nul] !== 0) nul++;
      if (nul >= sequenceEnd) truncated('a document sequence identifier');
      const identifier = frame.toString('utf8', pos + 4, nul);
      if (sequences.some((s) => s.identifier === identifier)) failLocation(40431, `Duplicate document sequence: ${identifier}`);
      const documents: Document[] = [];
      pos = nul + 1;
      while (pos < sequenceEnd) {
        const { document, length } = readDocument(frame, pos, sequenceEnd, limits);
        documents.push(document);
        pos += length;
      }
      sequences.push({ identifier, documents });
    } else if (kind === KIND_SECURITY_TOKEN) {
      fail('Unauthorized', 'Unsupported Security Token provided');
    } else {
      failLocation(40432, `Unknown section kind ${kind}`);
    }
  }
  if (body === undefined) failLocation(40587, 'OP_MSG messages must have a body');

  for (const sequence of sequences) {
    if (pathExists(body, sequence.identifier)) {
      failLocation(40433, `Duplicate field between body and document sequence ${sequence.identifier}`);
    }
  }

  // mongod verifies the checksum last, after the sections parsed.
  if (flags.checksumPresent) {
    const expected = frame.readUInt32LE(dataEnd - CHECKSUM_SIZE_BYTES);
    if (crc32c(frame, 0, dataEnd - CHECKSUM_SIZE_BYTES) !== expected) {
      fail('ChecksumMismatch', 'OP_MSG checksum does not match contents');
    }
  }

  // defineProperty, not assignment: an identifier such as "__proto__" must become a plain field.
  for (const sequence of sequences) {
    Object.defineProperty(body, sequence.identifier, { value: sequence.documents, enumerable: true, writable: true, configurable: true });
  }
  return { flags, body, sequences };
}

export interface OpMsgReplyOptions {
  /** Set in exhaust replies: the server will send another reply without a new request. */
  readonly moreToCome?: boolean;
  /** Append a CRC-32C of the message (the checksumPresent flag). */
  readonly checksum?: boolean;
}

/** Writes the standard header into out[0..16). */
export function writeHeader(out: Buffer, messageLength: number, requestId: number, responseTo: number, opCode: number): void {
  out.writeInt32LE(messageLength, 0);
  out.writeInt32LE(requestId | 0, 4);
  out.writeInt32LE(responseTo | 0, 8);
  out.writeInt32LE(opCode, 12);
}

/**
 * Builds an OP_MSG reply with one kind-0 section. Like mongod's OpMsgBuilder::finish, a reply
 * larger than the message limit is refused (BSONObjectTooLarge) so the caller can send an error.
 */
export function buildOpMsgReply(body: Document, responseTo: number, requestId: number, options: OpMsgReplyOptions = {}): Buffer {
  const bson = encodeReplyDocument(body);
  const checksumBytes = options.checksum ? CHECKSUM_SIZE_BYTES : 0;
  const length = MESSAGE_HEADER_SIZE_BYTES + 4 + 1 + bson.length + checksumBytes;
  if (length > MESSAGE_SIZE_MAX_BYTES) {
    throw new DossierError(ErrorCodes.BSONObjectTooLarge, `BSON size limit hit while building Message. Size: ${length}`);
  }
  const out = Buffer.allocUnsafe(length);
  writeHeader(out, length, requestId, responseTo, OpCode.OP_MSG);
  let flagBits = 0;
  if (options.moreToCome) flagBits |= OpMsgFlag.moreToCome;
  if (options.checksum) flagBits |= OpMsgFlag.checksumPresent;
  out.writeUInt32LE(flagBits >>> 0, MESSAGE_HEADER_SIZE_BYTES);
  out[MESSAGE_HEADER_SIZE_BYTES + 4] = KIND_BODY;
  bson.copy(out, MESSAGE_HEADER_SIZE_BYTES + 5);
  if (options.checksum) out.writeUInt32LE(crc32c(out, 0, length - CHECKSUM_SIZE_BYTES), length - CHECKSUM_SIZE_BYTES);
  return out;
}
