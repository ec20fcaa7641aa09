/**
 * The TTL monitor: every ttlMonitorSleepSecs (60 s, as mongod) it deletes the documents whose
 * TTL-indexed date (the earliest one, for an array of dates) is older than expireAfterSeconds.
 * Each deletion is its own autocommit write with its own oplog entry, as mongod's.
 */
import { ErrorCodes } from '../base/index.js';
import { isDocument, toJsNumber, typeNameOf, type Document } from '../bson/index.js';
import type { Timer } from '../platform/index.js';
import type { Collection, IndexState } from '../storage/index.js';
import type { Instance } from './instance.js';
import { autocommit } from './query-support.js';

export class TtlMonitor {
  private timer: Timer | undefined;
  passes = 0;
  deletedDocuments = 0;

  constructor(private readonly instance: Instance) {}

  start(): void {
    const schedule = (): void => {
      this.timer = this.instance.clock.setTimer(this.instance.parameters.getNumber('ttlMonitorSleepSecs') * 1000, () => {
        if (this.instance.isClosed) return;
        if (this.instance.parameters.get('ttlMonitorEnabled') === true) this.runPass();
        schedule();
      });
    };
    schedule();
  }

  stop(): void {
    this.timer?.cancel();
  }

  /** One pass over every TTL index. */
  runPass(): number {
    let deleted = 0;
    const engine = this.instance.engine;
    for (const db of engine.databaseNames()) {
      for (const coll of engine.collectionsOf(db)?.values() ?? []) {
        deleted += this.expireMeasurements(coll);
        for (const index of coll.indexes.values()) {
          if (index.spec.expireAfterSeconds === undefined || index.fields.length !== 1) continue;
          deleted += this.expire(coll, index);
        }
      }
    }
    this.passes++;
    this.deletedDocuments += deleted;
    return deleted;
  }

  /**
   * A time-series collection's expireAfterSeconds, by time field. mongod drops whole buckets once
   * their newest measurement is old enough; without buckets each measurement goes on its own time.
   */
  private expireMeasurements(coll: Collection): number {
    const ts = coll.options.timeseries;
    const seconds = coll.options.expireAfterSeconds;
    if (!isDocument(ts) || typeof ts.timeField !== 'string' || seconds === undefined) return 0;
    const timeField = ts.timeField;
    const cutoff = this.instance.clock.nowMs() - toJsNumber(seconds) * 1000;
    const expired = (doc: Document | null): boolean => doc !== null && doc[timeField] instanceof Date && (doc[timeField] as Date).getTime() <= cutoff;
    const reader = this.instance.engine.begin();
    const victims: number[] = [];
    try {
      for (const { rid, doc } of reader.scan(coll)) if (expired(doc)) victims.push(rid);
    } finally {
      this.instance.engine.abort(reader);
    }
    let n = 0;
    for (const rid of victims) {
      if (isWriteConflict(() => autocommit(this.instance, (txn) => {
        if (!expired(txn.get(coll, rid))) return;
        txn.delete(coll, rid);
        n++;
      }))) continue;
    }
    return n;
  }

  private expire(coll: Collection, index: IndexState): number {
    const cutoff = new Date(this.instance.clock.nowMs() - index.spec.expireAfterSeconds! * 1000);
    const bounds = [[{ low: new Date(-8.64e15), lowInclusive: true, high: cutoff, highInclusive: true }]];
    const reader = this.instance.engine.begin();
    const victims: number[] = [];
    try {
      for (const { rid } of reader.indexScan(coll, index, bounds)) victims.push(rid);
    } finally {
      this.instance.engine.abort(reader);
    }
    let n = 0;
    for (const rid of victims) {
      // A document an open transaction is writing stays until the next pass, as mongod's TTL
      // deleter skips write conflicts rather than waiting on them.
      if (isWriteConflict(() => autocommit(this.instance, (txn) => {
        const doc = txn.get(coll, rid);
        if (!doc) return;
        // Re-check at delete time: the document may have changed since the scan.
        if (!index.keysOf(doc).some((k) => typeNameOf(k[0]) === 'date' && (k[0] as Date).getTime() <= cutoff.getTime())) return;
        txn.delete(coll, rid);
        n++;
      }))) continue;
    }
    return n;
  }
}



function isWriteConflict(work: () => void): boolean {
  try {
    work();
    return false;
  } catch (e) {
    if ((e as { code?: number }).code === ErrorCodes.WriteConflict) return true;
    throw e;
  }
}
