/**
 * Field paths as the update system sees them (mongod's FieldRef and fieldchecker), plus the small
 * document-navigation helpers the update and projection code share. Documents are plain objects;
 * their BSON field order is Object.keys order except for keys JavaScript lists first ("0", "12"),
 * which bson/key-order.ts tracks, so fields are always added through `setField` (which also keeps
 * defineProperty-safe writes: "__proto__" is a legal BSON field name) and read in `orderedKeys`.
 */
import { fail } from '../../base/index.js';
import { isDocument, noteFieldAdded, orderedKeys, type BsonValue, type Document } from '../../bson/index.js';

export function hasField(doc: Document, name: string): boolean {
  return Object.prototype.hasOwnProperty.call(doc, name);
}

export function getField(doc: Document, name: string): BsonValue {
  return hasField(doc, name) ? doc[name] : undefined;
}

/** Sets (or appends) a field without ever touching the prototype chain. */
export function setField(doc: Document, name: string, value: BsonValue): void {
  const exists = hasField(doc, name);
  if (!exists && !Array.isArray(doc)) noteFieldAdded(doc, name);
  if (name === '__proto__' || !exists) {
    Object.defineProperty(doc, name, { value, writable: true, enumerable: true, configurable: true });
  } else {
    doc[name] = value;
  }
}

/** Copies the containers (documents and arrays) of a value; leaves are immutable and shared. */
export function cloneContainers(v: BsonValue): BsonValue {
  if (Array.isArray(v)) return v.map(cloneContainers);
  if (isDocument(v) && (v as { _bsontype?: string })._bsontype === undefined) {
    const out: Document = {};
    for (const k of orderedKeys(v as Document)) setField(out, k, cloneContainers((v as Document)[k]));
    return out;
  }
  return v;
}

/** parseUnsignedBase10Integer: digits only (leading zeros allowed), as array indexes in update paths. */
export function parseArrayIndex(part: string): number | undefined {
  if (part.length === 0 || !/^\d+$/.test(part)) return undefined;
  const n = Number(part);
  return Number.isSafeInteger(n) ? n : undefined;
}

export function isPositionalPart(part: string): boolean {
  return part === '$';
}

/** `$[]` or `$[<identifier>]`. */
export function isArrayFilterPart(part: string): boolean {
  return part.length >= 3 && part.startsWith('$[') && part.endsWith(']');
}

/** fieldchecker::isUpdatable: no empty path, no empty component. */
export function parseUpdatePath(path: string): string[] {
  if (path.length === 0) fail('EmptyFieldName', 'An empty update path is not valid.');
  const parts = path.split('.');
  if (parts.some((p) => p.length === 0)) {
    fail('EmptyFieldName', `The update path '${path}' contains an empty field name, which is not allowed.`);
  }
  return parts;
}

/**
 * pathsupport::cmpPathsAndArrayIndexes: the order in which mongod applies sibling updates. Field
 * names compare bytewise, except that two canonical numbers (array indexes) compare numerically.
 */
export function comparePathParts(a: string, b: string): number {
  const numeric = (s: string): boolean => s.length > 0 && /^\d/.test(s) && !(s[0] === '0' && s.length > 1);
  if (!numeric(a) || !numeric(b)) return byteCompare(a, b);
  const an = /^\d+$/.test(a);
  const bn = /^\d+$/.test(b);
  if (an && bn && a.length !== b.length) return a.length - b.length;
  return byteCompare(a, b);
}

function byteCompare(a: string, b: string): number {
  if (a === b) return 0;
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
