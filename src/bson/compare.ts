/**
 * MongoDB's total order over BSON values: first the canonical type order, then the value.
 * Numbers of all four types compare by value (int32, int64, double, Decimal128); NaN sorts below
 * every other number and equals itself. Strings compare by UTF-8 bytes (code points), as mongod
 * without a collation.
 */
import type * as BSON from 'bson';
import { decimalToNumber, isDocument, typeNameOf, type BsonTypeName, type BsonValue } from './values.js';
import { orderedKeys } from './key-order.js';
import type { Collator } from './collation.js';

/** canonicalizeBSONType: types in the same bracket compare by value. */
export function canonicalTypeOrder(t: BsonTypeName): number {
  switch (t) {
    case 'minKey': return -1;
    case 'missing':
    case 'undefined': return 0;
    case 'null': return 5;
    case 'int': case 'long': case 'double': case 'decimal': return 10;
    case 'string': case 'symbol': return 15;
    case 'object': return 20;
    case 'array': return 25;
    case 'binData': return 30;
    case 'objectId': return 35;
    case 'bool': return 40;
    case 'date': return 45;
    case 'timestamp': return 47;
    case 'regex': return 50;
    case 'dbPointer': return 55;
    case 'javascript': return 60;
    case 'javascriptWithScope': return 65;
    case 'maxKey': return 127;
  }
}

function sign(n: number): -1 | 0 | 1 {
  return n < 0 ? -1 : n > 0 ? 1 : 0;
}

export function compareStrings(a: string, b: string): -1 | 0 | 1 {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca === cb) continue;
    // Below the surrogate range UTF-16 code units order like UTF-8 bytes; above it, use code points.
    if (ca < 0xd800 && cb < 0xd800) return ca < cb ? -1 : 1;
    const pa = a.codePointAt(i)!;
    const pb = b.codePointAt(i)!;
    if (pa !== pb) return pa < pb ? -1 : 1;
  }
  return sign(a.length - b.length);
}

/** A number as an exact rational when possible: ints and longs as bigint, others as JS number. */
type NumericKey = { big: bigint } | { num: number };

function numericKey(v: BsonValue, t: BsonTypeName): NumericKey {
  switch (t) {
    case 'int':
      return { num: typeof v === 'number' ? v : (v as BSON.Int32).value };
    case 'double':
      return { num: typeof v === 'number' ? v : (v as BSON.Double).value };
    case 'long':
      return { big: typeof v === 'bigint' ? v : (v as BSON.Long).toBigInt() };
    default:
      return decimalKey(v as BSON.Decimal128);
  }
}

function decimalKey(d: BSON.Decimal128): NumericKey {
  const n = decimalToNumber(d);
  if (Number.isFinite(n) && Number.isInteger(n) && !Number.isSafeInteger(n)) {
    const s = d.toString();
    if (/^-?\d+$/.test(s)) return { big: BigInt(s) };
  }
  return { num: n };
}

function compareBigToNumber(a: bigint, b: number): -1 | 0 | 1 {
  if (Number.isNaN(b)) return 1;
  if (b === Number.POSITIVE_INFINITY) return -1;
  if (b === Number.NEGATIVE_INFINITY) return 1;
  const fl = Math.floor(b);
  const bf = BigInt(fl);
  if (a < bf) return -1;
  if (a > bf) return 1;
  return fl === b ? 0 : -1;
}

export function compareNumbers(a: BsonValue, ta: BsonTypeName, b: BsonValue, tb: BsonTypeName): -1 | 0 | 1 {
  const ka = numericKey(a, ta);
  const kb = numericKey(b, tb);
  if ('big' in ka) {
    if ('big' in kb) return ka.big < kb.big ? -1 : ka.big > kb.big ? 1 : 0;
    return compareBigToNumber(ka.big, kb.num);
  }
  if ('big' in kb) return (-compareBigToNumber(kb.big, ka.num)) as -1 | 0 | 1;
  const x = ka.num;
  const y = kb.num;
  if (Number.isNaN(x)) return Number.isNaN(y) ? 0 : -1;
  if (Number.isNaN(y)) return 1;
  return x < y ? -1 : x > y ? 1 : 0;
}

function bytesOf(v: BsonValue): Uint8Array {
  if (v instanceof Uint8Array) return v;
  return (v as BSON.Binary).buffer.subarray(0, (v as BSON.Binary).position);
}

function compareBytes(a: Uint8Array, b: Uint8Array): -1 | 0 | 1 {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  return sign(a.length - b.length);
}

function compareDocuments(a: Record<string, BsonValue>, b: Record<string, BsonValue>, collator: Collator | null | undefined): -1 | 0 | 1 {
  const ka = orderedKeys(a);
  const kb = orderedKeys(b);
  const n = Math.min(ka.length, kb.length);
  for (let i = 0; i < n; i++) {
    const va = a[ka[i]!];
    const vb = b[kb[i]!];
    const ta = canonicalTypeOrder(typeNameOf(va));
    const tb = canonicalTypeOrder(typeNameOf(vb));
    if (ta !== tb) return ta < tb ? -1 : 1;
    // Field names compare by code point under any collation, as in mongod.
    const kc = compareStrings(ka[i]!, kb[i]!);
    if (kc !== 0) return kc;
    const c = compareValues(va, vb, collator);
    if (c !== 0) return c;
  }
  return sign(ka.length - kb.length);
}

function compareArrays(a: BsonValue[], b: BsonValue[], collator: Collator | null | undefined): -1 | 0 | 1 {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ta = canonicalTypeOrder(typeNameOf(a[i]));
    const tb = canonicalTypeOrder(typeNameOf(b[i]));
    if (ta !== tb) return ta < tb ? -1 : 1;
    const c = compareValues(a[i], b[i], collator);
    if (c !== 0) return c;
  }
  return sign(a.length - b.length);
}

function dbRefAsDocument(v: BsonValue): Record<string, BsonValue> {
  if ((v as { _bsontype?: string })._bsontype !== 'DBRef') return v as Record<string, BsonValue>;
  const r = v as BSON.DBRef;
  return { $ref: r.collection, $id: r.oid, ...(r.db ? { $db: r.db } : {}), ...r.fields };
}

/**
 * Compares two BSON values in MongoDB's order. With a collator, strings and symbols (also inside
 * documents and arrays) compare by it; without one (or `null`, the simple collation) by code point.
 */
export function compareValues(a: BsonValue, b: BsonValue, collator?: Collator | null): -1 | 0 | 1 {
  const ta = typeNameOf(a);
  const tb = typeNameOf(b);
  const oa = canonicalTypeOrder(ta);
  const ob = canonicalTypeOrder(tb);
  if (oa !== ob) return oa < ob ? -1 : 1;
  switch (oa) {
    case -1: case 0: case 5: case 127:
      return 0;
    case 10:
      return compareNumbers(a, ta, b, tb);
    case 15: {
      const sa = String(ta === 'symbol' ? (a as BSON.BSONSymbol).value : a);
      const sb = String(tb === 'symbol' ? (b as BSON.BSONSymbol).value : b);
      return collator ? collator.compare(sa, sb) : compareStrings(sa, sb);
    }
    case 20:
      return compareDocuments(dbRefAsDocument(a), dbRefAsDocument(b), collator);
    case 25:
      return compareArrays(a, b, collator);
    case 30: {
      const ba = bytesOf(a);
      const bb = bytesOf(b);
      if (ba.length !== bb.length) return ba.length < bb.length ? -1 : 1;
      const sa = a instanceof Uint8Array ? 0 : (a as BSON.Binary).sub_type;
      const sb = b instanceof Uint8Array ? 0 : (b as BSON.Binary).sub_type;
      if (sa !== sb) return sa < sb ? -1 : 1;
      return compareBytes(ba, bb);
    }
    case 35:
      return compareBytes((a as BSON.ObjectId).id, (b as BSON.ObjectId).id);
    case 40:
      return a === b ? 0 : a ? 1 : -1;
    case 45:
      return sign((a as Date).getTime() - (b as Date).getTime());
    case 47: {
      const x = a as BSON.Timestamp;
      const y = b as BSON.Timestamp;
      if (x.high !== y.high) return x.high >>> 0 < y.high >>> 0 ? -1 : 1;
      return sign((x.low >>> 0) - (y.low >>> 0));
    }
    case 50: {
      const [pa, fa] = regexParts(a);
      const [pb, fb] = regexParts(b);
      return compareStrings(pa, pb) || compareStrings(fa, fb);
    }
    case 60:
      return compareStrings((a as BSON.Code).code, (b as BSON.Code).code);
    case 65:
      return compareStrings((a as BSON.Code).code, (b as BSON.Code).code) || compareDocuments((a as BSON.Code).scope ?? {}, (b as BSON.Code).scope ?? {}, collator);
    default:
      return 0;
  }
}

export function regexParts(v: BsonValue): [pattern: string, flags: string] {
  if (v instanceof RegExp) return [v.source, v.flags];
  const r = v as BSON.BSONRegExp;
  return [r.pattern, r.options];
}

export function valuesEqual(a: BsonValue, b: BsonValue, collator?: Collator | null): boolean {
  return compareValues(a, b, collator) === 0;
}
