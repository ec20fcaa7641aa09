/**
 * Hash keys for grouping and joining: two values get the same key exactly when MongoDB's
 * comparison says they are equal (so 1, 1.0, NumberLong(1) and NumberDecimal("1.0") group
 * together, and null groups with missing). Used by $group, $bucketAuto and $lookup's hash join.
 */
import { regexParts, typeNameOf, type BsonValue } from '../../bson/index.js';
import { toSafeNum, type Dec } from './values.js';

function decKey(d: Dec): string {
  if (d.kind === 'nan') return 'nan';
  if (d.kind === 'inf') return d.neg ? '-inf' : 'inf';
  if (d.coeff === 0n) return '0';
  let c = d.coeff;
  let e = d.exp;
  while (c % 10n === 0n) {
    c /= 10n;
    e++;
  }
  return `${d.neg ? '-' : ''}${c}e${e}`;
}

function numberKey(v: BsonValue): string {
  const n = toSafeNum(v)!;
  switch (n.t) {
    case 'int':
      return longKey(BigInt(n.v));
    case 'long':
      return longKey(n.v);
    case 'double': {
      const x = n.v;
      if (Number.isNaN(x)) return 'nan';
      if (!Number.isFinite(x)) return x < 0 ? '-inf' : 'inf';
      if (x === 0) return '0';
      if (Number.isInteger(x) && Math.abs(x) < 2 ** 63) return decKey({ kind: 'finite', neg: x < 0, coeff: BigInt(Math.abs(x)), exp: 0 });
      // Non-integral doubles: the shortest round-trip decimal is exact enough to separate them.
      const [m, e] = Math.abs(x).toExponential().split('e') as [string, string];
      const frac = m.split('.')[1] ?? '';
      return decKey({ kind: 'finite', neg: x < 0, coeff: BigInt(m.replace('.', '')), exp: Number(e) - frac.length });
    }
    case 'decimal':
      return decKey(n.v);
  }
}

/** The canonical key of a value for hashing; equal keys if and only if compareValues says equal. */
export function valueKey(v: BsonValue): string {
  const t = typeNameOf(v);
  switch (t) {
    case 'missing':
    case 'null':
    case 'undefined':
      return 'N';
    case 'int':
    case 'long':
    case 'double':
    case 'decimal':
      return `#${numberKey(v)}`;
    case 'string':
      return `s${JSON.stringify(v)}`;
    case 'symbol':
      return `s${JSON.stringify(v.value)}`;
    case 'bool':
      return v ? 'T' : 'F';
    case 'date':
      return `d${(v as Date).getTime()}`;
    case 'objectId':
      return `o${v.toHexString()}`;
    case 'array':
      return `[${(v as BsonValue[]).map(valueKey).join(',')}]`;
    case 'object': {
      const parts: string[] = [];
      for (const k of Object.keys(v)) if (v[k] !== undefined) parts.push(`${JSON.stringify(k)}:${valueKey(v[k])}`);
      return `{${parts.join(',')}}`;
    }
    case 'timestamp':
      return `t${v.high >>> 0}.${v.low >>> 0}`;
    case 'regex': {
      const [p, f] = regexParts(v);
      return `r${JSON.stringify(p)}/${f}`;
    }
    case 'binData': {
      const bytes: Uint8Array = v instanceof Uint8Array ? v : v.buffer.subarray(0, v.position);
      return `b${v instanceof Uint8Array ? 0 : v.sub_type}:${Buffer.from(bytes).toString('base64')}`;
    }
    case 'minKey':
      return 'm';
    case 'maxKey':
      return 'M';
    default:
      return `${t}:${String(v?.code ?? v)}`;
  }
}

function longKey(n: bigint): string {
  return decKey({ kind: 'finite', neg: n < 0n, coeff: n < 0n ? -n : n, exp: 0 });
}
