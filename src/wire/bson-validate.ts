import { DossierError, ErrorCodes, fail } from '../base/index.js';

/**
 * Structural validation of raw BSON before it reaches the `bson` decoder, which recurses once per
 * nesting level and would overflow the stack on hostile input. The walk is iterative (an explicit
 * stack of frame ends) and follows mongod's bson_validate.cpp: the same checks, the same codes
 * (InvalidBSON 22, Overflow 15 for depth, BSONObjectTooLarge 10334 for size), and the same depth
 * rule: the root document is level 0 and each embedded document or array adds one level;
 * code-with-scope adds two (mongod pushes a frame for the code-with-scope value and one for its
 * scope document).
 */
export interface BsonValidationLimits {
  /** Deepest nesting allowed below the root (mongod: BSONDepth::getMaxAllowableDepth(), 200). */
  readonly maxDepth: number;
  /** Largest declared document length accepted (commands: 16 MiB + 16 KiB). */
  readonly maxSizeBytes: number;
}

// Fixed value widths by type byte; -1 marks types needing their own handling.
const FIXED_WIDTH = new Int8Array(256).fill(-1);
FIXED_WIDTH[0x01] = 8; // double
FIXED_WIDTH[0x06] = 0; // undefined
FIXED_WIDTH[0x07] = 12; // ObjectId
FIXED_WIDTH[0x09] = 8; // UTC datetime
FIXED_WIDTH[0x0a] = 0; // null
FIXED_WIDTH[0x10] = 4; // int32
FIXED_WIDTH[0x11] = 8; // Timestamp
FIXED_WIDTH[0x12] = 8; // int64
FIXED_WIDTH[0x13] = 16; // Decimal128
FIXED_WIDTH[0xff] = 0; // MinKey (-1)
FIXED_WIDTH[0x7f] = 0; // MaxKey

const TYPE_STRING = 0x02;
const TYPE_OBJECT = 0x03;
const TYPE_ARRAY = 0x04;
const TYPE_BINARY = 0x05;
const TYPE_BOOL = 0x08;
const TYPE_REGEX = 0x0b;
const TYPE_DBPOINTER = 0x0c;
const TYPE_CODE = 0x0d;
const TYPE_SYMBOL = 0x0e;
const TYPE_CODE_W_SCOPE = 0x0f;

function readInt32(bytes: Uint8Array, at: number): number {
  return bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24);
}

/**
 * Throws InvalidBSON with mongod's message and its "in element with field name" context. Kept out
 * of the hot loop: the context is only computed when something is wrong.
 */
function invalid(message: string, bytes?: Uint8Array, fieldStart = -1, end = 0): never {
  fail('InvalidBSON', message + context(bytes, fieldStart, end));
}

function context(bytes: Uint8Array | undefined, fieldStart: number, end: number): string {
  if (!bytes || fieldStart < 0) return '';
  let nul = fieldStart;
  while (nul < end && nul - fieldStart < 64 && bytes[nul] !== 0) nul++;
  return ` in element with field name '${Buffer.from(bytes.buffer, bytes.byteOffset + fieldStart, nul - fieldStart).toString('latin1')}'`;
}

const PAST_END = 'BSON element value extends past the end of the buffer';

/** What the walk noticed besides defects. */
export interface BsonScanNotes {
  /**
   * Some embedded document (not array) has a field name starting with a digit, which JavaScript
   * may list out of BSON order once decoded: the decoder then restores the order.
   */
  digitKeys: boolean;
}

/**
 * Validates the BSON document that starts at `bytes[offset]` and must fit in `bytes[offset, end)`
 * (the document may be shorter than that range, as in mongod's validateBSON(ptr, maxLength)).
 * Returns the document's length. Throws a DossierError on any defect.
 *
 * One flat loop with no closures: this runs over every byte of every request, so it is written
 * for speed (its cost is of the order of the decoder's).
 */
export function validateBsonAt(bytes: Uint8Array, offset: number, end: number, limits: BsonValidationLimits, notes?: BsonScanNotes): number {
  const available = end - offset;
  if (available < 5) invalid('BSON buffer has to be at least 5 bytes');
  const length = readInt32(bytes, offset);
  if (length < 5) invalid(`BSON data has to be at least 5 bytes (decoded length ${length})`);
  if (length > available) invalid(`BSON length exceeds buffer size (length ${length} should be less or equal to ${available})`);
  if (length > limits.maxSizeBytes) {
    fail('BSONObjectTooLarge', `BSONObj size: ${length} (0x${length.toString(16).toUpperCase()}) is invalid. Size must be between 0 and ${limits.maxSizeBytes}(${Math.round(limits.maxSizeBytes / (1024 * 1024))}MB)`);
  }
  const docEnd = offset + length;
  if (bytes[docEnd - 1] !== 0) invalid('BSON object not terminated with EOO');
  const maxDepth = limits.maxDepth;

  // frameEnds[0..depth] are the ends (exclusive) of the open documents; the root is depth 0.
  // A code-with-scope value opens two frames (like mongod): isScope marks the inner one, whose
  // closing also closes the outer one. Every value must end before its frame's EOO byte
  // ("< frameEnd", mongod's Cursor::skip), except a scope document, which ends exactly where
  // its code-with-scope value ends.
  const frameEnds: number[] = [docEnd];
  const isScope: boolean[] = [false];
  const isArray: boolean[] = [false];
  let inArray = false;
  let digitKeys = false;
  let depth = 0;
  let frameEnd = docEnd;
  let fieldStart = -1;
  let pos = offset + 4;

  for (;;) {
    if (pos >= frameEnd) invalid('BSON element starts past the end of the buffer', bytes, fieldStart, docEnd);
    const type = bytes[pos]!;
    if (type === 0) {
      pos++;
      if (pos !== frameEnd) invalid('Incorrect BSON length: EOO is not at the end of the object', bytes, fieldStart, docEnd);
      if (isScope[depth]) {
        depth--;
        if (pos !== frameEnds[depth]) invalid('Incorrect BSON length in CodeWScope', bytes, fieldStart, docEnd);
      }
      if (depth === 0) {
        if (notes) notes.digitKeys = digitKeys;
        return length;
      }
      depth--;
      frameEnd = frameEnds[depth]!;
      inArray = isArray[depth]!;
      continue;
    }
    // Field name: a cstring ending inside the frame, leaving room for a value.
    fieldStart = pos + 1;
    if (!inArray && bytes[fieldStart]! - 0x30 >>> 0 < 10) digitKeys = true;
    let nul = fieldStart;
    while (nul < frameEnd && bytes[nul] !== 0) nul++;
    pos = nul + 1;
    if (pos >= frameEnd) invalid(PAST_END, bytes, fieldStart, docEnd);

    const width = FIXED_WIDTH[type]!;
    if (width >= 0) {
      pos += width;
      if (pos >= frameEnd) invalid(PAST_END, bytes, fieldStart, docEnd);
      continue;
    }
    switch (type) {
      case TYPE_STRING:
      case TYPE_CODE:
      case TYPE_SYMBOL:
      case TYPE_DBPOINTER: {
        if (pos + 4 >= frameEnd) invalid(PAST_END, bytes, fieldStart, docEnd);
        const len = readInt32(bytes, pos) >>> 0; // mongod reads string lengths unsigned
        pos += 4 + len;
        if (pos >= frameEnd) invalid(PAST_END, bytes, fieldStart, docEnd);
        if (len === 0 || bytes[pos - 1] !== 0) invalid('Not null terminated string', bytes, fieldStart, docEnd);
        if (type === TYPE_DBPOINTER) {
          pos += 12;
          if (pos >= frameEnd) invalid(PAST_END, bytes, fieldStart, docEnd);
        }
        break;
      }
      case TYPE_OBJECT:
      case TYPE_ARRAY:
      case TYPE_CODE_W_SCOPE: {
        if (depth >= maxDepth) overflow(bytes, fieldStart, docEnd);
        if (pos + 4 >= frameEnd) invalid(PAST_END, bytes, fieldStart, docEnd);
        const len = readInt32(bytes, pos);
        if (len < 5) invalid(`Nested BSON object has to be at least 5 bytes (decoded length ${len})`, bytes, fieldStart, docEnd);
        if (pos + len >= frameEnd) invalid(PAST_END, bytes, fieldStart, docEnd);
        depth++;
        frameEnds[depth] = frameEnd = pos + len;
        isScope[depth] = false;
        isArray[depth] = inArray = type === TYPE_ARRAY;
        pos += 4;
        if (type !== TYPE_CODE_W_SCOPE) break;
        // int32 total length (just read), string code, then the scope document in a second frame.
        if (pos + 4 >= frameEnd) invalid(PAST_END, bytes, fieldStart, docEnd);
        const codeLen = readInt32(bytes, pos) >>> 0;
        pos += 4 + codeLen;
        if (pos >= frameEnd) invalid(PAST_END, bytes, fieldStart, docEnd);
        if (codeLen === 0 || bytes[pos - 1] !== 0) invalid('Not null terminated string', bytes, fieldStart, docEnd);
        if (depth >= maxDepth) overflow(bytes, fieldStart, docEnd);
        if (pos + 4 >= frameEnd) invalid(PAST_END, bytes, fieldStart, docEnd);
        const scopeLen = readInt32(bytes, pos);
        if (scopeLen < 5) invalid(`Nested BSON object has to be at least 5 bytes (decoded length ${scopeLen})`, bytes, fieldStart, docEnd);
        if (pos + scopeLen > frameEnd) invalid(PAST_END, bytes, fieldStart, docEnd);
        depth++;
        frameEnds[depth] = frameEnd = pos + scopeLen;
        isScope[depth] = true;
        isArray[depth] = inArray = false;
        pos += 4;
        break;
      }
      case TYPE_BINARY: {
        if (pos + 4 >= frameEnd) invalid(PAST_END, bytes, fieldStart, docEnd);
        const count = readInt32(bytes, pos) >>> 0;
        pos += 5 + count; // int32 count, subtype byte, data
        if (pos >= frameEnd) invalid(PAST_END, bytes, fieldStart, docEnd);
        break;
      }
      case TYPE_BOOL: {
        const value = bytes[pos]!;
        pos += 1;
        if (pos >= frameEnd) invalid(PAST_END, bytes, fieldStart, docEnd);
        if (value !== 0 && value !== 1) invalid('BSON bool is neither false nor true', bytes, fieldStart, docEnd);
        break;
      }
      case TYPE_REGEX:
        // Two cstrings: pattern and options.
        for (let k = 0; k < 2; k++) {
          while (pos < frameEnd && bytes[pos] !== 0) pos++;
          pos++;
          if (pos >= frameEnd) invalid(PAST_END, bytes, fieldStart, docEnd);
        }
        break;
      default:
        invalid(`Unrecognized BSON type ${type > 127 ? type - 256 : type}`, bytes, fieldStart, docEnd);
    }
  }
}

function overflow(bytes: Uint8Array, fieldStart: number, end: number): never {
  throw new DossierError(ErrorCodes.Overflow, `BSONObj exceeds maximum nested object depth${context(bytes, fieldStart, end)}`);
}

/**
 * Validates the BSON document at the start of `bytes` without recursion and returns its length
 * (`bytes` may hold more after it). Throws DossierError: InvalidBSON (22), Overflow (15) when
 * nested deeper than `maxDepth`, BSONObjectTooLarge (10334) when longer than `maxSizeBytes`.
 */
export function validateBsonDocument(bytes: Uint8Array, limits: BsonValidationLimits): number {
  return validateBsonAt(bytes, 0, bytes.length, limits);
}
