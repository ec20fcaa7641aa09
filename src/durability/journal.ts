/**
 * The journal: an append-only sequence of checksummed records, one per commit, each holding that
 * commit's oplog entries (opaque bytes here). It is the oplog made durable.
 *
 * Group commit: appends go to a buffer; one writer flushes whatever has gathered with a single
 * write and one fdatasync, so commits arriving from many connections while a flush is in flight
 * share the next one. `whenDurable(seq)` resolves once the flush covering `seq` is on disk.
 *
 * Record layout: [payload length u32][CRC-32C of ts+payload u32][ts f64][payload]. A torn or
 * corrupt record at the very end (nothing valid after it) is a crash mid-write and is cut off;
 * a bad record anywhere else is corruption, and opening fails naming the file and offset.
 * Segments are zero-filled ahead of the last record; an all-zero tail is free space, not damage.
 */
import { join } from 'node:path';
import { crc32c, DossierError, ErrorCodes } from '../base/index.js';
import type { AppendFile, Clock, Disk, Timer } from '../platform/index.js';

export const JOURNAL_DIR_NAME = 'journal';
/** A new segment file starts past this size, so old segments can be deleted whole. */
export const JOURNAL_SEGMENT_BYTES_MAX = 64 * 1024 * 1024;
/**
 * Segments grow in zero-filled steps of this size (see AppendOptions.preallocateBytes): a commit's
 * fdatasync then rarely has to commit a new file size as well, which on ext4 costs a second
 * journal write. A multiple of the segment size, so a segment never grows past it.
 */
export const JOURNAL_PREALLOCATE_BYTES = 2 * 1024 * 1024;
const APPEND_OPTIONS = { syncOnWrite: true, preallocateBytes: JOURNAL_PREALLOCATE_BYTES } as const;
const HEADER_BYTES = 16;
/** A record's payload can never be larger than a message plus its applyOps chain entry. */
const RECORD_PAYLOAD_BYTES_MAX = 64 * 1024 * 1024;
/** After a failed flush the writer tries again this often (a disk that was full may have room). */
export const JOURNAL_RETRY_INTERVAL_MS = 1000;
const SEGMENT_PREFIX = 'oplog.';

export type JournalRecord = { ts: number; payload: Buffer; segment: string; offset: number; path: string; length: number };

/** Where a record landed: its file and the offset of its header. Told once the record is durable. */
export type RecordPlacement = { path: string; offset: number; length: number };
type Placed = (where: RecordPlacement) => void;
type Batch = { bytes: Buffer; lastSeq: number; lastTs: number; truncateTo: number; records: Array<{ at: number; length: number; placed: Placed }> };

type Segment = { name: string; path: string; lastTs: number };

/** What opening found: the records in order, and the torn tail that was cut, if any. */
export interface JournalContents {
  records: JournalRecord[];
  cutTail: { file: string; offset: number; bytes: number } | undefined;
}

/** Corruption that is not a torn tail: start-up must stop rather than lose data. */
export class JournalCorruptionError extends Error {
  constructor(
    readonly file: string,
    readonly offset: number,
    reason: string,
  ) {
    super(`journal file ${file} is corrupt at offset ${offset}: ${reason}; refusing to start (restore the file or the data directory from a backup)`);
  }
}

/** The DossierError a failed journal write turns into (what clients waiting on it are told). */
export function journalWriteError(e: unknown): DossierError {
  const errno = (e as NodeJS.ErrnoException).code;
  const text = e instanceof Error ? e.message : String(e);
  if (errno === 'ENOSPC') return new DossierError(ErrorCodes.OutOfDiskSpace, `journal write failed, the disk is full: ${text}`);
  return new DossierError(ErrorCodes.OperationFailed, `journal write failed: ${text}`);
}

export class Journal {
  private file: AppendFile | undefined;
  private segments: Segment[] = [];
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private pendingRecords: Batch['records'] = [];
  private pendingLastTs = 0;
  private nextSeq = 1;
  private durable = 0;
  private durableTs = 0;
  private flushing: Promise<void> | undefined;
  private waiters: Array<{ seq: number; resolve: () => void; reject: (e: Error) => void }> = [];
  /** The failed flush's bytes, written again before anything newer. */
  private failedBatch: Batch | undefined;
  private retryTimer: Timer | undefined;
  private closed = false;
  /** Set while the disk refuses writes; commits are refused until a retry succeeds. */
  failure: DossierError | undefined;
  /** Flushes done and records written, for serverStatus and the group-commit test. */
  readonly stats = { flushes: 0, records: 0, bytes: 0 };

  private constructor(
    private readonly disk: Disk,
    readonly dir: string,
    private readonly clock: Clock,
    private readonly onFailure: (e: DossierError | undefined) => void,
  ) {}

  /**
   * Reads every segment of `dir` (verifying checksums, cutting a torn tail) and opens the last
   * one for appending.
   */
  static async open(disk: Disk, dataDir: string, clock: Clock, onFailure: (e: DossierError | undefined) => void = () => {}): Promise<{ journal: Journal; contents: JournalContents }> {
    const dir = join(dataDir, JOURNAL_DIR_NAME);
    disk.mkdirp(dir);
    const journal = new Journal(disk, dir, clock, onFailure);
    const names = disk.list(dir).filter((n) => n.startsWith(SEGMENT_PREFIX)).sort();
    const records: JournalRecord[] = [];
    let cutTail: JournalContents['cutTail'];
    names.forEach((name, i) => {
      const path = join(dir, name);
      const bytes = disk.readFile(path);
      const { found, badAt, reason, zeroTailAt } = readRecords(bytes, name, path);
      // The segment being written keeps only its records, so appends resume right after them.
      if (zeroTailAt !== undefined && i === names.length - 1) disk.truncateFile(path, zeroTailAt);
      if (badAt !== undefined) {
        const isLast = i === names.length - 1;
        if (!isLast || validRecordFollows(bytes, badAt)) throw new JournalCorruptionError(path, badAt, reason!);
        disk.truncateFile(path, badAt);
        cutTail = { file: path, offset: badAt, bytes: bytes.length - badAt };
      }
      records.push(...found);
      journal.segments.push({ name, path, lastTs: found.length ? found[found.length - 1]!.ts : 0 });
    });
    const last = records[records.length - 1];
    if (last) journal.durableTs = last.ts;
    if (journal.segments.length === 0) journal.segments.push(journal.segmentNamed(1));
    const current = journal.segments[journal.segments.length - 1]!;
    journal.file = await disk.openAppend(current.path, APPEND_OPTIONS);
    return { journal, contents: { records, cutTail } };
  }

  private segmentNamed(n: number): Segment {
    const name = `${SEGMENT_PREFIX}${String(n).padStart(10, '0')}`;
    return { name, path: join(this.dir, name), lastTs: 0 };
  }

  /** The sequence number of the newest append. */
  get lastSeq(): number {
    return this.nextSeq - 1;
  }

  get durableSeq(): number {
    return this.durable;
  }

  /** Timestamp of the newest record on disk. */
  get lastDurableTs(): number {
    return this.durableTs;
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  /**
   * Adds a record for the commit at `ts`; returns its sequence number. Durable after `whenDurable`;
   * `placed`, if given, is told where the record landed once it is durable.
   */
  append(ts: number, payload: Buffer[], placed?: Placed): number {
    let length = 0;
    for (const p of payload) length += p.length;
    const header = Buffer.allocUnsafe(HEADER_BYTES);
    header.writeUInt32LE(length, 0);
    header.writeDoubleLE(ts, 8);
    let crc = crc32c(header, 8, 16);
    for (const p of payload) crc = crc32cContinue(crc, p);
    header.writeUInt32LE(crc >>> 0, 4);
    if (placed) this.pendingRecords.push({ at: this.pendingBytes, length: HEADER_BYTES + length, placed });
    this.pending.push(header, ...payload);
    this.pendingBytes += HEADER_BYTES + length;
    this.pendingLastTs = ts;
    this.stats.records++;
    const seq = this.nextSeq++;
    this.scheduleFlush();
    return seq;
  }

  /** Resolves once every record up to `seq` is durable; rejects if the disk fails first. */
  whenDurable(seq: number = this.lastSeq): Promise<void> {
    if (seq <= this.durable) return Promise.resolve();
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiters.push({ seq, resolve, reject }));
  }

  /** Flushes now and waits (the fsync command, checkpoints, shutdown). */
  async flush(): Promise<void> {
    this.scheduleFlush();
    await this.whenDurable(this.lastSeq);
  }

  private scheduleFlush(): void {
    if (this.flushing || this.closed || this.failure) return;
    // setImmediate lets the commands already waiting on sockets run first, so their commits join this flush.
    this.flushing = new Promise<void>((resolve) => setImmediate(() => void this.flushLoop().finally(resolve)));
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.pending.length > 0 && !this.failure) await this.writeBatch(this.takePending({ bytes: Buffer.alloc(0), lastSeq: 0, lastTs: 0, truncateTo: -1, records: [] }));
    } finally {
      this.flushing = undefined;
    }
    if (this.pending.length > 0 && !this.failure) this.scheduleFlush();
  }

  /** Writes one batch and fsyncs it; on failure keeps it for the retry and fails every waiter. */
  /** Moves what gathered in the buffer to the end of `batch`. */
  private takePending(batch: Batch): Batch {
    const base = batch.bytes.length;
    batch.bytes = base === 0 ? Buffer.concat(this.pending) : Buffer.concat([batch.bytes, ...this.pending]);
    for (const r of this.pendingRecords) batch.records.push({ at: base + r.at, length: r.length, placed: r.placed });
    batch.lastSeq = this.lastSeq;
    batch.lastTs = this.pendingLastTs;
    this.pending = [];
    this.pendingRecords = [];
    this.pendingBytes = 0;
    return batch;
  }

  private async writeBatch(batch: Batch): Promise<boolean> {
    let file = this.file!;
    try {
      if (batch.truncateTo >= 0 && file.size !== batch.truncateTo) await file.truncate(batch.truncateTo);
      if (file.size > 0 && file.size + batch.bytes.length > JOURNAL_SEGMENT_BYTES_MAX) file = await this.startSegment();
      batch.truncateTo = file.size;
      await file.append(batch.bytes);
      await file.sync();
    } catch (e) {
      this.failedBatch = batch;
      this.fail(journalWriteError(e));
      return false;
    }
    this.stats.flushes++;
    this.stats.bytes += batch.bytes.length;
    this.segments[this.segments.length - 1]!.lastTs = batch.lastTs;
    const start = batch.truncateTo;
    for (const r of batch.records) r.placed({ path: file.path, offset: start + r.at, length: r.length });
    this.durable = batch.lastSeq;
    this.durableTs = batch.lastTs;
    const ready = this.waiters.filter((w) => w.seq <= this.durable);
    this.waiters = this.waiters.filter((w) => w.seq > this.durable);
    for (const w of ready) w.resolve();
    return true;
  }

  private async startSegment(): Promise<AppendFile> {
    await this.file!.close();
    const n = Number.parseInt(this.segments[this.segments.length - 1]!.name.slice(SEGMENT_PREFIX.length), 10) + 1;
    const seg = this.segmentNamed(n);
    this.segments.push(seg);
    this.file = await this.disk.openAppend(seg.path, APPEND_OPTIONS);
    return this.file;
  }

  private fail(error: DossierError): void {
    const first = this.failure === undefined;
    this.failure = error;
    if (first) this.onFailure(error);
    const waiting = this.waiters;
    this.waiters = [];
    for (const w of waiting) w.reject(error);
    if (!this.closed) this.retryTimer = this.clock.setTimer(JOURNAL_RETRY_INTERVAL_MS, () => void this.retry());
  }

  /**
   * Writes the failed batch again (cut back to where it began) with whatever gathered since.
   * The failure stays set while it runs, so no commit slips in beside it; it clears on success.
   */
  private async retry(): Promise<void> {
    if (this.closed || !this.failedBatch || this.flushing) return;
    const batch = this.failedBatch;
    this.failedBatch = undefined;
    if (this.pending.length > 0) this.takePending(batch);
    let done!: () => void;
    this.flushing = new Promise<void>((resolve) => (done = resolve));
    try {
      if (await this.writeBatch(batch)) {
        this.failure = undefined;
        this.onFailure(undefined);
      }
    } finally {
      this.flushing = undefined;
      done();
    }
    if (!this.failure) this.scheduleFlush();
  }

  /** The payload of the record at `where`, read back from its file and checked against its checksum. */
  readPayload(where: RecordPlacement): Buffer {
    const bytes = this.disk.readRange(where.path, where.offset, where.length);
    const bad = checkRecordAt(bytes, 0);
    if (bad) throw new JournalCorruptionError(where.path, where.offset, bad);
    return bytes.subarray(HEADER_BYTES);
  }

  /** Deletes whole segments whose every record is older than `ts` (never the one being written). */
  retainFrom(ts: number): number {
    let removed = 0;
    while (this.segments.length > 1 && this.segments[0]!.lastTs < ts) {
      this.disk.remove(this.segments.shift()!.path);
      removed++;
    }
    return removed;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    try {
      if (!this.failure) await this.flush();
    } catch {
      // The disk failed: what was not written was never acknowledged as durable.
    }
    this.closed = true;
    this.retryTimer?.cancel();
    await this.flushing;
    await this.file?.close();
  }
}

function crc32cContinue(crc: number, bytes: Buffer): number {
  return crc32c(bytes, 0, bytes.length, crc);
}

function readRecords(bytes: Buffer, segment: string, path: string): { found: JournalRecord[]; badAt?: number; reason?: string; zeroTailAt?: number } {
  const found: JournalRecord[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const bad = checkRecordAt(bytes, offset);
    if (bad) return isZeroFrom(bytes, offset) ? { found, zeroTailAt: offset } : { found, badAt: offset, reason: bad };
    const length = bytes.readUInt32LE(offset);
    found.push({ ts: bytes.readDoubleLE(offset + 8), payload: bytes.subarray(offset + HEADER_BYTES, offset + HEADER_BYTES + length), segment, offset, path, length: HEADER_BYTES + length });
    offset += HEADER_BYTES + length;
  }
  return { found };
}

const ZERO_CHUNK = Buffer.alloc(64 * 1024);

/** Whether every byte from `offset` to the end is zero (space preallocated and never written). */
function isZeroFrom(bytes: Buffer, offset: number): boolean {
  for (let at = offset; at < bytes.length; at += ZERO_CHUNK.length) {
    const end = Math.min(bytes.length, at + ZERO_CHUNK.length);
    if (!bytes.subarray(at, end).equals(ZERO_CHUNK.subarray(0, end - at))) return false;
  }
  return true;
}

/** Why the record at `offset` is not whole and intact, or undefined if it is. */
function checkRecordAt(bytes: Buffer, offset: number): string | undefined {
  if (bytes.length - offset < HEADER_BYTES) return 'record header cut short';
  const length = bytes.readUInt32LE(offset);
  if (length > RECORD_PAYLOAD_BYTES_MAX) return `record length ${length} is impossible`;
  if (offset + HEADER_BYTES + length > bytes.length) return 'record cut short';
  const crc = crc32c(bytes, offset + 8, offset + HEADER_BYTES + length);
  if (crc >>> 0 !== bytes.readUInt32LE(offset + 4)) return 'checksum mismatch';
  return undefined;
}

/**
 * Whether whole records follow a bad one: then the damage is in the middle of the journal, not a
 * write cut short by a crash (a torn write only ever leaves garbage at the very end).
 */
function validRecordFollows(bytes: Buffer, badAt: number): boolean {
  if (bytes.length - badAt < HEADER_BYTES) return false;
  const length = bytes.readUInt32LE(badAt);
  const next = badAt + HEADER_BYTES + length;
  if (length > RECORD_PAYLOAD_BYTES_MAX || next >= bytes.length) return false;
  return checkRecordAt(bytes, next) === undefined;
}
