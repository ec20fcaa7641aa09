/**
 * Renders BSON values the way mongod prints them inside error messages
 * (e.g. `E11000 duplicate key error ... dup key: { _id: 1 }`).
 */
import { isDocument, typeNameOf, type BsonValue } from './values.js';
import { regexParts } from './compare.js';
import { orderedKeys } from './key-order.js';

export function formatValue(v: BsonValue): string {
  switch (typeNameOf(v)) {
    case 'missing':
    case 'undefined':
      return 'undefined';
    case 'null':
      return 'null';
    case 'string':
      return JSON.stringify(v);
    case 'int':
    case 'long':
      return String(typeof v === 'object' ? v.toString() : v);
    case 'double': {
      const n = typeof v === 'number' ? v : v.value;
      return Number.isInteger(n) ? `${n}.0` : String(n);
    }
    case 'decimal':
      return `NumberDecimal("${v.toString()}")`;
    case 'bool':
      return String(v);
    case 'objectId':
      return `ObjectId('${v.toHexString()}')`;
    case 'date':
      return `new Date(${(v as Date).getTime()})`;
    case 'timestamp':
      return `Timestamp(${v.high >>> 0}, ${v.low >>> 0})`;
    case 'regex': {
      const [p, f] = regexParts(v);
      return `/${p}/${f}`;
    }
    case 'array':
      return (v as BsonValue[]).length === 0 ? '[]' : `[ ${(v as BsonValue[]).map(formatValue).join(', ')} ]`;
    case 'object':
      return formatDocument(isDocument(v) ? v : {});
    case 'binData':
      return `BinData(${v.sub_type ?? 0}, ${Buffer.from(v.buffer ?? v).toString('hex').toUpperCase()})`;
    case 'minKey':
      return 'MinKey';
    case 'maxKey':
      return 'MaxKey';
    default:
      return String(v);
  }
}

export function formatDocument(doc: Record<string, BsonValue>): string {
  const keys = orderedKeys(doc);
  if (keys.length === 0) return '{}';
  return `{ ${keys.map((k) => `${k}: ${formatValue(doc[k])}`).join(', ')} }`;
}
