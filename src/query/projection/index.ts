/**
 * find() projections as mongod 4.4+ parses and applies them (projection_ast / projection_parser):
 * inclusion or exclusion, `_id` rules, dotted paths through arrays of documents, find's `$slice`
 * and `$elemMatch`, the positional `a.$`, and aggregation expressions through an injected parser.
 */
import { failLocation, fail } from '../../base/index.js';
import {
  BSON_TYPE_NUMBERS, isDocument, orderedKeys, toJsNumber, typeNameOf, type BsonValue, type Document,
} from '../../bson/index.js';
import { formatElement } from '../update/format.js';
import { getField, hasField, setField } from '../update/paths.js';
import type { MatcherFactory } from '../update/parse.js';

export type { MatcherFactory } from '../update/parse.js';

/** An aggregation expression compiled by the aggregation layer; evaluated against the whole document. */
export type ProjectionExpression = (root: Document) => BsonValue;

export interface ParseProjectionOptions {
  matcherFactory: MatcherFactory;
  /** Compiles `{a: "$b"}`, `{a: {$literal: 5}}` and other expressions; without it they are refused. */
  parseExpression?: (expression: BsonValue) => ProjectionExpression;
  /** The query, so that a positional projection can be checked against it (mongod's 31277). */
  query?: Document;
}

type Leaf =
  | { kind: 'include' }
  | { kind: 'exclude' }
  | { kind: 'slice'; skip: number | undefined; limit: number }
  | { kind: 'elemMatch'; field: string; matches: (candidate: Document) => boolean }
  | { kind: 'positional' }
  | { kind: 'expression'; evaluate: ProjectionExpression };

interface PathNode {
  kind: 'path';
  children: Map<string, PathNode | Leaf>;
}

export interface ParsedProjection {
  type: 'inclusion' | 'exclusion';
  root: PathNode;
  /** True when applying needs ctx.positionalMatch (a positional `a.$` projection). */
  hasPositional: boolean;
  /** The path of the positional projection, without its `.$`. */
  positionalPath?: string[];
}

export interface ApplyProjectionContext {
  /** The array index (as a string) the query matched, for `a.$`. */
  positionalMatch?: string;
}

const POSITIONAL_IN_MIDDLE =
  "As of 4.4, it's illegal to specify positional operator in the middle of a path.Positional projection may only be used at the end, for example: a.b.$. If the query previously used a form like a.b.$.d, remove the parts following the '$' and the results will be equivalent.";

/** FieldPath's validation, with its codes. */
function parseFieldPath(path: string): string[] {
  if (path.length === 0) failLocation(40352, 'FieldPath cannot be constructed with empty string');
  if (path.endsWith('.')) failLocation(40353, "FieldPath must not end with a '.'.");
  const parts = path.split('.');
  for (const p of parts) {
    if (p.length === 0) failLocation(15998, 'FieldPath field names may not be empty strings.');
    if (p.startsWith('$')) failLocation(16410, "FieldPath field names may not start with '$'. Consider using $getField or $setField.");
  }
  return parts;
}

interface ParseContext {
  options: ParseProjectionOptions;
  type?: 'inclusion' | 'exclusion';
  idSpecified: boolean;
  hasPositional: boolean;
  positionalPath?: string[];
  hasElemMatch: boolean;
  hasFindSlice: boolean;
  idIncludedEntirely: boolean;
  idExcludedEntirely: boolean;
}

function addNodeAtPath(root: PathNode, parts: string[], leaf: PathNode | Leaf): void {
  let node = root;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const child = node.children.get(part);
    if (i === parts.length - 1) {
      if (child) failLocation(31250, `Path collision at ${parts.join('.')}`);
      node.children.set(part, leaf);
      return;
    }
    if (!child) {
      const created: PathNode = { kind: 'path', children: new Map() };
      node.children.set(part, created);
      node = created;
    } else if (child.kind !== 'path') {
      failLocation(31249, `Path collision at ${parts.join('.')} remaining portion ${parts.slice(1).join('.')}`);
    } else {
      node = child;
    }
  }
}

function isInclusionOrExclusionType(v: BsonValue): boolean {
  const t = typeNameOf(v);
  return t === 'bool' || t === 'int' || t === 'long' || t === 'double' || t === 'decimal';
}

function trueValue(v: BsonValue): boolean {
  if (typeof v === 'boolean') return v;
  const n = toJsNumber(v);
  return n !== 0; // NaN counts as true, as in mongod
}

function typeNumber(v: BsonValue): number {
  const t = typeNameOf(v);
  return t === 'missing' ? 0 : BSON_TYPE_NUMBERS[t];
}

function requireExpressionParser(ctx: ParseContext, field: string, value: BsonValue): ProjectionExpression {
  if (!ctx.options.parseExpression) {
    fail('BadValue', `Aggregation expressions in find projections are not supported yet: {${formatElement(field, value)}}`);
  }
  return ctx.options.parseExpression(value);
}

/** Does the query constrain a path whose first component is `field` (hasPositionalOperatorMatch)? */
function queryMentions(query: Document, field: string): boolean {
  for (const key of Object.keys(query)) {
    const v = query[key];
    if (key === '$and' || key === '$or' || key === '$nor') {
      if (Array.isArray(v) && v.some((c) => isDocument(c) && queryMentions(c, field))) return true;
      continue;
    }
    if (key.startsWith('$')) continue;
    if (key.split('.')[0] === field) return true;
  }
  return false;
}

function parseFindSlice(value: BsonValue): Leaf {
  if (isInclusionOrExclusionType(value)) return { kind: 'slice', skip: undefined, limit: Math.trunc(toJsNumber(value)) };
  if (Array.isArray(value)) {
    if (value.length !== 2) failLocation(31272, '$slice array argument should be of form [skip, limit]');
    const [skip, limit] = value as [BsonValue, BsonValue];
    if (!isInclusionOrExclusionType(skip) || typeof skip === 'boolean') failLocation(31257, `$slice expects the skip argument to be a number, got ${typeNumber(skip)}`);
    if (!isInclusionOrExclusionType(limit) || typeof limit === 'boolean') failLocation(31258, `$slice expects the limit argument to be a number, got ${typeNumber(limit)}`);
    const l = Math.trunc(toJsNumber(limit));
    if (!(l > 0)) failLocation(31259, `$slice limit must be positive, got ${l}`);
    return { kind: 'slice', skip: Math.trunc(toJsNumber(skip)), limit: l };
  }
  failLocation(31273, '$slice only supports numbers and [skip, limit] arrays');
}

function parseSubObject(ctx: ParseContext, field: string, fullPath: string[], obj: Document, parent: PathNode, isRoot: boolean): void {
  const keys = Object.keys(obj);
  const path = parseFieldPath(field);
  if (keys.length === 1 && keys[0]!.startsWith('$')) {
    const op = keys[0]!;
    const arg = obj[op];
    if (op === '$slice') {
      try {
        addNodeAtPath(parent, path, parseFindSlice(arg));
      } catch (e) {
        // Not find()'s $slice: maybe the aggregation $slice expression.
        if (!ctx.options.parseExpression) throw e;
        addExpression(ctx, field, path, obj, parent);
        return;
      }
      ctx.hasFindSlice = true;
      return;
    }
    if (op === '$elemMatch') {
      if (!isDocument(arg)) failLocation(31274, `elemMatch: Invalid argument, object required, but got ${typeNumber(arg)}`);
      if (ctx.hasPositional) failLocation(31255, 'Cannot specify positional operator and $elemMatch.');
      if (path.length !== 1 || !isRoot) failLocation(31275, 'Cannot use $elemMatch projection on a nested field.');
      const predicate = ctx.options.matcherFactory({ [field]: { $elemMatch: arg } });
      addNodeAtPath(parent, path, { kind: 'elemMatch', field, matches: predicate });
      ctx.hasElemMatch = true;
      return;
    }
    if (op === '$meta') {
      fail('BadValue', `$meta is not supported in projections: {${formatElement(field, obj)}}`);
    }
    addExpression(ctx, field, path, obj, parent);
    return;
  }
  // A sub-projection: {a: {b: 1, c: 1}} is {'a.b': 1, 'a.c': 1}.
  const node: PathNode = { kind: 'path', children: new Map() };
  addNodeAtPath(parent, path, node);
  for (const k of keys) parseElement(ctx, k, obj[k], [...fullPath, ...path], node, false);
}

function addExpression(ctx: ParseContext, field: string, path: string[], value: BsonValue, parent: PathNode): void {
  if (ctx.type === 'exclusion') failLocation(31252, 'Cannot use expression other than $meta in exclusion projection');
  const evaluate = requireExpressionParser(ctx, field, value);
  addNodeAtPath(parent, path, { kind: 'expression', evaluate });
  ctx.type = 'inclusion';
}

function parseElement(ctx: ParseContext, field: string, value: BsonValue, fullPathToParent: string[], parent: PathNode, isRoot: boolean): void {
  if (field.includes('.$.')) failLocation(31394, POSITIONAL_IN_MIDDLE);
  const positional = field.endsWith('.$') || field === '$';
  const pathText = positional && field !== '$' ? field.slice(0, -2) : field;

  if (isDocument(value)) {
    if (positional) failLocation(31271, 'positional projection cannot be used with an expression or sub object');
    parseSubObject(ctx, field, fullPathToParent, value, parent, isRoot);
    return;
  }
  if (!isInclusionOrExclusionType(value)) {
    if (positional) failLocation(31308, 'positional projection cannot be used with a literal');
    const path = parseFieldPath(field);
    const evaluate = requireExpressionParser(ctx, field, value);
    addNodeAtPath(parent, path, { kind: 'expression', evaluate });
    if (ctx.type === 'exclusion') failLocation(31310, `Cannot use an expression ${formatElement(field, value)} in an exclusion projection`);
    ctx.type = 'inclusion';
    return;
  }
  const isTopLevelId = field === '_id' && isRoot;
  if (trueValue(value)) {
    const path = parseFieldPath(pathText);
    if (!positional) {
      addNodeAtPath(parent, path, { kind: 'include' });
      if (isTopLevelId) ctx.idIncludedEntirely = true;
    } else {
      if (ctx.hasPositional) failLocation(31276, 'Cannot specify more than one positional projection per query.');
      if (ctx.hasElemMatch) failLocation(31256, 'Cannot specify positional operator and $elemMatch.');
      const matchField = fullPathToParent.length > 0 ? fullPathToParent[0]! : path[0]!;
      if (ctx.options.query && !queryMentions(ctx.options.query, matchField)) {
        failLocation(31277, `Positional projection '${field}' does not match the query document.`);
      }
      addNodeAtPath(parent, path, { kind: 'positional' });
      ctx.hasPositional = true;
      ctx.positionalPath = [...fullPathToParent, ...path];
    }
    if (!isTopLevelId) {
      if (ctx.type === 'exclusion') failLocation(31253, `Cannot do inclusion on field ${field} in exclusion projection`);
      ctx.type = 'inclusion';
    }
    return;
  }
  if (positional) failLocation(31395, 'positional projection cannot be used with exclusion');
  addNodeAtPath(parent, parseFieldPath(field), { kind: 'exclude' });
  if (!isTopLevelId) {
    if (ctx.type === 'inclusion') failLocation(31254, `Cannot do exclusion on field ${field} in inclusion projection`);
    ctx.type = 'exclusion';
  } else {
    ctx.idExcludedEntirely = true;
  }
}

/** Parses a find() projection once; apply it with applyProjection. */
export function parseProjection(spec: Document, options: ParseProjectionOptions): ParsedProjection {
  if (!isDocument(spec)) fail('TypeMismatch', 'projection must be an object');
  const root: PathNode = { kind: 'path', children: new Map() };
  const ctx: ParseContext = {
    options, idSpecified: false, hasPositional: false, hasElemMatch: false, hasFindSlice: false,
    idIncludedEntirely: false, idExcludedEntirely: false,
  };
  for (const field of Object.keys(spec)) {
    ctx.idSpecified ||= field === '_id' || field.startsWith('_id.');
    parseElement(ctx, field, spec[field], [], root, true);
  }
  // computeProjectionType: the rules for projections that named no ordinary field.
  let type = ctx.type;
  if (!type) {
    if (ctx.hasFindSlice) type = ctx.idIncludedEntirely ? 'inclusion' : 'exclusion';
    else if (ctx.hasElemMatch) type = 'inclusion';
    else if (ctx.idIncludedEntirely) type = 'inclusion';
    else type = 'exclusion';
  }
  if (!ctx.idSpecified && type === 'inclusion') addNodeAtPath(root, ['_id'], { kind: 'include' });
  if (type === 'exclusion' && ctx.idIncludedEntirely) root.children.delete('_id');
  const parsed: ParsedProjection = { type, root, hasPositional: ctx.hasPositional };
  if (ctx.positionalPath) parsed.positionalPath = ctx.positionalPath;
  return parsed;
}

// -----------------------------------------------------------------------------------------------

function applySlice(value: BsonValue, leaf: Extract<Leaf, { kind: 'slice' }>): BsonValue {
  if (!Array.isArray(value)) return value;
  const n = value.length;
  if (leaf.skip === undefined) {
    return leaf.limit >= 0 ? value.slice(0, leaf.limit) : value.slice(Math.max(0, n + leaf.limit));
  }
  const start = leaf.skip >= 0 ? Math.min(leaf.skip, n) : Math.max(0, n + leaf.skip);
  return value.slice(start, start + leaf.limit);
}

interface ApplyState {
  rootDoc: Document;
  positionalMatch: string | undefined;
  positionalPath: string[] | undefined;
}

function positionalIndex(st: ApplyState): number {
  const m = st.positionalMatch;
  const i = m === undefined ? Number.NaN : Number(m);
  if (!Number.isInteger(i) || i < 0) failLocation(51246, "positional operator '.$' couldn't find a matching element in the array");
  return i;
}

/** Applies the positional projection at the first array along the remaining path. */
function applyPositional(st: ApplyState, value: BsonValue, rest: string[]): BsonValue {
  if (Array.isArray(value)) {
    const i = positionalIndex(st);
    if (i >= value.length) failLocation(51246, "positional operator '.$' couldn't find a matching element in the array");
    const element = value[i];
    if (rest.length === 0) return [element];
    if (!isDocument(element)) failLocation(51247, "positional operator '.$' element mismatch");
    return [applyPositionalInDocument(st, element, rest)];
  }
  if (isDocument(value) && rest.length > 0) return applyPositionalInDocument(st, value, rest);
  failLocation(51247, "positional operator '.$' element mismatch");
}

function applyPositionalInDocument(st: ApplyState, doc: Document, rest: string[]): Document {
  const out: Document = {};
  const [head, ...tail] = rest as [string, ...string[]];
  if (hasField(doc, head)) setField(out, head, applyPositional(st, getField(doc, head), tail));
  return out;
}

/** A path node in an inclusion projection, applied to one value (documents, arrays of them). */
function includeValue(st: ApplyState, node: PathNode, value: BsonValue): BsonValue {
  if (isDocument(value)) return includeDocument(st, node, value);
  if (Array.isArray(value)) {
    const out: BsonValue[] = [];
    for (const e of value) {
      // Inside an inclusion, scalars in arrays are dropped; documents and nested arrays recurse.
      if (isDocument(e) || Array.isArray(e)) out.push(includeValue(st, node, e));
    }
    return out;
  }
  return undefined;
}

function includeDocument(st: ApplyState, node: PathNode, doc: Document, isRoot = false): Document {
  const out: Document = {};
  const deferred: Array<[string, Leaf]> = [];
  for (const key of orderedKeys(doc)) {
    const child = node.children.get(key);
    if (!child) continue;
    const value = doc[key];
    if (isRoot && st.positionalPath && key === st.positionalPath[0]) {
      // The positional projection applies to the first array along its path.
      setField(out, key, applyPositional(st, value, st.positionalPath.slice(1)));
      continue;
    }
    switch (child.kind) {
      case 'include':
        setField(out, key, value);
        break;
      case 'exclude':
        break;
      case 'path': {
        const projected = includeValue(st, child, value);
        if (projected !== undefined) setField(out, key, projected);
        break;
      }
      case 'slice':
        setField(out, key, applySlice(value, child));
        break;
      case 'positional':
        setField(out, key, applyPositional(st, value, []));
        break;
      case 'elemMatch':
      case 'expression':
        break;
    }
  }
  // $elemMatch results and computed fields come after the included fields, in projection order.
  for (const [key, child] of node.children) if (child.kind === 'elemMatch' || child.kind === 'expression') deferred.push([key, child]);
  for (const [key, child] of deferred) {
    if (child.kind === 'elemMatch') {
      const arr = getField(doc, key);
      if (!Array.isArray(arr)) continue;
      const found = arr.find((e) => child.matches({ [child.field]: [e] }));
      if (found !== undefined) setField(out, key, [found]);
    } else if (child.kind === 'expression') {
      const v = child.evaluate(st.rootDoc);
      if (v !== undefined) setField(out, key, v);
    }
  }
  return out;
}

/** A path node in an exclusion projection: everything stays but the excluded (and sliced) paths. */
function excludeValue(node: PathNode, value: BsonValue): BsonValue {
  if (isDocument(value)) return excludeDocument(node, value);
  if (Array.isArray(value)) return value.map((e) => (isDocument(e) || Array.isArray(e) ? excludeValue(node, e) : e));
  return value;
}

function excludeDocument(node: PathNode, doc: Document): Document {
  const out: Document = {};
  for (const key of orderedKeys(doc)) {
    const child = node.children.get(key);
    const value = doc[key];
    if (!child) {
      setField(out, key, value);
      continue;
    }
    switch (child.kind) {
      case 'exclude':
        break;
      case 'path':
        setField(out, key, excludeValue(child, value));
        break;
      case 'slice':
        setField(out, key, applySlice(value, child));
        break;
      default:
        setField(out, key, value);
    }
  }
  return out;
}

/** Applies a parsed projection to one document; the input is not mutated. */
export function applyProjection(p: ParsedProjection, doc: Document, ctx: ApplyProjectionContext = {}): Document {
  const st: ApplyState = { rootDoc: doc, positionalMatch: ctx.positionalMatch, positionalPath: p.positionalPath };
  return p.type === 'inclusion' ? includeDocument(st, p.root, doc, true) : excludeDocument(p.root, doc);
}
