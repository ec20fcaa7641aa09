import { deflateSync, inflateSync } from 'node:zlib';
import { ErrorCodes, MESSAGE_SIZE_MAX_BYTES } from '../base/index.js';
import {
  COMPRESSION_HEADER_SIZE_BYTES,
  COMPRESSOR_NAMES,
  CompressorId,
  MESSAGE_HEADER_SIZE_BYTES,
  OpCode,
  isCompressorId,
  type CompressorIdValue,
  type CompressorName,
} from './constants.js';
import { WireError } from './errors.js';

/**
 * OP_COMPRESSED (opCode 2012): header, then originalOpcode int32, uncompressedSize int32,
 * compressorId uint8, then the compressed bytes of the original message without its header.
 *
 * mongod decompresses before dispatch and ends the session when that fails (session_workflow:
 * uassertStatusOK on decompressMessage), so every error here closes the connection.
 */

/** The subset of the `snappy` npm package this module uses (loaded lazily, optional). */
interface SnappyModule {
  compressSync(input: Buffer): Buffer;
  uncompressSync(input: Buffer, options: { asBuffer: true }): Buffer | string;
}

let snappy: SnappyModule | undefined;
let snappyLoad: Promise<boolean> | undefined;

function isSnappyModule(m: unknown): m is SnappyModule {
  if (m === null || typeof m !== 'object') return false;
  const r = m as Record<string, unknown>;
  return typeof r['compressSync'] === 'function' && typeof r['uncompressSync'] === 'function';
}

/**
 * Loads the optional `snappy` package (a native addon shipped prebuilt through optional
 * platform packages). Call once at startup; returns whether snappy is usable. Decoding stays
 * synchronous afterwards. Without it, snappy is simply not offered in hello's `compression`.
 */
export function loadOptionalCompressors(): Promise<boolean> {
  snappyLoad ??= (async () => {
    // A variable specifier keeps TypeScript (and bundlers) from requiring the package to exist.
    const specifier = 'snappy';
    try {
      const mod: unknown = await import(specifier);
      const candidate = isSnappyModule(mod) ? mod : (mod as { default?: unknown }).default;
      if (isSnappyModule(candidate)) snappy = candidate;
    } catch {
      snappy = undefined;
    }
    return snappy !== undefined;
  })();
  return snappyLoad;
}

/**
 * Compressors this process can use, in mongod's default preference order (snappy, zstd, zlib),
 * for hello's compression negotiation. zstd is never listed: see README (no usable package).
 */
export function availableCompressors(): CompressorName[] {
  return snappy ? ['snappy', 'zlib'] : ['zlib'];
}

/** Whether a compressorId can be decoded and encoded here. noop always can. */
export function canUseCompressor(id: CompressorIdValue): boolean {
  if (id === CompressorId.snappy) return snappy !== undefined;
  return id === CompressorId.noop || id === CompressorId.zlib;
}

function badValue(message: string): WireError {
  return new WireError(ErrorCodes.BadValue, message, { closeConnection: true });
}

/** Reads the varint preamble of raw snappy data: the uncompressed length it promises. */
function snappyDeclaredLength(data: Uint8Array): number | undefined {
  let result = 0;
  for (let i = 0, shift = 0; i < data.length && i < 5; i++, shift += 7) {
    const b = data[i]!;
    result += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return result;
  }
  return undefined;
}

export interface DecompressedFrame {
  /** The original message, with a rebuilt 16-byte header carrying the original opCode. */
  readonly frame: Buffer;
  readonly compressorId: CompressorIdValue;
}

export interface DecompressOptions {
  /** compressorIds accepted; mongod answers others with "not available". Default: all usable. */
  readonly compressors?: ReadonlySet<CompressorIdValue> | undefined;
  readonly maxMessageSizeBytes?: number | undefined;
}

/**
 * Inflates an OP_COMPRESSED frame. The declared uncompressedSize is checked against the message
 * size limit before anything is allocated or inflated, and the inflater is capped at that size,
 * so a small frame cannot expand into a huge allocation (a zip bomb).
 */
export function decompressFrame(frame: Buffer, options: DecompressOptions = {}): DecompressedFrame {
  const maxMessageSizeBytes = options.maxMessageSizeBytes ?? MESSAGE_SIZE_MAX_BYTES;
  if (frame.length < MESSAGE_HEADER_SIZE_BYTES + COMPRESSION_HEADER_SIZE_BYTES) {
    throw badValue('Invalid compressed message header');
  }
  const originalOpCode = frame.readInt32LE(16);
  const uncompressedSize = frame.readInt32LE(20);
  const rawCompressorId = frame[24]!;
  if (!isCompressorId(rawCompressorId) || !canUseCompressor(rawCompressorId) || (options.compressors && !options.compressors.has(rawCompressorId))) {
    throw new WireError(ErrorCodes.InternalError, 'Compression algorithm specified in message is not available', { closeConnection: true });
  }
  const compressorId = rawCompressorId;
  if (uncompressedSize < 0) throw badValue('Decompressed message would be negative in size');
  if (uncompressedSize + MESSAGE_HEADER_SIZE_BYTES > maxMessageSizeBytes) {
    throw badValue('Decompressed message would be larger than maximum message size');
  }
  const input = frame.subarray(MESSAGE_HEADER_SIZE_BYTES + COMPRESSION_HEADER_SIZE_BYTES);

  let body: Buffer;
  switch (compressorId) {
    case CompressorId.noop:
      body = input;
      break;
    case CompressorId.zlib:
      try {
        // maxOutputLength makes zlib stop (and throw) past the declared size instead of growing.
        body = inflateSync(input, { maxOutputLength: Math.max(uncompressedSize, 1) });
      } catch {
        throw badValue('Compressed message was invalid or corrupted');
      }
      break;
    case CompressorId.snappy: {
      const declared = snappyDeclaredLength(input);
      // mongod: getMaxDecompressedSize must not promise less than uncompressedSize; we also refuse
      // a promise of more, so the native decoder never allocates beyond the checked size.
      if (declared === undefined || declared !== uncompressedSize) {
        throw badValue('Uncompressed message size does not match expected size');
      }
      try {
        const out = snappy!.uncompressSync(input, { asBuffer: true });
        body = typeof out === 'string' ? Buffer.from(out, 'utf8') : out;
      } catch {
        throw badValue('Compressed message was invalid or corrupted');
      }
      break;
    }
    default:
      // zstd: canUseCompressor() is false, so this is unreachable.
      throw new WireError(ErrorCodes.InternalError, 'Compression algorithm specified in message is not available', { closeConnection: true });
  }
  if (body.length !== uncompressedSize) {
    throw badValue('Decompressing message returned less data than expected');
  }
  const out = Buffer.allocUnsafe(MESSAGE_HEADER_SIZE_BYTES + uncompressedSize);
  out.writeInt32LE(out.length, 0);
  frame.copy(out, 4, 4, 12); // requestID and responseTo are the compressed message's
  out.writeInt32LE(originalOpCode, 12);
  body.copy(out, MESSAGE_HEADER_SIZE_BYTES);
  return { frame: out, compressorId };
}

/**
 * Wraps a complete message in OP_COMPRESSED with the given compressor, keeping its requestID and
 * responseTo. Like mongod, it returns the message unchanged when the compressor is unusable or
 * when the compressed message could exceed the message size limit.
 */
export function compressFrame(frame: Buffer, compressorId: CompressorIdValue, maxMessageSizeBytes = MESSAGE_SIZE_MAX_BYTES): Buffer {
  if (!canUseCompressor(compressorId)) return frame;
  const body = frame.subarray(MESSAGE_HEADER_SIZE_BYTES);
  let compressed: Buffer;
  switch (compressorId) {
    case CompressorId.noop:
      compressed = body;
      break;
    case CompressorId.zlib:
      compressed = deflateSync(body);
      break;
    case CompressorId.snappy:
      compressed = snappy!.compressSync(body);
      break;
    default:
      return frame;
  }
  const length = MESSAGE_HEADER_SIZE_BYTES + COMPRESSION_HEADER_SIZE_BYTES + compressed.length;
  if (length > maxMessageSizeBytes) return frame;
  const out = Buffer.allocUnsafe(length);
  out.writeInt32LE(length, 0);
  frame.copy(out, 4, 4, 12);
  out.writeInt32LE(OpCode.OP_COMPRESSED, 12);
  out.writeInt32LE(frame.readInt32LE(12), 16);
  out.writeInt32LE(body.length, 20);
  out[24] = compressorId;
  compressed.copy(out, MESSAGE_HEADER_SIZE_BYTES + COMPRESSION_HEADER_SIZE_BYTES);
  return out;
}

export function compressorName(id: CompressorIdValue): CompressorName {
  return COMPRESSOR_NAMES[id];
}
