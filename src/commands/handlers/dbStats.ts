/**
 * dbStats: sizes of one database. Dossier's engine is in memory and stores documents as decoded
 * values, so sizes are the BSON sizes of what is stored: dataSize is the sum of the visible
 * documents' BSON sizes, storageSize equals it (nothing is compressed or preallocated), and an
 * index's size is the BSON size of its keys plus an 8-byte record id per entry.
 */
import { fail } from '../../base/index.js';
import { documentSize, Double, toJsNumber, typeNameOf, type BsonValue, type Document } from '../../bson/index.js';
import type { Collection } from '../../storage/index.js';
import { CommandArgs } from '../args.js';
import type { Instance } from '../instance.js';
import type { CommandDefinition } from '../types.js';

/** What an index entry costs besides its key: the record id it points to. */
const INDEX_ENTRY_RECORD_ID_BYTES = 8;

export interface CollectionSizes {
  count: number;
  dataSize: number;
  indexSizes: Map<string, number>;
  totalIndexSize: number;
}

/** Counts and sizes the documents visible at the newest commit, and the collection's indexes. */
export function collectionSizes(instance: Instance, coll: Collection): CollectionSizes {
  const readTs = instance.engine.lastCommitTs;
  let count = 0;
  let dataSize = 0;
  for (const chain of coll.records.values()) {
    const doc = chain.visibleAt(readTs);
    if (doc === null) continue;
    count++;
    dataSize += documentSize(doc);
  }
  const indexSizes = new Map<string, number>();
  let totalIndexSize = 0;
  for (const index of coll.indexes.values()) {
    let size = 0;
    for (const entry of index.tree.keys()) size += documentSize({ k: entry.key }) + INDEX_ENTRY_RECORD_ID_BYTES;
    indexSizes.set(index.name, size);
    totalIndexSize += size;
  }
  return { count, dataSize, indexSizes, totalIndexSize };
}

/** Whether a catalog entry is a view (views live in the catalog with a `viewOn` option). */
export function isView(coll: Collection): boolean {
  return typeof coll.options.viewOn === 'string';
}

export interface DatabaseSizes {
  collections: number;
  views: number;
  objects: number;
  dataSize: number;
  indexes: number;
  indexSize: number;
}

export function databaseSizes(instance: Instance, db: string): DatabaseSizes {
  const out: DatabaseSizes = { collections: 0, views: 0, objects: 0, dataSize: 0, indexes: 0, indexSize: 0 };
  for (const coll of instance.engine.collectionsOf(db)?.values() ?? []) {
    if (isView(coll)) {
      out.views++;
      continue;
    }
    out.collections++;
    const s = collectionSizes(instance, coll);
    out.objects += s.count;
    out.dataSize += s.dataSize;
    out.indexes += coll.indexes.size;
    out.indexSize += s.totalIndexSize;
  }
  return out;
}

/**
 * The `scale` option of dbStats/collStats: a positive whole number of bytes per unit. mongod
 * truncates a fractional scale and rejects anything below 1.
 */
export function parseScale(commandName: string, v: BsonValue): number {
  if (v === undefined) return 1;
  const t = typeNameOf(v);
  if (t !== 'int' && t !== 'long' && t !== 'double' && t !== 'decimal') {
    fail('TypeMismatch', `BSON field '${commandName}.scale' is the wrong type '${t}', expected types '[long, int, decimal, double]'`);
  }
  const scale = Math.trunc(toJsNumber(v));
  if (!(scale >= 1)) fail('BadValue', `BSON field 'scale' value must be >= 1, actual value '${scale}'`);
  return scale;
}

export const dbStatsCommand: CommandDefinition = {
  name: 'dbStats',
  aliases: ['dbstats'],
  help: 'Get stats on a database. Not instantaneous. Slower for databases with large .ns files.\nExample: { dbStats:1, scale:1 }',
  kind: 'diagnostic',
  run(ctx) {
    const a = new CommandArgs('dbStats', ctx.body);
    a.rejectUnknown(['scale', 'freeStorage']);
    const scale = parseScale('dbStats', ctx.body.scale);
    a.bool('freeStorage');
    const s = databaseSizes(ctx.instance, ctx.db);
    const scaled = (n: number): Double => new Double(Math.floor(n / scale));
    return {
      db: ctx.db,
      collections: s.collections,
      views: s.views,
      objects: s.objects,
      avgObjSize: new Double(s.objects === 0 ? 0 : s.dataSize / s.objects),
      dataSize: scaled(s.dataSize),
      storageSize: scaled(s.dataSize),
      indexes: s.indexes,
      indexSize: scaled(s.indexSize),
      totalSize: scaled(s.dataSize + s.indexSize),
      scaleFactor: scale,
    } satisfies Document;
  },
};
