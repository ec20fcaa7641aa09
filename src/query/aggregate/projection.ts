/**
 * The projection stages' trees: $project (inclusion with computed fields, or exclusion),
 * $addFields/$set (computed fields merged into the document) and $unset (exclusion).
 * Paths through arrays apply to each document element, as mongod's projection executor does.
 */
import { failLocation } from '../../base/index.js';
import { isDocument, orderedKeys, typeNameOf, type BsonValue, type Document } from '../../bson/index.js';
import { parseExpression, parseFieldPath, type Expression, type Scope, type Variables } from './expression.js';
import { setField, toBool } from './values.js';

type Leaf = { kind: 'include' } | { kind: 'exclude' } | { kind: 'computed'; expr: Expression };
export interface ProjectionNode {
  kind: 'node';
  children: Map<string, ProjectionNode | Leaf>;
  hasComputed: boolean;
}

export interface ParsedProjection {
  type: 'inclusion' | 'exclusion' | 'addFields';
  root: ProjectionNode;
}

function newNode(): ProjectionNode {
  return { kind: 'node', children: new Map(), hasComputed: false };
}

/** true/false/number: an inclusion flag; anything else is an expression. */
function isFlag(v: BsonValue): boolean {
  const t = typeNameOf(v);
  return t === 'bool' || t === 'int' || t === 'long' || t === 'double' || t === 'decimal';
}

function flagValue(v: BsonValue): boolean {
  return toBool(v);
}

function isOperatorObject(v: BsonValue): boolean {
  if (!isDocument(v)) return false;
  const first = Object.keys(v)[0];
  return first !== undefined && first.startsWith('$');
}

interface Builder {
  mode: 'project' | 'addFields';
  scope: Scope;
  type: 'inclusion' | 'exclusion' | undefined;
  stageName: string;
}

function insertPath(b: Builder, root: ProjectionNode, path: string[], leaf: Leaf | 'subtree', sub: Document | undefined, fullPath: string): void {
  let node = root;
  for (let i = 0; i < path.length - 1; i++) {
    const part = path[i]!;
    const existing = node.children.get(part);
    if (existing && existing.kind !== 'node') failLocation(31250, `Path collision at ${path.slice(0, i + 1).join('.')}`);
    let next = existing as ProjectionNode | undefined;
    if (!next) {
      next = newNode();
      node.children.set(part, next);
    }
    node = next;
  }
  const last = path[path.length - 1]!;
  if (node.children.has(last)) {
    const existing = node.children.get(last)!;
    if (existing.kind === 'node' || leaf === 'subtree') failLocation(31250, `Path collision at ${fullPath}`);
    failLocation(31250, `Path collision at ${fullPath}`);
  }
  if (leaf === 'subtree') {
    const child = newNode();
    node.children.set(last, child);
    parseInto(b, child, sub!, `${fullPath}.`);
  } else {
    node.children.set(last, leaf);
  }
}

function parseInto(b: Builder, node: ProjectionNode, spec: Document, prefix: string): void {
  for (const key of orderedKeys(spec)) {
    const v = spec[key];
    const path = parseFieldPath(key);
    const full = `${prefix}${key}`;
    if (b.mode === 'project' && isFlag(v)) {
      const include = flagValue(v);
      if (full === '_id') {
        insertPath(b, node, path, include ? { kind: 'include' } : { kind: 'exclude' }, undefined, full);
        continue;
      }
      if (include) {
        if (b.type === 'exclusion') failLocation(31253, `Cannot do inclusion on field ${full} in exclusion projection`);
        b.type = 'inclusion';
        insertPath(b, node, path, { kind: 'include' }, undefined, full);
      } else {
        if (b.type === 'inclusion') failLocation(31254, `Cannot do exclusion on field ${full} in inclusion projection`);
        b.type = 'exclusion';
        insertPath(b, node, path, { kind: 'exclude' }, undefined, full);
      }
      continue;
    }
    if (isDocument(v) && !isOperatorObject(v) && Object.keys(v).length > 0 && (v as { _bsontype?: string })._bsontype === undefined) {
      insertPath(b, node, path, 'subtree', v, full);
      continue;
    }
    if (isDocument(v) && Object.keys(v).length === 0 && b.mode === 'project') {
      failLocation(51270, `An empty sub-projection is not a valid value. Found empty object at path`);
    }
    // A computed field.
    if (b.mode === 'project') {
      if (b.type === 'exclusion') failLocation(31252, `Cannot use expression other than $meta in exclusion projection`);
      b.type = 'inclusion';
    }
    insertPath(b, node, path, { kind: 'computed', expr: parseExpression(v, b.scope) }, undefined, full);
  }
  node.hasComputed = [...node.children.values()].some((c) => c.kind === 'computed' || (c.kind === 'node' && c.hasComputed));
}

/** Parses a $project / $addFields specification. */
export function parseProjectionStage(spec: Document, scope: Scope, mode: 'project' | 'addFields'): ParsedProjection {
  const b: Builder = { mode, scope, type: undefined, stageName: mode === 'project' ? '$project' : '$addFields' };
  const root = newNode();
  parseInto(b, root, spec, '');
  if (mode === 'addFields') return { type: 'addFields', root };
  // _id alone: `{_id: 0}` is an exclusion, `{_id: 1}` an inclusion.
  const type = b.type ?? (root.children.get('_id')?.kind === 'exclude' ? 'exclusion' : 'inclusion');
  if (type === 'inclusion' && !root.children.has('_id')) {
    // _id is included unless excluded explicitly; put it first, as mongod's output has it.
    const children = new Map<string, ProjectionNode | Leaf>([['_id', { kind: 'include' }]]);
    for (const [k, c] of root.children) children.set(k, c);
    root.children = children;
  }
  return { type, root };
}

/** $unset's list of paths as an exclusion projection. */
export function parseUnset(paths: string[]): ParsedProjection {
  const root = newNode();
  const b: Builder = { mode: 'project', scope: undefined as unknown as Scope, type: 'exclusion', stageName: '$unset' };
  for (const p of paths) insertPath(b, root, parseFieldPath(p), { kind: 'exclude' }, undefined, p);
  return { type: 'exclusion', root };
}

export function applyProjection(p: ParsedProjection, doc: Document, vars: Variables): Document {
  switch (p.type) {
    case 'inclusion':
      return applyInclusion(p.root, doc, vars, true);
    case 'exclusion':
      return applyExclusion(p.root, doc);
    case 'addFields':
      return applyAddFields(p.root, doc, vars);
  }
}

function applyInclusion(node: ProjectionNode, doc: Document, vars: Variables, root = false): Document {
  const out: Document = {};
  const keys = orderedKeys(doc).slice();
  // The top-level _id comes first in the output, whatever its place in the input.
  if (root && node.children.get('_id')?.kind === 'include' && keys.includes('_id')) keys.unshift(...keys.splice(keys.indexOf('_id'), 1));
  for (const key of keys) {
    const child = node.children.get(key);
    if (!child || child.kind === 'exclude' || child.kind === 'computed') continue;
    const v = doc[key];
    if (v === undefined) continue;
    if (child.kind === 'include') setField(out, key, v);
    else if (isDocument(v)) setField(out, key, applyInclusion(child, v, vars));
    else if (Array.isArray(v)) setField(out, key, inclusionArray(child, v, vars));
    else if (child.hasComputed) setField(out, key, applyInclusion(child, {}, vars));
  }
  for (const [key, child] of node.children) {
    if (child.kind === 'computed') {
      const v = child.expr.evaluate(vars);
      if (v !== undefined) setField(out, key, v);
      else if (Object.prototype.hasOwnProperty.call(out, key)) delete out[key];
    } else if (child.kind === 'node' && child.hasComputed && !Object.prototype.hasOwnProperty.call(doc, key)) {
      setField(out, key, applyInclusion(child, {}, vars));
    }
  }
  return out;
}

function inclusionArray(node: ProjectionNode, arr: BsonValue[], vars: Variables): BsonValue[] {
  const out: BsonValue[] = [];
  for (const el of arr) {
    if (isDocument(el)) out.push(applyInclusion(node, el, vars));
    else if (Array.isArray(el)) out.push(inclusionArray(node, el, vars));
    else if (node.hasComputed) out.push(applyInclusion(node, {}, vars));
  }
  return out;
}

function applyExclusion(node: ProjectionNode, doc: Document): Document {
  const out: Document = {};
  for (const key of orderedKeys(doc)) {
    const v = doc[key];
    if (v === undefined) continue;
    const child = node.children.get(key);
    if (!child || child.kind === 'include') setField(out, key, v);
    else if (child.kind === 'exclude') continue;
    else if (child.kind === 'node') {
      if (isDocument(v)) setField(out, key, applyExclusion(child, v));
      else if (Array.isArray(v)) setField(out, key, exclusionArray(child, v));
      else setField(out, key, v);
    }
  }
  return out;
}

function exclusionArray(node: ProjectionNode, arr: BsonValue[]): BsonValue[] {
  return arr.map((el) => (isDocument(el) ? applyExclusion(node, el) : Array.isArray(el) ? exclusionArray(node, el) : el));
}

function applyAddFields(node: ProjectionNode, doc: Document, vars: Variables): Document {
  const out: Document = {};
  for (const key of orderedKeys(doc)) if (doc[key] !== undefined) setField(out, key, doc[key]);
  for (const [key, child] of node.children) {
    if (child.kind === 'computed') {
      const v = child.expr.evaluate(vars);
      if (v === undefined) delete out[key];
      else setField(out, key, v);
    } else if (child.kind === 'node') {
      const cur = out[key];
      let next: BsonValue;
      if (isDocument(cur) && Object.prototype.hasOwnProperty.call(out, key)) next = applyAddFields(child, cur, vars);
      else if (Array.isArray(cur)) next = addFieldsArray(child, cur, vars);
      else next = applyAddFields(child, {}, vars);
      setField(out, key, next);
    }
  }
  return out;
}

function addFieldsArray(node: ProjectionNode, arr: BsonValue[], vars: Variables): BsonValue[] {
  return arr.map((el) => (isDocument(el) ? applyAddFields(node, el, vars) : Array.isArray(el) ? addFieldsArray(node, el, vars) : applyAddFields(node, {}, vars)));
}
