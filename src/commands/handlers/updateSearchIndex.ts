import { failSearchNotEnabled } from '../../query/aggregate/index.js';
import { CommandArgs, collectionNameArg } from '../args.js';
import type { CommandDefinition } from '../types.js';

export const updateSearchIndexCommand: CommandDefinition = {
  name: 'updateSearchIndex',
  help: 'Updates an Atlas Search index. Only supported with Atlas: answers SearchNotEnabled after parsing its input.',
  kind: 'write',
  noWriteConcern: true,
  options: ['name', 'id', 'definition'],
  run(ctx) {
    collectionNameArg('updateSearchIndex', ctx.body);
    const a = new CommandArgs('updateSearchIndex', ctx.body);
    a.rejectUnknown(['name', 'id', 'definition']);
    a.string('name');
    a.string('id');
    a.required('definition', a.document);
    return failSearchNotEnabled();
  },
};
