import { DossierError, ErrorCodes, fail } from '../../base/index.js';
import { compareValues, formatDocument, isDocument, toJsNumber, typeNameOf, type BsonValue, type Document } from '../../bson/index.js';
import { compareKeys, type Collection, type IndexState, type IndexKey } from '../../storage/index.js';
import { CommandArgs, collectionNameArg } from '../args.js';
import { buildCollectionHooks } from '../validation.js';
import { isGenericArgument } from '../generic.js';
import { lookupView, modifyView, type ViewDefinition } from '../views.js';
import { collectionOptionsFrom, preAndPostImagesOption, viewPipelineValidator } from './create.js';
import type { CommandContext, CommandDefinition } from '../types.js';

const INDEX_FIELDS = ['keyPattern', 'name', 'hidden', 'expireAfterSeconds', 'unique', 'prepareUnique', 'forceNonUnique'];

/**
 * The _ids of the documents that share a key in `index`, one group per key, in key order
 * (mongod's scanIndexForDuplicates over the latest committed documents).
 */
function duplicateGroups(coll: Collection, index: IndexState): BsonValue[][] {
  const groups: BsonValue[][] = [];
  let prev: { key: IndexKey; id: BsonValue } | undefined;
  let current: BsonValue[] = [];
  const flush = (): void => {
    if (current.length > 1) groups.push(current);
    current = [];
  };
  for (const [entry] of index.tree.entries()) {
    const doc = coll.records.get(entry.rid)?.latest()?.doc ?? null;
    // The tree also holds keys of older versions until they are reconciled.
    if (!doc || !index.hasKey(doc, entry.key)) continue;
    if (prev && compareKeys(prev.key, entry.key, index.fields) === 0) {
      if (current.length === 0) current.push(prev.id);
      current.push(doc._id);
    } else {
      flush();
    }
    prev = { key: entry.key, id: doc._id };
  }
  flush();
  return groups;
}

function failCannotConvert(groups: BsonValue[][]): never {
  throw new DossierError(ErrorCodes.CannotConvertIndexToUnique, 'Cannot convert the index to unique. Please resolve conflicting documents before running collMod again.', {
    extra: { violations: groups.map((ids) => ({ ids })) },
  });
}

/** collMod of a view: only `viewOn` and `pipeline` change, as in mongod. */
function modifyViewCommand(ctx: CommandContext, view: ViewDefinition): Document {
  for (const k of Object.keys(ctx.body)) {
    if (k === 'collMod' || k === 'viewOn' || k === 'pipeline' || isGenericArgument(k)) continue;
    fail('InvalidOptions', `option not supported on a view: ${k}`);
  }
  modifyView(ctx.instance, view, { viewOn: ctx.body.viewOn, pipeline: ctx.body.pipeline }, viewPipelineValidator(ctx, view.name));
  return {};
}

export const collModCommand: CommandDefinition = {
  name: 'collMod',
  help: "Changes collection options (validator, validationLevel, validationAction, changeStreamPreAndPostImages), index options (hidden, expireAfterSeconds, prepareUnique, unique, forceNonUnique), and a view's viewOn and pipeline.",
  kind: 'write',
  options: ['validator', 'validationLevel', 'validationAction', 'changeStreamPreAndPostImages', 'dryRun', 'viewOn', 'pipeline', 'index.hidden', 'index.expireAfterSeconds', 'index.prepareUnique', 'index.unique', 'index.forceNonUnique'],
  run(ctx) {
    const name = collectionNameArg('collMod', ctx.body);
    const a = new CommandArgs('collMod', ctx.body);
    a.rejectUnknown(['validator', 'validationLevel', 'validationAction', 'index', 'dryRun', 'changeStreamPreAndPostImages', 'viewOn', 'pipeline']);
    const view = lookupView(ctx.instance, ctx.db, name);
    if (view) return modifyViewCommand(ctx, view);
    for (const k of ['viewOn', 'pipeline']) if (ctx.body[k] !== undefined) fail('InvalidOptions', `option only supported on a view: ${k}`);
    const index = a.document('index');
    const dryRun = a.bool('dryRun') ?? false;
    if (dryRun) {
      // mongod's dry run only checks a unique conversion, before anything else.
      if (!index) fail('InvalidOptions', 'dry run mode requires an valid index modification.');
      if (index.unique !== true) fail('InvalidOptions', 'dry run mode requires an index modification with unique: true.');
    }
    const coll = ctx.instance.getCollection(ctx.db, name);
    if (!coll) fail('NamespaceNotFound', index?.unique === true ? `ns does not exist for unique index conversion: ${ctx.db}.${name}` : `ns does not exist: ${ctx.db}.${name}`);
    if (!dryRun) ctx.instance.engine.assertWritable();
    const reply: Document = {};
    let modifications = 0;
    const images = a.document('changeStreamPreAndPostImages');
    const enableImages = images === undefined ? undefined : preAndPostImagesOption('collMod', images);
    if (enableImages !== undefined) modifications++;
    for (const k of ['validator', 'validationLevel', 'validationAction']) if (ctx.body[k] !== undefined) modifications++;
    const indexChanges: Array<() => void> = [];
    if (index) {
      const ia = new CommandArgs('collMod.index', index);
      for (const k of Object.keys(index)) if (!INDEX_FIELDS.includes(k)) fail('IDLUnknownField', `BSON field 'collMod.index.${k}' is an unknown field.`);
      const byName = ia.string('name');
      const byKey = ia.document('keyPattern');
      const hidden = ia.bool('hidden');
      const unique = ia.bool('unique');
      const prepareUnique = ia.bool('prepareUnique');
      const forceNonUnique = ia.bool('forceNonUnique');
      if (byName !== undefined && byKey !== undefined) fail('InvalidOptions', 'Cannot specify both key pattern and name.');
      if (byName === undefined && byKey === undefined) fail('InvalidOptions', 'Must specify either index name or key pattern.');
      if (index.expireAfterSeconds === undefined && hidden === undefined && unique === undefined && prepareUnique === undefined && forceNonUnique === undefined) {
        fail('InvalidOptions', 'no expireAfterSeconds, hidden, unique, or prepareUnique field');
      }
      if (unique !== undefined && forceNonUnique !== undefined) fail('InvalidOptions', "collMod does not support 'unique' and 'forceNonUnique' options at the same time");
      const clustered = coll.options.clusteredIndex;
      if (hidden !== undefined && isDocument(clustered) && ((byName !== undefined && byName === clustered.name) || (byKey !== undefined && compareValues(byKey, clustered.key) === 0))) {
        throw new DossierError(6011800, "The 'hidden' option is not supported for a clusteredIndex");
      }
      const matching = [...coll.indexes.values()].filter((i) => (byName !== undefined ? i.name === byName : compareValues(i.spec.key, byKey) === 0));
      if (matching.length > 1) {
        fail('AmbiguousIndexKeyPattern', `index keyPattern ${formatDocument(byKey!)} matches ${matching.length} indexes, must use index name. Conflicting indexes:${formatDocument(matching[0]!.spec)}, ${formatDocument(matching[1]!.spec)}`);
      }
      const target = matching[0];
      if (!target) fail('IndexNotFound', `cannot find index ${byName ?? formatDocument(byKey!)} for ns ${coll.ns}`);
      if (index.expireAfterSeconds !== undefined) {
        modifications++;
        const t = typeNameOf(index.expireAfterSeconds);
        if (!['int', 'long', 'double', 'decimal'].includes(t)) fail('TypeMismatch', `BSON field 'collMod.index.expireAfterSeconds' is the wrong type '${t}', expected types '[long, int, decimal, double]'`);
        // Since 5.1 mongod turns a non-TTL single-field index into a TTL index here.
        if (target.spec.expireAfterSeconds === undefined) {
          if (target.name === '_id_') fail('InvalidOptions', 'the _id field does not support TTL indexes');
          if (target.fields.length !== 1) fail('InvalidOptions', 'TTL indexes are single-field indexes, compound indexes do not support TTL');
        }
        const next = Math.trunc(toJsNumber(index.expireAfterSeconds));
        indexChanges.push(() => {
          if (target.spec.expireAfterSeconds !== undefined) reply.expireAfterSeconds_old = target.spec.expireAfterSeconds;
          reply.expireAfterSeconds_new = next;
          target.spec.expireAfterSeconds = next;
        });
      }
      let convertToUnique = false;
      if (unique !== undefined) {
        modifications++;
        if (!unique) fail('BadValue', 'Cannot make index non-unique');
        // Already unique: a no-op. Otherwise only in two steps, prepareUnique first.
        if (!target.unique) {
          if (target.spec.prepareUnique !== true) fail('InvalidOptions', "Cannot make index unique with 'prepareUnique=false'. Run collMod to set it first.");
          convertToUnique = true;
          indexChanges.push(() => {
            target.spec.unique = true;
            delete target.spec.prepareUnique;
            reply.unique_new = true;
          });
        }
      }
      if (hidden !== undefined) {
        modifications++;
        if (target.name === '_id_') fail('BadValue', "can't hide _id index");
        // Hiding a hidden index (or showing a visible one) is a no-op with no hidden_old/new.
        if ((target.spec.hidden === true) !== hidden) indexChanges.push(() => {
          reply.hidden_old = target.spec.hidden === true;
          reply.hidden_new = hidden;
          if (hidden) target.spec.hidden = true;
          else delete target.spec.hidden;
        });
      }
      if (prepareUnique !== undefined) {
        modifications++;
        // Setting the value it has, or on an index that is unique already, changes nothing.
        if ((target.spec.prepareUnique === true) !== prepareUnique && !target.unique) {
          indexChanges.push(() => {
            reply.prepareUnique_old = target.spec.prepareUnique === true;
            reply.prepareUnique_new = prepareUnique;
            if (prepareUnique) target.spec.prepareUnique = true;
            else delete target.spec.prepareUnique;
          });
        }
      }
      if (forceNonUnique !== undefined) {
        modifications++;
        if (!forceNonUnique) fail('BadValue', "'forceNonUnique: false' is not supported");
        if (target.name === '_id_') fail('InvalidOptions', 'The _id index cannot be non-unique');
        if (target.unique) {
          indexChanges.push(() => {
            delete target.spec.unique;
            reply.forceNonUnique_new = true;
          });
        }
      }
      if (prepareUnique !== undefined && modifications > 1) fail('InvalidOptions', 'prepareUnique cannot be combined with any other modification.');
      if (dryRun && modifications > 1) fail('InvalidOptions', 'unique: true cannot be combined with any other modification in dry run mode.');
      if (convertToUnique) {
        const groups = duplicateGroups(coll, target);
        if (groups.length > 0) failCannotConvert(groups);
      }
      if (dryRun) return reply;
    }
    const changed = collectionOptionsFrom({ create: name, ...Object.fromEntries(['validator', 'validationLevel', 'validationAction'].filter((k) => ctx.body[k] !== undefined).map((k) => [k, ctx.body[k]])) });
    for (const change of indexChanges) change();
    if (Object.keys(changed).length > 0 || enableImages !== undefined) {
      const options = { ...coll.options, ...changed };
      if (isDocument(changed.validator) && Object.keys(changed.validator).length === 0) delete options.validator;
      if (enableImages === true) options.changeStreamPreAndPostImages = { enabled: true };
      if (enableImages === false) delete options.changeStreamPreAndPostImages;
      coll.options = options;
      buildCollectionHooks(coll);
    }
    // mongod logs a collMod entry even when nothing changed (change streams report it as `modify`).
    const logged: Document = index ? { ...changed, index } : { ...changed };
    if (enableImages !== undefined) logged.changeStreamPreAndPostImages = { enabled: enableImages };
    ctx.instance.engine.collectionModified(coll, logged);
    return reply;
  },
};
