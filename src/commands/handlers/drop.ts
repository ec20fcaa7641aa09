import { CommandArgs, collectionNameArg } from '../args.js';
import { validateCollectionName } from '../namespaces.js';
import { fail } from '../../base/index.js';
import type { CommandDefinition } from '../types.js';
import { dropView } from '../views.js';

export const dropCommand: CommandDefinition = {
  name: 'drop',
  help: 'Drops a collection and its indexes (ok when it does not exist, as since 7.0).',
  kind: 'write',
  options: [],
  run(ctx) {
    const name = collectionNameArg('drop', ctx.body);
    validateCollectionName(ctx.db, name);
    new CommandArgs('drop', ctx.body).rejectUnknown([]);
    if (ctx.db === 'local' && name === 'oplog.rs') fail('IllegalOperation', 'can\'t drop live oplog while replicating');
    const coll = ctx.instance.getCollection(ctx.db, name);
    if (!coll) {
      if (dropView(ctx.instance, ctx.db, name)) return { ns: `${ctx.db}.${name}` };
      return {};
    }
    const nIndexesWas = coll.indexes.size;
    // A change stream outlives its collection: it reports the drop, then invalidates itself.
    ctx.instance.cursors.killWhere((c) => c.ns === coll.ns && !c.changeStream);
    ctx.instance.engine.dropCollection(coll);
    return { nIndexesWas, ns: `${ctx.db}.${name}` };
  },
};
