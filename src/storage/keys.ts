/**
 * Index key generation, as mongod's btree key generator does it: a document yields one key per
 * combination of values at the key pattern's paths. Arrays make an index multikey (one key per
 * element); a missing field is a null key; an empty array at the end of a path is an undefined key.
 */
import { compareValues, dossierError, type Collator, isDocument, valueFingerprint, type BsonValue, type Document } from './deps.js';

export type KeyPatternField = { path: string; parts: string[]; direction: 1 | -1 };
export type IndexKey = BsonValue[];

export function parseKeyPattern(keyPattern: Document): KeyPatternField[] {
  return Object.entries(keyPattern).map(([path, dir]) => ({
    path,
    parts: path.split('.'),
    direction: typeof dir === 'string' ? 1 : toDirection(dir),
  }));
}

function toDirection(v: BsonValue): 1 | -1 {
  const n = typeof v === 'number' ? v : typeof v === 'object' && v !== null && 'value' in v ? Number(v.value) : Number(v?.toString?.());
  return n < 0 ? -1 : 1;
}

type PathValues = { values: BsonValue[]; arrayPrefix: string | null; found: boolean };

function isArrayIndex(part: string): boolean {
  return /^(0|[1-9][0-9]*)$/.test(part);
}

/** The values at one path of a document, with the path of the array that made them many. */
function valuesAtPath(doc: Document, parts: string[]): PathValues {
  const out: BsonValue[] = [];
  let arrayPrefix: string | null = null;
  let found = false;
  const walk = (v: BsonValue, i: number, prefix: string): void => {
    if (i === parts.length) {
      if (Array.isArray(v)) {
        arrayPrefix ??= prefix;
        found = true;
        if (v.length === 0) out.push(undefined);
        else for (const e of v) out.push(e);
      } else {
        if (v !== undefined) found = true;
        out.push(v === undefined ? null : v);
      }
      return;
    }
    const part = parts[i]!;
    if (Array.isArray(v)) {
      if (isArrayIndex(part) && Number(part) < v.length) {
        walk(v[Number(part)], i + 1, `${prefix}.${part}`);
        return;
      }
      arrayPrefix ??= prefix;
      if (v.length === 0) {
        out.push(null);
        return;
      }
      for (const e of v) {
        if (isDocument(e)) walk(e[part], i + 1, `${prefix}.${part}`);
        else out.push(null);
      }
      return;
    }
    if (isDocument(v)) {
      walk(v[part], i + 1, prefix === '' ? part : `${prefix}.${part}`);
      return;
    }
    out.push(null);
  };
  walk(doc[parts[0]!], 1, parts[0]!);
  return { values: out, arrayPrefix, found };
}

export type GeneratedKeys = { keys: IndexKey[]; multikeyPaths: string[] };

/**
 * All keys of `doc` for the pattern; `null` when a sparse index skips the document
 * (every key field missing). Throws CannotIndexParallelArrays when two fields fan out over
 * different arrays, as mongod does.
 */
export function generateKeys(doc: Document, fields: KeyPatternField[], sparse: boolean, collator?: Collator | null): GeneratedKeys | null {
  const perField: BsonValue[][] = [];
  const multikeyPaths: string[] = [];
  let anyFound = false;
  let arrayField: { path: string; prefix: string } | null = null;
  for (const f of fields) {
    const pv = valuesAtPath(doc, f.parts);
    if (pv.found) anyFound = true;
    if (pv.arrayPrefix !== null) {
      multikeyPaths.push(f.path);
      if (arrayField && arrayField.prefix !== pv.arrayPrefix) {
        throw dossierError('CannotIndexParallelArrays', `cannot index parallel arrays [${f.parts[f.parts.length - 1]}] [${arrayField.path.split('.').pop()}]`);
      }
      arrayField ??= { path: f.path, prefix: pv.arrayPrefix };
    }
    perField.push(dedupe(pv.values, collator));
  }
  if (sparse && !anyFound) return null;
  let keys: IndexKey[] = [[]];
  for (const values of perField) {
    const next: IndexKey[] = [];
    for (const k of keys) for (const v of values) next.push([...k, v]);
    keys = next;
  }
  return { keys, multikeyPaths };
}

function dedupe(values: BsonValue[], collator: Collator | null | undefined): BsonValue[] {
  if (values.length < 2) return values;
  const sorted = [...values].sort((a, b) => compareValues(a, b, collator));
  return sorted.filter((v, i) => i === 0 || compareValues(v, sorted[i - 1], collator) !== 0);
}

/** Orders keys by the key pattern; strings by the index's collator when it has one. */
export function compareKeys(a: IndexKey, b: IndexKey, fields: KeyPatternField[], collator?: Collator | null): number {
  for (let i = 0; i < fields.length; i++) {
    const c = compareValues(a[i], b[i], collator);
    if (c !== 0) return fields[i]!.direction === 1 ? c : -c;
  }
  return 0;
}

/** A hashable stand-in for a key: equal keys give equal fingerprints (see valueFingerprint). */
export function keyFingerprint(key: IndexKey): string {
  return key.map(valueFingerprint).join('|');
}
