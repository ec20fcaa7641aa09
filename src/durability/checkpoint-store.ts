/**
 * Checkpoints on lmdb: what the collections held at one timestamp, so recovery replays only the
 * journal after it. lmdb gives atomic, crash-safe write transactions (copy-on-write pages, one
 * fsync per commit) and zero-copy reads; what goes in is opaque here — storage decides the keys
 * and encodes the values. Every value carries a CRC-32C so a damaged page is reported, never read
 * back as data.
 *
 * A checkpoint is written in slices (each slice one lmdb transaction, awaited, so commands run in
 * between) and sealed by writing its timestamp last: a crash half-way leaves the previous
 * timestamp in place, and replaying the journal from there over the half-written slices gives the
 * same state, because every journal entry applies idempotently (whole documents by _id).
 */
import { join } from 'node:path';
import { open, type Database, type RootDatabase } from 'lmdb';
import { crc32c } from '../base/index.js';

export const CHECKPOINT_DIR_NAME = 'checkpoint';
/** lmdb's map is a reservation of address space, not memory: 1 TiB leaves room to grow. */
const MAP_SIZE_BYTES = 2 ** 40;

/** One string, or an array of strings and numbers (ordered element by element). */
export type CheckpointKey = string | Array<string | number>;

export interface CheckpointMeta {
  /** Every commit at or before this timestamp is in the checkpoint. */
  checkpointTs: number;
  writtenAtMs: number;
}

export class CheckpointCorruptionError extends Error {
  constructor(
    readonly file: string,
    readonly key: string,
  ) {
    super(`checkpoint file ${file} is corrupt: the value for ${key} fails its checksum; refusing to start (restore the data directory from a backup)`);
  }
}

export class CheckpointStore {
  private constructor(
    private readonly root: RootDatabase,
    private readonly tables: Map<string, Database<Buffer, CheckpointKey>>,
    readonly file: string,
  ) {}

  static open(dataDir: string, tableNames: readonly string[]): CheckpointStore {
    const path = join(dataDir, CHECKPOINT_DIR_NAME);
    const root = open({ path, mapSize: MAP_SIZE_BYTES, maxDbs: tableNames.length + 2, encoding: 'binary' });
    const tables = new Map<string, Database<Buffer, CheckpointKey>>();
    for (const name of [...tableNames, META_TABLE]) tables.set(name, root.openDB<Buffer, CheckpointKey>(name, { encoding: 'binary' }));
    return new CheckpointStore(root, tables, join(path, 'data.mdb'));
  }

  private table(name: string): Database<Buffer, CheckpointKey> {
    const t = this.tables.get(name);
    if (!t) throw new Error(`no checkpoint table ${name}`);
    return t;
  }

  meta(): CheckpointMeta | undefined {
    const raw = this.table(META_TABLE).get('meta');
    if (!raw) return undefined;
    return JSON.parse(unseal(raw, this.file, 'meta').toString('utf8')) as CheckpointMeta;
  }

  /** Every entry of a table whose key starts with `prefix`, in key order, checksums verified. */
  *entries(tableName: string, prefix: Array<string | number> = []): Generator<{ key: CheckpointKey; value: Buffer }> {
    const table = this.table(tableName);
    const range = prefix.length ? { start: prefix, end: [...prefix, MAX_KEY_PART] } : {};
    for (const { key, value } of table.getRange(range)) {
      yield { key, value: unseal(value, this.file, `${tableName} ${JSON.stringify(key)}`) };
    }
  }

  /** Applies puts (value) and deletes (null) in one lmdb transaction; durable when it resolves. */
  async write(tableName: string, changes: Array<[CheckpointKey, Buffer | null]>): Promise<void> {
    const table = this.table(tableName);
    await this.root.transaction(() => {
      for (const [key, value] of changes) {
        if (value === null) table.removeSync(key);
        else table.putSync(key, seal(value));
      }
    });
  }

  /** Deletes every entry whose key starts with `prefix` (a dropped collection's records). */
  async removePrefix(tableName: string, prefix: Array<string | number>): Promise<void> {
    const table = this.table(tableName);
    const keys = [...table.getKeys({ start: prefix, end: [...prefix, MAX_KEY_PART] })];
    await this.root.transaction(() => {
      for (const key of keys) table.removeSync(key);
    });
  }

  /** Seals a checkpoint: written last, after all its slices are durable. */
  async setMeta(meta: CheckpointMeta): Promise<void> {
    await this.table(META_TABLE).put('meta', seal(Buffer.from(JSON.stringify(meta))));
  }

  async close(): Promise<void> {
    await this.root.close();
  }
}

const META_TABLE = 'meta';
/** Sorts after every number and string lmdb's ordered-binary keys can hold at one position. */
const MAX_KEY_PART = '\uffff';

function seal(value: Buffer): Buffer {
  const out = Buffer.allocUnsafe(value.length + 4);
  out.writeUInt32LE(crc32c(value) >>> 0, 0);
  value.copy(out, 4);
  return out;
}

function unseal(stored: Buffer, file: string, what: string): Buffer {
  if (stored.length < 4) throw new CheckpointCorruptionError(file, what);
  const value = stored.subarray(4);
  if (crc32c(value) >>> 0 !== stored.readUInt32LE(0)) throw new CheckpointCorruptionError(file, what);
  return value;
}
