import { fail } from '../../base/index.js';
import { compareValues, isDocument, toJsNumber, typeNameOf, type Document } from '../../bson/index.js';
import { CommandArgs, collectionNameArg } from '../args.js';
import { buildCollectionHooks } from '../validation.js';
import { collectionOptionsFrom } from './create.js';
import type { CommandDefinition } from '../types.js';

export const collModCommand: CommandDefinition = {
  name: 'collMod',
  help: 'Changes collection options (validator, validationLevel, validationAction) and index options (hidden, expireAfterSeconds).',
  kind: 'write',
  options: ['validator', 'validationLevel', 'validationAction', 'index.hidden', 'index.expireAfterSeconds'],
  run(ctx) {
    const name = collectionNameArg('collMod', ctx.body);
    const a = new CommandArgs('collMod', ctx.body);
    a.rejectUnknown(['validator', 'validationLevel', 'validationAction', 'index', 'dryRun']);
    const coll = ctx.instance.getCollection(ctx.db, name);
    if (!coll) fail('NamespaceNotFound', `ns does not exist: ${ctx.db}.${name}`);
    ctx.instance.engine.assertWritable();
    const reply: Document = {};
    const index = a.document('index');
    if (index) {
      const ia = new CommandArgs('collMod.index', index);
      ia.rejectUnknown(['keyPattern', 'name', 'hidden', 'expireAfterSeconds', 'unique', 'prepareUnique', 'forceNonUnique']);
      const byName = ia.string('name');
      const byKey = ia.document('keyPattern');
      if ((byName === undefined) === (byKey === undefined)) fail('InvalidOptions', 'must specify either index name or key pattern');
      const target = [...coll.indexes.values()].find((i) => (byName !== undefined ? i.name === byName : compareValues(i.spec.key, byKey) === 0));
      if (!target) fail('IndexNotFound', `cannot find index ${byName ?? JSON.stringify(byKey)} for ns ${coll.ns}`);
      if (index.unique !== undefined || index.prepareUnique !== undefined || index.forceNonUnique !== undefined) fail('InvalidOptions', 'Dossier does not support converting indexes to unique yet');
      const hidden = ia.bool('hidden');
      if (hidden !== undefined) {
        if (target.name === '_id_') fail('BadValue', "can't hide _id index");
        reply.hidden_old = target.spec.hidden === true;
        reply.hidden_new = hidden;
        if (hidden) target.spec.hidden = true;
        else delete target.spec.hidden;
      }
      if (index.expireAfterSeconds !== undefined) {
        const t = typeNameOf(index.expireAfterSeconds);
        if (!['int', 'long', 'double', 'decimal'].includes(t)) fail('TypeMismatch', `BSON field 'collMod.index.expireAfterSeconds' is the wrong type '${t}', expected types '[long, int, decimal, double]'`);
        // Since 5.1 mongod turns a non-TTL single-field index into a TTL index here.
        if (target.spec.expireAfterSeconds === undefined) {
          if (target.name === '_id_') fail('InvalidOptions', 'the _id field does not support TTL indexes');
          if (target.fields.length !== 1) fail('InvalidOptions', 'TTL indexes are single-field indexes, compound indexes do not support TTL');
        } else {
          reply.expireAfterSeconds_old = target.spec.expireAfterSeconds;
        }
        reply.expireAfterSeconds_new = Math.trunc(toJsNumber(index.expireAfterSeconds));
        target.spec.expireAfterSeconds = reply.expireAfterSeconds_new;
      }
    }
    const changed = collectionOptionsFrom({ create: name, ...Object.fromEntries(['validator', 'validationLevel', 'validationAction'].filter((k) => ctx.body[k] !== undefined).map((k) => [k, ctx.body[k]])) });
    if (Object.keys(changed).length > 0) {
      const options = { ...coll.options, ...changed };
      if (isDocument(changed.validator) && Object.keys(changed.validator).length === 0) delete options.validator;
      coll.options = options;
      buildCollectionHooks(coll);
    }
    if (index || Object.keys(changed).length > 0) ctx.instance.engine.collectionModified(coll, index ? { ...changed, index } : changed);
    return reply;
  },
};
