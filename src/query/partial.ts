/**
 * Whether a query filter implies a partial index's filter, so that every document the query can
 * match is in the index (mongod's expression::isSubsetOf, the rule for using a partial index).
 *
 * Conservative like mongod's: false unless shown. The index filter is split into conjuncts
 * ($and); `$or` is implied when one branch is. Each conjunct must be implied by one top-level
 * conjunct of the query (or by every branch of a query `$or`): the same predicate, an equality
 * or range that lies inside the conjunct's range (same type bracket, as comparisons never cross
 * it), an `$in` whose values all do, `$exists: true` by any predicate that a missing field
 * cannot satisfy, `$type` by a narrower `$type` or an equality on a value of that type.
 */
import { canonicalTypeOrder, compareValues, isNumeric, toJsNumber, typeNameOf, type BsonValue } from '../bson/index.js';
import type { ComparisonNode, FilterNode, InNode, TypeNode } from './filter/index.js';
import { serializeFilter, topLevelConjuncts } from './filter/index.js';

export function filterImplies(query: FilterNode, target: FilterNode): boolean {
  switch (target.kind) {
    case 'alwaysTrue':
      return true;
    case 'and':
      return target.children.every((c) => filterImplies(query, c));
    case 'or':
      if (target.children.some((c) => filterImplies(query, c))) return true;
      break;
    default:
      break;
  }
  if (query.kind === 'alwaysFalse') return true;
  for (const q of topLevelConjuncts(query)) {
    if (q.kind === 'or' && q.children.length > 0 && q.children.every((branch) => filterImplies(branch, target))) return true;
    if (predicateImplies(q, target)) return true;
  }
  return false;
}

function pathOf(node: FilterNode): string | undefined {
  return 'path' in node ? (node as { path: string }).path : undefined;
}

function samePredicate(a: FilterNode, b: FilterNode): boolean {
  return compareValues(serializeFilter(a), serializeFilter(b)) === 0;
}

/** One query predicate implies one index-filter predicate on the same path. */
function predicateImplies(q: FilterNode, t: FilterNode): boolean {
  const path = pathOf(t);
  if (path === undefined || path === '' || pathOf(q) !== path) {
    // Predicates without a path ($expr, $where...) only by being the same.
    return path === undefined && pathOf(q) === undefined && q.kind === t.kind && samePredicate(q, t);
  }
  if (samePredicate(q, t)) return true;
  switch (t.kind) {
    case 'comparison':
      return valuesOf(q)?.every((w) => satisfies(w, t)) ?? rangeImplies(q, t);
    case 'in':
      return t.regexes.length === 0 && (valuesOf(q)?.every((w) => t.values.some((v) => sameValue(v, w))) ?? false);
    case 'exists':
      return excludesMissing(q);
    case 'type':
      return typeImplies(q, t);
    default:
      return false;
  }
}

/** The values an equality or `$in` (without regexes) allows; undefined for any other predicate. */
function valuesOf(q: FilterNode): readonly BsonValue[] | undefined {
  if (q.kind === 'comparison' && q.op === '$eq') return [q.value];
  if (q.kind === 'in' && q.regexes.length === 0 && q.values.length > 0) return q.values;
  return undefined;
}

function sameValue(a: BsonValue, b: BsonValue): boolean {
  return typeNameOf(a) !== 'array' && typeNameOf(b) !== 'array' && sameBracket(a, b) && compareValues(a, b) === 0;
}

function sameBracket(a: BsonValue, b: BsonValue): boolean {
  return canonicalTypeOrder(typeNameOf(a)) === canonicalTypeOrder(typeNameOf(b));
}

/**
 * Values that compare plainly: not null (which also matches a missing field), not arrays (an
 * array operand matches an array field whole or as an element), not MinKey/MaxKey (whose
 * comparisons cross brackets), not NaN (which orders apart).
 */
function isPlainOperand(v: BsonValue): boolean {
  const t = typeNameOf(v);
  if (t === 'null' || t === 'undefined' || t === 'array' || t === 'minKey' || t === 'maxKey' || t === 'regex') return false;
  return !(isNumeric(v) && Number.isNaN(toJsNumber(v)));
}

/** Whether the value `w` (an equality operand) satisfies the comparison `t`. */
function satisfies(w: BsonValue, t: ComparisonNode): boolean {
  if (t.op === '$eq') return sameValue(t.value, w);
  if (!isPlainOperand(w) || !isPlainOperand(t.value) || !sameBracket(w, t.value)) return false;
  const c = compareValues(w, t.value);
  switch (t.op) {
    case '$gt':
      return c > 0;
    case '$gte':
      return c >= 0;
    case '$lt':
      return c < 0;
    case '$lte':
      return c <= 0;
    default:
      return false;
  }
}

/** A range predicate inside the range of `t` ($gt 10 implies $gt 5 and $gte 10; $gte 5 does not imply $gt 5). */
function rangeImplies(q: FilterNode, t: ComparisonNode): boolean {
  if (q.kind !== 'comparison' || q.op === '$eq' || t.op === '$eq') return false;
  if (!isPlainOperand(q.value) || !isPlainOperand(t.value) || !sameBracket(q.value, t.value)) return false;
  const c = compareValues(q.value, t.value);
  const upward = (op: string): boolean => op === '$gt' || op === '$gte';
  if (upward(q.op) !== upward(t.op)) return false;
  if (upward(t.op)) return c > 0 || (c === 0 && (t.op === '$gte' || q.op === '$gt'));
  return c < 0 || (c === 0 && (t.op === '$lte' || q.op === '$lt'));
}

/** Predicates that a document without the field can never satisfy. */
function excludesMissing(q: FilterNode): boolean {
  switch (q.kind) {
    case 'exists':
    case 'type':
    case 'regex':
    case 'mod':
    case 'size':
    case 'bitTest':
    case 'elemMatchObject':
    case 'elemMatchValue':
      return true;
    case 'comparison':
      return isPlainOperand(q.value);
    case 'in':
      return !(q as InNode).hasNull && (q as InNode).values.every((v) => typeNameOf(v) !== 'minKey' && typeNameOf(v) !== 'maxKey') && (q.values.length > 0 || q.regexes.length > 0);
    default:
      return false;
  }
}

function typeImplies(q: FilterNode, t: TypeNode): boolean {
  if (q.kind === 'type') return [...q.types].every((x) => t.types.has(x));
  const values = valuesOf(q);
  return values !== undefined && values.every((w) => typeNameOf(w) !== 'array' && t.types.has(typeNameOf(w)));
}
