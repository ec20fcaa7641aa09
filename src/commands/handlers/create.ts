import { fail } from '../../base/index.js';
import { compareValues, formatDocument, isDocument, typeNameOf, type Document } from '../../bson/index.js';
import { CommandArgs, collectionNameArg } from '../args.js';
import { validateCollectionName } from '../namespaces.js';
import { buildCollectionHooks, compilePredicate } from '../validation.js';
import type { CommandDefinition } from '../types.js';

const SUPPORTED = ['validator', 'validationLevel', 'validationAction', 'idIndex', 'storageEngine', 'indexOptionDefaults', 'collation', 'autoIndexId', 'flags'];
const UNSUPPORTED = ['capped', 'size', 'max', 'viewOn', 'pipeline', 'timeseries', 'clusteredIndex', 'expireAfterSeconds', 'changeStreamPreAndPostImages', 'encryptedFields', 'recordIdsReplicated'];

/** The options a collection keeps, as listCollections shows them. */
export function collectionOptionsFrom(body: Document): Document {
  const a = new CommandArgs('create', body);
  const options: Document = {};
  const validator = a.document('validator');
  if (validator !== undefined) {
    compilePredicate(validator);
    options.validator = validator;
  }
  const level = a.string('validationLevel');
  if (level !== undefined) {
    if (!['off', 'strict', 'moderate'].includes(level)) fail('BadValue', `Enumeration value '${level}' for field 'create.validationLevel' is not a valid value.`);
    options.validationLevel = level;
  }
  const action = a.string('validationAction');
  if (action !== undefined) {
    if (!['error', 'warn', 'errorAndLog'].includes(action)) fail('BadValue', `Enumeration value '${action}' for field 'create.validationAction' is not a valid value.`);
    options.validationAction = action;
  }
  return options;
}

export const createCommand: CommandDefinition = {
  name: 'create',
  help: 'Creates a collection with options (validator, validationLevel, validationAction).',
  kind: 'write',
  allowedInTransaction: true,
  options: [...SUPPORTED],
  run(ctx) {
    const name = collectionNameArg('create', ctx.body);
    validateCollectionName(ctx.db, name, { forWrite: true });
    const a = new CommandArgs('create', ctx.body);
    a.rejectUnknown([...SUPPORTED, ...UNSUPPORTED]);
    for (const k of UNSUPPORTED) {
      if (ctx.body[k] === undefined || ctx.body[k] === false) continue;
      fail('InvalidOptions', `The '${k}' option of create is not supported by Dossier yet${k === 'capped' || k === 'size' || k === 'max' ? ' (capped collections)' : k === 'viewOn' || k === 'pipeline' ? ' (views)' : ''}`);
    }
    if (ctx.body.collation !== undefined && (!isDocument(ctx.body.collation) || (Object.keys(ctx.body.collation).length > 0 && ctx.body.collation.locale !== 'simple'))) {
      fail('NotImplemented', 'Dossier does not support collations other than { locale: "simple" } yet');
    }
    if (ctx.body.idIndex !== undefined && !isDocument(ctx.body.idIndex)) fail('TypeMismatch', `BSON field 'create.idIndex' is the wrong type '${typeNameOf(ctx.body.idIndex)}', expected type 'object'`);
    const options = collectionOptionsFrom(ctx.body);
    const existing = ctx.instance.getCollection(ctx.db, name);
    if (existing) {
      // Since 7.0 mongod answers ok when the same collection with the same options exists.
      if (compareValues(existing.options, options) === 0) return {};
      fail('NamespaceExists', `namespace ${ctx.db}.${name} already exists, but with different options: ${formatDocument(existing.options)}`);
    }
    const coll = ctx.instance.engine.createCollection(ctx.db, name, options);
    buildCollectionHooks(coll);
    if (ctx.transaction) ctx.instance.createInTransaction(coll, ctx.transaction);
    return {};
  },
};
