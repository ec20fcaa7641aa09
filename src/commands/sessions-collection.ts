/**
 * config.system.sessions: the persisted view of the session catalog, as mongod keeps it. Every
 * logicalSessionRefreshMillis (5 minutes) the sessions in use are written with their lastUse and
 * the ones the catalog forgot are removed; a TTL index on lastUse expires records after
 * localLogicalSessionTimeoutMinutes.
 */
import type { Timer } from '../platform/index.js';
import type { Instance } from './instance.js';
import { partialFilterOf } from './validation.js';

export const SYSTEM_SESSIONS = { db: 'config', name: 'system.sessions' } as const;
/** logicalSessionRefreshMillis. */
export const LOGICAL_SESSION_REFRESH_MILLIS = 5 * 60 * 1000;
const TTL_INDEX_NAME = 'lsidTTLIndex';

export class SessionsCollection {
  private timer: Timer | undefined;

  constructor(private readonly instance: Instance) {}

  start(): void {
    const tick = (): void => {
      if (this.instance.isClosed) return;
      this.refresh();
      this.timer = this.instance.clock.setTimer(LOGICAL_SESSION_REFRESH_MILLIS, tick);
    };
    this.timer = this.instance.clock.setTimer(LOGICAL_SESSION_REFRESH_MILLIS, tick);
  }

  stop(): void {
    this.timer?.cancel();
  }

  /** Writes every cached session's lastUse and removes records of sessions that ended. */
  refresh(): void {
    const { instance } = this;
    const coll = instance.ensureCollection(SYSTEM_SESSIONS.db, SYSTEM_SESSIONS.name);
    if (!coll.indexes.has(TTL_INDEX_NAME)) {
      const spec = { v: 2, key: { lastUse: 1 }, name: TTL_INDEX_NAME, expireAfterSeconds: instance.parameters.getNumber('localLogicalSessionTimeoutMinutes') * 60 };
      instance.engine.createIndex(coll, spec, partialFilterOf(spec));
    }
    const live = new Map(instance.sessions.all().map((s) => [s.key, s]));
    const txn = instance.engine.begin();
    try {
      const seen = new Set<string>();
      for (const { rid, doc } of txn.scan(coll)) {
        const session = instance.sessions.get(doc._id);
        if (!session || !live.has(session.key)) {
          txn.delete(coll, rid);
          continue;
        }
        seen.add(session.key);
        txn.update(coll, rid, { _id: session.lsid, lastUse: new Date(session.lastUseMs) });
      }
      for (const [key, session] of live) if (!seen.has(key)) txn.insert(coll, { _id: session.lsid, lastUse: new Date(session.lastUseMs) });
      instance.engine.commit(txn);
    } catch (e) {
      instance.engine.abort(txn);
      instance.log.warn({ err: e }, 'could not refresh config.system.sessions');
    }
  }
}
