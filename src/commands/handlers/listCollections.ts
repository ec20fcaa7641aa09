import type { Document } from '../../bson/index.js';
import { Collection } from '../../storage/index.js';
import { matches } from '../../query/filter/index.js';
import { CommandArgs } from '../args.js';
import { compileFilter, cursorReply } from '../query-support.js';
import type { CommandDefinition } from '../types.js';
import { describeView, listViews } from '../views.js';

function describe(coll: Collection, nameOnly: boolean): Document {
  // mongod 8.0 serves a time-series collection as a view over its buckets: no uuid of its own.
  const timeseries = coll.options.timeseries !== undefined;
  const type = timeseries ? 'timeseries' : 'collection';
  if (nameOnly) return { name: coll.name, type };
  const out: Document = { name: coll.name, type, options: { ...coll.options }, info: timeseries ? { readOnly: false } : { readOnly: false, uuid: coll.uuid } };
  // A clustered collection has no _id index of its own in mongod: its cluster key stands for it.
  if (coll.idIndex && coll.options.clusteredIndex === undefined) out.idIndex = { ...coll.idIndex.spec };
  return out;
}

export const listCollectionsCommand: CommandDefinition = {
  name: 'listCollections',
  help: 'Lists the collections of a database (filter, nameOnly), as a cursor.',
  kind: 'read',
  options: ['filter', 'nameOnly', 'authorizedCollections', 'cursor.batchSize'],
  run(ctx) {
    const a = new CommandArgs('listCollections', ctx.body);
    a.rejectUnknown(['filter', 'nameOnly', 'authorizedCollections', 'cursor', 'includePendingDrops']);
    const filter = compileFilter(a.document('filter'));
    const nameOnly = a.bool('nameOnly') ?? false;
    const cursorOpts = a.document('cursor') ?? {};
    const batchSize = new CommandArgs('listCollections.cursor', cursorOpts).integer('batchSize');
    const colls = [...(ctx.instance.engine.collectionsOf(ctx.db)?.values() ?? [])].filter((c) => Collection.visibleTo(c, ctx.transaction)).sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
    // The filter sees the full description even with nameOnly, as mongod evaluates it before trimming.
    const entries: Array<{ name: string; full: Document; shown: Document }> = colls.map((c) => ({ name: c.name, full: describe(c, false), shown: describe(c, nameOnly) }));
    for (const v of listViews(ctx.instance, ctx.db, ctx.transaction)) entries.push({ name: v.name, full: describeView(v, false), shown: describeView(v, nameOnly) });
    entries.sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
    const docs = entries.filter((e) => matches(filter, e.full)).map((e) => e.shown);
    return cursorReply(ctx, { ns: `${ctx.db}.$cmd.listCollections`, source: docs[Symbol.iterator](), txn: undefined, batchSize, singleBatch: false });
  },
};
