import { failSearchNotEnabled } from '../../query/aggregate/index.js';
import { CommandArgs, collectionNameArg } from '../args.js';
import type { CommandDefinition } from '../types.js';

export const dropSearchIndexCommand: CommandDefinition = {
  name: 'dropSearchIndex',
  help: 'Drops an Atlas Search index. Only supported with Atlas: answers SearchNotEnabled after parsing its input.',
  kind: 'write',
  noWriteConcern: true,
  options: ['name', 'id'],
  run(ctx) {
    collectionNameArg('dropSearchIndex', ctx.body);
    const a = new CommandArgs('dropSearchIndex', ctx.body);
    a.rejectUnknown(['name', 'id']);
    a.string('name');
    a.string('id');
    return failSearchNotEnabled();
  },
};
