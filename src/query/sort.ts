/**
 * Sort specifications (`{a: 1, "b.c": -1}`) and MongoDB's sort order for documents.
 *
 * A document's key for one sort field comes from its index-key values at that path
 * (`sortKeyValues` in path.ts): ascending sorts take the smallest of them, descending the
 * largest, in BSON order. A missing field sorts as null; a path ending at an empty array sorts as
 * undefined, just before null. Fields compare in order; full ties keep the input order when the
 * caller sorts stably (Array.prototype.sort is stable).
 *
 * Known difference: mongod picks the smallest *compound* key among the keys an index on all
 * sort fields would generate; Dossier picks each field's key independently. They differ only
 * when two sort fields read the same array of documents.
 */
import { failLocation, fail } from '../base/index.js';
import { compareValues, isDocument, isNumberType, toJsNumber, typeNameOf, type BsonValue, type Collator, type Document } from '../bson/index.js';
import { formatElement, formatValue } from './filter/format.js';
import { sortKeyValues, splitPath } from './path.js';

export interface SortField {
  readonly path: string;
  readonly parts: readonly string[];
  readonly direction: 1 | -1;
}

/**
 * The parsed sort: its fields in order. A `$natural` key (natural order, a hint rather than a
 * sort) is not a field; it is reported in `natural`.
 */
export type SortSpec = readonly SortField[] & { readonly natural?: 1 | -1; readonly collator?: Collator | null };

function validateSortPath(path: string): void {
  if (path === '') failLocation(40352, 'FieldPath cannot be constructed with empty string');
  if (path.startsWith('$')) {
    failLocation(16410, "FieldPath field names may not start with '$'. Consider using $getField or $setField.");
  }
  if (path.split('.').some((p) => p === '')) failLocation(15998, 'FieldPath field names may not be empty strings.');
}

function direction(path: string, v: BsonValue): 1 | -1 {
  if (isDocument(v)) {
    if (Object.prototype.hasOwnProperty.call(v, '$meta')) {
      fail('BadValue', `$meta sort is not supported by Dossier: ${formatValue(v)}`);
    }
    failLocation(15974, `Illegal key in $sort specification: ${formatElement(path, v)}`);
  }
  if (!isNumberType(typeNameOf(v))) failLocation(15974, `Illegal key in $sort specification: ${formatElement(path, v)}`);
  // mongod reads the order with numberInt(), which truncates: 1.5 is ascending.
  const n = Math.trunc(toJsNumber(v));
  if (n !== 1 && n !== -1) failLocation(15975, '$sort key ordering must be 1 (for ascending) or -1 (for descending)');
  return n;
}

/**
 * Parses a sort document, with mongod's errors (15974, 15975, FieldPath errors). The
 * operation's collation travels with the spec: strings sort by it.
 */
export function parseSort(spec: Document, collator?: Collator | null): SortSpec {
  if (!isDocument(spec)) fail('TypeMismatch', 'sort must be an object');
  const fields: SortField[] = [];
  let natural: 1 | -1 | undefined;
  for (const path of Object.keys(spec)) {
    const v = spec[path];
    if (path === '$natural') {
      natural = direction(path, v);
      continue;
    }
    validateSortPath(path);
    fields.push({ path, parts: splitPath(path), direction: direction(path, v) });
  }
  const out = fields as SortField[] & { natural?: 1 | -1; collator?: Collator | null };
  if (natural !== undefined) out.natural = natural;
  if (collator) out.collator = collator;
  return out;
}

/** A document's sort key: one value per sort field, chosen as described in the module comment. */
export function sortKeyOf(spec: SortSpec, doc: Document): BsonValue[] {
  const key: BsonValue[] = new Array(spec.length);
  for (let i = 0; i < spec.length; i++) {
    const f = spec[i]!;
    const values = sortKeyValues(doc, f.parts);
    let best = values[0];
    for (let j = 1; j < values.length; j++) {
      const c = compareValues(values[j], best, spec.collator);
      if (f.direction === 1 ? c < 0 : c > 0) best = values[j];
    }
    key[i] = best;
  }
  return key;
}

/** Compares two sort keys made by `sortKeyOf` for the same spec. */
export function compareSortKeys(spec: SortSpec, a: readonly BsonValue[], b: readonly BsonValue[]): number {
  const collator = spec.collator;
  for (let i = 0; i < spec.length; i++) {
    const c = compareValues(a[i], b[i], collator);
    if (c !== 0) return spec[i]!.direction === 1 ? c : -c;
  }
  return 0;
}

/**
 * A comparator of documents for the spec. Keys are computed once per document and remembered
 * for the comparator's lifetime, so sorting n documents extracts n keys, not n log n.
 */
export function compareForSort(spec: SortSpec): (a: Document, b: Document) => number {
  const keys = new WeakMap<Document, BsonValue[]>();
  const keyOf = (doc: Document): BsonValue[] => {
    let k = keys.get(doc);
    if (k === undefined) {
      k = sortKeyOf(spec, doc);
      keys.set(doc, k);
    }
    return k;
  };
  return (a, b) => (a === b ? 0 : compareSortKeys(spec, keyOf(a), keyOf(b)));
}

/** The sort spec as a document again (for explain's `sortPattern`). */
export function serializeSort(spec: SortSpec): Document {
  const out: Document = {};
  for (const f of spec) out[f.path] = f.direction;
  if (spec.natural !== undefined) out.$natural = spec.natural;
  return out;
}
