/**
 * Reading a parsed filter: traversal, the equality predicates an upsert seeds its document
 * with, the paths a filter reads, and serialization in mongod's explain `parsedQuery` form.
 */
import { BSONRegExp, Long, type BsonValue, type Document } from '../../bson/index.js';
import type { FilterNode, PathNode } from './types.js';

const PATH_KINDS: ReadonlySet<FilterNode['kind']> = new Set([
  'comparison', 'regex', 'in', 'exists', 'type', 'mod', 'size', 'bitTest', 'elemMatchObject', 'elemMatchValue',
]);

export function isPathNode(node: FilterNode): node is PathNode {
  return PATH_KINDS.has(node.kind);
}

/** The direct children of a node (`$elemMatch` object form's sub-filter counts as a child). */
export function childrenOf(node: FilterNode): readonly FilterNode[] {
  switch (node.kind) {
    case 'and':
    case 'or':
    case 'nor':
    case 'elemMatchValue':
      return node.children;
    case 'not':
    case 'elemMatchObject':
      return [node.child];
    default:
      return [];
  }
}

/**
 * Visits every node depth-first, parents before children. Returning false from `visit` skips
 * the node's subtree. Iterative, so deep filters cannot overflow the stack.
 */
export function walkFilter(root: FilterNode, visit: (node: FilterNode, depth: number) => boolean | void): void {
  const stack: Array<[FilterNode, number]> = [[root, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (visit(node, depth) === false) continue;
    const children = childrenOf(node);
    for (let i = children.length - 1; i >= 0; i--) stack.push([children[i]!, depth + 1]);
  }
}

/** The top-level conjuncts of a filter: the children of top-level (and nested) `and` nodes. */
export function topLevelConjuncts(node: FilterNode): FilterNode[] {
  if (node.kind !== 'and') return [node];
  const out: FilterNode[] = [];
  for (const c of node.children) out.push(...topLevelConjuncts(c));
  return out;
}

/**
 * The `path = value` facts a filter's top-level conjuncts assert: `$eq` (explicit or implicit)
 * and single-value `$in`, as mongod uses them to seed the document an upsert inserts. Regexes and
 * predicates under `$or`/`$not`/`$elemMatch` are not facts and are left out.
 */
export function collectEqualities(node: FilterNode): Array<{ path: string; value: BsonValue }> {
  const out: Array<{ path: string; value: BsonValue }> = [];
  for (const c of topLevelConjuncts(node)) {
    if (c.kind === 'comparison' && c.op === '$eq') out.push({ path: c.path, value: c.value });
    else if (c.kind === 'in' && c.values.length === 1 && c.regexes.length === 0) out.push({ path: c.path, value: c.values[0] });
  }
  return out;
}

/** True when the filter is only equalities (`{a: 1, b: {$eq: 2}}`), as the `_id` fast paths want. */
export function isEqualityOnly(node: FilterNode): boolean {
  return topLevelConjuncts(node).every((c) => c.kind === 'comparison' && c.op === '$eq');
}

/** The single `$eq` value the filter fixes for `path` at the top level, if any. */
export function equalityValueFor(node: FilterNode, path: string): { value: BsonValue } | undefined {
  for (const c of topLevelConjuncts(node)) {
    if (c.kind === 'comparison' && c.op === '$eq' && c.path === path) return { value: c.value };
  }
  return undefined;
}

/** Every dotted path the filter reads, at any depth (paths inside `$elemMatch` are relative). */
export function referencedPaths(node: FilterNode): Set<string> {
  const out = new Set<string>();
  walkFilter(node, (n) => {
    if (isPathNode(n) && n.path !== '') out.add(n.path);
  });
  return out;
}

/** True if the filter needs `$expr`, `$jsonSchema` or other whole-document predicates. */
export function hasWholeDocumentPredicate(node: FilterNode): boolean {
  let found = false;
  walkFilter(node, (n) => {
    if (n.kind === 'expr' || n.kind === 'jsonSchema') found = true;
    return !found;
  });
  return found;
}

function int64(v: bigint): BsonValue {
  return v >= -2147483648n && v <= 2147483647n ? Number(v) : Long.fromBigInt(v);
}

/** The `{$op: operand}` document of a path node (without its path). */
export function serializeOperand(node: PathNode): Document {
  switch (node.kind) {
    case 'comparison':
      return { [node.op]: node.value };
    case 'regex':
      return node.flags === '' ? { $regex: node.pattern } : { $regex: node.pattern, $options: node.flags };
    case 'in':
      return { $in: [...node.values, ...node.regexes.map(regexValue)] };
    case 'exists':
      return { $exists: true };
    case 'type':
      return { $type: node.operand };
    case 'mod':
      return { $mod: [int64(node.divisor), int64(node.remainder)] };
    case 'size':
      return { $size: node.size };
    case 'bitTest':
      return { [node.op]: [...node.positions] };
    case 'elemMatchObject':
      return { $elemMatch: serializeFilter(node.child) };
    case 'elemMatchValue': {
      const merged: Document = {};
      for (const c of node.children) Object.assign(merged, serializeValueOperand(c));
      return { $elemMatch: merged };
    }
  }
}

function regexValue(node: { pattern: string; flags: string }): BsonValue {
  return new BSONRegExp(node.pattern, node.flags);
}

function serializeValueOperand(node: FilterNode): Document {
  if (isPathNode(node)) return serializeOperand(node);
  if (node.kind === 'not') return { $not: serializeValueOperand(node.child) };
  if (node.kind === 'and') {
    const merged: Document = {};
    for (const c of node.children) Object.assign(merged, serializeValueOperand(c));
    return merged;
  }
  return serializeFilter(node);
}

/** The filter as a query document, in the shape mongod prints as explain's `parsedQuery`. */
export function serializeFilter(node: FilterNode): Document {
  switch (node.kind) {
    case 'and':
      return node.children.length === 0 ? {} : { $and: node.children.map(serializeFilter) };
    case 'or':
      return { $or: node.children.map(serializeFilter) };
    case 'nor':
      return { $nor: node.children.map(serializeFilter) };
    case 'not': {
      const c = node.child;
      if (isPathNode(c)) return { [c.path]: { $not: serializeOperand(c) } };
      if (c.kind === 'and' && c.children.length > 0 && c.children.every((x) => isPathNode(x) && x.path === (c.children[0] as PathNode).path)) {
        const merged: Document = {};
        for (const x of c.children) Object.assign(merged, serializeOperand(x as PathNode));
        return { [(c.children[0] as PathNode).path]: { $not: merged } };
      }
      return { $nor: [serializeFilter(c)] };
    }
    case 'alwaysTrue':
      return { $alwaysTrue: 1 };
    case 'alwaysFalse':
      return { $alwaysFalse: 1 };
    case 'expr':
      return { $expr: node.expression };
    case 'jsonSchema':
      return { $jsonSchema: node.schema };
    default:
      return { [node.path]: serializeOperand(node) };
  }
}
