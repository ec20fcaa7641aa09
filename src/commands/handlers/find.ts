import { FIND_DEFAULT_BATCH_SIZE } from '../../base/limits.js';
import type { Document } from '../../bson/index.js';
import { runQuery, newStats } from '../../query/executor.js';
import { expressionHook } from '../../query/aggregate/index.js';
import { explainPlan } from '../../query/planner.js';
import { applyProjection, parseProjection } from '../../query/projection/index.js';
import { CommandArgs, collectionNameArg } from '../args.js';
import { compileQuery, cursorReply, endRead, matcherFactory, nonNegative, readTransaction, rejectCollation } from '../query-support.js';
import { sortLimit } from '../write-support.js';
import { validateCollectionName } from '../namespaces.js';
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
}

export function parseFind(ctx: CommandContext): FindRequest {
  const collection = collectionNameArg('find', ctx.body);
  validateCollectionName(ctx.db, collection);
  const a = new CommandArgs('find', ctx.body);
  a.rejectUnknown(FIND_FIELDS);
  rejectCollation(ctx.body.collation);
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
  };
}

export function explainFind(ctx: CommandContext, verbosity: string): Document {
  const req = parseFind(ctx);
  const coll = ctx.instance.getCollection(ctx.db, req.collection);
  const q = compileQuery(coll, req.filter, req.sort, req.hint, new Date(ctx.instance.clock.nowMs()), req.let);
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
    const coll = instance.getCollection(ctx.db, req.collection);
    const q = compileQuery(coll, req.filter, req.sort, req.hint, new Date(instance.clock.nowMs()), req.let);
    const projection = req.projection && Object.keys(req.projection).length > 0 ? parseProjection(req.projection, { matcherFactory, parseExpression: expressionHook({ now: new Date(instance.clock.nowMs()) }) }) : undefined;
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
