/**
 * Error labels, computed in one place from mongod's rules (error_labels.cpp):
 * TransientTransactionError for transaction statements, RetryableWriteError (+ NoWritesPerformed)
 * for retryable writes and for commit/abort of transactions, ResumableChangeStreamError /
 * NonResumableChangeStreamError for change streams.
 */
import { ErrorCodes, NeedRetargettingErrorCodes, NetworkErrorCodes, NonResumableChangeStreamErrorCodes, RetriableErrorCodes, type ErrorLabel } from '../base/index.js';

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
  /**
   * The command is a change stream's aggregate, or a getMore that had checked out a change
   * stream's cursor (mongod reads the originating command from the pinned cursor, so a getMore
   * failed before that, e.g. by failCommand, is not labelled).
   */
  changeStream?: boolean;
}

/** Errors a driver may resume a change stream after (mongod's isResumableChangeStreamError). */
export function isResumableChangeStreamError(code: number): boolean {
  return RetriableErrorCodes.has(code) || NetworkErrorCodes.has(code) || NeedRetargettingErrorCodes.has(code) || code === ErrorCodes.RetryChangeStream || code === ErrorCodes.FailedToSatisfyReadPreference;
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
  if (i.code !== undefined && i.writeConcernCode === undefined && i.changeStream === true && isResumableChangeStreamError(i.code)) return ['ResumableChangeStreamError'];
  if (i.code !== undefined && NonResumableChangeStreamErrorCodes.has(i.code)) return ['NonResumableChangeStreamError'];
  return [];
}
