/**
 * Pipelines: parsing a list of stage documents into stages, and running them as a chain of
 * synchronous generators.
 *
 * Yielding: document sources (collection scans, $documents, sub-pipelines) emit a `PAUSE` marker
 * every `yieldEveryDocs` documents; every stage passes markers straight through, including
 * blocking stages while they consume their input. The asynchronous driver (`PipelineRun.next`)
 * awaits the event loop at each marker (and checks maxTimeMS and killOp there), so a long
 * `$group` or `$sort` never holds the thread for long. Synchronous consumers skip the markers.
 */
import { fail, failLocation, DossierError } from '../../base/index.js';
import { isDocument, typeNameOf, type BsonValue, type Document } from '../../bson/index.js';
import type { Collection, StorageTxn } from '../../storage/index.js';
import type { FilterNode } from '../filter/index.js';
import { newVariables, Scope, type ExpressionEnvironment, type ParseState, type Variables } from './expression.js';

/** Marker a flow emits where the runner may yield to the event loop. */
export const PAUSE: unique symbol = Symbol('pause');
export type Pause = typeof PAUSE;
export type Flow = Generator<Document | Pause, void, undefined>;

/** What the pipeline needs from the server around it (given by the command layer). */
export interface PipelineHost {
  /** The storage snapshot every read of this command uses (the session's transaction when in one). */
  readonly txn: StorageTxn;
  getCollection(db: string, name: string): Collection | undefined;
  /**
   * The view `db.name` resolved to the collection it reads and the pipeline in front of it (views
   * on views flattened), for $lookup and $unionWith; undefined when `name` is not a view.
   */
  resolveView?(db: string, name: string): { collection: string; pipeline: Document[] } | undefined;
  /**
   * Writes of $out / $merge: a write transaction of their own on the target collection. The
   * stage writes in slices (yielding between them) and then commits, or aborts on error.
   */
  openOutput?(db: string, coll: string): OutputSession;
  /** $collStats's storageStats/count for a collection. */
  collStats?(db: string, coll: string, spec: Document): Document;
  /** $currentOp's entries (already filtered by its options). */
  currentOp?(spec: Document): Document[];
  /** $listLocalSessions / $listSessions. */
  listSessions?(spec: Document, local: boolean): Document[];
  /** "host:port" for $indexStats. */
  readonly hostName: string;
}

/** A write target for $out and $merge (the command layer applies insert validation and indexes). */
export interface OutputWriter {
  /** True when the target collection has a unique index on exactly these fields. */
  hasUniqueIndexOn(fields: readonly string[]): boolean;
  /** The target document whose `on` fields equal those of `key`, if any. */
  find(on: readonly string[], key: Document): Document | undefined;
  insert(doc: Document): void;
  replace(existing: Document, doc: Document): void;
  /** $out replaces the whole collection: removes every existing document. */
  clear(): void;
}

export interface OutputSession extends OutputWriter {
  commit(): void;
  abort(): void;
}

export interface PipelineLimits {
  /** internalDocumentSourceGroupMaxMemoryBytes. */
  groupMemoryBytes: number;
  /** internalDocumentSourceSetWindowFieldsMaxMemoryBytes (per partition); unlimited when absent. */
  windowMemoryBytes?: number;
  /** internalQueryMaxBlockingSortMemoryUsageBytes. */
  sortMemoryBytes: number;
  allowDiskUse: boolean;
  /** Documents between PAUSE markers. */
  yieldEveryDocs: number;
}

/** Per-run state every stage reads. */
export interface RunContext {
  readonly host: PipelineHost;
  readonly db: string;
  readonly limits: PipelineLimits;
  /** Builtins and `let` variables; stages copy it to evaluate per document. */
  readonly baseVars: Variables;
  readonly env: ExpressionEnvironment;
  /** Counts source documents and says when to emit PAUSE. */
  tick(): boolean;
}

/** The parse-time context of a pipeline (and its sub-pipelines). */
export interface PipelineParseContext {
  readonly scope: Scope;
  readonly db: string;
  /** The collection aggregated, undefined for `aggregate: 1`. */
  readonly collection: string | undefined;
  /** Where this pipeline sits: mongod forbids some stages inside $facet/$lookup/$unionWith. */
  readonly nesting: 'top' | 'facet' | 'lookup' | 'unionWith';
  readonly inTransaction: boolean;
}

export interface Stage {
  readonly name: string;
  /** The stage as explain shows it. */
  readonly spec: Document;
  run(input: Flow, ctx: RunContext): Flow;
  /** For the leading-$match/$sort/$limit push-down into the query planner. */
  readonly pushdown?: { kind: 'match'; filterDoc: Document; filter: FilterNode; prepare: (ctx: RunContext) => void } | { kind: 'sort'; sortDoc: Document } | { kind: 'limit'; n: number } | { kind: 'skip'; n: number };
}

export interface StageDefinition {
  readonly name: string;
  parse(spec: BsonValue, ctx: PipelineParseContext): Stage | Stage[];
  /** mongod refuses it in a multi-document transaction (OperationNotSupportedInTransaction). */
  readonly forbiddenInTransaction?: boolean;
  /** Must be the first stage (40602). */
  readonly firstOnly?: boolean;
  /** Must be the last stage (40601). */
  readonly lastOnly?: boolean;
  /** Generates its own documents: valid with `aggregate: 1`. */
  readonly collectionless?: boolean;
  /** Not allowed inside $facet (40600) / $lookup (51047) pipelines. */
  readonly notInFacet?: boolean;
  readonly notInLookup?: boolean;
  /** Writes data ($out, $merge). */
  readonly writes?: boolean;
}

const STAGES = new Map<string, StageDefinition>();

export function registerStage(def: StageDefinition): void {
  STAGES.set(def.name, def);
}

export function stageDefinition(name: string): StageDefinition | undefined {
  return STAGES.get(name);
}

/** Stage names mongod refuses inside a multi-document transaction. */
export function stagesForbiddenInTransaction(): string[] {
  return [...STAGES.values()].filter((d) => d.forbiddenInTransaction).map((d) => d.name);
}

export interface ParsedPipeline {
  readonly stages: readonly Stage[];
  readonly definitions: readonly StageDefinition[];
  /** The parse state: how many variable slots a run needs. */
  readonly state: ParseState;
}

/** Parses a pipeline array with mongod's errors (14, 40323, 40324, 40601, 40602, 263...). */
export function parsePipelineStages(pipeline: BsonValue, ctx: PipelineParseContext): ParsedPipeline {
  if (!Array.isArray(pipeline)) fail('TypeMismatch', `'pipeline' option must be specified as an array`);
  const stages: Stage[] = [];
  const definitions: StageDefinition[] = [];
  pipeline.forEach((raw, i) => {
    if (!isDocument(raw)) fail('TypeMismatch', `Each element of the 'pipeline' array must be an object`);
    const keys = Object.keys(raw);
    if (keys.length !== 1) failLocation(40323, 'A pipeline stage specification object must contain exactly one field.');
    const name = keys[0]!;
    const def = STAGES.get(name);
    if (!def) failLocation(40324, `Unrecognized pipeline stage name: '${name}'`);
    if (def.firstOnly && i !== 0) failLocation(40602, `${name} is only valid as the first stage in a pipeline`);
    if (def.lastOnly && i !== pipeline.length - 1) failLocation(40601, `${name} can only be the final stage in the pipeline`);
    if (ctx.nesting === 'facet' && def.notInFacet) failLocation(40600, `${name} is not allowed to be used within a $facet stage`);
    if ((ctx.nesting === 'lookup' || ctx.nesting === 'unionWith') && def.writes) {
      failLocation(51047, `${name} is not allowed to be used within a ${ctx.nesting === 'lookup' ? '$lookup' : '$unionWith'} stage`);
    }
    if (ctx.nesting === 'lookup' && def.notInLookup) failLocation(51047, `${name} is not allowed to be used within a $lookup stage`);
    if (ctx.inTransaction && def.forbiddenInTransaction) {
      fail('OperationNotSupportedInTransaction', `Operation not permitted in transaction :: caused by :: ${name} cannot be used in a transaction`);
    }
    const parsed = def.parse(raw[name], ctx);
    for (const s of Array.isArray(parsed) ? parsed : [parsed]) {
      stages.push(s);
      definitions.push(def);
    }
  });
  if (ctx.collection === undefined && ctx.nesting === 'top') {
    const first = definitions[0];
    if (!first || !first.collectionless) {
      fail('InvalidNamespace', `{aggregate: 1} is not valid for '${first?.name ?? (stages[0]?.name ?? '$match')}'; a collection is required.`);
    }
  }
  return { stages, definitions, state: ctx.scope.state };
}

/** Chains stages over an input flow. */
export function chain(stages: readonly Stage[], input: Flow, ctx: RunContext): Flow {
  let flow = input;
  for (const s of stages) flow = s.run(flow, ctx);
  return flow;
}

/** An empty flow. */
export function* emptyFlow(): Flow {
  /* nothing */
}

/** A flow over documents from an iterator, emitting PAUSE as the context asks. */
export function* sourceFlow(docs: Iterable<Document>, ctx: RunContext): Flow {
  for (const d of docs) {
    if (ctx.tick()) yield PAUSE;
    yield d;
  }
}

/** Drains a flow synchronously into an array (PAUSE markers are re-emitted by `yield*` callers instead). */
export function* collect(flow: Flow, into: Document[]): Generator<Pause, void, undefined> {
  for (const d of flow) {
    if (d === PAUSE) yield PAUSE;
    else into.push(d);
  }
}

/** Builds the base variables of a run: builtins, then the pipeline's `let` values. */
export function baseVariables(state: ParseState, now: Date, clusterTime: BsonValue): Variables {
  return newVariables(state, undefined, now, clusterTime);
}

/**
 * Creates a run context. `tick` asks for a PAUSE every `yieldEveryDocs` source documents, or
 * sooner when `monotonicMs` is given and a slice of `sliceMs` has passed (the clock is read only
 * every 64 documents, to stay cheap).
 */
export function makeRunContext(
  host: PipelineHost,
  db: string,
  limits: PipelineLimits,
  baseVars: Variables,
  env: ExpressionEnvironment,
  clock?: { monotonicMs: () => number; sliceMs: number },
): RunContext {
  let n = 0;
  const every = Math.max(1, limits.yieldEveryDocs);
  let sliceStart = clock ? clock.monotonicMs() : 0;
  return {
    host,
    db,
    limits,
    baseVars,
    env,
    tick() {
      n++;
      if (n >= every || (clock && (n & 63) === 0 && clock.monotonicMs() - sliceStart >= clock.sliceMs)) {
        n = 0;
        if (clock) sliceStart = clock.monotonicMs();
        return true;
      }
      return false;
    },
  };
}

/** A child run context for a sub-pipeline with its own base variables (shares the tick counter). */
export function childRunContext(ctx: RunContext, baseVars: Variables): RunContext {
  return { ...ctx, baseVars, tick: () => ctx.tick() };
}

/** Errors while running are reported as mongod reports executor errors. */
export function executorError(e: unknown, what = 'PlanExecutor error during aggregation'): unknown {
  if (e instanceof DossierError && !e.message.startsWith(what)) {
    const wrapped = new DossierError(e.code, `${what} :: caused by :: ${e.message}`, { labels: e.errorLabels, extra: e.extra });
    return wrapped;
  }
  return e;
}

export function stageSpecTypeName(v: BsonValue): string {
  return typeNameOf(v);
}
