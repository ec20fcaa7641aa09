/**
 * Raw wire-frame builders for tests and fuzzing: OP_MSG (any sections, optional checksum),
 * OP_QUERY, OP_COMPRESSED, plus a reply reader. Deliberately independent of src/wire (its own
 * header writer and a bitwise CRC-32C) so a bug there cannot hide itself here, and of node:test
 * so an integration fuzzer can send these frames to a live server.
 */
import { deflateSync, inflateSync } from 'node:zlib';
import { decodeDocument, encodeDocument, type Document } from '../../../src/bson/index.js';

export const OP_REPLY = 1;
export const OP_QUERY = 2004;
export const OP_COMPRESSED = 2012;
export const OP_MSG = 2013;

export const MSG_CHECKSUM_PRESENT = 1;
export const MSG_MORE_TO_COME = 2;
export const MSG_EXHAUST_ALLOWED = 1 << 16;

let nextRequestId = 1000;

/** A document, or raw bytes to place as they are (for malformed BSON). */
export type DocOrBytes = Document | Uint8Array;

function bytesOf(d: DocOrBytes): Buffer {
  return d instanceof Uint8Array ? Buffer.from(d) : encodeDocument(d);
}

export function header(messageLength: number, requestId: number, responseTo: number, opCode: number): Buffer {
  const h = Buffer.alloc(16);
  h.writeInt32LE(messageLength, 0);
  h.writeInt32LE(requestId, 4);
  h.writeInt32LE(responseTo, 8);
  h.writeInt32LE(opCode, 12);
  return h;
}

/** Bitwise CRC-32C (no table): slow, obviously right, and a different method from src/wire's. */
export function crc32cBitwise(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

export type Section =
  | { kind: 0; body: DocOrBytes }
  | { kind: 1; identifier: string; documents: DocOrBytes[]; sizeOverride?: number }
  /** Any bytes after a kind byte: unknown kinds, truncations. */
  | { kind: number; raw: Uint8Array };

export function sectionBytes(section: Section): Buffer {
  if ('body' in section) return Buffer.concat([Buffer.from([0]), bytesOf(section.body)]);
  if ('identifier' in section) {
    const id = Buffer.from(`${section.identifier}\0`, 'utf8');
    const docs = Buffer.concat(section.documents.map(bytesOf));
    const size = Buffer.alloc(4);
    size.writeInt32LE(section.sizeOverride ?? 4 + id.length + docs.length, 0);
    return Buffer.concat([Buffer.from([1]), size, id, docs]);
  }
  return Buffer.concat([Buffer.from([section.kind & 0xff]), Buffer.from(section.raw)]);
}

export interface OpMsgSpec {
  requestId?: number;
  responseTo?: number;
  flags?: number;
  /** Default: one kind-0 section with {ping: 1, $db: 'admin'}. */
  sections?: Section[];
  /** true: compute a correct CRC-32C (and set the flag); a number: write that value instead. */
  checksum?: boolean | number;
}

export function opMsg(spec: OpMsgSpec = {}): Buffer {
  const sections = spec.sections ?? [{ kind: 0, body: { ping: 1, $db: 'admin' } }];
  let flags = spec.flags ?? 0;
  if (spec.checksum !== undefined && spec.checksum !== false) flags |= MSG_CHECKSUM_PRESENT;
  const flagBytes = Buffer.alloc(4);
  flagBytes.writeUInt32LE(flags >>> 0, 0);
  const payload = Buffer.concat([flagBytes, ...sections.map(sectionBytes)]);
  const withChecksum = spec.checksum !== undefined && spec.checksum !== false;
  const length = 16 + payload.length + (withChecksum ? 4 : 0);
  const frame = Buffer.concat([header(length, spec.requestId ?? nextRequestId++, spec.responseTo ?? 0, OP_MSG), payload, Buffer.alloc(withChecksum ? 4 : 0)]);
  if (withChecksum) {
    const value = typeof spec.checksum === 'number' ? spec.checksum : crc32cBitwise(frame.subarray(0, length - 4));
    frame.writeUInt32LE(value >>> 0, length - 4);
  }
  return frame;
}

/** Shorthand: an OP_MSG whose only section is this body. */
export function opMsgCommand(body: DocOrBytes, extra: Omit<OpMsgSpec, 'sections'> = {}): Buffer {
  return opMsg({ ...extra, sections: [{ kind: 0, body }] });
}

export interface OpQuerySpec {
  requestId?: number;
  flags?: number;
  fullCollectionName?: string;
  numberToSkip?: number;
  numberToReturn?: number;
  query?: DocOrBytes;
  returnFieldsSelector?: DocOrBytes;
}

export function opQuery(spec: OpQuerySpec = {}): Buffer {
  const fixed = Buffer.alloc(4);
  fixed.writeInt32LE(spec.flags ?? 0, 0);
  const ns = Buffer.from(`${spec.fullCollectionName ?? 'admin.$cmd'}\0`, 'utf8');
  const counts = Buffer.alloc(8);
  counts.writeInt32LE(spec.numberToSkip ?? 0, 0);
  counts.writeInt32LE(spec.numberToReturn ?? -1, 4);
  const docs = [bytesOf(spec.query ?? { isMaster: 1 })];
  if (spec.returnFieldsSelector !== undefined) docs.push(bytesOf(spec.returnFieldsSelector));
  const payload = Buffer.concat([fixed, ns, counts, ...docs]);
  return Buffer.concat([header(16 + payload.length, spec.requestId ?? nextRequestId++, 0, OP_QUERY), payload]);
}

export interface OpCompressedSpec {
  /** 0 noop (default), 2 zlib; others need `compress`. */
  compressorId?: number;
  /** Compressor for ids this helper does not know (e.g. snappy from the `snappy` package). */
  compress?: (body: Buffer) => Buffer;
  uncompressedSizeOverride?: number;
  originalOpCodeOverride?: number;
  /** Replace the compressed bytes entirely. */
  dataOverride?: Uint8Array;
}

/** Wraps a whole frame in OP_COMPRESSED (keeping its requestID and responseTo). */
export function opCompressed(frame: Buffer, spec: OpCompressedSpec = {}): Buffer {
  const id = spec.compressorId ?? 0;
  const body = frame.subarray(16);
  let data: Buffer;
  if (spec.dataOverride) data = Buffer.from(spec.dataOverride);
  else if (spec.compress) data = spec.compress(body);
  else if (id === 0) data = Buffer.from(body);
  else if (id === 2) data = deflateSync(body);
  else throw new Error(`opCompressed: pass spec.compress for compressorId ${id}`);
  const details = Buffer.alloc(9);
  details.writeInt32LE(spec.originalOpCodeOverride ?? frame.readInt32LE(12), 0);
  details.writeInt32LE(spec.uncompressedSizeOverride ?? body.length, 4);
  details[8] = id & 0xff;
  return Buffer.concat([header(16 + 9 + data.length, frame.readInt32LE(4), frame.readInt32LE(8), OP_COMPRESSED), details, data]);
}

/** Nested documents {a: {a: ... {} }} as raw BSON, built without recursion (for any depth). */
export function deeplyNestedBson(depth: number): Buffer {
  // Each level is: int32 length, 0x03 'a' 0x00, <child>, 0x00. The innermost is the empty doc.
  const levelOverhead = 4 + 3 + 1;
  const total = 5 + depth * levelOverhead;
  const out = Buffer.alloc(total);
  let pos = 0;
  for (let level = 0; level < depth; level++) {
    out.writeInt32LE(total - level * levelOverhead, pos);
    out[pos + 4] = 0x03;
    out[pos + 5] = 0x61;
    out[pos + 6] = 0;
    pos += 7;
  }
  out.writeInt32LE(5, pos); // innermost {}; its EOO and every level's EOO are the zeros left at the end
  return out;
}

export interface ReplyFrame {
  requestId: number;
  responseTo: number;
  opCode: number;
  /** OP_MSG flagBits or OP_REPLY responseFlags. */
  flags: number;
  /** After unwrapping OP_COMPRESSED (noop and zlib only), if it was compressed. */
  compressorId: number | undefined;
  documents: Document[];
}

/** Reads a server reply (OP_MSG kind-0 or OP_REPLY, possibly in OP_COMPRESSED with noop/zlib). */
export function readReply(frame: Buffer, inflate?: (compressorId: number, data: Buffer, size: number) => Buffer): ReplyFrame {
  let f = frame;
  let compressorId: number | undefined;
  if (f.readInt32LE(12) === OP_COMPRESSED) {
    compressorId = f[24]!;
    const size = f.readInt32LE(20);
    const data = f.subarray(25);
    let body: Buffer;
    if (compressorId === 0) body = data;
    else if (inflate) body = inflate(compressorId, data, size);
    else if (compressorId === 2) body = inflateSync(data);
    else throw new Error(`readReply: no inflater for compressorId ${compressorId}`);
    f = Buffer.concat([header(16 + body.length, f.readInt32LE(4), f.readInt32LE(8), f.readInt32LE(16)), body]);
  }
  const opCode = f.readInt32LE(12);
  const documents: Document[] = [];
  let flags: number;
  let pos: number;
  let end = f.length;
  if (opCode === OP_MSG) {
    flags = f.readUInt32LE(16);
    if (flags & MSG_CHECKSUM_PRESENT) end -= 4;
    pos = 20;
    while (pos < end) {
      const kind = f[pos++];
      if (kind !== 0) throw new Error(`readReply: unexpected section kind ${kind}`);
      const len = f.readInt32LE(pos);
      documents.push(decodeDocument(f.subarray(pos, pos + len)));
      pos += len;
    }
  } else if (opCode === OP_REPLY) {
    flags = f.readInt32LE(16);
    const n = f.readInt32LE(32);
    pos = 36;
    for (let i = 0; i < n; i++) {
      const len = f.readInt32LE(pos);
      documents.push(decodeDocument(f.subarray(pos, pos + len)));
      pos += len;
    }
  } else {
    throw new Error(`readReply: unexpected opCode ${opCode}`);
  }
  return { requestId: f.readInt32LE(4), responseTo: f.readInt32LE(8), opCode, flags, compressorId, documents };
}
