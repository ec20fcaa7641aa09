/**
 * The delta of an update, as change streams report it (`updateDescription`).
 *
 * mongod logs an update as a `$v: 2` diff and derives the event from it. Dossier's `u` entries
 * keep the whole new document, because recovery replays full documents; the delta is computed
 * once at commit and stored beside `o` in the entry's `diff` field, so a change stream can
 * describe the update without the pre-image.
 *
 * An operator update's delta comes from the fields its operators changed (`updateDiffFromPaths`),
 * as mongod's update system logs them. A pipeline update's is the diff of the versions before and
 * after (`updateDiff`), following mongod's diff of two documents: a field whose value changed type or value is
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

/**
 * A field an operator update changed, as mongod's update system logs it (v2_log_builder): the
 * whole value at `path` was set or created, or (`removed`) the field was unset. `path` holds the
 * concrete field names and array indices taken.
 */
export interface ModifiedPath {
  path: readonly string[];
  removed: boolean;
}

/**
 * The delta of an operator update from the fields it changed: each logged path reports its whole
 * new value (so `$set: {a: {b: 1}}` reports `a`, and `$pull` the array), as mongod's events do.
 * A path inside another logged one is covered by it.
 */
export function updateDiffFromPaths(before: Document, after: Document, paths: readonly ModifiedPath[]): UpdateDiff {
  const out: UpdateDiff = { updatedFields: {}, removedFields: [], truncatedArrays: [], disambiguatedPaths: {} };
  const dotted = paths.map((p) => p.path.join('.'));
  paths.forEach((p, i) => {
    const me = dotted[i]!;
    if (dotted.some((other, j) => j !== i && (me.startsWith(`${other}.`) || (other === me && j > i)))) return;
    const components = componentsOf(p.removed ? before : after, p.path);
    if (!components) return;
    const key = note(components, out);
    if (p.removed) out.removedFields.push(key);
    else out.updatedFields[key] = valueAt(after, p.path);
  });
  return out;
}

/** The path's components typed by what they step through: array indices as numbers. */
function componentsOf(doc: Document, path: readonly string[]): Component[] | undefined {
  const out: Component[] = [];
  let cur: BsonValue = doc;
  for (const part of path) {
    if (Array.isArray(cur)) {
      out.push(Number(part));
      cur = cur[Number(part)];
    } else {
      out.push(part);
      cur = isDocument(cur) ? cur[part] : undefined;
    }
  }
  return out;
}

function valueAt(doc: Document, path: readonly string[]): BsonValue {
  let cur: BsonValue = doc;
  for (const part of path) cur = Array.isArray(cur) ? cur[Number(part)] : isDocument(cur) ? cur[part] : undefined;
  return cur === undefined ? null : cur;
}

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
