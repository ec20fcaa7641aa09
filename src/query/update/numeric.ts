/**
 * mongod's SafeNum: the arithmetic behind $inc, $mul and $bit, with its type rules.
 *   int32 op int32  -> int32, widened to int64 when the result does not fit
 *   int64 involved  -> int64; overflow makes the result invalid (the update fails, as mongod's does)
 *   double involved -> double
 *   Decimal128 involved -> Decimal128 (a double operand converts with 15 significant digits)
 * Decimal128 arithmetic is done exactly on (coefficient, exponent) pairs and rounded half-even to
 * 34 digits, which is what IEEE 754-2008 decimal128 (and so mongod's Intel library) does.
 */
import { Decimal128, Double, Int32, Long, typeNameOf, type BsonValue } from '../../bson/index.js';

export type SafeNum =
  | { t: 'int'; v: number }
  | { t: 'long'; v: bigint }
  | { t: 'double'; v: number }
  | { t: 'decimal'; v: Dec };

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/** The SafeNum of a numeric BSON value; undefined for anything else. */
export function toSafeNum(v: BsonValue): SafeNum | undefined {
  switch (typeNameOf(v)) {
    case 'int':
      return { t: 'int', v: typeof v === 'number' ? v : (v as Int32).value };
    case 'long':
      return { t: 'long', v: typeof v === 'bigint' ? v : (v as Long).toBigInt() };
    case 'double':
      return { t: 'double', v: typeof v === 'number' ? v : (v as Double).value };
    case 'decimal':
      return { t: 'decimal', v: parseDecimal((v as Decimal128).toString()) };
    default:
      return undefined;
  }
}

export function fromSafeNum(n: SafeNum): BsonValue {
  switch (n.t) {
    case 'int':
      return new Int32(n.v);
    case 'long':
      return Long.fromBigInt(n.v);
    case 'double':
      return new Double(n.v);
    case 'decimal':
      return Decimal128.fromString(decimalToString(n.v));
  }
}

/** SafeNum::debugString, used in "Failed to apply $inc operations to current value (...)". */
export function debugString(n: SafeNum): string {
  switch (n.t) {
    case 'int':
      return `(NumberInt)${n.v}`;
    case 'long':
      return `(NumberLong)${n.v}`;
    case 'double':
      // C++ ostream default: 6 significant digits.
      return `(NumberDouble)${Number(n.v.toPrecision(6))}`;
    case 'decimal':
      return `(NumberDecimal)${decimalToString(n.v)}`;
  }
}

/** SafeNum::isIdentical: same type and same value (decimals compare by value, not by digits). */
export function isIdentical(a: SafeNum, b: SafeNum): boolean {
  if (a.t !== b.t) return false;
  switch (a.t) {
    case 'int':
    case 'long':
      return a.v === b.v;
    case 'double':
      return a.v === (b.v as number);
    case 'decimal':
      return decimalEquals(a.v, b.v as Dec);
  }
}

function asDouble(n: SafeNum): number {
  switch (n.t) {
    case 'int':
    case 'double':
      return n.v;
    case 'long':
      return Number(n.v);
    case 'decimal':
      return decimalToNumber(n.v);
  }
}

function asDecimal(n: SafeNum): Dec {
  switch (n.t) {
    case 'int':
      return { kind: 'finite', neg: n.v < 0, coeff: BigInt(Math.abs(n.v)), exp: 0 };
    case 'long':
      return { kind: 'finite', neg: n.v < 0n, coeff: n.v < 0n ? -n.v : n.v, exp: 0 };
    case 'double':
      return decimalFromDouble15(n.v);
    case 'decimal':
      return n.v;
  }
}

function asBig(n: SafeNum): bigint {
  return n.t === 'long' ? n.v : BigInt(n.v as number);
}

function checkedLong(r: bigint): SafeNum | undefined {
  return r < INT64_MIN || r > INT64_MAX ? undefined : { t: 'long', v: r };
}

/** SafeNum addition; undefined stands for mongod's invalid (EOO) SafeNum, i.e. int64 overflow. */
export function safeAdd(a: SafeNum, b: SafeNum): SafeNum | undefined {
  if (a.t === 'decimal' || b.t === 'decimal') return { t: 'decimal', v: decimalAdd(asDecimal(a), asDecimal(b)) };
  if (a.t === 'double' || b.t === 'double') return { t: 'double', v: asDouble(a) + asDouble(b) };
  if (a.t === 'int' && b.t === 'int') {
    const r = a.v + b.v;
    return r >= INT32_MIN && r <= INT32_MAX ? { t: 'int', v: r } : { t: 'long', v: BigInt(r) };
  }
  return checkedLong(asBig(a) + asBig(b));
}

export function safeMul(a: SafeNum, b: SafeNum): SafeNum | undefined {
  if (a.t === 'decimal' || b.t === 'decimal') return { t: 'decimal', v: decimalMul(asDecimal(a), asDecimal(b)) };
  if (a.t === 'double' || b.t === 'double') return { t: 'double', v: asDouble(a) * asDouble(b) };
  if (a.t === 'int' && b.t === 'int') {
    const r = BigInt(a.v) * BigInt(b.v);
    return r >= BigInt(INT32_MIN) && r <= BigInt(INT32_MAX) ? { t: 'int', v: Number(r) } : { t: 'long', v: r };
  }
  return checkedLong(asBig(a) * asBig(b));
}

export type BitOp = 'and' | 'or' | 'xor';

/** Bitwise ops are defined on int32/int64 only; int32 with int64 widens to int64. */
export function safeBit(op: BitOp, a: SafeNum, b: SafeNum): SafeNum | undefined {
  if ((a.t !== 'int' && a.t !== 'long') || (b.t !== 'int' && b.t !== 'long')) return undefined;
  if (a.t === 'int' && b.t === 'int') {
    const r = op === 'and' ? a.v & b.v : op === 'or' ? a.v | b.v : a.v ^ b.v;
    return { t: 'int', v: r };
  }
  const x = asBig(a);
  const y = asBig(b);
  const r = op === 'and' ? x & y : op === 'or' ? x | y : x ^ y;
  return { t: 'long', v: BigInt.asIntN(64, r) };
}

// ---------------------------------------------------------------------------------------------
// Decimal128 as (sign, coefficient, exponent): exact add/multiply, then IEEE rounding to 34 digits.

export type Dec =
  | { kind: 'finite'; neg: boolean; coeff: bigint; exp: number }
  | { kind: 'inf'; neg: boolean }
  | { kind: 'nan' };

const DEC_DIGITS = 34;
const DEC_EXP_MAX = 6111;
const DEC_EXP_MIN = -6176;

export function parseDecimal(s: string): Dec {
  if (/^-?NaN$/i.test(s)) return { kind: 'nan' };
  if (/^[+-]?Inf(inity)?$/i.test(s)) return { kind: 'inf', neg: s.startsWith('-') };
  const m = /^([+-])?(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(s);
  if (!m) return { kind: 'nan' };
  const int = m[2] ?? '';
  const frac = m[3] ?? '';
  const digits = `${int}${frac}` || '0';
  return { kind: 'finite', neg: m[1] === '-', coeff: BigInt(digits), exp: Number(m[4] ?? '0') - frac.length };
}

export function decimalToString(d: Dec): string {
  if (d.kind === 'nan') return 'NaN';
  if (d.kind === 'inf') return d.neg ? '-Infinity' : 'Infinity';
  return `${d.neg ? '-' : ''}${d.coeff}E${d.exp}`;
}

function decimalToNumber(d: Dec): number {
  if (d.kind === 'nan') return Number.NaN;
  if (d.kind === 'inf') return d.neg ? -Infinity : Infinity;
  return Number(`${d.neg ? '-' : ''}${d.coeff}e${d.exp}`);
}

function decimalEquals(a: Dec, b: Dec): boolean {
  if (a.kind === 'nan' || b.kind === 'nan') return a.kind === 'nan' && b.kind === 'nan';
  if (a.kind === 'inf' || b.kind === 'inf') return a.kind === b.kind && a.neg === b.neg;
  if (a.coeff === 0n && b.coeff === 0n) return true;
  if (a.neg !== b.neg) return false;
  const e = Math.min(a.exp, b.exp);
  return a.coeff * 10n ** BigInt(a.exp - e) === b.coeff * 10n ** BigInt(b.exp - e);
}

/** Decimal128(double, kRoundTo15Digits): the double's value rounded to 15 significant digits. */
function decimalFromDouble15(x: number): Dec {
  if (Number.isNaN(x)) return { kind: 'nan' };
  if (!Number.isFinite(x)) return { kind: 'inf', neg: x < 0 };
  if (x === 0) return { kind: 'finite', neg: Object.is(x, -0), coeff: 0n, exp: 0 };
  const [mant, e] = Math.abs(x).toExponential(14).split('e') as [string, string];
  return { kind: 'finite', neg: x < 0, coeff: BigInt(mant.replace('.', '')), exp: Number(e) - 14 };
}

function digitCount(n: bigint): number {
  return n === 0n ? 1 : n.toString().length;
}

/** Drops `drop` low digits with round-half-even. */
function roundOff(coeff: bigint, drop: number): bigint {
  if (drop <= 0) return coeff;
  const p = 10n ** BigInt(drop);
  const q = coeff / p;
  const r = coeff % p;
  const half = p / 2n;
  if (r > half || (r === half && q % 2n === 1n)) return q + 1n;
  return q;
}

function finish(neg: boolean, coeff: bigint, exp: number): Dec {
  let c = coeff;
  let e = exp;
  let excess = digitCount(c) - DEC_DIGITS;
  if (e < DEC_EXP_MIN) excess = Math.max(excess, DEC_EXP_MIN - e);
  if (excess > 0) {
    c = roundOff(c, excess);
    e += excess;
    if (digitCount(c) > DEC_DIGITS) {
      c = roundOff(c, 1);
      e += 1;
    }
  }
  if (e > DEC_EXP_MAX) {
    // Clamp by padding the coefficient with zeros when it still fits; otherwise overflow to infinity.
    if (c === 0n) e = DEC_EXP_MAX;
    else {
      const pad = e - DEC_EXP_MAX;
      if (digitCount(c) + pad > DEC_DIGITS) return { kind: 'inf', neg };
      c *= 10n ** BigInt(pad);
      e = DEC_EXP_MAX;
    }
  }
  return { kind: 'finite', neg, coeff: c, exp: e };
}

function decimalAdd(a: Dec, b: Dec): Dec {
  if (a.kind === 'nan' || b.kind === 'nan') return { kind: 'nan' };
  if (a.kind === 'inf' && b.kind === 'inf') return a.neg === b.neg ? a : { kind: 'nan' };
  if (a.kind === 'inf') return a;
  if (b.kind === 'inf') return b;
  const e = Math.min(a.exp, b.exp);
  const x = (a.neg ? -a.coeff : a.coeff) * 10n ** BigInt(a.exp - e);
  const y = (b.neg ? -b.coeff : b.coeff) * 10n ** BigInt(b.exp - e);
  const sum = x + y;
  // An exact zero sum is +0 unless both operands were negative (round-half-even rules).
  const neg = sum < 0n || (sum === 0n && a.neg && b.neg);
  return finish(neg, sum < 0n ? -sum : sum, e);
}

function decimalMul(a: Dec, b: Dec): Dec {
  if (a.kind === 'nan' || b.kind === 'nan') return { kind: 'nan' };
  const neg = a.neg !== b.neg;
  if (a.kind === 'inf' || b.kind === 'inf') {
    const other = a.kind === 'inf' ? b : a;
    if (other.kind === 'finite' && other.coeff === 0n) return { kind: 'nan' };
    return { kind: 'inf', neg };
  }
  return finish(neg, a.coeff * b.coeff, a.exp + b.exp);
}
