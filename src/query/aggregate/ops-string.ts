/**
 * String operators. Lengths and indexes are in UTF-8 bytes for the *Bytes forms and in code
 * points for the *CP forms, as in mongod; case mapping is ASCII-only, as mongod's.
 */
import { failLocation } from '../../base/index.js';
import { regexParts, typeNameOf, type BsonValue, type Document } from '../../bson/index.js';
import { compileRegex } from '../filter/regex.js';
import {
  checkArity, expression, foldConstant, namedArgs, parseExpression, parseOperands, registerOperator, type Expression,
} from './expression.js';
import { asDouble, fromSafeNum, integral, isNullish, toSafeNum } from './values.js';

/** Value::coerceToString for the operators that accept any scalar. */
export function coerceToString(v: BsonValue): string {
  const t = typeNameOf(v);
  switch (t) {
    case 'missing':
    case 'null':
    case 'undefined':
      return '';
    case 'string':
      return v;
    case 'symbol':
      return v.value;
    case 'int':
    case 'long':
    case 'double':
    case 'decimal':
      return numberToString(v);
    case 'date':
      return formatIsoDate(v as Date);
    case 'timestamp':
      return `Timestamp(${v.high >>> 0}, ${v.low >>> 0})`;
    case 'javascript':
    case 'javascriptWithScope':
      return v.code;
    default:
      return failLocation(16007, `can't convert from BSON type ${t} to String`);
  }
}

/** How mongod prints a number as a string ($toString, $concat via $toString, date parts). */
export function numberToString(v: BsonValue): string {
  const n = toSafeNum(v)!;
  switch (n.t) {
    case 'int':
      return String(n.v);
    case 'long':
      return String(n.v);
    case 'double': {
      const x = n.v;
      if (Number.isNaN(x)) return 'NaN';
      if (x === Infinity) return 'Infinity';
      if (x === -Infinity) return '-Infinity';
      if (Object.is(x, -0)) return '-0';
      const abs = Math.abs(x);
      if (abs !== 0 && (abs >= 1e21 || abs < 1e-6)) {
        // mongod prints large and tiny doubles in exponent form like "1e+21".
        return x.toExponential().replace(/e\+?/, (m) => (m === 'e+' ? 'e+' : 'e'));
      }
      return String(x);
    }
    case 'decimal':
      return v.toString();
  }
}

export function formatIsoDate(d: Date): string {
  const ms = d.getTime();
  if (!Number.isFinite(ms)) return 'Invalid Date';
  const iso = d.toISOString();
  return iso;
}

function utf8(s: string): Buffer {
  return Buffer.from(s, 'utf8');
}

function codePoints(s: string): string[] {
  return Array.from(s);
}

registerOperator('$concat', (args, scope, name) => {
  const ops = parseOperands(args, scope);
  return foldConstant(ops, (vars) => {
    let out = '';
    for (const o of ops) {
      const v = o.evaluate(vars);
      if (isNullish(v)) return null;
      if (typeof v !== 'string') failLocation(16702, `${name} only supports strings, not ${typeNameOf(v)}`);
      out += v;
    }
    return out;
  });
});

function caseOp(name: string, map: (s: string) => string): void {
  registerOperator(name, (args, scope) => {
    const ops = parseOperands(args, scope);
    checkArity(name, ops, 1);
    return foldConstant(ops, (vars) => map(coerceToString(ops[0]!.evaluate(vars))));
  });
}

caseOp('$toLower', (s) => s.replace(/[A-Z]+/g, (m) => m.toLowerCase()));
caseOp('$toUpper', (s) => s.replace(/[a-z]+/g, (m) => m.toUpperCase()));

function intArg(v: BsonValue, code: number, message: string): number {
  const n = toSafeNum(v);
  if (!n) failLocation(code, message);
  const x = asDouble(n);
  if (!Number.isInteger(x)) failLocation(code, message);
  return x;
}

for (const name of ['$substr', '$substrBytes']) {
  registerOperator(name, (args, scope) => {
    const ops = parseOperands(args, scope);
    checkArity(name, ops, 3);
    return foldConstant(ops, (vars) => {
      const s = coerceToString(ops[0]!.evaluate(vars));
      const lowerV = ops[1]!.evaluate(vars);
      const lengthV = ops[2]!.evaluate(vars);
      if (!toSafeNum(lowerV)) failLocation(16034, `${name}:  starting index must be a numeric type (is BSON type ${typeNameOf(lowerV)})`);
      if (!toSafeNum(lengthV)) failLocation(16035, `${name}:  length must be a numeric type (is BSON type ${typeNameOf(lengthV)})`);
      const lower = Math.trunc(asDouble(toSafeNum(lowerV)!));
      const length = Math.trunc(asDouble(toSafeNum(lengthV)!));
      const bytes = utf8(s);
      if (lower < 0 || lower >= bytes.length) return '';
      const isContinuation = (i: number): boolean => i < bytes.length && (bytes[i]! & 0xc0) === 0x80;
      if (isContinuation(lower)) failLocation(28656, `${name}:  Invalid range, starting index is a UTF-8 continuation byte.`);
      const end = length < 0 ? bytes.length : Math.min(bytes.length, lower + length);
      if (isContinuation(end)) failLocation(28657, `${name}:  Invalid range, ending index is in the middle of a UTF-8 character.`);
      return bytes.subarray(lower, end).toString('utf8');
    });
  });
}

registerOperator('$substrCP', (args, scope, name) => {
  const ops = parseOperands(args, scope);
  checkArity(name, ops, 3);
  return foldConstant(ops, (vars) => {
    const s = coerceToString(ops[0]!.evaluate(vars));
    const lowerV = ops[1]!.evaluate(vars);
    const lengthV = ops[2]!.evaluate(vars);
    if (!toSafeNum(lowerV)) failLocation(34450, `$substrCP: starting index must be a numeric type (is BSON type ${typeNameOf(lowerV)})`);
    if (!toSafeNum(lengthV)) failLocation(34452, `$substrCP: length must be a numeric type (is BSON type ${typeNameOf(lengthV)})`);
    const lower = asDouble(toSafeNum(lowerV)!);
    const length = asDouble(toSafeNum(lengthV)!);
    if (!Number.isInteger(lower)) failLocation(34451, `$substrCP: starting index cannot be represented as a 32-bit integral value`);
    if (!Number.isInteger(length)) failLocation(34453, `$substrCP: length cannot be represented as a 32-bit integral value`);
    if (lower < 0) failLocation(34455, `$substrCP: the starting index must be nonnegative integer.`);
    if (length < 0) failLocation(34454, `$substrCP: length must be a nonnegative integer.`);
    return codePoints(s).slice(lower, lower + length).join('');
  });
});

registerOperator('$strLenBytes', (args, scope, name) => {
  const ops = parseOperands(args, scope);
  checkArity(name, ops, 1);
  return foldConstant(ops, (vars) => {
    const v = ops[0]!.evaluate(vars);
    if (typeof v !== 'string') failLocation(34473, `$strLenBytes requires a string argument, found: ${typeNameOf(v)}`);
    return integral(utf8(v).length);
  });
});

registerOperator('$strLenCP', (args, scope, name) => {
  const ops = parseOperands(args, scope);
  checkArity(name, ops, 1);
  return foldConstant(ops, (vars) => {
    const v = ops[0]!.evaluate(vars);
    if (typeof v !== 'string') failLocation(34471, `$strLenCP requires a string argument, found: ${typeNameOf(v)}`);
    return integral(codePoints(v).length);
  });
});

registerOperator('$strcasecmp', (args, scope, name) => {
  const ops = parseOperands(args, scope);
  checkArity(name, ops, 2);
  return foldConstant(ops, (vars) => {
    const a = coerceToString(ops[0]!.evaluate(vars)).toUpperCase();
    const b = coerceToString(ops[1]!.evaluate(vars)).toUpperCase();
    return fromSafeNum({ t: 'int', v: a < b ? -1 : a > b ? 1 : 0 });
  });
});

registerOperator('$split', (args, scope, name) => {
  const ops = parseOperands(args, scope);
  checkArity(name, ops, 2);
  return foldConstant(ops, (vars) => {
    const s = ops[0]!.evaluate(vars);
    const d = ops[1]!.evaluate(vars);
    if (isNullish(s) || isNullish(d)) return null;
    if (typeof s !== 'string') failLocation(40085, `$split requires an expression that evaluates to a string as a first argument, found: ${typeNameOf(s)}`);
    if (typeof d !== 'string') failLocation(40086, `$split requires an expression that evaluates to a string as a second argument, found: ${typeNameOf(d)}`);
    if (d.length === 0) failLocation(40087, '$split requires a non-empty separator');
    return s.split(d);
  });
});

function indexOf(name: string, unit: 'bytes' | 'cp'): void {
  registerOperator(name, (args, scope) => {
    const ops = parseOperands(args, scope);
    checkArity(name, ops, 2, 4);
    return foldConstant(ops, (vars) => {
      const s = ops[0]!.evaluate(vars);
      if (isNullish(s)) return null;
      if (typeof s !== 'string') failLocation(40091, `${name} requires a string as the first argument, found: ${typeNameOf(s)}`);
      const sub = ops[1]!.evaluate(vars);
      if (typeof sub !== 'string') failLocation(40092, `${name} requires a string as the second argument, found: ${typeNameOf(sub)}`);
      const hay = unit === 'bytes' ? [...utf8(s)] : codePoints(s);
      const needle = unit === 'bytes' ? [...utf8(sub)] : codePoints(sub);
      let start = 0;
      let end = hay.length;
      if (ops[2]) {
        const v = ops[2].evaluate(vars);
        start = intArg(v, 40096, `${name} requires an integral starting index, found a value of type: ${typeNameOf(v)}`);
        if (start < 0) failLocation(50999, `${name} requires a nonnegative start index, found: ${start}`);
      }
      if (ops[3]) {
        const v = ops[3].evaluate(vars);
        end = Math.min(hay.length, intArg(v, 40096, `${name} requires an integral ending index, found a value of type: ${typeNameOf(v)}`));
        if (end < 0) failLocation(50999, `${name} requires a nonnegative ending index, found: ${end}`);
      }
      if (start > end) return fromSafeNum({ t: 'int', v: -1 });
      for (let i = start; i + needle.length <= end; i++) {
        let ok = true;
        for (let j = 0; j < needle.length; j++) {
          if (hay[i + j] !== needle[j]) {
            ok = false;
            break;
          }
        }
        if (ok) return fromSafeNum({ t: 'int', v: i });
      }
      return fromSafeNum({ t: 'int', v: -1 });
    });
  });
}

indexOf('$indexOfBytes', 'bytes');
indexOf('$indexOfCP', 'cp');

/** The characters $trim removes by default: mongod's whitespace list. */
const DEFAULT_TRIM = ['\0', ' ', '\t', '\n', '\v', '\f', '\r', '\u00a0', '\u1680', '\u2000', '\u2001', '\u2002', '\u2003', '\u2004', '\u2005', '\u2006', '\u2007', '\u2008', '\u2009', '\u200a', '\u2028', '\u2029', '\u202f', '\u205f', '\u3000'];

function trimOp(name: string, left: boolean, right: boolean): void {
  registerOperator(name, (args, scope) => {
    const spec = namedArgs(name, args, ['input', 'chars'], {
      notObject: [50696, `${name} only supports an object as an argument, found: ${typeNameOf(args)}`],
      unknown: (k) => [50694, `${name} found an unknown argument: ${k}`],
    });
    if (!('input' in spec)) failLocation(50695, `${name} requires an 'input' field`);
    const input = parseExpression(spec.input, scope);
    const chars = 'chars' in spec ? parseExpression(spec.chars, scope) : undefined;
    return foldConstant(chars ? [input, chars] : [input], (vars) => {
      const s = input.evaluate(vars);
      if (isNullish(s)) return null;
      if (typeof s !== 'string') failLocation(50699, `${name} requires its input to be a string, got ${formatShort(s)} (of type ${typeNameOf(s)}) instead.`);
      let set = DEFAULT_TRIM;
      if (chars) {
        const c = chars.evaluate(vars);
        if (isNullish(c)) return null;
        if (typeof c !== 'string') failLocation(50700, `${name} requires 'chars' to be a string, got ${formatShort(c)} (of type ${typeNameOf(c)}) instead.`);
        set = codePoints(c);
      }
      const cps = codePoints(s);
      let i = 0;
      let j = cps.length;
      if (left) while (i < j && set.includes(cps[i]!)) i++;
      if (right) while (j > i && set.includes(cps[j - 1]!)) j--;
      return cps.slice(i, j).join('');
    });
  });
}

function formatShort(v: BsonValue): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(v?.toString?.() ?? v);
}

trimOp('$trim', true, true);
trimOp('$ltrim', true, false);
trimOp('$rtrim', false, true);

function replaceOp(name: string, all: boolean): void {
  registerOperator(name, (args, scope) => {
    const spec = namedArgs(name, args, ['input', 'find', 'replacement'], {
      notObject: [51751, `${name} requires an object as an argument, found: ${typeNameOf(args)}`],
      unknown: (k) => [51750, `${name} found an unknown argument: ${k}`],
    });
    for (const f of ['input', 'find', 'replacement']) if (!(f in spec)) failLocation(51749, `${name} requires '${f}' to be specified`);
    const input = parseExpression(spec.input, scope);
    const find = parseExpression(spec.find, scope);
    const repl = parseExpression(spec.replacement, scope);
    return foldConstant([input, find, repl], (vars) => {
      const values = [input.evaluate(vars), find.evaluate(vars), repl.evaluate(vars)];
      const names = ['input', 'find', 'replacement'];
      for (let i = 0; i < 3; i++) {
        const v = values[i];
        if (!isNullish(v) && typeof v !== 'string') failLocation(51746, `${name} requires that '${names[i]}' be a string, found: ${formatShort(v)}`);
      }
      if (values.some(isNullish)) return null;
      const [s, f, r] = values as [string, string, string];
      return all ? s.split(f).join(r) : s.replace(f, () => r);
    });
  });
}

replaceOp('$replaceOne', false);
replaceOp('$replaceAll', true);

// ---- regular expressions ------------------------------------------------------------------

type RegexMode = 'match' | 'find' | 'findAll';

function regexOp(name: string, mode: RegexMode): void {
  registerOperator(name, (args, scope) => {
    const spec = namedArgs(name, args, ['input', 'regex', 'options'], {
      notObject: [51103, `${name} expects an object of named arguments but found: ${typeNameOf(args)}`],
      unknown: (k) => [31024, `${name} found an unknown argument: ${k}`],
    });
    if (!('input' in spec)) failLocation(31022, `${name} requires 'input' parameter`);
    if (!('regex' in spec)) failLocation(31023, `${name} requires 'regex' parameter`);
    const input = parseExpression(spec.input, scope);
    const regex = parseExpression(spec.regex, scope);
    const options = 'options' in spec ? parseExpression(spec.options, scope) : undefined;
    const ops: Expression[] = options ? [input, regex, options] : [input, regex];
    return foldConstant(ops, (vars) => {
      const s = input.evaluate(vars);
      const r = regex.evaluate(vars);
      const o = options?.evaluate(vars);
      const rt = typeNameOf(r);
      if (!isNullish(r) && rt !== 'string' && rt !== 'regex') failLocation(51105, `${name} needs 'regex' to be of type string or regex`);
      if (!isNullish(o) && typeof o !== 'string') failLocation(51106, `${name} needs 'options' to be of type string`);
      let pattern: string | undefined;
      let flags = typeof o === 'string' ? o : '';
      if (rt === 'regex') {
        const [p, f] = regexParts(r);
        if (f && typeof o === 'string' && o.length > 0) failLocation(51107, `${name} found regex option(s) specified in both 'regex' and 'option' fields`);
        pattern = p;
        flags = f || flags;
      } else if (typeof r === 'string') {
        pattern = r;
      }
      if (!isNullish(s) && typeof s !== 'string') failLocation(51104, `${name} needs 'input' to be of type string`);
      if (pattern === undefined || isNullish(s)) return mode === 'match' ? false : mode === 'find' ? null : [];
      const re = compileRegex(pattern, flags);
      if (mode === 'match') return re.test(s);
      const global = new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`);
      const results: Document[] = [];
      let m: RegExpExecArray | null;
      while ((m = global.exec(s)) !== null) {
        const idx = codePoints(s.slice(0, m.index)).length;
        results.push({ match: m[0], idx: fromSafeNum({ t: 'int', v: idx }), captures: m.slice(1).map((c) => (c === undefined ? null : c)) });
        if (mode === 'find') break;
        if (m[0].length === 0) global.lastIndex++;
      }
      if (mode === 'find') return results[0] ?? null;
      return results;
    });
  });
}

regexOp('$regexMatch', 'match');
regexOp('$regexFind', 'find');
regexOp('$regexFindAll', 'findAll');

export { expression };
