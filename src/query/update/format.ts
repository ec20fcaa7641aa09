/**
 * mongod's BSONElement::toString / BSONObj::toString rendering, which its update and projection
 * error messages embed ("Cannot create field 'b' in element {a: 1}"). Drivers and tests compare
 * errmsg text, so the spacing rules are reproduced exactly: a document prints as "{ a: 1 }" (with
 * inner spaces), an empty one as "{}", an array as "[ 1, 2 ]", doubles with "%.16g" plus ".0".
 */
import { isDocument, typeNameOf, type BsonValue, type Document } from '../../bson/index.js';

/** C's printf("%.16g") followed by mongod's appendDoubleNice rule (".0" when no '.', 'E' or 'N'). */
export function formatDoubleNice(x: number): string {
  let s: string;
  if (Number.isNaN(x)) s = 'nan';
  else if (!Number.isFinite(x)) s = x > 0 ? 'inf' : '-inf';
  else if (x === 0) s = Object.is(x, -0) ? '-0' : '0';
  else {
    // 16 significant digits; %g uses scientific notation when the decimal exponent is < -4 or >= 16.
    const sci = x.toExponential(15);
    const [mantissa, expText] = sci.split('e') as [string, string];
    const exp = Number(expText);
    if (exp < -4 || exp >= 16) {
      const m = mantissa.includes('.') ? mantissa.replace(/0+$/, '').replace(/\.$/, '') : mantissa;
      s = `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
    } else {
      s = x.toFixed(15 - exp);
      if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '');
    }
  }
  if (!s.includes('.') && !s.includes('E') && !s.includes('N')) s += '.0';
  return s;
}

function hex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

/** The value part of BSONElement::toString. */
export function formatValue(v: BsonValue): string {
  const t = typeNameOf(v);
  switch (t) {
    case 'object': {
      if (!isDocument(v)) return String(v);
      const keys = Object.keys(v);
      if (keys.length === 0) return '{}';
      return `{ ${keys.map((k) => formatElement(k, (v as Document)[k])).join(', ')} }`;
    }
    case 'array': {
      const arr = v as BsonValue[];
      if (arr.length === 0) return '[]';
      return `[ ${arr.map((e) => formatValue(e)).join(', ')} ]`;
    }
    case 'string':
      return `"${v as string}"`;
    case 'symbol':
      return `"${(v as { value: string }).value}"`;
    case 'int':
      return String(typeof v === 'number' ? v : (v as { value: number }).value);
    case 'long':
      return typeof v === 'bigint' ? v.toString() : (v as { toString(): string }).toString();
    case 'double':
      return formatDoubleNice(typeof v === 'number' ? v : (v as { value: number }).value);
    case 'decimal':
      return (v as { toString(): string }).toString();
    case 'bool':
      return v ? 'true' : 'false';
    case 'null':
      return 'null';
    case 'undefined':
    case 'missing':
      return 'undefined';
    case 'date':
      return `new Date(${(v as Date).getTime()})`;
    case 'objectId':
      return `ObjectId('${(v as { toHexString(): string }).toHexString()}')`;
    case 'regex': {
      if (v instanceof RegExp) return `/${v.source}/${v.flags}`;
      const r = v as { pattern: string; options: string };
      return `/${r.pattern}/${r.options}`;
    }
    case 'timestamp': {
      const ts = v as { high: number; low: number };
      return `Timestamp(${ts.high >>> 0}, ${ts.low >>> 0})`;
    }
    case 'binData': {
      const bin = v instanceof Uint8Array ? { sub_type: 0, bytes: v } : { sub_type: (v as { sub_type: number }).sub_type, bytes: (v as { buffer: Uint8Array; position: number }).buffer.subarray(0, (v as { position: number }).position) };
      if (bin.sub_type === 4 && bin.bytes.length === 16) {
        const h = hex(bin.bytes);
        return `UUID("${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}")`;
      }
      return `BinData(${bin.sub_type}, ${hex(bin.bytes).toUpperCase()})`;
    }
    case 'minKey':
      return 'MinKey';
    case 'maxKey':
      return 'MaxKey';
    case 'javascript':
      return (v as { code: string }).code;
    case 'javascriptWithScope': {
      const c = v as { code: string; scope: Document };
      return `CodeWScope( ${c.code}, ${formatValue(c.scope)})`;
    }
    default:
      return String(v);
  }
}

/** BSONElement::toString with its field name: `a: 1`. */
export function formatElement(name: string, v: BsonValue): string {
  return `${name}: ${formatValue(v)}`;
}

/** "{_id: 1}"-style rendering of a document's _id used in many update errors; "no id" if absent. */
export function idElementString(doc: Document): string {
  return Object.prototype.hasOwnProperty.call(doc, '_id') ? formatElement('_id', doc['_id']) : 'no id';
}

/** The BSON type name mongod's typeName() prints ("int", "string", "array", ...). */
export function bsonTypeName(v: BsonValue): string {
  const t = typeNameOf(v);
  return t === 'missing' ? 'missing' : t;
}
