/**
 * Server-side cursors: find/aggregate/listCollections results served in batches by getMore.
 * A cursor holds a lazy document source and the storage snapshot it reads from, so history is
 * kept for it until it is exhausted, killed or reaped after cursorTimeoutMillis of disuse.
 */
import { fail } from '../base/index.js';
import { CURSOR_BATCH_SIZE_MAX_BYTES, CURSOR_TIMEOUT_MILLIS } from '../base/limits.js';
import { documentSize, Long, type Document } from '../bson/index.js';
import type { Clock, Timer } from '../platform/index.js';
import type { StorageEngine, StorageTxn } from '../storage/index.js';

export type CursorSource = Iterator<Document>;

export interface ClientCursor {
  readonly id: bigint;
  readonly ns: string;
  readonly source: CursorSource;
  /**
   * The asynchronous form of `source` (same documents, same position), for sources that must
   * yield to the event loop while they work, such as a running aggregation pipeline.
   */
  readonly nextAsync?: () => Promise<Document | undefined>;
  /** The snapshot the source reads; released when the cursor ends. */
  readonly txn: StorageTxn | undefined;
  readonly lsid: Document | undefined;
  /** The session catalog key of `lsid`. */
  readonly sessionKey: string | undefined;
  readonly txnNumber: bigint | undefined;
  /** Opened by a statement of a multi-document transaction: it reads that transaction's snapshot and dies with it. */
  readonly inTransaction: boolean;
  readonly connectionId: number;
  readonly tailable: boolean;
  /** For a tailable cursor: whether it stays open when its source has nothing more for now. */
  readonly keepTailing?: () => boolean;
  readonly awaitData: boolean;
  readonly noCursorTimeout: boolean;
  readonly createdAtMs: number;
  lastUsedMs: number;
  nReturned: number;
  /** A document read ahead to know whether the source is exhausted. */
  peeked: Document | undefined;
  inUse: boolean;
  comment: unknown;
  originatingCommand: Document;
  /** A change stream's cursor: every batch reports where the stream is (postBatchResumeToken). */
  readonly changeStream?: { postBatchResumeToken(lastReturned: Document | undefined): Document };
}

export type CursorInit = Omit<ClientCursor, 'id' | 'createdAtMs' | 'lastUsedMs' | 'nReturned' | 'peeked' | 'inUse'>;

export class CursorManager {
  private readonly cursors = new Map<bigint, ClientCursor>();
  private readonly reaper: Timer;
  totalOpened = 0;
  timedOut = 0;

  constructor(
    private readonly clock: Clock,
    private readonly engine: StorageEngine,
    private readonly randomId: () => bigint,
  ) {
    const sweep = (): void => {
      this.reapIdle();
      this.reaperTimer = this.clock.setTimer(60_000, sweep);
    };
    this.reaperTimer = this.clock.setTimer(60_000, sweep);
    this.reaper = { cancel: () => this.reaperTimer.cancel() };
  }
  private reaperTimer: Timer;

  get size(): number {
    return this.cursors.size;
  }

  all(): ClientCursor[] {
    return [...this.cursors.values()];
  }

  /**
   * Reads up to `batchSize` documents (and at most 16 MiB) from a source. Returns the batch and
   * whether the source is exhausted.
   */
  static readBatch(source: CursorSource, batchSize: number | undefined, state: { peeked: Document | undefined }): { batch: Document[]; exhausted: boolean } {
    const next = (): Document | undefined => {
      const r = source.next();
      return r.done ? undefined : r.value;
    };
    // A first batch of 0 (find/aggregate batchSize: 0) opens the cursor without reading.
    if (batchSize === 0) return { batch: [], exhausted: false };
    const fill = new BatchFill(batchSize);
    while (!fill.full) {
      const doc = state.peeked ?? next();
      state.peeked = undefined;
      if (doc === undefined) return { batch: fill.batch, exhausted: true };
      if (!fill.take(doc)) return fill.stopBefore(doc, state);
    }
    return fill.end(state, state.peeked ?? next());
  }

  /** readBatch over an asynchronous source: the same batch rules, awaiting each document. */
  static async readBatchAsync(next: () => Promise<Document | undefined>, batchSize: number | undefined, state: { peeked: Document | undefined }): Promise<{ batch: Document[]; exhausted: boolean }> {
    if (batchSize === 0) return { batch: [], exhausted: false };
    const fill = new BatchFill(batchSize);
    while (!fill.full) {
      const doc = state.peeked ?? (await next());
      state.peeked = undefined;
      if (doc === undefined) return { batch: fill.batch, exhausted: true };
      if (!fill.take(doc)) return fill.stopBefore(doc, state);
    }
    return fill.end(state, state.peeked ?? (await next()));
  }

  register(init: CursorInit, peeked: Document | undefined): ClientCursor {
    let id = this.randomId();
    while (id === 0n || this.cursors.has(id)) id = this.randomId();
    const now = this.clock.nowMs();
    // Object.assign rather than `{ ...init, id, ... }`, V8's slow path on Node 20.
    const cursor: ClientCursor = Object.assign({}, init, { id, createdAtMs: now, lastUsedMs: now, nReturned: 0, peeked, inUse: false });
    this.cursors.set(id, cursor);
    this.totalOpened++;
    return cursor;
  }

  get(id: bigint): ClientCursor | undefined {
    return this.cursors.get(id);
  }

  /** Takes a cursor for a getMore; fails as mongod does when it is unknown or busy. */
  checkOut(id: bigint, ns: string): ClientCursor {
    const c = this.cursors.get(id);
    if (!c) fail('CursorNotFound', `cursor id ${id} not found`);
    if (c.ns !== ns) fail('Unauthorized', `Requested getMore on namespace '${ns}', but cursor belongs to a different namespace ${c.ns}`);
    if (c.inUse) fail('CursorInUse', `cursor id ${id} is already in use`);
    c.inUse = true;
    return c;
  }

  checkIn(c: ClientCursor): void {
    c.inUse = false;
    c.lastUsedMs = this.clock.nowMs();
  }

  kill(id: bigint): boolean {
    const c = this.cursors.get(id);
    if (!c) return false;
    this.cursors.delete(id);
    // A transaction's cursor reads the transaction's storage txn: ending it is the session's job.
    if (c.txn?.isActive && !c.inTransaction) this.engine.abort(c.txn);
    c.source.return?.();
    return true;
  }

  killWhere(predicate: (c: ClientCursor) => boolean): number {
    let n = 0;
    for (const c of [...this.cursors.values()]) if (predicate(c) && this.kill(c.id)) n++;
    return n;
  }

  reapIdle(): void {
    const now = this.clock.nowMs();
    for (const c of [...this.cursors.values()]) {
      if (!c.inUse && !c.noCursorTimeout && now - c.lastUsedMs > CURSOR_TIMEOUT_MILLIS) {
        this.kill(c.id);
        this.timedOut++;
      }
    }
  }

  close(): void {
    this.reaper.cancel();
    for (const id of [...this.cursors.keys()]) this.kill(id);
  }
}

export function cursorIdToLong(id: bigint): Long {
  return Long.fromBigInt(id);
}

/**
 * The batch rules both readers share: at most `batchSize` documents and 16 MiB; a document that
 * does not fit is kept in `peeked` and opens the next batch.
 */
class BatchFill {
  readonly batch: Document[] = [];
  private bytes = 0;
  private readonly limit: number;

  constructor(batchSize: number | undefined) {
    this.limit = batchSize ?? Infinity;
  }

  get full(): boolean {
    return this.batch.length >= this.limit;
  }

  /** Adds `doc`; false when it would take a non-empty batch past 16 MiB. */
  take(doc: Document): boolean {
    const size = documentSize(doc);
    if (this.batch.length > 0 && this.bytes + size > CURSOR_BATCH_SIZE_MAX_BYTES) return false;
    this.bytes += size;
    this.batch.push(doc);
    return true;
  }

  stopBefore(doc: Document, state: { peeked: Document | undefined }): { batch: Document[]; exhausted: boolean } {
    state.peeked = doc;
    return { batch: this.batch, exhausted: false };
  }

  /** A full batch: the source is exhausted only if nothing follows (what follows is kept for the next batch). */
  end(state: { peeked: Document | undefined }, following: Document | undefined): { batch: Document[]; exhausted: boolean } {
    if (following === undefined) return { batch: this.batch, exhausted: true };
    state.peeked = following;
    return { batch: this.batch, exhausted: false };
  }
}
