import { fail } from '../../base/index.js';
import { toJsNumber } from '../../bson/index.js';
import type { CommandDefinition } from '../types.js';

export const dropDatabaseCommand: CommandDefinition = {
  name: 'dropDatabase',
  help: 'Drops the current database and all its collections.',
  kind: 'write',
  options: [],
  run(ctx) {
    if (toJsNumber(ctx.body.dropDatabase) !== 1) {
      fail('IllegalOperation', 'have to pass 1 as db parameter');
    }
    if (ctx.db === 'local') fail('IllegalOperation', 'Cannot drop \'local\' database while replication is active');
    if (ctx.db === 'admin' || ctx.db === 'config') fail('IllegalOperation', `Dropping the '${ctx.db}' database is prohibited.`);
    const colls = [...(ctx.instance.engine.collectionsOf(ctx.db)?.values() ?? [])];
    for (const coll of colls) {
      ctx.instance.cursors.killWhere((c) => c.ns === coll.ns && !c.changeStream);
      ctx.instance.engine.dropCollection(coll);
    }
    if (colls.length > 0) ctx.instance.engine.databaseDropped(ctx.db);
    return { dropped: ctx.db };
  },
};
