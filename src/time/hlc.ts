/**
 * Hybrid logical clock issuing MongoDB Timestamp(seconds, increment) values. Every commit takes
 * one tick, so timestamps are unique and ordered; the seconds follow wall time when it moves
 * forward and the increment orders commits inside one second.
 *
 * Internally a timestamp is also kept as a "tsKey": seconds * 2^21 + increment, an exact JS number
 * that compares with `<`. The increment is bounded by INCREMENT_LIMIT (the seconds part is bumped
 * when it fills), so every tsKey stays below 2^53.
 */
import type { Clock } from '../platform/index.js';
import { Timestamp } from '../bson/index.js';

const INCREMENT_BITS = 21;
const INCREMENT_LIMIT = 2 ** INCREMENT_BITS;

export type TsKey = number;

export function tsKeyOf(ts: Timestamp): TsKey {
  const secs = ts.high >>> 0;
  const inc = Math.min(ts.low >>> 0, INCREMENT_LIMIT - 1);
  return secs * INCREMENT_LIMIT + inc;
}

/** The first tsKey of a second (increment 0). */
export function tsKeyAtSeconds(secs: number): TsKey {
  return secs * INCREMENT_LIMIT;
}

/**
 * The two most recent conversions are kept: every reply carries `$clusterTime` and `operationTime`,
 * which rarely change between replies, and a bson Timestamp costs more to build than to reuse
 * (Timestamps are immutable, so sharing one is safe).
 */
const recentTimestamps: Array<{ key: TsKey; ts: Timestamp }> = [
  { key: -1, ts: new Timestamp({ t: 0, i: 0 }) },
  { key: -1, ts: new Timestamp({ t: 0, i: 0 }) },
];
let recentNext = 0;

export function timestampOf(key: TsKey): Timestamp {
  if (recentTimestamps[0]!.key === key) return recentTimestamps[0]!.ts;
  if (recentTimestamps[1]!.key === key) return recentTimestamps[1]!.ts;
  const secs = Math.floor(key / INCREMENT_LIMIT);
  const inc = key - secs * INCREMENT_LIMIT;
  const ts = new Timestamp({ t: secs, i: inc });
  recentTimestamps[recentNext] = { key, ts };
  recentNext ^= 1;
  return ts;
}

export class HybridLogicalClock {
  private lastKey: TsKey = 0;

  constructor(private readonly clock: Clock) {}

  /** Issues a new timestamp, greater than every timestamp issued or observed before. */
  tick(): TsKey {
    const wallSecs = Math.floor(this.clock.nowMs() / 1000);
    const lastSecs = Math.floor(this.lastKey / INCREMENT_LIMIT);
    if (wallSecs > lastSecs) {
      this.lastKey = wallSecs * INCREMENT_LIMIT + 1;
    } else {
      this.lastKey += 1;
      if (this.lastKey % INCREMENT_LIMIT === 0) this.lastKey += 1;
    }
    return this.lastKey;
  }

  /** The newest timestamp issued or observed (mongod's clusterTime). */
  now(): TsKey {
    return this.lastKey;
  }

  /** Moves the clock forward to at least `key`, for gossiped $clusterTime and recovery. */
  observe(key: TsKey): void {
    if (key > this.lastKey) this.lastKey = key;
  }
}
