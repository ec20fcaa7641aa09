import type { Document } from '../bson/index.js';
import { DossierError, ErrorCodes, MESSAGE_SIZE_MAX_BYTES } from '../base/index.js';
import type { BsonValidationLimits } from './bson-validate.js';
import { DEFAULT_REQUEST_BSON_LIMITS } from './bson-decode.js';
import { compressFrame, decompressFrame } from './compression.js';
import { MESSAGE_HEADER_SIZE_BYTES, OpCode, type CompressorIdValue } from './constants.js';
import { WireError, requestParseError, type ReplyTarget } from './errors.js';
import { buildOpMsgReply, parseOpMsg, peekOpMsgFlags, type DocumentSequence, type OpMsgFlags, type OpMsgReplyOptions } from './op-msg.js';
import { buildOpReply, parseOpQuery, type OpQueryFlags, type OpReplyOptions } from './op-query.js';

export interface MessageHeader {
  readonly messageLength: number;
  readonly requestId: number;
  readonly responseTo: number;
  readonly opCode: number;
}

interface RequestBase {
  readonly requestId: number;
  readonly responseTo: number;
  /** The compressor the request came with (replies use the same one, as mongod does); undefined if uncompressed. */
  readonly compressorId: CompressorIdValue | undefined;
  /** Bytes on the wire, OP_COMPRESSED envelope included. */
  readonly wireLengthBytes: number;
}

export interface OpMsgRequest extends RequestBase {
  readonly opCode: 'msg';
  readonly flags: OpMsgFlags;
  /** The command: the kind-0 body with the document sequences merged in as arrays. */
  readonly body: Document;
  readonly sequences: readonly DocumentSequence[];
}

export interface OpQueryRequest extends RequestBase {
  readonly opCode: 'query';
  readonly flags: OpQueryFlags;
  readonly fullCollectionName: string;
  readonly databaseName: string;
  readonly collectionName: string;
  /** fullCollectionName is "<db>.$cmd". */
  readonly isCommand: boolean;
  readonly numberToSkip: number;
  readonly numberToReturn: number;
  /** As sent: possibly {$query: {...}, $readPreference: ...}; see upconvertOpQuery. */
  readonly query: Document;
  readonly returnFieldsSelector: Document | undefined;
}

/**
 * Any other opCode, including the legacy OP_INSERT/OP_UPDATE/OP_DELETE/OP_GET_MORE/
 * OP_KILL_CURSORS that mongod 6.0+ no longer serves. mongod logs "Operation is not supported"
 * and sends nothing back; the connection stays open (see README).
 */
export interface UnsupportedRequest extends RequestBase {
  readonly opCode: 'unsupported';
  readonly rawOpCode: number;
}

export type WireRequest = OpMsgRequest | OpQueryRequest | UnsupportedRequest;
/** Alias of WireRequest (the name the server layer uses). */
export type DecodedMessage = WireRequest;

export interface DecodeOptions {
  /** Limits for every document in the request. Default: depth 200, 16 MiB + 16 KiB. */
  readonly bsonLimits?: BsonValidationLimits;
  /** compressorIds accepted in OP_COMPRESSED. Default: every compressor usable here. */
  readonly compressors?: ReadonlySet<CompressorIdValue>;
  readonly maxMessageSizeBytes?: number;
}

export function readHeader(frame: Buffer): MessageHeader {
  return {
    messageLength: frame.readInt32LE(0),
    requestId: frame.readInt32LE(4),
    responseTo: frame.readInt32LE(8),
    opCode: frame.readInt32LE(12),
  };
}

/**
 * Decodes one complete frame (as FrameReader returns it). Throws only WireError: with
 * closeConnection, or with replyTo saying where mongod would send the error reply.
 */
export function decodeMessage(frame: Buffer, options: DecodeOptions = {}): WireRequest {
  try {
    return decode(frame, options);
  } catch (e) {
    if (e instanceof WireError) throw e;
    // Anything else is a defect of ours; keep the contract (DossierError only) and close.
    const message = e instanceof Error ? e.message : String(e);
    throw new WireError(e instanceof DossierError ? e.code : ErrorCodes.InternalError, message, { closeConnection: true });
  }
}

function decode(wireFrame: Buffer, options: DecodeOptions): WireRequest {
  if (wireFrame.length < MESSAGE_HEADER_SIZE_BYTES || wireFrame.readInt32LE(0) !== wireFrame.length) {
    throw new WireError(ErrorCodes.ProtocolError, 'message length does not match the frame', { closeConnection: true });
  }
  const limits = options.bsonLimits ?? DEFAULT_REQUEST_BSON_LIMITS;
  let frame = wireFrame;
  let compressorId: CompressorIdValue | undefined;
  if (wireFrame.readInt32LE(12) === OpCode.OP_COMPRESSED) {
    const inflated = decompressFrame(wireFrame, { compressors: options.compressors, maxMessageSizeBytes: options.maxMessageSizeBytes ?? MESSAGE_SIZE_MAX_BYTES });
    frame = inflated.frame;
    compressorId = inflated.compressorId;
  }
  const header = readHeader(frame);
  // Requests are built field by field: on Node 20 an object spread followed by more properties
  // takes V8's slow path (~2-9 µs each), more than parsing the whole body.
  const requestId = header.requestId;
  const responseTo = header.responseTo;
  const wireLengthBytes = wireFrame.length;
  switch (header.opCode) {
    case OpCode.OP_MSG: {
      const replyTo: ReplyTarget = {
        protocol: 'msg',
        requestId: header.requestId,
        compressorId,
        moreToCome: peekOpMsgFlags(frame)?.moreToCome ?? false,
      };
      try {
        const parsed = parseOpMsg(frame, limits);
        return { requestId, responseTo, compressorId, wireLengthBytes, opCode: 'msg', flags: parsed.flags, body: parsed.body, sequences: parsed.sequences };
      } catch (e) {
        if (e instanceof DossierError) throw requestParseError(e, replyTo);
        throw e;
      }
    }
    case OpCode.OP_QUERY: {
      const replyTo: ReplyTarget = { protocol: 'query', requestId: header.requestId, compressorId, moreToCome: false };
      try {
        const q = parseOpQuery(frame, limits);
        return Object.assign({ requestId, responseTo, compressorId, wireLengthBytes, opCode: 'query' as const }, q);
      } catch (e) {
        if (e instanceof DossierError) throw requestParseError(e, replyTo);
        throw e;
      }
    }
    default:
      return { requestId, responseTo, compressorId, wireLengthBytes, opCode: 'unsupported', rawOpCode: header.opCode };
  }
}

export interface ReplyEncodeOptions {
  /** Wrap the reply in OP_COMPRESSED with this compressor (pass the request's compressorId). */
  readonly compressorId?: CompressorIdValue | undefined;
}

/**
 * Encodes an OP_MSG reply (one kind-0 section). With compressorId (pass the request's), the reply
 * is wrapped in OP_COMPRESSED as mongod does; the checksum, if asked for, covers the uncompressed
 * message. Throws BSONObjectTooLarge (a DossierError) when the reply would exceed 48 MB.
 */
export function encodeOpMsgReply(
  body: Document,
  responseTo: number,
  requestId: number,
  options: OpMsgReplyOptions & ReplyEncodeOptions = {},
): Buffer {
  const frame = buildOpMsgReply(body, responseTo, requestId, options);
  return options.compressorId === undefined ? frame : compressFrame(frame, options.compressorId);
}

/** Encodes an OP_REPLY (the answer to an OP_QUERY), optionally compressed like encodeOpMsgReply. */
export function encodeOpReply(
  documents: Document | readonly Document[],
  responseTo: number,
  requestId: number,
  options: OpReplyOptions & ReplyEncodeOptions = {},
): Buffer {
  const frame = buildOpReply(documents, responseTo, requestId, options);
  return options.compressorId === undefined ? frame : compressFrame(frame, options.compressorId);
}
