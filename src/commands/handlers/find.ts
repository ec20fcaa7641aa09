import { FIND_DEFAULT_BATCH_SIZE } from '../../base/limits.js';
import { fail } from '../../base/index.js';
import { compareValues, type Collator, type Document } from '../../bson/index.js';
import { matches } from '../../query/filter/index.js';
import type { Collection, RecordId, StorageTxn } from '../../storage/index.js';
import type { Instance } from '../instance.js';
import { runQuery, newStats } from '../../query/executor.js';
import { expressionHook } from '../../query/aggregate/index.js';
import { explainPlan } from '../../query/planner.js';
import { applyProjection, parseProjection } from '../../query/projection/index.js';
import { CommandArgs, collectionNameArg } from '../args.js';
import { compileQuery, cursorReply, endRead, matcherFactoryFor, nonNegative, readTransaction, parseCollation } from '../query-support.js';
import { sortLimit } from '../write-support.js';
import { validateCollectionName } from '../namespaces.js';
import { resolveView, viewAggregateBody } from '../views.js';
import { aggregateCommand, explainAggregate } from './aggregate.js';
import type { CommandContext, CommandDefinition } from '../types.js';

const FIND_FIELDS = [
  'filter', 'projection', 'sort', 'hint', 'skip', 'limit', 'batchSize', 'singleBatch', 'max', 'min', 'returnKey',
  'showRecordId', 'tailable', 'oplogReplay', 'noCursorTimeout', 'awaitData', 'allowPartialResults', 'collation',
  'allowDiskUse', 'let', 'readOnce', 'term', 'ntoreturn', 'ntoskip',
] as const;

export interface FindRequest {
  collection: string;
  filter: Document | undefined;
  projection: Document | undefined;
  sort: Document | undefined;
  skip: number | undefined;
  limit: number | undefined;
  batchSize: number | undefined;
  singleBatch: boolean;
  allowDiskUse: boolean;
  tailable: boolean;
  awaitData: boolean;
  noCursorTimeout: boolean;
  hint: unknown;
  let: Document | undefined;
  /** The `collation` argument: undefined means the collection's default. */
  collation: Collator | null | undefined;
}

export function parseFind(ctx: CommandContext): FindRequest {
  const collection = collectionNameArg('find', ctx.body);
  validateCollectionName(ctx.db, collection);
  const a = new CommandArgs('find', ctx.body);
  a.rejectUnknown(FIND_FIELDS);
  const collation = parseCollation(ctx.body.collation);
  const tailable = a.bool('tailable') ?? false;
  const sort = a.document('sort');
  if (tailable) {
    if (sort !== undefined && Object.keys(sort).length > 0 && !(Object.keys(sort).length === 1 && sort.$natural !== undefined && compareValues(sort.$natural, 1) === 0)) {
      fail('BadValue', 'cannot use tailable option with a sort other than {$natural: 1}');
    }
    if (a.bool('singleBatch') === true) fail('BadValue', "cannot use tailable option with the 'singleBatch' option");
  }
  if (a.bool('awaitData') === true && !tailable) fail('FailedToParse', "Cannot set 'awaitData' without also setting 'tailable'");
  return {
    collection,
    filter: a.document('filter'),
    projection: a.document('projection'),
    sort: a.document('sort'),
    skip: nonNegative('skip', a.integer('skip')),
    limit: nonNegative('limit', a.integer('limit')),
    batchSize: nonNegative('batchSize', a.integer('batchSize')),
    singleBatch: a.bool('singleBatch') ?? false,
    allowDiskUse: a.bool('allowDiskUse') ?? false,
    tailable: a.bool('tailable') ?? false,
    awaitData: a.bool('awaitData') ?? false,
    noCursorTimeout: a.bool('noCursorTimeout') ?? false,
    hint: ctx.body.hint,
    let: a.document('let'),
    collation,
  };
}

/**
 * A tailable cursor's documents: the capped collection in insertion order, each read from a fresh
 * snapshot after the last record returned, so a later getMore sees what was inserted since.
 * Unlike mongod it does not notice that the capped collection dropped the record it stopped at
 * (CappedPositionLost): it goes on from the next one there is.
 */
class TailSource implements Iterator<Document> {
  private lastRid: RecordId | undefined;
  private toSkip: number;
  private returned = 0;
  private round: { txn: StorageTxn; records: Iterator<{ rid: RecordId; doc: Document }> } | undefined;
  /** A record was read: the cursor stays open from then on. */
  started = false;
  /** The limit is reached: the cursor ends. */
  finished = false;

  constructor(
    private readonly instance: Instance,
    private readonly coll: Collection | undefined,
    private readonly filter: (doc: Document) => boolean,
    private readonly project: (doc: Document) => Document,
    skip: number,
    private readonly limit: number,
  ) {
    this.toSkip = skip;
  }

  hasRecords(): boolean {
    return this.coll !== undefined && this.coll.records.size > 0;
  }

  next(): IteratorResult<Document> {
    if (!this.coll || this.finished) return { done: true, value: undefined };
    for (;;) {
      if (!this.round) {
        const txn = this.instance.engine.begin();
        this.round = { txn, records: txn.scan(this.coll, this.lastRid === undefined ? {} : { afterRid: this.lastRid }) };
      }
      const r = this.round.records.next();
      if (r.done) {
        this.endRound();
        return { done: true, value: undefined };
      }
      this.lastRid = r.value.rid;
      this.started = true;
      if (!this.filter(r.value.doc)) continue;
      if (this.toSkip > 0) {
        this.toSkip--;
        continue;
      }
      this.returned++;
      if (this.limit > 0 && this.returned >= this.limit) {
        this.finished = true;
        this.endRound();
      }
      return { done: false, value: this.project(r.value.doc) };
    }
  }

  return(): IteratorResult<Document> {
    this.endRound();
    return { done: true, value: undefined };
  }

  private endRound(): void {
    if (this.round?.txn.isActive) this.instance.engine.abort(this.round.txn);
    this.round = undefined;
  }
}

/** find on a view, as mongod runs it: an aggregation of $match, $sort, $skip, $limit, $project. */
function findOnViewBody(ctx: CommandContext, req: FindRequest): Document {
  if (req.tailable) fail('InvalidPipelineOperator', 'Tailable cursors are not supported in aggregation.');
  const pipeline: Document[] = [];
  if (req.filter && Object.keys(req.filter).length > 0) pipeline.push({ $match: req.filter });
  if (req.sort && Object.keys(req.sort).length > 0) pipeline.push({ $sort: req.sort });
  if (req.skip) pipeline.push({ $skip: req.skip });
  if (req.limit) pipeline.push({ $limit: req.limit });
  if (req.projection && Object.keys(req.projection).length > 0) pipeline.push({ $project: req.projection });
  const options: Document = {};
  if (req.batchSize !== undefined) options.cursor = { batchSize: req.batchSize };
  for (const k of ['collation', 'hint', 'let', 'allowDiskUse'] as const) if (ctx.body[k] !== undefined) options[k] = ctx.body[k];
  return viewAggregateBody(ctx, req.collection, pipeline, options);
}

export function explainFind(ctx: CommandContext, verbosity: string): Promise<Document> | Document {
  const req = parseFind(ctx);
  if (resolveView(ctx.instance, ctx.db, req.collection, ctx.transaction)) return explainAggregate({ ...ctx, body: findOnViewBody(ctx, req) }, verbosity);
  const coll = ctx.instance.getCollection(ctx.db, req.collection);
  const q = compileQuery(coll, req.filter, req.sort, req.hint, new Date(ctx.instance.clock.nowMs()), req.let, req.collation);
  const winningPlan = explainPlan(q.planned.plan);
  const out: Document = {
    explainVersion: '1',
    queryPlanner: {
      namespace: `${ctx.db}.${req.collection}`,
      parsedQuery: req.filter ?? {},
      indexFilterSet: false,
      maxIndexedOrSolutionsReached: false,
      maxIndexedAndSolutionsReached: false,
      maxScansToExplodeReached: false,
      winningPlan: q.sort && !q.planned.sortProvided ? { stage: 'SORT', sortPattern: req.sort, inputStage: winningPlan } : winningPlan,
      rejectedPlans: [],
    },
  };
  if (verbosity !== 'queryPlanner') {
    const stats = newStats();
    const read = readTransaction(ctx);
    try {
      for (const _ of runQuery(read.txn, coll, q.planned, q.filter, { sort: q.sort, skip: req.skip, limit: req.limit, sortMemoryLimitBytes: sortLimit(ctx.instance), allowDiskUse: req.allowDiskUse }, stats)) void _;
    } finally {
      endRead(ctx, read);
    }
    out.executionStats = { executionSuccess: true, nReturned: stats.nReturned, executionTimeMillis: 0, totalKeysExamined: stats.keysExamined, totalDocsExamined: stats.docsExamined };
  }
  out.command = ctx.body;
  out.serverInfo = { host: ctx.instance.config.host, port: ctx.instance.config.port, version: '8.0.4', gitVersion: 'dossier' };
  return out;
}

export const findCommand: CommandDefinition = {
  name: 'find',
  help: 'Queries a collection: filter, projection, sort, skip, limit, hint; answers with a cursor.',
  kind: 'read',
  allowedInTransaction: true,
  retryable: true,
  snapshotReads: true,
  options: [...FIND_FIELDS],
  run(ctx) {
    const req = parseFind(ctx);
    const { instance } = ctx;
    if (resolveView(instance, ctx.db, req.collection, ctx.transaction)) return aggregateCommand.run({ ...ctx, body: findOnViewBody(ctx, req) });
    const coll = instance.getCollection(ctx.db, req.collection);
    const q = compileQuery(coll, req.filter, req.sort, req.hint, new Date(instance.clock.nowMs()), req.let, req.collation);
    const projection = req.projection && Object.keys(req.projection).length > 0 ? parseProjection(req.projection, { matcherFactory: matcherFactoryFor(q.collator), parseExpression: expressionHook({ now: new Date(instance.clock.nowMs()), collator: q.collator }) }) : undefined;
    if (req.tailable) {
      if (coll && coll.options.capped !== true) fail('BadValue', `error processing query: ns=${coll.ns} tailable cursor requested on non capped collection`);
      const tail = new TailSource(instance, coll, (doc) => matches(q.filter, doc), projection ? (doc) => applyProjection(projection, doc, { positionalMatch: undefined }) : (doc) => doc, req.skip ?? 0, req.limit ?? 0);
      return cursorReply(ctx, {
        ns: `${ctx.db}.${req.collection}`,
        source: tail,
        txn: undefined,
        batchSize: req.batchSize ?? FIND_DEFAULT_BATCH_SIZE,
        singleBatch: false,
        tailable: true,
        // mongod keeps a tailable cursor unless the collection it tails had no records at all.
        keepTailing: () => !tail.finished && (tail.started || (coll !== undefined && tail.hasRecords())),
        awaitData: req.awaitData,
        noCursorTimeout: req.noCursorTimeout,
        comment: ctx.generic.comment,
      });
    }
    const read = readTransaction(ctx);
    const txn = read.txn;
    const candidates = runQuery(txn, coll, q.planned, q.filter, {
      sort: q.sort,
      skip: req.skip,
      limit: req.limit,
      sortMemoryLimitBytes: sortLimit(instance),
      allowDiskUse: req.allowDiskUse,
    });
    function* documents(): Generator<Document> {
      for (const c of candidates) yield projection ? applyProjection(projection, c.doc, { positionalMatch: c.positional }) : c.doc;
    }
    const limit = req.limit && req.limit > 0 ? req.limit : undefined;
    let batchSize = req.batchSize ?? FIND_DEFAULT_BATCH_SIZE;
    if (limit !== undefined && (req.batchSize === undefined || limit < batchSize)) batchSize = limit;
    try {
      return cursorReply(ctx, {
        ns: `${ctx.db}.${req.collection}`,
        source: documents(),
        txn,
        batchSize: req.batchSize === 0 ? 0 : batchSize,
        singleBatch: req.singleBatch,
        tailable: req.tailable,
        awaitData: req.awaitData,
        noCursorTimeout: req.noCursorTimeout,
        comment: ctx.generic.comment,
      });
    } catch (e) {
      endRead(ctx, read);
      throw e;
    }
  },
};
