/**
 * Views, as mongod keeps them: each view is a document `{_id: "db.view", viewOn, pipeline,
 * collation?}` in its database's `system.views` collection. Being ordinary documents, view
 * definitions are written through the one commit path, so they reach the oplog and the journal
 * and survive a restart with nothing view-specific in storage.
 *
 * A read on a view runs the view's pipeline (after the pipelines of the views it stands on) and
 * then the reader's own stages; writes and index operations on a view fail with
 * CommandNotSupportedOnView, as in mongod.
 */
import { DossierError, dossierError, fail } from '../base/index.js';
import { collationDocument, formatDocument, isDocument, makeCollator, sameCollation, typeNameOf, type BsonValue, type Collator, type Document } from '../bson/index.js';
import type { Collection, StorageTxn } from '../storage/index.js';
import { autocommit } from './query-support.js';
import type { Instance } from './instance.js';
import { isGenericArgument } from './generic.js';
import type { CommandContext } from './types.js';

/** mongod's ViewGraph::kMaxViewDepth: views stacked on views, at most this deep. */
export const VIEW_DEPTH_MAX = 20;

/** The collection holding a database's view definitions. */
export const SYSTEM_VIEWS = 'system.views';

export interface ViewDefinition {
  db: string;
  name: string;
  viewOn: string;
  pipeline: Document[];
  /** The view's default collation (full form), absent for simple. */
  collation: Document | undefined;
}

/** A view resolved down to the collection it reads. */
export interface ResolvedView {
  view: ViewDefinition;
  /** The collection (not a view) at the bottom of the chain. */
  collection: string;
  /** The pipelines of the chain, the collection's nearest view first. */
  pipeline: Document[];
  collator: Collator | null;
}

function systemViews(instance: Instance, db: string): Collection | undefined {
  return instance.getCollection(db, SYSTEM_VIEWS);
}

function definitionOf(db: string, doc: Document): ViewDefinition | undefined {
  const id = doc._id;
  if (typeof id !== 'string' || !id.startsWith(`${db}.`) || typeof doc.viewOn !== 'string' || !Array.isArray(doc.pipeline)) return undefined;
  return { db, name: id.slice(db.length + 1), viewOn: doc.viewOn, pipeline: doc.pipeline as Document[], collation: isDocument(doc.collation) ? doc.collation : undefined };
}

/** Reads `system.views` in `txn`, or at the newest commit. */
function withReader<T>(instance: Instance, txn: StorageTxn | undefined, read: (txn: StorageTxn) => T): T {
  if (txn) return read(txn);
  const reader = instance.engine.begin();
  try {
    return read(reader);
  } finally {
    instance.engine.abort(reader);
  }
}

/** The view `db.name`, or undefined when there is none (a real collection is never a view). */
export function lookupView(instance: Instance, db: string, name: string, txn?: StorageTxn): ViewDefinition | undefined {
  const views = systemViews(instance, db);
  if (!views || instance.getCollection(db, name)) return undefined;
  return withReader(instance, txn, (t) => {
    const found = t.findById(views, `${db}.${name}`);
    return found ? definitionOf(db, found.doc) : undefined;
  });
}

/** Every view of `db`, by name. */
export function listViews(instance: Instance, db: string, txn?: StorageTxn): ViewDefinition[] {
  const views = systemViews(instance, db);
  if (!views) return [];
  return withReader(instance, txn, (t) => {
    const out: ViewDefinition[] = [];
    for (const { doc } of t.scan(views)) {
      const def = definitionOf(db, doc);
      if (def) out.push(def);
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  });
}

/** Follows `db.name` through the views it stands on to a collection (which may not exist). */
export function resolveView(instance: Instance, db: string, name: string, txn?: StorageTxn): ResolvedView | undefined {
  const top = lookupView(instance, db, name, txn);
  if (!top) return undefined;
  const pipelines: Document[][] = [];
  let current: ViewDefinition | undefined = top;
  let collection = name;
  for (let depth = 0; current; depth++) {
    if (depth >= VIEW_DEPTH_MAX) fail('ViewDepthLimitExceeded', `View depth too deep or view cycle detected. Maximum depth is ${VIEW_DEPTH_MAX}`);
    pipelines.unshift(current.pipeline);
    collection = current.viewOn;
    current = lookupView(instance, db, current.viewOn, txn);
  }
  return { view: top, collection, pipeline: pipelines.flat(), collator: top.collation ? makeCollator(top.collation) : null };
}

export function viewNotCollectionError(db: string, name: string): never {
  throw dossierError('CommandNotSupportedOnView', `Namespace ${db}.${name} is a view, not a collection`);
}

/** Writes, index builds and the like refuse a view, as mongod's AutoGetCollection does. */
export function assertNotView(instance: Instance, db: string, name: string, txn?: StorageTxn): void {
  if (lookupView(instance, db, name, txn)) viewNotCollectionError(db, name);
}

/**
 * The collation a read of a view runs with: the view's own. A request naming another fails,
 * as mongod refuses to override a view's default collation.
 */
export function viewReadCollation(requested: Collator | null | undefined, resolved: ResolvedView): Collator | null {
  if (requested !== undefined && !sameCollation(requested, resolved.collator)) fail('OptionNotSupportedOnView', "Cannot override a view's default collation");
  return resolved.collator;
}

/** What `create` with `viewOn` asks for, validated by the caller's pipeline parser. */
export interface ViewRequest {
  db: string;
  name: string;
  viewOn: BsonValue;
  pipeline: BsonValue;
  collation: BsonValue;
}

/**
 * Creates a view after mongod's checks: viewOn a valid name in the same database, a pipeline
 * that `validatePipeline` accepts (it throws mongod's errors for stages that write or need no
 * collection), a collation that agrees with any view it stands on, no cycle, and a depth of at
 * most VIEW_DEPTH_MAX. Creating the same view again is a no-op, as for collections since 7.0.
 */
export function createView(instance: Instance, req: ViewRequest, validatePipeline: PipelineValidator): void {
  const { db, name } = req;
  const { viewOn, pipeline } = definitionFields('create', req.viewOn, req.pipeline ?? []);
  let collator: Collator | null = null;
  if (req.collation !== undefined) {
    if (!isDocument(req.collation)) fail('TypeMismatch', `BSON field 'create.collation' is the wrong type '${typeNameOf(req.collation)}', expected type 'object'`);
    if (Object.keys(req.collation).length > 0) collator = makeCollator(req.collation);
  }
  const definition: Document = { _id: `${db}.${name}`, viewOn, pipeline };
  if (collator) definition.collation = collationDocument(collator);

  const existing = lookupView(instance, db, name);
  if (existing) {
    const same = existing.viewOn === viewOn && formatDocument({ p: existing.pipeline }) === formatDocument({ p: pipeline }) && sameCollation(existing.collation ? makeCollator(existing.collation) : null, collator);
    if (same) return;
    fail('NamespaceExists', `namespace ${db}.${name} already exists, but with different options: ${formatDocument({ viewOn: existing.viewOn, pipeline: existing.pipeline })}`);
  }
  if (instance.getCollection(db, name)) fail('NamespaceExists', `Collection ${db}.${name} already exists.`);
  checkDefinition(instance, db, name, viewOn, pipeline, collator, validatePipeline);

  const views = instance.ensureCollection(db, SYSTEM_VIEWS);
  // mongod logs a view's creation as a `create` command (what change streams report); the
  // system.views insert beside it is what recovery replays.
  const create: Document = { create: name, viewOn, pipeline };
  if (definition.collation) create.collation = definition.collation;
  autocommit(instance, (txn) => void txn.insert(views, definition), { commandEntry: { db, o: create } });
}

/**
 * collMod of a view: a new `viewOn` and/or `pipeline` (the other kept), checked as at create;
 * the view keeps its collation.
 */
export function modifyView(instance: Instance, view: ViewDefinition, changes: { viewOn: BsonValue; pipeline: BsonValue }, validatePipeline: PipelineValidator): void {
  const { db, name } = view;
  const { viewOn, pipeline } = definitionFields('collMod', changes.viewOn ?? view.viewOn, changes.pipeline ?? view.pipeline);
  const collator = view.collation ? makeCollator(view.collation) : null;
  checkDefinition(instance, db, name, viewOn, pipeline, collator, validatePipeline);
  const definition: Document = { _id: `${db}.${name}`, viewOn, pipeline };
  if (view.collation) definition.collation = view.collation;
  const views = systemViews(instance, db)!;
  autocommit(instance, (txn) => {
    const found = txn.findById(views, `${db}.${name}`);
    if (!found) fail('NamespaceNotFound', `cannot modify missing view ${db}.${name}`);
    txn.update(views, found.rid, definition);
  });
}

/** Checks what a pipeline may hold in a view; throws mongod's errors (see create's validator). */
export type PipelineValidator = (pipeline: Document[], collator: Collator | null, viewOn: string) => void;

function definitionFields(command: string, viewOnValue: BsonValue, pipelineValue: BsonValue): { viewOn: string; pipeline: Document[] } {
  if (typeof viewOnValue !== 'string') fail('TypeMismatch', `BSON field '${command}.viewOn' is the wrong type '${typeNameOf(viewOnValue)}', expected type 'string'`);
  const viewOn = viewOnValue;
  if (viewOn === '' || viewOn.includes('\0') || viewOn.startsWith('.') || viewOn.includes('$')) fail('InvalidNamespace', `invalid name for 'viewOn': ${viewOn}`);
  if (!Array.isArray(pipelineValue)) fail('TypeMismatch', `BSON field '${command}.pipeline' is the wrong type '${typeNameOf(pipelineValue)}', expected type 'array'`);
  pipelineValue.forEach((stage: BsonValue, i: number) => {
    if (!isDocument(stage)) fail('TypeMismatch', `BSON field '${command}.pipeline.${i}' is the wrong type '${typeNameOf(stage)}', expected type 'object'`);
  });
  return { viewOn, pipeline: pipelineValue as Document[] };
}

/** The pipeline, the collation of the view underneath, and the view graph: mongod's _upsertIntoGraph checks. */
function checkDefinition(instance: Instance, db: string, name: string, viewOn: string, pipeline: Document[], collator: Collator | null, validatePipeline: PipelineValidator): void {
  try {
    validatePipeline(pipeline, collator, viewOn);
  } catch (e) {
    if (!(e instanceof DossierError)) throw e;
    throw new DossierError(e.code, `Invalid pipeline for view ${db}.${name} :: caused by :: ${e.message}`);
  }
  const below = lookupView(instance, db, viewOn);
  if (below && !sameCollation(below.collation ? makeCollator(below.collation) : null, collator)) {
    fail('OptionNotSupportedOnView', `View ${db}.${name} has conflicting collation with view ${db}.${viewOn}`);
  }
  checkGraph(instance, db, name, viewOn, pipeline);
}

/** Namespaces a pipeline reads besides its source ($lookup, $graphLookup, $unionWith, $facet). */
function involvedCollections(pipeline: readonly Document[], out: Set<string>): void {
  for (const stage of pipeline) {
    const [name] = Object.keys(stage);
    const spec = name === undefined ? undefined : stage[name];
    if (name === '$lookup' || name === '$graphLookup' || name === '$unionWith') {
      if (typeof spec === 'string') out.add(spec);
      else if (isDocument(spec)) {
        const from = name === '$unionWith' ? spec.coll : spec.from;
        if (typeof from === 'string') out.add(from);
        if (Array.isArray(spec.pipeline)) involvedCollections(spec.pipeline as Document[], out);
      }
    } else if (name === '$facet' && isDocument(spec)) {
      for (const sub of Object.values(spec)) if (Array.isArray(sub)) involvedCollections(sub as Document[], out);
    }
  }
}

/** mongod's ViewGraph check: the new view must not reach itself, nor stand more than VIEW_DEPTH_MAX deep. */
function checkGraph(instance: Instance, db: string, name: string, viewOn: string, pipeline: Document[]): void {
  const edges = new Map<string, string[]>();
  for (const v of listViews(instance, db)) {
    const refs = new Set<string>([v.viewOn]);
    involvedCollections(v.pipeline, refs);
    edges.set(v.name, [...refs]);
  }
  const ownRefs = new Set<string>([viewOn]);
  involvedCollections(pipeline, ownRefs);
  edges.set(name, [...ownRefs]);
  const path: string[] = [];
  const visit = (node: string, depth: number): void => {
    if (depth > VIEW_DEPTH_MAX) fail('ViewDepthLimitExceeded', `View depth too deep or view cycle detected. Maximum depth is ${VIEW_DEPTH_MAX}`);
    path.push(node);
    for (const next of edges.get(node) ?? []) {
      if (next === name) fail('GraphContainsCycle', `View cycle detected: [${[...path, next].map((n) => `${db}.${n}`).join(' => ')}]`);
      if (edges.has(next)) visit(next, depth + 1);
    }
    path.pop();
  };
  visit(name, 1);
}

/** Drops a view; false when `db.name` is not one. */
export function dropView(instance: Instance, db: string, name: string): boolean {
  const views = systemViews(instance, db);
  if (!views || !lookupView(instance, db, name)) return false;
  autocommit(instance, (txn) => {
    const found = txn.findById(views, `${db}.${name}`);
    if (found) txn.delete(views, found.rid);
  });
  return true;
}

/** listCollections' entry for a view. */
export function describeView(view: ViewDefinition, nameOnly: boolean): Document {
  if (nameOnly) return { name: view.name, type: 'view' };
  const options: Document = { viewOn: view.viewOn, pipeline: view.pipeline };
  if (view.collation) options.collation = view.collation;
  return { name: view.name, type: 'view', options, info: { readOnly: true } };
}

/**
 * The aggregate command a read of a view becomes (mongod rewrites find, count and distinct on a
 * view the same way): the reader's stages after the view's, which `aggregate` prepends itself,
 * with the request's generic arguments kept.
 */
export function viewAggregateBody(ctx: CommandContext, view: string, pipeline: Document[], options: Document): Document {
  const body: Document = { aggregate: view, pipeline, cursor: {}, ...options };
  for (const k of Object.keys(ctx.body)) if (isGenericArgument(k) && body[k] === undefined) body[k] = ctx.body[k];
  return body;
}
