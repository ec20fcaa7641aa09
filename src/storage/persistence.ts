/**
 * What makes the in-memory MVCC engine durable: every commit goes to the journal as one record
 * (its oplog entries, plus the writes mongod does not replicate and catalog snapshots), and a
 * background checkpoint copies the records that changed since the last one into the lmdb store
 * at one timestamp. Recovery (recovery.ts) = that checkpoint + the journal after it.
 *
 * Journal records hold BSON documents back to back. Oplog entries are the oplog itself; the
 * others carry `lw` (local write): 'catalog' (a collection's whole catalog entry after a change),
 * 'w' (a write to an unreplicated collection such as config.transactions) and 'stmt' (the result
 * of a retryable write's statement, so a retry after a restart answers as the first try did).
 */
import { CheckpointStore, Journal, type CheckpointKey, type JournalContents, type RecordPlacement } from '../durability/index.js';
import type { Clock, Disk, Timer } from '../platform/index.js';
import type { Collection, RecordId } from './collection.js';
import { encodeDocument, type Document, type DossierError, type TsKey } from './deps.js';

export const CHECKPOINT_TABLES = { records: 'records', catalog: 'catalog' } as const;
/** mongod's syncdelay: seconds between checkpoints. */
export const CHECKPOINT_INTERVAL_DEFAULT_SECONDS = 60;
/** Records written per lmdb transaction during a checkpoint: small enough to keep each pause short. */
const CHECKPOINT_SLICE_RECORDS = 500;

export type LocalRecordKind = 'catalog' | 'w' | 'stmt';

/** What the engine needs from the layer that makes it durable. */
export interface CheckpointSource {
  readonly lastCommitTs: TsKey;
  /** Keeps versions at `ts` readable until the returned release is called. */
  pin(ts: TsKey): () => void;
  /** The catalog entries of every collection now (see catalogEntryOf). */
  catalogEntries(): Map<string, Document>;
  /** The record as of `ts`, or null if it did not exist then. */
  recordAt(coll: Collection, rid: RecordId, ts: TsKey): Document | null;
  /** Timestamp of the oldest oplog entry kept in memory (the journal keeps at least that far back). */
  oldestOplogTs(): TsKey;
}

export class Persistence {
  private dirty = new Map<Collection, Set<RecordId>>();
  private droppedCollections = new Set<string>();
  private running: Promise<void> | undefined;
  private timer: Timer | undefined;
  private lastCheckpointTs = 0;
  private writtenCatalog = new Set<string>();
  /** Checkpoints completed and the time the last one took, for serverStatus and tests. */
  readonly stats = { checkpoints: 0, lastCheckpointMs: 0, lastCheckpointRecords: 0, failedCheckpoints: 0 };
  onCheckpointError: (e: unknown) => void = () => {};

  private constructor(
    readonly dataDir: string,
    readonly journal: Journal,
    readonly store: CheckpointStore,
    readonly recovered: JournalContents,
    private readonly clock: Clock,
    private readonly unlock: () => void,
  ) {}

  /** Opens (or creates) the data directory: takes its lock, reads the journal, opens the checkpoint store. */
  static async open(dataDir: string, disk: Disk, clock: Clock, onJournalFailure: (e: DossierError | undefined) => void): Promise<Persistence> {
    disk.mkdirp(dataDir);
    const unlock = disk.lockDirectory(dataDir);
    try {
      const store = CheckpointStore.open(dataDir, Object.values(CHECKPOINT_TABLES));
      const { journal, contents } = await Journal.open(disk, dataDir, clock, onJournalFailure);
      return new Persistence(dataDir, journal, store, contents, clock, unlock);
    } catch (e) {
      unlock();
      throw e;
    }
  }

  /** Refuses a write while the journal cannot take it (the disk is full or failing). */
  assertWritable(): void {
    if (this.journal.failure) throw this.journal.failure;
  }

  /** One commit's journal record. */
  logCommit(ts: TsKey, oplogEntries: Buffer[], local: Document[], placed?: (where: RecordPlacement) => void): number {
    const payload = local.length ? [...oplogEntries, ...local.map((d) => encodeDocument(d))] : oplogEntries;
    return this.journal.append(ts, payload, placed);
  }

  markDirty(coll: Collection, rid: RecordId): void {
    let rids = this.dirty.get(coll);
    if (!rids) this.dirty.set(coll, (rids = new Set()));
    rids.add(rid);
  }

  collectionDropped(coll: Collection): void {
    this.dirty.delete(coll);
    this.collectionDroppedUuid(coll.uuid.toHexString());
  }

  collectionDroppedUuid(uuid: string): void {
    this.droppedCollections.add(uuid);
  }

  /** Checkpoints every `intervalSeconds`. */
  startCheckpointing(source: CheckpointSource, intervalSeconds: () => number): void {
    const tick = (): void => {
      void this.checkpoint(source).finally(() => {
        if (this.timer) this.timer = this.clock.setTimer(intervalSeconds() * 1000, tick);
      });
    };
    this.timer = this.clock.setTimer(intervalSeconds() * 1000, tick);
  }

  get lastCheckpointTimestamp(): TsKey {
    return this.lastCheckpointTs;
  }

  /** Writes a checkpoint at the newest commit (joining one already running). */
  checkpoint(source: CheckpointSource): Promise<void> {
    this.running ??= this.writeCheckpoint(source).finally(() => (this.running = undefined));
    return this.running;
  }

  private async writeCheckpoint(source: CheckpointSource): Promise<void> {
    const started = this.clock.monotonicMs();
    const ts = source.lastCommitTs;
    const release = source.pin(ts);
    const dirty = this.dirty;
    const dropped = this.droppedCollections;
    this.dirty = new Map();
    this.droppedCollections = new Set();
    const catalog = source.catalogEntries();
    let written = 0;
    try {
      // Everything the checkpoint holds must be in the journal first, so the journal is never behind it.
      await this.journal.flush();
      for (const uuid of dropped) if (!catalog.has(uuid)) await this.store.removePrefix(CHECKPOINT_TABLES.records, [uuid]);
      let slice: Array<[CheckpointKey, Buffer | null]> = [];
      for (const [coll, rids] of dirty) {
        const uuid = coll.uuid.toHexString();
        if (!catalog.has(uuid)) continue;
        for (const rid of rids) {
          const doc = source.recordAt(coll, rid, ts);
          slice.push([[uuid, rid], doc ? encodeDocument(doc) : null]);
          if (slice.length >= CHECKPOINT_SLICE_RECORDS) {
            written += slice.length;
            await this.store.write(CHECKPOINT_TABLES.records, slice);
            slice = [];
          }
        }
      }
      written += slice.length;
      if (slice.length) await this.store.write(CHECKPOINT_TABLES.records, slice);
      const catalogChanges: Array<[string, Buffer | null]> = [];
      for (const [uuid, entry] of catalog) catalogChanges.push([uuid, encodeDocument(entry)]);
      for (const uuid of this.writtenCatalog) if (!catalog.has(uuid)) catalogChanges.push([uuid, null]);
      await this.store.write(CHECKPOINT_TABLES.catalog, catalogChanges);
      this.writtenCatalog = new Set(catalog.keys());
      await this.store.setMeta({ checkpointTs: ts, writtenAtMs: this.clock.nowMs() });
    } catch (e) {
      // Nothing is lost: the journal still holds every change; the next checkpoint writes them.
      for (const [coll, rids] of dirty) for (const rid of rids) this.markDirty(coll, rid);
      for (const uuid of dropped) this.droppedCollections.add(uuid);
      this.stats.failedCheckpoints++;
      this.onCheckpointError(e);
      throw e;
    } finally {
      release();
    }
    this.lastCheckpointTs = ts;
    this.journal.retainFrom(Math.min(ts, source.oldestOplogTs()));
    this.stats.checkpoints++;
    this.stats.lastCheckpointMs = this.clock.monotonicMs() - started;
    this.stats.lastCheckpointRecords = written;
  }

  /** Notes what the store held at start-up, so the first checkpoint deletes dropped catalog entries. */
  noteRecoveredCatalog(uuids: Iterable<string>, checkpointTs: TsKey): void {
    for (const u of uuids) this.writtenCatalog.add(u);
    this.lastCheckpointTs = checkpointTs;
  }

  /** Flushes, writes a final checkpoint (so the next start replays little) and releases the directory. */
  async close(source: CheckpointSource | undefined): Promise<void> {
    this.timer?.cancel();
    this.timer = undefined;
    try {
      await this.running?.catch(() => undefined);
      if (source && !this.journal.failure) await this.checkpoint(source);
    } catch {
      // The journal holds everything the failed checkpoint would have.
    }
    await this.journal.close();
    await this.store.close();
    this.unlock();
  }
}
