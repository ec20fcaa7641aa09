/**
 * The closed-loop driver of every throughput cell: N clients, each with one operation in
 * flight, a warm-up whose operations are not counted, then a measured window. The server's CPU
 * is read at the window's edges, so it covers exactly the counted operations.
 */
import { Latencies, nowMs } from './stats.js';

export interface MeasureOptions {
  clients: number;
  seconds: number;
  warmupSeconds: number;
  /** Reads the server's CPU time in µs (absent for in-process targets, whose CPU is the bench's). */
  serverCpu?: () => number;
}

export interface Measured {
  ops: number;
  seconds: number;
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  retries: number;
  /** Server process CPU (user + system) over the measured window, divided by ops. */
  serverCpuUsPerOp?: number;
}

/** `op(client)` does one operation for that client and returns how many retries it needed. */
export async function measure(options: MeasureOptions, op: (client: number) => Promise<number>): Promise<Measured> {
  const latencies = new Latencies();
  let retries = 0;
  let stopped = false;
  const start = nowMs();
  const windowStart = start + options.warmupSeconds * 1000;
  const windowEnd = windowStart + options.seconds * 1000;
  let cpuStart = 0;
  let cpuEnd = 0;
  const cpuTimers = options.serverCpu
    ? [
        setTimeout(() => (cpuStart = options.serverCpu!()), windowStart - start),
        setTimeout(() => (cpuEnd = options.serverCpu!()), windowEnd - start),
      ]
    : [];
  const loop = async (client: number): Promise<void> => {
    for (let n = 1; !stopped; n++) {
      const t0 = nowMs();
      if (t0 >= windowEnd) return;
      const r = await op(client);
      // An operation that straddles the window's start belongs to the warm-up.
      if (t0 >= windowStart) {
        latencies.add(nowMs() - t0);
        retries += r;
      }
      // In-process stores answer synchronously: yield now and then so timers and I/O still run.
      if ((n & 63) === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  };
  try {
    await Promise.all(Array.from({ length: options.clients }, (_, i) => loop(i)));
  } catch (e) {
    stopped = true;
    throw e;
  } finally {
    for (const t of cpuTimers) clearTimeout(t);
  }
  if (options.serverCpu && cpuEnd === 0) cpuEnd = options.serverCpu();
  const seconds = options.seconds;
  const ops = latencies.count;
  const result: Measured = {
    ops, seconds, opsPerSec: seconds > 0 ? ops / seconds : 0,
    p50Ms: latencies.percentile(50), p99Ms: latencies.percentile(99), retries,
  };
  if (options.serverCpu && ops > 0) result.serverCpuUsPerOp = (cpuEnd - cpuStart) / ops;
  return result;
}
