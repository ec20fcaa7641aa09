/**
 * The document an upsert starts from: the equality predicates of its query (mongod's
 * pathsupport::extractEqualityMatches + addEqualitiesToDoc), with _id first.
 */
import { fail } from '../../base/index.js';
import { isDocument, orderedKeys, typeNameOf, type BsonValue, type Document } from '../../bson/index.js';
import { getField, hasField, parseArrayIndex, setField } from './paths.js';

export interface UpsertSeedOptions {
  /** Replacement-style upserts take only _id from the query (mongod extracts just that path). */
  onlyId?: boolean;
}

/** Is this query value an implicit equality ({a: 5}, {a: {b: 1}}) rather than an operator object? */
function isOperatorObject(v: BsonValue): boolean {
  if (!isDocument(v)) return false;
  const first = Object.keys(v)[0];
  return first !== undefined && first.startsWith('$');
}

/** Collects [path, value] equalities from top-level predicates and $and conjuncts, in query order. */
function collectEqualities(filter: Document, out: Array<[string, BsonValue]>): void {
  for (const key of Object.keys(filter)) {
    const v = filter[key];
    if (key === '$and') {
      if (Array.isArray(v)) for (const c of v) if (isDocument(c)) collectEqualities(c, out);
      continue;
    }
    if (key === '$or') {
      // The optimizer folds a one-clause $or into its clause.
      if (Array.isArray(v) && v.length === 1 && isDocument(v[0])) collectEqualities(v[0], out);
      continue;
    }
    if (key.startsWith('$')) continue;
    if (typeNameOf(v) === 'regex') continue;
    if (!isOperatorObject(v)) {
      out.push([key, v]);
      continue;
    }
    for (const op of Object.keys(v)) {
      const arg = (v as Document)[op];
      if (op === '$eq') out.push([key, arg]);
      // A one-element $in is optimized to an equality.
      else if (op === '$in' && Array.isArray(arg) && arg.length === 1 && typeNameOf(arg[0]) !== 'regex') out.push([key, arg[0]]);
    }
  }
}

function setAtPath(doc: Document, path: string, value: BsonValue): void {
  const parts = path.split('.');
  let cur: BsonValue = doc;
  for (let i = 0; i < parts.length - 1; i++) {
    const part = parts[i]!;
    let next: BsonValue;
    if (isDocument(cur)) next = getField(cur, part);
    else if (Array.isArray(cur)) {
      const idx = parseArrayIndex(part);
      next = idx === undefined ? undefined : cur[idx];
    }
    if (next === undefined) {
      const created: Document = {};
      if (isDocument(cur)) setField(cur, part, created);
      else fail('PathNotViable', `cannot use the part (${part} of ${path}) to traverse the element`);
      next = created;
    } else if (!isDocument(next) && !Array.isArray(next)) {
      fail('PathNotViable', `cannot use the part (${parts[i]} of ${path}) to traverse the element`);
    }
    cur = next;
  }
  const last = parts[parts.length - 1]!;
  if (isDocument(cur)) setField(cur, last, value);
  else fail('PathNotViable', `cannot use the part (${last} of ${path}) to traverse the element`);
}

/** The fields an upsert inserts from its query's equality predicates. */
export function buildUpsertSeed(filter: Document, options: UpsertSeedOptions = {}): Document {
  const equalities: Array<[string, BsonValue]> = [];
  collectEqualities(filter, equalities);
  const seen = new Map<string, BsonValue>();
  const kept: Array<[string, BsonValue]> = [];
  for (const [path, value] of equalities) {
    if (options.onlyId && path !== '_id' && !path.startsWith('_id.')) continue;
    // checkEqualityConflicts: an equality on this path or on one of its prefixes was seen already.
    const parts = path.split('.');
    for (let i = parts.length; i >= 1; i--) {
      const prefix = parts.slice(0, i).join('.');
      if (!seen.has(prefix)) continue;
      if (i === parts.length) fail('NotSingleValueField', `cannot infer query fields to set, path '${path}' is matched twice`);
      fail('NotSingleValueField', `cannot infer query fields to set, both paths '${path}' and '${prefix}' are matched`);
    }
    seen.set(path, value);
    kept.push([path, value]);
  }
  const doc: Document = {};
  for (const [path, value] of kept) setAtPath(doc, path, value);
  if (hasField(doc, '_id') && orderedKeys(doc)[0] !== '_id') {
    const out: Document = {};
    setField(out, '_id', doc['_id']);
    for (const k of orderedKeys(doc)) if (k !== '_id') setField(out, k, doc[k]);
    return out;
  }
  return doc;
}
