import { fail } from '../../base/index.js';
import { typeNameOf, type Long } from '../../bson/index.js';
import { CommandArgs, collectionNameArg } from '../args.js';
import type { CommandDefinition } from '../types.js';

export const killCursorsCommand: CommandDefinition = {
  name: 'killCursors',
  help: 'Closes cursors by id.',
  kind: 'read',
  allowedInTransaction: true,
  options: ['cursors'],
  run(ctx) {
    const collection = collectionNameArg('killCursors', ctx.body);
    const a = new CommandArgs('killCursors', ctx.body);
    a.rejectUnknown(['cursors']);
    const ids = a.required('cursors', a.array);
    const ns = `${ctx.db}.${collection}`;
    const killed: Long[] = [];
    const notFound: Long[] = [];
    ids.forEach((v, i) => {
      if (typeNameOf(v) !== 'long') fail('TypeMismatch', `BSON field 'killCursors.cursors.${i}' is the wrong type '${typeNameOf(v)}', expected type 'long'`);
      const id = (v as Long).toBigInt();
      const c = ctx.instance.cursors.get(id);
      if (c && c.ns === ns && ctx.instance.cursors.kill(id)) killed.push(v);
      else notFound.push(v);
    });
    return { cursorsKilled: killed, cursorsNotFound: notFound, cursorsAlive: [], cursorsUnknown: [] };
  },
};
