/**
 * Index specifications as createIndexes takes them and listIndexes returns them: validation with
 * mongod's codes, the options Dossier supports, and the comparison that decides whether a
 * requested index already exists or conflicts.
 */
import { fail, failLocation } from '../base/index.js';
import { INDEXES_PER_COLLECTION_MAX } from '../base/limits.js';
import { collationDocument, compareValues, formatDocument, isDocument, makeCollator, toJsNumber, typeNameOf, type BsonValue, type Collator, type Document } from '../bson/index.js';
import type { IndexSpec } from '../storage/index.js';

const SUPPORTED_OPTIONS = new Set(['key', 'name', 'v', 'unique', 'sparse', 'partialFilterExpression', 'expireAfterSeconds', 'hidden', 'background', 'ns', 'collation', 'storageEngine']);
const KNOWN_UNSUPPORTED_OPTIONS = new Set(['weights', 'default_language', 'language_override', 'textIndexVersion', '2dsphereIndexVersion', 'bits', 'min', 'max', 'bucketSize', 'wildcardProjection', 'prepareUnique', 'clustered']);
const SPECIAL_TYPES = new Set(['text', '2d', '2dsphere', 'hashed', 'geoHaystack', 'columnstore']);

export function defaultIndexName(key: Document): string {
  return Object.entries(key).map(([k, v]) => `${k}_${typeof v === 'object' && v !== null ? toJsNumber(v) : v}`).join('_');
}

function specError(spec: Document, reason: string, code = 67): never {
  return failLocation(code, `Error in specification ${formatDocument(spec)} :: caused by :: ${reason}`);
}

/**
 * Validates one element of createIndexes' `indexes` and returns the spec as stored (v: 2 first).
 * An index without a `collation` takes the collection's default (`defaultCollator`), as in
 * mongod; the stored collation is mongod's full form, and a simple one is not stored.
 */
export function normalizeIndexSpec(raw: BsonValue, defaultCollator: Collator | null = null): IndexSpec {
  if (!isDocument(raw)) fail('TypeMismatch', `The elements of the 'indexes' array must be objects, but got ${typeNameOf(raw)}`);
  const key = raw.key;
  if (!isDocument(key)) specError(raw, `The 'key' field is a required property of an index specification`, 9);
  const keyFields = Object.keys(key);
  if (keyFields.length === 0) specError(raw, 'Index keys cannot be empty.');
  if (keyFields.length > 32) specError(raw, 'Index key pattern cannot have more than 32 fields');
  for (const f of keyFields) {
    const v = key[f];
    if (f === '') specError(raw, 'Index keys cannot be an empty field.');
    if (f.startsWith('$') && f !== '$**' && !f.endsWith('.$**')) specError(raw, `Index key contains an illegal field name: field name starts with '$'.`);
    if (f.includes('$**')) fail('CannotCreateIndex', 'wildcard indexes are not supported by Dossier yet');
    const t = typeNameOf(v);
    if (t === 'string') {
      if (SPECIAL_TYPES.has(v)) fail('CannotCreateIndex', `${v} indexes are not supported by Dossier yet`);
      specError(raw, `Unknown index plugin '${v}'`);
    }
    if (t !== 'int' && t !== 'long' && t !== 'double' && t !== 'decimal') {
      specError(raw, `Values in v:2 index key pattern cannot be of type ${t}. Only numbers > 0, numbers < 0, and strings are allowed.`);
    }
    if (toJsNumber(v) === 0 || Number.isNaN(toJsNumber(v))) specError(raw, `Values in the index key pattern can't be 0.`);
  }
  const name = raw.name;
  if (name === undefined) specError(raw, "The 'name' field is a required property of an index specification", 9);
  if (typeof name !== 'string') specError(raw, `The field 'name' must be a string, but got ${typeNameOf(name)}`, 14);
  if (name === '') specError(raw, 'The index name cannot be empty', 2);
  if (name === '*') specError(raw, `The index name '*' is not valid.`, 2);
  const spec: IndexSpec = { v: 2, key, name };
  let collator = defaultCollator;
  for (const [k, v] of Object.entries(raw)) {
    if (k === 'key' || k === 'name' || k === 'v' || k === 'ns' || k === 'background') continue;
    if (KNOWN_UNSUPPORTED_OPTIONS.has(k)) fail('CannotCreateIndex', `The index option '${k}' is not supported by Dossier yet`);
    if (!SUPPORTED_OPTIONS.has(k)) specError(raw, `The field '${k}' is not valid for an index specification. Specification: ${formatDocument(raw)}`, 197);
    switch (k) {
      case 'unique':
      case 'sparse':
      case 'hidden':
        if (typeof v !== 'boolean' && !['int', 'long', 'double'].includes(typeNameOf(v))) specError(raw, `The field '${k}' must be a bool`, 14);
        if (v === true || (typeof v !== 'boolean' && toJsNumber(v) !== 0)) spec[k] = true;
        break;
      case 'partialFilterExpression':
        if (!isDocument(v)) specError(raw, `The field 'partialFilterExpression' must be an object, but got ${typeNameOf(v)}`, 14);
        spec.partialFilterExpression = v;
        break;
      case 'expireAfterSeconds': {
        const t = typeNameOf(v);
        if (t !== 'int' && t !== 'long' && t !== 'double' && t !== 'decimal') specError(raw, `TTL index 'expireAfterSeconds' option must be numeric, but received a type of '${t}'`, 67);
        const n = toJsNumber(v);
        if (!Number.isFinite(n) || n < 0 || n > 2147483647) specError(raw, `TTL index 'expireAfterSeconds' option must be within an acceptable range, try a lower number`, 67);
        if (keyFields.length > 1) fail('CannotCreateIndex', `TTL indexes are single-field indexes, compound indexes do not support TTL. Index spec: ${formatDocument(raw)}`);
        spec.expireAfterSeconds = Math.trunc(n);
        break;
      }
      case 'collation':
        if (!isDocument(v)) specError(raw, `The field 'collation' must be an object, but got ${typeNameOf(v)}`, 14);
        if (Object.keys(v).length > 0) collator = makeCollator(v);
        break;
      case 'storageEngine':
        break;
    }
  }
  if (name === '_id_' || (keyFields.length === 1 && keyFields[0] === '_id')) {
    if (spec.unique !== undefined && keyFields[0] === '_id') specError(raw, "The field 'unique' is not valid for an _id index specification.", 197);
    if (spec.sparse !== undefined && keyFields[0] === '_id') specError(raw, "The field 'sparse' is not valid for an _id index specification.", 197);
  }
  if (spec.hidden && name === '_id_') fail('BadValue', 'can\'t hide _id index');
  if (collator) spec.collation = collationDocument(collator);
  return spec;
}

/** Options that make two specs with the same key pattern different indexes, as mongod compares them. */
function comparableOptions(spec: IndexSpec): Document {
  return {
    unique: spec.unique === true,
    sparse: spec.sparse === true,
    partialFilterExpression: spec.partialFilterExpression ?? null,
    expireAfterSeconds: spec.expireAfterSeconds ?? null,
    collation: spec.collation ?? null,
  };
}

export type ExistingMatch = 'new' | 'identical';

/** Decides how a requested spec relates to the existing ones; throws mongod's conflict errors. */
export function matchExisting(requested: IndexSpec, existing: IndexSpec[]): ExistingMatch {
  for (const e of existing) {
    const sameKey = compareValues(e.key, requested.key) === 0;
    const sameName = e.name === requested.name;
    // One key pattern may be indexed once per collation, under different names.
    if (!sameName && compareValues(e.collation ?? null, requested.collation ?? null) !== 0) continue;
    const sameOptions = compareValues(comparableOptions(e), comparableOptions(requested)) === 0;
    if (sameName && sameKey && sameOptions) return 'identical';
    if (sameName && !sameKey) {
      fail('IndexKeySpecsConflict', `An existing index has the same name as the requested index. When index names are not specified, they are auto generated and can cause conflicts. Please refer to our documentation. Requested index: ${formatDocument(requested)}, existing index: ${formatDocument(e)}`);
    }
    if (sameName || (sameKey && !sameOptions && compareValues(e.partialFilterExpression ?? null, requested.partialFilterExpression ?? null) === 0)) {
      fail('IndexOptionsConflict', `An equivalent index already exists with the same name but different options. Requested index: ${formatDocument(requested)}, existing index: ${formatDocument(e)}`);
    }
    if (sameKey && sameOptions) {
      fail('IndexOptionsConflict', `Index already exists with a different name: ${e.name}`);
    }
  }
  if (existing.length >= INDEXES_PER_COLLECTION_MAX) fail('CannotCreateIndex', `add index fails, too many indexes for collection key:${formatDocument(requested.key)}`);
  return 'new';
}
