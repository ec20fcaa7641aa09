/**
 * $setWindowFields without a server: the sliding window states checked against a brute-force
 * evaluation of every window, over partitions large enough for the yielding merge sort.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { baseVariables, makeRunContext, parsePipelineStages, runPipeline, Scope, PAUSE, type Flow } from '../../../src/query/aggregate/index.js';
import { Double, Int32, typeNameOf, type Document } from '../../../src/bson/index.js';

function run(pipeline: Document[], docs: Document[]): { out: Document[]; pauses: number } {
  const env = { random: () => 0.5 };
  const scope = Scope.root(env);
  const parsed = parsePipelineStages(pipeline, { scope, db: 'db', collection: 'c', nesting: 'top', inTransaction: false });
  const ctx = makeRunContext(
    { txn: undefined as never, getCollection: () => undefined, hostName: 'localhost:27017' },
    'db',
    { groupMemoryBytes: 100 * 1024 * 1024, sortMemoryBytes: 100 * 1024 * 1024, allowDiskUse: false, yieldEveryDocs: 1000 },
    baseVariables(parsed.state, new Date(0), null),
    env,
  );
  function* input(): Flow {
    yield* docs;
  }
  const out: Document[] = [];
  let pauses = 0;
  for (const x of runPipeline(parsed, ctx, undefined, { input: input() })) {
    if (x === PAUSE) pauses++;
    else out.push(x);
  }
  return { out, pauses };
}

/** A deterministic pseudo-random sequence. */
function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}

const num = (v: unknown): number => (v instanceof Int32 || v instanceof Double ? v.value : (v as number));

test('sliding windows agree with brute force; partitions come out sorted and stable', () => {
  const rnd = lcg(7);
  const docs: Document[] = [];
  for (let i = 0; i < 12_000; i++) docs.push({ _id: i, p: Math.floor(rnd() * 3), t: Math.floor(rnd() * 4000), v: Math.floor(rnd() * 100) - 50 });
  const { out, pauses } = run([
    {
      $setWindowFields: {
        partitionBy: '$p',
        sortBy: { t: 1 },
        output: {
          sum: { $sum: '$v', window: { documents: [-3, 2] } },
          min: { $min: '$v', window: { documents: [-3, 2] } },
          max: { $max: '$v', window: { range: [-5, 5] } },
          count: { $count: {}, window: { range: ['unbounded', 'current'] } },
          set: { $addToSet: '$p', window: { documents: ['unbounded', 'unbounded'] } },
          cov: { $covarianceSamp: ['$t', '$v'], window: { documents: [-3, 2] } },
        },
      },
    },
  ], docs);
  assert.ok(pauses > 10, `the stage paused ${pauses} times`);
  assert.equal(out.length, docs.length);
  // Expected order: partition, then t, ties in input order.
  const expected = [...docs].sort((a, b) => (a.p as number) - (b.p as number) || (a.t as number) - (b.t as number) || (a._id as number) - (b._id as number));
  assert.deepEqual(out.map((d) => d._id), expected.map((d) => d._id));
  for (let start = 0; start < expected.length;) {
    let end = start;
    while (end < expected.length && expected[end]!.p === expected[start]!.p) end++;
    const part = expected.slice(start, end);
    part.forEach((d, i) => {
      const o = out[start + i]!;
      const docWin = part.slice(Math.max(0, i - 3), Math.min(part.length, i + 3)).map((x) => x.v as number);
      assert.equal(num(o.sum), docWin.reduce((a, b) => a + b, 0), `sum at ${i}`);
      assert.equal(num(o.min), Math.min(...docWin), `min at ${i}`);
      const pts = part.slice(Math.max(0, i - 3), Math.min(part.length, i + 3)).map((x) => [x.t as number, x.v as number]);
      const mx = pts.reduce((s, q) => s + q[0]!, 0) / pts.length;
      const my = pts.reduce((s, q) => s + q[1]!, 0) / pts.length;
      const cov = pts.reduce((s, q) => s + (q[0]! - mx) * (q[1]! - my), 0) / (pts.length - 1);
      assert.ok(Math.abs(num(o.cov) - cov) <= 1e-6 * Math.max(1, Math.abs(cov)), `covariance at ${i}: ${num(o.cov)} vs ${cov}`);
      const t = d.t as number;
      const rangeWin = part.filter((x) => (x.t as number) >= t - 5 && (x.t as number) <= t + 5).map((x) => x.v as number);
      assert.equal(num(o.max), Math.max(...rangeWin), `max at ${i}`);
      assert.equal(num(o.count), part.filter((x) => (x.t as number) <= t).length, `count at ${i}`);
      assert.deepEqual((o.set as unknown[]).map(num), [d.p]);
    });
    start = end;
  }
});

test('a sliding $sum takes its type from the window it holds, and removing a large double restores the small ones', () => {
  const { out } = run([
    {
      $setWindowFields: {
        sortBy: { _id: 1 },
        output: { sum: { $sum: '$v', window: { documents: [-1, 0] } }, avg: { $avg: '$v', window: { documents: [-1, 0] } } },
      },
    },
  ], [{ _id: 1, v: new Int32(1) }, { _id: 2, v: new Double(2.5) }, { _id: 3, v: new Int32(3) }, { _id: 4, v: new Int32(4) }]);
  assert.deepEqual(out.map((d) => [typeNameOf(d.sum), num(d.sum)]), [['int', 1], ['double', 3.5], ['double', 5.5], ['int', 7]]);
  assert.deepEqual(out.map((d) => num(d.avg)), [1, 1.75, 2.75, 3.5]);
  const big = run([{ $setWindowFields: { sortBy: { _id: 1 }, output: { sum: { $sum: '$v', window: { documents: [-1, 0] } } } } }], [
    { _id: 1, v: new Double(1e16) }, { _id: 2, v: new Double(1) }, { _id: 3, v: new Double(1) }, { _id: 4, v: new Double(NaN) }, { _id: 5, v: new Double(2) }, { _id: 6, v: new Double(3) },
  ]).out;
  assert.deepEqual(big.map((d) => num(d.sum)), [1e16, 1e16 + 1, 2, NaN, NaN, 5]);
});
