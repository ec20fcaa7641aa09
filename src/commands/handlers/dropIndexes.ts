import { fail } from '../../base/index.js';
import { compareValues, formatDocument, isDocument, typeNameOf } from '../../bson/index.js';
import type { IndexState } from '../../storage/index.js';
import { CommandArgs, collectionNameArg } from '../args.js';
import type { CommandDefinition } from '../types.js';
import { assertNotView } from '../views.js';

export const dropIndexesCommand: CommandDefinition = {
  name: 'dropIndexes',
  aliases: ['deleteIndexes'],
  help: 'Drops indexes by name, key pattern, list of names, or "*" (all but _id).',
  kind: 'write',
  options: ['index'],
  run(ctx) {
    const name = collectionNameArg(Object.keys(ctx.body)[0]!, ctx.body);
    const a = new CommandArgs('dropIndexes', ctx.body);
    a.rejectUnknown(['index']);
    const target = ctx.body.index;
    if (target === undefined) fail('IDLFailedToParse', "BSON field 'dropIndexes.index' is missing but a required field");
    assertNotView(ctx.instance, ctx.db, name, ctx.transaction);
    const coll = ctx.instance.getCollection(ctx.db, name);
    if (!coll) fail('NamespaceNotFound', `ns not found ${ctx.db}.${name}`);
    const nIndexesWas = coll.indexes.size;
    const all = [...coll.indexes.values()];
    let victims: IndexState[];
    if (target === '*') {
      victims = all.filter((i) => i.name !== '_id_');
    } else if (typeof target === 'string') {
      const found = coll.indexes.get(target);
      if (!found) fail('IndexNotFound', `index not found with name [${target}]`);
      victims = [found];
    } else if (Array.isArray(target)) {
      victims = target.map((n) => {
        if (typeof n !== 'string') fail('TypeMismatch', `dropIndexes: index names must be strings, got ${typeNameOf(n)}`);
        const found = coll.indexes.get(n);
        if (!found) fail('IndexNotFound', `index not found with name [${n}]`);
        return found;
      });
    } else if (isDocument(target)) {
      const matching = all.filter((i) => compareValues(i.spec.key, target) === 0);
      if (matching.length === 0) fail('IndexNotFound', `can't find index with key: ${formatDocument(target)}`);
      if (matching.length > 1) fail('AmbiguousIndexKeyPattern', `${matching.length} indexes found for key: ${formatDocument(target)}, identify by name instead. Conflicting indexes: ${matching.map((i) => formatDocument(i.spec)).join(', ')}`);
      victims = matching;
    } else {
      return fail('TypeMismatch', `BSON field 'dropIndexes.index' is the wrong type '${typeNameOf(target)}', expected types '[string, object, array]'`);
    }
    if (victims.some((i) => i.name === '_id_')) fail('InvalidOptions', 'cannot drop _id index');
    for (const i of victims) ctx.instance.engine.dropIndex(coll, i.name);
    return { nIndexesWas };
  },
};
