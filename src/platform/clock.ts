/**
 * The clock seam: everything that reads wall time or schedules a timer goes through a Clock,
 * so tests can move time (see ManualClock) instead of sleeping.
 */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Wall-clock milliseconds since the epoch. */
  nowMs(): number;
  /** Monotonic milliseconds, for durations. */
  monotonicMs(): number;
  setTimer(delayMs: number, callback: () => void): Timer;
}

export const systemClock: Clock = {
  nowMs: () => Date.now(),
  monotonicMs: () => performance.now(),
  setTimer(delayMs, callback) {
    const handle = setTimeout(callback, delayMs);
    handle.unref?.();
    return { cancel: () => clearTimeout(handle) };
  },
};

/** A clock that only moves when told to; timers fire inside `advance`. */
export class ManualClock implements Clock {
  private wallMs: number;
  private monoMs = 0;
  private timers: Array<{ dueMs: number; callback: () => void; cancelled: boolean }> = [];

  constructor(startWallMs = Date.UTC(2026, 0, 1)) {
    this.wallMs = startWallMs;
  }

  nowMs(): number {
    return this.wallMs;
  }

  monotonicMs(): number {
    return this.monoMs;
  }

  setTimer(delayMs: number, callback: () => void): Timer {
    const t = { dueMs: this.monoMs + delayMs, callback, cancelled: false };
    this.timers.push(t);
    return { cancel: () => void (t.cancelled = true) };
  }

  advance(ms: number): void {
    const target = this.monoMs + ms;
    for (;;) {
      const due = this.timers.filter((t) => !t.cancelled && t.dueMs <= target).sort((a, b) => a.dueMs - b.dueMs)[0];
      if (!due) break;
      this.wallMs += due.dueMs - this.monoMs;
      this.monoMs = due.dueMs;
      due.cancelled = true;
      due.callback();
    }
    this.wallMs += target - this.monoMs;
    this.monoMs = target;
    this.timers = this.timers.filter((t) => !t.cancelled);
  }
}
