/**
 * wire: MongoDB wire-protocol framing, the only public surface of src/wire. No sockets, no
 * commands: bytes in (FrameReader -> decodeMessage), documents out (encodeOpMsgReply/encodeOpReply).
 */
export {
  COMPRESSOR_NAMES,
  CompressorId,
  MESSAGE_HEADER_SIZE_BYTES,
  OpCode,
  OpMsgFlag,
  OpQueryFlag,
  OpReplyFlag,
  isCompressorId,
  type CompressorIdValue,
  type CompressorName,
} from './constants.js';
export { WireError, isConnectionFatalParseCode, type ReplyTarget } from './errors.js';
export { FrameReader, HTTP_ON_NATIVE_PORT_RESPONSE, type FrameReaderOptions } from './frame-reader.js';
export { crc32c } from '../base/index.js';
export { validateBsonDocument, type BsonValidationLimits } from './bson-validate.js';
export { DEFAULT_REQUEST_BSON_LIMITS } from './bson-decode.js';
export {
  availableCompressors,
  canUseCompressor,
  compressFrame,
  compressorName,
  decompressFrame,
  loadOptionalCompressors,
  type DecompressOptions,
  type DecompressedFrame,
} from './compression.js';
export type { DocumentSequence, OpMsgFlags, OpMsgReplyOptions } from './op-msg.js';
export { upconvertOpQuery, type OpQueryFlags, type OpReplyOptions } from './op-query.js';
export {
  decodeMessage,
  encodeOpMsgReply,
  encodeOpReply,
  readHeader,
  type DecodeOptions,
  type DecodedMessage,
  type MessageHeader,
  type OpMsgRequest,
  type OpQueryRequest,
  type ReplyEncodeOptions,
  type UnsupportedRequest,
  type WireRequest,
} from './message.js';
