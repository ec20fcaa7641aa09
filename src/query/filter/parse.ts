/**
 * The filter parser: a query document to a FilterNode tree, with mongod's grammar and errors
 * (src/mongo/db/matcher/expression_parser.cpp in mongod 8.0).
 */
import { BSON_DEPTH_MAX, DossierError, ErrorCodes, fail, failLocation } from '../../base/index.js';
import {
  compareValues,
  DBRef,
  isDocument,
  isNumberType,
  regexParts,
  toJsNumber,
  typeNameOf,
  type BsonValue,
  type Document,
} from '../../bson/index.js';
import { documentEntries, splitPath, type ValueTest } from '../path.js';
import { formatElement, formatValue } from './format.js';
import { parseIntegerToLong, parseIntegerToNonNegativeInt, parseIntegerToNonNegativeLong } from './integers.js';
import { compileJsonSchema } from './json-schema.js';
import {
  makeBitTest,
  makeComparisonTest,
  makeElemMatchObjectTest,
  makeElemMatchValueTest,
  makeInTest,
  makeModTest,
  makeRegexTest,
  makeTypeTest,
  trueValue,
} from './match.js';
import { compileRegex } from './regex.js';
import { parseTypeSet } from './type-set.js';
import type {
  AndNode,
  BitTestNode,
  BitTestOperator,
  ComparisonNode,
  ComparisonOperator,
  ElemMatchObjectNode,
  ElemMatchValueNode,
  ExistsNode,
  FilterNode,
  FilterParseOptions,
  InNode,
  ModNode,
  NotNode,
  RegexNode,
  SizeNode,
  TypeNode,
} from './types.js';

/** Where the parser stands, as mongod's DocumentParseLevel: some operators need the top. */
const enum Level {
  PredicateTop,
  UserDocumentTop,
  SubDocument,
}

interface Context {
  readonly options: FilterParseOptions;
}

/** Operators that stand where a field name would (mongod's pathless operators). */
const PATHLESS_OPERATORS = new Set([
  'and', 'or', 'nor', 'comment', 'expr', 'jsonSchema', 'where', 'text', 'alwaysTrue', 'alwaysFalse', 'sampleRate', 'id', 'ref', 'db',
]);

/** Operators that apply to a path (mongod's PathAcceptingKeyword table; `$not` is handled apart). */
const PATH_OPERATORS = new Set([
  '$eq', '$ne', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$size', '$exists', '$type', '$mod', '$options',
  '$regex', '$elemMatch', '$all', '$geoWithin', '$within', '$geoIntersects', '$near', '$nearSphere', '$geoNear',
  '$bitsAllSet', '$bitsAllClear', '$bitsAnySet', '$bitsAnyClear',
]);

const GEO_NEAR_OPERATORS = new Set(['$near', '$nearSphere', '$geoNear']);

/** True if `name` (without its `$`) is an operator that may stand in place of a field name. */
export function isPathlessOperator(name: string): boolean {
  return PATHLESS_OPERATORS.has(name);
}

/** True if `name` (with its `$`) is an operator that applies to a field. */
export function isPathOperator(name: string): boolean {
  return PATH_OPERATORS.has(name);
}

/**
 * Parses a query filter into a tree, or throws a DossierError with mongod's code and message.
 * The empty filter parses to an `and` without children, which matches every document.
 */
export function parseFilter(filter: Document, options: FilterParseOptions = {}): FilterNode {
  if (!isDocument(filter)) fail('TypeMismatch', 'filter must be an object');
  return parseDocument(filter, { options }, Level.PredicateTop);
}

/** A filter's own entries in order, keeping undefined values (BSON undefined) so they are rejected, not skipped. */
function filterEntries(obj: Document): Array<[string, BsonValue]> {
  if (obj instanceof DBRef) return documentEntries(obj);
  const keys = Object.keys(obj);
  const out: Array<[string, BsonValue]> = new Array(keys.length);
  for (let i = 0; i < keys.length; i++) out[i] = [keys[i]!, obj[keys[i]!]];
  return out;
}

function firstKey(obj: Document): string | undefined {
  if (obj instanceof DBRef) return '$ref';
  for (const k in obj) return k;
  return undefined;
}

function isDBRefKeys(keys: string[], allowIncomplete: boolean): boolean {
  const hasRef = keys.includes('$ref');
  const hasId = keys.includes('$id');
  if (allowIncomplete) return hasRef || hasId || keys.includes('$db');
  return hasRef && hasId;
}

/** mongod's isExpressionDocument: `{$op: ...}` rather than a literal document (or DBRef). */
function isExpressionDocument(v: BsonValue, allowIncompleteDBRef: boolean): v is Document {
  if (!isDocument(v) || v instanceof DBRef) return false;
  const keys = Object.keys(v);
  if (keys.length === 0 || !keys[0]!.startsWith('$')) return false;
  return !isDBRefKeys(keys, allowIncompleteDBRef);
}

function isRegexValue(v: BsonValue): boolean {
  return typeNameOf(v) === 'regex';
}

/**
 * Adds the path fields every leaf node carries. Assigned onto the node rather than spread into it:
 * on Node 20, `{ kind, ...fields }` is several times slower, and filters are parsed per command.
 */
function withPath<T extends object>(node: T, path: string, expandLeafArrays: boolean, test: ValueTest): T & { path: string; parts: readonly string[]; expandLeafArrays: boolean; test: ValueTest } {
  const out = node as T & { path: string; parts: readonly string[]; expandLeafArrays: boolean; test: ValueTest };
  out.path = path;
  out.parts = splitPath(path);
  out.expandLeafArrays = expandLeafArrays;
  out.test = test;
  return out;
}

function and(children: FilterNode[]): AndNode {
  return { kind: 'and', children };
}

function not(child: FilterNode): NotNode {
  return { kind: 'not', child };
}

function comparison(path: string, op: ComparisonOperator, value: BsonValue): ComparisonNode {
  if (value === undefined) fail('BadValue', 'cannot compare to undefined');
  return withPath({ kind: 'comparison', op, value }, path, true, makeComparisonTest(op, value));
}

function regex(path: string, pattern: string, flags: string): RegexNode {
  const re = compileRegex(pattern, flags);
  return withPath({ kind: 'regex', pattern, flags, regexp: re }, path, true, makeRegexTest(re, pattern, flags));
}

function regexFromValue(path: string, v: BsonValue): RegexNode {
  const [pattern, flags] = regexParts(v);
  // In-process callers may pass JavaScript RegExp objects, whose g/y/d flags mean nothing here.
  return regex(path, pattern, v instanceof RegExp ? flags.replace(/[gyd]/g, '') : flags);
}

function parseDocument(obj: Document, ctx: Context, level: Level): FilterNode {
  const children: FilterNode[] = [];
  const nextLevel = level === Level.PredicateTop ? Level.UserDocumentTop : level;
  for (const [key, value] of filterEntries(obj)) {
    if (key.startsWith('$')) {
      const node = parsePathless(key, value, ctx, level);
      if (node !== null) children.push(node);
      continue;
    }
    if (splitPath(key).length > BSON_DEPTH_MAX) failLocation(5729100, 'FieldPath is too long');
    if (isExpressionDocument(value, false)) {
      parseSub(key, value, ctx, nextLevel, children);
    } else if (isRegexValue(value)) {
      children.push(regexFromValue(key, value));
    } else {
      children.push(comparison(key, '$eq', value));
    }
  }
  return children.length === 1 ? children[0]! : and(children);
}

function parsePathless(key: string, value: BsonValue, ctx: Context, level: Level): FilterNode | null {
  const name = key.slice(1);
  switch (name) {
    case 'and':
    case 'or':
    case 'nor': {
      if (!Array.isArray(value)) fail('BadValue', `${key} must be an array`);
      if (value.length === 0) fail('BadValue', '$and/$or/$nor must be a nonempty array');
      const children = value.map((e: BsonValue) => {
        if (!isDocument(e)) fail('BadValue', '$or/$and/$nor entries need to be full objects');
        return parseDocument(e, ctx, level);
      });
      return { kind: name, children };
    }
    case 'comment':
      return null;
    case 'expr': {
      if (level === Level.SubDocument) fail('BadValue', '$expr can only be applied to the top-level document');
      const compile = ctx.options.parseExpression;
      if (compile === undefined) fail('BadValue', '$expr is not supported yet');
      return { kind: 'expr', expression: value, evaluate: compile(value) };
    }
    case 'jsonSchema':
      return { kind: 'jsonSchema', schema: value, validate: compileJsonSchema(value) };
    case 'where':
      if (level === Level.SubDocument) fail('BadValue', '$where can only be applied to the top-level document');
      return fail('BadValue', '$where is not supported: Dossier does not run server-side JavaScript');
    case 'text':
      if (level === Level.SubDocument) fail('BadValue', '$text can only be applied to the top-level document');
      return fail('IndexNotFound', 'text index required for $text query');
    case 'alwaysTrue':
    case 'alwaysFalse':
      if (parseIntegerToLong(key, value) !== 1n) {
        throw new DossierError(ErrorCodes.FailedToParse, `${key} must be an integer value of 1`);
      }
      return { kind: name };
    case 'sampleRate':
      return parseSampleRate(value, ctx, level);
    case 'id':
    case 'ref':
    case 'db':
      // A DBRef's fields queried on their own: `{$id: 5}` is equality on the field "$id".
      return comparison(key, '$eq', value);
    default: {
      const hint =
        name === 'not'
          ? '. If you are trying to negate an entire expression, use $nor.'
          : ". If you have a field name that starts with a '$' symbol, consider using $getField or $setField.";
      return fail('BadValue', `unknown top level operator: ${key}${hint}`);
    }
  }
}

function parseSampleRate(value: BsonValue, ctx: Context, level: Level): FilterNode {
  if (level === Level.SubDocument) fail('BadValue', '$sampleRate can only be applied to the top-level document');
  if (!isNumberType(typeNameOf(value))) fail('BadValue', 'argument to $sampleRate must be a numeric type');
  const x = toJsNumber(value);
  if (!(x >= 0 && x <= 1)) fail('BadValue', 'numeric argument to $sampleRate must be in [0, 1]');
  if (x === 0) return { kind: 'alwaysFalse' };
  if (x === 1) return { kind: 'alwaysTrue' };
  const random = ctx.options.random;
  if (random === undefined) fail('NotImplemented', '$sampleRate is not supported in this context');
  return { kind: 'expr', expression: { $lt: [{ $rand: {} }, x] }, evaluate: () => random() < x };
}

/** Parses `{path: {$op: ..., $op2: ...}}` into predicates on `path`, appended to `out`. */
function parseSub(path: string, sub: Document, ctx: Context, level: Level, out: FilterNode[]): void {
  const entries = filterEntries(sub);
  const first = entries[0];
  if (first !== undefined && GEO_NEAR_OPERATORS.has(first[0]) && (isDocument(first[1]) || Array.isArray(first[1]))) {
    fail('NoQueryExecutionPlans', `error processing query: planner returned error :: caused by :: unable to find index for $geoNear query`);
  }
  for (const [key, value] of entries) {
    const node = parseSubField(entries, sub, path, key, value, ctx, level);
    if (node !== null) out.push(node);
  }
}

function parseSubField(
  entries: Array<[string, BsonValue]>,
  sub: Document,
  path: string,
  key: string,
  value: BsonValue,
  ctx: Context,
  level: Level,
): FilterNode | null {
  switch (key) {
    case '$not':
      return parseNot(path, value, ctx, level);
    case '$eq':
      return comparison(path, '$eq', value);
    case '$ne':
      if (isRegexValue(value)) fail('BadValue', "Can't have regex as arg to $ne.");
      return not(comparison(path, '$eq', value));
    case '$lt':
    case '$lte':
    case '$gt':
    case '$gte':
      if (isRegexValue(value)) fail('BadValue', `Can't have RegEx as arg to predicate over field '${path}'.`);
      return comparison(path, key, value);
    case '$in':
      if (!Array.isArray(value)) fail('BadValue', '$in needs an array');
      return parseIn(path, value);
    case '$nin':
      if (!Array.isArray(value)) fail('BadValue', '$nin needs an array');
      return not(parseIn(path, value));
    case '$size':
      return parseSize(path, value);
    case '$exists': {
      const exists: ExistsNode = withPath({ kind: 'exists' }, path, true, (v) => v !== undefined);
      return trueValue(value) ? exists : not(exists);
    }
    case '$type': {
      const set = parseTypeSet(path, value);
      const node: TypeNode = withPath(
        { kind: 'type', types: set.types, allNumbers: set.allNumbers, operand: value },
        path,
        true,
        makeTypeTest(set.types, set.allNumbers),
      );
      return node;
    }
    case '$mod':
      return parseMod(path, value);
    case '$options':
      // Validated with its $regex, wherever that stands in the same document.
      if (entries.some(([k]) => k === '$regex')) return null;
      return fail('BadValue', '$options needs a $regex');
    case '$regex':
      return parseRegexDocument(path, entries);
    case '$elemMatch':
      return parseElemMatch(path, value, ctx);
    case '$all':
      return parseAll(path, value, ctx);
    case '$bitsAllSet':
    case '$bitsAllClear':
    case '$bitsAnySet':
    case '$bitsAnyClear':
      return parseBitTest(path, key, value);
    case '$geoWithin':
    case '$within':
    case '$geoIntersects':
      return fail('NotImplemented', `${key} is not supported by Dossier`);
    case '$near':
    case '$nearSphere':
    case '$geoNear':
      return fail('BadValue', `near must be first in: ${formatValue(sub)}`);
    case '$where':
      return fail('BadValue', '$where cannot be applied to a field');
    default:
      return fail('BadValue', `unknown operator: ${key}`);
  }
}

function parseNot(path: string, value: BsonValue, ctx: Context, level: Level): FilterNode {
  if (isRegexValue(value)) return not(regexFromValue(path, value));
  if (!isDocument(value)) fail('BadValue', '$not needs a regex or a document');
  if (firstKey(value) === undefined) fail('BadValue', '$not cannot be empty');
  const children: FilterNode[] = [];
  parseSub(path, value, ctx, level, children);
  return not(children.length === 1 ? children[0]! : and(children));
}

function parseIn(path: string, elements: BsonValue[]): InNode {
  const equalities: BsonValue[] = [];
  const regexes: RegexNode[] = [];
  for (const e of elements) {
    if (isExpressionDocument(e, false)) fail('BadValue', 'cannot nest $ under $in');
    if (isRegexValue(e)) regexes.push(regexFromValue('', e));
    else if (e === undefined) fail('BadValue', 'InMatchExpression equality cannot be undefined');
    else equalities.push(e);
  }
  equalities.sort(compareValues);
  const values: BsonValue[] = [];
  for (const e of equalities) if (values.length === 0 || compareValues(values[values.length - 1], e) !== 0) values.push(e);
  const hasNull = values.some((v) => v === null);
  const hasArray = values.some((v) => Array.isArray(v));
  return withPath({ kind: 'in', values, regexes, hasNull, hasArray }, path, true, makeInTest(values, regexes, hasNull));
}

function parseSize(path: string, value: BsonValue): SizeNode {
  let size: number;
  try {
    size = parseIntegerToNonNegativeInt('$size', value);
  } catch (e) {
    if (e instanceof DossierError) fail('BadValue', `Failed to parse $size. ${e.message}`);
    throw e;
  }
  return withPath({ kind: 'size', size }, path, false, (v) => Array.isArray(v) && v.length === size);
}

/** mongod's BSONElement::tryCoerce to int64, with its messages. */
function coerceToInt64(v: BsonValue): bigint | string {
  const t = typeNameOf(v);
  if (t === 'int' || t === 'long') return parseIntegerToLong('', v);
  const n = toJsNumber(v);
  if (!Number.isFinite(n)) return 'Unable to coerce NaN/Inf to integral type';
  const truncated = Math.trunc(n);
  if (truncated >= 2 ** 63 || truncated < -(2 ** 63)) return 'Out of bounds coercing to integral value';
  return BigInt(truncated);
}

function parseMod(path: string, value: BsonValue): ModNode {
  if (!Array.isArray(value)) fail('BadValue', 'malformed mod, needs to be an array');
  if (value.length < 1) fail('BadValue', 'malformed mod, not enough elements');
  if (!isNumberType(typeNameOf(value[0]))) fail('BadValue', 'malformed mod, divisor not a number');
  if (value.length < 2) fail('BadValue', 'malformed mod, not enough elements');
  if (!isNumberType(typeNameOf(value[1]))) fail('BadValue', 'malformed mod, remainder not a number');
  if (value.length > 2) fail('BadValue', 'malformed mod, too many elements');
  const divisor = coerceToInt64(value[0]);
  if (typeof divisor === 'string') fail('BadValue', `malformed mod, divisor value is invalid :: caused by :: ${divisor}`);
  const remainder = coerceToInt64(value[1]);
  if (typeof remainder === 'string') fail('BadValue', `malformed mod, remainder value is invalid :: caused by :: ${remainder}`);
  if (divisor === 0n) fail('BadValue', 'divisor cannot be 0');
  return withPath({ kind: 'mod', divisor, remainder }, path, true, makeModTest(divisor, remainder));
}

function parseRegexDocument(path: string, entries: Array<[string, BsonValue]>): RegexNode {
  let pattern = '';
  let options = '';
  for (const [k, v] of entries) {
    if (k === '$regex') {
      if (typeof v === 'string') {
        pattern = v;
      } else if (isRegexValue(v)) {
        const [p, f] = regexParts(v);
        pattern = p;
        const flags = v instanceof RegExp ? f.replace(/[gyd]/g, '') : f;
        if (flags !== '') {
          if (options !== '') failLocation(51074, 'options set in both $regex and $options');
          options = flags;
        }
      } else {
        fail('BadValue', '$regex has to be a string');
      }
    } else if (k === '$options') {
      if (typeof v !== 'string') fail('BadValue', '$options has to be a string');
      if (options !== '') failLocation(51075, 'options set in both $regex and $options');
      options = v;
    }
  }
  return regex(path, pattern, options);
}

function parseElemMatch(path: string, value: BsonValue, ctx: Context): ElemMatchObjectNode | ElemMatchValueNode {
  if (!isDocument(value)) fail('BadValue', '$elemMatch needs an Object');
  const first = firstKey(value);
  // Value form when the operand is `{$op: ...}` with path operators; `{$and: ...}` and plain
  // field names make the object form (the element is a document to match).
  const valueForm = isExpressionDocument(value, true) && first !== undefined && !isPathlessOperator(first.slice(1));
  if (valueForm) {
    const children: FilterNode[] = [];
    parseSub('', value, ctx, Level.SubDocument, children);
    return withPath({ kind: 'elemMatchValue', children }, path, false, makeElemMatchValueTest(children));
  }
  const child = parseDocument(value, ctx, Level.SubDocument);
  return withPath({ kind: 'elemMatchObject', child }, path, false, makeElemMatchObjectTest(child));
}

function parseAll(path: string, value: BsonValue, ctx: Context): FilterNode {
  if (!Array.isArray(value)) fail('BadValue', '$all needs an array');
  const first = value[0];
  if (isDocument(first) && firstKey(first) === '$elemMatch') {
    const children = value.map((el: BsonValue) => {
      if (!isDocument(el) || firstKey(el) !== '$elemMatch') fail('BadValue', '$all/$elemMatch has to be consistent');
      return parseElemMatch(path, el['$elemMatch'], ctx);
    });
    return and(children);
  }
  const children: FilterNode[] = [];
  for (const el of value) {
    if (isRegexValue(el)) {
      children.push(regexFromValue(path, el));
    } else if (isDocument(el) && isPathOperator(firstKey(el) ?? '')) {
      fail('BadValue', 'no $ expressions in $all');
    } else {
      children.push(comparison(path, '$eq', el));
    }
  }
  if (children.length === 0) return { kind: 'alwaysFalse' };
  return and(children);
}

function parseBitTest(path: string, op: BitTestOperator, value: BsonValue): BitTestNode {
  const positions: number[] = [];
  const t = typeNameOf(value);
  if (t === 'array') {
    (value as BsonValue[]).forEach((el, i) => {
      try {
        positions.push(parseIntegerToNonNegativeInt(String(i), el));
      } catch (e) {
        if (e instanceof DossierError) fail('BadValue', `Failed to parse bit position. ${e.message}`);
        throw e;
      }
    });
  } else if (isNumberType(t)) {
    const mask = parseIntegerToNonNegativeLong(op, value);
    for (let bit = 0; bit < 63; bit++) if ((mask >> BigInt(bit)) & 1n) positions.push(bit);
  } else if (t === 'binData') {
    const bytes: Uint8Array = value instanceof Uint8Array ? value : value.buffer.subarray(0, value.position);
    for (let i = 0; i < bytes.length; i++) for (let b = 0; b < 8; b++) if (bytes[i]! & (1 << b)) positions.push(i * 8 + b);
  } else {
    fail('BadValue', `${path} takes an Array, a number, or a BinData but received: ${formatElement(op, value)}`);
  }
  return withPath({ kind: 'bitTest', op, positions, operand: value }, path, true, makeBitTest(op, positions));
}
