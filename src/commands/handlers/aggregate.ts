/**
 * aggregate: runs a pipeline over a collection (or, with `aggregate: 1`, over a collectionless
 * source such as $documents or $currentOp) and answers with a cursor.
 *
 * The pipeline runs as a chain of generators (src/query/aggregate). The first batch is produced
 * asynchronously: the runner yields to the event loop every `internalQueryExecYieldIterations`
 * source documents, so a long $group or $sort does not stall other connections. What is left is
 * handed to the cursor manager as a synchronous iterator (getMore is synchronous today).
 */
import { fail, failLocation } from '../../base/index.js';
import { FIND_DEFAULT_BATCH_SIZE } from '../../base/limits.js';
import { compareValues, isDocument, toJsNumber, typeNameOf, type BsonValue, type Collator, type Document } from '../../bson/index.js';
import { timestampOf } from '../../time/index.js';
import { newStats, runQuery, type ExecutionStats } from '../../query/executor.js';
import { parseHint, type Hint } from '../../query/planner.js';
import {
  baseVariables, executorError, explainSource, makeRunContext, newVariables, parseExpression, parsePipelineStages, planSource, PipelineRun,
  runPipeline, Scope, validateVariableName, PAUSE, type Expression, type Flow, type ParseState, type OutputWriter, type ParsedPipeline, type PipelineHost, type PipelineLimits, type RunContext, type Stage,
} from '../../query/aggregate/index.js';
import type { StorageTxn } from '../../storage/index.js';
import { CommandArgs } from '../args.js';
import { compileQuery, cursorReply, endRead, nonNegative, readTransaction, parseCollation, effectiveCollation } from '../query-support.js';
import { checkStorable, insertDocument, sortLimit, validateAgainstCollection } from '../write-support.js';
import { validateCollectionName } from '../namespaces.js';
import { resolveView, viewReadCollation } from '../views.js';
import type { CommandContext, CommandDefinition } from '../types.js';
import { collectionSizes } from './dbStats.js';
import { opensChangeStream, runChangeStreamAggregate } from '../change-streams.js';
import { currentOpCommand } from './currentOp.js';

const AGGREGATE_FIELDS = [
  'pipeline', 'explain', 'allowDiskUse', 'cursor', 'bypassDocumentValidation', 'collation', 'hint', 'let', 'exchange',
  'isMapReduceCommand', 'fromMongos', 'fromRouter', 'needsMerge', 'mergeByPBRT', 'collectionUUID', 'encryptionInformation',
  'includeQueryStatsMetrics', 'isClusterQueryWithoutShardKeyCmd',
] as const;

export interface AggregateRequest {
  /** Undefined for `aggregate: 1`. */
  collection: string | undefined;
  pipeline: Document[];
  explain: boolean;
  allowDiskUse: boolean;
  batchSize: number | undefined;
  hint: Hint;
  let: Document | undefined;
  bypassDocumentValidation: boolean;
  /** The `collation` argument: undefined means the collection's default. */
  collation: Collator | null | undefined;
  /** The collection read: `collection` itself, or the one under the view it names. */
  source: string | undefined;
}

export function parseAggregate(ctx: CommandContext): AggregateRequest {
  const target = ctx.body.aggregate;
  let collection: string | undefined;
  if (typeof target === 'string') {
    validateCollectionName(ctx.db, target);
    collection = target;
  } else if (typeNameOf(target) !== 'string' && compareValues(target, 1) === 0 && typeNameOf(target) !== 'bool') {
    collection = undefined;
  } else {
    fail('FailedToParse', "Invalid command format: the 'aggregate' field must specify a collection name or 1");
  }
  const a = new CommandArgs('aggregate', ctx.body);
  a.rejectUnknown(AGGREGATE_FIELDS);
  const collation = parseCollation(ctx.body.collation);
  if (ctx.body.pipeline === undefined) failLocation(40414, "BSON field 'aggregate.pipeline' is missing but a required field");
  const pipeline = a.array('pipeline')!;
  const explain = a.bool('explain') ?? false;
  const cursor = a.document('cursor');
  if (cursor === undefined && !explain) fail('FailedToParse', "The 'cursor' option is required, except for aggregate with the explain argument");
  let batchSize: number | undefined;
  if (cursor) {
    const c = new CommandArgs('aggregate.cursor', { cursor: 1, ...cursor });
    for (const k of Object.keys(cursor)) if (k !== 'batchSize') fail('IDLUnknownField', `BSON field 'aggregate.cursor.${k}' is an unknown field.`);
    batchSize = nonNegative('batchSize', c.integer('batchSize'));
  }
  const req: AggregateRequest = {
    collection,
    pipeline: pipeline as Document[],
    explain,
    allowDiskUse: a.bool('allowDiskUse') ?? false,
    batchSize,
    hint: parseHint(ctx.body.hint),
    let: a.document('let'),
    bypassDocumentValidation: a.bool('bypassDocumentValidation') ?? false,
    collation,
    source: collection,
  };
  return withView(ctx, req);
}

/** An aggregate on a view reads the view's collection through the view's pipeline, in its collation. */
function withView(ctx: CommandContext, req: AggregateRequest): AggregateRequest {
  const view = req.collection !== undefined ? resolveView(ctx.instance, ctx.db, req.collection, ctx.transaction) : undefined;
  if (!view) return req;
  return { ...req, source: view.collection, pipeline: [...view.pipeline, ...req.pipeline], collation: viewReadCollation(req.collation, view) };
}

/** Uniform doubles in [0, 1) from the instance's random source (so tests can seed $sample/$rand). */
function randomOf(ctx: CommandContext): () => number {
  return () => {
    const b = ctx.instance.random.bytes(7);
    let x = 0;
    for (let i = 0; i < 7; i++) x = x * 256 + b[i]!;
    return (x % 2 ** 53) / 2 ** 53;
  };
}

interface CompiledAggregate {
  parsed: ParsedPipeline;
  /** The command's `let`: each value's slot in the pipeline, its expression and that expression's own parse state. */
  lets: Array<{ slot: number; expr: Expression; state: ParseState }>;
  random: () => number;
  /** The collation the pipeline runs with (its own, else the collection's default). */
  collator: Collator | null;
}

/** Parses the request's pipeline (with its `let`), as mongod does before reading anything. */
export function compileAggregate(ctx: CommandContext, req: AggregateRequest): CompiledAggregate {
  const random = randomOf(ctx);
  const coll = req.source !== undefined ? ctx.instance.getCollection(ctx.db, req.source) : undefined;
  const collator = effectiveCollation(req.collation, coll);
  const scope = Scope.root(collator ? { random, collator } : { random });
  const lets: CompiledAggregate['lets'] = [];
  for (const name of Object.keys(req.let ?? {})) {
    validateVariableName(name);
    // A `let` value is an expression over constants and $$NOW, parsed and evaluated on its own.
    const own = Scope.root({ random });
    const expr = parseExpression(req.let![name], own);
    lets.push({ slot: scope.define(name), expr, state: own.state });
  }
  const parsed = parsePipelineStages(req.pipeline, { scope, db: ctx.db, collection: req.source, nesting: 'top', inTransaction: ctx.inTransaction });
  // mongod refuses to write from a linearizable read ($out and $merge are writes).
  const last = req.pipeline[req.pipeline.length - 1];
  const writes = last !== undefined && ('$out' in last || '$merge' in last);
  if (writes && ctx.generic.readConcern?.level === 'linearizable') {
    fail('InvalidOptions', `{readConcern: {level: "linearizable"}} is not supported with ${'$out' in last ? '$out' : '$merge'}`);
  }
  return { parsed, lets, random, collator };
}

function outputWriter(ctx: CommandContext, req: AggregateRequest, txn: StorageTxn, db: string, collName: string): OutputWriter {
  const { instance } = ctx;
  const coll = instance.ensureCollection(db, collName);
  const findByKey = (on: readonly string[], key: Document): { rid: number; doc: Document } | undefined => {
    if (on.length === 1 && on[0] === '_id') return txn.findById(coll, key._id);
    // Other join fields have a unique index (checked by $merge); plan through it like find.
    const q = compileQuery(coll, key, undefined, undefined);
    for (const r of runQuery(txn, coll, q.planned, q.filter, { sortMemoryLimitBytes: sortLimit(instance) })) {
      if (on.every((f) => compareValues(getPath(r.doc, f), key[f]) === 0)) return r;
    }
    return undefined;
  };
  return {
    hasUniqueIndexOn(fields) {
      for (const index of coll.indexes.values()) {
        const keys = Object.keys(index.spec.key);
        if (index.unique && keys.length === fields.length && fields.every((f) => keys.includes(f))) return true;
      }
      return false;
    },
    find(on, key) {
      return findByKey(on, key)?.doc;
    },
    insert(doc) {
      insertDocument(instance, txn, coll, doc, req.bypassDocumentValidation);
    },
    replace(existing, doc) {
      const found = txn.findById(coll, existing._id);
      if (!found) fail('NoSuchKey', '$merge target document disappeared');
      checkStorable(doc, 'update');
      validateAgainstCollection(coll, doc, found.doc, req.bypassDocumentValidation);
      txn.update(coll, found.rid, doc, { replacement: true });
    },
    clear() {
      const rids = [...txn.scan(coll)].map((r) => r.rid);
      for (const rid of rids) txn.delete(coll, rid);
    },
  };
}

function getPath(doc: Document, path: string): BsonValue {
  let cur: BsonValue = doc;
  for (const p of path.split('.')) {
    if (!isDocument(cur)) return undefined;
    cur = cur[p];
  }
  return cur;
}

function hostFor(ctx: CommandContext, req: AggregateRequest, txn: StorageTxn): PipelineHost {
  const { instance } = ctx;
  return {
    txn,
    hostName: instance.config.host,
    getCollection: (db, name) => instance.getCollection(db, name),
    resolveView(db, name) {
      const view = resolveView(instance, db, name, txn);
      return view && { collection: view.collection, pipeline: view.pipeline };
    },
    openOutput(db, collName) {
      // $out and $merge write in a transaction of their own (they are refused inside a user's).
      const w = instance.engine.begin();
      try {
        const writer = outputWriter(ctx, req, w, db, collName);
        return {
          ...writer,
          commit: () => void instance.engine.commit(w),
          abort: () => {
            if (w.isActive) instance.engine.abort(w);
          },
        };
      } catch (e) {
        instance.engine.abort(w);
        throw e;
      }
    },
    collStats(db, collName, spec) {
      const ns = `${db}.${collName}`;
      const coll = instance.getCollection(db, collName);
      const out: Document = { ns, host: instance.config.host, localTime: new Date(instance.clock.nowMs()) };
      if (spec.latencyStats !== undefined) {
        const zero = { latency: 0, ops: 0 };
        out.latencyStats = { reads: zero, writes: zero, commands: zero, transactions: zero };
      }
      if (spec.storageStats !== undefined || spec.count !== undefined) {
        if (!coll) fail('NamespaceNotFound', `Unable to retrieve storageStats in $collStats stage :: caused by :: Collection [${ns}] not found.`);
        const s = collectionSizes(instance, coll);
        if (spec.storageStats !== undefined) {
          const indexSizes: Document = {};
          for (const [name, size] of s.indexSizes) indexSizes[name] = size;
          out.storageStats = {
            size: s.dataSize, count: s.count, avgObjSize: s.count === 0 ? 0 : Math.floor(s.dataSize / s.count), storageSize: s.dataSize,
            freeStorageSize: 0, capped: coll.options.capped === true, nindexes: coll.indexes.size, indexBuilds: [],
            totalIndexSize: s.totalIndexSize, totalSize: s.dataSize + s.totalIndexSize, indexSizes, scaleFactor: 1,
          };
          // As collStats: a capped collection reports its limits.
          if (coll.options.capped === true) {
            if (coll.options.max !== undefined) out.storageStats.max = coll.options.max;
            if (coll.options.size !== undefined) out.storageStats.maxSize = toJsNumber(coll.options.size);
          }
        }
        if (spec.count !== undefined) out.count = s.count;
      }
      if (spec.queryExecStats !== undefined) out.queryExecStats = { collectionScans: { total: 0, nonTailable: 0 } };
      return out;
    },
    currentOp(spec) {
      const reply = currentOpCommand.run({ ...ctx, body: { currentOp: 1, $all: spec.idleConnections === true } }) as Document;
      return reply.inprog as Document[];
    },
    listSessions() {
      return instance.sessions.all().map((s) => ({ _id: s.lsid, lastUse: new Date(s.lastUseMs) }));
    },
  };
}

function limitsFor(ctx: CommandContext, req: AggregateRequest): PipelineLimits {
  const p = ctx.instance.parameters;
  return {
    groupMemoryBytes: p.getNumber('internalDocumentSourceGroupMaxMemoryBytes'),
    windowMemoryBytes: p.getNumber('internalDocumentSourceSetWindowFieldsMaxMemoryBytes'),
    sortMemoryBytes: sortLimit(ctx.instance),
    allowDiskUse: req.allowDiskUse,
    yieldEveryDocs: p.getNumber('internalQueryExecYieldIterations'),
  };
}

/** The longest a pipeline runs before it lets other connections in (well under the 50 ms goal). */
const PIPELINE_SLICE_MS = 2;

/** Resolves on the next turn of the event loop: other connections' I/O runs before it. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export function runContextFor(ctx: CommandContext, req: AggregateRequest, compiled: CompiledAggregate, txn: StorageTxn): RunContext {
  const { instance } = ctx;
  const now = new Date(instance.clock.nowMs());
  const clusterTime = timestampOf(instance.hlc.now());
  const vars = baseVariables(compiled.parsed.state, now, clusterTime);
  for (const l of compiled.lets) vars[l.slot] = l.expr.evaluate(newVariables(l.state, {}, now, clusterTime));
  return makeRunContext(hostFor(ctx, req, txn), ctx.db, limitsFor(ctx, req), vars, compiled.collator ? { random: compiled.random, collator: compiled.collator } : { random: compiled.random }, {
    monotonicMs: () => instance.clock.monotonicMs(),
    sliceMs: PIPELINE_SLICE_MS,
  });
}

/** Wraps each stage so explain's executionStats can report what it returned. */
function* counted(flow: Flow, counter: { n: number }): Flow {
  for (const d of flow) {
    if (d !== PAUSE) counter.n++;
    yield d;
  }
}

/** explain for aggregate (also called by the explain command with the inner aggregate). */
export async function explainAggregate(ctx: CommandContext, verbosity: string, request?: AggregateRequest): Promise<Document> {
  const req = request ?? parseAggregate(ctx);
  const compiled = compileAggregate(ctx, req);
  const coll = req.source !== undefined ? ctx.instance.getCollection(ctx.db, req.source) : undefined;
  const stages = compiled.parsed.stages;
  const src = planSource(stages, coll, req.hint, compiled.collator);
  const collectionless = compiled.parsed.definitions[0]?.collectionless === true;
  const ns = req.collection !== undefined ? `${ctx.db}.${req.collection}` : `${ctx.db}.$cmd.aggregate`;
  const queryPlanner: Document = {
    namespace: ns,
    parsedQuery: src.filterDoc,
    indexFilterSet: false,
    maxIndexedOrSolutionsReached: false,
    maxIndexedAndSolutionsReached: false,
    maxScansToExplodeReached: false,
    winningPlan: explainSource(src),
    rejectedPlans: [],
  };
  const rest = collectionless ? stages : stages.slice(src.consumed);
  const counters = rest.map(() => ({ n: 0 }));
  const stats: ExecutionStats = newStats();
  // A change stream never ends, so explain describes it without running it (as for writes).
  if (verbosity !== 'queryPlanner' && !compiled.parsed.definitions.some((d) => d.writes) && !opensChangeStream(req.pipeline)) {
    const read = readTransaction(ctx);
    try {
      const rctx = runContextFor(ctx, req, compiled, read.txn);
      const head: Stage[] = collectionless ? [] : stages.slice(0, src.consumed);
      let flow: Flow = collectionless ? emptyFlowOf() : runPipeline({ ...compiled.parsed, stages: head, definitions: compiled.parsed.definitions.slice(0, head.length) }, rctx, coll, { hint: req.hint, stats });
      rest.forEach((s, i) => (flow = counted(s.run(flow, rctx), counters[i]!)));
      const run = new PipelineRun(flow, { yieldToEventLoop, nowMs: () => ctx.instance.clock.monotonicMs(), maxTimeMS: ctx.generic.maxTimeMS, killed: ctx.killed, wrapError: (e) => executorError(e) });
      await run.all();
    } finally {
      endRead(ctx, read);
    }
  }
  const executionStats = verbosity === 'queryPlanner' ? undefined : {
    executionSuccess: true, nReturned: stats.nReturned, executionTimeMillis: 0, totalKeysExamined: stats.keysExamined, totalDocsExamined: stats.docsExamined,
  };
  const out: Document = { explainVersion: '1' };
  if (rest.length === 0 && !collectionless) {
    out.queryPlanner = queryPlanner;
    if (executionStats) out.executionStats = executionStats;
  } else {
    const explained: Document[] = [];
    if (!collectionless) explained.push({ $cursor: executionStats ? { queryPlanner, executionStats } : { queryPlanner } });
    rest.forEach((s, i) => {
      const entry: Document = { ...s.spec };
      if (executionStats) {
        entry.nReturned = counters[i]!.n;
        entry.executionTimeMillisEstimate = 0;
      }
      explained.push(entry);
    });
    out.stages = explained;
  }
  out.serverInfo = { host: ctx.instance.config.host, port: ctx.instance.config.port, version: '8.0.4', gitVersion: 'dossier' };
  out.command = { ...ctx.body };
  return out;
}

function* emptyFlowOf(): Flow {
  /* nothing */
}

export const aggregateCommand: CommandDefinition = {
  name: 'aggregate',
  help: 'Runs an aggregation pipeline over a collection (or, with aggregate: 1, a collectionless source) and answers with a cursor.',
  kind: 'read',
  allowedInTransaction: true,
  retryable: true,
  snapshotReads: true,
  options: [...AGGREGATE_FIELDS],
  async run(ctx) {
    const req = parseAggregate(ctx);
    if (req.explain) return explainAggregate(ctx, 'queryPlanner', req);
    if (opensChangeStream(req.pipeline)) return runChangeStreamAggregate(ctx, req);
    const compiled = compileAggregate(ctx, req);
    const { instance } = ctx;
    const coll = req.source !== undefined ? instance.getCollection(ctx.db, req.source) : undefined;
    const ns = req.collection !== undefined ? `${ctx.db}.${req.collection}` : `${ctx.db}.$cmd.aggregate`;
    // The one place the read snapshot comes from: the session's transaction when in one.
    const read = readTransaction(ctx);
    let run: PipelineRun | undefined;
    try {
      const rctx = runContextFor(ctx, req, compiled, read.txn);
      const flow = runPipeline(compiled.parsed, rctx, coll, { hint: req.hint });
      run = new PipelineRun(flow, {
        yieldToEventLoop,
        nowMs: () => instance.clock.monotonicMs(),
        maxTimeMS: ctx.generic.maxTimeMS,
        killed: ctx.killed,
        wrapError: (e) => executorError(e),
      });
      const batchSize = req.batchSize ?? FIND_DEFAULT_BATCH_SIZE;
      // Produce the first batch (and one document more, to know whether the cursor is exhausted)
      // asynchronously, so the blocking part of the pipeline yields to other connections.
      const prefetched = await run.take(batchSize === 0 ? 1 : batchSize + 1);
      const rest = run;
      // The first batch is read synchronously from `prefetched`; getMore reads through
      // `nextAsync`, which awaits the running pipeline at its PAUSE markers. Both share one
      // position, so whichever reads next continues where the other stopped.
      let taken = 0;
      function* source(): Generator<Document, void, undefined> {
        try {
          while (taken < prefetched.length) yield prefetched[taken++]!;
          yield* rest.rest();
        } finally {
          rest.close();
        }
      }
      const nextAsync = (): Promise<Document | undefined> => (taken < prefetched.length ? Promise.resolve(prefetched[taken++]) : rest.next());
      if (batchSize === 0) {
        return cursorReplyWithEmptyFirstBatch(ctx, ns, source(), read.txn, nextAsync);
      }
      return cursorReply(ctx, { ns, source: source(), nextAsync, txn: read.txn, batchSize, singleBatch: false, comment: ctx.generic.comment });
    } catch (e) {
      run?.close();
      endRead(ctx, read);
      throw e;
    }
  },
};

/**
 * Runs an aggregate command body to its end and returns every document: how count and distinct
 * read a view (its pipeline, then theirs), as mongod rewrites them into aggregations.
 */
export async function aggregateAll(ctx: CommandContext, body: Document): Promise<Document[]> {
  const actx: CommandContext = { ...ctx, body };
  const req = parseAggregate(actx);
  const compiled = compileAggregate(actx, req);
  const coll = req.source !== undefined ? ctx.instance.getCollection(ctx.db, req.source) : undefined;
  const read = readTransaction(actx);
  let run: PipelineRun | undefined;
  try {
    const rctx = runContextFor(actx, req, compiled, read.txn);
    run = new PipelineRun(runPipeline(compiled.parsed, rctx, coll, { hint: req.hint }), {
      yieldToEventLoop,
      nowMs: () => ctx.instance.clock.monotonicMs(),
      maxTimeMS: ctx.generic.maxTimeMS,
      killed: ctx.killed,
      wrapError: (e) => executorError(e),
    });
    return await run.all();
  } finally {
    run?.close();
    endRead(actx, read);
  }
}

/**
 * batchSize 0: an empty first batch and a cursor for the rest. cursorReply reads 0 as "no limit",
 * so the cursor is registered through it with a one-document batch that is then emptied; the
 * document goes back in front of the cursor's source.
 */
function cursorReplyWithEmptyFirstBatch(ctx: CommandContext, ns: string, source: Generator<Document, void, undefined>, txn: StorageTxn, nextAsync: () => Promise<Document | undefined>): Document {
  const first = source.next();
  if (first.done) return cursorReply(ctx, { ns, source: source, nextAsync, txn, batchSize: 1, singleBatch: false, comment: ctx.generic.comment });
  const held = first.value;
  function* again(): Generator<Document, void, undefined> {
    yield held;
    yield* source;
  }
  const marker: Document = {};
  function* withMarker(): Generator<Document, void, undefined> {
    yield marker;
    yield* again();
  }
  const reply = cursorReply(ctx, { ns, source: withMarker(), nextAsync, txn, batchSize: 1, singleBatch: false, comment: ctx.generic.comment });
  const cursor = reply.cursor as Document;
  cursor.firstBatch = (cursor.firstBatch as Document[]).filter((d) => d !== marker);
  return reply;
}

