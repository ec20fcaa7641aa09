import { fail } from '../../base/index.js';
import { failSearchNotEnabled } from '../../query/aggregate/index.js';
import { CommandArgs, collectionNameArg } from '../args.js';
import type { CommandDefinition } from '../types.js';

const INDEX_DEFINITION_FIELDS = ['name', 'definition', 'type'];

export const createSearchIndexesCommand: CommandDefinition = {
  name: 'createSearchIndexes',
  help: 'Creates Atlas Search indexes. Only supported with Atlas: answers SearchNotEnabled after parsing its input.',
  kind: 'write',
  noWriteConcern: true,
  options: ['indexes'],
  run(ctx) {
    collectionNameArg('createSearchIndexes', ctx.body);
    const a = new CommandArgs('createSearchIndexes', ctx.body);
    a.rejectUnknown(['indexes']);
    const indexes = a.required('indexes', a.documentArray);
    // Each entry is an IDL struct (strict): mongod parses it before it looks for a search host.
    for (const index of indexes) {
      const ia = new CommandArgs('createSearchIndexes.indexes', index);
      for (const k of Object.keys(index)) {
        if (!INDEX_DEFINITION_FIELDS.includes(k)) fail('IDLUnknownField', `BSON field 'createSearchIndexes.indexes.${k}' is an unknown field.`);
      }
      ia.string('name');
      ia.required('definition', ia.document);
      ia.string('type');
    }
    return failSearchNotEnabled();
  },
};
