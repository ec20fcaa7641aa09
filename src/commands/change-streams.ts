/**
 * Change streams on the command side: an aggregate whose pipeline starts with $changeStream
 * opens a tailable, awaitData cursor over the oplog (the stream itself is
 * src/query/aggregate/change-stream.ts).
 *
 * The cursor holds no storage snapshot. Each read runs one pass of the stream, through the user's
 * stages, until it catches up with the oplog; a getMore that finds nothing waits (up to
 * maxAwaitTimeMS) with the awaitData loop tailable cursors already use, so a write from another
 * connection wakes it on the next poll. Every batch carries `postBatchResumeToken`.
 */
import { DossierError, fail } from '../base/index.js';
import { FIND_DEFAULT_BATCH_SIZE } from '../base/limits.js';
import { isDocument, type Document } from '../bson/index.js';
import {
  chainStages, ChangeStream, changeStreamScope, executorError, parseChangeStreamSpec, PipelineRun, STAGES_ALLOWED_IN_CHANGE_STREAM, type ChangeStreamHost,
} from '../query/aggregate/index.js';
import { errorLabelsFor } from '../sessions/index.js';
import { CursorManager, cursorIdToLong, type ClientCursor, type CursorSource } from './cursors.js';
import type { Instance } from './instance.js';
import type { CommandContext } from './types.js';
import { compileAggregate, runContextFor, type AggregateRequest } from './handlers/aggregate.js';

/** Whether an aggregate's pipeline opens a change stream. */
export function opensChangeStream(pipeline: unknown): boolean {
  return Array.isArray(pipeline) && isDocument(pipeline[0]) && Object.keys(pipeline[0])[0] === '$changeStream';
}

/** What a change stream reads from this instance. */
function streamHost(instance: Instance): ChangeStreamHost {
  const { engine } = instance;
  return {
    readOplog: (from, upTo) => engine.readOplog(from, upTo),
    oplogAt(rid) {
      if (rid < 0) return undefined;
      try {
        for (const r of engine.readOplog(rid, Infinity)) return r;
      } catch {
        // Truncated away: the caller treats it as absent.
      }
      return undefined;
    },
    oplogRidAtOrAfter: (ts) => engine.oplogRidAtOrAfter(ts),
    oldestOplogTs: () => engine.oldestOplogTs(),
    // mongod's change streams read majority-committed data: with a journal, what is durable.
    visibleTs: () => {
      const journal = instance.persistence?.journal;
      return journal ? Math.min(engine.lastCommitTs, journal.lastDurableTs) : engine.lastCommitTs;
    },
    lookupDocument(db, collName, uuid, documentKey) {
      const coll = instance.getCollection(db, collName);
      if (!coll || (uuid !== undefined && !coll.uuid.equals(uuid))) return null;
      const txn = engine.begin();
      try {
        return txn.findById(coll, documentKey._id)?.doc ?? null;
      } finally {
        engine.abort(txn);
      }
    },
    preImage: (uuid, ts, applyOpsIndex) => engine.preImage(uuid, ts, applyOpsIndex),
  };
}

/** The aggregate command for a pipeline that starts with $changeStream. */
export async function runChangeStreamAggregate(ctx: CommandContext, req: AggregateRequest): Promise<Document> {
  const { instance } = ctx;
  // Parsing the whole pipeline first gives mongod's errors for unknown stages, $changeStream out
  // of place, and in a transaction.
  const compiled = compileAggregate(ctx, req);
  const defs = compiled.parsed.definitions;
  for (const def of defs.slice(1)) {
    if (!STAGES_ALLOWED_IN_CHANGE_STREAM.has(def.name)) fail('IllegalOperation', `${def.name} is not permitted in a $changeStream pipeline`);
  }
  const spec = parseChangeStreamSpec(req.pipeline[0]!.$changeStream);
  const scope = changeStreamScope(spec, ctx.db, req.collection);
  const stream = new ChangeStream(spec, scope, streamHost(instance), instance.engine.lastCommitTs + 1);
  const userStages = compiled.parsed.stages.slice(1);
  // The user's stages only reshape events; they read no collection, so an ended snapshot serves as their host's.
  const idle = instance.engine.begin();
  instance.engine.abort(idle);
  const rctx = runContextFor(ctx, req, compiled, idle);

  let run: PipelineRun | undefined;
  let caughtUp = false;
  const nextAsync = async (): Promise<Document | undefined> => {
    if (!run || run.exhausted) {
      run = new PipelineRun(chainStages(userStages, stream.events(rctx), rctx), {
        yieldToEventLoop: () => new Promise((resolve) => setImmediate(resolve)),
        nowMs: () => instance.clock.monotonicMs(),
        wrapError: (e) => executorError(e),
      });
    }
    const doc = await run.next();
    caughtUp = doc === undefined;
    if (doc !== undefined) stream.checkResumeToken(doc);
    return doc;
  };
  const source: CursorSource = {
    next: () => fail('InternalError', 'a change stream cursor is read asynchronously'),
    return: (value?: Document) => {
      run?.close();
      return { done: true, value: value as Document };
    },
  };

  const ns = scope.kind === 'collection' ? `${ctx.db}.${req.collection}` : `${ctx.db}.$cmd.aggregate`;
  const state = { peeked: undefined as Document | undefined };
  const batchSize = req.batchSize ?? FIND_DEFAULT_BATCH_SIZE;
  let batch: Document[];
  try {
    ({ batch } = await CursorManager.readBatchAsync(nextAsync, batchSize, state));
  } catch (e) {
    run?.close();
    throw e;
  }
  const postBatchResumeToken = stream.postBatchResumeToken(batch[batch.length - 1], caughtUp && state.peeked === undefined);
  let id = 0n;
  if (!(stream.invalidated && caughtUp && state.peeked === undefined)) {
    const cursor: ClientCursor = instance.cursors.register(
      {
        ns,
        source,
        nextAsync,
        txn: undefined,
        lsid: ctx.generic.lsid,
        sessionKey: ctx.session?.key,
        txnNumber: ctx.txnNumber,
        inTransaction: false,
        connectionId: ctx.connection.id,
        tailable: true,
        keepTailing: () => !stream.invalidated,
        awaitData: true,
        noCursorTimeout: false,
        comment: ctx.generic.comment,
        originatingCommand: ctx.body,
        changeStream: {
          postBatchResumeToken: (last) => stream.postBatchResumeToken(last, caughtUp && cursor.peeked === undefined),
        },
      },
      state.peeked,
    );
    cursor.nReturned = batch.length;
    id = cursor.id;
  } else run?.close();
  return { cursor: { firstBatch: batch, postBatchResumeToken, id: cursorIdToLong(id), ns } };
}

/**
 * Labels an error a change stream's getMore raised after checking out its cursor, by mongod's
 * rules (ResumableChangeStreamError tells the driver to resume).
 */
export function labelChangeStreamError(e: unknown): void {
  if (!(e instanceof DossierError) || e.errorLabels.length > 0) return;
  const labels = errorLabelsFor({ commandName: 'getMore', hasTxnNumber: false, hasAutocommit: false, code: e.code, writeConcernCode: undefined, noWritesPerformed: true, changeStream: true });
  for (const l of labels) e.addLabel(l);
}
