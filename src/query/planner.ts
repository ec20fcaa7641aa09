/**
 * The query planner: picks how to read a collection for a filter and a sort — an _id point
 * lookup, an index scan with bounds, or a collection scan — and says whether the index order
 * already gives the requested sort. The choice shows in explain's winning plan.
 */
import { fail } from '../base/index.js';
import { collationDocument, compareValues, isDocument, MaxKey, MinKey, sameCollation, typeNameOf, type BsonValue, type Collator, type Document } from '../bson/index.js';
import type { Collection, IndexState, KeyInterval } from '../storage/index.js';
import { indexBounds, intervalToString } from './bounds.js';
import { parseFilter, type FilterNode } from './filter/index.js';
import { filterImplies } from './partial.js';
import type { SortSpec } from './sort.js';

export type Plan =
  | { stage: 'EOF' }
  | { stage: 'IDHACK'; id: BsonValue }
  | { stage: 'COLLSCAN'; direction: 1 | -1 }
  | { stage: 'IXSCAN'; index: IndexState; bounds: KeyInterval[][]; direction: 1 | -1 };

export interface PlannedQuery {
  plan: Plan;
  /** The plan's order already is the requested sort. */
  sortProvided: boolean;
}

export type Hint = { $natural: 1 | -1 } | { indexName: string } | { keyPattern: Document } | undefined;

export function parseHint(v: BsonValue): Hint {
  if (v === undefined) return undefined;
  if (typeof v === 'string') return v === '' ? undefined : { indexName: v };
  if (!isDocument(v)) fail('FailedToParse', 'hint must be either a string or nested object');
  const keys = Object.keys(v);
  if (keys.length === 0) return undefined;
  if (keys[0] === '$natural') return { $natural: compareValues(v.$natural, 0) < 0 ? -1 : 1 };
  return { keyPattern: v };
}

function fullBounds(index: IndexState): KeyInterval[][] {
  return index.fields.map(() => [{ low: new MinKey(), lowInclusive: true, high: new MaxKey(), highInclusive: true }]);
}

function isPoint(iv: KeyInterval): boolean {
  return iv.lowInclusive && iv.highInclusive && compareValues(iv.low, iv.high) === 0;
}

function boundsOf(index: IndexState, filter: FilterNode, collator: Collator | null): KeyInterval[][] | null {
  return indexBounds(filter, index.spec.key, {
    multikeyPaths: index.multikeyPaths,
    indexCollator: index.collator,
    collationMatches: sameCollation(index.collator, collator),
  }) as KeyInterval[][] | null;
}

/**
 * An index yields the sort when, skipping key fields the bounds pin to one value, the sort fields
 * follow the key pattern in order, all forward or all reversed, and no sorted field is multikey.
 * A sort field pinned to one value constrains no direction ({a: 5} sorted by {a: -1, b: 1} on
 * {a: 1, b: 1} is a forward scan), as mongod drops such fields from the sort.
 */
function sortDirectionFrom(index: IndexState, sort: SortSpec | undefined, bounds: KeyInterval[][] | null): 1 | -1 | 0 {
  if (!sort || sort.length === 0) return 0;
  // Keys in another collation's order do not give this sort (mongod's rule, whatever the data).
  if (!sameCollation(index.collator, sort.collator)) return 0;
  const pinned = (i: number): boolean => bounds !== null && bounds[i]!.length === 1 && isPoint(bounds[i]![0]!);
  let dir: 1 | -1 | 0 = 0;
  let i = 0;
  for (const s of sort) {
    while (i < index.fields.length && index.fields[i]!.path !== s.path && pinned(i)) i++;
    const f = index.fields[i];
    if (!f || f.path !== s.path || index.multikeyPaths.has(f.path)) return 0;
    if (!pinned(i)) {
      const d = s.direction === f.direction ? 1 : -1;
      if (dir === 0) dir = d;
      else if (dir !== d) return 0;
    }
    i++;
  }
  return dir === 0 ? 1 : dir;
}

/** Whether a sparse index may answer: it lacks the documents missing the field, so the bounds must exclude null. */
function sparseUsable(index: IndexState, bounds: KeyInterval[][]): boolean {
  if (index.spec.sparse !== true) return true;
  return !bounds[0]!.some((iv) => compareValues(iv.low, null) <= 0 && compareValues(iv.high, null) >= 0);
}

const partialFilters = new WeakMap<IndexState, FilterNode>();

/**
 * A partial index lacks the documents outside its filter, so it may answer only a query that
 * implies that filter (mongod's isSubsetOf rule); a hint still forces it, as in mongod, whose
 * answer may then be incomplete (SERVER-26413).
 */
function partialUsable(index: IndexState, filter: FilterNode): boolean {
  const pfe = index.spec.partialFilterExpression;
  if (pfe === undefined) return true;
  let parsed = partialFilters.get(index);
  if (parsed === undefined) {
    parsed = parseFilter(pfe);
    partialFilters.set(index, parsed);
  }
  return filterImplies(filter, parsed);
}

function findHintedIndex(coll: Collection, hint: { indexName: string } | { keyPattern: Document }): IndexState {
  for (const index of coll.indexes.values()) {
    // A hidden index cannot be hinted, as in mongod.
    if (index.spec.hidden === true) continue;
    if ('indexName' in hint ? index.name === hint.indexName : compareValues(index.spec.key, hint.keyPattern) === 0) return index;
  }
  return fail('BadValue', 'hint provided does not correspond to an existing index');
}

/**
 * Plans a query. `collator` is the operation's collation (null: simple): an index with another
 * collation gives no bounds for string operands and no sort order, as in mongod.
 */
export function planQuery(coll: Collection | undefined, filter: FilterNode, filterDoc: Document, sort: SortSpec | undefined, hint: Hint, collator: Collator | null = null): PlannedQuery {
  if (!coll) return { plan: { stage: 'EOF' }, sortProvided: true };
  if (hint && '$natural' in hint) return { plan: { stage: 'COLLSCAN', direction: hint.$natural }, sortProvided: !sort || sort.length === 0 };
  // A sort on $natural alone is a collection scan in that direction (the oplog read newest first).
  if (sort?.natural !== undefined && sort.length === 0) return { plan: { stage: 'COLLSCAN', direction: sort.natural }, sortProvided: true };
  if (hint) {
    const index = findHintedIndex(coll, hint);
    const bounds = boundsOf(index, filter, collator);
    const dir = sortDirectionFrom(index, sort, bounds);
    return { plan: { stage: 'IXSCAN', index, bounds: bounds ?? fullBounds(index), direction: dir === -1 ? -1 : 1 }, sortProvided: !sort || sort.length === 0 || dir !== 0 };
  }
  const idOnly = Object.keys(filterDoc).length === 1 ? filterDoc._id : undefined;
  if (idOnly !== undefined && coll.idIndex && isIdHackValue(idOnly) && (sameCollation(coll.idIndex.collator, collator) || !isCollatableId(idOnly))) return { plan: { stage: 'IDHACK', id: idOnly }, sortProvided: true };

  let best: { score: number; planned: PlannedQuery } | undefined;
  for (const index of coll.indexes.values()) {
    if (index.spec.hidden === true || !partialUsable(index, filter)) continue;
    const bounds = boundsOf(index, filter, collator);
    const dir = sortDirectionFrom(index, sort, bounds);
    if (!bounds && dir === 0) continue;
    const b = bounds ?? fullBounds(index);
    if (!sparseUsable(index, b)) continue;
    let score = 0;
    if (bounds) {
      score += 100;
      for (const field of bounds) {
        if (field.every(isPoint)) score += 10;
        else {
          if (!field.every((iv) => typeNameOf(iv.low) === 'minKey' && typeNameOf(iv.high) === 'maxKey')) score += 5;
          break;
        }
      }
      if (index.unique && bounds.every((f) => f.length === 1 && isPoint(f[0]!))) score += 50;
    }
    if (dir !== 0) score += 3;
    score -= index.fields.length * 0.01;
    if (!best || score > best.score) {
      best = { score, planned: { plan: { stage: 'IXSCAN', index, bounds: b, direction: dir === -1 ? -1 : 1 }, sortProvided: !sort || sort.length === 0 || dir !== 0 } };
    }
  }
  if (best) return best.planned;
  return { plan: { stage: 'COLLSCAN', direction: 1 }, sortProvided: !sort || sort.length === 0 };
}

function isCollatableId(v: BsonValue): boolean {
  const t = typeNameOf(v);
  return t === 'string' || t === 'symbol';
}

/** mongod's IDHACK applies to a plain equality on _id with a value that is not a document, array or regex. */
function isIdHackValue(v: BsonValue): boolean {
  const t = typeNameOf(v);
  return t !== 'object' && t !== 'array' && t !== 'regex' && t !== 'null' && t !== 'missing' && t !== 'undefined';
}

export function explainPlan(plan: Plan): Document {
  switch (plan.stage) {
    case 'EOF':
      return { stage: 'EOF' };
    case 'IDHACK':
      return { stage: 'EXPRESS_IXSCAN', keyPattern: '{ _id: 1 }', indexName: '_id_' };
    case 'COLLSCAN':
      return { stage: 'COLLSCAN', direction: plan.direction === 1 ? 'forward' : 'backward' };
    case 'IXSCAN': {
      // mongod lists each field's intervals in scan order: high to low (each written high first)
      // for a descending field scanned forward or an ascending one scanned backward.
      const indexBoundsDoc: Document = {};
      plan.index.fields.forEach((f, i) => {
        const list = plan.bounds[i]!;
        indexBoundsDoc[f.path] =
          f.direction * plan.direction === 1
            ? list.map(intervalToString)
            : [...list].reverse().map((iv) => intervalToString({ low: iv.high, lowInclusive: iv.highInclusive, high: iv.low, highInclusive: iv.lowInclusive }));
      });
      return {
        stage: 'FETCH',
        inputStage: {
          stage: 'IXSCAN',
          keyPattern: plan.index.spec.key,
          indexName: plan.index.name,
          isMultiKey: plan.index.isMultikey,
          multiKeyPaths: Object.fromEntries(plan.index.fields.map((f) => [f.path, plan.index.multikeyPaths.has(f.path) ? [f.path] : []])),
          isUnique: plan.index.unique,
          isSparse: plan.index.spec.sparse === true,
          isPartial: plan.index.partialFilter !== undefined,
          indexVersion: 2,
          ...(plan.index.collator ? { collation: collationDocument(plan.index.collator) } : {}),
          direction: plan.direction === 1 ? 'forward' : 'backward',
          indexBounds: indexBoundsDoc,
        },
      };
    }
  }
}
