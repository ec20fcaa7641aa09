/**
 * Value helpers of the aggregation language: MongoDB's numeric type rules for arithmetic
 * (int32 widening to int64, int64 overflowing to double, any double making a double, Decimal128
 * winning), truth, and building BSON numbers that keep their type on the wire.
 */
import { failLocation } from '../../base/index.js';
import {
  Decimal128, Double, Int32, Long, isDocument, orderedKeys, typeNameOf, type BsonTypeName, type BsonValue, type Document,
} from '../../bson/index.js';
import { decimalToString, fromSafeNum, parseDecimal, safeAdd, safeMul, toSafeNum, type Dec, type SafeNum } from '../update/numeric.js';
import { setField } from '../update/paths.js';

export { toSafeNum, fromSafeNum, type SafeNum, type Dec };

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

export const int32 = (n: number): Int32 => new Int32(n);
export const double = (n: number): Double => new Double(n);
export const long = (n: bigint | number): Long => (typeof n === 'bigint' ? Long.fromBigInt(n) : Long.fromNumber(n));

/** A JS integer as the narrowest of int32/int64/double that holds it (what mongod's Value(long long) picks in several operators). */
export function integral(n: number | bigint): BsonValue {
  if (typeof n === 'bigint') {
    if (n >= BigInt(INT32_MIN) && n <= BigInt(INT32_MAX)) return new Int32(Number(n));
    if (n >= INT64_MIN && n <= INT64_MAX) return Long.fromBigInt(n);
    return new Double(Number(n));
  }
  if (Number.isInteger(n) && n >= INT32_MIN && n <= INT32_MAX) return new Int32(n);
  return new Double(n);
}

export function isNullish(v: BsonValue): boolean {
  return v === undefined || v === null || typeNameOf(v) === 'undefined';
}

export function isNumberType(t: BsonTypeName): boolean {
  return t === 'int' || t === 'long' || t === 'double' || t === 'decimal';
}

/** mongod's Value::coerceToBool: false, null, undefined, missing and numeric zero are false. */
export function toBool(v: BsonValue): boolean {
  if (v === undefined || v === null || v === false) return false;
  if (v === true) return true;
  const t = typeNameOf(v);
  if (t === 'undefined') return false;
  if (isNumberType(t)) {
    const n = toSafeNum(v)!;
    if (n.t === 'decimal') return n.v.kind !== 'finite' || n.v.coeff !== 0n;
    if (n.t === 'long') return n.v !== 0n;
    return n.v !== 0;
  }
  return true;
}

export function asDouble(n: SafeNum): number {
  switch (n.t) {
    case 'int':
    case 'double':
      return n.v;
    case 'long':
      return Number(n.v);
    case 'decimal':
      return decToNumber(n.v);
  }
}

export function decToNumber(d: Dec): number {
  if (d.kind === 'nan') return Number.NaN;
  if (d.kind === 'inf') return d.neg ? -Infinity : Infinity;
  return Number(`${d.neg ? '-' : ''}${d.coeff}e${d.exp}`);
}

function asBig(n: SafeNum): bigint {
  return n.t === 'long' ? n.v : BigInt(n.v as number);
}

function fitsInt(r: bigint): boolean {
  return r >= BigInt(INT32_MIN) && r <= BigInt(INT32_MAX);
}

function fitsLong(r: bigint): boolean {
  return r >= INT64_MIN && r <= INT64_MAX;
}

/** Decimal128 of a double as mongod converts in arithmetic (15 significant digits). */
export function decFromDouble(x: number): Dec {
  if (Number.isNaN(x)) return { kind: 'nan' };
  if (!Number.isFinite(x)) return { kind: 'inf', neg: x < 0 };
  if (x === 0) return { kind: 'finite', neg: Object.is(x, -0), coeff: 0n, exp: 0 };
  const [mant, e] = Math.abs(x).toExponential(14).split('e') as [string, string];
  let coeff = BigInt(mant.replace('.', ''));
  let exp = Number(e) - 14;
  while (coeff !== 0n && coeff % 10n === 0n) {
    coeff /= 10n;
    exp++;
  }
  return { kind: 'finite', neg: x < 0, coeff, exp };
}

export function asDec(n: SafeNum): Dec {
  switch (n.t) {
    case 'int':
      return { kind: 'finite', neg: n.v < 0, coeff: BigInt(Math.abs(n.v)), exp: 0 };
    case 'long':
      return { kind: 'finite', neg: n.v < 0n, coeff: n.v < 0n ? -n.v : n.v, exp: 0 };
    case 'double':
      return decFromDouble(n.v);
    case 'decimal':
      return n.v;
  }
}

export function decimalOf(d: Dec): Decimal128 {
  return Decimal128.fromString(decimalToString(d));
}

export function negate(n: SafeNum): SafeNum {
  switch (n.t) {
    case 'int':
      return n.v === INT32_MIN ? { t: 'long', v: 2147483648n } : { t: 'int', v: -n.v };
    case 'long':
      return n.v === INT64_MIN ? { t: 'double', v: -Number(n.v) } : { t: 'long', v: -n.v };
    case 'double':
      return { t: 'double', v: -n.v };
    case 'decimal':
      return { t: 'decimal', v: n.v.kind === 'nan' ? n.v : { ...n.v, neg: !n.v.neg } };
  }
}

/** $add's rule for two numbers: int32 overflow widens to int64, int64 overflow falls back to double. */
export function addNumbers(a: SafeNum, b: SafeNum): SafeNum {
  if (a.t === 'decimal' || b.t === 'decimal') return safeAdd(a, b)!;
  if (a.t === 'double' || b.t === 'double') return { t: 'double', v: asDouble(a) + asDouble(b) };
  const r = asBig(a) + asBig(b);
  if (a.t === 'int' && b.t === 'int' && fitsInt(r)) return { t: 'int', v: Number(r) };
  if (fitsLong(r)) return { t: 'long', v: r };
  return { t: 'double', v: asDouble(a) + asDouble(b) };
}

export function subtractNumbers(a: SafeNum, b: SafeNum): SafeNum {
  if (a.t === 'decimal' || b.t === 'decimal') return safeAdd(a, negate({ t: 'decimal', v: asDec(b) }))!;
  if (a.t === 'double' || b.t === 'double') return { t: 'double', v: asDouble(a) - asDouble(b) };
  const r = asBig(a) - asBig(b);
  if (a.t === 'int' && b.t === 'int' && fitsInt(r)) return { t: 'int', v: Number(r) };
  if (fitsLong(r)) return { t: 'long', v: r };
  return { t: 'double', v: asDouble(a) - asDouble(b) };
}

export function multiplyNumbers(a: SafeNum, b: SafeNum): SafeNum {
  if (a.t === 'decimal' || b.t === 'decimal') return safeMul(a, b)!;
  if (a.t === 'double' || b.t === 'double') return { t: 'double', v: asDouble(a) * asDouble(b) };
  const r = asBig(a) * asBig(b);
  if (a.t === 'int' && b.t === 'int' && fitsInt(r)) return { t: 'int', v: Number(r) };
  if (fitsLong(r)) return { t: 'long', v: r };
  return { t: 'double', v: asDouble(a) * asDouble(b) };
}

const DEC_DIGITS = 34;

function digits(n: bigint): number {
  return n === 0n ? 1 : n.toString().length;
}

function roundHalfEven(coeff: bigint, drop: number): bigint {
  if (drop <= 0) return coeff;
  const p = 10n ** BigInt(drop);
  const q = coeff / p;
  const r = coeff % p;
  const half = p / 2n;
  return r > half || (r === half && q % 2n === 1n) ? q + 1n : q;
}

/** Rounds a decimal to 34 significant digits (half-even). */
export function roundDec(neg: boolean, coeff: bigint, exp: number): Dec {
  let c = coeff;
  let e = exp;
  const excess = digits(c) - DEC_DIGITS;
  if (excess > 0) {
    c = roundHalfEven(c, excess);
    e += excess;
    if (digits(c) > DEC_DIGITS) {
      c = roundHalfEven(c, 1);
      e += 1;
    }
  }
  return { kind: 'finite', neg, coeff: c, exp: e };
}

/** IEEE 754-2008 decimal division: exact results take the ideal exponent, others 34 digits. */
export function divideDec(a: Dec, b: Dec): Dec {
  if (a.kind === 'nan' || b.kind === 'nan') return { kind: 'nan' };
  const neg = (a.kind === 'finite' || a.kind === 'inf' ? a.neg : false) !== (b.kind === 'finite' || b.kind === 'inf' ? b.neg : false);
  if (a.kind === 'inf') return b.kind === 'inf' ? { kind: 'nan' } : { kind: 'inf', neg };
  if (b.kind === 'inf') return { kind: 'finite', neg, coeff: 0n, exp: 0 };
  if (b.coeff === 0n) return a.coeff === 0n ? { kind: 'nan' } : { kind: 'inf', neg };
  const ideal = a.exp - b.exp;
  if (a.coeff === 0n) return { kind: 'finite', neg, coeff: 0n, exp: ideal };
  const shift = Math.max(0, DEC_DIGITS + 2 + digits(b.coeff) - digits(a.coeff));
  const num = a.coeff * 10n ** BigInt(shift);
  let q = num / b.coeff;
  const rem = num % b.coeff;
  let e = ideal - shift;
  if (rem === 0n) {
    while (e < ideal && q % 10n === 0n) {
      q /= 10n;
      e++;
    }
    return roundDec(neg, q, e);
  }
  // Inexact: one sticky digit keeps half-even rounding honest.
  return roundDec(neg, q * 10n + 1n, e - 1);
}

export function compareDec(a: Dec, b: Dec): number {
  return Math.sign(decToNumber(a) - decToNumber(b)) || 0;
}

export function isDecZero(d: Dec): boolean {
  return d.kind === 'finite' && d.coeff === 0n;
}

export { parseDecimal, decimalToString };

/** A fresh document with the given entries, safe for "__proto__" keys. */
export function makeDocument(entries: Iterable<[string, BsonValue]>): Document {
  const out: Document = {};
  for (const [k, v] of entries) if (v !== undefined) setField(out, k, v);
  return out;
}

export { setField };

/** Copies a document's own fields (shallow). */
export function shallowCopy(doc: Document): Document {
  const out: Document = {};
  for (const k of orderedKeys(doc)) setField(out, k, doc[k]);
  return out;
}

/** Type checks shared by many operators. */
export function expectNumber(v: BsonValue, code: number, message: (type: string) => string): SafeNum {
  const n = toSafeNum(v);
  if (n === undefined) failLocation(code, message(typeNameOf(v)));
  return n;
}

export function isArrayValue(v: BsonValue): v is BsonValue[] {
  return Array.isArray(v);
}

export function isObjectValue(v: BsonValue): v is Document {
  return isDocument(v);
}

/** The name $type and error messages use for a value (missing reads as "missing"). */
export function typeName(v: BsonValue): string {
  return typeNameOf(v);
}
