/**
 * The delta of an update, as change streams report it (`updateDescription`).
 *
 * mongod logs an update as a `$v: 2` diff and derives the event from it. Dossier's `u` entries
 * keep the whole new document, because recovery replays full documents; the delta is computed
 * once at commit from the version before and after and stored beside `o` in the entry's `diff`
 * field, so a change stream can describe the update without the pre-image.
 *
 * The rules follow mongod's diff of two documents: a field whose value changed type or value is
 * updated whole unless both sides are documents (then the diff descends) or arrays (then each
 * element is compared by index, a shorter array is reported in `truncatedArrays`, and an array
 * element that is a document on both sides is descended into). Paths whose components could be
 * read two ways (a numeric field name, or an array index) are listed with their components in
 * `disambiguatedPaths`: field names as strings, array indices as numbers.
 */
import { compareValues, isDocument, typeNameOf, Int32, type BsonValue, type Document } from './deps.js';

export interface UpdateDiff {
  updatedFields: Document;
  removedFields: string[];
  truncatedArrays: Array<{ field: string; newSize: Int32 }>;
  disambiguatedPaths: Document;
}

type Component = string | number;

/** The delta from `before` to `after` (both whole documents with the same _id). */
export function updateDiff(before: Document, after: Document): UpdateDiff {
  const out: UpdateDiff = { updatedFields: {}, removedFields: [], truncatedArrays: [], disambiguatedPaths: {} };
  diffDocuments(before, after, [], out);
  return out;
}

/** The diff as stored in the oplog entry: empty parts left out, to keep entries small. */
export function storedDiff(d: UpdateDiff): Document {
  const o: Document = { u: d.updatedFields };
  if (d.removedFields.length > 0) o.r = d.removedFields;
  if (d.truncatedArrays.length > 0) o.t = d.truncatedArrays;
  if (Object.keys(d.disambiguatedPaths).length > 0) o.a = d.disambiguatedPaths;
  return o;
}

/** Reads back what storedDiff wrote. */
export function loadDiff(o: Document): UpdateDiff {
  return {
    updatedFields: isDocument(o.u) ? o.u : {},
    removedFields: Array.isArray(o.r) ? (o.r as string[]) : [],
    truncatedArrays: Array.isArray(o.t) ? (o.t as UpdateDiff['truncatedArrays']) : [],
    disambiguatedPaths: isDocument(o.a) ? o.a : {},
  };
}

function sameValue(a: BsonValue, b: BsonValue): boolean {
  // Binary equality, as mongod's diff: 1 (int) and 1.0 (double) differ, and so does field order.
  if (typeNameOf(a) !== typeNameOf(b)) return false;
  if (isDocument(a) && isDocument(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    if (ka.length !== kb.length) return false;
    for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i] || !sameValue(a[ka[i]!], b[kb[i]!])) return false;
    return true;
  }
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  return compareValues(a, b) === 0;
}

function note(path: Component[], out: UpdateDiff): string {
  const dotted = path.join('.');
  // A path is ambiguous when a component is an array index or a field name made of digits.
  if (path.some((c) => typeof c === 'number' || /^[0-9]+$/.test(c))) out.disambiguatedPaths[dotted] = path.map((c) => (typeof c === 'number' ? new Int32(c) : c));
  return dotted;
}

function diffDocuments(before: Document, after: Document, path: Component[], out: UpdateDiff): void {
  for (const k of Object.keys(before)) if (!(k in after) || after[k] === undefined) out.removedFields.push(note([...path, k], out));
  for (const k of Object.keys(after)) {
    const b = before[k];
    const a = after[k];
    if (a === undefined) continue;
    diffValue(b, a, [...path, k], out, !(k in before));
  }
}

function diffValue(b: BsonValue, a: BsonValue, path: Component[], out: UpdateDiff, added: boolean): void {
  if (!added && sameValue(b, a)) return;
  if (!added && isDocument(b) && isDocument(a)) return diffDocuments(b, a, path, out);
  if (!added && Array.isArray(b) && Array.isArray(a)) return diffArrays(b, a, path, out);
  out.updatedFields[note(path, out)] = a;
}

function diffArrays(before: BsonValue[], after: BsonValue[], path: Component[], out: UpdateDiff): void {
  if (after.length < before.length) out.truncatedArrays.push({ field: note(path, out), newSize: new Int32(after.length) });
  after.forEach((a, i) => {
    if (i >= before.length) out.updatedFields[note([...path, i], out)] = a;
    else diffValue(before[i], a, [...path, i], out, false);
  });
}
