/**
 * Arithmetic, comparison, boolean, conditional and variable operators ($add ... $switch, $let,
 * $literal, $rand). Numeric results keep MongoDB's type rules (see values.ts).
 */
import { failLocation } from '../../base/index.js';
import { compareValues, Decimal128, isDocument, typeNameOf, type BsonValue } from '../../bson/index.js';
import {
  checkArity, constantExpression, expression, foldConstant, parseExpression, parseOperands, registerOperator,
  validateVariableName, type Expression, type Variables,
} from './expression.js';
import { decExp, decLn, decLog, decLog10, decPow, decSqrt } from './decimal-math.js';
import {
  addNumbers, asDec, asDouble, decimalOf, decToNumber, divideDec, fromSafeNum, integral, isDecZero, isNullish,
  multiplyNumbers, negate, roundDec, subtractNumbers, toBool, toSafeNum, type SafeNum,
} from './values.js';

const INT32_MIN = -2147483648;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

function dateMs(v: BsonValue): number {
  return (v as Date).getTime();
}

/** A number of milliseconds to add to a date (mongod rounds doubles and decimals to the nearest). */
function millisOf(n: SafeNum): number {
  switch (n.t) {
    case 'int':
      return n.v;
    case 'long':
      return Number(n.v);
    default:
      return Math.round(asDouble(n));
  }
}

// ---- arithmetic ---------------------------------------------------------------------------

registerOperator('$add', (args, scope, name) => {
  const ops = parseOperands(args, scope);
  return foldConstant(ops, (vars) => {
    let acc: SafeNum = { t: 'int', v: 0 };
    let date: Date | undefined;
    for (const o of ops) {
      const v = o.evaluate(vars);
      if (isNullish(v)) return null;
      const t = typeNameOf(v);
      if (t === 'date') {
        if (date) failLocation(16612, 'only one date allowed in an $add expression');
        date = v;
        continue;
      }
      const n = toSafeNum(v);
      if (!n) failLocation(16554, `${name} only supports numeric or date types, not ${t}`);
      acc = addNumbers(acc, n);
    }
    if (date) return new Date(date.getTime() + millisOf(acc));
    return fromSafeNum(acc);
  });
});

registerOperator('$subtract', (args, scope, name) => {
  const ops = parseOperands(args, scope);
  checkArity(name, ops, 2);
  return foldConstant(ops, (vars) => {
    const a = ops[0]!.evaluate(vars);
    const b = ops[1]!.evaluate(vars);
    if (isNullish(a) || isNullish(b)) return null;
    const ta = typeNameOf(a);
    const tb = typeNameOf(b);
    if (ta === 'date') {
      if (tb === 'date') return fromSafeNum({ t: 'long', v: BigInt(dateMs(a) - dateMs(b)) });
      const n = toSafeNum(b);
      if (n) return new Date(dateMs(a) - millisOf(n));
    } else {
      const x = toSafeNum(a);
      const y = toSafeNum(b);
      if (x && y) return fromSafeNum(subtractNumbers(x, y));
      if (x && tb === 'date') failLocation(16556, `can't $subtract date from ${ta}`);
    }
    return failLocation(16556, `can't $subtract ${tb} from ${ta}`);
  });
});

registerOperator('$multiply', (args, scope, name) => {
  const ops = parseOperands(args, scope);
  return foldConstant(ops, (vars) => {
    let acc: SafeNum = { t: 'int', v: 1 };
    for (const o of ops) {
      const v = o.evaluate(vars);
      if (isNullish(v)) return null;
      const n = toSafeNum(v);
      if (!n) failLocation(16555, `${name} only supports numeric types, not ${typeNameOf(v)}`);
      acc = multiplyNumbers(acc, n);
    }
    return fromSafeNum(acc);
  });
});

registerOperator('$divide', (args, scope, name) => {
  const ops = parseOperands(args, scope);
  checkArity(name, ops, 2);
  return foldConstant(ops, (vars) => {
    const a = ops[0]!.evaluate(vars);
    const b = ops[1]!.evaluate(vars);
    if (isNullish(a) || isNullish(b)) return null;
    const x = toSafeNum(a);
    const y = toSafeNum(b);
    if (!x || !y) failLocation(16609, `$divide only supports numeric types, not ${typeNameOf(a)} and ${typeNameOf(b)}`);
    if (x.t === 'decimal' || y.t === 'decimal') {
      const d = asDec(y);
      if (isDecZero(d)) failLocation(16608, "can't $divide by zero");
      return decimalOf(divideDec(asDec(x), d));
    }
    const divisor = asDouble(y);
    if (divisor === 0) failLocation(16608, "can't $divide by zero");
    return fromSafeNum({ t: 'double', v: asDouble(x) / divisor });
  });
});

registerOperator('$mod', (args, scope, name) => {
  const ops = parseOperands(args, scope);
  checkArity(name, ops, 2);
  return foldConstant(ops, (vars) => {
    const a = ops[0]!.evaluate(vars);
    const b = ops[1]!.evaluate(vars);
    if (isNullish(a) || isNullish(b)) return null;
    const x = toSafeNum(a);
    const y = toSafeNum(b);
    if (!x || !y) failLocation(16611, `$mod only supports numeric types, not ${typeNameOf(a)} and ${typeNameOf(b)}`);
    if (x.t === 'decimal' || y.t === 'decimal') {
      const dx = decToNumber(asDec(x));
      const dy = decToNumber(asDec(y));
      if (dy === 0) failLocation(16610, "can't $mod by 0");
      return Decimal128.fromString(String(dx % dy));
    }
    if (x.t === 'double' || y.t === 'double') {
      const dy = asDouble(y);
      if (dy === 0) failLocation(16610, "can't $mod by 0");
      return fromSafeNum({ t: 'double', v: asDouble(x) % dy });
    }
    const bx = x.t === 'long' ? x.v : BigInt(x.v);
    const by = y.t === 'long' ? y.v : BigInt(y.v);
    if (by === 0n) failLocation(16610, "can't $mod by 0");
    const r = by === -1n ? 0n : bx % by;
    return x.t === 'long' || y.t === 'long' ? fromSafeNum({ t: 'long', v: r }) : fromSafeNum({ t: 'int', v: Number(r) });
  });
});

function unaryNumeric(name: string, code: number, fn: (n: SafeNum) => BsonValue): void {
  registerOperator(name, (args, scope) => {
    const ops = parseOperands(args, scope);
    checkArity(name, ops, 1);
    return foldConstant(ops, (vars) => {
      const v = ops[0]!.evaluate(vars);
      if (isNullish(v)) return null;
      const n = toSafeNum(v);
      if (!n) failLocation(code, `${name} only supports numeric types, not ${typeNameOf(v)}`);
      return fn(n);
    });
  });
}

unaryNumeric('$abs', 28765, (n) => {
  switch (n.t) {
    case 'int':
      return n.v === INT32_MIN ? fromSafeNum({ t: 'long', v: 2147483648n }) : fromSafeNum({ t: 'int', v: Math.abs(n.v) });
    case 'long':
      if (n.v === INT64_MIN) failLocation(28680, "can't take $abs of long long min");
      return fromSafeNum({ t: 'long', v: n.v < 0n ? -n.v : n.v });
    case 'double':
      return fromSafeNum({ t: 'double', v: Math.abs(n.v) });
    case 'decimal':
      return decimalOf(n.v.kind === 'nan' ? n.v : { ...n.v, neg: false });
  }
});

function decimalViaDouble(d: SafeNum, fn: (x: number) => number): BsonValue {
  return Decimal128.fromString(formatDecimalNumber(fn(asDouble(d))));
}

function formatDecimalNumber(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x < 0 ? '-Infinity' : 'Infinity';
  return String(x);
}

unaryNumeric('$ceil', 28765, (n) => (n.t === 'double' ? fromSafeNum({ t: 'double', v: Math.ceil(n.v) }) : n.t === 'decimal' ? decimalViaDouble(n, Math.ceil) : fromSafeNum(n)));
unaryNumeric('$floor', 28765, (n) => (n.t === 'double' ? fromSafeNum({ t: 'double', v: Math.floor(n.v) }) : n.t === 'decimal' ? decimalViaDouble(n, Math.floor) : fromSafeNum(n)));
unaryNumeric('$exp', 28765, (n) => (n.t === 'decimal' ? decimalOf(decExp(n.v)) : fromSafeNum({ t: 'double', v: Math.exp(asDouble(n)) })));

unaryNumeric('$sqrt', 28765, (n) => {
  const x = asDouble(n);
  if (x < 0) failLocation(28714, "$sqrt's argument must be greater than or equal to 0");
  return n.t === 'decimal' ? decimalOf(decSqrt(n.v)) : fromSafeNum({ t: 'double', v: Math.sqrt(x) });
});

unaryNumeric('$ln', 28765, (n) => {
  const x = asDouble(n);
  if (!(x > 0) && !Number.isNaN(x)) failLocation(28766, `$ln's argument must be a positive number, but ${x}`);
  return n.t === 'decimal' ? decimalOf(decLn(n.v)) : fromSafeNum({ t: 'double', v: Math.log(x) });
});

unaryNumeric('$log10', 28765, (n) => {
  const x = asDouble(n);
  if (!(x > 0) && !Number.isNaN(x)) failLocation(28761, `$log10's argument must be a positive number, but ${x}`);
  return n.t === 'decimal' ? decimalOf(decLog10(n.v)) : fromSafeNum({ t: 'double', v: Math.log10(x) });
});

registerOperator('$log', (args, scope, name) => {
  const ops = parseOperands(args, scope);
  checkArity(name, ops, 2);
  return foldConstant(ops, (vars) => {
    const a = ops[0]!.evaluate(vars);
    const b = ops[1]!.evaluate(vars);
    if (isNullish(a) || isNullish(b)) return null;
    const x = toSafeNum(a);
    const y = toSafeNum(b);
    if (!x) failLocation(28756, `$log's argument must be numeric, not ${typeNameOf(a)}`);
    if (!y) failLocation(28757, `$log's base must be numeric, not ${typeNameOf(b)}`);
    const xv = asDouble(x);
    const yv = asDouble(y);
    if (!(xv > 0)) failLocation(28758, `$log's argument must be a positive number, but ${xv}`);
    if (!(yv > 0) || yv === 1) failLocation(28759, `$log's base must be a positive number not equal to 1, but ${yv}`);
    if (x.t === 'decimal' || y.t === 'decimal') return decimalOf(decLog(asDec(x), asDec(y)));
    return fromSafeNum({ t: 'double', v: Math.log(xv) / Math.log(yv) });
  });
});

registerOperator('$pow', (args, scope, name) => {
  const ops = parseOperands(args, scope);
  checkArity(name, ops, 2);
  return foldConstant(ops, (vars) => {
    const a = ops[0]!.evaluate(vars);
    const b = ops[1]!.evaluate(vars);
    if (isNullish(a) || isNullish(b)) return null;
    const base = toSafeNum(a);
    const exp = toSafeNum(b);
    if (!base) failLocation(28762, `$pow's base must be numeric, not ${typeNameOf(a)}`);
    if (!exp) failLocation(28763, `$pow's exponent must be numeric, not ${typeNameOf(b)}`);
    const bv = asDouble(base);
    const ev = asDouble(exp);
    if (bv === 0 && ev < 0) failLocation(28764, '$pow cannot take a base of 0 and a negative exponent');
    if (base.t === 'decimal' || exp.t === 'decimal') return decimalOf(decPow(asDec(base), asDec(exp)));
    if (base.t === 'double' || exp.t === 'double') return fromSafeNum({ t: 'double', v: bv ** ev });
    // Integral base and exponent: exact when the result fits, as mongod's integer pow.
    const bb = base.t === 'long' ? base.v : BigInt(base.v);
    const eb = exp.t === 'long' ? exp.v : BigInt(exp.v);
    if (eb < 0n) {
      if (bb === 1n) return fromSafeNum(base.t === 'long' || exp.t === 'long' ? { t: 'long', v: 1n } : { t: 'int', v: 1 });
      if (bb === -1n) {
        const v = eb % 2n === 0n ? 1n : -1n;
        return fromSafeNum(base.t === 'long' || exp.t === 'long' ? { t: 'long', v } : { t: 'int', v: Number(v) });
      }
      return fromSafeNum({ t: 'double', v: bv ** ev });
    }
    const approx = bv ** ev;
    if (Math.abs(approx) > 2 ** 64) return fromSafeNum({ t: 'double', v: approx });
    const r = bb ** eb;
    const bothInt = base.t === 'int' && exp.t === 'int';
    if (bothInt && r >= -2147483648n && r <= 2147483647n) return fromSafeNum({ t: 'int', v: Number(r) });
    if (r >= INT64_MIN && r <= INT64_MAX) return fromSafeNum({ t: 'long', v: r });
    return fromSafeNum({ t: 'double', v: approx });
  });
});

/** Round half to even at `place` decimal digits (negative places round to tens, hundreds...). */
function roundNumber(x: number, place: number, mode: 'round' | 'trunc'): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** Math.abs(place);
  const scaled = place >= 0 ? x * f : x / f;
  let r: number;
  if (mode === 'trunc') r = Math.trunc(scaled);
  else {
    const fl = Math.floor(scaled);
    const diff = scaled - fl;
    r = diff > 0.5 ? fl + 1 : diff < 0.5 ? fl : fl % 2 === 0 ? fl : fl + 1;
  }
  const out = place >= 0 ? r / f : r * f;
  return out === 0 && x < 0 ? -0 : out;
}

function roundBig(v: bigint, place: number, mode: 'round' | 'trunc'): bigint {
  if (place >= 0) return v;
  const p = 10n ** BigInt(-place);
  const q = v / p;
  const r = v % p;
  if (mode === 'trunc') return q * p;
  const half = p / 2n;
  const ar = r < 0n ? -r : r;
  let qq = q;
  if (ar > half || (ar === half && (q % 2n !== 0n))) qq += v < 0n ? -1n : 1n;
  return qq * p;
}

for (const mode of ['round', 'trunc'] as const) {
  const opName = `$${mode}`;
  registerOperator(opName, (args, scope) => {
    const ops = parseOperands(args, scope);
    checkArity(opName, ops, 1, 2);
    return foldConstant(ops, (vars) => {
      const v = ops[0]!.evaluate(vars);
      const p = ops[1]?.evaluate(vars);
      if (isNullish(v) || (ops[1] && isNullish(p))) return null;
      const n = toSafeNum(v);
      if (!n) failLocation(51081, `${opName} only supports numeric types, not ${typeNameOf(v)}`);
      let place = 0;
      if (ops[1]) {
        const pn = toSafeNum(p);
        const pv = pn ? asDouble(pn) : Number.NaN;
        if (!pn || !Number.isInteger(pv)) failLocation(51082, `precision argument to  ${opName} must be a integral value`);
        if (pv < -20 || pv > 100) failLocation(51083, `cannot apply ${opName} with precision value ${pv} value must be in [-20, 100]`);
        place = pv;
      }
      switch (n.t) {
        case 'int':
          return integralRounded(BigInt(n.v), place, mode, 'int');
        case 'long':
          return integralRounded(n.v, place, mode, 'long');
        case 'double':
          return fromSafeNum({ t: 'double', v: roundNumber(n.v, place, mode) });
        case 'decimal': {
          const d = n.v;
          if (d.kind !== 'finite' || d.exp >= -place) return decimalOf(d);
          const drop = -place - d.exp;
          const p10 = 10n ** BigInt(drop);
          let q = d.coeff / p10;
          const r = d.coeff % p10;
          if (mode === 'round') {
            const half = p10 / 2n;
            if (r > half || (r === half && q % 2n === 1n)) q += 1n;
          }
          return decimalOf(roundDec(d.neg, q, -place));
        }
      }
    });
  });
}

function integralRounded(v: bigint, place: number, mode: 'round' | 'trunc', t: 'int' | 'long'): BsonValue {
  const r = roundBig(v, place, mode);
  if (t === 'int') {
    if (r >= -2147483648n && r <= 2147483647n) return fromSafeNum({ t: 'int', v: Number(r) });
    return fromSafeNum({ t: 'long', v: r });
  }
  if (r < INT64_MIN || r > INT64_MAX) failLocation(51080, `invalid conversion from Decimal128 result in ${mode === 'round' ? '$round' : '$trunc'} resulting from arguments: [${v}, ${place}]`);
  return fromSafeNum({ t: 'long', v: r });
}

// ---- comparison -----------------------------------------------------------------------------

function comparison(name: string, test: (c: number) => boolean): void {
  registerOperator(name, (args, scope) => {
    const ops = parseOperands(args, scope);
    checkArity(name, ops, 2);
    const collator = scope.state.env.collator;
    return foldConstant(ops, (vars) => test(compareValues(ops[0]!.evaluate(vars), ops[1]!.evaluate(vars), collator)));
  });
}

comparison('$eq', (c) => c === 0);
comparison('$ne', (c) => c !== 0);
comparison('$gt', (c) => c > 0);
comparison('$gte', (c) => c >= 0);
comparison('$lt', (c) => c < 0);
comparison('$lte', (c) => c <= 0);

registerOperator('$cmp', (args, scope, name) => {
  const ops = parseOperands(args, scope);
  checkArity(name, ops, 2);
  const collator = scope.state.env.collator;
  return foldConstant(ops, (vars) => fromSafeNum({ t: 'int', v: compareValues(ops[0]!.evaluate(vars), ops[1]!.evaluate(vars), collator) }));
});

// ---- boolean ----------------------------------------------------------------------------------

registerOperator('$and', (args, scope) => {
  const ops = parseOperands(args, scope);
  return foldConstant(ops, (vars) => {
    for (const o of ops) if (!toBool(o.evaluate(vars))) return false;
    return true;
  });
});

registerOperator('$or', (args, scope) => {
  const ops = parseOperands(args, scope);
  return foldConstant(ops, (vars) => {
    for (const o of ops) if (toBool(o.evaluate(vars))) return true;
    return false;
  });
});

registerOperator('$not', (args, scope, name) => {
  const ops = parseOperands(args, scope);
  checkArity(name, ops, 1);
  return foldConstant(ops, (vars) => !toBool(ops[0]!.evaluate(vars)));
});

// ---- conditional ------------------------------------------------------------------------------

registerOperator('$cond', (args, scope, name) => {
  let parts: Expression[];
  if (isDocument(args)) {
    for (const k of Object.keys(args)) if (k !== 'if' && k !== 'then' && k !== 'else') failLocation(17083, `Unrecognized parameter to $cond: ${k}`);
    if (!('if' in args)) failLocation(17080, "Missing 'if' parameter to $cond");
    if (!('then' in args)) failLocation(17081, "Missing 'then' parameter to $cond");
    if (!('else' in args)) failLocation(17082, "Missing 'else' parameter to $cond");
    parts = [parseExpression(args.if, scope), parseExpression(args.then, scope), parseExpression(args.else, scope)];
  } else {
    parts = parseOperands(args, scope);
    checkArity(name, parts, 3);
  }
  const [i, t, e] = parts as [Expression, Expression, Expression];
  return foldConstant(parts, (vars) => (toBool(i.evaluate(vars)) ? t.evaluate(vars) : e.evaluate(vars)));
});

registerOperator('$ifNull', (args, scope) => {
  const ops = parseOperands(args, scope);
  if (ops.length < 2) failLocation(1257300, '$ifNull needs at least two arguments, had: ' + ops.length);
  return foldConstant(ops, (vars) => {
    for (let i = 0; i < ops.length - 1; i++) {
      const v = ops[i]!.evaluate(vars);
      if (!isNullish(v)) return v;
    }
    return ops[ops.length - 1]!.evaluate(vars);
  });
});

registerOperator('$switch', (args, scope) => {
  if (!isDocument(args)) failLocation(40060, '$switch requires an object as an argument, found: ' + typeNameOf(args));
  const branches: Array<[Expression, Expression]> = [];
  let dflt: Expression | undefined;
  for (const k of Object.keys(args)) {
    if (k === 'branches') {
      const bs = args.branches;
      if (!Array.isArray(bs)) failLocation(40061, "$switch expected an array for 'branches', found: " + typeNameOf(bs));
      for (const b of bs) {
        if (!isDocument(b)) failLocation(40062, "$switch expected each branch to be an object, found: " + typeNameOf(b));
        for (const bk of Object.keys(b)) if (bk !== 'case' && bk !== 'then') failLocation(40063, `$switch found an unknown argument to a branch: ${bk}`);
        if (!('case' in b)) failLocation(40064, "$switch requires each branch have a 'case' expression");
        if (!('then' in b)) failLocation(40065, "$switch requires each branch have a 'then' expression.");
        branches.push([parseExpression(b.case, scope), parseExpression(b.then, scope)]);
      }
    } else if (k === 'default') {
      dflt = parseExpression(args.default, scope);
    } else {
      failLocation(40067, `$switch found an unknown argument: ${k}`);
    }
  }
  if (branches.length === 0) failLocation(40068, '$switch requires at least one branch.');
  return expression((vars) => {
    for (const [c, t] of branches) if (toBool(c.evaluate(vars))) return t.evaluate(vars);
    if (!dflt) failLocation(40066, '$switch could not find a matching branch for an input, and no default was specified.');
    return dflt.evaluate(vars);
  });
});

// ---- variables and literals -------------------------------------------------------------------

registerOperator('$literal', (args) => constantExpression(args));

registerOperator('$let', (args, scope) => {
  if (!isDocument(args)) failLocation(16874, "$let only supports an object as its argument");
  for (const k of Object.keys(args)) if (k !== 'vars' && k !== 'in') failLocation(16875, `Unrecognized parameter to $let: ${k}`);
  if (!('vars' in args)) failLocation(16876, "Missing 'vars' parameter to $let");
  if (!('in' in args)) failLocation(16877, "Missing 'in' parameter to $let");
  const varsSpec = args.vars;
  if (!isDocument(varsSpec)) failLocation(10065, `invalid parameter: expected an object (vars)`);
  // The definitions are parsed in the outer scope: a variable cannot see its siblings.
  const defs: Array<[number, Expression]> = [];
  const inner = scope.child();
  for (const name of Object.keys(varsSpec)) {
    validateVariableName(name);
    const e = parseExpression(varsSpec[name], scope);
    defs.push([inner.define(name), e]);
  }
  const body = parseExpression(args.in, inner);
  return expression((vars: Variables) => {
    const values = defs.map(([, e]) => e.evaluate(vars));
    defs.forEach(([slot], i) => (vars[slot] = values[i]));
    return body.evaluate(vars);
  });
});

registerOperator('$rand', (args, scope) => {
  if (!isDocument(args) || Object.keys(args).length > 0) failLocation(3040501, '$rand not expecting arguments');
  const random = scope.state.env.random;
  return expression(() => fromSafeNum({ t: 'double', v: random() }));
});

export { negate };
