/**
 * A string that is equal for values MongoDB compares as equal (1, 1.0 and NumberLong(1) give the
 * same fingerprint), for hashing index keys. Distinct values may, rarely, share one (int64 beyond
 * 2^53, decimals): callers must treat a shared fingerprint as "maybe equal", never as proof.
 */
import { regexParts } from './compare.js';
import { isDocument, toJsNumber, typeNameOf, type BsonValue } from './values.js';
import { orderedKeys } from './key-order.js';

export function valueFingerprint(v: BsonValue): string {
  const t = typeNameOf(v);
  switch (t) {
    case 'int':
    case 'long':
    case 'double':
    case 'decimal': {
      const n = toJsNumber(v);
      return Number.isNaN(n) ? 'nNaN' : `n${Object.is(n, -0) ? 0 : n}`;
    }
    case 'string':
      return `s${v}`;
    case 'symbol':
      return `s${v.value}`;
    case 'missing':
    case 'undefined':
      return 'u';
    case 'null':
      return 'z';
    case 'bool':
      return v ? 'T' : 'F';
    case 'date':
      return `d${(v as Date).getTime()}`;
    case 'objectId':
      return `o${v.toHexString()}`;
    case 'timestamp':
      return `t${v.high >>> 0}.${v.low >>> 0}`;
    case 'array':
      return `[${(v as BsonValue[]).map(valueFingerprint).join(',')}]`;
    case 'object': {
      const doc = isDocument(v) ? v : {};
      return `{${orderedKeys(doc).map((k) => `${JSON.stringify(k)}:${valueFingerprint(doc[k])}`).join(',')}}`;
    }
    case 'regex': {
      const [p, f] = regexParts(v);
      return `r${p}/${f}`;
    }
    case 'binData':
      return `b${v.sub_type ?? 0}:${Buffer.from(v.buffer ?? v).toString('hex')}`;
    default:
      return `${t}:${String(v)}`;
  }
}
