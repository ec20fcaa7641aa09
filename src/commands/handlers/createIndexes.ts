import { fail } from '../../base/index.js';
import type { Document } from '../../bson/index.js';
import { CommandArgs, collectionNameArg } from '../args.js';
import { matchExisting, normalizeIndexSpec } from '../index-specs.js';
import { partialFilterOf } from '../validation.js';
import { checkWritableNamespace } from '../write-batch.js';
import type { CommandDefinition } from '../types.js';
import { assertNotView } from '../views.js';

export const createIndexesCommand: CommandDefinition = {
  name: 'createIndexes',
  help: 'Builds indexes: single-field and compound, unique, sparse, partial, TTL, hidden.',
  kind: 'write',
  allowedInTransaction: true,
  options: ['indexes', 'commitQuorum'],
  run(ctx) {
    const name = collectionNameArg('createIndexes', ctx.body);
    checkWritableNamespace(ctx.db, name);
    const a = new CommandArgs('createIndexes', ctx.body);
    a.rejectUnknown(['indexes', 'commitQuorum', 'ignoreUnknownIndexOptions', 'isTimeseriesNamespace']);
    const raw = a.required('indexes', a.array);
    if (raw.length === 0) fail('BadValue', 'Must specify at least one index to create');
    assertNotView(ctx.instance, ctx.db, name, ctx.transaction);
    const existingColl = ctx.instance.getCollection(ctx.db, name);
    const specs = raw.map((r) => normalizeIndexSpec(r, existingColl?.defaultCollator ?? null));
    const names = new Set<string>();
    for (const s of specs) {
      if (names.has(s.name)) fail('IndexKeySpecsConflict', `Index with name: ${s.name} already exists with a different key`);
      names.add(s.name);
    }
    const { instance } = ctx;
    const createdCollectionAutomatically = !instance.getCollection(ctx.db, name);
    const coll = instance.ensureCollection(ctx.db, name, ctx.transaction);
    const numIndexesBefore = coll.indexes.size;
    const toBuild = specs.filter((s) => matchExisting(s, [...coll.indexes.values()].map((i) => i.spec)) === 'new');
    for (const spec of toBuild) {
      const index = instance.engine.createIndex(coll, spec, partialFilterOf(spec));
      const txn = ctx.transaction;
      if (txn) {
        // Built inside a transaction: listed for others at commit, dropped on abort.
        index.createdBy = txn;
        txn.onAbort(() => {
          if (coll.indexes.get(spec.name) === index) instance.engine.dropIndex(coll, spec.name);
        });
      }
    }
    const reply: Document = { numIndexesBefore, numIndexesAfter: coll.indexes.size, createdCollectionAutomatically };
    if (toBuild.length === 0) reply.note = 'all indexes already exist';
    return reply;
  },
};
