/**
 * Square roots, logarithms, exponentials and powers of Decimal128 values, as mongod computes them
 * with the Intel decimal library: in decimal, rounded half-even to 34 significant digits, instead
 * of through a double (which keeps only ~16 digits).
 *
 * Exact results are exact and carry IEEE 754's preferred exponent: square roots of perfect
 * squares (sqrt(16) = 4, sqrt(0.25) = 0.5), log10 and log2 of exact powers, exp(0) and ln(1).
 * Integral powers are exact too, then widened to 34 digits as mongod does (2^10 =
 * 1024.000000000000000000000000000000). Other results are computed in fixed point with 90
 * fractional digits and rounded once, so they are correctly rounded except when the true value
 * lies within ~1e-55 (relative) of a rounding boundary, or for arguments whose logarithm nearly
 * cancels (x within ~1e-50 of 1); there the last digit may differ from mongod's. $log with a base
 * other than 2 or 10 divides two rounded logarithms, as mongod does, so it can be one unit off
 * in the last digit from the true value (log(9, 3) = 1.999...9).
 */
import type { Dec } from './values.js';
import { divideDec, roundDec } from './values.js';

const P = 90;
const SCALE = 10n ** BigInt(P);
const DEC_EXP_MAX = 6111;
const DEC_EXP_MIN = -6176;

type Finite = Extract<Dec, { kind: 'finite' }>;

const NAN: Dec = { kind: 'nan' };
const ZERO: Dec = { kind: 'finite', neg: false, coeff: 0n, exp: 0 };
const ONE: Dec = { kind: 'finite', neg: false, coeff: 1n, exp: 0 };

function digits(n: bigint): number {
  return n === 0n ? 1 : (n < 0n ? -n : n).toString().length;
}

function abs(n: bigint): bigint {
  return n < 0n ? -n : n;
}

/** Drops trailing zeros of the coefficient while the exponent stays at or below `ideal`. */
function towardIdeal(d: Finite, ideal: number): Finite {
  let { coeff, exp } = d;
  while (exp < ideal && coeff !== 0n && coeff % 10n === 0n) {
    coeff /= 10n;
    exp++;
  }
  return { ...d, coeff, exp };
}

/** Rounds to 34 digits, and maps what Decimal128 cannot hold to infinity or zero. */
function finish(neg: boolean, coeff: bigint, exp: number): Dec {
  if (coeff === 0n) return { kind: 'finite', neg, coeff: 0n, exp: Math.max(DEC_EXP_MIN, Math.min(DEC_EXP_MAX, exp)) };
  const r = roundDec(neg, coeff, exp) as Finite;
  if (r.exp + digits(r.coeff) - 1 > DEC_EXP_MAX + 33) return { kind: 'inf', neg };
  if (r.exp < DEC_EXP_MIN) {
    const drop = DEC_EXP_MIN - r.exp;
    if (drop > 40) return { kind: 'finite', neg, coeff: 0n, exp: DEC_EXP_MIN };
    return { kind: 'finite', neg, coeff: r.coeff / 10n ** BigInt(drop), exp: DEC_EXP_MIN };
  }
  return r;
}

/** A fixed-point value (scaled by 10^P) as a decimal, rounded once. */
function fromFixed(x: bigint): Dec {
  return finish(x < 0n, abs(x), -P);
}

function toFixed(d: Finite): bigint {
  const shift = d.exp + P;
  const mag = shift >= 0 ? d.coeff * 10n ** BigInt(shift) : d.coeff / 10n ** BigInt(-shift);
  return d.neg ? -mag : mag;
}

function mul(a: bigint, b: bigint): bigint {
  return (a * b) / SCALE;
}

function div(a: bigint, b: bigint): bigint {
  return (a * SCALE) / b;
}

/** atanh(z) for a small fixed-point z: z + z^3/3 + z^5/5 + ... */
function atanh(z: bigint): bigint {
  const z2 = mul(z, z);
  let term = z;
  let sum = z;
  for (let k = 3n; ; k += 2n) {
    term = mul(term, z2);
    const t = term / k;
    if (t === 0n) break;
    sum += t;
  }
  return sum;
}

let ln2Cache: bigint | undefined;
let ln10Cache: bigint | undefined;

function ln2(): bigint {
  // ln 2 = 2 atanh(1/3)
  return (ln2Cache ??= 2n * atanh(SCALE / 3n));
}

function ln10(): bigint {
  // ln 10 = 3 ln 2 + ln 1.25, and ln 1.25 = 2 atanh(1/9)
  return (ln10Cache ??= 3n * ln2() + 2n * atanh(SCALE / 9n));
}

/** ln of a positive finite decimal, in fixed point. */
function lnFixed(d: Finite): bigint {
  const k = digits(d.coeff);
  // d = m * 10^E with m in [1, 10) kept exactly in fixed point.
  const e10 = d.exp + k - 1;
  let m = d.coeff * 10n ** BigInt(P - (k - 1) + 0);
  if (k - 1 > P) m = d.coeff / 10n ** BigInt(k - 1 - P);
  // Halve m into [0.75, 1.5): ln m = j ln 2 + ln(m / 2^j).
  let j = 0n;
  const high = (3n * SCALE) / 2n;
  while (m >= high) {
    m /= 2n;
    j++;
  }
  const z = div(m - SCALE, m + SCALE);
  return 2n * atanh(z) + j * ln2() + BigInt(e10) * ln10();
}

/** e^x for a fixed-point x, as a decimal (x = n ln 2 + r, |r| <= ln2/2). */
function expDec(x: bigint): Dec {
  // Beyond these, Decimal128 holds infinity or zero.
  const limit = 14_300n * SCALE;
  if (x > limit) return { kind: 'inf', neg: false };
  if (x < -limit) return { kind: 'finite', neg: false, coeff: 0n, exp: DEC_EXP_MIN };
  const l2 = ln2();
  let n = x / l2;
  let r = x - n * l2;
  if (r > l2 / 2n) {
    r -= l2;
    n++;
  } else if (r < -l2 / 2n) {
    r += l2;
    n--;
  }
  let term = SCALE;
  let sum = SCALE;
  for (let k = 1n; ; k++) {
    term = mul(term, r) / k;
    if (term === 0n) break;
    sum += term;
  }
  // sum * 2^n, exactly: 2^-n = 5^n / 10^n.
  if (n >= 0n) return finish(false, sum * 2n ** n, -P);
  return finish(false, sum * 5n ** -n, -P + Number(n));
}

function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  // Newton's method from above converges monotonically to floor(sqrt(n)).
  let x = 1n << BigInt(Math.ceil(n.toString(2).length / 2) + 1);
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

export function decSqrt(d: Dec): Dec {
  if (d.kind === 'nan') return d;
  if (d.kind === 'inf') return d.neg ? NAN : d;
  if (d.coeff === 0n) return { kind: 'finite', neg: d.neg, coeff: 0n, exp: Math.floor(d.exp / 2) };
  if (d.neg) return NAN;
  let c = d.coeff;
  let e = d.exp;
  if (e % 2 !== 0) {
    c *= 10n;
    e -= 1;
  }
  // Scale by an even power of ten so the root has at least 36 digits.
  const shift = Math.max(0, Math.ceil((72 - digits(c)) / 2));
  const scaled = c * 10n ** BigInt(2 * shift);
  const root = isqrt(scaled);
  const exp = e / 2 - shift;
  if (root * root === scaled) {
    const exact = finish(false, root, exp) as Finite;
    return towardIdeal(exact, Math.floor(d.exp / 2));
  }
  // Inexact: a sticky digit keeps the half-even rounding honest.
  return finish(false, root * 10n + 1n, exp - 1);
}

export function decLn(d: Dec): Dec {
  if (d.kind === 'nan') return d;
  if (d.kind === 'inf') return d.neg ? NAN : d;
  if (d.coeff === 0n) return { kind: 'inf', neg: true };
  if (d.neg) return NAN;
  const t = towardIdeal(d, Infinity);
  if (t.coeff === 1n && t.exp === 0) return ZERO;
  return fromFixed(lnFixed(d));
}

export function decLog10(d: Dec): Dec {
  if (d.kind === 'nan') return d;
  if (d.kind === 'inf') return d.neg ? NAN : d;
  if (d.coeff === 0n) return { kind: 'inf', neg: true };
  if (d.neg) return NAN;
  const t = towardIdeal(d, Infinity);
  if (t.coeff === 1n) return { kind: 'finite', neg: t.exp < 0, coeff: BigInt(Math.abs(t.exp)), exp: 0 };
  return fromFixed(div(lnFixed(d), ln10()));
}

function isExactly(d: Dec, n: bigint): boolean {
  if (d.kind !== 'finite' || d.neg || d.coeff === 0n) return false;
  const t = towardIdeal(d, Infinity);
  return t.exp === 0 && t.coeff === n;
}

/** log2, exact for powers of two (x = c * 10^e is 2^k when c / 5^-e is a power of two). */
function decLog2(d: Dec): Dec {
  if (d.kind === 'nan') return d;
  if (d.kind === 'inf') return d.neg ? NAN : d;
  if (d.coeff === 0n) return { kind: 'inf', neg: true };
  if (d.neg) return NAN;
  const t = towardIdeal(d, Infinity);
  let c = t.coeff;
  let k = 0;
  if (t.exp < 0) {
    const five = 5n ** BigInt(-t.exp);
    if (c % five === 0n) {
      c /= five;
      k = t.exp;
    } else c = 0n;
  } else if (t.exp > 0) c = 0n;
  if (c > 0n && (c & (c - 1n)) === 0n) {
    const e = k + c.toString(2).length - 1;
    return { kind: 'finite', neg: e < 0, coeff: BigInt(Math.abs(e)), exp: 0 };
  }
  return fromFixed(div(lnFixed(d as Finite), ln2()));
}

/**
 * $log with a Decimal128 operand, as mongod's Decimal128::logarithm(base): log2 and log10 for
 * those bases, otherwise ln x / ln base, each rounded to 34 digits and then divided.
 */
export function decLog(x: Dec, base: Dec): Dec {
  if (x.kind === 'nan' || base.kind === 'nan') return NAN;
  if (isExactly(base, 2n)) return decLog2(x);
  if (isExactly(base, 10n)) return decLog10(x);
  return divideDec(decLn(x), decLn(base));
}

export function decExp(d: Dec): Dec {
  if (d.kind === 'nan') return d;
  if (d.kind === 'inf') return d.neg ? ZERO : d;
  if (d.coeff === 0n) return ONE;
  return expDec(toFixed(d));
}

/** The integer a decimal holds, if it is integral and of reasonable size. */
function integralOf(d: Finite): bigint | undefined {
  const t = towardIdeal(d, Infinity);
  if (t.exp < 0) return undefined;
  if (t.exp > 6) return undefined;
  const v = t.coeff * 10n ** BigInt(t.exp);
  return t.neg ? -v : v;
}

/**
 * mongod adds 0E-6176 to every power (Decimal128::power), which re-expresses a finite result with
 * as many digits as fit: 2^10 is 1024.000000000000000000000000000000.
 */
function widen(d: Dec): Dec {
  if (d.kind !== 'finite') return d;
  if (d.coeff === 0n) return { ...d, exp: DEC_EXP_MIN };
  let { coeff, exp } = d;
  const room = Math.min(34 - digits(coeff), exp - DEC_EXP_MIN);
  if (room > 0) {
    coeff *= 10n ** BigInt(room);
    exp -= room;
  }
  return { ...d, coeff, exp };
}

export function decPow(base: Dec, exponent: Dec): Dec {
  return widen(powRaw(base, exponent));
}

function powRaw(base: Dec, exponent: Dec): Dec {
  if (base.kind === 'nan' || exponent.kind === 'nan') return NAN;
  if (exponent.kind === 'finite' && exponent.coeff === 0n) return ONE;
  if (base.kind !== 'finite' || exponent.kind !== 'finite') {
    // Infinities: fall back to the limits through exp/ln.
    if (base.kind === 'inf') {
      const negExp = exponent.kind === 'finite' ? exponent.neg : exponent.neg;
      if (negExp) return ZERO;
      return { kind: 'inf', neg: base.neg && exponent.kind === 'finite' && integralOf(exponent) !== undefined && integralOf(exponent)! % 2n !== 0n };
    }
    const mag = base.coeff === 0n ? 0 : base.exp + digits(base.coeff) - 1;
    const grows = (mag >= 0 && !(base.coeff === 1n && base.exp === 0)) !== exponent.neg;
    return grows ? { kind: 'inf', neg: false } : ZERO;
  }
  const n = integralOf(exponent);
  if (base.coeff === 0n) {
    if (exponent.neg) return { kind: 'inf', neg: base.neg && n !== undefined && n % 2n !== 0n };
    return { kind: 'finite', neg: base.neg && n !== undefined && n % 2n !== 0n, coeff: 0n, exp: 0 };
  }
  if (n !== undefined) {
    const m = n < 0n ? -n : n;
    const neg = base.neg && m % 2n === 1n;
    // Exact while the coefficient stays small enough to hold; rounded once at the end.
    if (BigInt(digits(base.coeff)) * m <= 20_000n) {
      const coeff = base.coeff ** m;
      const exp = base.exp * Number(m);
      if (n >= 0n) return finish(neg, coeff, exp);
      const q = divideDec({ kind: 'finite', neg: false, coeff: 1n, exp: 0 }, { kind: 'finite', neg: false, coeff, exp });
      if (q.kind !== 'finite') return q;
      return finish(neg, q.coeff, q.exp);
    }
    const r = expDec(mul(toFixed(exponent), lnFixed({ ...base, neg: false })));
    return neg && r.kind !== 'nan' ? { ...r, neg: true } : r;
  }
  if (base.neg) return NAN;
  return expDec(mul(toFixed(exponent), lnFixed(base)));
}
