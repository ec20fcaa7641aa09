/**
 * How a write commits. Inside a multi-document transaction it goes into the transaction's storage
 * transaction and commits with it. Outside, each statement is its own storage transaction; when it
 * meets a record an open transaction holds (WriteConflict), it waits for that transaction to end
 * and retries, as mongod's single-statement writes do. A retryable write's statements carry lsid,
 * txnNumber, stmtId and prevOpTime into the oplog, and the results of executed statements are
 * kept so a retry answers without writing again.
 */
import { ErrorCodes, fail } from '../base/index.js';
import { failPointsOf, requestCloseAfterCommand } from './failpoints.js';
import { Long, type Document } from '../bson/index.js';
import { blockingTransactionOf, CURRENT_TERM, type StorageTxn } from '../storage/index.js';
import { timestampOf, type TsKey } from '../time/index.js';
import type { Session } from '../sessions/index.js';
import type { Instance } from './instance.js';
import type { CommandContext } from './types.js';

/** Bound on immediate retries when a conflict has no open transaction to wait for. */
const CONFLICT_RETRIES_MAX = 1000;
export const CONFIG_TRANSACTIONS = { db: 'config', name: 'transactions' } as const;

export function opTimeOf(ts: TsKey | undefined): Document {
  return ts === undefined ? { ts: timestampOf(0), t: Long.fromNumber(-1) } : { ts: timestampOf(ts), t: Long.fromNumber(CURRENT_TERM) };
}

/** The session fields of a write's oplog entry (retryable writes and transactions). */
export function sessionOplogFields(session: Session, txnNumber: bigint, stmtId: number | undefined): Document {
  const fields: Document = { lsid: session.lsid, txnNumber: Long.fromBigInt(txnNumber) };
  if (stmtId !== undefined) fields.stmtId = stmtId;
  fields.prevOpTime = opTimeOf(session.lastWriteTs);
  return fields;
}

/** Waits for `wait`, failing with MaxTimeMSExpired once the command's maxTimeMS has passed. */
function waitWithDeadline(ctx: CommandContext, wait: Promise<void>): Promise<void> {
  const maxTimeMS = ctx.generic.maxTimeMS;
  if (!maxTimeMS) return wait;
  return new Promise<void>((resolve, reject) => {
    const timer = ctx.instance.clock.setTimer(maxTimeMS, () => {
      try {
        fail('MaxTimeMSExpired', 'operation exceeded time limit');
      } catch (e) {
        reject(e);
      }
    });
    void wait.then(() => {
      timer.cancel();
      resolve();
    });
  });
}

/** Runs one write statement; see the module comment. */
export async function runWrite<T>(ctx: CommandContext, stmtId: number | undefined, work: (txn: StorageTxn) => T): Promise<T> {
  if (ctx.transaction) return work(ctx.transaction);
  const { instance } = ctx;
  for (let attempt = 0; ; attempt++) {
    const txn = instance.engine.begin();
    let result: T;
    try {
      result = work(txn);
    } catch (e) {
      instance.engine.abort(txn);
      if (!(e instanceof Error) || (e as { code?: number }).code !== ErrorCodes.WriteConflict) throw e;
      const blocker = blockingTransactionOf(e);
      if (blocker) await waitWithDeadline(ctx, blocker.whenEnded());
      else if (attempt >= CONFLICT_RETRIES_MAX) throw e;
      continue;
    }
    const retryable = ctx.retryableWrite && ctx.session !== undefined && ctx.txnNumber !== undefined;
    if (retryable) {
      const injected = failPointsOf(instance).onPrimaryTransactionalWrite();
      if (injected?.closeConnection) requestCloseAfterCommand(ctx.connection);
      if (injected?.error) {
        instance.engine.abort(txn);
        throw injected.error;
      }
    }
    let ts: TsKey | null;
    try {
      ts = instance.engine.commit(txn, retryable ? { oplogFields: sessionOplogFields(ctx.session!, ctx.txnNumber!, stmtId) } : {});
    } catch (e) {
      // A commit the journal refused (full or failing disk) leaves nothing behind.
      instance.engine.abort(txn);
      throw e;
    }
    if (retryable && ts !== null) {
      ctx.session!.lastWriteTs = ts;
      ctx.session!.transactionRecordStale = true;
    }
    return result;
  }
}

/**
 * Keeps config.transactions current: one document per session with its last write, as mongod's
 * session transaction table. It is bookkeeping, not replicated: no oplog entry of its own.
 */
export function recordSessionWrite(instance: Instance, session: Session, txnNumber: bigint, ts: TsKey, state: 'committed' | undefined): void {
  session.lastWriteTs = ts;
  session.transactionRecordStale = false;
  const coll = instance.ensureCollection(CONFIG_TRANSACTIONS.db, CONFIG_TRANSACTIONS.name);
  const record: Document = { _id: session.lsid, txnNum: Long.fromBigInt(txnNumber), lastWriteOpTime: opTimeOf(ts), lastWriteDate: new Date(instance.clock.nowMs()) };
  if (state) record.state = state;
  const txn = instance.engine.begin();
  try {
    const existing = txn.findById(coll, session.lsid);
    if (existing) txn.update(coll, existing.rid, record);
    else txn.insert(coll, record);
    instance.engine.commit(txn, { unreplicated: true });
  } catch (e) {
    instance.engine.abort(txn);
    throw e;
  }
}

/**
 * A retryable write statement: executed once per (session, txnNumber, stmtId). A retry of a
 * statement that already ran returns the recorded result instead of writing again.
 */
export async function retryableStatement<R extends Document>(ctx: CommandContext, stmtId: number, execute: () => Promise<R>): Promise<{ result: R; retried: boolean }> {
  const session = ctx.session;
  if (!ctx.retryableWrite || !session) return { result: await execute(), retried: false };
  const prior = session.executed.get(stmtId);
  if (prior) return { result: prior as R, retried: true };
  const result = await execute();
  session.executed.set(stmtId, result);
  ctx.instance.engine.logStatementResult(session.lsid, session.activeTxnNumber, stmtId, result);
  return { result, retried: false };
}

/** The stmtId of statement `i` of a batch: from `stmtIds`, or `stmtId` + i, or i, as mongod assigns them. */
export function stmtIdFor(body: Document, i: number): number {
  if (Array.isArray(body.stmtIds) && body.stmtIds[i] !== undefined) return Number(body.stmtIds[i].valueOf?.() ?? body.stmtIds[i]);
  if (body.stmtId !== undefined) return Number(body.stmtId.valueOf?.() ?? body.stmtId) + i;
  return i;
}
