/**
 * listDatabases: every database that holds a collection, with its size. The filter is a match
 * expression over `{name, sizeOnDisk, empty}` (only `{name}` with nameOnly), evaluated by the
 * query layer's matcher as mongod does; totalSize sums the listed databases.
 */
import { fail } from '../../base/index.js';
import { Long, typeNameOf, type Document } from '../../bson/index.js';
import { matches, parseFilter } from '../../query/filter/index.js';
import { CommandArgs } from '../args.js';
import type { CommandDefinition } from '../types.js';
import { databaseSizes } from './dbStats.js';

const MB = 1024 * 1024;

export const listDatabasesCommand: CommandDefinition = {
  name: 'listDatabases',
  help: '{ listDatabases:1, [filter: <filterObject>] [, nameOnly: true ] }\nlist databases on this server',
  kind: 'read',
  adminOnly: true,
  run(ctx) {
    const a = new CommandArgs('listDatabases', ctx.body);
    a.rejectUnknown(['nameOnly', 'authorizedDatabases', 'filter']);
    const nameOnly = a.bool('nameOnly') ?? false;
    const authorized = ctx.body.authorizedDatabases;
    if (authorized !== undefined && typeof authorized !== 'boolean') {
      fail('TypeMismatch', `BSON field 'listDatabases.authorizedDatabases' is the wrong type '${typeNameOf(authorized)}', expected type 'bool'`);
    }
    const filterDoc = a.document('filter');
    const filter = filterDoc ? parseFilter(filterDoc) : undefined;
    const databases: Document[] = [];
    let totalSize = 0;
    for (const name of ctx.instance.engine.databaseNames()) {
      if (nameOnly) {
        const item = { name };
        if (!filter || matches(filter, item)) databases.push(item);
        continue;
      }
      const s = databaseSizes(ctx.instance, name);
      const size = s.dataSize + s.indexSize;
      const item = { name, sizeOnDisk: Long.fromNumber(size), empty: s.collections + s.views === 0 };
      if (filter && !matches(filter, item)) continue;
      totalSize += size;
      databases.push(item);
    }
    if (nameOnly) return { databases };
    return { databases, totalSize: Long.fromNumber(totalSize), totalSizeMb: Long.fromNumber(Math.floor(totalSize / MB)) };
  },
};
