/**
 * BSON values printed the way mongod prints a BSONElement in error messages and explain output
 * (`a: "x"`, `5.0` for a double, `inf.0`, `ObjectId('...')`, `new Date(0)`).
 */
import { regexParts, typeNameOf, type BsonValue } from '../../bson/index.js';
import { documentEntries } from '../path.js';

const MAX_DEPTH = 20;

function formatDouble(n: number): string {
  if (Number.isNaN(n)) return 'nan.0';
  if (n === Number.POSITIVE_INFINITY) return 'inf.0';
  if (n === Number.NEGATIVE_INFINITY) return '-inf.0';
  if (Object.is(n, -0)) return '-0.0';
  if (Number.isInteger(n) && Math.abs(n) < 1e16) return `${n}.0`;
  return String(n);
}

function quote(s: string): string {
  return JSON.stringify(s);
}

/** One BSON value in mongod's shell-like notation. */
export function formatValue(v: BsonValue, depth = 0): string {
  if (depth > MAX_DEPTH) return '...';
  switch (typeNameOf(v)) {
    case 'missing':
    case 'undefined':
      return 'undefined';
    case 'null':
      return 'null';
    case 'bool':
      return v ? 'true' : 'false';
    case 'int':
      return String(typeof v === 'number' ? v : v.value);
    case 'double':
      return formatDouble(typeof v === 'number' ? v : v.value);
    case 'long':
      return String(typeof v === 'bigint' ? v : v.toString());
    case 'decimal':
      return v.toString();
    case 'string':
      return quote(v);
    case 'symbol':
      return quote(v.value);
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
    case 'minKey':
      return 'MinKey';
    case 'maxKey':
      return 'MaxKey';
    case 'binData': {
      const bytes: Uint8Array = v instanceof Uint8Array ? v : v.buffer.subarray(0, v.position);
      const sub = v instanceof Uint8Array ? 0 : v.sub_type;
      return `BinData(${sub}, ${Buffer.from(bytes).toString('hex').toUpperCase()})`;
    }
    case 'javascript':
    case 'javascriptWithScope':
      return String(v.code);
    case 'array': {
      const arr = v as BsonValue[];
      if (arr.length === 0) return '[]';
      return `[ ${arr.map((x) => formatValue(x, depth + 1)).join(', ')} ]`;
    }
    case 'object': {
      const entries = documentEntries(v);
      if (entries.length === 0) return '{}';
      return `{ ${entries.map(([k, x]) => `${k}: ${formatValue(x, depth + 1)}`).join(', ')} }`;
    }
    default:
      return String(v);
  }
}

/** `name: value`, as mongod prints an element in messages such as "Expected a number in: ...". */
export function formatElement(name: string, v: BsonValue): string {
  return `${name}: ${formatValue(v)}`;
}
