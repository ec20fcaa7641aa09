import { fail, failLocation } from '../../base/index.js';
import { Long, collationDocument, compareValues, formatDocument, formatValue, isDocument, parseCollationArgument, typeNameOf, type BsonValue, type Document } from '../../bson/index.js';
import type { IndexSpec } from '../../storage/index.js';
import { CommandArgs, collectionNameArg } from '../args.js';
import { isGenericArgument } from '../generic.js';
import { validateCollectionName } from '../namespaces.js';
import { buildCollectionHooks, compilePredicate } from '../validation.js';
import type { CommandContext, CommandDefinition } from '../types.js';
import { createView, lookupView, type PipelineValidator } from '../views.js';
import { parsePipelineStages, Scope } from '../../query/aggregate/index.js';

const SUPPORTED = [
  'viewOn', 'pipeline', 'validator', 'validationLevel', 'validationAction', 'idIndex', 'storageEngine', 'indexOptionDefaults', 'collation', 'autoIndexId', 'flags',
  'clusteredIndex', 'changeStreamPreAndPostImages', 'timeseries', 'expireAfterSeconds', 'capped', 'size', 'max',
];
const UNSUPPORTED = ['encryptedFields', 'recordIdsReplicated'];
/** Options a view takes besides its definition; any other collection option is refused with it. */
const VIEW_OPTIONS = new Set(['viewOn', 'pipeline', 'collation']);
const ONE_PB = 1024 * 1024 * 1024 * 1024 * 1024;

/**
 * `capped`, `size`, `max` as mongod's CollectionOptions reads them: the size is rounded up to a
 * multiple of 256 bytes, and size and max count only for a capped collection.
 */
function cappedOptions(a: CommandArgs, out: Document): void {
  const capped = a.bool('capped') ?? false;
  const size = a.number('size');
  const max = a.number('max');
  if (size !== undefined) {
    if (size < 0) fail('BadValue', 'size has to be >= 0');
    if (size > ONE_PB) fail('BadValue', 'size cannot exceed 1 PB');
  }
  if (max !== undefined && max >= 2 ** 31) fail('BadValue', 'max in a capped collection has to be < 2^31 or not set');
  if (!capped) return;
  if (size === undefined) fail('InvalidOptions', "the 'size' field is required when 'capped' is true");
  const rounded = Math.ceil(Math.trunc(size) / 256) * 256;
  out.capped = true;
  out.size = rounded <= 0x7fffffff ? rounded : Long.fromNumber(rounded);
  if (max !== undefined && Math.trunc(max) > 0) out.max = Math.trunc(max);
}

/** bucketMaxSpanSeconds by granularity (timeseries_options.cpp). */
const MAX_SPAN_BY_GRANULARITY: Record<string, number> = { seconds: 3600, minutes: 86400, hours: 2592000 };
const ROUNDING_BY_GRANULARITY: Record<string, number> = { seconds: 60, minutes: 3600, hours: 86400 };
const MAX_BUCKETING_SECONDS = 31536000;

/**
 * The `timeseries` option, validated and completed as mongod's validateAndSetBucketingParameters
 * does, in the form listCollections shows: a granularity with its bucketMaxSpanSeconds, or the two
 * custom bucketing parameters.
 */
function timeseriesOption(v: Document): Document {
  const a = new CommandArgs('create.timeseries', v);
  const fields = ['timeField', 'metaField', 'granularity', 'bucketRoundingSeconds', 'bucketMaxSpanSeconds'];
  for (const k of Object.keys(v)) if (!fields.includes(k)) fail('IDLUnknownField', `BSON field 'create.timeseries.${k}' is an unknown field.`);
  const timeField = a.required('timeField', a.string);
  const metaField = a.string('metaField');
  const granularity = a.string('granularity');
  if (granularity !== undefined && MAX_SPAN_BY_GRANULARITY[granularity] === undefined) {
    fail('BadValue', `Enumeration value '${granularity}' for field 'create.timeseries.granularity' is not a valid value.`);
  }
  const bucketing = (field: string): number | undefined => {
    const n = a.integer(field);
    if (n !== undefined && (n < 1 || n > MAX_BUCKETING_SECONDS)) {
      fail('BadValue', `BSON field 'create.timeseries.${field}' value must be ${n < 1 ? `>= 1, actual value '${n}'` : `<= ${MAX_BUCKETING_SECONDS}, actual value '${n}'`}`);
    }
    return n;
  };
  const rounding = bucketing('bucketRoundingSeconds');
  const maxSpan = bucketing('bucketMaxSpanSeconds');
  const out: Document = { timeField };
  if (metaField !== undefined) out.metaField = metaField;
  if (granularity !== undefined) {
    if (maxSpan !== undefined && maxSpan !== MAX_SPAN_BY_GRANULARITY[granularity]) {
      fail('InvalidOptions', `Timeseries 'bucketMaxSpanSeconds' is not configurable to a value other than the default of ${MAX_SPAN_BY_GRANULARITY[granularity]} for the provided granularity`);
    }
    if (rounding !== undefined && rounding !== ROUNDING_BY_GRANULARITY[granularity]) {
      fail('InvalidOptions', `Timeseries 'bucketRoundingSeconds' is not configurable to a value other than the default of ${ROUNDING_BY_GRANULARITY[granularity]} for the provided granularity`);
    }
    out.granularity = granularity;
    out.bucketMaxSpanSeconds = MAX_SPAN_BY_GRANULARITY[granularity]!;
    return out;
  }
  if ((maxSpan === undefined) !== (rounding === undefined)) {
    fail('InvalidOptions', "Timeseries 'bucketMaxSpanSeconds' and 'bucketRoundingSeconds' need to be set alongside each other");
  }
  if (maxSpan === undefined) {
    out.granularity = 'seconds';
    out.bucketMaxSpanSeconds = MAX_SPAN_BY_GRANULARITY.seconds!;
    return out;
  }
  if (rounding !== maxSpan) fail('InvalidOptions', "Timeseries 'bucketRoundingSeconds' needs to be equal to 'bucketMaxSpanSeconds'");
  out.bucketRoundingSeconds = rounding;
  out.bucketMaxSpanSeconds = maxSpan;
  return out;
}

/** What create may say beside `timeseries` (timeseries::kAllowedCollectionCreationOptions). */
const TIMESERIES_COMPANIONS = ['timeseries', 'expireAfterSeconds', 'storageEngine', 'indexOptionDefaults', 'collation', 'temp'];

/** mongod's create checks of a time-series request, made before the options are parsed. */
function checkTimeseriesCreate(ns: string, body: Document, ts: Document): void {
  for (const k of Object.keys(body).slice(1)) {
    if (isGenericArgument(k) || TIMESERIES_COMPANIONS.includes(k) || (k === 'capped' && body.capped === false)) continue;
    fail('InvalidOptions', `${ns}: 'timeseries' is not allowed with '${k}'`);
  }
  const topLevel = (field: string): string => `${ns}: '${field}' must be a top-level field and not contain a '.'`;
  if (typeof ts.timeField === 'string' && ts.timeField.includes('.')) fail('InvalidOptions', topLevel('timeField'));
  if (typeof ts.metaField === 'string') {
    if (ts.metaField === '_id') fail('InvalidOptions', `'metaField' cannot be "_id"`);
    if (ts.metaField === ts.timeField) fail('InvalidOptions', "'metaField' cannot be the same as 'timeField'");
    if (ts.metaField.includes('.')) fail('InvalidOptions', topLevel('metaField'));
  }
  if ((typeof ts.timeField === 'string' && ts.timeField.startsWith('$')) || (typeof ts.metaField === 'string' && ts.metaField.startsWith('$'))) {
    fail('BadValue', "The 'timeField' or 'metaField' cannot start with '$'");
  }
}

/** The name of the time field of a time-series collection, if it is one. */
export function timeFieldOf(options: Document): string | undefined {
  const ts = options.timeseries;
  return isDocument(ts) && typeof ts.timeField === 'string' ? ts.timeField : undefined;
}

/**
 * `changeStreamPreAndPostImages: { enabled }` (an IDL struct). mongod keeps the option only while
 * enabled: a collection created or modified with `enabled: false` lists no such option.
 */
export function preAndPostImagesOption(commandName: string, v: Document): boolean {
  const a = new CommandArgs(`${commandName}.changeStreamPreAndPostImages`, v);
  for (const k of Object.keys(v)) if (k !== 'enabled') fail('IDLUnknownField', `BSON field '${commandName}.changeStreamPreAndPostImages.${k}' is an unknown field.`);
  return a.required('enabled', a.bool);
}

/**
 * mongod's clustered collections (clustered_util and validateClusteredIndexSpec): only a unique
 * `{_id: 1}` cluster key on a user collection; the canonical spec is what listCollections shows.
 * Dossier's records are not stored in _id order, but the collection's _id index gives the same
 * answers, and listIndexes shows it as the clustered index.
 */
function clusteredIndexOption(v: BsonValue, body: Document): Document | undefined {
  if (typeof v === 'boolean') {
    if (!v) return undefined;
    failLocation(5979703, "The 'clusteredIndex' legacy format {clusteredIndex: <bool>} is only supported for specific internal collections and vice versa");
  }
  if (!isDocument(v)) failLocation(5979702, "'clusteredIndex' has to be a boolean or object.");
  const a = new CommandArgs('ClusteredIndexSpec', v);
  for (const k of Object.keys(v)) if (!['v', 'key', 'name', 'unique'].includes(k)) fail('IDLUnknownField', `BSON field 'ClusteredIndexSpec.${k}' is an unknown field.`);
  const version = a.integer('v') ?? 2;
  const key = a.required('key', a.document);
  const name = a.string('name');
  const unique = a.required('unique', a.bool);
  if (isDocument(body.idIndex) && Object.keys(body.idIndex).length > 0) fail('InvalidOptions', "The 'clusteredIndex' option is not supported with the 'idIndex' option");
  if (body.autoIndexId === false) failLocation(6026501, "The 'clusteredIndex' option does not support {autoIndexId: false}");
  if (!unique) failLocation(5979700, 'The clusteredIndex option requires unique: true to be specified');
  if (compareValues(key, { _id: 1 }) !== 0 || Object.keys(key).length !== 1 || Object.keys(key)[0] !== '_id') {
    fail('InvalidIndexSpecificationOption', 'The clusteredIndex option is only supported for key: {_id: 1}');
  }
  if (version !== 2) failLocation(5979704, `Invalid clusteredIndex specification ${formatDocument(v)}; cannot create a clusteredIndex with v=${version}`);
  return { v: version, key, name: name ?? '_id_', unique: true };
}

/** listIndexes' entry for a clustered collection's cluster key, in place of its _id index. */
export function clusteredIndexEntry(options: Document): Document | undefined {
  const spec = options.clusteredIndex;
  return isDocument(spec) ? { ...spec, clustered: true } : undefined;
}

/** The options a collection keeps, as listCollections shows them. */
export function collectionOptionsFrom(body: Document): Document {
  const a = new CommandArgs('create', body);
  const options: Document = {};
  cappedOptions(a, options);
  // Stored in mongod's full form; a simple collation is the absence of one.
  const collator = parseCollationArgument(body.collation);
  if (collator) options.collation = collationDocument(collator);
  const images = a.document('changeStreamPreAndPostImages');
  if (images !== undefined && preAndPostImagesOption('create', images)) options.changeStreamPreAndPostImages = { enabled: true };
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
  if (body.clusteredIndex !== undefined) {
    const clustered = clusteredIndexOption(body.clusteredIndex, body);
    if (clustered) options.clusteredIndex = clustered;
  }
  const timeseries = a.document('timeseries');
  if (options.capped === true && options.clusteredIndex !== undefined) fail('InvalidOptions', 'Dossier does not support capped clustered collections');
  if (timeseries !== undefined) options.timeseries = timeseriesOption(timeseries);
  const expireAfterSeconds = a.integer('expireAfterSeconds');
  if (expireAfterSeconds !== undefined) {
    if (options.timeseries === undefined && options.clusteredIndex === undefined) {
      fail('InvalidOptions', "'expireAfterSeconds' is only supported on time-series collections or when the 'clusteredIndex' option is specified");
    }
    if (options.timeseries === undefined) fail('InvalidOptions', "The 'expireAfterSeconds' option of create is not supported by Dossier yet for clustered collections");
    if (expireAfterSeconds < 0) fail('InvalidOptions', "TTL index 'expireAfterSeconds' option cannot be less than 0");
    options.expireAfterSeconds = Long.fromNumber(expireAfterSeconds);
  }
  return options;
}

/** A view's pipeline is parsed to be checked, never run here: nothing draws from this. */
const PARSE_ONLY_RANDOM = (): number => 0;

/**
 * mongod's ViewCatalog::validatePipeline: the pipeline must parse, and hold no stage that writes,
 * no $changeStream and no stage that reads no collection.
 */
export function viewPipelineValidator(ctx: CommandContext, name: string): PipelineValidator {
  return (pipeline, collator, viewOn) => {
    const scope = Scope.root(collator ? { random: PARSE_ONLY_RANDOM, collator } : { random: PARSE_ONLY_RANDOM });
    const parsed = parsePipelineStages(pipeline, { scope, db: ctx.db, collection: viewOn, nesting: 'top', inTransaction: false });
    parsed.definitions.forEach((def, i) => {
      if (def.writes) {
        fail('OptionNotSupportedOnView', `The aggregation stage ${def.name} in location ${i} of the pipeline cannot be used in the view definition of ${ctx.db}.${name} because it writes to disk`);
      }
      if (def.name === '$changeStream') fail('OptionNotSupportedOnView', '$changeStream cannot be used in a view definition');
      if (def.collectionless) fail('InvalidNamespace', `'${def.name}' cannot be used in a view definition`);
    });
  };
}

/** `create` with `viewOn`: a view, checked as mongod checks its definition. */
function createViewCommand(ctx: CommandContext, name: string): Document {
  if (ctx.inTransaction) fail('OperationNotSupportedInTransaction', `Cannot create a view in a multi-document transaction.`);
  if (ctx.body.idIndex !== undefined) fail('InvalidOptions', `'idIndex' is not allowed with 'viewOn': ${formatValue(ctx.body.idIndex)}`);
  for (const k of Object.keys(ctx.body)) {
    if (k === 'create' || VIEW_OPTIONS.has(k) || isGenericArgument(k) || ctx.body[k] === undefined) continue;
    if (k === 'capped' && ctx.body[k] === false) continue;
    fail('InvalidOptions', `option not supported on a view: ${k}`);
  }
  createView(ctx.instance, { db: ctx.db, name, viewOn: ctx.body.viewOn, pipeline: ctx.body.pipeline, collation: ctx.body.collation }, viewPipelineValidator(ctx, name));
  return {};
}

/** A collection cannot take a view's name. */
function assertNoView(ctx: CommandContext, name: string): void {
  if (lookupView(ctx.instance, ctx.db, name)) fail('NamespaceExists', `A view already exists. NS: ${ctx.db}.${name}`);
}

export const createCommand: CommandDefinition = {
  name: 'create',
  help: 'Creates a collection with options (validator, validationLevel, validationAction, clusteredIndex, timeseries, changeStreamPreAndPostImages).',
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
      fail('InvalidOptions', `The '${k}' option of create is not supported by Dossier yet`);
    }
    if (ctx.body.pipeline !== undefined && ctx.body.viewOn === undefined) fail('InvalidOptions', "'pipeline' requires 'viewOn' to also be specified");
    if (ctx.body.viewOn !== undefined) return createViewCommand(ctx, name);
    assertNoView(ctx, name);
    if (ctx.body.idIndex !== undefined && !isDocument(ctx.body.idIndex)) fail('TypeMismatch', `BSON field 'create.idIndex' is the wrong type '${typeNameOf(ctx.body.idIndex)}', expected type 'object'`);
    if (isDocument(ctx.body.timeseries)) checkTimeseriesCreate(`${ctx.db}.${name}`, ctx.body, ctx.body.timeseries);
    const options = collectionOptionsFrom(ctx.body);
    const existing = ctx.instance.getCollection(ctx.db, name);
    if (existing) {
      // Since 7.0 mongod answers ok when the same collection with the same options exists.
      if (compareValues(existing.options, options) === 0) return {};
      fail('NamespaceExists', `namespace ${ctx.db}.${name} already exists, but with different options: ${formatDocument(existing.options)}`);
    }
    const timeField = timeFieldOf(options);
    if (timeField !== undefined && ctx.inTransaction) fail('OperationNotSupportedInTransaction', 'Cannot create a time-series collection in a multi-document transaction.');
    // Time-series measurements have no _id index (mongod keeps them in buckets): _ids may repeat.
    // The _id index takes the collection's default collation, as in mongod.
    const idIndex: Document = { v: 2, key: { _id: 1 }, name: '_id_', ...(isDocument(options.collation) ? { collation: options.collation } : {}) };
    const coll = ctx.instance.engine.createCollection(ctx.db, name, options, timeField === undefined ? (idIndex as IndexSpec) : null);
    buildCollectionHooks(coll);
    // Since 6.3 mongod indexes a new time-series collection on its meta and time fields.
    const metaField = isDocument(options.timeseries) ? options.timeseries.metaField : undefined;
    if (timeField !== undefined && typeof metaField === 'string') {
      ctx.instance.engine.createIndex(coll, { v: 2, key: { [metaField]: 1, [timeField]: 1 }, name: `${metaField}_1_${timeField}_1` });
    }
    if (ctx.transaction) ctx.instance.createInTransaction(coll, ctx.transaction);
    return {};
  },
};
