/**
 * Stages and accumulators without a server: pipelines run over in-memory input flows, asserting
 * results (with BSON types) and mongod's parse errors. Also the pipeline-update hook and yielding.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  baseVariables, makeRunContext, parsePipelineStages, pipelineUpdateHook, PipelineRun, runPipeline, Scope, PAUSE, type Flow,
} from '../../../src/query/aggregate/index.js';
import { Decimal128, Double, Int32, Long, typeNameOf, type BsonValue, type Document } from '../../../src/bson/index.js';
import { DossierError } from '../../../src/base/index.js';

const i = (n: number): Int32 => new Int32(n);
const d = (n: number): Double => new Double(n);

function run(pipeline: Document[], docs: Document[], options: { groupMemoryBytes?: number; allowDiskUse?: boolean; random?: () => number } = {}): Document[] {
  const env = { random: options.random ?? (() => 0.5) };
  const scope = Scope.root(env);
  const parsed = parsePipelineStages(pipeline, { scope, db: 'db', collection: 'c', nesting: 'top', inTransaction: false });
  const ctx = makeRunContext(
    { txn: undefined as never, getCollection: () => undefined, hostName: 'localhost:27017' },
    'db',
    { groupMemoryBytes: options.groupMemoryBytes ?? 100 * 1024 * 1024, sortMemoryBytes: 100 * 1024 * 1024, allowDiskUse: options.allowDiskUse ?? false, yieldEveryDocs: 10 },
    baseVariables(parsed.state, new Date(0), null),
    env,
  );
  function* input(): Flow {
    yield* docs;
  }
  return [...runPipeline(parsed, ctx, undefined, { input: input() })].filter((x): x is Document => x !== PAUSE);
}

function expectError(fn: () => unknown, code: number, message?: string | RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof DossierError, String(e));
    assert.equal(e.code, code, e.message);
    if (typeof message === 'string') assert.equal(e.message, message);
    else if (message) assert.match(e.message, message);
    return true;
  });
}

const ITEMS = [
  { _id: i(1), item: 'abc', price: i(10), quantity: i(2) },
  { _id: i(2), item: 'jkl', price: i(20), quantity: i(1) },
  { _id: i(3), item: 'xyz', price: i(5), quantity: i(5) },
  { _id: i(4), item: 'abc', price: d(10.5), quantity: i(10) },
  { _id: i(5), item: 'xyz', price: Decimal128.fromString('5.5'), quantity: i(10) },
];

test('$group: $sum keeps int, widens with double and decimal; $avg is double; groups in first-seen order', () => {
  const out = run([{ $group: { _id: '$item', n: { $sum: 1 }, q: { $sum: '$quantity' }, p: { $sum: '$price' }, avg: { $avg: '$quantity' } } }], ITEMS);
  assert.deepEqual(out.map((g) => g._id), ['abc', 'jkl', 'xyz']);
  assert.equal(typeNameOf(out[0]!.n), 'int');
  assert.equal(typeNameOf(out[0]!.q), 'int');
  assert.equal(typeNameOf(out[0]!.p), 'double');
  assert.equal(out[0]!.p.value, 20.5);
  assert.equal(typeNameOf(out[2]!.p), 'decimal');
  assert.equal(out[2]!.p.toString(), '10.5');
  assert.equal(typeNameOf(out[1]!.avg), 'double');
});

test('$group: numerically equal _ids are one group; null and missing are one group', () => {
  const out = run([{ $group: { _id: '$k', n: { $sum: 1 } } }], [{ k: i(1) }, { k: d(1) }, { k: Long.fromNumber(1) }, { k: null }, {}]);
  assert.equal(out.length, 2);
  assert.equal(out[0]!.n.value, 3);
  assert.equal(out[1]!._id, null);
  assert.equal(out[1]!.n.value, 2);
});

test('$group: $sum of int32 overflowing gives int64', () => {
  const out = run([{ $group: { _id: null, s: { $sum: '$v' } } }], [{ v: i(2147483647) }, { v: i(1) }]);
  assert.equal(typeNameOf(out[0]!.s), 'long');
  assert.equal(out[0]!.s.toString(), '2147483648');
});

test('$group: accumulators on an empty-ish group', () => {
  const out = run([{ $group: { _id: null, min: { $min: '$x' }, first: { $first: '$x' }, push: { $push: '$x' }, set: { $addToSet: '$x' }, sd: { $stdDevSamp: '$x' } } }], [{ a: 1 }]);
  assert.deepEqual(out, [{ _id: null, min: null, first: null, push: [], set: [], sd: null }]);
});

test('$group: memory limit gives 292 unless allowDiskUse', () => {
  const docs = Array.from({ length: 500 }, (_, k) => ({ _id: i(k), pad: 'x'.repeat(100) }));
  expectError(() => run([{ $group: { _id: '$_id', p: { $push: '$pad' } } }], docs, { groupMemoryBytes: 10_000 }), 292, /Exceeded memory limit for \$group/);
  assert.equal(run([{ $group: { _id: '$_id', p: { $push: '$pad' } } }], docs, { groupMemoryBytes: 10_000, allowDiskUse: true }).length, 500);
});

test('$group parse errors', () => {
  expectError(() => run([{ $group: { n: { $sum: 1 } } }], []), 15955, 'a group specification must include an _id');
  expectError(() => run([{ $group: { _id: null, n: 1 } }], []), 40234, "The field 'n' must be an accumulator object");
  expectError(() => run([{ $group: { _id: null, n: { $sum: 1, $avg: 1 } } }], []), 40238);
  expectError(() => run([{ $group: { _id: null, 'a.b': { $sum: 1 } } }], []), 40235);
  expectError(() => run([{ $group: { _id: null, n: { $foo: 1 } } }], []), 15952, "unknown group operator '$foo'");
  expectError(() => run([{ $group: { _id: null, n: { $count: 1 } } }], []), 40313);
});

test('pipeline parse errors: stage names and shapes', () => {
  expectError(() => run([{ $foo: {} }], []), 40324, "Unrecognized pipeline stage name: '$foo'");
  expectError(() => run([{ $match: {}, $project: { a: 1 } }], []), 40323);
  expectError(() => run([{ $limit: -1 }], []), 15958);
  expectError(() => run([{ $skip: -1 }], []), 15956);
  expectError(() => run([{ $sort: {} }], []), 15976);
  expectError(() => run([{ $count: '$x' }], []), 40158);
  expectError(() => run([{ $unwind: 'a' }], []), 28818);
  expectError(() => run([{ $project: {} }], []), 51272, 'Invalid $project :: caused by :: projection specification must have at least one field');
  expectError(() => run([{ $project: { a: 1, b: 0 } }], []), 31254);
  expectError(() => run([{ $project: { a: 0, b: '$x' } }], []), 31252);
  expectError(() => run([{ $project: { a: 1, 'a.b': 1 } }], []), 31250);
  expectError(() => run([{ $addFields: { $a: 1 } }], []), 16410);
  expectError(() => run([{ $documents: [] }, { $documents: [] }], []), 40602);
  expectError(() => run([{ $facet: { a: [{ $facet: { b: [{ $match: {} }] } }] } }], []), 40600);
});

test('$project inclusion keeps _id first and input field order; computed fields follow', () => {
  const out = run([{ $project: { c: { $add: ['$a', i(1)] }, a: 1, 'n.y': 1 } }], [{ a: i(1), _id: i(9), n: { x: i(1), y: i(2) }, z: i(3) }]);
  assert.deepEqual(Object.keys(out[0]!), ['_id', 'a', 'n', 'c']);
  assert.deepEqual(out[0]!.n, { y: i(2) });
  assert.deepEqual(run([{ $project: { _id: 0, 'a.b': 1 } }], [{ a: [{ b: i(1), c: i(2) }, i(5), { c: i(3) }] }]), [{ a: [{ b: i(1) }, {}] }]);
});

test('$addFields/$set merge into embedded documents and arrays; $$REMOVE removes', () => {
  assert.deepEqual(run([{ $set: { 'specs.fuel_type': 'unleaded' } }], [{ _id: i(1), specs: { doors: i(4) } }]), [{ _id: i(1), specs: { doors: i(4), fuel_type: 'unleaded' } }]);
  assert.deepEqual(run([{ $addFields: { 'a.b': i(1) } }], [{ a: [{ c: i(1) }, i(2)] }]), [{ a: [{ c: i(1), b: i(1) }, { b: i(1) }] }]);
  assert.deepEqual(run([{ $addFields: { x: '$$REMOVE' } }], [{ x: i(1), y: i(2) }]), [{ y: i(2) }]);
});

test('$unwind with index and preserveNullAndEmptyArrays', () => {
  const out = run([{ $unwind: { path: '$s', includeArrayIndex: 'i', preserveNullAndEmptyArrays: true } }], [{ s: ['a', 'b'] }, { s: [] }, { t: 1 }, { s: 'x' }]);
  assert.deepEqual(out.map((o) => [o.s, o.i === null ? null : Number(o.i)]), [['a', 0], ['b', 1], [undefined, null], [undefined, null], ['x', null]]);
  assert.equal(typeNameOf(out[0]!.i), 'long');
});

test('$sort: chunked merge is stable and ordered; $sort+$limit keeps the top', () => {
  const docs = Array.from({ length: 10_000 }, (_, k) => ({ _id: i(k), k: i(k % 7) }));
  const sorted = run([{ $sort: { k: -1 } }], docs);
  assert.equal(sorted.length, 10_000);
  for (let k = 1; k < sorted.length; k++) {
    const a = sorted[k - 1]!;
    const b = sorted[k]!;
    assert.ok(a.k.value > b.k.value || (a.k.value === b.k.value && a._id.value < b._id.value), `at ${k}`);
  }
  assert.deepEqual(run([{ $sort: { _id: -1 } }, { $limit: 2 }], docs).map((x) => x._id.value), [9999, 9998]);
});

test('$bucket, $bucketAuto, $sortByCount, $count, $sample, $facet, $replaceWith', () => {
  const docs = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((n) => ({ v: i(n), t: n % 2 ? 'odd' : 'even' }));
  assert.deepEqual(run([{ $bucket: { groupBy: '$v', boundaries: [i(0), i(5), i(10)], default: 'big' } }], docs).map((b) => [b._id.valueOf?.() ?? b._id, b.count.value]), [[0, 4], [5, 5], ['big', 1]]);
  assert.deepEqual(run([{ $bucketAuto: { groupBy: '$v', buckets: i(3) } }], docs).map((b) => [b._id.min.value, b._id.max.value, b.count.value]), [[1, 4, 3], [4, 7, 3], [7, 10, 4]]);
  assert.deepEqual(run([{ $sortByCount: '$t' }], docs.slice(0, 3)), [{ _id: 'odd', count: i(2) }, { _id: 'even', count: i(1) }]);
  assert.deepEqual(run([{ $count: 'n' }], docs), [{ n: i(10) }]);
  assert.equal(run([{ $sample: { size: i(3) } }], docs).length, 3);
  assert.deepEqual(run([{ $facet: { a: [{ $count: 'n' }], b: [{ $match: { t: 'odd' } }, { $count: 'n' }] } }], docs), [{ a: [{ n: i(10) }], b: [{ n: i(5) }] }]);
  assert.deepEqual(run([{ $replaceWith: { $mergeObjects: [{ d: i(0) }, '$$ROOT'] } }, { $limit: 1 }], docs), [{ d: i(0), v: i(1), t: 'odd' }]);
  expectError(() => run([{ $bucket: { groupBy: '$v', boundaries: [i(0), i(5)] } }], docs), 40066);
});

test('$top/$bottom/$topN/$firstN/$lastN/$minN/$maxN accumulators', () => {
  const docs = [{ p: 'a', s: i(5) }, { p: 'b', s: i(9) }, { p: 'c', s: i(1) }, { p: 'd', s: i(7) }];
  const [g] = run([{ $group: {
    _id: null,
    top: { $top: { sortBy: { s: -1 }, output: '$p' } },
    bottom: { $bottom: { sortBy: { s: -1 }, output: ['$p', '$s'] } },
    top2: { $topN: { n: i(2), sortBy: { s: 1 }, output: '$p' } },
    first2: { $firstN: { n: i(2), input: '$p' } },
    last2: { $lastN: { n: i(2), input: '$p' } },
    min2: { $minN: { n: i(2), input: '$s' } },
    max2: { $maxN: { n: i(2), input: '$s' } },
  } }], docs);
  assert.deepEqual(g, { _id: null, top: 'b', bottom: ['c', i(1)], top2: ['c', 'a'], first2: ['a', 'b'], last2: ['c', 'd'], min2: [i(1), i(5)], max2: [i(9), i(7)] });
});

test('$redact with $$DESCEND/$$PRUNE/$$KEEP', () => {
  const out = run([{ $redact: { $cond: [{ $eq: ['$level', i(5)] }, '$$PRUNE', '$$DESCEND'] } }], [{ level: i(1), a: { level: i(5), x: i(1) }, b: [{ level: i(1), y: i(2) }, { level: i(5) }] }]);
  assert.deepEqual(out, [{ level: i(1), b: [{ level: i(1), y: i(2) }] }]);
});

test('pipeline-style update hook: $set/$unset/$replaceWith with $$NOW; other stages refused', () => {
  const parse = pipelineUpdateHook();
  const apply = parse([{ $set: { total: { $add: ['$a', '$b'] }, at: '$$NOW' } }, { $unset: 'b' }]);
  const now = new Date(1234);
  assert.deepEqual(apply({ _id: i(1), a: i(1), b: i(2) }, { isUpsertInsert: false, now, nowTimestamp: () => undefined as never }), { _id: i(1), a: i(1), total: i(3), at: now });
  expectError(() => parse([{ $group: { _id: null } }]), 72, '$group is not allowed to be used within an update');
});

test('PipelineRun yields to the event loop at PAUSE markers and honours maxTimeMS', async () => {
  let yields = 0;
  function* flow(): Flow {
    for (let k = 0; k < 5; k++) {
      yield PAUSE;
      yield { k: i(k) };
    }
  }
  const r = new PipelineRun(flow(), { yieldToEventLoop: async () => void yields++, nowMs: () => 0 });
  assert.equal((await r.all()).length, 5);
  assert.equal(yields, 5);
  let t = 0;
  function* slow(): Flow {
    for (;;) {
      t += 10;
      yield PAUSE;
    }
  }
  const timed = new PipelineRun(slow(), { yieldToEventLoop: async () => undefined, nowMs: () => t, maxTimeMS: 50 });
  await assert.rejects(timed.all(), (e: unknown) => e instanceof DossierError && e.code === 50);
});

test('values of BsonValue type survive: no input document is mutated', () => {
  const doc = { _id: i(1), a: { b: i(1) }, arr: [i(1), i(2)] };
  const snapshot = JSON.stringify(doc);
  run([{ $set: { 'a.c': i(2) } }, { $unwind: '$arr' }, { $unset: 'a.b' }], [doc]);
  assert.equal(JSON.stringify(doc), snapshot);
  const v: BsonValue = doc.a;
  assert.deepEqual(v, { b: i(1) });
});
