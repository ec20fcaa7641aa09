/**
 * Index bounds for the planner: from a parsed filter and a key pattern, the ranges of index keys
 * a matching document can have, per key-pattern field.
 *
 * The bounds are a superset: every document the filter matches has at least one index key inside
 * them, and the caller re-checks the whole filter on each fetched document. They are built from
 * the filter's top-level conjuncts only (and the conjuncts inside `$elemMatch` for paths below
 * it); `$or`, `$not` of anything but `$eq`/`$in`, `$expr` and the like constrain nothing.
 *
 * Comparisons stay inside the operand's type bracket, as the matcher does (`$gt: 5` is
 * `(5, inf.0]`: numbers only; `$lt: "m"` is `["", "m")`). On a multikey field two predicates
 * may be satisfied by different array elements, so their bounds are not intersected there; one
 * of them is used (except within one `$elemMatch` value, which constrains a single element).
 *
 * Intervals are listed in ascending BSON order whatever the field's direction; a scan of a
 * descending field walks them in reverse.
 */
import {
  Binary,
  BSONRegExp,
  compareValues,
  Double,
  MaxKey,
  MinKey,
  ObjectId,
  Timestamp,
  isNumeric,
  toJsNumber,
  typeNameOf,
  type BsonValue,
  type Collator,
  type Document,
} from '../bson/index.js';
import { formatValue } from './filter/format.js';
import { anchoredLiteralPrefix } from './filter/regex.js';
import type { FilterNode, PathNode } from './filter/types.js';
import { topLevelConjuncts } from './filter/walk.js';
import { hasNumericComponent, splitPath } from './path.js';

export interface Interval {
  readonly low: BsonValue;
  readonly lowInclusive: boolean;
  readonly high: BsonValue;
  readonly highInclusive: boolean;
}

/** Per key-pattern field, in pattern order: sorted, disjoint intervals (an empty list matches nothing). */
export type IndexBounds = Interval[][];

export interface IndexBoundsOptions {
  /** Key-pattern paths (or their prefixes) known to hold arrays in some document. */
  readonly multikeyPaths: ReadonlySet<string>;
  /** The index's collation: its keys (and so its bounds) order strings by it. */
  readonly indexCollator?: Collator | null;
  /**
   * Whether the query's collation is the index's. When not, a predicate whose operand holds a
   * string (also inside a document or array) cannot narrow the scan, as in mongod's planner.
   */
  readonly collationMatches?: boolean;
}

/**
 * The collator of the index whose bounds are being built. Set for the duration of one
 * synchronous `indexBounds` call so the interval helpers need not thread it through every call.
 */
let boundsCollator: Collator | null = null;

function cmp(a: BsonValue, b: BsonValue): -1 | 0 | 1 {
  return compareValues(a, b, boundsCollator);
}

/** mongod's CollationIndexKey::isCollatableType, through documents and arrays. */
function holdsCollatable(v: BsonValue): boolean {
  switch (typeNameOf(v)) {
    case 'string':
    case 'symbol':
      return true;
    case 'array':
      return (v as BsonValue[]).some(holdsCollatable);
    case 'object':
      return Object.values(v as Document).some(holdsCollatable);
    default:
      return false;
  }
}

/** Whether a predicate's operands would be compared by a collation other than the index's. */
function collationIncompatible(node: FilterNode): boolean {
  switch (node.kind) {
    case 'comparison':
      return holdsCollatable(node.value);
    case 'in':
      return node.values.some(holdsCollatable);
    case 'not':
      return collationIncompatible(node.child);
    case 'elemMatchValue':
      return node.children.some(collationIncompatible);
    default:
      return false;
  }
}

const MIN_KEY = new MinKey();
const MAX_KEY = new MaxKey();

/** [MinKey, MaxKey]: no constraint. */
export function fullInterval(): Interval {
  return { low: MIN_KEY, lowInclusive: true, high: MAX_KEY, highInclusive: true };
}

function point(v: BsonValue): Interval {
  return { low: v, lowInclusive: true, high: v, highInclusive: true };
}

function isEmptyInterval(iv: Interval): boolean {
  const c = cmp(iv.low, iv.high);
  return c > 0 || (c === 0 && !(iv.lowInclusive && iv.highInclusive));
}

/** The smallest and largest value of each type bracket that can hold an index key. */
interface Bracket {
  min: BsonValue;
  minInclusive: boolean;
  max: BsonValue;
  maxInclusive: boolean;
}

function bracketOf(v: BsonValue): Bracket | undefined {
  switch (typeNameOf(v)) {
    case 'int':
    case 'long':
    case 'double':
    case 'decimal':
      return { min: new Double(-Infinity), minInclusive: true, max: new Double(Infinity), maxInclusive: true };
    case 'string':
    case 'symbol':
      return { min: '', minInclusive: true, max: {}, maxInclusive: false };
    case 'object':
      return { min: {}, minInclusive: true, max: [], maxInclusive: false };
    case 'binData':
      return { min: new Binary(new Uint8Array(0), 0), minInclusive: true, max: new ObjectId('000000000000000000000000'), maxInclusive: false };
    case 'objectId':
      return { min: new ObjectId('000000000000000000000000'), minInclusive: true, max: new ObjectId('ffffffffffffffffffffffff'), maxInclusive: true };
    case 'bool':
      return { min: false, minInclusive: true, max: true, maxInclusive: true };
    case 'date':
      return { min: new Date(-8.64e15), minInclusive: true, max: new Date(8.64e15), maxInclusive: true };
    case 'timestamp':
      return { min: new Timestamp({ t: 0, i: 0 }), minInclusive: true, max: new Timestamp({ t: 0xffffffff, i: 0xffffffff }), maxInclusive: true };
    case 'null':
      return { min: null, minInclusive: true, max: null, maxInclusive: true };
    default:
      return undefined;
  }
}

function isNaNValue(v: BsonValue): boolean {
  return isNumeric(v) && Number.isNaN(toJsNumber(v));
}

/** Intervals for one comparison; undefined when it cannot narrow the scan. */
function comparisonIntervals(op: string, v: BsonValue): Interval[] | undefined {
  const t = typeNameOf(v);
  if (op === '$eq') return t === 'array' ? undefined : [point(v)];
  if (t === 'minKey') {
    if (op === '$gt') return [{ low: MIN_KEY, lowInclusive: false, high: MAX_KEY, highInclusive: true }];
    if (op === '$gte') return [fullInterval()];
    if (op === '$lt') return [];
    return [point(MIN_KEY)];
  }
  if (t === 'maxKey') {
    if (op === '$lt') return [{ low: MIN_KEY, lowInclusive: true, high: MAX_KEY, highInclusive: false }];
    if (op === '$lte') return [fullInterval()];
    if (op === '$gt') return [];
    return [point(MAX_KEY)];
  }
  if (isNaNValue(v)) return op === '$gte' || op === '$lte' ? [point(v)] : [];
  const b = bracketOf(v);
  if (b === undefined) return undefined;
  let iv: Interval;
  switch (op) {
    case '$gt':
      iv = { low: v, lowInclusive: false, high: b.max, highInclusive: b.maxInclusive };
      break;
    case '$gte':
      iv = { low: v, lowInclusive: true, high: b.max, highInclusive: b.maxInclusive };
      break;
    case '$lt':
      iv = { low: b.min, lowInclusive: b.minInclusive, high: v, highInclusive: false };
      break;
    case '$lte':
      iv = { low: b.min, lowInclusive: b.minInclusive, high: v, highInclusive: true };
      break;
    default:
      return undefined;
  }
  return isEmptyInterval(iv) ? [] : [iv];
}

/** The string that follows every string with `prefix` (prefix with its last code unit incremented). */
function prefixUpperBound(prefix: string): string | undefined {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const c = prefix.charCodeAt(i);
    // Incrementing inside the surrogate range would not order like UTF-8; give up there.
    if (c < 0xd7ff) return prefix.slice(0, i) + String.fromCharCode(c + 1);
  }
  return undefined;
}

function regexIntervals(pattern: string, flags: string): Interval[] {
  const prefix = anchoredLiteralPrefix(pattern, flags);
  let strings: Interval;
  if (prefix !== undefined) {
    const upper = prefixUpperBound(prefix);
    strings = upper !== undefined
      ? { low: prefix, lowInclusive: true, high: upper, highInclusive: false }
      : { low: prefix, lowInclusive: true, high: {}, highInclusive: false };
  } else {
    strings = { low: '', lowInclusive: true, high: {}, highInclusive: false };
  }
  // A regex also matches stored regexes equal to it.
  return [strings, point(new BSONRegExp(pattern, flags))];
}

/** Sorts and merges overlapping or touching intervals. */
export function unionIntervals(intervals: readonly Interval[]): Interval[] {
  const list = intervals.filter((iv) => !isEmptyInterval(iv));
  list.sort((a, b) => cmp(a.low, b.low) || (a.lowInclusive === b.lowInclusive ? 0 : a.lowInclusive ? -1 : 1));
  const out: Interval[] = [];
  for (const iv of list) {
    const last = out[out.length - 1];
    if (last !== undefined) {
      const c = cmp(iv.low, last.high);
      if (c < 0 || (c === 0 && (iv.lowInclusive || last.highInclusive))) {
        const h = cmp(iv.high, last.high);
        if (h > 0 || (h === 0 && iv.highInclusive && !last.highInclusive)) {
          out[out.length - 1] = { low: last.low, lowInclusive: last.lowInclusive, high: iv.high, highInclusive: iv.highInclusive };
        }
        continue;
      }
    }
    out.push(iv);
  }
  return out;
}

/** Intersects two sorted disjoint interval lists. */
export function intersectIntervals(a: readonly Interval[], b: readonly Interval[]): Interval[] {
  const out: Interval[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    const lc = cmp(x.low, y.low);
    const low = lc > 0 ? x.low : y.low;
    const lowInclusive = lc > 0 ? x.lowInclusive : lc < 0 ? y.lowInclusive : x.lowInclusive && y.lowInclusive;
    const hc = cmp(x.high, y.high);
    const high = hc < 0 ? x.high : y.high;
    const highInclusive = hc < 0 ? x.highInclusive : hc > 0 ? y.highInclusive : x.highInclusive && y.highInclusive;
    const iv = { low, lowInclusive, high, highInclusive };
    if (!isEmptyInterval(iv)) out.push(iv);
    if (hc < 0 || (hc === 0 && !x.highInclusive)) i++;
    else j++;
  }
  return out;
}

/** The complement of sorted disjoint intervals within [MinKey, MaxKey]. */
function complementIntervals(list: readonly Interval[]): Interval[] {
  const out: Interval[] = [];
  let low: BsonValue = MIN_KEY;
  let lowInclusive = true;
  for (const iv of list) {
    out.push({ low, lowInclusive, high: iv.low, highInclusive: !iv.lowInclusive });
    low = iv.high;
    lowInclusive = !iv.highInclusive;
  }
  out.push({ low, lowInclusive, high: MAX_KEY, highInclusive: true });
  return out.filter((iv) => !isEmptyInterval(iv));
}

/**
 * Intervals one predicate allows for the key at its path; undefined when it constrains nothing.
 * `multikey`: some document holds an array on the path (or a prefix of it).
 */
function predicateIntervals(node: FilterNode, multikey: boolean): Interval[] | undefined {
  switch (node.kind) {
    case 'comparison':
      return comparisonIntervals(node.op, node.value);
    case 'in':
      if (node.hasArray || node.regexes.length > 0) return undefined;
      return unionIntervals(node.values.map(point));
    case 'regex':
      return regexIntervals(node.pattern, node.flags);
    case 'not': {
      // $ne and $nin: a document whose key equals an excluded value cannot match.
      // Except null through arrays: {a: [1]} or {a: []} has the key null for 'a.b' yet matches
      // {'a.b': {$ne: null}} (mongod 8.0), so on a multikey path excluding null narrows nothing;
      // mongod does not use such an index for it either (jstests sparse_index_supports_ne_null.js).
      const c = node.child;
      if (c.kind === 'comparison' && c.op === '$eq') {
        const t = typeNameOf(c.value);
        if (t === 'array' || t === 'regex') return undefined;
        if (multikey && t === 'null') return undefined;
        return complementIntervals([point(c.value)]);
      }
      if (c.kind === 'in' && !c.hasArray && c.regexes.length === 0) {
        if (multikey && c.hasNull) return undefined;
        return complementIntervals(unionIntervals(c.values.map(point)));
      }
      return undefined;
    }
    case 'elemMatchValue': {
      // All operands constrain the same element, so they intersect even on a multikey path,
      // and an element that is not null never has the key null.
      let acc: Interval[] | undefined;
      for (const child of node.children) {
        const iv = predicateIntervals(child, false);
        if (iv !== undefined) acc = acc === undefined ? iv : intersectIntervals(acc, iv);
      }
      return acc;
    }
    case 'alwaysFalse':
      return [];
    default:
      return undefined;
  }
}

function pathOf(node: FilterNode): string | undefined {
  if ('path' in node) return (node as PathNode).path;
  if (node.kind === 'not' && 'path' in node.child) return (node.child as PathNode).path;
  return undefined;
}

/** The predicates that constrain `path`: direct conjuncts and conjuncts inside `$elemMatch` on a prefix. */
function predicatesFor(conjuncts: readonly FilterNode[], path: string, out: FilterNode[], depth = 0): void {
  if (depth > 50) return;
  for (const c of conjuncts) {
    if (c.kind === 'alwaysFalse') {
      out.push(c);
      continue;
    }
    const p = pathOf(c);
    if (p === undefined) continue;
    if (p === path) {
      out.push(c);
    } else if (c.kind === 'elemMatchObject' && path.startsWith(`${p}.`)) {
      predicatesFor(topLevelConjuncts(c.child), path.slice(p.length + 1), out, depth + 1);
    }
  }
}

function isMultikey(path: string, multikeyPaths: ReadonlySet<string>): boolean {
  if (multikeyPaths.has(path)) return true;
  let i = path.indexOf('.');
  while (i >= 0) {
    if (multikeyPaths.has(path.slice(0, i))) return true;
    i = path.indexOf('.', i + 1);
  }
  return false;
}

function isPointList(list: readonly Interval[]): boolean {
  return list.every((iv) => iv.lowInclusive && iv.highInclusive && cmp(iv.low, iv.high) === 0);
}

function fieldIntervals(conjuncts: readonly FilterNode[], path: string, multikey: boolean, collationMatches: boolean): Interval[] | undefined {
  const preds: FilterNode[] = [];
  predicatesFor(conjuncts, path, preds);
  let acc: Interval[] | undefined;
  let accIsPoints = false;
  for (const p of preds) {
    if (!collationMatches && collationIncompatible(p)) continue;
    // Collated keys no longer sort by code point, so a regex prefix says nothing about them.
    if (boundsCollator !== null && p.kind === 'regex') continue;
    const iv = predicateIntervals(p, multikey);
    if (iv === undefined) continue;
    if (acc === undefined) {
      acc = iv;
      accIsPoints = isPointList(iv);
    } else if (!multikey) {
      acc = intersectIntervals(acc, iv);
    } else if (!accIsPoints && isPointList(iv)) {
      // One predicate only on a multikey path: prefer equality, the most selective.
      acc = iv;
      accIsPoints = true;
    }
  }
  return acc;
}

/**
 * Index bounds for `node` on an index with `keyPattern`, or null when the first key field is
 * not constrained (the index would not narrow the scan). Fields after the first without a usable
 * predicate get [MinKey, MaxKey]. Special index types (hashed, text, 2dsphere) and paths with
 * numeric components are not narrowed.
 */
export function indexBounds(node: FilterNode, keyPattern: Document, options: IndexBoundsOptions): IndexBounds | null {
  boundsCollator = options.indexCollator ?? null;
  try {
    return boundsFor(node, keyPattern, options);
  } finally {
    boundsCollator = null;
  }
}

function boundsFor(node: FilterNode, keyPattern: Document, options: IndexBoundsOptions): IndexBounds | null {
  const collationMatches = options.collationMatches ?? true;
  const conjuncts = topLevelConjuncts(node);
  const fields = Object.keys(keyPattern);
  const bounds: IndexBounds = [];
  for (let i = 0; i < fields.length; i++) {
    const path = fields[i]!;
    const kind = keyPattern[path];
    const usable = typeof kind !== 'string' && !hasNumericComponent(splitPath(path));
    const iv = usable ? fieldIntervals(conjuncts, path, isMultikey(path, options.multikeyPaths), collationMatches) : undefined;
    if (iv === undefined) {
      if (i === 0) return null;
      bounds.push([fullInterval()]);
    } else {
      bounds.push(iv);
    }
  }
  return bounds;
}

/** One interval in mongod's explain notation: `[5, inf.0]`, `("a", {})`, `[MinKey, MaxKey]`. */
export function intervalToString(iv: Interval): string {
  return `${iv.lowInclusive ? '[' : '('}${formatValue(iv.low)}, ${formatValue(iv.high)}${iv.highInclusive ? ']' : ')'}`;
}

/**
 * Explain's `indexBounds` document: field path to interval strings. For a descending field mongod
 * lists the intervals from high to low, each written high first.
 */
export function boundsToExplain(bounds: IndexBounds, keyPattern: Document): Document {
  const out: Document = {};
  Object.keys(keyPattern).forEach((path, i) => {
    const list = bounds[i] ?? [fullInterval()];
    const descending = typeof keyPattern[path] !== 'string' && toJsNumber(keyPattern[path]) < 0;
    out[path] = descending
      ? [...list].reverse().map((iv) => intervalToString({ low: iv.high, lowInclusive: iv.highInclusive, high: iv.low, highInclusive: iv.lowInclusive }))
      : list.map(intervalToString);
  });
  return out;
}

