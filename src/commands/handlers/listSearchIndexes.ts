import { failSearchNotEnabled } from '../../query/aggregate/index.js';
import { CommandArgs, collectionNameArg } from '../args.js';
import type { CommandDefinition } from '../types.js';

/** The command form; drivers use the $listSearchIndexes stage, which answers the same. */
export const listSearchIndexesCommand: CommandDefinition = {
  name: 'listSearchIndexes',
  help: 'Lists Atlas Search indexes. Only supported with Atlas: answers SearchNotEnabled after parsing its input.',
  // mongod declares it a write (ReadWriteType::kWrite) that takes no write concern.
  kind: 'write',
  noWriteConcern: true,
  options: ['name', 'id'],
  run(ctx) {
    collectionNameArg('listSearchIndexes', ctx.body);
    const a = new CommandArgs('listSearchIndexes', ctx.body);
    a.rejectUnknown(['name', 'id']);
    a.string('name');
    a.string('id');
    return failSearchNotEnabled();
  },
};
