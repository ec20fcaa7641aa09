/** Wire-protocol numbers, as mongod and the drivers spell them (src/mongo/rpc/message.h). */

export const OpCode = {
  /** Legacy reply; mongod still answers OP_QUERY with it. */
  OP_REPLY: 1,
  OP_UPDATE: 2001,
  OP_INSERT: 2002,
  OP_QUERY: 2004,
  OP_GET_MORE: 2005,
  OP_DELETE: 2006,
  OP_KILL_CURSORS: 2007,
  OP_COMPRESSED: 2012,
  OP_MSG: 2013,
} as const;

/** The standard message header: messageLength, requestID, responseTo, opCode (int32 each). */
export const MESSAGE_HEADER_SIZE_BYTES = 16;

/** OP_COMPRESSED's own header after the standard one: originalOpcode, uncompressedSize, compressorId. */
export const COMPRESSION_HEADER_SIZE_BYTES = 9;

/** OP_MSG flagBits. Bits 0-15 are "required": a receiver must reject any it does not know. */
export const OpMsgFlag = {
  checksumPresent: 1 << 0,
  moreToCome: 1 << 1,
  exhaustAllowed: 1 << 16,
} as const;

/** The required bits mongod understands; any other set bit in 0-15 is IllegalOpMsgFlag. */
export const OP_MSG_SUPPORTED_REQUIRED_FLAGS = OpMsgFlag.checksumPresent | OpMsgFlag.moreToCome;
export const OP_MSG_REQUIRED_FLAGS_MASK = 0xffff;

/** OP_QUERY flags (the legacy `queryOptions`). */
export const OpQueryFlag = {
  tailableCursor: 1 << 1,
  secondaryOk: 1 << 2,
  oplogReplay: 1 << 3,
  noCursorTimeout: 1 << 4,
  awaitData: 1 << 5,
  exhaust: 1 << 6,
  partial: 1 << 7,
} as const;

/** OP_REPLY responseFlags. */
export const OpReplyFlag = {
  cursorNotFound: 1 << 0,
  queryFailure: 1 << 1,
  shardConfigStale: 1 << 2,
  /** mongod sets this on every OP_REPLY it builds ("setResultFlagsToOk"). */
  awaitCapable: 1 << 3,
} as const;

/** compressorId values of OP_COMPRESSED (the compression spec's table). */
export const CompressorId = {
  noop: 0,
  snappy: 1,
  zlib: 2,
  zstd: 3,
} as const;
export type CompressorName = keyof typeof CompressorId;
export type CompressorIdValue = (typeof CompressorId)[CompressorName];

export const COMPRESSOR_NAMES: Readonly<Record<CompressorIdValue, CompressorName>> = {
  0: 'noop',
  1: 'snappy',
  2: 'zlib',
  3: 'zstd',
};

export function isCompressorId(n: number): n is CompressorIdValue {
  return n === 0 || n === 1 || n === 2 || n === 3;
}
