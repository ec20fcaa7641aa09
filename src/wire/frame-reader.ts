import { MESSAGE_SIZE_MAX_BYTES } from '../base/index.js';
import { MESSAGE_HEADER_SIZE_BYTES } from './constants.js';
import { fatalWireError, type WireError } from './errors.js';

/**
 * mongod's reply to an HTTP request on the native port (transport: checkForHTTPRequest /
 * sendHTTPResponse), sent before it closes the connection.
 */
const HTTP_BODY = 'It looks like you are trying to access MongoDB over HTTP on the native driver port.\r\n';
export const HTTP_ON_NATIVE_PORT_RESPONSE: Buffer = Buffer.from(
  'HTTP/1.0 200 OK\r\nConnection: close\r\nContent-Type: text/plain\r\n' +
    `Content-Length: ${Buffer.byteLength(HTTP_BODY)}\r\n\r\n${HTTP_BODY}`,
  'latin1',
);

/** Chunks below this size are packed into a shared tail buffer of TAIL_BYTES. */
const SMALL_CHUNK_BYTES = 4096;
const TAIL_BYTES = 64 * 1024;

export interface FrameReaderOptions {
  /** Largest messageLength accepted (mongod: MaxMessageSizeBytes, 48,000,000). */
  readonly maxMessageSizeBytes?: number;
}

/**
 * Splits a TCP byte stream into complete wire messages. Push chunks as they arrive and take frames
 * with next() (or the frames() iterator) until it returns undefined.
 *
 * A frame that lies inside one pushed chunk of 4 KiB or more is returned as a view of that chunk
 * (no copy); smaller chunks are first packed into a shared 64 KiB buffer (a cheap copy that bounds
 * the number of Buffer objects a trickling client can make us hold), and a
 * frame spread over several chunks is copied, once, into a buffer of exactly its length. A header
 * whose messageLength is below 16 or above the limit makes next() throw a WireError with
 * closeConnection set: the stream cannot be resynchronized, and mongod closes the connection
 * (ProtocolError "recv(): message msgLen N is invalid"). The reader stays failed afterwards.
 * Frames before the bad header are still delivered first.
 */
export class FrameReader {
  readonly #maxMessageSizeBytes: number;
  readonly #chunks: Buffer[] = [];
  /** Bytes of #chunks[0] already consumed. */
  #headOffset = 0;
  #buffered = 0;
  #failure: WireError | undefined;
  /** Packing buffer for small chunks; #tailView (its filled part) is the last of #chunks while in use. */
  #tail: Buffer | undefined;
  #tailUsed = 0;
  #tailView: Buffer | undefined;

  constructor(options: FrameReaderOptions = {}) {
    this.#maxMessageSizeBytes = options.maxMessageSizeBytes ?? MESSAGE_SIZE_MAX_BYTES;
  }

  /** Bytes received and not yet returned as frames. */
  get bufferedBytes(): number {
    return this.#buffered;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length);
    this.#buffered += buffer.length;
    if (buffer.length >= SMALL_CHUNK_BYTES) {
      this.#chunks.push(buffer);
      return;
    }
    // Small chunks (a client trickling bytes) are packed into a shared tail buffer, so that a
    // 48 MB message sent a byte at a time costs one copy per byte, not one Buffer object per byte.
    const last = this.#chunks[this.#chunks.length - 1];
    if (this.#tail && last !== undefined && last === this.#tailView && this.#tailUsed + buffer.length <= this.#tail.length) {
      buffer.copy(this.#tail, this.#tailUsed);
      this.#tailUsed += buffer.length;
      this.#tailView = this.#tail.subarray(0, this.#tailUsed);
      this.#chunks[this.#chunks.length - 1] = this.#tailView;
      return;
    }
    this.#tail = Buffer.allocUnsafe(TAIL_BYTES);
    buffer.copy(this.#tail, 0);
    this.#tailUsed = buffer.length;
    this.#tailView = this.#tail.subarray(0, this.#tailUsed);
    this.#chunks.push(this.#tailView);
  }

  /** The next complete frame, or undefined when more bytes are needed. */
  next(): Buffer | undefined {
    if (this.#failure) throw this.#failure;
    if (this.#buffered < MESSAGE_HEADER_SIZE_BYTES) return undefined;
    const length = this.#peekInt32(0);
    if (length < MESSAGE_HEADER_SIZE_BYTES || length > this.#maxMessageSizeBytes) {
      const http = this.#startsWith('GET ');
      this.#failure = fatalWireError(
        'ProtocolError',
        `recv(): message msgLen ${length >>> 0} is invalid. Min ${MESSAGE_HEADER_SIZE_BYTES} Max: ${this.#maxMessageSizeBytes}`,
        http ? HTTP_ON_NATIVE_PORT_RESPONSE : undefined,
      );
      throw this.#failure;
    }
    if (this.#buffered < length) return undefined;
    return this.#take(length);
  }

  /** Yields every complete frame buffered now; throws (after the good ones) on a bad header. */
  *frames(): Generator<Buffer, void, undefined> {
    for (let frame = this.next(); frame !== undefined; frame = this.next()) yield frame;
  }

  #byteAt(index: number): number {
    let i = index + this.#headOffset;
    for (const chunk of this.#chunks) {
      if (i < chunk.length) return chunk[i]!;
      i -= chunk.length;
    }
    throw new RangeError('FrameReader: read past buffered bytes');
  }

  #peekInt32(index: number): number {
    const head = this.#chunks[0]!;
    if (this.#headOffset + index + 4 <= head.length) return head.readInt32LE(this.#headOffset + index);
    return this.#byteAt(index) | (this.#byteAt(index + 1) << 8) | (this.#byteAt(index + 2) << 16) | (this.#byteAt(index + 3) << 24);
  }

  #startsWith(prefix: string): boolean {
    for (let i = 0; i < prefix.length; i++) if (this.#byteAt(i) !== prefix.charCodeAt(i)) return false;
    return true;
  }

  #take(length: number): Buffer {
    this.#buffered -= length;
    const head = this.#chunks[0]!;
    const headLeft = head.length - this.#headOffset;
    if (length <= headLeft) {
      const frame = head.subarray(this.#headOffset, this.#headOffset + length);
      this.#headOffset += length;
      if (this.#headOffset === head.length) {
        this.#chunks.shift();
        this.#headOffset = 0;
      }
      return frame;
    }
    // Spread over chunks: copy once. Consumed chunks are dropped with one splice at the end, so a
    // frame that arrived in many tiny chunks costs linear time, not quadratic.
    const frame = Buffer.allocUnsafe(length);
    let written = 0;
    let index = 0;
    let offset = this.#headOffset;
    while (written < length) {
      const chunk = this.#chunks[index]!;
      const n = Math.min(chunk.length - offset, length - written);
      chunk.copy(frame, written, offset, offset + n);
      written += n;
      offset += n;
      if (offset === chunk.length) {
        index++;
        offset = 0;
      }
    }
    this.#chunks.splice(0, index);
    this.#headOffset = offset;
    return frame;
  }
}
