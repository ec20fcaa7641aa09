/**
 * The session side of the command pipeline: which generic arguments may go together (as mongod's
 * initializeOperationSessionInfo), checking a session out and running the transaction
 * participant's beginOrContinue, and what a statement of a transaction may and may not carry.
 */
import { fail, failLocation } from '../base/index.js';
import { toJsNumber, typeNameOf } from '../bson/index.js';
import { parseLsid, type Session } from '../sessions/index.js';
import type { StorageTxn } from '../storage/index.js';
import type { GenericArguments } from './generic.js';
import type { Instance } from './instance.js';
import type { CommandDefinition } from './types.js';
import { readTimestampFor } from './read-concern.js';

const COMMIT_OR_ABORT = new Set(['commitTransaction', 'abortTransaction']);
const TRANSACTION_READ_CONCERN_LEVELS = new Set(['local', 'majority', 'snapshot']);
const DATABASES_WITHOUT_TRANSACTIONS = new Set(['config', 'admin', 'local']);

export function isCommitOrAbort(name: string): boolean {
  return COMMIT_OR_ABORT.has(name);
}

export interface SessionInfo {
  session: Session | undefined;
  txnNumber: bigint | undefined;
  inTransaction: boolean;
  retryableWrite: boolean;
}

export function txnNumberOf(generic: GenericArguments): bigint | undefined {
  const v = generic.txnNumber;
  if (v === undefined) return undefined;
  const t = typeNameOf(v);
  const n = t === 'long' ? BigInt(v.toString()) : BigInt(Math.trunc(toJsNumber(v)));
  if (n < 0n) fail('BadValue', 'Transaction number cannot be negative');
  return n;
}

/** mongod's rules for lsid / txnNumber / autocommit / startTransaction on one request. */
export function validateSessionArguments(def: CommandDefinition, generic: GenericArguments): void {
  if (generic.txnNumber !== undefined && generic.lsid === undefined) fail('InvalidOptions', 'Transaction number requires a sessionId to be specified');
  if (generic.autocommit !== undefined && generic.txnNumber === undefined) fail('InvalidOptions', "'autocommit' field requires a transaction number to be specified");
  if (generic.startTransaction !== undefined && generic.autocommit === undefined) fail('InvalidOptions', "'startTransaction' field requires 'autocommit' field to also be specified");
  if (generic.autocommit === true) fail('InvalidOptions', 'Specifying autocommit=true is not allowed.');
  if (generic.startTransaction === false) fail('InvalidOptions', 'Specifying startTransaction=false is not allowed.');
  if (generic.txnNumber !== undefined && generic.autocommit === undefined && !def.retryableWrite) {
    failLocation(50768, `txnNumber may only be provided for multi-document transactions and retryable write commands. autocommit:false was not provided, and ${def.name} is not a retryable write command.`);
  }
}

/**
 * Checks the session out (a session runs one command at a time) and moves its transaction
 * state machine. The caller must check the session back in.
 */
export async function checkOutSession(instance: Instance, generic: GenericArguments): Promise<Session | undefined> {
  if (generic.lsid === undefined) return undefined;
  const session = instance.sessions.getOrCreate(parseLsid(generic.lsid));
  await session.checkOut();
  return session;
}

export function beginOrContinue(instance: Instance, def: CommandDefinition, db: string, generic: GenericArguments, session: Session | undefined): SessionInfo {
  const txnNumber = txnNumberOf(generic);
  if (!session || txnNumber === undefined) return { session, txnNumber, inTransaction: false, retryableWrite: false };
  const inTransaction = generic.autocommit === false;
  if (inTransaction) {
    if (!def.allowedInTransaction) fail('OperationNotSupportedInTransaction', `Cannot run '${def.name}' in a multi-document transaction.`);
    // Admin-only commands that act on other namespaces (commit, abort, bulkWrite) run against admin.
    if (DATABASES_WITHOUT_TRANSACTIONS.has(db) && !def.adminOnly) {
      fail('OperationNotSupportedInTransaction', `Cannot run command against the '${db}' database in a transaction.`);
    }
    if (generic.writeConcern !== undefined && !isCommitOrAbort(def.name)) fail('InvalidOptions', 'writeConcern is not allowed within a multi-statement transaction');
    const rc = generic.readConcern;
    if (rc?.level !== undefined && !TRANSACTION_READ_CONCERN_LEVELS.has(rc.level)) {
      fail('InvalidOptions', "The readConcern level must be either 'local' (default), 'majority' or 'snapshot' in order to run in a transaction");
    }
    if (isCommitOrAbort(def.name) && generic.startTransaction) fail('InvalidOptions', `Cannot start a transaction with a ${def.name} command`);
  }
  session.beginOrContinue(instance.engine, txnNumber, generic.autocommit, generic.startTransaction, () => {
    const readTs = readTimestampFor(instance, generic.readConcern, true);
    session.storageTxn = instance.engine.begin(readTs);
    instance.transactionCounters.totalStarted++;
    session.expireAtMs = instance.clock.nowMs() + instance.parameters.getNumber('transactionLifetimeLimitSeconds') * 1000;
    session.readConcern = { level: generic.readConcern?.level === 'snapshot' ? 'snapshot' : generic.readConcern?.level === 'majority' ? 'majority' : 'local' };
  });
  if (inTransaction && !isCommitOrAbort(def.name)) {
    if (!generic.startTransaction && generic.readConcern !== undefined && Object.keys(generic.readConcern).length > 0) {
      fail('InvalidOptions', 'Only the first command in a transaction may specify a readConcern');
    }
    session.assertStatementAllowed();
  }
  return { session, txnNumber, inTransaction, retryableWrite: !inTransaction };
}

/** The storage transaction a transaction statement runs in. */
export function transactionOf(info: SessionInfo): StorageTxn | undefined {
  return info.inTransaction && info.session?.inTransaction ? info.session.storageTxn : undefined;
}
