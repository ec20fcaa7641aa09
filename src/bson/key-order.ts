/**
 * BSON field order for documents whose keys JavaScript would reorder.
 *
 * A plain object lists "array index" keys ("0", "12": canonical integers below 2^32 - 1) first, in
 * numeric order, whatever order they were added in; BSON (and mongod) keep insertion order. Such
 * keys are rare, so the common document pays nothing: only a document holding one carries its
 * BSON order in a non-enumerable symbol property (invisible to Object.keys, spreads, JSON and
 * deepEqual), plus a non-enumerable `toBSON` that the `bson` serializer calls on every value it
 * writes. While `encodeDocument` runs, `toBSON` answers a Map in BSON order (the serializer keeps
 * a Map's insertion order); at any other time (e.g. `calculateObjectSize`, which cannot size a Map)
 * it answers the object itself.
 *
 * The recorded order may go stale as code edits the object: `orderedKeys` reconciles it with the
 * object's own keys (fields removed are dropped; fields added later keep their place among the
 * non-index keys and land after the index keys recorded next to them, so appended fields go last,
 * as mongod appends them, and a field put first by a copy such as `{ _id, ...doc }` stays first).
 */
import type { BsonValue, Document } from './values.js';

const KEY_ORDER: unique symbol = Symbol('dossier.bsonKeyOrder');

type Ordered = Document & { [KEY_ORDER]?: string[] };

let emittingBson = false;

function orderedToBSON(this: Document): Document | Map<string, BsonValue> {
  if (!emittingBson) return this;
  return toOrderedMap(this);
}

function toOrderedMap(doc: Document): Map<string, BsonValue> {
  const map = new Map<string, BsonValue>();
  for (const k of orderedKeys(doc)) map.set(k, doc[k]);
  return map;
}

/**
 * Runs `write` (a `bson` serialization) with tagged documents emitting their BSON order. Returns
 * what `write` returns; the root document, whose `toBSON` the serializer does not consult for a
 * Map, is handed over as a Map itself when tagged.
 */
export function withBsonOrder<T>(doc: Document, write: (root: Document | Map<string, BsonValue>) => T): T {
  const previous = emittingBson;
  emittingBson = true;
  try {
    return write((doc as Ordered)[KEY_ORDER] !== undefined ? toOrderedMap(doc) : doc);
  } finally {
    emittingBson = previous;
  }
}

/** Whether JavaScript lists `k` among an object's integer keys, ahead of the others. */
export function isArrayIndexKey(k: string): boolean {
  const c = k.charCodeAt(0);
  if (!(c >= 0x30 && c <= 0x39)) return false;
  const n = k.length;
  if (n > 10 || (c === 0x30 && n > 1)) return false;
  for (let i = 1; i < n; i++) {
    const d = k.charCodeAt(i);
    if (!(d >= 0x30 && d <= 0x39)) return false;
  }
  return n < 10 || Number(k) <= 4294967294;
}

function hasOwn(o: object, k: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, k);
}

/** Records `keys` (which must be `doc`'s own keys, each once) as `doc`'s BSON order. */
export function setKeyOrder(doc: Document, keys: string[]): void {
  const o = doc as Ordered;
  if (o[KEY_ORDER] === undefined) {
    Object.defineProperty(o, KEY_ORDER, { value: keys, writable: true, enumerable: false, configurable: true });
    // A field really named "toBSON" (possible in BSON) keeps its value; that document then
    // comes back in JavaScript order, the one case not handled.
    if (!hasOwn(o, 'toBSON')) Object.defineProperty(o, 'toBSON', { value: orderedToBSON, writable: true, enumerable: false, configurable: true });
  } else {
    o[KEY_ORDER] = keys;
  }
}

/** Whether `doc` carries a BSON order that differs from what Object.keys would say. */
export function hasKeyOrder(doc: Document): boolean {
  return (doc as Ordered)[KEY_ORDER] !== undefined;
}

/** The BSON field order of a document: Object.keys unless it holds keys JavaScript reorders. */
export function orderedKeys(doc: Document): string[] {
  const rec = (doc as Ordered)[KEY_ORDER];
  const own = Object.keys(doc);
  if (rec === undefined) return own;
  if (rec.length === own.length && rec.every((k) => hasOwn(doc, k))) return rec;
  const out = rec.filter((k) => hasOwn(doc, k));
  const recorded = new Set(rec);
  let prev: string | undefined;
  for (const k of own) {
    if (isArrayIndexKey(k)) continue;
    if (!recorded.has(k)) {
      let at = 0;
      if (prev !== undefined) {
        at = out.indexOf(prev) + 1;
        while (at < out.length && isArrayIndexKey(out[at]!)) at++;
      }
      out.splice(at, 0, k);
    }
    prev = k;
  }
  for (const k of own) if (isArrayIndexKey(k) && !recorded.has(k)) out.push(k);
  return out;
}

/**
 * Call before adding the new own field `name` to `doc` (not an array): keeps the BSON order
 * right when `name` is an index key (JavaScript would put it first, mongod appends it) or when
 * `doc` already carries an order. Costs one character test otherwise.
 */
export function noteFieldAdded(doc: Document, name: string): void {
  const o = doc as Ordered;
  const rec = o[KEY_ORDER];
  if (rec !== undefined) {
    const keys = orderedKeys(doc).filter((k) => k !== name);
    keys.push(name);
    o[KEY_ORDER] = keys;
  } else if (isArrayIndexKey(name)) {
    const keys = Object.keys(doc);
    keys.push(name);
    setKeyOrder(doc, keys);
  }
}

/** A plain document (not a DBRef or other class instance) whose own keys we may tag. */
function isPlainDocument(v: BsonValue): v is Document {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function readInt32(b: Uint8Array, at: number): number {
  return b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24);
}

const decoder = new TextDecoder('utf-8');

/** A field name from its bytes; short ASCII names (nearly all) skip the UTF-8 decoder's call cost. */
function fieldName(bytes: Uint8Array, start: number, end: number): string {
  if (end - start <= 24) {
    let s = '';
    for (let i = start; i < end; i++) {
      const c = bytes[i]!;
      if (c >= 0x80) return decoder.decode(bytes.subarray(start, end));
      s += String.fromCharCode(c);
    }
    return s;
  }
  return decoder.decode(bytes.subarray(start, end));
}

/**
 * Walks the BSON bytes of `value` (the document or array decoded from `bytes[at]`) beside it and
 * records the field order of every embedded document with an index key. The bytes are already
 * validated and decoded, so lengths are trusted.
 */
function restoreAt(bytes: Uint8Array, at: number, value: Document | BsonValue[], isArray: boolean): void {
  const end = at + readInt32(bytes, at);
  let pos = at + 4;
  let index = 0;
  const keys: string[] | undefined = isArray ? undefined : [];
  let reordered = false;
  while (pos < end - 1) {
    const type = bytes[pos]!;
    const nameStart = pos + 1;
    let nul = nameStart;
    while (bytes[nul] !== 0) nul++;
    let child: BsonValue;
    if (keys !== undefined) {
      const name = fieldName(bytes, nameStart, nul);
      keys.push(name);
      if (!reordered && isArrayIndexKey(name)) reordered = true;
      child = (value as Document)[name];
    } else {
      child = (value as BsonValue[])[index++];
    }
    pos = nul + 1;
    if (type === 0x03 || type === 0x04) {
      if (type === 0x04 ? Array.isArray(child) : isPlainDocument(child)) restoreAt(bytes, pos, child as Document | BsonValue[], type === 0x04);
    }
    const next = valueEnd(bytes, pos, type);
    if (next < 0) return; // not reachable on validated input; stop rather than misread
    pos = next;
  }
  if (reordered && keys !== undefined) {
    // BSON allows a repeated field name; the decoded object holds it once, at its first place.
    setKeyOrder(value as Document, keys.length === new Set(keys).size ? keys : [...new Set(keys)]);
  }
}

/** Records the BSON order of every document in `doc` (decoded from `bytes`) that JavaScript reorders. */
export function restoreKeyOrder(bytes: Uint8Array, doc: Document): void {
  restoreAt(bytes, 0, doc, false);
}

/**
 * Whether the BSON document in `bytes` has, in some embedded document (not array), a field name
 * starting with a digit: a cheap over-approximation of "JavaScript would reorder it".
 */
export function mayHaveIndexKeys(bytes: Uint8Array): boolean {
  return scanForDigitKeys(bytes, 0, false);
}

function scanForDigitKeys(bytes: Uint8Array, at: number, isArray: boolean): boolean {
  const end = at + readInt32(bytes, at);
  let pos = at + 4;
  while (pos < end - 1) {
    const type = bytes[pos]!;
    if (!isArray) {
      const c = bytes[pos + 1]!;
      if (c >= 0x30 && c <= 0x39) return true;
    }
    pos++;
    while (bytes[pos] !== 0) pos++;
    pos++;
    if ((type === 0x03 || type === 0x04) && scanForDigitKeys(bytes, pos, type === 0x04)) return true;
    const next = valueEnd(bytes, pos, type);
    if (next < 0) return true; // unknown: let the exact walk decide
    pos = next;
  }
  return false;
}

/** Where the value of BSON type `type` starting at `pos` ends; -1 for a type this walk does not know. */
function valueEnd(bytes: Uint8Array, pos: number, type: number): number {
  switch (type) {
    case 0x01: case 0x09: case 0x11: case 0x12: return pos + 8;
    case 0x07: return pos + 12;
    case 0x10: return pos + 4;
    case 0x13: return pos + 16;
    case 0x08: return pos + 1;
    case 0x06: case 0x0a: case 0xff: case 0x7f: return pos;
    case 0x02: case 0x0d: case 0x0e: return pos + 4 + readInt32(bytes, pos);
    case 0x0c: return pos + 4 + readInt32(bytes, pos) + 12;
    case 0x05: return pos + 5 + readInt32(bytes, pos);
    case 0x03: case 0x04: case 0x0f: return pos + readInt32(bytes, pos);
    case 0x0b: {
      let p = pos;
      while (bytes[p] !== 0) p++;
      p++;
      while (bytes[p] !== 0) p++;
      return p + 1;
    }
    default:
      return -1;
  }
}
