/**
 * The BSON value model of Dossier. Documents are decoded with `promoteValues: false`, so every
 * stored number keeps its BSON type: Int32, Double, Long and Decimal128 objects. Values the server
 * makes itself may be plain JS numbers; they serialize as int32 when integral and in range, else
 * double — use the wrappers whenever the type matters for a stored value.
 */
import * as BSON from 'bson';
import { mayHaveIndexKeys, restoreKeyOrder, withBsonOrder } from './key-order.js';

export {
  Binary,
  BSONRegExp,
  BSONSymbol,
  Code,
  DBRef,
  Decimal128,
  Double,
  Int32,
  Long,
  MaxKey,
  MinKey,
  ObjectId,
  Timestamp,
  UUID,
  BSONError,
  EJSON,
} from 'bson';

export type Document = { [key: string]: BsonValue };
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type BsonValue = any;

const DESERIALIZE_OPTIONS: BSON.DeserializeOptions = {
  promoteValues: false,
  promoteLongs: false,
  promoteBuffers: false,
  bsonRegExp: true,
  validation: { utf8: true },
};

/**
 * Decodes one BSON document, keeping every BSON type (see the module comment) and its field order
 * (see key-order.ts). `digitKeys: false` says the caller's own walk of the bytes (the wire
 * validator) saw no document field name starting with a digit, which spares a scan here.
 */
export function decodeDocument(bytes: Uint8Array, digitKeys?: boolean): Document {
  const doc = BSON.deserialize(bytes, DESERIALIZE_OPTIONS) as Document;
  if (digitKeys ?? mayHaveIndexKeys(bytes)) restoreKeyOrder(bytes, doc);
  return doc;
}

const SERIALIZE_OPTIONS: BSON.SerializeOptions = { checkKeys: false, ignoreUndefined: false };

export function encodeDocument(doc: Document): Buffer {
  return withBsonOrder(doc, (root) => BSON.serialize(root as BSON.Document, SERIALIZE_OPTIONS) as Buffer);
}

/**
 * The length of `doc` encoded as BSON, without encoding it. Not the `bson` package's
 * calculateObjectSize: that one sizes an Int32 or a BSONSymbol object (as `promoteValues: false`
 * decodes them) as if it were an embedded document, overstating every document holding an int32.
 */
export function documentSize(doc: Document): number {
  return containerSize(doc, false);
}

function utf8Length(s: string): number {
  const n = s.length;
  for (let i = 0; i < n; i++) if (s.charCodeAt(i) >= 0x80) return Buffer.byteLength(s, 'utf8');
  return n;
}

function indexKeyLength(i: number): number {
  return i < 10 ? 1 : i < 100 ? 2 : i < 1000 ? 3 : String(i).length;
}

function containerSize(o: Document | BsonValue[], isArray: boolean): number {
  let n = 5;
  if (isArray) {
    const a = o as BsonValue[];
    for (let i = 0; i < a.length; i++) n += elementSize(indexKeyLength(i), a[i]);
  } else {
    for (const k of Object.keys(o)) n += elementSize(utf8Length(k), (o as Document)[k]);
  }
  return n;
}

/** One element: type byte, name and NUL, value; 0 when the encoder writes nothing (a function). */
function elementSize(nameLength: number, v: BsonValue): number {
  const head = 2 + nameLength;
  switch (typeof v) {
    case 'string':
      return head + 5 + utf8Length(v);
    case 'number':
      return head + (Number.isInteger(v) && v >= -2147483648 && v <= 2147483647 ? 4 : 8);
    case 'bigint':
      return head + 8;
    case 'boolean':
      return head + 1;
    case 'undefined':
      return head; // written as null (ignoreUndefined: false)
    case 'function':
    case 'symbol':
      return 0; // the encoder skips these

    default:
      break;
  }
  if (v === null) return head;
  switch ((v as { _bsontype?: string })._bsontype) {
    case undefined:
      break;
    case 'ObjectId':
      return head + 12;
    case 'Int32':
      return head + 4;
    case 'Double':
    case 'Long':
    case 'Timestamp':
      return head + 8;
    case 'Decimal128':
      return head + 16;
    case 'MinKey':
    case 'MaxKey':
      return head;
    case 'Binary': {
      const b = v as BSON.Binary;
      return head + 5 + b.position + (b.sub_type === BSON.Binary.SUBTYPE_BYTE_ARRAY ? 4 : 0);
    }
    case 'BSONRegExp':
      return head + utf8Length((v as BSON.BSONRegExp).pattern) + 1 + utf8Length((v as BSON.BSONRegExp).options) + 1;
    case 'BSONSymbol':
      return head + 5 + utf8Length(String((v as BSON.BSONSymbol).value));
    case 'Code': {
      const c = v as BSON.Code;
      const code = 5 + utf8Length(c.code);
      return c.scope != null && Object.keys(c.scope).length > 0 ? head + 4 + code + containerSize(c.scope, false) : head + code;
    }
    case 'DBRef': {
      const r = v as BSON.DBRef;
      const fields: Document = { $ref: r.collection, $id: r.oid, ...(r.db != null ? { $db: r.db } : {}), ...r.fields };
      return head + containerSize(fields, false);
    }
    default:
      return head + containerSize(v as Document, false);
  }
  if (Array.isArray(v)) return head + containerSize(v, true);
  if (v instanceof Date) return head + 8;
  if (ArrayBuffer.isView(v)) return head + 5 + v.byteLength;
  if (v instanceof RegExp) return head + utf8Length(v.source) + 1 + (v.global ? 1 : 0) + (v.ignoreCase ? 1 : 0) + (v.multiline ? 1 : 0) + 1;
  return head + containerSize(v as Document, false);
}

/** The names of BSON types as `$type` and the aggregation `$type` expression spell them. */
export type BsonTypeName =
  | 'double' | 'string' | 'object' | 'array' | 'binData' | 'undefined' | 'objectId' | 'bool' | 'date'
  | 'null' | 'regex' | 'dbPointer' | 'javascript' | 'symbol' | 'javascriptWithScope' | 'int'
  | 'timestamp' | 'long' | 'decimal' | 'minKey' | 'maxKey' | 'missing';

export const BSON_TYPE_NUMBERS: Readonly<Record<Exclude<BsonTypeName, 'missing'>, number>> = {
  double: 1, string: 2, object: 3, array: 4, binData: 5, undefined: 6, objectId: 7, bool: 8, date: 9,
  null: 10, regex: 11, dbPointer: 12, javascript: 13, symbol: 14, javascriptWithScope: 15, int: 16,
  timestamp: 17, long: 18, decimal: 19, minKey: -1, maxKey: 127,
};

function bsontype(v: object): string | undefined {
  return (v as { _bsontype?: string })._bsontype;
}

/** The BSON type of a decoded value; `missing` for undefined in the sense of an absent field. */
export function typeNameOf(v: BsonValue): BsonTypeName {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  switch (typeof v) {
    case 'number':
      return Number.isInteger(v) && v >= -2147483648 && v <= 2147483647 && !Object.is(v, -0) ? 'int' : 'double';
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
    case 'bigint':
      return 'long';
    case 'object':
      break;
    default:
      return 'undefined';
  }
  if (Array.isArray(v)) return 'array';
  if (v instanceof Date) return 'date';
  if (v instanceof RegExp) return 'regex';
  if (v instanceof Uint8Array) return 'binData';
  switch (bsontype(v)) {
    case 'Int32': return 'int';
    case 'Double': return 'double';
    case 'Long': return 'long';
    case 'Decimal128': return 'decimal';
    case 'ObjectId': return 'objectId';
    case 'Binary': return 'binData';
    case 'Timestamp': return 'timestamp';
    case 'MinKey': return 'minKey';
    case 'MaxKey': return 'maxKey';
    case 'BSONRegExp': return 'regex';
    case 'BSONSymbol': return 'symbol';
    case 'Code': return (v as BSON.Code).scope ? 'javascriptWithScope' : 'javascript';
    case 'DBRef': return 'object';
    default: return 'object';
  }
}

export function isNumberType(t: BsonTypeName): boolean {
  return t === 'int' || t === 'long' || t === 'double' || t === 'decimal';
}

export function isNumeric(v: BsonValue): boolean {
  return isNumberType(typeNameOf(v));
}

/** A plain embedded document (not an array, not a BSON wrapper). */
export function isDocument(v: BsonValue): v is Document {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  if (v instanceof Date || v instanceof RegExp || v instanceof Uint8Array) return false;
  const t = bsontype(v);
  return t === undefined || t === 'DBRef';
}

/** The JS number a numeric BSON value stands for (Long and Decimal128 may lose precision). */
export function toJsNumber(v: BsonValue): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  switch (v !== null && typeof v === 'object' ? bsontype(v) : undefined) {
    case 'Int32':
    case 'Double':
      return (v as BSON.Int32 | BSON.Double).value;
    case 'Long':
      return (v as BSON.Long).toNumber();
    case 'Decimal128':
      return decimalToNumber(v as BSON.Decimal128);
    default:
      return Number.NaN;
  }
}

export function decimalToNumber(d: BSON.Decimal128): number {
  const s = d.toString();
  if (s === 'NaN' || s === '-NaN') return Number.NaN;
  if (s === 'Infinity') return Number.POSITIVE_INFINITY;
  if (s === '-Infinity') return Number.NEGATIVE_INFINITY;
  return Number(s);
}

/** Integral JS value of a numeric BSON value if it is an exact integer; otherwise undefined. */
export function toExactInteger(v: BsonValue): bigint | undefined {
  const t = typeNameOf(v);
  if (t === 'long') return typeof v === 'bigint' ? v : (v as BSON.Long).toBigInt();
  if (t === 'int' || t === 'double') {
    const n = toJsNumber(v);
    return Number.isInteger(n) ? BigInt(n) : undefined;
  }
  if (t === 'decimal') {
    const n = decimalToNumber(v);
    return Number.isInteger(n) && Number.isSafeInteger(n) ? BigInt(n) : undefined;
  }
  return undefined;
}

/** Depth of nesting of a decoded value; documents and arrays each add one level. Iterative so deep input cannot overflow the stack. */
export function nestingDepth(root: BsonValue, stopAbove: number): number {
  let max = 0;
  const stack: Array<[BsonValue, number]> = [[root, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (depth > max) {
      max = depth;
      if (max > stopAbove) return max;
    }
    const children = Array.isArray(v) ? v : isDocument(v) ? Object.values(v) : undefined;
    if (!children) continue;
    for (const c of children) {
      if (c !== null && typeof c === 'object' && (Array.isArray(c) || isDocument(c))) stack.push([c, depth + 1]);
    }
  }
  return max;
}
