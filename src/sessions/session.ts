/**
 * One logical session and its transaction participant: the txnNumber state machine as mongod's
 * TransactionParticipant::beginOrContinue runs it, the storage transaction a multi-document
 * transaction holds open across commands, and the statements a retryable write already executed.
 */
import { DossierError, ErrorCodes, fail } from '../base/index.js';
import type { Document } from '../bson/index.js';
import type { StorageEngine, StorageTxn } from '../storage/index.js';
import type { TsKey } from '../time/index.js';
import { lsidToString } from './lsid.js';

export type TxnState = 'none' | 'inProgress' | 'committed' | 'aborted';
export type TxnMode = 'none' | 'retryableWrite' | 'transaction';

export interface TransactionReadConcern {
  level: 'local' | 'majority' | 'snapshot';
  atClusterTime?: TsKey;
}

function txnLabel(n: bigint): string {
  return `{ txnNumber: ${n} }`;
}

export class Session {
  lastUseMs: number;
  activeTxnNumber = -1n;
  mode: TxnMode = 'none';
  state: TxnState = 'none';
  /** The open storage transaction of an in-progress multi-document transaction. */
  storageTxn: StorageTxn | undefined;
  readConcern: TransactionReadConcern | undefined;
  /** Whether a statement of the current transaction has run (the first one fixes the readConcern). */
  statementsRun = 0;
  expireAtMs: number | undefined;
  /** Why the current transaction was aborted by the server (lifetime limit, kill). */
  abortReason: string | undefined;
  /** Commit timestamp of the last committed transaction (for commit retries' operationTime). */
  commitTs: TsKey | null | undefined;
  /** Results of the statements the active retryable write already executed, by stmtId. */
  readonly executed = new Map<number, Document>();
  /** Timestamp of this session's last write: the next oplog entry's prevOpTime. */
  lastWriteTs: TsKey | undefined;
  /** A write since config.transactions last recorded this session (it is written once per command). */
  transactionRecordStale = false;
  /** Cursors opened inside the active transaction: they may not outlive it. */
  readonly transactionCursors = new Set<bigint>();
  ended = false;
  /** Told when a transaction stops being in progress (commit or abort), so its cursors can go. */
  onTransactionEnd: ((session: Session) => void) | undefined;
  private inUse = false;
  private readonly waiters: Array<() => void> = [];

  constructor(
    readonly lsid: Document,
    readonly key: string,
    nowMs: number,
  ) {
    this.lastUseMs = nowMs;
  }

  /** Sessions run one command at a time; a second command waits for the first. */
  async checkOut(): Promise<void> {
    while (this.inUse) await new Promise<void>((resolve) => this.waiters.push(resolve));
    this.inUse = true;
  }

  checkIn(nowMs: number): void {
    this.inUse = false;
    this.lastUseMs = nowMs;
    this.waiters.shift()?.();
  }

  get isCheckedOut(): boolean {
    return this.inUse;
  }

  get inTransaction(): boolean {
    return this.mode === 'transaction' && this.state === 'inProgress';
  }

  /**
   * mongod's beginOrContinue: validates the request's txnNumber/autocommit/startTransaction against
   * the session's state, starting a new retryable write or transaction when the number is new.
   * `onNewTransaction` opens the storage transaction for a starting multi-document transaction.
   */
  beginOrContinue(engine: StorageEngine, txnNumber: bigint, autocommit: boolean | undefined, startTransaction: boolean | undefined, begin: () => void): void {
    if (txnNumber < this.activeTxnNumber) {
      const current = this.mode === 'retryableWrite' ? 'retryable write' : 'transaction';
      if (autocommit === undefined) {
        fail('TransactionTooOld', `Retryable write with txnNumber ${txnNumber} is prohibited on session ${lsidToString(this.lsid)} because a newer ${current} with txnNumber ${this.activeTxnNumber} has already started on this session.`);
      }
      fail('TransactionTooOld', `Cannot start transaction with { txnNumber: ${txnNumber} } on session ${lsidToString(this.lsid)} because a newer ${current} with txnNumberAndRetryCounter { txnNumber: ${this.activeTxnNumber}, txnRetryCounter: 0 } has already started on this session.`);
    }
    if (autocommit === undefined) {
      if (txnNumber > this.activeTxnNumber) {
        this.abortOpenTransaction(engine, 'a newer retryable write started');
        this.activeTxnNumber = txnNumber;
        this.mode = 'retryableWrite';
        this.state = 'none';
        this.executed.clear();
        return;
      }
      if (this.mode !== 'retryableWrite') fail('IncompleteTransactionHistory', 'Cannot retry a retryable write that has been converted into a transaction');
      return;
    }
    if (!startTransaction) {
      if (txnNumber !== this.activeTxnNumber || this.mode !== 'transaction') {
        fail('NoSuchTransaction', `Given transaction number ${txnNumber} does not match any in-progress transactions. The active transaction number is ${this.activeTxnNumber}`);
      }
      return;
    }
    if (txnNumber === this.activeTxnNumber) {
      fail('ConflictingOperationInProgress', 'Only servers in a sharded cluster can start a new transaction at the active transaction number');
    }
    this.abortOpenTransaction(engine, 'a newer transaction started');
    this.activeTxnNumber = txnNumber;
    this.mode = 'transaction';
    this.state = 'inProgress';
    this.statementsRun = 0;
    this.readConcern = undefined;
    this.abortReason = undefined;
    this.commitTs = undefined;
    this.executed.clear();
    begin();
  }

  /** A statement (not commit/abort) of the active transaction may run only while it is in progress. */
  assertStatementAllowed(): void {
    if (this.state === 'committed') fail('TransactionCommitted', `Transaction with ${txnLabel(this.activeTxnNumber)} has been committed.`);
    if (this.state === 'aborted') throw this.abortedError();
  }

  abortedError(): DossierError {
    return new DossierError(ErrorCodes.NoSuchTransaction, `Transaction with ${txnLabel(this.activeTxnNumber)} has been aborted.`);
  }

  committedError(): DossierError {
    return new DossierError(ErrorCodes.TransactionCommitted, `Transaction with ${txnLabel(this.activeTxnNumber)} has been committed.`);
  }

  /** Ends the in-progress transaction without publishing anything. */
  abortOpenTransaction(engine: StorageEngine, reason?: string): boolean {
    if (this.mode !== 'transaction' || this.state !== 'inProgress') return false;
    if (this.storageTxn) engine.abort(this.storageTxn);
    this.storageTxn = undefined;
    this.state = 'aborted';
    this.abortReason = reason;
    this.transactionEnded();
    return true;
  }

  /** Publishes the in-progress transaction's writes at one timestamp (null: it wrote nothing). */
  commitOpenTransaction(commit: (txn: StorageTxn) => TsKey | null): TsKey | null {
    const txn = this.storageTxn;
    if (!txn) fail('NoSuchTransaction', `Transaction with ${txnLabel(this.activeTxnNumber)} has no storage transaction`);
    const ts = commit(txn);
    this.storageTxn = undefined;
    this.state = 'committed';
    this.commitTs = ts;
    if (ts !== null) this.lastWriteTs = ts;
    this.transactionEnded();
    return ts;
  }

  private transactionEnded(): void {
    this.onTransactionEnd?.(this);
    this.transactionCursors.clear();
  }
}
