/**
 * collStats (deprecated in favour of $collStats, still sent by mongosh's db.coll.stats() and many
 * tools): counts and sizes of one collection, computed as dbStats does (see dbStats.ts).
 */
import { fail } from '../../base/index.js';
import type { Document } from '../../bson/index.js';
import { CommandArgs, collectionNameArg } from '../args.js';
import { validateCollectionName } from '../namespaces.js';
import type { CommandDefinition } from '../types.js';
import { collectionSizes, isView, parseScale } from './dbStats.js';

export const collStatsCommand: CommandDefinition = {
  name: 'collStats',
  aliases: ['collstats'],
  help: '{ collStats:"blog.posts" , scale : 1 } scale divides sizes e.g. for KB use 1024\n    avgObjSize - in bytes',
  kind: 'diagnostic',
  run(ctx) {
    const name = collectionNameArg('collStats', ctx.body);
    validateCollectionName(ctx.db, name);
    const a = new CommandArgs('collStats', ctx.body);
    const scale = parseScale('collStats', ctx.body.scale);
    a.bool('verbose');
    const ns = `${ctx.db}.${name}`;
    const coll = ctx.instance.getCollection(ctx.db, name);
    if (!coll) fail('NamespaceNotFound', `Collection [${ns}] not found.`);
    if (isView(coll)) fail('CommandNotSupportedOnView', `Namespace ${ns} is a view, not a collection`);
    const s = collectionSizes(ctx.instance, coll);
    const scaled = (n: number): number => Math.floor(n / scale);
    const indexSizes: Document = {};
    for (const [indexName, size] of s.indexSizes) indexSizes[indexName] = scaled(size);
    const reply: Document = {
      ns,
      size: scaled(s.dataSize),
      count: s.count,
      avgObjSize: s.count === 0 ? 0 : Math.floor(s.dataSize / s.count),
      numOrphanDocs: 0,
      storageSize: scaled(s.dataSize),
      freeStorageSize: 0,
      capped: coll.options.capped === true,
      nindexes: coll.indexes.size,
      indexBuilds: [],
      totalIndexSize: scaled(s.totalIndexSize),
      totalSize: scaled(s.dataSize + s.totalIndexSize),
      indexSizes,
      scaleFactor: scale,
    };
    if (coll.options.capped === true) {
      if (coll.options.max !== undefined) reply.max = coll.options.max;
      if (coll.options.size !== undefined) reply.maxSize = scaled(Number(coll.options.size));
    }
    return reply;
  },
};
