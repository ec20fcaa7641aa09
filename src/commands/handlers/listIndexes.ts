import { fail } from '../../base/index.js';
import type { Document } from '../../bson/index.js';
import { Collection } from '../../storage/index.js';
import { CommandArgs, collectionNameArg } from '../args.js';
import { cursorReply } from '../query-support.js';
import type { CommandDefinition } from '../types.js';
import { assertNotView } from '../views.js';
import { clusteredIndexEntry } from './create.js';

export const listIndexesCommand: CommandDefinition = {
  name: 'listIndexes',
  help: 'Lists a collection\'s index specifications, as a cursor.',
  kind: 'read',
  options: ['cursor.batchSize'],
  run(ctx) {
    const name = collectionNameArg('listIndexes', ctx.body);
    const a = new CommandArgs('listIndexes', ctx.body);
    a.rejectUnknown(['cursor', 'includeBuildUUIDs', 'includeIndexBuildInfo']);
    const cursorOpts = a.document('cursor') ?? {};
    const batchSize = new CommandArgs('listIndexes.cursor', cursorOpts).integer('batchSize');
    assertNotView(ctx.instance, ctx.db, name, ctx.transaction);
    const coll = ctx.instance.getCollection(ctx.db, name);
    if (!coll || !Collection.visibleTo(coll, ctx.transaction)) fail('NamespaceNotFound', `ns does not exist: ${ctx.db}.${name}`);
    const clustered = clusteredIndexEntry(coll.options);
    const specs: Document[] = [...coll.indexes.values()]
      .filter((i) => Collection.visibleTo(i, ctx.transaction))
      .map((i) => (clustered && i === coll.idIndex ? clustered : { ...i.spec }));
    return cursorReply(ctx, { ns: `${ctx.db}.${name}`, source: specs[Symbol.iterator](), txn: undefined, batchSize, singleBatch: false });
  },
};
