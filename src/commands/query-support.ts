/**
 * What the CRUD handlers share: compiling filters, sorts and hints through the query layer,
 * running a statement in an autocommit storage transaction, and answering with a cursor.
 */
import { fail, failLocation } from '../base/index.js';
import { parseCollationArgument, type BsonValue, type Collator, type Document } from '../bson/index.js';
import type { Collection, CommitOptions, StorageTxn } from '../storage/index.js';
import { timestampOf } from '../time/index.js';
import { systemClock } from '../platform/index.js';
import { expressionHook, type ExpressionHookOptions } from '../query/aggregate/index.js';
import { matches, parseFilter, type FilterNode } from '../query/filter/index.js';
import { parseSort, type SortSpec } from '../query/sort.js';
import { parseHint, planQuery, type Hint, type PlannedQuery } from '../query/planner.js';
import type { MatcherFactory } from '../query/update/index.js';
import { CursorManager, cursorIdToLong, type CursorSource } from './cursors.js';
import type { CommandContext } from './types.js';
import type { Instance } from './instance.js';

/** Builds predicates for update/projection operators that evaluate filters ($pull, arrayFilters, $elemMatch). */
export const matcherFactory: MatcherFactory = matcherFactoryFor(null);

/** The same, comparing strings by the operation's collation (arrayFilters, $pull conditions). */
export function matcherFactoryFor(collator: Collator | null): MatcherFactory {
  return (filter) => {
    const node = compileFilter(filter, undefined, undefined, collator);
    return (candidate) => matches(node, candidate);
  };
}

/**
 * Parses a filter, with `$expr` evaluated by the aggregation expression language. `now` is
 * `$$NOW`; callers with an instance pass its clock's time.
 */
export function compileFilter(filter: Document | undefined, now: Date = new Date(systemClock.nowMs()), lets?: Document, collator: Collator | null = null): FilterNode {
  // Fields assigned, not spread: filters are compiled per command, and spreads are V8's slow path on Node 20.
  const env: ExpressionHookOptions = { now };
  if (lets) env.let = lets;
  if (collator) env.collator = collator;
  return parseFilter(filter ?? {}, { parseExpression: expressionHook(env), collator });
}

/**
 * A command's `collation` argument, validated: undefined when absent or `{}` (the collection's
 * default then applies), null for simple, else the collator.
 */
export function parseCollation(collation: BsonValue): Collator | null | undefined {
  return parseCollationArgument(collation);
}

/** The collation an operation runs with: its own, else the collection's default, else simple. */
export function effectiveCollation(requested: Collator | null | undefined, coll: Collection | undefined): Collator | null {
  if (requested !== undefined) return requested;
  return coll?.defaultCollator ?? null;
}

export interface CompiledQuery {
  filter: FilterNode;
  filterDoc: Document;
  sort: SortSpec | undefined;
  planned: PlannedQuery;
  /** The collation the query runs with (null: simple). */
  collator: Collator | null;
}

/** `collation` is the command's parsed argument; undefined means the collection's default. */
export function compileQuery(
  coll: Collection | undefined,
  filterDoc: Document | undefined,
  sortDoc: Document | undefined,
  hintValue: BsonValue,
  now?: Date,
  lets?: Document,
  collation?: Collator | null,
): CompiledQuery {
  const collator = effectiveCollation(collation, coll);
  const filter = compileFilter(filterDoc, now, lets, collator);
  const sort = sortDoc && Object.keys(sortDoc).length > 0 ? parseSort(sortDoc, collator) : undefined;
  const hint: Hint = parseHint(hintValue);
  return { filter, filterDoc: filterDoc ?? {}, sort, planned: planQuery(coll, filter, filterDoc ?? {}, sort, hint, collator), collator };
}

/** Runs `work` as one autocommit storage transaction: committed if it returns, aborted if it throws. */
export function autocommit<T>(instance: Instance, work: (txn: StorageTxn) => T, options?: CommitOptions): T {
  const txn = instance.engine.begin();
  try {
    const result = work(txn);
    instance.engine.commit(txn, options);
    return result;
  } catch (e) {
    instance.engine.abort(txn);
    throw e;
  }
}

/** mongod's IDL bounds for find/aggregate numeric options (limit, skip, batchSize). */
export function nonNegative(commandField: string, n: number | undefined): number | undefined {
  if (n !== undefined && n < 0) failLocation(51024, `BSON field '${commandField}' value must be >= 0, actual value '${n}'`);
  return n;
}

export interface CursorReplyOptions {
  ns: string;
  source: CursorSource;
  /** An asynchronous reader of the same source, used by getMore (see ClientCursor.nextAsync). */
  nextAsync?: () => Promise<Document | undefined>;
  /** The snapshot the source reads from; ended with the cursor. */
  txn: StorageTxn | undefined;
  batchSize: number | undefined;
  singleBatch: boolean;
  tailable?: boolean;
  /** A tailable cursor's rule for staying open once it has read everything there is for now. */
  keepTailing?: () => boolean;
  awaitData?: boolean;
  noCursorTimeout?: boolean;
  /** The name of the batch field: firstBatch. */
  comment?: BsonValue;
}

/** Serves the first batch and, if more remains, registers a cursor for getMore. */
export function cursorReply(ctx: CommandContext, o: CursorReplyOptions): Document {
  const state = { peeked: undefined as Document | undefined };
  const { batch, exhausted } = CursorManager.readBatch(o.source, o.batchSize, state);
  let id = 0n;
  const ownsTxn = o.txn !== undefined && o.txn !== ctx.transaction;
  if ((!exhausted || o.keepTailing?.() === true) && !o.singleBatch) {
    const cursor = ctx.instance.cursors.register(
      {
        ns: o.ns,
        source: o.source,
        nextAsync: o.nextAsync,
        txn: o.txn,
        lsid: ctx.generic.lsid,
        sessionKey: ctx.session?.key,
        txnNumber: ctx.txnNumber,
        inTransaction: ctx.inTransaction,
        connectionId: ctx.connection.id,
        tailable: o.tailable === true,
        ...(o.keepTailing ? { keepTailing: o.keepTailing } : {}),
        awaitData: o.awaitData === true,
        noCursorTimeout: o.noCursorTimeout === true,
        comment: o.comment,
        originatingCommand: ctx.body,
      },
      state.peeked,
    );
    cursor.nReturned = batch.length;
    id = cursor.id;
    if (ctx.inTransaction) ctx.session?.transactionCursors.add(id);
  } else {
    o.source.return?.(undefined);
    if (ownsTxn && o.txn!.isActive) ctx.instance.engine.abort(o.txn!);
  }
  const cursor: Document = { firstBatch: batch, id: cursorIdToLong(id), ns: o.ns };
  if (ctx.snapshotRead && o.txn) cursor.atClusterTime = timestampOf(o.txn.readTs);
  return { cursor };
}

/**
 * The storage transaction a read runs in: the multi-document transaction's own, or a fresh
 * snapshot at the read concern's timestamp that the caller owns (and must end, or hand to a cursor).
 */
export function readTransaction(ctx: CommandContext): { txn: StorageTxn; owned: boolean } {
  if (ctx.transaction) return { txn: ctx.transaction, owned: false };
  return { txn: ctx.instance.engine.begin(ctx.readTimestamp), owned: true };
}

/** Ends a read transaction obtained from readTransaction, if the caller owns it. */
export function endRead(ctx: CommandContext, read: { txn: StorageTxn; owned: boolean }): void {
  if (read.owned && read.txn.isActive) ctx.instance.engine.abort(read.txn);
}

