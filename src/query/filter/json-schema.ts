/**
 * `$jsonSchema` (JSON Schema draft 4 as mongod implements it for validators and queries).
 *
 * mongod translates a schema into match expressions; the observable rules, kept here:
 * - Restriction keywords apply only to values of their type (`minimum` to numbers, `maxLength`
 *   to strings, `items` to arrays, `properties` to documents); other values pass them.
 * - `type`/`bsonType` restrict the type; `type` uses JSON names, `bsonType` BSON aliases.
 * - A property's schema applies only when the property is present (`required` makes it so).
 * - No implicit array traversal: a schema sees an array as an array.
 * - At the top level only documents exist, so scalar keywords always pass there and a `type`
 *   that excludes "object" matches nothing.
 * - `enum` and `uniqueItems` compare documents without regard to field order.
 */
import { DossierError, ErrorCodes, fail } from '../../base/index.js';
import { compareValues, isDocument, toJsNumber, typeNameOf, type BsonTypeName, type BsonValue, type Document } from '../../bson/index.js';
import { documentEntries, getField } from '../path.js';
import { parseIntegerToNonNegativeLong } from './integers.js';
import { makeComparisonTest } from './match.js';
import { compileRegex } from './regex.js';
import { typeForAlias } from './type-set.js';

type Check = (v: BsonValue) => boolean;

const KNOWN_KEYWORDS = new Set([
  'additionalItems', 'additionalProperties', 'allOf', 'anyOf', 'bsonType', 'dependencies', 'description',
  'enum', 'exclusiveMaximum', 'exclusiveMinimum', 'items', 'maxItems', 'maxLength', 'maxProperties', 'maximum',
  'minItems', 'minLength', 'minProperties', 'minimum', 'multipleOf', 'not', 'oneOf', 'pattern',
  'patternProperties', 'properties', 'required', 'title', 'type', 'uniqueItems',
]);
const UNSUPPORTED_KEYWORDS = new Set(['$ref', '$schema', 'default', 'definitions', 'format', 'id', 'encrypt', 'encryptMetadata']);

const JSON_TYPE_ALIASES: Readonly<Record<string, BsonTypeName | 'number'>> = {
  array: 'array',
  boolean: 'bool',
  null: 'null',
  number: 'number',
  object: 'object',
  string: 'string',
};

function typeMismatch(message: string): never {
  throw new DossierError(ErrorCodes.TypeMismatch, message);
}

function failedToParse(message: string): never {
  throw new DossierError(ErrorCodes.FailedToParse, message);
}

function isNumeric(t: BsonTypeName): boolean {
  return t === 'int' || t === 'long' || t === 'double' || t === 'decimal';
}

interface SchemaTypeSet {
  types: Set<BsonTypeName>;
  allNumbers: boolean;
}

function hasType(set: SchemaTypeSet, t: BsonTypeName): boolean {
  return set.types.has(t) || (set.allNumbers && isNumeric(t));
}

function parseSchemaTypeSet(keyword: 'type' | 'bsonType', operand: BsonValue): SchemaTypeSet {
  const t = typeNameOf(operand);
  if (t !== 'string' && t !== 'array') {
    typeMismatch(`$jsonSchema keyword '${keyword}' must be either a string or an array of strings`);
  }
  const aliases: string[] = [];
  if (t === 'string') {
    if (operand === 'integer') failedToParse("$jsonSchema type 'integer' is not currently supported.");
    aliases.push(operand as string);
  } else {
    for (const a of operand as BsonValue[]) {
      if (typeof a !== 'string') typeMismatch(`$jsonSchema keyword '${keyword}' array elements must be strings`);
      if (a === 'integer') failedToParse("$jsonSchema type 'integer' is not currently supported.");
      if (aliases.includes(a)) failedToParse(`$jsonSchema keyword '${keyword}' has duplicate value: ${a}`);
      aliases.push(a);
    }
  }
  const set: SchemaTypeSet = { types: new Set(), allNumbers: false };
  for (const a of aliases) {
    const type = keyword === 'type' ? JSON_TYPE_ALIASES[a] : a === 'number' ? 'number' : typeForAlias(a);
    if (type === undefined) fail('BadValue', `Unknown type name alias: ${a}`);
    if (type === 'number') set.allNumbers = true;
    else set.types.add(type);
  }
  if (set.types.size === 0 && !set.allNumbers) failedToParse(`$jsonSchema keyword '${keyword}' must name at least one type`);
  return set;
}

/** Equality that ignores the order of fields in documents (mongod's UnorderedFieldsBSONElementComparator). */
export function unorderedEquals(a: BsonValue, b: BsonValue): boolean {
  const ta = typeNameOf(a);
  const tb = typeNameOf(b);
  if (ta === 'object' && tb === 'object') {
    const ea = documentEntries(a);
    const eb = documentEntries(b);
    if (ea.length !== eb.length) return false;
    for (const [k, v] of ea) {
      const w = getField(b, k);
      if (w === undefined || !unorderedEquals(v, w)) return false;
    }
    return true;
  }
  if (ta === 'array' && tb === 'array') {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!unorderedEquals(a[i], b[i])) return false;
    return true;
  }
  return compareValues(a, b) === 0;
}

function codePointLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdbff) n++;
  }
  return n;
}

function restrict(applies: (t: BsonTypeName) => boolean, check: Check): Check {
  return (v) => !applies(typeNameOf(v)) || check(v);
}

function schemaArrayOfObjects(keyword: string, operand: BsonValue): Document[] {
  if (!Array.isArray(operand)) typeMismatch(`$jsonSchema keyword '${keyword}' must be an array`);
  if (operand.length === 0) fail('BadValue', `$jsonSchema keyword '${keyword}' must be a non-empty array`);
  for (const el of operand) {
    if (!isDocument(el)) {
      typeMismatch(`$jsonSchema keyword '${keyword}' must be an array of objects, but found an element of type ${typeNameOf(el)}`);
    }
  }
  return operand as Document[];
}

/**
 * Compiles a schema. `topLevel` schemas check whole documents; nested ones check the value of
 * a present property, an array item, or a logical branch at the same place.
 */
function compile(schema: Document, topLevel: boolean): Check {
  const kw = new Map<string, BsonValue>();
  for (const [k, v] of documentEntries(schema)) {
    if (!KNOWN_KEYWORDS.has(k)) {
      if (UNSUPPORTED_KEYWORDS.has(k)) failedToParse(`$jsonSchema keyword '${k}' is not currently supported`);
      failedToParse(`Unknown $jsonSchema keyword: ${k}`);
    }
    if (kw.has(k)) failedToParse(`Duplicate $jsonSchema keyword: ${k}`);
    kw.set(k, v);
  }
  for (const meta of ['description', 'title']) {
    if (kw.has(meta) && typeof kw.get(meta) !== 'string') typeMismatch(`$jsonSchema keyword '${meta}' must be of type string`);
  }
  if (kw.has('type') && kw.has('bsonType')) failedToParse("Cannot specify both $jsonSchema keywords 'type' and 'bsonType'");

  let typeSet: SchemaTypeSet | undefined;
  if (kw.has('type')) typeSet = parseSchemaTypeSet('type', kw.get('type'));
  else if (kw.has('bsonType')) typeSet = parseSchemaTypeSet('bsonType', kw.get('bsonType'));

  const checks: Check[] = [];
  const scalar = (check: Check): void => {
    // Scalar restrictions cannot fail at the top level, where only documents are stored.
    if (!topLevel) checks.push(check);
  };

  // Strings.
  if (kw.has('pattern')) {
    const p = kw.get('pattern');
    if (typeof p !== 'string') typeMismatch("$jsonSchema keyword 'pattern' must be a string");
    const re = compileRegex(p, '');
    scalar(restrict((t) => t === 'string', (v) => re.test(v)));
  }
  for (const [keyword, isMax] of [['maxLength', true], ['minLength', false]] as const) {
    if (!kw.has(keyword)) continue;
    const limit = Number(parseIntegerToNonNegativeLong(keyword, kw.get(keyword)));
    scalar(restrict((t) => t === 'string', (v) => (isMax ? codePointLength(v) <= limit : codePointLength(v) >= limit)));
  }

  // Numbers.
  if (kw.has('multipleOf')) {
    const m = kw.get('multipleOf');
    if (!isNumeric(typeNameOf(m))) typeMismatch("$jsonSchema keyword 'multipleOf' must be a number");
    const mNum = toJsNumber(m);
    if (!(mNum > 0)) failedToParse("$jsonSchema keyword 'multipleOf' must have a positive value");
    scalar(restrict(isNumeric, (v) => {
      const n = toJsNumber(v);
      return Number.isFinite(n) && n % mNum === 0;
    }));
  }
  for (const [keyword, exclusiveKeyword, exclusiveOp, inclusiveOp] of [
    ['maximum', 'exclusiveMaximum', '$lt', '$lte'],
    ['minimum', 'exclusiveMinimum', '$gt', '$gte'],
  ] as const) {
    if (kw.has(keyword)) {
      let exclusive = false;
      if (kw.has(exclusiveKeyword)) {
        const e = kw.get(exclusiveKeyword);
        if (typeof e !== 'boolean') typeMismatch(`$jsonSchema keyword '${exclusiveKeyword}' must be a boolean`);
        exclusive = e;
      }
      const bound = kw.get(keyword);
      if (!isNumeric(typeNameOf(bound))) typeMismatch(`$jsonSchema keyword '${keyword}' must be a number`);
      const test = makeComparisonTest(exclusive ? exclusiveOp : inclusiveOp, bound);
      scalar(restrict(isNumeric, test));
    } else if (kw.has(exclusiveKeyword)) {
      failedToParse(`$jsonSchema keyword '${keyword}' must be a present if ${exclusiveKeyword} is present`);
    }
  }

  // Arrays.
  for (const [keyword, isMax] of [['minItems', false], ['maxItems', true]] as const) {
    if (!kw.has(keyword)) continue;
    const limit = Number(parseIntegerToNonNegativeLong(keyword, kw.get(keyword)));
    scalar(restrict((t) => t === 'array', (v) => (isMax ? v.length <= limit : v.length >= limit)));
  }
  if (kw.has('uniqueItems')) {
    const u = kw.get('uniqueItems');
    if (typeof u !== 'boolean') typeMismatch("$jsonSchema keyword 'uniqueItems' must be a boolean");
    if (u) {
      scalar(restrict((t) => t === 'array', (v: BsonValue[]) => {
        for (let i = 0; i < v.length; i++) for (let j = i + 1; j < v.length; j++) if (unorderedEquals(v[i], v[j])) return false;
        return true;
      }));
    }
  }
  let additionalItemsFrom: number | undefined;
  if (kw.has('items')) {
    const items = kw.get('items');
    if (Array.isArray(items)) {
      const itemChecks = items.map((s) => {
        if (!isDocument(s)) {
          typeMismatch(`$jsonSchema keyword 'items' requires that each element of the array is an object, but found a ${typeNameOf(s)}`);
        }
        return compile(s, false);
      });
      additionalItemsFrom = itemChecks.length;
      scalar(restrict((t) => t === 'array', (v: BsonValue[]) => {
        const n = Math.min(v.length, itemChecks.length);
        for (let i = 0; i < n; i++) if (!itemChecks[i]!(v[i])) return false;
        return true;
      }));
    } else if (isDocument(items)) {
      const itemCheck = compile(items, false);
      scalar(restrict((t) => t === 'array', (v: BsonValue[]) => v.every((x) => itemCheck(x))));
    } else {
      typeMismatch(`$jsonSchema keyword 'items' must be an array or an object, not ${typeNameOf(items)}`);
    }
  }
  if (kw.has('additionalItems')) {
    const ai = kw.get('additionalItems');
    let extra: Check;
    if (typeof ai === 'boolean') extra = () => ai;
    else if (isDocument(ai)) extra = compile(ai, false);
    else typeMismatch(`$jsonSchema keyword 'additionalItems' must be either an object or a boolean, but got a ${typeNameOf(ai)}`);
    const from = additionalItemsFrom;
    if (from !== undefined) {
      scalar(restrict((t) => t === 'array', (v: BsonValue[]) => {
        for (let i = from; i < v.length; i++) if (!extra(v[i])) return false;
        return true;
      }));
    }
  }

  // Documents.
  const objectChecks: Check[] = [];
  let required: string[] = [];
  if (kw.has('required')) {
    const r = kw.get('required');
    if (!Array.isArray(r)) typeMismatch(`$jsonSchema keyword 'required' must be an array, but found an element of type ${typeNameOf(r)}`);
    for (const name of r) {
      if (typeof name !== 'string') {
        typeMismatch(`$jsonSchema keyword 'required' must be an array of strings, but found an element of type: ${typeNameOf(name)}`);
      }
    }
    if (r.length === 0) failedToParse("$jsonSchema keyword 'required' cannot be an empty array");
    if (new Set(r).size !== r.length) failedToParse("$jsonSchema keyword 'required' array cannot contain duplicate values");
    required = r as string[];
  }
  const propertyNames = new Set<string>();
  if (kw.has('properties')) {
    const props = kw.get('properties');
    if (!isDocument(props)) typeMismatch("$jsonSchema keyword 'properties' must be an object");
    const compiled: Array<[string, Check]> = [];
    for (const [name, sub] of documentEntries(props)) {
      if (!isDocument(sub)) typeMismatch(`Nested schema for $jsonSchema property '${name}' must be an object`);
      propertyNames.add(name);
      compiled.push([name, compile(sub, false)]);
    }
    objectChecks.push((doc) => {
      for (const [name, check] of compiled) {
        const v = getField(doc, name);
        if (v !== undefined && !check(v)) return false;
      }
      return true;
    });
  }
  if (kw.has('patternProperties') || kw.has('additionalProperties')) {
    const patterns: Array<[RegExp, Check]> = [];
    if (kw.has('patternProperties')) {
      const pp = kw.get('patternProperties');
      if (!isDocument(pp)) typeMismatch("$jsonSchema keyword 'patternProperties' must be an object");
      for (const [pattern, sub] of documentEntries(pp)) {
        if (!isDocument(sub)) typeMismatch(`$jsonSchema keyword 'patternProperties' has property '${pattern}' which is not an object`);
        patterns.push([compileRegex(pattern, ''), compile(sub, false)]);
      }
    }
    let otherwise: Check = () => true;
    if (kw.has('additionalProperties')) {
      const ap = kw.get('additionalProperties');
      if (typeof ap === 'boolean') otherwise = () => ap;
      else if (isDocument(ap)) otherwise = compile(ap, false);
      else typeMismatch("$jsonSchema keyword 'additionalProperties' must be an object or a boolean");
    }
    objectChecks.push((doc) => {
      for (const [name, v] of documentEntries(doc)) {
        let checkOtherwise = !propertyNames.has(name);
        for (const [re, check] of patterns) {
          if (re.test(name)) {
            checkOtherwise = false;
            if (!check(v)) return false;
          }
        }
        if (checkOtherwise && !otherwise(v)) return false;
      }
      return true;
    });
  }
  if (required.length > 0) {
    objectChecks.push((doc) => required.every((name) => getField(doc, name) !== undefined));
  }
  for (const [keyword, isMax] of [['minProperties', false], ['maxProperties', true]] as const) {
    if (!kw.has(keyword)) continue;
    const limit = Number(parseIntegerToNonNegativeLong(keyword, kw.get(keyword)));
    objectChecks.push((doc) => {
      const n = documentEntries(doc).length;
      return isMax ? n <= limit : n >= limit;
    });
  }
  if (kw.has('dependencies')) {
    const deps = kw.get('dependencies');
    if (!isDocument(deps)) typeMismatch("$jsonSchema keyword 'dependencies' must be an object");
    for (const [name, dep] of documentEntries(deps)) {
      if (isDocument(dep)) {
        const check = compile(dep, topLevel);
        objectChecks.push((doc) => getField(doc, name) === undefined || check(doc));
      } else if (Array.isArray(dep)) {
        if (dep.length === 0) failedToParse(`property '${name}' in $jsonSchema keyword 'dependencies' cannot be an empty array`);
        const seen = new Set<string>();
        for (const p of dep) {
          if (typeof p !== 'string') {
            typeMismatch(`array '${name}' in $jsonSchema keyword 'dependencies' can only contain strings, but found element of type: ${typeNameOf(p)}`);
          }
          if (seen.has(p)) failedToParse(`array '${name}' in $jsonSchema keyword 'dependencies' contains duplicate element: ${p}`);
          seen.add(p);
        }
        objectChecks.push((doc) => getField(doc, name) === undefined || dep.every((p: string) => getField(doc, p) !== undefined));
      } else {
        typeMismatch(`property '${name}' in $jsonSchema keyword 'dependencies' must be either an object or an array`);
      }
    }
  }
  if (objectChecks.length > 0) {
    checks.push(restrict((t) => t === 'object', (doc) => objectChecks.every((c) => c(doc))));
  }

  // Logic.
  if (kw.has('allOf')) {
    const subs = schemaArrayOfObjects('allOf', kw.get('allOf')).map((s) => compile(s, topLevel));
    checks.push((v) => subs.every((c) => c(v)));
  }
  if (kw.has('anyOf')) {
    const subs = schemaArrayOfObjects('anyOf', kw.get('anyOf')).map((s) => compile(s, topLevel));
    checks.push((v) => subs.some((c) => c(v)));
  }
  if (kw.has('oneOf')) {
    const subs = schemaArrayOfObjects('oneOf', kw.get('oneOf')).map((s) => compile(s, topLevel));
    checks.push((v) => {
      let n = 0;
      for (const c of subs) if (c(v) && ++n > 1) return false;
      return n === 1;
    });
  }
  if (kw.has('not')) {
    const n = kw.get('not');
    if (!isDocument(n)) typeMismatch(`$jsonSchema keyword 'not' must be an object, but found an element of type ${typeNameOf(n)}`);
    const sub = compile(n, topLevel);
    checks.push((v) => !sub(v));
  }
  if (kw.has('enum')) {
    const e = kw.get('enum');
    if (!Array.isArray(e)) typeMismatch(`$jsonSchema keyword 'enum' must be an array, but found an element of type ${typeNameOf(e)}`);
    if (e.length === 0) failedToParse("$jsonSchema keyword 'enum' cannot be an empty array");
    for (let i = 0; i < e.length; i++) {
      for (let j = i + 1; j < e.length; j++) {
        if (unorderedEquals(e[i], e[j])) failedToParse("$jsonSchema keyword 'enum' array cannot contain duplicate values.");
      }
    }
    // At the top level only document members can ever match.
    const members = topLevel ? e.filter((x: BsonValue) => typeNameOf(x) === 'object') : e;
    checks.push((v) => members.some((m: BsonValue) => unorderedEquals(v, m)));
  }

  if (typeSet !== undefined) {
    const ts = typeSet;
    if (topLevel) {
      if (!hasType(ts, 'object')) return () => false;
    } else {
      checks.unshift((v) => hasType(ts, typeNameOf(v)));
    }
  }
  if (checks.length === 0) return () => true;
  if (checks.length === 1) return checks[0]!;
  return (v) => {
    for (const c of checks) if (!c(v)) return false;
    return true;
  };
}

/** Compiles a `$jsonSchema` operand to a validator of whole documents, or throws mongod's error. */
export function compileJsonSchema(schema: BsonValue): (doc: Document) => boolean {
  if (!isDocument(schema)) typeMismatch('$jsonSchema must be an object');
  return compile(schema, true);
}
