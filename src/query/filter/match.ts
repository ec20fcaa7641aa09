/**
 * Evaluation of parsed filters, with mongod's semantics (ComparisonMatchExpression,
 * InMatchExpression, ... matchesSingleElement, and the path traversal of src/query/path.ts).
 *
 * The per-value predicates (`test`) are built once at parse time by the factories below, so a
 * collection scan evaluates without allocating.
 */
import {
  canonicalTypeOrder,
  compareValues,
  decimalToNumber,
  isNumberType,
  toJsNumber,
  typeNameOf,
  type BsonTypeName,
  type BsonValue,
  type Collator,
  type Document,
} from '../../bson/index.js';
import { MATCH_WITHOUT_OFFSET, NO_MATCH, visitMatchValues, type ValueTest } from '../path.js';
import type { BitTestOperator, ComparisonOperator, FilterNode, MatchDetails, RegexNode } from './types.js';

/**
 * Index of the array element that satisfied the last successful `$elemMatch` test. Read right
 * after the traversal returns, before anything else can run, so a module variable is safe and
 * keeps the hot path free of allocations.
 */
let lastElemMatchIndex = -1;

/**
 * Does `doc` match the filter? When `details` is given, `details.elemMatchKey` receives the
 * position of the array element that decided the match (see MatchDetails).
 */
export function matches(node: FilterNode, doc: Document, details?: MatchDetails): boolean {
  return matchNode(node, doc, details);
}

function matchNode(node: FilterNode, doc: Document, details: MatchDetails | undefined): boolean {
  switch (node.kind) {
    case 'and': {
      const children = node.children;
      for (let i = 0; i < children.length; i++) if (!matchNode(children[i]!, doc, details)) return false;
      return true;
    }
    case 'or': {
      // Like mongod, branches of $or, $nor and $not do not report an elemMatchKey.
      const children = node.children;
      for (let i = 0; i < children.length; i++) if (matchNode(children[i]!, doc, undefined)) return true;
      return false;
    }
    case 'nor': {
      const children = node.children;
      for (let i = 0; i < children.length; i++) if (matchNode(children[i]!, doc, undefined)) return false;
      return true;
    }
    case 'not':
      return !matchNode(node.child, doc, undefined);
    case 'alwaysTrue':
      return true;
    case 'alwaysFalse':
      return false;
    case 'expr':
      return isTruthy(node.evaluate(doc));
    case 'jsonSchema':
      return node.validate(doc);
    default: {
      const r = visitMatchValues(doc, node.parts, node.expandLeafArrays, node.test);
      if (r === NO_MATCH) return false;
      if (details !== undefined) {
        if (r >= 0) details.elemMatchKey = String(r);
        else if (r === MATCH_WITHOUT_OFFSET && (node.kind === 'elemMatchObject' || node.kind === 'elemMatchValue')) {
          details.elemMatchKey = String(lastElemMatchIndex);
        }
      }
      return true;
    }
  }
}

/**
 * mongod's matchesSingleElement for a whole subtree: does this one value (not a document
 * path) satisfy the node? Used for `$elemMatch` value form and by update's `$pull`.
 */
export function matchesValue(node: FilterNode, value: BsonValue): boolean {
  switch (node.kind) {
    case 'and':
      for (const c of node.children) if (!matchesValue(c, value)) return false;
      return true;
    case 'or':
      for (const c of node.children) if (matchesValue(c, value)) return true;
      return false;
    case 'nor':
      for (const c of node.children) if (matchesValue(c, value)) return false;
      return true;
    case 'not':
      return !matchesValue(node.child, value);
    case 'alwaysTrue':
      return true;
    case 'alwaysFalse':
    case 'expr':
    case 'jsonSchema':
      return false;
    default:
      return node.test(value);
  }
}

/** Aggregation truth: false, null, missing and numeric zero are false; all else is true. */
export function isTruthy(v: BsonValue): boolean {
  if (v === undefined || v === null || v === false) return false;
  if (v === true) return true;
  const t = typeNameOf(v);
  if (isNumberType(t)) return toJsNumber(v) !== 0;
  return true;
}

/** BSON element truth (`$exists`, `trueValue()`): like isTruthy; used for operand flags. */
export const trueValue = isTruthy;

function isNaNOf(v: BsonValue, t: BsonTypeName): boolean {
  if (t === 'double') return Number.isNaN(typeof v === 'number' ? v : (v as { value: number }).value);
  if (t === 'decimal') return Number.isNaN(decimalToNumber(v));
  return false;
}

/** matchesSingleElement of `$eq/$lt/$lte/$gt/$gte` against `rhs`. */
export function makeComparisonTest(op: ComparisonOperator, rhs: BsonValue, collator?: Collator | null): ValueTest {
  const rt = typeNameOf(rhs);
  const rc = canonicalTypeOrder(rt);
  const eqLike = op === '$eq' || op === '$lte' || op === '$gte';
  const rhsNaN = isNaNOf(rhs, rt);
  if (op === '$eq' && rt === 'string' && !collator) {
    return (v) => {
      if (typeof v === 'string') return v === rhs;
      return v !== null && typeof v === 'object' && (v as { _bsontype?: string })._bsontype === 'BSONSymbol' && v.value === rhs;
    };
  }
  const generic: ValueTest = (v) => {
    const t = typeNameOf(v);
    const c = canonicalTypeOrder(t);
    if (c !== rc) {
      // Different type brackets never compare, except null (which matches missing) and the
      // MinKey/MaxKey bounds (which are below/above everything).
      if (rt === 'null') return eqLike && t === 'missing';
      if (rt === 'maxKey') return op === '$lt' || op === '$lte';
      if (rt === 'minKey') return op === '$gt' || op === '$gte';
      return false;
    }
    if (c === 10) {
      const vNaN = isNaNOf(v, t);
      if (vNaN || rhsNaN) return eqLike && vNaN && rhsNaN;
    }
    const cmp = compareValues(v, rhs, collator);
    switch (op) {
      case '$eq':
        return cmp === 0;
      case '$lt':
        return cmp < 0;
      case '$lte':
        return cmp <= 0;
      case '$gt':
        return cmp > 0;
      default:
        return cmp >= 0;
    }
  };
  if (rt !== 'int' && rt !== 'double') return generic;
  // Fast path for the common case, int32/double against int32/double: plain JS numbers, exact.
  const r = toJsNumber(rhs);
  return (v) => {
    let n: number;
    if (typeof v === 'number') n = v;
    else if (v !== null && typeof v === 'object') {
      const bt = (v as { _bsontype?: string })._bsontype;
      if (bt !== 'Int32' && bt !== 'Double') return generic(v);
      n = (v as { value: number }).value;
    } else return generic(v);
    if (n !== n || rhsNaN) return eqLike && n !== n && rhsNaN;
    switch (op) {
      case '$eq':
        return n === r;
      case '$lt':
        return n < r;
      case '$lte':
        return n <= r;
      case '$gt':
        return n > r;
      default:
        return n >= r;
    }
  };
}

/** Regex matching: strings and symbols by the pattern, stored regexes by equality. */
export function makeRegexTest(re: RegExp, pattern: string, flags: string): ValueTest {
  return (v) => {
    if (typeof v === 'string') return re.test(v);
    if (v === null || typeof v !== 'object') return false;
    if (v instanceof RegExp) return v.source === pattern && v.flags === flags;
    switch ((v as { _bsontype?: string })._bsontype) {
      case 'BSONSymbol':
        return re.test(v.value);
      case 'BSONRegExp':
        return v.pattern === pattern && v.options === flags;
      default:
        return false;
    }
  };
}

/** Is `v` among `sorted` (sorted in BSON order)? Binary search with mongod's comparison. */
export function sortedContains(sorted: readonly BsonValue[], v: BsonValue, collator?: Collator | null): boolean {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const c = compareValues(sorted[mid], v, collator);
    if (c === 0) return true;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

export function makeInTest(values: readonly BsonValue[], regexes: readonly RegexNode[], hasNull: boolean, collator?: Collator | null): ValueTest {
  return (v) => {
    if (v === undefined) return hasNull;
    if (values.length > 0 && sortedContains(values, v, collator)) return true;
    for (let i = 0; i < regexes.length; i++) if (regexes[i]!.test(v)) return true;
    return false;
  };
}

export function makeTypeTest(types: ReadonlySet<BsonTypeName>, allNumbers: boolean): ValueTest {
  return (v) => {
    if (v === undefined) return false;
    const t = typeNameOf(v);
    return types.has(t) || (allNumbers && isNumberType(t));
  };
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const TWO_POW_63 = 2 ** 63;

/** The int64 a numeric value stands for when it is integral and in range (doubles truncated when `truncate`). */
function toInt64(v: BsonValue, t: BsonTypeName, truncate: boolean): bigint | undefined {
  switch (t) {
    case 'int':
      return BigInt(typeof v === 'number' ? v : v.value);
    case 'long':
      return typeof v === 'bigint' ? v : v.toBigInt();
    case 'double':
    case 'decimal': {
      let n = toJsNumber(v);
      if (!Number.isFinite(n)) return undefined;
      if (truncate) n = Math.trunc(n);
      else if (!Number.isInteger(n)) return undefined;
      if (n >= TWO_POW_63 || n < -TWO_POW_63) return undefined;
      return BigInt(n);
    }
    default:
      return undefined;
  }
}

export function makeModTest(divisor: bigint, remainder: bigint): ValueTest {
  const small = divisor >= -(2n ** 52n) && divisor <= 2n ** 52n;
  const dNum = Number(divisor);
  const rNum = Number(remainder);
  return (v) => {
    const t = typeNameOf(v);
    if (small && (t === 'int' || (t === 'double' && typeof v !== 'bigint'))) {
      const n = typeof v === 'number' ? v : (v as { value: number }).value;
      if (!Number.isFinite(n)) return false;
      const dividend = Math.trunc(n);
      if (Math.abs(dividend) <= Number.MAX_SAFE_INTEGER) {
        if (dNum === -1) return rNum === 0;
        return (dividend % dNum) + 0 === rNum;
      }
    }
    const dividend = toInt64(v, t, true);
    if (dividend === undefined) return false;
    // C++ semantics: the result takes the dividend's sign; x % -1 is 0 (no overflow trap).
    const mod = divisor === -1n ? 0n : dividend % divisor;
    return mod === remainder;
  };
}

export function makeBitTest(op: BitTestOperator, positions: readonly number[]): ValueTest {
  const all = op === '$bitsAllSet' || op === '$bitsAllClear';
  const wantSet = op === '$bitsAllSet' || op === '$bitsAnySet';
  const check = (isSet: (pos: number) => boolean): boolean => {
    if (all) {
      for (const p of positions) if (isSet(p) !== wantSet) return false;
      return true;
    }
    for (const p of positions) if (isSet(p) === wantSet) return true;
    return false;
  };
  return (v) => {
    const t = typeNameOf(v);
    if (t === 'binData') {
      const bytes: Uint8Array = v instanceof Uint8Array ? v : v.buffer.subarray(0, v.position);
      return check((p) => {
        const byte = p >> 3;
        return byte < bytes.length && (bytes[byte]! & (1 << (p & 7))) !== 0;
      });
    }
    if (!isNumberType(t)) return false;
    const n = toInt64(v, t, false);
    if (n === undefined) return false;
    const negative = n < 0n;
    const u = n & 0xffffffffffffffffn;
    return check((p) => (p >= 64 ? negative : ((u >> BigInt(p)) & 1n) === 1n));
  };
}

export { INT64_MAX, INT64_MIN };

/** matchesSingleElement of `$elemMatch` object form: some element is a document matching `child`. */
export function makeElemMatchObjectTest(child: FilterNode): ValueTest {
  return (v) => {
    if (!Array.isArray(v)) return false;
    for (let k = 0; k < v.length; k++) {
      const el = v[k];
      let doc: Document | undefined;
      if (Array.isArray(el)) doc = arrayAsDocument(el);
      else if (el !== null && typeof el === 'object' && typeNameOf(el) === 'object') doc = el as Document;
      if (doc !== undefined && matchNode(child, doc, undefined)) {
        lastElemMatchIndex = k;
        return true;
      }
    }
    return false;
  };
}

/** matchesSingleElement of `$elemMatch` value form: some element satisfies every child. */
export function makeElemMatchValueTest(children: readonly FilterNode[]): ValueTest {
  return (v) => {
    if (!Array.isArray(v)) return false;
    outer: for (let k = 0; k < v.length; k++) {
      const el = v[k];
      for (let i = 0; i < children.length; i++) if (!matchesValue(children[i]!, el)) continue outer;
      lastElemMatchIndex = k;
      return true;
    }
    return false;
  };
}

/** mongod reads an array nested in an array as a document whose fields are "0", "1", ... */
function arrayAsDocument(arr: BsonValue[]): Document {
  const doc: Document = {};
  for (let i = 0; i < arr.length; i++) doc[String(i)] = arr[i];
  return doc;
}
