/**
 * Wire framing for the bench's own lean client and its do-nothing server. Written against the
 * `bson` package directly and independent of src/wire, so the yardsticks share no code with the
 * server they measure (a bug there cannot flatter or hide itself here).
 */
import { deserialize, serialize, Long, type Document } from 'bson';

export const OP_REPLY = 1;
export const OP_QUERY = 2004;
export const OP_MSG = 2013;
export const FLAG_CHECKSUM_PRESENT = 1;
export const FLAG_MORE_TO_COME = 2;
export const FLAG_EXHAUST_ALLOWED = 1 << 16;
const HEADER_BYTES = 16;

export interface Frame {
  requestId: number;
  responseTo: number;
  opCode: number;
  bytes: Buffer;
}

/** Splits a byte stream into complete frames; keeps the tail until the rest arrives. */
export class FrameSplitter {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer, onFrame: (frame: Frame) => void): void {
    let buf = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (buf.length >= 4) {
      const len = buf.readInt32LE(0);
      if (len < HEADER_BYTES) throw new Error(`bad frame length ${len}`);
      if (buf.length < len) break;
      const bytes = buf.subarray(0, len);
      onFrame({ requestId: bytes.readInt32LE(4), responseTo: bytes.readInt32LE(8), opCode: bytes.readInt32LE(12), bytes });
      buf = buf.subarray(len);
    }
    // Copy the tail: a subarray would pin the whole (possibly large) chunk it came from.
    this.pending = buf.length === 0 ? Buffer.alloc(0) : Buffer.from(buf);
  }
}

export function encodeOpMsg(body: Document, requestId: number, responseTo = 0, flags = 0): Buffer {
  const doc = serialize(body);
  const frame = Buffer.allocUnsafe(HEADER_BYTES + 4 + 1 + doc.length);
  frame.writeInt32LE(frame.length, 0);
  frame.writeInt32LE(requestId, 4);
  frame.writeInt32LE(responseTo, 8);
  frame.writeInt32LE(OP_MSG, 12);
  frame.writeUInt32LE(flags >>> 0, 16);
  frame.writeUInt8(0, 20);
  frame.set(doc, 21);
  return frame;
}

export function encodeOpReply(doc: Document, requestId: number, responseTo: number): Buffer {
  const bytes = serialize(doc);
  const frame = Buffer.alloc(HEADER_BYTES + 20 + bytes.length);
  frame.writeInt32LE(frame.length, 0);
  frame.writeInt32LE(requestId, 4);
  frame.writeInt32LE(responseTo, 8);
  frame.writeInt32LE(OP_REPLY, 12);
  // responseFlags 0, cursorId 0, startingFrom 0, numberReturned 1.
  frame.writeInt32LE(1, HEADER_BYTES + 16);
  frame.set(bytes, HEADER_BYTES + 20);
  return frame;
}

export interface DecodedMsg {
  flags: number;
  body: Document;
  /** Kind-1 sections, by identifier (e.g. `documents` of an insert). */
  sequences: Map<string, Document[]>;
}

/** Decodes an OP_MSG; `promoteLongs: false` so int64 values (cursor ids, txnNumber) keep their type. */
export function decodeOpMsg(frame: Buffer): DecodedMsg {
  const flags = frame.readUInt32LE(16);
  const end = flags & FLAG_CHECKSUM_PRESENT ? frame.length - 4 : frame.length;
  let at = 20;
  let body: Document | undefined;
  const sequences = new Map<string, Document[]>();
  while (at < end) {
    const kind = frame[at]!;
    at += 1;
    if (kind === 0) {
      const size = frame.readInt32LE(at);
      body = deserialize(frame.subarray(at, at + size), { promoteLongs: false });
      at += size;
    } else if (kind === 1) {
      const size = frame.readInt32LE(at);
      const sectionEnd = at + size;
      const nul = frame.indexOf(0, at + 4);
      const id = frame.toString('utf8', at + 4, nul);
      const docs: Document[] = [];
      for (let p = nul + 1; p < sectionEnd; ) {
        const docSize = frame.readInt32LE(p);
        docs.push(deserialize(frame.subarray(p, p + docSize), { promoteLongs: false }));
        p += docSize;
      }
      sequences.set(id, docs);
      at = sectionEnd;
    } else {
      throw new Error(`unknown OP_MSG section kind ${kind}`);
    }
  }
  if (!body) throw new Error('OP_MSG without a body section');
  return { flags, body, sequences };
}

/** The query document and namespace of a legacy OP_QUERY (drivers use it for the first hello only). */
export function decodeOpQuery(frame: Buffer): { ns: string; query: Document } {
  const nul = frame.indexOf(0, 20);
  const ns = frame.toString('utf8', 20, nul);
  const at = nul + 1 + 8;
  const size = frame.readInt32LE(at);
  return { ns, query: deserialize(frame.subarray(at, at + size), { promoteLongs: false }) };
}

/** The body of an OP_MSG reply (the lean client reads only that section). */
export function replyBody(frame: Buffer): Document {
  return deserialize(frame.subarray(21, 21 + frame.readInt32LE(21)));
}

/** A slot in a frame template: a 32-bit integer or a 64-bit integer (Long) field. */
export type SlotKind = 'int32' | 'int64';

const SENTINEL_BASE = 0x5a5a0100;

/**
 * An OP_MSG built once and patched per request: the body is serialized with sentinel values
 * where the per-request numbers go, and each request copies the bytes and writes its numbers at
 * the sentinels' offsets. This keeps the client's CPU per command to a memcpy and a few writes,
 * the way a prepared statement keeps `pg` lean.
 */
export class FrameTemplate {
  private readonly bytes: Buffer;
  private readonly offsets: number[];
  private readonly kinds: SlotKind[];

  /** `build` receives one placeholder per slot and returns the command body. */
  constructor(kinds: SlotKind[], build: (placeholders: Array<number | Long>) => Document) {
    const placeholders = kinds.map((k, i) => (k === 'int32' ? SENTINEL_BASE + i : Long.fromNumber(SENTINEL_BASE + i)));
    this.bytes = encodeOpMsg(build(placeholders), 0);
    this.kinds = kinds;
    this.offsets = kinds.map((kind, i) => {
      const needle = Buffer.alloc(kind === 'int32' ? 4 : 8);
      if (kind === 'int32') needle.writeInt32LE(SENTINEL_BASE + i, 0);
      else needle.writeBigInt64LE(BigInt(SENTINEL_BASE + i), 0);
      const first = this.bytes.indexOf(needle, 21);
      if (first < 0 || this.bytes.indexOf(needle, first + 1) >= 0) throw new Error(`slot ${i} must appear exactly once in the template`);
      return first;
    });
  }

  frame(requestId: number, values: readonly number[]): Buffer {
    const out = Buffer.allocUnsafe(this.bytes.length);
    this.bytes.copy(out);
    out.writeInt32LE(requestId, 4);
    for (let i = 0; i < this.offsets.length; i++) {
      if (this.kinds[i] === 'int32') out.writeInt32LE(values[i]!, this.offsets[i]!);
      else out.writeBigInt64LE(BigInt(values[i]!), this.offsets[i]!);
    }
    return out;
  }
}
