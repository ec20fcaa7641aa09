/**
 * The unified format's "Evaluating Matches" rules (unified-test-format.md): expected values are
 * queries over actual ones. Root-level documents may carry extra fields, nested ones may not; key
 * order never matters; arrays must have the same length; int32, int64 and double compare by value
 * (never Decimal128); `$$`-operators assert instead of comparing.
 *
 * Every mismatch throws a MatchError naming the path, so a failing test says where it failed. An
 * operator this file does not know is an error too: a test whose assertion cannot be evaluated
 * must fail, never pass.
 */
import { BSON } from 'mongodb';

const { Binary, Code, DBRef, Decimal128, Double, EJSON, Int32, Long, MaxKey, MinKey, ObjectId, Timestamp, BSONRegExp, BSONSymbol } = BSON;

export class MatchError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path || '<root>'}: ${message}`);
    this.name = 'MatchError';
  }
}

/** What operators may need from the test: entities by name and the lsid of a session entity. */
export interface MatchContext {
  entity(name: string): unknown;
  sessionLsid(name: string): unknown;
}

export interface MatchOptions {
  /** The actual value is a root-level document: extra fields allowed. */
  root?: boolean;
}

export type Doc = Record<string, unknown>;

/** A plain document (not an array, not a BSON value class, not a Date...). */
export function isDoc(v: unknown): v is Doc {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/**
 * The driver builds some command fields as objects of its own classes (a Map for find's sort, a
 * ReadConcern instance): on the wire they are documents, so they are compared as documents.
 */
export function asDocument(v: unknown): unknown {
  if (v instanceof Map) return Object.fromEntries(v);
  if (v === null || typeof v !== 'object' || Array.isArray(v) || isDoc(v) || bsontype(v) !== undefined) return v;
  if (v instanceof Date || v instanceof RegExp || v instanceof Uint8Array) return v;
  return Object.fromEntries(Object.entries(v).filter(([, x]) => typeof x !== 'function'));
}

/** `{ $$op: arg }`: an object whose first and only key starts with `$$`. */
export function operatorOf(v: unknown): { name: string; arg: unknown } | undefined {
  if (!isDoc(v)) return undefined;
  const keys = Object.keys(v);
  if (keys.length !== 1 || !keys[0]!.startsWith('$$')) return undefined;
  return { name: keys[0]!, arg: v[keys[0]!] };
}

const bsontype = (v: unknown): string | undefined =>
  v !== null && typeof v === 'object' && typeof (v as { _bsontype?: unknown })._bsontype === 'string' ? (v as { _bsontype: string })._bsontype : undefined;

/** True for the numeric types compared by value: JS numbers, Int32, Double, Long (not Decimal128). */
export function isFlexibleNumber(v: unknown): boolean {
  if (typeof v === 'number' || typeof v === 'bigint') return true;
  const t = bsontype(v);
  return t === 'Int32' || t === 'Double' || t === 'Long';
}

/** The exact value of a flexible number: a bigint when it is integral, so int64s compare exactly. */
function numericValue(v: unknown): number | bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : v;
  const t = bsontype(v);
  if (t === 'Long') return (v as InstanceType<typeof Long>).toBigInt();
  const n = (v as { valueOf(): number }).valueOf();
  return Number.isInteger(n) ? BigInt(n) : n;
}

function numbersEqual(a: unknown, b: unknown): boolean {
  const x = numericValue(a);
  const y = numericValue(b);
  if (typeof x === 'bigint' && typeof y === 'bigint') return x === y;
  return Number(x) === Number(y);
}

function numberLte(actual: unknown, bound: unknown): boolean {
  const x = numericValue(actual);
  const y = numericValue(bound);
  if (typeof x === 'bigint' && typeof y === 'bigint') return x <= y;
  return Number(x) <= Number(y);
}

/**
 * The BSON type alias (as $type names it) of an actual value. A JS number is typed by how the
 * serializer would send it: integral and in int32 range → int, otherwise double.
 */
export function bsonTypeOf(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (v === null) return 'null';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) && v >= -2147483648 && v <= 2147483647 ? 'int' : 'double';
  if (typeof v === 'bigint') return 'long';
  if (Array.isArray(v)) return 'array';
  if (v instanceof Date) return 'date';
  if (v instanceof RegExp) return 'regex';
  switch (bsontype(v)) {
    case 'Int32':
      return 'int';
    case 'Double':
      return 'double';
    case 'Long':
      return 'long';
    case 'Decimal128':
      return 'decimal';
    case 'ObjectId':
      return 'objectId';
    case 'Binary':
      return 'binData';
    case 'Timestamp':
      return 'timestamp';
    case 'BSONRegExp':
      return 'regex';
    case 'MinKey':
      return 'minKey';
    case 'MaxKey':
      return 'maxKey';
    case 'Code':
      return (v as InstanceType<typeof Code>).scope ? 'javascriptWithScope' : 'javascript';
    case 'BSONSymbol':
      return 'symbol';
    case 'DBRef':
      return 'object';
    case 'DBPointer':
      return 'dbPointer';
    default:
      break;
  }
  if (isDoc(v)) return 'object';
  throw new MatchError('', `cannot tell the BSON type of ${describe(v)}`);
}

const TYPE_ALIASES = new Set([
  'double', 'string', 'object', 'array', 'binData', 'undefined', 'objectId', 'bool', 'date', 'null', 'regex', 'dbPointer',
  'javascript', 'symbol', 'javascriptWithScope', 'int', 'timestamp', 'long', 'decimal', 'minKey', 'maxKey', 'number',
]);

function typeMatches(expectedAlias: string, actual: unknown, path: string): boolean {
  if (!TYPE_ALIASES.has(expectedAlias)) throw new MatchError(path, `$$type: unknown type alias '${expectedAlias}'`);
  const actualType = bsonTypeOf(actual);
  if (expectedAlias === 'number') return ['int', 'long', 'double', 'decimal'].includes(actualType);
  return actualType === expectedAlias;
}

export function describe(v: unknown): string {
  try {
    if (v === undefined) return 'undefined (missing)';
    if (typeof v === 'bigint') return `${v}n`;
    return EJSON.stringify(v as never, { relaxed: false });
  } catch {
    return String(v);
  }
}

/**
 * Asserts `actual` matches `expected`; throws MatchError otherwise. `actual === undefined` means
 * the value is missing.
 */
export function match(expected: unknown, actual: unknown, ctx: MatchContext, options: MatchOptions = {}, path = ''): void {
  actual = asDocument(actual);
  const op = operatorOf(expected);
  if (op) {
    matchOperator(op.name, op.arg, actual, ctx, options, path);
    return;
  }
  if (isDoc(expected) && bsontype(expected) === undefined) {
    if (!isDoc(actual)) throw new MatchError(path, `expected a document, got ${describe(actual)}`);
    for (const [key, value] of Object.entries(expected)) {
      const sub = path ? `${path}.${key}` : key;
      const keyOp = operatorOf(value);
      const present = Object.prototype.hasOwnProperty.call(actual, key) && actual[key] !== undefined;
      if (keyOp && (keyOp.name === '$$exists' || keyOp.name === '$$unsetOrMatches')) {
        // Key-based operators decide about presence themselves.
        matchOperator(keyOp.name, keyOp.arg, present ? actual[key] : undefined, ctx, {}, sub);
        continue;
      }
      if (!present) throw new MatchError(sub, `missing; expected ${describe(value)}`);
      match(value, actual[key], ctx, {}, sub);
    }
    if (!options.root) {
      const extra = Object.keys(actual).filter((k) => actual[k] !== undefined && !Object.prototype.hasOwnProperty.call(expected, k));
      if (extra.length > 0) throw new MatchError(path, `unexpected field(s) ${extra.join(', ')} in a nested document`);
    }
    return;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) throw new MatchError(path, `expected an array, got ${describe(actual)}`);
    if (actual.length !== expected.length) {
      throw new MatchError(path, `expected ${expected.length} element(s), got ${actual.length}: ${describe(actual)}`);
    }
    expected.forEach((e, i) => match(e, actual[i], ctx, {}, `${path}[${i}]`));
    return;
  }
  if (!valuesEqual(expected, actual)) throw new MatchError(path, `expected ${describe(expected)}, got ${describe(actual)}`);
}

function matchOperator(name: string, arg: unknown, actual: unknown, ctx: MatchContext, options: MatchOptions, path: string): void {
  switch (name) {
    case '$$exists': {
      if (typeof arg !== 'boolean') throw new MatchError(path, '$$exists takes a boolean');
      if (arg && actual === undefined) throw new MatchError(path, 'expected the field to exist');
      if (!arg && actual !== undefined) throw new MatchError(path, `expected no such field, got ${describe(actual)}`);
      return;
    }
    case '$$type': {
      const aliases = Array.isArray(arg) ? arg : [arg];
      if (aliases.length === 0 || !aliases.every((a) => typeof a === 'string')) throw new MatchError(path, '$$type takes a string or an array of strings');
      if (actual === undefined) throw new MatchError(path, `missing; expected type ${aliases.join('|')}`);
      if (!aliases.some((a) => typeMatches(a as string, actual, path))) {
        throw new MatchError(path, `expected type ${aliases.join('|')}, got ${bsonTypeOf(actual)} (${describe(actual)})`);
      }
      return;
    }
    case '$$unsetOrMatches':
      if (actual === undefined) return;
      match(arg, actual, ctx, options, path);
      return;
    case '$$matchesEntity': {
      if (typeof arg !== 'string') throw new MatchError(path, '$$matchesEntity takes an entity name');
      match(ctx.entity(arg), actual, ctx, options, path);
      return;
    }
    case '$$matchesHexBytes': {
      if (typeof arg !== 'string' || !/^([0-9a-fA-F]{2})*$/.test(arg)) throw new MatchError(path, `$$matchesHexBytes: malformed hex string ${describe(arg)}`);
      const bytes = bytesOf(actual);
      if (!bytes) throw new MatchError(path, `$$matchesHexBytes: expected bytes, got ${describe(actual)}`);
      if (Buffer.from(bytes).toString('hex') !== arg.toLowerCase()) {
        throw new MatchError(path, `expected bytes ${arg.toLowerCase()}, got ${Buffer.from(bytes).toString('hex')}`);
      }
      return;
    }
    case '$$sessionLsid': {
      if (typeof arg !== 'string') throw new MatchError(path, '$$sessionLsid takes a session entity name');
      const lsid = ctx.sessionLsid(arg);
      if (actual === undefined) throw new MatchError(path, `missing; expected the lsid of ${arg}`);
      if (!valuesEqual(lsid, actual)) throw new MatchError(path, `expected the lsid of ${arg} ${describe(lsid)}, got ${describe(actual)}`);
      return;
    }
    case '$$lte': {
      if (!isFlexibleNumber(arg)) throw new MatchError(path, '$$lte takes a number');
      if (!isFlexibleNumber(actual)) throw new MatchError(path, `$$lte: expected a number, got ${describe(actual)}`);
      if (!numberLte(actual, arg)) throw new MatchError(path, `expected <= ${describe(arg)}, got ${describe(actual)}`);
      return;
    }
    case '$$matchAsDocument': {
      if (typeof actual !== 'string') throw new MatchError(path, `$$matchAsDocument: expected an Extended JSON string, got ${describe(actual)}`);
      let parsed: unknown;
      try {
        parsed = EJSON.parse(actual, { relaxed: false });
      } catch (e) {
        throw new MatchError(path, `$$matchAsDocument: not Extended JSON: ${(e as Error).message}`);
      }
      if (!isDoc(parsed)) throw new MatchError(path, `$$matchAsDocument: not a document: ${actual}`);
      match(arg, parsed, ctx, {}, path);
      return;
    }
    case '$$matchAsRoot': {
      if (!isDoc(arg)) throw new MatchError(path, '$$matchAsRoot takes a document');
      if (!isDoc(actual)) throw new MatchError(path, `$$matchAsRoot: expected a document, got ${describe(actual)}`);
      match(arg, actual, ctx, { root: true }, path);
      return;
    }
    default:
      // Includes $$placeholder, which has no meaning where values are matched.
      throw new MatchError(path, `unsupported match operator ${name}`);
  }
}

function bytesOf(v: unknown): Uint8Array | undefined {
  if (v instanceof Uint8Array) return v;
  if (bsontype(v) === 'Binary') { const b = v as InstanceType<typeof Binary>; return b.buffer.subarray(0, b.position); }
  return undefined;
}

/**
 * Equality of two values with flexible numerics and key-order-insensitive, exact documents (no
 * extra fields, no operators): used for scalars, for values inside BSON types, and for outcomes.
 */
export function valuesEqual(a: unknown, b: unknown): boolean {
  a = asDocument(a);
  b = asDocument(b);
  if (isFlexibleNumber(a) || isFlexibleNumber(b)) return isFlexibleNumber(a) && isFlexibleNumber(b) && numbersEqual(a, b);
  if (a === undefined || b === undefined) return a === b;
  if (a === null || b === null) return a === b;
  if (typeof a !== 'object' || typeof b !== 'object') return a === b;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => valuesEqual(x, b[i]));
  }
  if (a instanceof Date || b instanceof Date) return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  if (a instanceof RegExp || b instanceof RegExp || bsontype(a) === 'BSONRegExp' || bsontype(b) === 'BSONRegExp') {
    const ra = regexParts(a);
    const rb = regexParts(b);
    return ra !== undefined && rb !== undefined && ra.pattern === rb.pattern && ra.flags === rb.flags;
  }
  const ta = bsontype(a);
  const tb = bsontype(b);
  if (ta !== tb) return false;
  switch (ta) {
    case undefined:
      return docsEqual(a as Doc, b as Doc);
    case 'ObjectId':
      return (a as InstanceType<typeof ObjectId>).equals(b as InstanceType<typeof ObjectId>);
    case 'Decimal128':
      return (a as InstanceType<typeof Decimal128>).toString() === (b as InstanceType<typeof Decimal128>).toString();
    case 'Binary': {
      const x = a as InstanceType<typeof Binary>;
      const y = b as InstanceType<typeof Binary>;
      return x.sub_type === y.sub_type && Buffer.from(x.buffer.subarray(0, x.position)).equals(Buffer.from(y.buffer.subarray(0, y.position)));
    }
    case 'Timestamp':
      return (a as InstanceType<typeof Timestamp>).equals(b as InstanceType<typeof Timestamp>);
    case 'MinKey':
    case 'MaxKey':
      return true;
    case 'Code': {
      const x = a as InstanceType<typeof Code>;
      const y = b as InstanceType<typeof Code>;
      return x.code === y.code && valuesEqual(x.scope ?? undefined, y.scope ?? undefined);
    }
    case 'BSONSymbol':
      return (a as InstanceType<typeof BSONSymbol>).valueOf() === (b as InstanceType<typeof BSONSymbol>).valueOf();
    case 'DBRef': {
      const x = a as InstanceType<typeof DBRef>;
      const y = b as InstanceType<typeof DBRef>;
      return x.collection === y.collection && x.db === y.db && valuesEqual(x.oid, y.oid) && docsEqual(x.fields ?? {}, y.fields ?? {});
    }
    default:
      return EJSON.stringify(a as never, { relaxed: false }) === EJSON.stringify(b as never, { relaxed: false });
  }
}

function docsEqual(a: Doc, b: Doc): boolean {
  const ka = Object.keys(a).filter((k) => a[k] !== undefined);
  const kb = Object.keys(b).filter((k) => b[k] !== undefined);
  return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && valuesEqual(a[k], b[k]));
}

function regexParts(v: unknown): { pattern: string; flags: string } | undefined {
  if (v instanceof RegExp) return { pattern: v.source, flags: [...v.flags].sort().join('') };
  if (bsontype(v) === 'BSONRegExp') {
    const r = v as InstanceType<typeof BSONRegExp>;
    return { pattern: r.pattern, flags: [...r.options].sort().join('') };
  }
  return undefined;
}

/** Deep-converts Int32/Double (and Long when exactly representable) into JS numbers: for driver options. */
export function toNative(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(toNative);
  const t = bsontype(v);
  if (t === 'Int32' || t === 'Double') return (v as { valueOf(): number }).valueOf();
  if (t === 'Long') {
    const big = (v as InstanceType<typeof Long>).toBigInt();
    return Number.isSafeInteger(Number(big)) ? Number(big) : v;
  }
  if (isDoc(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toNative(x)]));
  return v;
}

export { Double, Int32, Long, MaxKey, MinKey };
