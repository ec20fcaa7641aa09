/**
 * Parsing of update documents into mongod's update tree (UpdateObjectNode / UpdateArrayNode /
 * leaf modifier nodes). An update is parsed and validated once per command; applying it to each
 * matched document only walks the tree. Messages and codes follow mongod 8.0.
 */
import { fail } from '../../base/index.js';
import { compareValues, isDocument, toJsNumber, typeNameOf, type BsonValue, type Collator, type Document, type Timestamp } from '../../bson/index.js';
import { formatElement, formatValue } from './format.js';
import { isArrayFilterPart, isPositionalPart, parseUpdatePath } from './paths.js';
import { toSafeNum, type BitOp, type SafeNum } from './numeric.js';

/**
 * Builds a predicate from a query filter. The candidate is always a document: array filters see
 * `{<identifier>: element}` and `$pull` conditions on operators see `{"": element}`, exactly how
 * mongod wraps elements to reuse its MatchExpression machinery.
 */
export type MatcherFactory = (filter: Document) => (candidate: Document) => boolean;

export interface ApplyContext {
  /** True when applying to the document an upsert is about to insert ($setOnInsert applies; _id may be set). */
  isUpsertInsert: boolean;
  /** The array index (as a string) the query matched, for the positional `$` operator. */
  positionalMatch?: string;
  /** The time `$currentDate: true` / `{$type: 'date'}` writes. */
  now: Date;
  /** Issues a fresh Timestamp for `$currentDate: {$type: 'timestamp'}` and zero timestamps in replacements. */
  nowTimestamp: () => Timestamp;
}

/** A pipeline-style update, parsed by the aggregation layer (injected; not part of this module). */
export type PipelineUpdateFn = (doc: Document, ctx: ApplyContext) => Document;

export interface ParseUpdateOptions {
  arrayFilters?: Document[];
  matcherFactory: MatcherFactory;
  parsePipeline?: (pipeline: Document[]) => PipelineUpdateFn;
  /** The statement's collation: $min/$max, $addToSet, $pull/$pullAll and $push's $sort compare strings by it. */
  collator?: Collator | null;
}

export type ModifierName =
  | '$set' | '$unset' | '$inc' | '$mul' | '$min' | '$max' | '$rename' | '$currentDate' | '$setOnInsert'
  | '$push' | '$addToSet' | '$pop' | '$pull' | '$pullAll' | '$bit';

const MODIFIERS: ReadonlySet<string> = new Set<ModifierName>([
  '$set', '$unset', '$inc', '$mul', '$min', '$max', '$rename', '$currentDate', '$setOnInsert',
  '$push', '$addToSet', '$pop', '$pull', '$pullAll', '$bit',
]);

export type LeafOp =
  | { kind: 'set'; value: BsonValue; insertOnly: boolean }
  | { kind: 'unset' }
  | { kind: 'arith'; op: 'inc' | 'mul'; operand: SafeNum }
  | { kind: 'compare'; mode: 'min' | 'max'; value: BsonValue; collator: Collator | null }
  | { kind: 'currentDate'; asTimestamp: boolean }
  | { kind: 'push'; values: BsonValue[]; position: number; slice: number; sort?: PushSort; collator?: Collator | null }
  | { kind: 'addToSet'; values: BsonValue[]; collator: Collator | null }
  | { kind: 'pop'; fromFront: boolean }
  | { kind: 'pull'; matches: (element: BsonValue) => boolean }
  | { kind: 'bit'; ops: Array<{ op: BitOp; operand: SafeNum }> }
  /** Marks the source path of a $rename so that conflicting paths are detected; applies nothing. */
  | { kind: 'renamePlaceholder' }
  | { kind: 'rename'; from: string; to: string; rawElement: string };

export type PushSort = { wholeValue: true; direction: 1 | -1 } | { wholeValue: false; pattern: Array<[string, 1 | -1]> };

export interface LeafNode {
  type: 'leaf';
  modifier: ModifierName;
  op: LeafOp;
}

export interface ObjectNode {
  type: 'object';
  children: Map<string, UpdateNode>;
  positional?: UpdateNode;
}

/** Children keyed by array-filter identifier; '' stands for `$[]` (every element). */
export interface ArrayNode {
  type: 'array';
  children: Map<string, UpdateNode>;
}

export type UpdateNode = LeafNode | ObjectNode | ArrayNode;

export interface ArrayFilter {
  identifier: string;
  matches: (element: BsonValue) => boolean;
}

export type ParsedUpdate =
  | { kind: 'replacement'; replacement: Document }
  | { kind: 'modifier'; root: ObjectNode; arrayFilters: Map<string, ArrayFilter>; positional: boolean }
  | { kind: 'pipeline'; apply: PipelineUpdateFn };

// -----------------------------------------------------------------------------------------------

/** Parses an update (replacement document, modifier document or pipeline) once, validating it. */
export function parseUpdate(update: Document | Document[], options: ParseUpdateOptions): ParsedUpdate {
  if (Array.isArray(update)) {
    if (options.arrayFilters && options.arrayFilters.length > 0) {
      fail('FailedToParse', 'arrayFilters may not be specified for pipeline-syle updates');
    }
    if (!options.parsePipeline) {
      fail('BadValue', 'Pipeline-style updates (an array of stages) are not supported yet');
    }
    return { kind: 'pipeline', apply: options.parsePipeline(update) };
  }
  if (!isDocument(update)) fail('FailedToParse', 'Update argument must be either an object or an array');

  const keys = Object.keys(update);
  // mongod decides by the first field: a '$' there makes the whole document a modifier document.
  if (keys.length === 0 || !keys[0]!.startsWith('$')) {
    return { kind: 'replacement', replacement: parseReplacement(update) };
  }

  const arrayFilters = parseArrayFilters(options.arrayFilters ?? [], options.matcherFactory);
  const root: ObjectNode = { type: 'object', children: new Map() };
  const foundIdentifiers = new Set<string>();
  let positional = false;
  for (const modifier of keys) {
    if (!MODIFIERS.has(modifier)) {
      fail('FailedToParse', `Unknown modifier: ${modifier}. Expected a valid update modifier or pipeline-style update specified as an array`);
    }
    const spec = update[modifier];
    if (!isDocument(spec)) {
      fail('FailedToParse', `Modifiers operate on fields but we found type ${typeNameOf(spec)} instead. For example: {$mod: {<field>: ...}} not {${formatElement(modifier, spec)}}`);
    }
    for (const field of Object.keys(spec)) {
      const isPositional = parseAndMerge(root, modifier as ModifierName, field, (spec as Document)[field], arrayFilters, foundIdentifiers, options.matcherFactory, options.collator ?? null);
      positional ||= isPositional;
    }
  }
  for (const id of arrayFilters.keys()) {
    if (!foundIdentifiers.has(id)) {
      fail('FailedToParse', `The array filter for identifier '${id}' was not used in the update ${formatValue(update)}`);
    }
  }
  return { kind: 'modifier', root, arrayFilters, positional };
}

function parseReplacement(doc: Document): Document {
  for (const k of Object.keys(doc)) {
    if (k.startsWith('$')) {
      fail('DollarPrefixedFieldName', `The dollar ($) prefixed field '${k}' in '${k}' is not allowed in the context of an update's replacement document. Consider using an aggregation pipeline with $replaceWith.`);
    }
  }
  return doc;
}

const IDENTIFIER_RE = /^[a-z][a-zA-Z0-9]*$/;

/** The placeholder of an array filter: the first component of every path in it (through $and/$or/$nor). */
function collectTopLevelNames(filter: Document, out: string[]): void {
  for (const key of Object.keys(filter)) {
    if (key.startsWith('$')) {
      const v = filter[key];
      if ((key === '$and' || key === '$or' || key === '$nor') && Array.isArray(v)) {
        for (const sub of v) if (isDocument(sub)) collectTopLevelNames(sub, out);
      }
      continue;
    }
    out.push(key.split('.')[0]!);
  }
}

function parseArrayFilters(filters: Document[], matcherFactory: MatcherFactory): Map<string, ArrayFilter> {
  const out = new Map<string, ArrayFilter>();
  for (const filter of filters) {
    if (!isDocument(filter)) fail('TypeMismatch', `Each array filter must be an object, found ${typeNameOf(filter)}`);
    const names: string[] = [];
    collectTopLevelNames(filter, names);
    let identifier: string | undefined;
    for (const name of names) {
      if (identifier !== undefined && name !== identifier) {
        fail('FailedToParse', `Error parsing array filter :: caused by :: Expected a single top-level field name, found '${identifier}' and '${name}'`);
      }
      if (!IDENTIFIER_RE.test(name)) {
        fail('BadValue', `Error parsing array filter :: caused by :: The top-level field name must be an alphanumeric string beginning with a lowercase letter, found '${name}'`);
      }
      identifier = name;
    }
    if (identifier === undefined) fail('FailedToParse', 'Cannot use an expression without a top-level field name in arrayFilters');
    if (out.has(identifier)) fail('FailedToParse', `Found multiple array filters with the same top-level field name ${identifier}`);
    const predicate = matcherFactory(filter);
    const id = identifier;
    out.set(id, { identifier: id, matches: (element) => predicate({ [id]: element }) });
  }
  return out;
}

/** UpdateObjectNode::parseAndMerge: adds one modifier's leaf to the tree; returns whether it is positional. */
function parseAndMerge(
  root: ObjectNode,
  modifier: ModifierName,
  field: string,
  value: BsonValue,
  arrayFilters: Map<string, ArrayFilter>,
  foundIdentifiers: Set<string>,
  matcherFactory: MatcherFactory,
  collator: Collator | null,
): boolean {
  let pathText = field;
  if (modifier === '$rename') {
    // The source path gets a placeholder so that conflicts with other modifiers are caught.
    parseAndMergeLeaf(root, field, { type: 'leaf', modifier, op: { kind: 'renamePlaceholder' } }, arrayFilters, foundIdentifiers);
    if (typeof value !== 'string') {
      fail('BadValue', `The 'to' field for $rename must be a string: ${formatElement(field, value)}`);
    }
    pathText = value;
  }
  const parts = parseUpdatePath(pathText);
  let positionalCount = 0;
  let positionalIndex = -1;
  parts.forEach((p, i) => {
    if (isPositionalPart(p)) {
      positionalCount++;
      if (positionalIndex < 0) positionalIndex = i;
    }
  });
  if (positionalCount > 1) fail('BadValue', `Too many positional (i.e. '$') elements found in path '${pathText}'`);
  if (positionalIndex === 0) fail('BadValue', `Cannot have positional (i.e. '$') element in the first position in path '${pathText}'`);

  const leaf: LeafNode = { type: 'leaf', modifier, op: parseLeafOp(modifier, field, value, matcherFactory, collator) };
  parseAndMergeLeaf(root, pathText, leaf, arrayFilters, foundIdentifiers);
  return positionalCount > 0;
}

function parseAndMergeLeaf(root: ObjectNode, pathText: string, leaf: LeafNode, arrayFilters: Map<string, ArrayFilter>, foundIdentifiers: Set<string>): void {
  const parts = parseUpdatePath(pathText);
  const childName = (i: number): string => {
    const part = parts[i]!;
    if (!isArrayFilterPart(part)) return part;
    if (i === 0) fail('BadValue', `Cannot have array filter identifier (i.e. '$[<id>]') element in the first position in path '${pathText}'`);
    const id = part.slice(2, -1);
    if (id.length > 0 && !arrayFilters.has(id)) fail('BadValue', `No array filter found for identifier '${id}' in path '${pathText}'`);
    if (id.length > 0) foundIdentifiers.add(id);
    return id;
  };
  let current: ObjectNode | ArrayNode = root;
  for (let i = 0; i < parts.length - 1; i++) {
    const name = childName(i);
    const shouldBeArray = isArrayFilterPart(parts[i + 1]!);
    let child = getChild(current, name);
    if (child) {
      if ((shouldBeArray && child.type !== 'array') || (!shouldBeArray && child.type !== 'object')) {
        fail('ConflictingUpdateOperators', `Updating the path '${pathText}' would create a conflict at '${parts.slice(0, i + 1).join('.')}'`);
      }
    } else {
      child = shouldBeArray ? { type: 'array', children: new Map() } : { type: 'object', children: new Map() };
      setChild(current, name, child);
    }
    current = child as ObjectNode | ArrayNode;
  }
  const last = childName(parts.length - 1);
  if (getChild(current, last)) {
    fail('ConflictingUpdateOperators', `Updating the path '${pathText}' would create a conflict at '${pathText}'`);
  }
  setChild(current, last, leaf);
}

function getChild(node: ObjectNode | ArrayNode, name: string): UpdateNode | undefined {
  if (node.type === 'object' && isPositionalPart(name)) return node.positional;
  return node.children.get(name);
}

function setChild(node: ObjectNode | ArrayNode, name: string, child: UpdateNode): void {
  if (node.type === 'object' && isPositionalPart(name)) node.positional = child;
  else node.children.set(name, child);
}

// -----------------------------------------------------------------------------------------------
// Leaf modifiers' arguments.

/** BSONElement::parseIntegerElementToLong, the integer rule of $slice, $position and $pop. */
function parseIntegerArgument(v: BsonValue): { ok: true; value: number } | { ok: false; message: string } {
  const n = toSafeNum(v);
  if (!n) return { ok: false, message: 'Expected a number' };
  switch (n.t) {
    case 'int':
      return { ok: true, value: n.v };
    case 'long':
      return { ok: true, value: Number(n.v) };
    case 'double':
      if (Number.isNaN(n.v)) return { ok: false, message: 'Expected an integer, but found NaN' };
      if (n.v >= 2 ** 63 || n.v < -(2 ** 63)) return { ok: false, message: 'Cannot represent as a 64-bit integer' };
      if (!Number.isInteger(n.v)) return { ok: false, message: 'Expected an integer' };
      return { ok: true, value: n.v };
    case 'decimal': {
      const x = Number((v as { toString(): string }).toString());
      if (!Number.isInteger(x)) return { ok: false, message: 'Cannot represent as a 64-bit integer' };
      return { ok: true, value: x };
    }
  }
}

/** Query operators that apply to a path (MatchExpressionParser::parsePathAcceptingKeyword). */
const PATH_ACCEPTING_KEYWORDS: ReadonlySet<string> = new Set([
  '$eq', '$gt', '$gte', '$lt', '$lte', '$ne', '$in', '$nin', '$all', '$exists', '$mod', '$type', '$regex',
  '$options', '$elemMatch', '$size', '$not', '$within', '$geoWithin', '$geoIntersects', '$near',
  '$nearSphere', '$bitsAllSet', '$bitsAllClear', '$bitsAnySet', '$bitsAnyClear', '$_internalSchemaType',
]);

function parseLeafOp(modifier: ModifierName, field: string, value: BsonValue, matcherFactory: MatcherFactory, collator: Collator | null): LeafOp {
  switch (modifier) {
    case '$set':
      return { kind: 'set', value, insertOnly: false };
    case '$setOnInsert':
      return { kind: 'set', value, insertOnly: true };
    case '$unset':
      return { kind: 'unset' };
    case '$inc':
    case '$mul': {
      const operand = toSafeNum(value);
      if (!operand) {
        fail('TypeMismatch', `Cannot ${modifier === '$inc' ? 'increment' : 'multiply'} with non-numeric argument: {${formatElement(field, value)}}`);
      }
      return { kind: 'arith', op: modifier === '$inc' ? 'inc' : 'mul', operand };
    }
    case '$min':
    case '$max':
      return { kind: 'compare', mode: modifier === '$min' ? 'min' : 'max', value, collator };
    case '$currentDate':
      return parseCurrentDate(value);
    case '$push':
      return { ...parsePush(value), ...(collator ? { collator } : {}) } as LeafOp;
    case '$addToSet':
      return parseAddToSet(value, collator);
    case '$pop': {
      const n = parseIntegerArgument(value);
      if (!n.ok) fail('FailedToParse', `${n.message} in: ${formatElement(field, value)}`);
      if (n.value !== 1 && n.value !== -1) fail('FailedToParse', `$pop expects 1 or -1, found: ${n.value}`);
      return { kind: 'pop', fromFront: n.value === -1 };
    }
    case '$pull':
      return { kind: 'pull', matches: pullMatcher(value, matcherFactory, collator) };
    case '$pullAll': {
      if (!Array.isArray(value)) fail('BadValue', `$pullAll requires an array argument but was given a ${typeNameOf(value)}`);
      const values = value as BsonValue[];
      return { kind: 'pull', matches: (element) => values.some((v) => compareValues(element, v, collator) === 0) };
    }
    case '$bit':
      return parseBit(value);
    case '$rename': {
      const to = value as string;
      if (to.includes('\0')) fail('BadValue', "The 'to' field for $rename cannot contain an embedded null byte");
      const fromParts = field.split('.');
      const toParts = to.split('.');
      const raw = formatElement(field, value);
      if (field === to) fail('BadValue', `The source and target field for $rename must differ: ${raw}`);
      const isPrefix = (a: string[], b: string[]): boolean => a.length < b.length && a.every((p, i) => p === b[i]);
      if (isPrefix(fromParts, toParts) || isPrefix(toParts, fromParts)) {
        fail('BadValue', `The source and target field for $rename must not be on the same path: ${raw}`);
      }
      const dynamic = (parts: string[]): boolean => parts.some((p) => isPositionalPart(p) || isArrayFilterPart(p));
      if (dynamic(fromParts)) fail('BadValue', `The source field for $rename may not be dynamic: ${field}`);
      if (dynamic(toParts)) fail('BadValue', `The destination field for $rename may not be dynamic: ${to}`);
      return { kind: 'rename', from: field, to, rawElement: raw };
    }
  }
}

function parseCurrentDate(value: BsonValue): LeafOp {
  if (typeof value === 'boolean') return { kind: 'currentDate', asTimestamp: false };
  if (isDocument(value)) {
    let asTimestamp: boolean | undefined;
    for (const k of Object.keys(value)) {
      if (k !== '$type') fail('BadValue', `Unrecognized $currentDate option: ${k}`);
      const t = (value as Document)[k];
      if (t === 'date') asTimestamp = false;
      else if (t === 'timestamp') asTimestamp = true;
    }
    if (asTimestamp === undefined) {
      fail('BadValue', "The '$type' string field is required to be 'date' or 'timestamp': {$currentDate: {field : {$type: 'date'}}}");
    }
    return { kind: 'currentDate', asTimestamp };
  }
  fail('BadValue', `${typeNameOf(value)} is not valid type for $currentDate. Please use a boolean ('true') or a $type expression ({$type: 'timestamp/date'}).`);
}

const LONG_MAX_AS_NUMBER = Number.MAX_SAFE_INTEGER;

function parsePush(value: BsonValue): LeafOp {
  if (!isDocument(value) || !Object.prototype.hasOwnProperty.call(value, '$each')) {
    return { kind: 'push', values: [value], position: LONG_MAX_AS_NUMBER, slice: LONG_MAX_AS_NUMBER };
  }
  const clauses = value as Document;
  for (const k of Object.keys(clauses)) {
    if (k !== '$each' && k !== '$slice' && k !== '$sort' && k !== '$position') fail('BadValue', `Unrecognized clause in $push: ${k}`);
  }
  const each = clauses['$each'];
  if (!Array.isArray(each)) fail('BadValue', `The argument to $each in $push must be an array but it was of type: ${typeNameOf(each)}`);
  const op: Extract<LeafOp, { kind: 'push' }> = { kind: 'push', values: [...(each as BsonValue[])], position: LONG_MAX_AS_NUMBER, slice: LONG_MAX_AS_NUMBER };
  if (Object.prototype.hasOwnProperty.call(clauses, '$slice')) {
    const n = parseIntegerArgument(clauses['$slice']);
    if (!n.ok) fail('BadValue', `The value for $slice must be an integer value but was given type: ${typeNameOf(clauses['$slice'])}`);
    op.slice = n.value;
  }
  if (Object.prototype.hasOwnProperty.call(clauses, '$sort')) {
    const sort = clauses['$sort'];
    if (isDocument(sort)) {
      const keys = Object.keys(sort);
      if (keys.length === 0) fail('BadValue', 'The sort pattern is empty when it should be a set of fields.');
      const pattern: Array<[string, 1 | -1]> = [];
      for (const k of keys) {
        const dirValue = (sort as Document)[k];
        const dir = toSafeNum(dirValue) ? toJsNumber(dirValue) : 0;
        if (dir !== 1 && dir !== -1) fail('BadValue', 'The sort element value must be either 1 or -1');
        if (k.length === 0) fail('BadValue', 'The sort field cannot be empty');
        if (k.split('.').some((p) => p.length === 0)) fail('BadValue', `The sort field is a dotted field but has an empty part: ${k}`);
        pattern.push([k, dir]);
      }
      op.sort = { wholeValue: false, pattern };
    } else if (toSafeNum(sort)) {
      const dir = toJsNumber(sort);
      if (dir !== 1 && dir !== -1) fail('BadValue', 'The sort element value must be either 1 or -1');
      op.sort = { wholeValue: true, direction: dir };
    } else {
      fail('BadValue', 'The $sort is invalid: use 1/-1 to sort the whole element, or {field:1/-1} to sort embedded fields');
    }
  }
  if (Object.prototype.hasOwnProperty.call(clauses, '$position')) {
    const n = parseIntegerArgument(clauses['$position']);
    if (!n.ok) fail('BadValue', `The value for $position must be an integer value, not of type: ${typeNameOf(clauses['$position'])}`);
    op.position = n.value;
  }
  return op;
}

function parseAddToSet(value: BsonValue, collator: Collator | null): LeafOp {
  let values: BsonValue[] = [value];
  if (isDocument(value)) {
    const keys = Object.keys(value);
    if (keys[0] === '$each') {
      const each = (value as Document)['$each'];
      if (!Array.isArray(each)) fail('TypeMismatch', `The argument to $each in $addToSet must be an array but it was of type ${typeNameOf(each)}`);
      if (keys.length > 1) fail('BadValue', `Found unexpected fields after $each in $addToSet: ${formatValue(value)}`);
      values = each as BsonValue[];
    }
  }
  // Duplicates within the argument are dropped up front, keeping first occurrences in order.
  const unique: BsonValue[] = [];
  for (const v of values) if (!unique.some((u) => compareValues(u, v, collator) === 0)) unique.push(v);
  return { kind: 'addToSet', values: unique, collator };
}

function pullMatcher(value: BsonValue, matcherFactory: MatcherFactory, collator: Collator | null): (element: BsonValue) => boolean {
  const t = typeNameOf(value);
  if (t === 'object' && isDocument(value)) {
    const first = Object.keys(value)[0];
    if (first === undefined || !PATH_ACCEPTING_KEYWORDS.has(first)) {
      // A document condition ({a: 1}, {$or: ...}) is a query that only documents can match.
      const predicate = matcherFactory(value);
      return (element) => isDocument(element) && predicate(element);
    }
  }
  if (t === 'object' || t === 'regex') {
    // An operator condition ({$gt: 5}) or a regex applies to the element itself: wrap both sides.
    const predicate = matcherFactory({ '': value });
    return (element) => predicate({ '': element });
  }
  return (element) => compareValues(element, value, collator) === 0;
}

function parseBit(value: BsonValue): LeafOp {
  if (!isDocument(value)) {
    fail('BadValue', `The $bit modifier is not compatible with a ${typeNameOf(value)}. You must pass in an embedded document: {$bit: {field: {and/or/xor: #}}`);
  }
  const ops: Array<{ op: BitOp; operand: SafeNum }> = [];
  for (const k of Object.keys(value)) {
    const operandValue = (value as Document)[k];
    if (k !== 'and' && k !== 'or' && k !== 'xor') {
      fail('BadValue', `The $bit modifier only supports 'and', 'or', and 'xor', not '${k}' which is an unknown operator: {${formatElement(k, operandValue)}}`);
    }
    const operand = toSafeNum(operandValue);
    if (!operand || (operand.t !== 'int' && operand.t !== 'long')) {
      fail('BadValue', `The $bit modifier field must be an Integer(32/64 bit); a '${typeNameOf(operandValue)}' is not supported here: {${formatElement(k, operandValue)}}`);
    }
    ops.push({ op: k, operand });
  }
  if (ops.length === 0) fail('BadValue', 'You must pass in at least one bitwise operation. The format is: {$bit: {field: {and/or/xor: #}}');
  return { kind: 'bit', ops };
}

