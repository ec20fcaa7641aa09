import { BSONError, decodeDocument, encodeDocument, type Document } from '../bson/index.js';
import { COMMAND_BSON_DEPTH_MAX, COMMAND_SIZE_MAX_BYTES, DossierError, ErrorCodes } from '../base/index.js';
import { validateBsonAt, type BsonValidationLimits } from './bson-validate.js';

/** Limits for documents in a request: mongod validates command bodies at BSONObjMaxInternalSize. */
export const DEFAULT_REQUEST_BSON_LIMITS: BsonValidationLimits = {
  maxDepth: COMMAND_BSON_DEPTH_MAX,
  maxSizeBytes: COMMAND_SIZE_MAX_BYTES,
};

/**
 * Validates, then decodes, the document at bytes[offset] (which must end by `end`). Returns it and
 * its length. The `bson` decoder only ever sees structurally valid, depth-bounded input; what it
 * still rejects (invalid UTF-8, which mongod's default validation lets through; a malformed
 * old-style binary) becomes InvalidBSON, so callers only ever see DossierError.
 */
export function readDocument(bytes: Buffer, offset: number, end: number, limits: BsonValidationLimits): { document: Document; length: number } {
  const notes = { digitKeys: false };
  const length = validateBsonAt(bytes, offset, end, limits, notes);
  try {
    return { document: decodeDocument(bytes.subarray(offset, offset + length), notes.digitKeys), length };
  } catch (e) {
    if (e instanceof DossierError) throw e;
    const detail = e instanceof BSONError || e instanceof Error ? e.message : String(e);
    throw new DossierError(ErrorCodes.InvalidBSON, `invalid BSON: ${detail}`);
  }
}

/**
 * Encodes a reply document. mongod cannot build a reply object over BSONObjMaxInternalSize
 * (16 MiB + 16 KiB) and fails the command with BSONObjectTooLarge instead; the `bson` encoder also
 * throws a RangeError a little past that. Both become that DossierError, so the caller can send
 * an error reply in its place.
 */
export function encodeReplyDocument(document: Document): Buffer {
  let bytes: Buffer;
  try {
    bytes = encodeDocument(document);
  } catch (e) {
    if (e instanceof DossierError) throw e;
    const detail = e instanceof Error ? e.message : String(e);
    throw new DossierError(ErrorCodes.BSONObjectTooLarge, `BSONObj size is invalid: reply too large to encode (${detail})`);
  }
  if (bytes.length > COMMAND_SIZE_MAX_BYTES) {
    throw new DossierError(ErrorCodes.BSONObjectTooLarge, `BSONObj size: ${bytes.length} (0x${bytes.length.toString(16).toUpperCase()}) is invalid. Size must be between 0 and ${COMMAND_SIZE_MAX_BYTES}(16MB)`);
  }
  return bytes;
}
