/**
 * Error labels, computed in one place from mongod's rules (error_labels.cpp):
 * TransientTransactionError for transaction statements, RetryableWriteError (+ NoWritesPerformed)
 * for retryable writes and for commit/abort of transactions.
 */
import { ErrorCodes, RetriableErrorCodes, type ErrorLabel } from '../base/index.js';

const COMMIT_OR_ABORT = new Set(['commitTransaction', 'abortTransaction']);

const SNAPSHOT_ERRORS: ReadonlySet<number> = new Set([ErrorCodes.SnapshotTooOld, ErrorCodes.SnapshotUnavailable, 250, 272]);

export interface LabelInputs {
  commandName: string;
  /** The command carried a txnNumber. */
  hasTxnNumber: boolean;
  /** The command carried autocommit (always false when present): a transaction statement. */
  hasAutocommit: boolean;
  code: number | undefined;
  writeConcernCode: number | undefined;
  /** The last write's timestamp did not move while the command ran. */
  noWritesPerformed: boolean;
}

export function isTransientTransactionError(code: number, hasWriteConcernError: boolean, isCommitOrAbort: boolean): boolean {
  switch (code) {
    case ErrorCodes.WriteConflict:
    case ErrorCodes.LockTimeout:
    case ErrorCodes.PreparedTransactionInProgress:
      return true;
  }
  if (SNAPSHOT_ERRORS.has(code)) return true;
  if (isCommitOrAbort) return code === ErrorCodes.NoSuchTransaction && !hasWriteConcernError;
  return RetriableErrorCodes.has(code) || code === ErrorCodes.NoSuchTransaction;
}

export function errorLabelsFor(i: LabelInputs): ErrorLabel[] {
  const commitOrAbort = COMMIT_OR_ABORT.has(i.commandName);
  if (i.code !== undefined && i.hasTxnNumber && i.hasAutocommit && isTransientTransactionError(i.code, i.writeConcernCode !== undefined, commitOrAbort)) {
    return ['TransientTransactionError'];
  }
  const retryableWrite = i.hasTxnNumber && !i.hasAutocommit;
  const txnCommitOrAbort = i.hasTxnNumber && i.hasAutocommit && commitOrAbort;
  if (retryableWrite || txnCommitOrAbort) {
    const retriable = (i.code !== undefined && RetriableErrorCodes.has(i.code)) || (i.writeConcernCode !== undefined && RetriableErrorCodes.has(i.writeConcernCode));
    if (retriable) return i.noWritesPerformed ? ['RetryableWriteError', 'NoWritesPerformed'] : ['RetryableWriteError'];
  }
  return [];
}
