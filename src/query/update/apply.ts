/**
 * Applying a parsed update to one document, as mongod's UpdateNode::apply does: the tree is walked
 * in mongod's order (children by field name, array indexes numerically), each leaf either updates
 * an existing element, creates the missing part of its path, or is a no-op. The input document is
 * never mutated: the work happens on a copy of its containers.
 */
import { fail } from '../../base/index.js';
import {
  compareValues, encodeDocument, isDocument, nestingDepth, orderedKeys, typeNameOf, type BsonValue, type Collator, type Document,
} from '../../bson/index.js';
import { BSON_DEPTH_MAX } from '../../base/index.js';
import { formatElement, formatValue, idElementString } from './format.js';
import { debugString, fromSafeNum, isIdentical, safeAdd, safeBit, safeMul, toSafeNum, type SafeNum } from './numeric.js';
import type { ApplyContext, ArrayNode, LeafNode, LeafOp, ObjectNode, ParsedUpdate, PushSort, UpdateNode } from './parse.js';
import { cloneContainers, comparePathParts, getField, hasField, parseArrayIndex, setField } from './paths.js';
import { validateIdField } from './storable.js';
import type { ModifiedPath } from '../../storage/index.js';

/** pathsupport::kMaxPaddingAllowed: the most nulls an update may add to reach an array index. */
const ARRAY_PADDING_MAX = 1_500_000;

export interface ApplyResult {
  doc: Document;
  modified: boolean;
  /** An operator update: the fields it changed, as mongod's update system logs them (for the oplog's delta). */
  modifiedPaths?: ModifiedPath[];
}

interface State {
  ctx: ApplyContext;
  root: Document;
  /** The original document's `_id` may not change (all updates but an upsert's insert). */
  idImmutable: boolean;
  modified: boolean;
  /** Array filters by identifier: does this array element match? */
  filters: Map<string, (element: BsonValue) => boolean>;
  /** What each operator changed, in the order applied. */
  logged: ModifiedPath[];
}

/** A place in the document: the container holding an existing element and its key there. */
interface Elem {
  holder: Document | BsonValue[] | undefined;
  key: string;
  value: BsonValue;
}

export function applyUpdate(parsed: ParsedUpdate, doc: Document, ctx: ApplyContext): ApplyResult {
  switch (parsed.kind) {
    case 'replacement':
      return applyReplacement(parsed.replacement, doc, ctx);
    case 'pipeline':
      return applyPipelineResult(parsed.apply(doc, ctx), doc, ctx);
    case 'modifier': {
      const root = cloneContainers(doc) as Document;
      const filters = new Map<string, (element: BsonValue) => boolean>();
      for (const [id, f] of parsed.arrayFilters) filters.set(id, f.matches);
      const st: State = { ctx, root, idImmutable: !ctx.isUpsertInsert, modified: false, filters, logged: [] };
      applyObjectNode(st, parsed.root, { holder: undefined, key: '', value: root }, [], []);
      let out = root;
      if (ctx.isUpsertInsert && hasField(out, '_id') && orderedKeys(out)[0] !== '_id') out = idFirst(out);
      if (st.modified) validateUpdated(out);
      return { doc: out, modified: st.modified, modifiedPaths: st.logged };
    }
  }
}

function idFirst(doc: Document): Document {
  const out: Document = {};
  setField(out, '_id', doc['_id']);
  for (const k of orderedKeys(doc)) if (k !== '_id') setField(out, k, doc[k]);
  return out;
}

function validateUpdated(doc: Document): void {
  if (hasField(doc, '_id')) validateIdField(doc['_id']);
  if (nestingDepth(doc, BSON_DEPTH_MAX) > BSON_DEPTH_MAX) {
    fail('Overflow', `Document exceeds maximum nesting depth of ${BSON_DEPTH_MAX}`);
  }
}

/** Same BSON bytes: same types, values and field order. */
function identical(a: BsonValue, b: BsonValue): boolean {
  return encodeDocument({ v: a }).equals(encodeDocument({ v: b }));
}

// -----------------------------------------------------------------------------------------------
// Replacement.

/**
 * mongod stores a pipeline's output as a replacement of the document (pipeline_executor.cpp), so
 * an output without `_id` keeps the original one in front, and a changed `_id` is refused. Unlike
 * a replacement document, the output's Timestamp(0, 0) values are stored as they are.
 */
function applyPipelineResult(transformed: Document, doc: Document, ctx: ApplyContext): ApplyResult {
  if (identical(transformed, doc)) return { doc, modified: false };
  const out: Document = {};
  const transformedHasId = hasField(transformed, '_id');
  if (!transformedHasId && hasField(doc, '_id')) setField(out, '_id', doc['_id']);
  for (const k of Object.keys(transformed)) setField(out, k, transformed[k]);
  if (transformedHasId && !ctx.isUpsertInsert && hasField(doc, '_id') && compareValues(out['_id'], doc['_id']) !== 0) {
    fail('ImmutableField', `After applying the update, the (immutable) field '_id' was found to have been altered to ${formatElement('_id', out['_id'])}`);
  }
  validateUpdated(out);
  return { doc: out, modified: !identical(out, doc) };
}

function isZeroTimestamp(v: BsonValue): boolean {
  return typeNameOf(v) === 'timestamp' && (v as { high: number }).high === 0 && (v as { low: number }).low === 0;
}

function applyReplacement(replacement: Document, doc: Document, ctx: ApplyContext): ApplyResult {
  const out: Document = {};
  const replacementHasId = hasField(replacement, '_id');
  // Without an _id of its own, the replacement keeps the document's.
  if (!replacementHasId && hasField(doc, '_id')) setField(out, '_id', doc['_id']);
  for (const k of orderedKeys(replacement)) {
    let v = cloneContainers(replacement[k]);
    // mongod stamps top-level Timestamp(0, 0) values (other than _id) with the current time.
    if (k !== '_id' && isZeroTimestamp(v)) v = ctx.nowTimestamp();
    setField(out, k, v);
  }
  if (replacementHasId && !ctx.isUpsertInsert && hasField(doc, '_id')) {
    // Compared by value, so {_id: 1} may be replaced by {_id: 1.0} (the stored type follows the replacement).
    if (compareValues(out['_id'], doc['_id']) !== 0) {
      fail('ImmutableField', `After applying the update, the (immutable) field '_id' was found to have been altered to ${formatElement('_id', out['_id'])}`);
    }
  }
  validateUpdated(out);
  return { doc: out, modified: !identical(out, doc) };
}

// -----------------------------------------------------------------------------------------------
// Tree walk.

function sortedChildren(children: Map<string, UpdateNode>): Array<[string, UpdateNode]> {
  return [...children.entries()].sort((a, b) => comparePathParts(a[0], b[0]));
}

function applyNode(st: State, node: UpdateNode, elem: Elem, pathTaken: string[], pathToCreate: string[]): void {
  switch (node.type) {
    case 'object':
      return applyObjectNode(st, node, elem, pathTaken, pathToCreate);
    case 'array':
      return applyArrayNode(st, node, elem, pathTaken, pathToCreate);
    case 'leaf':
      return applyLeaf(st, node, elem, pathTaken, pathToCreate);
  }
}

function applyObjectNode(st: State, node: ObjectNode, elem: Elem, pathTaken: string[], pathToCreate: string[]): void {
  const matched = st.ctx.positionalMatch;
  let applyPositional = node.positional !== undefined;
  if (applyPositional && (matched === undefined || matched === '')) {
    fail('BadValue', 'The positional operator did not find the match needed from the query.');
  }
  for (const [field, child] of sortedChildren(node.children)) {
    if (applyPositional && field === matched) {
      // The positional child and a same-named child update one element: they merge (or conflict).
      const merged = mergeNodes(node.positional!, child, [...pathTaken, ...pathToCreate, field]);
      applyChild(st, merged, field, elem, pathTaken, pathToCreate);
      applyPositional = false;
      continue;
    }
    if (applyPositional && matched! < field) {
      applyChild(st, node.positional!, matched!, elem, pathTaken, pathToCreate);
      applyPositional = false;
    }
    applyChild(st, child, field, elem, pathTaken, pathToCreate);
  }
  if (applyPositional) applyChild(st, node.positional!, matched!, elem, pathTaken, pathToCreate);
}

function childOf(container: BsonValue, field: string): Elem | undefined {
  if (isDocument(container)) {
    return hasField(container, field) ? { holder: container, key: field, value: getField(container, field) } : undefined;
  }
  if (Array.isArray(container)) {
    const i = parseArrayIndex(field);
    return i !== undefined && i < container.length ? { holder: container, key: String(i), value: container[i] } : undefined;
  }
  return undefined;
}

function applyChild(st: State, child: UpdateNode, field: string, elem: Elem, pathTaken: string[], pathToCreate: string[]): void {
  // Earlier siblings may have created part of the missing path; continue from what exists now.
  let e = elem;
  const taken = [...pathTaken];
  let toCreate = [...pathToCreate];
  while (toCreate.length > 0) {
    const next = childOf(e.value, toCreate[0]!);
    if (!next) break;
    e = next;
    taken.push(toCreate.shift()!);
  }
  if (toCreate.length === 0) {
    const next = childOf(e.value, field);
    if (next) return applyNode(st, child, next, [...taken, field], []);
  }
  applyNode(st, child, e, taken, [...toCreate, field]);
}

function applyArrayNode(st: State, node: ArrayNode, elem: Elem, pathTaken: string[], pathToCreate: string[]): void {
  if (pathToCreate.length > 0) {
    fail('BadValue', `The path '${[...pathTaken, ...pathToCreate].join('.')}' must exist in the document in order to apply array updates.`);
  }
  if (!Array.isArray(elem.value)) {
    fail('BadValue', `Cannot apply array updates to non-array element ${formatElement(elem.key, elem.value)}`);
  }
  const arr = elem.value as BsonValue[];
  const children = sortedChildren(node.children);
  const filters = st.filters;
  const length = arr.length;
  for (let i = 0; i < length; i++) {
    const element = arr[i];
    const updates: Array<[string, UpdateNode]> = [];
    for (const [id, child] of children) {
      if (id === '' || filters.get(id)!(element)) updates.push([id, child]);
    }
    if (updates.length === 0) continue;
    const path = [...pathTaken, String(i)];
    let merged = updates[0]![1];
    for (let j = 1; j < updates.length; j++) merged = mergeNodes(merged, updates[j]![1], path);
    applyNode(st, merged, { holder: arr, key: String(i), value: arr[i] }, path, []);
  }
}

/** UpdateNode::createUpdateNodeByMerging. */
function mergeNodes(left: UpdateNode, right: UpdateNode, path: string[]): UpdateNode {
  if (left.type === 'object' && right.type === 'object') {
    const children = new Map<string, UpdateNode>();
    for (const name of new Set([...left.children.keys(), ...right.children.keys()])) {
      const l = left.children.get(name);
      const r = right.children.get(name);
      children.set(name, l && r ? mergeNodes(l, r, [...path, name]) : (l ?? r)!);
    }
    const merged: ObjectNode = { type: 'object', children };
    if (left.positional && right.positional) merged.positional = mergeNodes(left.positional, right.positional, [...path, '$']);
    else if (left.positional ?? right.positional) merged.positional = left.positional ?? right.positional;
    return merged;
  }
  if (left.type === 'array' && right.type === 'array') {
    const children = new Map<string, UpdateNode>();
    for (const id of new Set([...left.children.keys(), ...right.children.keys()])) {
      const l = left.children.get(id);
      const r = right.children.get(id);
      children.set(id, l && r ? mergeNodes(l, r, [...path, `$[${id}]`]) : (l ?? r)!);
    }
    return { type: 'array', children };
  }
  fail('ConflictingUpdateOperators', `Update created a conflict at '${path.join('.')}'`);
}

// -----------------------------------------------------------------------------------------------
// Leaves.

function writeExisting(st: State, elem: Elem, value: BsonValue, pathTaken: string[]): void {
  checkImmutableExisting(st, pathTaken);
  if (Array.isArray(elem.holder)) elem.holder[Number(elem.key)] = value;
  else if (elem.holder) setField(elem.holder, elem.key, value);
  elem.value = value;
  st.modified = true;
  st.logged.push({ path: [...pathTaken], removed: false });
}

function checkImmutableExisting(st: State, pathTaken: string[]): void {
  if (st.idImmutable && pathTaken[0] === '_id') {
    fail('ImmutableField', `Performing an update on the path '${pathTaken.join('.')}' would modify the immutable field '_id'`);
  }
}

/** UpdateLeafNode::checkViability: can the missing path be created under this element? */
function checkViability(elem: Elem, pathToCreate: string[], pathTaken: string[]): void {
  if (isDocument(elem.value)) return;
  if (Array.isArray(elem.value) && parseArrayIndex(pathToCreate[0]!) !== undefined) return;
  fail('PathNotViable', `Cannot create field '${pathToCreate[0]}' in element {${pathTaken.join('.')}: ${formatValue(elem.value)}}`);
}

/** pathsupport::createPathAt: builds the missing components (padding arrays with nulls). */
function createPath(st: State, elem: Elem, pathTaken: string[], pathToCreate: string[], value: BsonValue): void {
  checkViability(elem, pathToCreate, pathTaken);
  if (pathTaken.length === 0 && pathToCreate[0]!.startsWith('$')) {
    fail('DollarPrefixedFieldName', `The dollar ($) prefixed field '${pathToCreate[0]}' in '${pathToCreate[0]}' is not allowed in the context of an update's replacement document. Consider using an aggregation pipeline with $replaceWith.`);
  }
  if (st.idImmutable && (pathTaken[0] ?? pathToCreate[0]) === '_id') {
    fail('ImmutableField', `Updating the path '${[...pathTaken, ...pathToCreate].join('.')}' to ${formatElement(pathToCreate[pathToCreate.length - 1]!, value)} would modify the immutable field '_id'`);
  }
  let nested = value;
  for (let i = pathToCreate.length - 1; i >= 1; i--) {
    const d: Document = {};
    setField(d, pathToCreate[i]!, nested);
    nested = d;
  }
  const container = elem.value;
  if (Array.isArray(container)) {
    const index = parseArrayIndex(pathToCreate[0]!)!;
    if (index - container.length > ARRAY_PADDING_MAX) {
      fail('BadValue', `can't backfill more than ${ARRAY_PADDING_MAX} elements`);
    }
    while (container.length < index) container.push(null);
    container[index] = nested;
  } else {
    setField(container as Document, pathToCreate[0]!, nested);
  }
  st.modified = true;
  st.logged.push({ path: [...pathTaken, pathToCreate[0]!], removed: false });
}

function allowsCreation(op: LeafOp): boolean {
  switch (op.kind) {
    case 'unset':
    case 'pop':
    case 'pull':
    case 'renamePlaceholder':
      return false;
    default:
      return true;
  }
}

function applyLeaf(st: State, leaf: LeafNode, elem: Elem, pathTaken: string[], pathToCreate: string[]): void {
  const op = leaf.op;
  if (op.kind === 'renamePlaceholder') return;
  if (op.kind === 'rename') return applyRename(st, op, elem, pathTaken, pathToCreate);
  if (op.kind === 'set' && op.insertOnly && !st.ctx.isUpsertInsert) return;

  if (pathToCreate.length > 0) {
    if (!allowsCreation(op)) {
      // $pull/$pullAll on a missing path are no-ops, but only where the path could exist.
      if (op.kind === 'pull') checkViability(elem, pathToCreate, pathTaken);
      return;
    }
    createPath(st, elem, pathTaken, pathToCreate, valueForNewElement(st, leaf));
    return;
  }
  updateExistingElement(st, leaf, elem, pathTaken);
}

function valueForNewElement(st: State, leaf: LeafNode): BsonValue {
  const op = leaf.op;
  switch (op.kind) {
    case 'set':
      return cloneContainers(op.value);
    case 'arith':
      // $inc creates the operand; $mul creates a zero of the operand's type.
      return fromSafeNum(op.op === 'inc' ? op.operand : safeMul(op.operand, { t: 'int', v: 0 })!);
    case 'compare':
      return cloneContainers(op.value);
    case 'currentDate':
      return op.asTimestamp ? st.ctx.nowTimestamp() : new Date(st.ctx.now.getTime());
    case 'push': {
      const arr: BsonValue[] = [];
      performPush(op, arr);
      return arr;
    }
    case 'addToSet':
      return op.values.map(cloneContainers);
    case 'bit':
      return fromSafeNum(applyBitOps(op.ops, { t: 'int', v: 0 }));
    default:
      throw new Error(`unreachable: ${op.kind} does not create`);
  }
}

function idString(st: State): string {
  return idElementString(st.root);
}

function updateExistingElement(st: State, leaf: LeafNode, elem: Elem, pathTaken: string[]): void {
  const op = leaf.op;
  const dotted = pathTaken.join('.');
  switch (op.kind) {
    case 'set':
      if (identical(elem.value, op.value)) return;
      return writeExisting(st, elem, cloneContainers(op.value), pathTaken);
    case 'unset':
      checkImmutableExisting(st, pathTaken);
      // An array element cannot be removed without shifting the others; mongod nulls it.
      if (Array.isArray(elem.holder)) elem.holder[Number(elem.key)] = null;
      else if (elem.holder) delete (elem.holder as Document)[elem.key];
      st.modified = true;
      st.logged.push({ path: [...pathTaken], removed: !Array.isArray(elem.holder) });
      return;
    case 'arith': {
      const current = toSafeNum(elem.value);
      const name = leaf.modifier;
      if (!current) {
        fail('TypeMismatch', `Cannot apply ${name} to a value of non-numeric type. {${idString(st)}} has the field '${elem.key}' of non-numeric type ${typeNameOf(elem.value)}`);
      }
      const result = op.op === 'inc' ? safeAdd(op.operand, current) : safeMul(op.operand, current);
      if (result !== undefined && isIdentical(result, current)) return;
      if (result === undefined) {
        fail('BadValue', `Failed to apply ${name} operations to current value (${debugString(current)}) for document {${idString(st)}}`);
      }
      return writeExisting(st, elem, fromSafeNum(result), pathTaken);
    }
    case 'compare': {
      const cmp = compareValues(elem.value, op.value, op.collator);
      if ((op.mode === 'min' && cmp > 0) || (op.mode === 'max' && cmp < 0)) {
        writeExisting(st, elem, cloneContainers(op.value), pathTaken);
      }
      return;
    }
    case 'currentDate':
      return writeExisting(st, elem, op.asTimestamp ? st.ctx.nowTimestamp() : new Date(st.ctx.now.getTime()), pathTaken);
    case 'push': {
      if (!Array.isArray(elem.value)) {
        fail('BadValue', `The field '${dotted}' must be an array but is of type ${typeNameOf(elem.value)} in document {${idString(st)}}`);
      }
      const arr = elem.value as BsonValue[];
      const sizeBefore = arr.length;
      if (performPush(op, arr)) {
        checkImmutableExisting(st, pathTaken);
        st.modified = true;
        // mongod logs a push that only appended as the new elements, any other as the whole array.
        const appended = !op.sort && arr.length === sizeBefore + op.values.length && (sizeBefore === 0 || op.position >= sizeBefore);
        if (appended) for (let i = sizeBefore; i < arr.length; i++) st.logged.push({ path: [...pathTaken, String(i)], removed: false });
        else st.logged.push({ path: [...pathTaken], removed: false });
      }
      return;
    }
    case 'addToSet': {
      if (!Array.isArray(elem.value)) {
        fail('BadValue', `Cannot apply $addToSet to non-array field. Field named '${elem.key}' has non-array type ${typeNameOf(elem.value)}`);
      }
      const arr = elem.value as BsonValue[];
      const toAdd = op.values.filter((v) => !arr.some((existing) => compareValues(existing, v, op.collator) === 0));
      if (toAdd.length === 0) return;
      checkImmutableExisting(st, pathTaken);
      for (const v of toAdd) arr.push(cloneContainers(v));
      st.modified = true;
      st.logged.push({ path: [...pathTaken], removed: false });
      return;
    }
    case 'pop': {
      if (!Array.isArray(elem.value)) {
        fail('TypeMismatch', `Path '${dotted}' contains an element of non-array type '${typeNameOf(elem.value)}'`);
      }
      const arr = elem.value as BsonValue[];
      if (arr.length === 0) return;
      checkImmutableExisting(st, pathTaken);
      if (op.fromFront) arr.shift();
      else arr.pop();
      st.modified = true;
      st.logged.push({ path: [...pathTaken], removed: false });
      return;
    }
    case 'pull': {
      if (!Array.isArray(elem.value)) fail('BadValue', 'Cannot apply $pull to a non-array value');
      const arr = elem.value as BsonValue[];
      const kept = arr.filter((v) => !op.matches(v));
      if (kept.length === arr.length) return;
      checkImmutableExisting(st, pathTaken);
      arr.splice(0, arr.length, ...kept);
      st.modified = true;
      st.logged.push({ path: [...pathTaken], removed: false });
      return;
    }
    case 'bit': {
      const current = toSafeNum(elem.value);
      if (!current || (current.t !== 'int' && current.t !== 'long')) {
        fail('BadValue', `Cannot apply $bit to a value of non-integral type.${idString(st)} has the field ${elem.key} of non-integer type ${typeNameOf(elem.value)}`);
      }
      const result = applyBitOps(op.ops, current);
      if (isIdentical(result, current)) return;
      return writeExisting(st, elem, fromSafeNum(result), pathTaken);
    }
    default:
      return;
  }
}

function applyBitOps(ops: Array<{ op: 'and' | 'or' | 'xor'; operand: SafeNum }>, start: SafeNum): SafeNum {
  let value = start;
  for (const { op, operand } of ops) {
    const next = safeBit(op, value, operand);
    if (!next) fail('BadValue', `Failed to apply $bit operations to current value: ${debugString(value)}`);
    value = next;
  }
  return value;
}

/** PushNode::performPush on an array in place; returns whether mongod counts it as a change. */
function performPush(op: Extract<LeafOp, { kind: 'push' }>, arr: BsonValue[]): boolean {
  let changed = false;
  if (op.values.length > 0) {
    const values = op.values.map(cloneContainers);
    const size = arr.length;
    const position = op.position;
    let at: number;
    if (size === 0 || position > size) at = size;
    else if (position >= 0) at = position;
    else if (-position < size) at = size + position;
    else at = 0;
    arr.splice(at, 0, ...values);
    changed = true;
  }
  if (op.sort) {
    changed = true;
    const sorted = sortForPush(arr, op.sort, op.collator ?? null);
    arr.splice(0, arr.length, ...sorted);
  }
  const limit = Math.abs(op.slice);
  if (arr.length > limit) {
    changed = true;
    if (op.slice >= 0) arr.splice(limit);
    else arr.splice(0, arr.length - limit);
  }
  return changed;
}

/** dotted_path_support::extractElementAtPath: through documents, and arrays by numeric index only. */
function valueAtDottedPath(doc: BsonValue, path: string): BsonValue {
  let cur: BsonValue = doc;
  for (const part of path.split('.')) {
    if (isDocument(cur)) cur = getField(cur, part);
    else if (Array.isArray(cur)) {
      const i = parseArrayIndex(part);
      cur = i === undefined ? undefined : cur[i];
    } else return undefined;
    if (cur === undefined) return undefined;
  }
  return cur;
}

/** PatternElementCmp: whole-value or per-field (missing = null) ordering, as a stable sort. */
function sortForPush(arr: BsonValue[], sort: PushSort, collator: Collator | null): BsonValue[] {
  if (sort.wholeValue) {
    return [...arr].sort((a, b) => sort.direction * compareValues(a, b, collator));
  }
  const keyOf = (v: BsonValue): BsonValue[] => {
    // Non-documents are wrapped as {"": v}, so a field pattern finds nothing in them (null).
    const obj = isDocument(v) ? v : { '': v };
    return sort.pattern.map(([path]) => {
      const found = valueAtDottedPath(obj, path);
      return found === undefined ? null : found;
    });
  };
  const keyed = arr.map((v) => ({ v, k: keyOf(v) }));
  keyed.sort((a, b) => {
    for (let i = 0; i < sort.pattern.length; i++) {
      const c = compareValues(a.k[i], b.k[i], collator);
      if (c !== 0) return c * sort.pattern[i]![1];
    }
    return 0;
  });
  return keyed.map((x) => x.v);
}

// -----------------------------------------------------------------------------------------------
// $rename: a $set of the destination from the source, then an $unset of the source.

function applyRename(
  st: State,
  op: Extract<LeafOp, { kind: 'rename' }>,
  dest: Elem,
  destTaken: string[],
  destToCreate: string[],
): void {
  const fromParts = op.from.split('.');
  // pathsupport::findLongestPrefix from the root.
  const chain: Elem[] = [];
  let cur: Elem = { holder: undefined, key: '', value: st.root };
  for (let i = 0; i < fromParts.length; i++) {
    const part = fromParts[i]!;
    const container = cur.value;
    const viable = isDocument(container) || (Array.isArray(container) && parseArrayIndex(part) !== undefined);
    if (!viable) {
      fail('PathNotViable', `cannot use the part (${fromParts[i - 1]} of ${op.from}) to traverse the element ({${formatElement(cur.key, cur.value)}})`);
    }
    const next = childOf(container, part);
    if (!next) return; // The source does not exist: a no-op.
    chain.push(next);
    cur = next;
  }
  const source = cur;
  for (let i = 0; i < chain.length - 1; i++) {
    if (Array.isArray(chain[i]!.value)) {
      fail('BadValue', `The source field cannot be an array element, '${op.from}' in doc with ${idString(st)} has an array field called '${chain[i]!.key}'`);
    }
  }
  // Ancestors of the destination: the existing containers along the path taken to it.
  const destAncestorsCount = destToCreate.length === 0 ? destTaken.length - 1 : destTaken.length;
  let walk: BsonValue = st.root;
  for (let i = 0; i < destAncestorsCount; i++) {
    walk = childOf(walk, destTaken[i]!)!.value;
    if (Array.isArray(walk)) {
      fail('BadValue', `The destination field cannot be an array element, '${op.to}' in doc with ${idString(st)} has an array field called '${destTaken[i]}'`);
    }
  }
  const value = source.value;
  if (destToCreate.length === 0) writeExisting(st, dest, value, destTaken);
  else createPath(st, dest, destTaken, destToCreate, value);
  // Remove the source (its parent is a document: arrays were ruled out above).
  checkImmutableExisting(st, fromParts);
  const parent = source.holder as Document;
  delete parent[source.key];
  st.modified = true;
  st.logged.push({ path: fromParts, removed: true });
}

