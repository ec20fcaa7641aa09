/**
 * The session catalog: every logical session this node knows, by lsid. Sessions are created by
 * the first command that names them (implicit sessions), refreshed by use, and expire after
 * localLogicalSessionTimeoutMinutes of disuse; the reaper also aborts transactions that outlive
 * transactionLifetimeLimitSeconds.
 */
import { fail } from '../base/index.js';
import type { Document } from '../bson/index.js';
import type { Clock, Timer } from '../platform/index.js';
import type { StorageEngine } from '../storage/index.js';
import type { TsKey } from '../time/index.js';
import { lsidKey, lsidToString } from './lsid.js';
import { Session } from './session.js';

export interface SessionCatalogOptions {
  /** Current values of the parameters the catalog obeys. */
  maxSessions: () => number;
  sessionTimeoutMinutes: () => number;
  /** Called when the server ends or kills a session: its cursors must go too. */
  onSessionKilled: (session: Session) => void;
  /** Called when the reaper aborts a transaction that outlived its lifetime. */
  onTransactionExpired: (session: Session) => void;
  /** Called whenever a transaction stops being in progress. */
  onTransactionEnd: (session: Session) => void;
}

/** How often the reaper looks for expired transactions and sessions. */
export const REAPER_INTERVAL_MS = 1000;

export class SessionCatalog {
  private readonly sessions = new Map<string, Session>();
  private timer: Timer | undefined;
  transactionsAbortedByReaper = 0;

  constructor(
    private readonly engine: StorageEngine,
    private readonly clock: Clock,
    private readonly options: SessionCatalogOptions,
  ) {}

  start(): void {
    const tick = (): void => {
      this.reap();
      this.timer = this.clock.setTimer(REAPER_INTERVAL_MS, tick);
    };
    this.timer = this.clock.setTimer(REAPER_INTERVAL_MS, tick);
  }

  stop(): void {
    this.timer?.cancel();
    for (const s of this.sessions.values()) s.abortOpenTransaction(this.engine, 'the server is shutting down');
  }

  get size(): number {
    return this.sessions.size;
  }

  all(): Session[] {
    return [...this.sessions.values()];
  }

  get(lsid: Document): Session | undefined {
    return this.sessions.get(lsidKey(lsid));
  }

  /** The session for `lsid`, created on first use. */
  getOrCreate(lsid: Document): Session {
    const key = lsidKey(lsid);
    const existing = this.sessions.get(key);
    if (existing) return existing;
    if (this.sessions.size >= this.options.maxSessions()) {
      fail('TooManyLogicalSessions', `Unable to add session ${lsidToString(lsid)} into the cache because the number of active sessions is too high`);
    }
    return this.add(lsid, key);
  }

  private add(lsid: Document, key: string): Session {
    const session = new Session(lsid, key, this.clock.nowMs());
    session.onTransactionEnd = this.options.onTransactionEnd;
    this.sessions.set(key, session);
    return session;
  }

  /**
   * A session as start-up recovery found it in the journal: its last retryable write (with the
   * results of the statements it executed) or its last committed transaction, so a retry after a
   * restart is answered, not executed again.
   */
  restore(r: { lsid: Document; txnNumber: bigint; kind: 'retryableWrite' | 'transaction'; executed: Map<number, Document>; lastWriteTs: TsKey }): void {
    const session = this.add(r.lsid, lsidKey(r.lsid));
    session.activeTxnNumber = r.txnNumber;
    session.mode = r.kind;
    session.state = r.kind === 'transaction' ? 'committed' : 'none';
    session.lastWriteTs = r.lastWriteTs || undefined;
    if (r.kind === 'transaction') session.commitTs = r.lastWriteTs || null;
    for (const [stmtId, result] of r.executed) session.executed.set(stmtId, result);
  }

  /** endSessions: the session goes away with its transaction and cursors. */
  end(lsid: Document): boolean {
    const session = this.get(lsid);
    if (!session) return false;
    this.kill(session);
    session.ended = true;
    this.sessions.delete(session.key);
    return true;
  }

  /** killSessions: the session's transaction is aborted and its cursors closed; the session stays. */
  kill(session: Session): void {
    session.abortOpenTransaction(this.engine, 'the session was killed');
    this.options.onSessionKilled(session);
  }

  refresh(lsid: Document): void {
    const session = this.get(lsid);
    if (session) session.lastUseMs = this.clock.nowMs();
  }

  /** Aborts transactions past their lifetime and forgets sessions idle past the timeout. */
  reap(): void {
    const now = this.clock.nowMs();
    const idleLimitMs = this.options.sessionTimeoutMinutes() * 60_000;
    for (const session of [...this.sessions.values()]) {
      if (session.inTransaction && session.expireAtMs !== undefined && now >= session.expireAtMs && !session.isCheckedOut) {
        session.abortOpenTransaction(this.engine, 'the transaction exceeded transactionLifetimeLimitSeconds');
        this.transactionsAbortedByReaper++;
        this.options.onTransactionExpired(session);
      }
      if (!session.isCheckedOut && now - session.lastUseMs > idleLimitMs) {
        this.kill(session);
        session.ended = true;
        this.sessions.delete(session.key);
      }
    }
  }
}
