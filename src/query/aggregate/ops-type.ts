/**
 * Type operators: $type, $isNumber, $convert and its $toX shorthands, $bsonSize, $binarySize,
 * $tsSecond, $tsIncrement. Conversion failures are ConversionFailure (241) with mongod's wording
 * unless `onError` is given.
 */
import { fail, failLocation, DossierError, ErrorCodes } from '../../base/index.js';
import {
  Decimal128, encodeDocument, isDocument, Long, ObjectId, typeNameOf, type BsonValue,
} from '../../bson/index.js';
import { checkArity, expression, foldConstant, parseExpression, parseOperands, registerOperator, type Expression } from './expression.js';
import { parseIsoDate } from './ops-date.js';
import { coerceToString, formatIsoDate, numberToString } from './ops-string.js';
import { asDouble, decToNumber, fromSafeNum, integral, isNullish, toBool, toSafeNum, type SafeNum } from './values.js';

type Target = 'double' | 'string' | 'objectId' | 'bool' | 'date' | 'int' | 'long' | 'decimal' | 'null' | 'minKey' | 'maxKey' | 'binData' | 'undefined' | 'regex' | 'array' | 'object' | 'timestamp' | 'javascript' | 'symbol';

const TYPE_BY_NUMBER: Record<number, Target> = {
  1: 'double', 2: 'string', 3: 'object', 4: 'array', 5: 'binData', 6: 'undefined', 7: 'objectId', 8: 'bool', 9: 'date', 10: 'null',
  11: 'regex', 13: 'javascript', 14: 'symbol', 16: 'int', 17: 'timestamp', 18: 'long', 19: 'decimal', [-1]: 'minKey', 127: 'maxKey',
};

const TARGET_NAMES = new Set<string>(Object.values(TYPE_BY_NUMBER));

function parseTarget(v: BsonValue): Target {
  if (typeof v === 'string') {
    if (!TARGET_NAMES.has(v)) fail('BadValue', `Unknown type name: ${v}`);
    return v as Target;
  }
  const n = toSafeNum(v);
  if (n) {
    const x = asDouble(n);
    if (!Number.isInteger(x)) failLocation(ErrorCodes.FailedToParse, `In $convert, numeric 'to' argument is not an integer`);
    const t = TYPE_BY_NUMBER[x];
    if (!t) fail('FailedToParse', `In $convert, numeric value for 'to' does not correspond to a BSON type: ${x}`);
    return t;
  }
  if (isDocument(v)) return parseTarget(v.type);
  return failLocation(ErrorCodes.FailedToParse, `$convert's 'to' argument must be a string or number, but is ${typeNameOf(v)}`);
}

function conversionFailure(msg: string): never {
  throw new DossierError(ErrorCodes.ConversionFailure, msg);
}

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

function overflow(v: BsonValue): never {
  return conversionFailure(`Conversion would overflow target type in $convert with no onError value: ${numberToString(v)}`);
}

function numToInteger(n: SafeNum, v: BsonValue, target: 'int' | 'long'): bigint {
  let x: bigint;
  if (n.t === 'int') x = BigInt(n.v);
  else if (n.t === 'long') x = n.v;
  else {
    const d = n.t === 'double' ? n.v : decToNumber(n.v);
    if (Number.isNaN(d)) conversionFailure(`Attempt to convert NaN value to integer type in $convert with no onError value`);
    if (!Number.isFinite(d)) conversionFailure(`Attempt to convert infinity value to integer type in $convert with no onError value`);
    x = BigInt(Math.trunc(d));
  }
  if (target === 'int' ? x < BigInt(INT32_MIN) || x > BigInt(INT32_MAX) : x < INT64_MIN || x > INT64_MAX) overflow(v);
  return x;
}

function parseNumberString(s: string, target: Target): BsonValue {
  const bad = (why: string): never => conversionFailure(`Failed to parse number '${s}' in $convert with no onError value: ${why}`);
  if (s.length === 0) bad('No digits');
  if (target === 'int' || target === 'long') {
    if (!/^[+-]?\d+$/.test(s)) bad(/^[+-]?\d/.test(s) ? 'Did not consume whole string.' : 'No digits');
    const x = BigInt(s);
    if (target === 'int' ? x < BigInt(INT32_MIN) || x > BigInt(INT32_MAX) : x < INT64_MIN || x > INT64_MAX) bad('Out of range');
    return target === 'int' ? fromSafeNum({ t: 'int', v: Number(x) }) : Long.fromBigInt(x);
  }
  if (target === 'double') {
    if (/^[+-]?(inf(inity)?)$/i.test(s)) return fromSafeNum({ t: 'double', v: s.startsWith('-') ? -Infinity : Infinity });
    if (/^[+-]?nan$/i.test(s)) return fromSafeNum({ t: 'double', v: Number.NaN });
    if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) bad('Did not consume whole string.');
    const x = Number(s);
    if (!Number.isFinite(x)) bad('Out of range');
    return fromSafeNum({ t: 'double', v: x });
  }
  // decimal
  if (!/^[+-]?((\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|inf(inity)?|nan)$/i.test(s)) bad('Failed to parse string to decimal');
  return Decimal128.fromString(s.replace(/^\+/, ''));
}

/** Converts one value to the target type (mongod's ConversionTable), or throws ConversionFailure. */
export function convertValue(v: BsonValue, target: Target): BsonValue {
  const from = typeNameOf(v);
  const unsupported = (): never => conversionFailure(`Unsupported conversion from ${from} to ${target} in $convert with no onError value`);
  const n = toSafeNum(v);
  switch (target) {
    case 'double':
      if (n) {
        if (n.t === 'decimal') {
          const d = decToNumber(n.v);
          if (!Number.isFinite(d) && n.v.kind === 'finite') overflow(v);
          return fromSafeNum({ t: 'double', v: d });
        }
        return fromSafeNum({ t: 'double', v: asDouble(n) });
      }
      if (from === 'bool') return fromSafeNum({ t: 'double', v: v ? 1 : 0 });
      if (from === 'date') return fromSafeNum({ t: 'double', v: (v as Date).getTime() });
      if (from === 'string') return parseNumberString(v, 'double');
      return unsupported();
    case 'int':
    case 'long':
      if (n) {
        const x = numToInteger(n, v, target);
        return target === 'int' ? fromSafeNum({ t: 'int', v: Number(x) }) : Long.fromBigInt(x);
      }
      if (from === 'bool') return target === 'int' ? fromSafeNum({ t: 'int', v: v ? 1 : 0 }) : Long.fromNumber(v ? 1 : 0);
      if (from === 'date') {
        if (target === 'int') return unsupported();
        return Long.fromNumber((v as Date).getTime());
      }
      if (from === 'string') return parseNumberString(v, target);
      return unsupported();
    case 'decimal':
      if (n) {
        if (n.t === 'decimal') return v;
        if (n.t === 'double') return Decimal128.fromString(Number.isFinite(n.v) ? String(n.v) : Number.isNaN(n.v) ? 'NaN' : n.v > 0 ? 'Infinity' : '-Infinity');
        return Decimal128.fromString(String(n.v));
      }
      if (from === 'bool') return Decimal128.fromString(v ? '1' : '0');
      if (from === 'date') return Decimal128.fromString(String((v as Date).getTime()));
      if (from === 'string') return parseNumberString(v, 'decimal');
      return unsupported();
    case 'bool':
      if (n || from === 'bool') return toBool(v);
      if (from === 'null' || from === 'undefined') return unsupported();
      return true;
    case 'string':
      if (from === 'objectId') return (v as ObjectId).toHexString();
      if (from === 'bool') return v ? 'true' : 'false';
      if (from === 'date') return formatIsoDate(v as Date);
      if (n || from === 'string' || from === 'symbol') return coerceToString(v);
      return unsupported();
    case 'date':
      if (from === 'date') return v;
      if (from === 'objectId') return (v as ObjectId).getTimestamp();
      if (from === 'timestamp') return new Date((v.high >>> 0) * 1000);
      if (from === 'string') {
        const d = parseIsoDate(v);
        if (d === undefined) conversionFailure(`Error parsing date string '${v}'; 0: passing a time zone identifier as part of the string is not allowed '${v}'`);
        return d;
      }
      if (n) {
        if (n.t === 'int') return unsupported();
        const ms = n.t === 'long' ? Number(n.v) : Math.trunc(asDouble(n));
        if (!Number.isFinite(ms)) conversionFailure(`Attempt to convert ${asDouble(n)} to date in $convert with no onError value`);
        return new Date(ms);
      }
      return unsupported();
    case 'objectId':
      if (from === 'objectId') return v;
      if (from === 'string') {
        if (!/^[0-9a-fA-F]{24}$/.test(v)) conversionFailure(`Failed to parse objectId '${v}' in $convert with no onError value: Invalid string length for parsing to OID, expected 24 but found ${v.length}`);
        return new ObjectId(v);
      }
      return unsupported();
    default:
      if (from === target) return v;
      return unsupported();
  }
}

registerOperator('$convert', (args, scope) => {
  if (!isDocument(args)) fail('FailedToParse', `$convert expects an object of named arguments but found: ${typeNameOf(args)}`);
  for (const k of Object.keys(args)) {
    if (!['input', 'to', 'onError', 'onNull', 'format', 'byteOrder', 'base'].includes(k)) fail('FailedToParse', `$convert found an unknown argument: ${k}`);
  }
  if (!('input' in args)) fail('FailedToParse', "Missing 'input' parameter to $convert");
  if (!('to' in args)) fail('FailedToParse', "Missing 'to' parameter to $convert");
  const input = parseExpression(args.input, scope);
  const to = parseExpression(args.to, scope);
  const onError = 'onError' in args ? parseExpression(args.onError, scope) : undefined;
  const onNull = 'onNull' in args ? parseExpression(args.onNull, scope) : undefined;
  const fixedTarget = to.constant ? (isNullish(to.constant.value) ? null : parseTarget(to.constant.value)) : undefined;
  return expression((vars) => {
    const v = input.evaluate(vars);
    const tv = fixedTarget === undefined ? to.evaluate(vars) : undefined;
    const target = fixedTarget !== undefined ? fixedTarget : isNullish(tv) ? null : parseTarget(tv);
    if (isNullish(v)) return onNull ? onNull.evaluate(vars) : null;
    if (target === null) return null;
    try {
      return convertValue(v, target);
    } catch (e) {
      if (onError && e instanceof DossierError && e.code === ErrorCodes.ConversionFailure) return onError.evaluate(vars);
      throw e;
    }
  });
});

function shorthand(name: string, target: Target): void {
  registerOperator(name, (args, scope) => {
    const ops = parseOperands(args, scope);
    checkArity(name, ops, 1);
    return foldConstant(ops, (vars) => {
      const v = ops[0]!.evaluate(vars);
      if (isNullish(v)) return null;
      return convertValue(v, target);
    });
  });
}

shorthand('$toDouble', 'double');
shorthand('$toInt', 'int');
shorthand('$toLong', 'long');
shorthand('$toDecimal', 'decimal');
shorthand('$toBool', 'bool');
shorthand('$toString', 'string');
shorthand('$toDate', 'date');
shorthand('$toObjectId', 'objectId');

registerOperator('$type', (args, scope, name) => {
  const ops = parseOperands(args, scope);
  checkArity(name, ops, 1);
  return foldConstant(ops, (vars) => typeNameOf(ops[0]!.evaluate(vars)));
});

registerOperator('$isNumber', (args, scope, name) => {
  const ops = parseOperands(args, scope);
  checkArity(name, ops, 1);
  return foldConstant(ops, (vars) => toSafeNum(ops[0]!.evaluate(vars)) !== undefined);
});

registerOperator('$bsonSize', (args, scope, name) => {
  const ops = parseOperands(args, scope);
  checkArity(name, ops, 1);
  return foldConstant(ops, (vars) => {
    const v = ops[0]!.evaluate(vars);
    if (isNullish(v)) return null;
    if (!isDocument(v)) failLocation(31393, `$bsonSize requires a document input, found: ${typeNameOf(v)}`);
    // Serialized length: bson's calculateObjectSize over-counts Int32 wrappers.
    return integral(encodeDocument(v).length);
  });
});

registerOperator('$binarySize', (args, scope, name) => {
  const ops = parseOperands(args, scope);
  checkArity(name, ops, 1);
  return foldConstant(ops, (vars) => {
    const v = ops[0]!.evaluate(vars);
    if (isNullish(v)) return null;
    if (typeof v === 'string') return integral(Buffer.byteLength(v, 'utf8'));
    if (typeNameOf(v) === 'binData') return integral(v instanceof Uint8Array ? v.length : v.position);
    return failLocation(51276, `$binarySize requires a string or BinData argument, found: ${typeNameOf(v)}`);
  });
});

for (const [name, part] of [['$tsSecond', 'high'], ['$tsIncrement', 'low']] as const) {
  registerOperator(name, (args, scope) => {
    const ops: Expression[] = parseOperands(args, scope);
    checkArity(name, ops, 1);
    return foldConstant(ops, (vars) => {
      const v = ops[0]!.evaluate(vars);
      if (isNullish(v)) return null;
      if (typeNameOf(v) !== 'timestamp') failLocation(5687301, `Argument to ${name} must be a timestamp, but is ${typeNameOf(v)}`);
      return Long.fromNumber(v[part] >>> 0);
    });
  });
}
