/**
 * Dotted paths into documents, with MongoDB's array semantics.
 *
 * mongod reads a path in two different ways, and so does Dossier:
 *
 * 1. **Matcher semantics** (`visitMatchValues`, `matchValuesAtPath`): mongod's ElementIterator.
 *    Used by the filter matcher, and by anything that must agree with it (the positional `$`
 *    operator, `$pull` conditions, `arrayFilters`).
 *    - Objects are entered field by field.
 *    - An array met in the middle of the path is traversed implicitly: every element that is a
 *      document is entered with the rest of the path. Scalars in such an array contribute nothing.
 *    - A numeric component after an array (`a.0.b`) *also* indexes the array: the element at that
 *      position is entered (or yielded, if the path ends there). So `{a: [{"0": 5}]}` yields both
 *      the element `{"0": 5}` and `5` for path `a.0`. A nested array at that position is traversed.
 *    - An array at the end of the path is yielded element by element and then as a whole
 *      (unless leaf expansion is off, as for `$size` and `$elemMatch`, which see only the array).
 *    - A missing field yields `undefined` ("missing") once, and so does a scalar in the middle of
 *      the path (`{a: 5}` at `a.b`), so `{"a.b": null}` matches `{a: 5}` and `{a: [{c: 1}]}`.
 *    - Each yielded value carries the index of the outermost array that was traversed implicitly
 *      to reach it (the "array offset"); mongod reports it as `elemMatchKey` for positional `$`.
 *
 * 2. **Key semantics** (`indexKeyValues`, `sortKeyValues`): mongod's BtreeKeyGenerator.
 *    Used for index keys and sort keys.
 *    - A numeric component after an array is positional *only*.
 *    - Array elements that are not documents give a null key when the path goes on.
 *    - A leaf array contributes its elements (not the array itself); nested arrays stay whole;
 *      an empty leaf array gives the key undefined, a missing path the key null.
 *
 * 3. **Plain lookup** (`getPathValue`): no traversal of arrays except by numeric index; what
 *    update and projection use to find "the" value at a path.
 *
 * Values are BSON values as decoded by src/bson (`DBRef` instances are read as their
 * `{$ref, $id, $db, ...}` documents). `undefined` always means "missing".
 */
import { DBRef, isDocument, type BsonValue, type Document } from '../bson/index.js';

/** Sentinel returned by the visitors when nothing matched. */
export const NO_MATCH = -2;
/** Returned by the visitors when a value matched but no array was traversed implicitly. */
export const MATCH_WITHOUT_OFFSET = -1;

const pathCache = new Map<string, readonly string[]>();
const PATH_CACHE_MAX = 10_000;

/** Splits a dotted path into its components (cached: paths repeat across queries). */
export function splitPath(path: string): readonly string[] {
  let parts = pathCache.get(path);
  if (parts === undefined) {
    parts = Object.freeze(path.split('.'));
    if (pathCache.size >= PATH_CACHE_MAX) pathCache.clear();
    pathCache.set(path, parts);
  }
  return parts;
}

/**
 * The array index a path component names, or -1. Like mongod, a component is positional only if
 * it is all digits, and it must spell the index exactly ("01" never matches index 1).
 */
export function arrayIndexOfComponent(component: string): number {
  const n = component.length;
  if (n === 0 || n > 10) return -1;
  for (let i = 0; i < n; i++) {
    const c = component.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
  }
  if (n > 1 && component.charCodeAt(0) === 48) return -1;
  const idx = Number(component);
  return idx <= 0x7fffffff ? idx : -1;
}

/** True if any component of the path is all digits (mongod's "numeric path component"). */
export function hasNumericComponent(parts: readonly string[]): boolean {
  for (const p of parts) {
    if (p.length === 0) continue;
    let digits = true;
    for (let i = 0; i < p.length; i++) {
      const c = p.charCodeAt(i);
      if (c < 48 || c > 57) {
        digits = false;
        break;
      }
    }
    if (digits) return true;
  }
  return false;
}

/**
 * The value of one field of a document, or undefined when absent. Reads `DBRef` instances as
 * documents and never returns what a plain object inherits from its prototype.
 */
export function getField(doc: Document, name: string): BsonValue {
  if (doc instanceof DBRef) return dbRefField(doc, name);
  const v = doc[name];
  if (v === undefined || typeof v === 'function') return undefined;
  if (name === '__proto__' && !Object.prototype.hasOwnProperty.call(doc, name)) return undefined;
  return v;
}

function dbRefField(ref: DBRef, name: string): BsonValue {
  switch (name) {
    case '$ref':
      return ref.collection;
    case '$id':
      return ref.oid;
    case '$db':
      return ref.db === undefined || ref.db === '' ? undefined : ref.db;
    default: {
      const fields = ref.fields as Document;
      return Object.prototype.hasOwnProperty.call(fields, name) ? fields[name] : undefined;
    }
  }
}

/** A document's own fields in order; `DBRef` instances as their `$ref/$id/$db` document. */
export function documentEntries(doc: Document): Array<[string, BsonValue]> {
  if (doc instanceof DBRef) {
    const out: Array<[string, BsonValue]> = [['$ref', doc.collection], ['$id', doc.oid]];
    if (doc.db) out.push(['$db', doc.db]);
    for (const [k, v] of Object.entries(doc.fields as Document)) out.push([k, v]);
    return out;
  }
  const out: Array<[string, BsonValue]> = [];
  for (const k of Object.keys(doc)) {
    const v = doc[k];
    if (v !== undefined) out.push([k, v]);
  }
  return out;
}

/** A predicate over one value; `undefined` stands for a missing field. */
export type ValueTest = (value: BsonValue) => boolean;

/**
 * Matcher semantics (see the module comment): calls `test` on each candidate value at `parts`
 * until it returns true. Returns `NO_MATCH`, `MATCH_WITHOUT_OFFSET`, or the outermost implicitly
 * traversed array index of the value that matched. Allocation-free.
 *
 * @param expandLeafArrays false for `$size`/`$elemMatch`-like tests that must see only the array.
 */
export function visitMatchValues(doc: Document, parts: readonly string[], expandLeafArrays: boolean, test: ValueTest): number {
  return walkObject(doc, parts, 0, expandLeafArrays, test, MATCH_WITHOUT_OFFSET);
}

function walkObject(
  obj: Document,
  parts: readonly string[],
  start: number,
  expand: boolean,
  test: ValueTest,
  outer: number,
): number {
  let cur = obj;
  let i = start;
  const last = parts.length - 1;
  for (;;) {
    const v = getField(cur, parts[i]!);
    if (v === undefined) return test(undefined) ? outer : NO_MATCH;
    if (Array.isArray(v)) return walkArray(v, parts, i + 1, expand, test, outer);
    if (i === last) return test(v) ? outer : NO_MATCH;
    if (isDocument(v)) {
      cur = v;
      i++;
      continue;
    }
    // A scalar where the path wants a document: the path is missing here.
    return test(undefined) ? outer : NO_MATCH;
  }
}

function walkArray(
  arr: BsonValue[],
  parts: readonly string[],
  i: number,
  expand: boolean,
  test: ValueTest,
  outer: number,
): number {
  const n = arr.length;
  if (i === parts.length) {
    if (expand) {
      for (let k = 0; k < n; k++) if (test(arr[k])) return outer >= 0 ? outer : k;
    }
    return test(arr) ? outer : NO_MATCH;
  }
  const positional = arrayIndexOfComponent(parts[i]!);
  const endsAtIndex = i === parts.length - 1;
  for (let k = 0; k < n; k++) {
    const el = arr[k];
    if (isDocument(el)) {
      const r = walkObject(el, parts, i, expand, test, outer >= 0 ? outer : k);
      if (r !== NO_MATCH) return r;
      if (k === positional) {
        // Reached by position, not by implicit traversal: this level adds no array offset.
        if (endsAtIndex) {
          if (test(el)) return outer;
        } else {
          const r2 = walkObject(el, parts, i + 1, expand, test, outer);
          if (r2 !== NO_MATCH) return r2;
        }
      }
    } else if (k === positional) {
      if (endsAtIndex) {
        if (test(el)) return outer;
      } else if (Array.isArray(el)) {
        const r = walkArray(el, parts, i + 1, expand, test, outer);
        if (r !== NO_MATCH) return r;
      }
    }
  }
  return NO_MATCH;
}

/**
 * Matcher semantics, collected: every candidate value at `path` in the order mongod's
 * ElementIterator yields them (missing appears as `undefined`). For tests and tools; the matcher
 * itself uses the allocation-free `visitMatchValues`.
 */
export function matchValuesAtPath(doc: Document, path: string, expandLeafArrays = true): BsonValue[] {
  const out: BsonValue[] = [];
  visitMatchValues(doc, splitPath(path), expandLeafArrays, (v) => {
    out.push(v);
    return false;
  });
  return out;
}

/**
 * Plain lookup: follows documents by name and arrays by numeric index only; returns undefined
 * when the path leaves the document (a missing field, a scalar in the middle, a non-numeric name
 * on an array). This is "the" value update operators and inclusion projection address.
 */
export function getPathValue(doc: Document, path: string | readonly string[]): BsonValue {
  const parts = typeof path === 'string' ? splitPath(path) : path;
  let cur: BsonValue = doc;
  for (const p of parts) {
    if (Array.isArray(cur)) {
      const idx = arrayIndexOfComponent(p);
      if (idx < 0 || idx >= cur.length) return undefined;
      cur = cur[idx];
    } else if (isDocument(cur)) {
      cur = getField(cur, p);
    } else {
      return undefined;
    }
    if (cur === undefined) return undefined;
  }
  return cur;
}

/**
 * Key semantics (mongod's BtreeKeyGenerator, one field): the values an index on `path` takes
 * from `doc`, with their null and undefined keys:
 * - a missing path, a scalar where a document is needed, a non-document element of an array
 *   met in the middle, or an empty array met in the middle, each give `null`;
 * - an array at the end of the path gives its elements (nested arrays stay whole), or
 *   `undefined` when it is empty (BSON undefined sorts just before null);
 * - a numeric component after an array is a position only (when in range).
 * The result is never empty and may repeat values. `arrayComponents`, when given, receives the
 * indexes of path components at which an array was met (mongod's multikey components).
 */
export function indexKeyValues(doc: Document, path: string | readonly string[], arrayComponents?: Set<number>): BsonValue[] {
  const parts = typeof path === 'string' ? splitPath(path) : path;
  const out: BsonValue[] = [];
  keyWalk(getField(doc, parts[0]!), parts, 1, out, arrayComponents);
  return out;
}

function keyWalk(v: BsonValue, parts: readonly string[], i: number, out: BsonValue[], arrayComponents: Set<number> | undefined): void {
  if (i === parts.length) {
    if (Array.isArray(v)) {
      arrayComponents?.add(i - 1);
      if (v.length === 0) out.push(undefined);
      else for (const el of v) out.push(el);
    } else {
      out.push(v === undefined ? null : v);
    }
    return;
  }
  if (Array.isArray(v)) {
    const idx = arrayIndexOfComponent(parts[i]!);
    if (idx >= 0 && idx < v.length) {
      keyWalk(v[idx], parts, i + 1, out, arrayComponents);
      return;
    }
    arrayComponents?.add(i - 1);
    if (v.length === 0) out.push(null);
    for (const el of v) {
      if (isDocument(el)) keyWalk(getField(el, parts[i]!), parts, i + 1, out, arrayComponents);
      else out.push(null);
    }
    return;
  }
  if (isDocument(v)) {
    keyWalk(getField(v, parts[i]!), parts, i + 1, out, arrayComponents);
    return;
  }
  out.push(null);
}

/**
 * The values a sort on `path` considers for `doc`: its index keys (see `indexKeyValues`).
 * Ascending sorts use the smallest, descending the largest.
 */
export function sortKeyValues(doc: Document, path: string | readonly string[]): BsonValue[] {
  return indexKeyValues(doc, path);
}
