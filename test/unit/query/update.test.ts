import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  applyUpdate, buildUpsertSeed, parseUpdate, validateStorable, type ApplyContext, type MatcherFactory,
} from '../../../src/query/update/index.js';
import { compareValues, Decimal128, Double, Int32, isDocument, Long, Timestamp, typeNameOf, type BsonValue, type Document } from '../../../src/bson/index.js';
import { DossierError } from '../../../src/base/index.js';

/** A tiny matcher: top-level paths (dotted through documents) with equality, $gt, $gte, $lt, $lte, $in. */
const matcherFactory: MatcherFactory = (filter) => (doc) => {
  return Object.keys(filter).every((path) => {
    let v: BsonValue = doc;
    for (const p of path.split('.')) v = isDocument(v) ? v[p] : undefined;
    const cond = filter[path];
    if (isDocument(cond) && Object.keys(cond)[0]?.startsWith('$')) {
      return Object.entries(cond).every(([op, arg]) => {
        if (v === undefined) return false;
        const c = compareValues(v, arg);
        switch (op) {
          case '$gt': return c > 0;
          case '$gte': return c >= 0;
          case '$lt': return c < 0;
          case '$lte': return c <= 0;
          case '$eq': return c === 0;
          case '$in': return (arg as BsonValue[]).some((a) => compareValues(v, a) === 0);
          default: throw new Error(`test matcher: ${op}`);
        }
      });
    }
    return v !== undefined && compareValues(v, cond) === 0;
  });
};

const ctx: ApplyContext = {
  isUpsertInsert: false,
  now: new Date(1_700_000_000_000),
  nowTimestamp: () => new Timestamp({ t: 1_700_000_000, i: 1 }),
};

function update(doc: Document, upd: Document | Document[], opts: { arrayFilters?: Document[]; positionalMatch?: string; isUpsertInsert?: boolean } = {}) {
  const parsed = parseUpdate(upd, { arrayFilters: opts.arrayFilters, matcherFactory });
  const c: ApplyContext = { ...ctx, isUpsertInsert: opts.isUpsertInsert ?? false };
  if (opts.positionalMatch !== undefined) c.positionalMatch = opts.positionalMatch;
  return applyUpdate(parsed, doc, c);
}

function throwsCode(fn: () => unknown, code: number, message?: string | RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof DossierError, `expected DossierError, got ${String(e)}`);
    assert.equal(e.code, code, `code of: ${e.message}`);
    if (typeof message === 'string') assert.equal(e.message, message);
    else if (message) assert.match(e.message, message);
    return true;
  });
}

const i32 = (n: number) => new Int32(n);
const dbl = (n: number) => new Double(n);

test('$set: existing field keeps its position, new fields appended in field-name order', () => {
  const doc = { _id: i32(1), b: i32(1), a: i32(2) };
  const r = update(doc, { $set: { z: i32(1), b: i32(5), c: i32(3), 'y.x': i32(4) } });
  assert.deepEqual(Object.keys(r.doc), ['_id', 'b', 'a', 'c', 'y', 'z']);
  assert.equal(r.doc.b.value, 5);
  assert.deepEqual(r.doc.y, { x: i32(4) });
  assert.equal(r.modified, true);
  assert.deepEqual(doc, { _id: i32(1), b: i32(1), a: i32(2) }, 'input not mutated');
});

test('$set to an identical value is a no-op, a different numeric type is not', () => {
  assert.equal(update({ _id: 1, a: i32(1) }, { $set: { a: i32(1) } }).modified, false);
  const r = update({ _id: 1, a: i32(1) }, { $set: { a: dbl(1) } });
  assert.equal(r.modified, true);
  assert.equal(typeNameOf(r.doc.a), 'double');
});

test('$set past the end of an array pads with nulls', () => {
  const r = update({ _id: 1, a: [i32(1)] }, { $set: { 'a.3': i32(9), 'b.c.d': 1 } });
  assert.deepEqual(r.doc.a, [i32(1), null, null, i32(9)]);
  assert.deepEqual(r.doc.b, { c: { d: 1 } });
});

test('$set into a scalar fails with PathNotViable', () => {
  throwsCode(() => update({ _id: i32(1), a: i32(1) }, { $set: { 'a.b': 1 } }), 28, "Cannot create field 'b' in element {a: 1}");
  throwsCode(
    () => update({ _id: 'x', v: [{ foo: [{ bar: 'hello' }] }] }, { $inc: { 'v.foo': 1 } }),
    28,
    "Cannot create field 'foo' in element {v: [ { foo: [ { bar: \"hello\" } ] } ]}",
  );
});

test('$inc numeric type rules', () => {
  const r1 = update({ _id: 1, a: i32(2147483647) }, { $inc: { a: i32(1) } });
  assert.ok(r1.doc.a instanceof Long);
  assert.equal(r1.doc.a.toString(), '2147483648');
  const r2 = update({ _id: 1, a: i32(1) }, { $inc: { a: dbl(0.5) } });
  assert.ok(r2.doc.a instanceof Double);
  assert.equal(r2.doc.a.value, 1.5);
  const r3 = update({ _id: 1, a: Long.fromNumber(5) }, { $inc: { a: i32(1) } });
  assert.ok(r3.doc.a instanceof Long);
  assert.equal(r3.doc.a.toString(), '6');
  const r4 = update({ _id: 1, a: Decimal128.fromString('1.1') }, { $inc: { a: i32(1) } });
  assert.ok(r4.doc.a instanceof Decimal128);
  assert.equal(r4.doc.a.toString(), '2.1');
  const r5 = update({ _id: 1, a: i32(1) }, { $inc: { a: Decimal128.fromString('0.10') } });
  assert.equal(r5.doc.a.toString(), '1.10');
  const r6 = update({ _id: 1 }, { $inc: { a: Long.fromNumber(3) } });
  assert.ok(r6.doc.a instanceof Long);
  assert.equal(update({ _id: 1, a: i32(1) }, { $inc: { a: i32(0) } }).modified, false);
});

test('$inc int64 overflow fails as mongod does', () => {
  throwsCode(
    () => update({ _id: 'int64-max', v: Long.fromString('9223372036854775807') }, { $inc: { v: i32(1) } }),
    2,
    'Failed to apply $inc operations to current value ((NumberLong)9223372036854775807) for document {_id: "int64-max"}',
  );
});

test('$inc / $mul type errors', () => {
  throwsCode(() => update({ _id: 1 }, { $inc: { v: 'string' } }), 14, 'Cannot increment with non-numeric argument: {v: "string"}');
  throwsCode(() => update({ _id: 1 }, { $mul: { v: 'string' } }), 14, 'Cannot multiply with non-numeric argument: {v: "string"}');
  throwsCode(
    () => update({ _id: i32(1), a: 'x' }, { $inc: { a: i32(1) } }),
    14,
    "Cannot apply $inc to a value of non-numeric type. {_id: 1} has the field 'a' of non-numeric type string",
  );
});

test('$mul of a missing field sets zero of the operand type', () => {
  const r = update({ _id: 1 }, { $mul: { a: dbl(2.5), b: i32(3), c: Long.fromNumber(2) } });
  assert.ok(r.doc.a instanceof Double);
  assert.equal(r.doc.a.value, 0);
  assert.ok(r.doc.b instanceof Int32);
  assert.ok(r.doc.c instanceof Long);
  const r2 = update({ _id: 1, a: i32(100000) }, { $mul: { a: i32(100000) } });
  assert.ok(r2.doc.a instanceof Long);
  assert.equal(r2.doc.a.toString(), '10000000000');
});

test('$min / $max / $unset / $currentDate', () => {
  const r = update({ _id: 1, lo: i32(5), hi: i32(5), gone: 1, keep: 2 }, { $min: { lo: dbl(3) }, $max: { hi: i32(4) }, $unset: { gone: '' } });
  assert.ok(r.doc.lo instanceof Double);
  assert.equal(r.doc.hi.value, 5);
  assert.equal('gone' in r.doc, false);
  assert.equal(update({ _id: 1, a: i32(1) }, { $max: { a: dbl(1) } }).modified, false);
  const r2 = update({ _id: 1, a: [1, 2] }, { $unset: { 'a.0': 1, nothing: 1 } });
  assert.deepEqual(r2.doc.a, [null, 2]);
  const r3 = update({ _id: 1 }, { $currentDate: { d: true, t: { $type: 'timestamp' } } });
  assert.ok(r3.doc.d instanceof Date);
  assert.equal(r3.doc.d.getTime(), 1_700_000_000_000);
  assert.equal(typeNameOf(r3.doc.t), 'timestamp');
  assert.equal(update({ _id: 1, a: 1 }, { $unset: { 'a.b': 1 } }).modified, false);
});

test('$rename', () => {
  const r = update({ _id: 1, a: 1, b: 2, n: { x: 1 } }, { $rename: { a: 'c', 'n.x': 'n.y' } });
  assert.deepEqual(r.doc, { _id: 1, b: 2, n: { y: 1 }, c: 1 });
  assert.equal(update({ _id: 1 }, { $rename: { a: 'b' } }).modified, false);
  throwsCode(() => update({ _id: 1 }, { $rename: { a: 'a' } }), 2, 'The source and target field for $rename must differ: a: "a"');
  throwsCode(() => update({ _id: 1 }, { $rename: { a: 'a.b' } }), 2, 'The source and target field for $rename must not be on the same path: a: "a.b"');
  throwsCode(() => update({ _id: 1 }, { $rename: { a: 1 } }), 2, "The 'to' field for $rename must be a string: a: 1");
  throwsCode(
    () => update({ _id: 'x', v: [{ foo: 1 }] }, { $rename: { 'v.foo': 'foo' } }),
    28,
    'cannot use the part (v of v.foo) to traverse the element ({v: [ { foo: 1 } ]})',
  );
  throwsCode(
    () => update({ _id: i32(1), a: [{ b: 1 }] }, { $rename: { 'a.0.b': 'c' } }),
    2,
    "The source field cannot be an array element, 'a.0.b' in doc with _id: 1 has an array field called 'a'",
  );
});

test('$push with $each, $position, $sort, $slice (documentation examples)', () => {
  const r = update({ _id: 1, scores: [i32(100)] }, { $push: { scores: { $each: [i32(50), i32(60), i32(70)], $position: i32(0) } } });
  assert.deepEqual(r.doc.scores.map((x: Int32) => x.value), [50, 60, 70, 100]);
  const quizzes = [{ id: 1, score: 6 }, { id: 2, score: 9 }];
  const r2 = update({ _id: 5, quizzes }, {
    $push: { quizzes: { $each: [{ id: 3, score: 8 }, { id: 4, score: 7 }, { id: 5, score: 6 }], $sort: { score: 1 }, $slice: -3 } },
  });
  assert.deepEqual(r2.doc.quizzes, [{ id: 4, score: 7 }, { id: 3, score: 8 }, { id: 2, score: 9 }]);
  const r3 = update({ _id: 1 }, { $push: { a: 1 } });
  assert.deepEqual(r3.doc.a, [1]);
  const r4 = update({ _id: 1, a: [3, 1, 2] }, { $push: { a: { $each: [], $sort: -1 } } });
  assert.deepEqual(r4.doc.a, [3, 2, 1]);
  throwsCode(() => update({ _id: i32(1), a: 1 }, { $push: { a: 2 } }), 2, "The field 'a' must be an array but is of type int in document {_id: 1}");
  throwsCode(() => update({ _id: 1 }, { $push: { a: { $each: [1], $bad: 1 } } }), 2, 'Unrecognized clause in $push: $bad');
});

test('$addToSet, $pop, $pull, $pullAll', () => {
  const r = update({ _id: 1, a: [i32(1), i32(2)] }, { $addToSet: { a: { $each: [dbl(2), i32(3), i32(3)] } } });
  assert.deepEqual(r.doc.a, [i32(1), i32(2), i32(3)]);
  assert.equal(update({ _id: 1, a: [1] }, { $addToSet: { a: 1 } }).modified, false);
  throwsCode(() => update({ _id: 1, a: i32(1) }, { $addToSet: { a: 1 } }), 2, "Cannot apply $addToSet to non-array field. Field named 'a' has non-array type int");
  assert.deepEqual(update({ _id: 1, a: [1, 2, 3] }, { $pop: { a: -1 } }).doc.a, [2, 3]);
  assert.deepEqual(update({ _id: 1, a: [1, 2, 3] }, { $pop: { a: 1 } }).doc.a, [1, 2]);
  throwsCode(() => update({ _id: 1 }, { $pop: { a: 2 } }), 9, '$pop expects 1 or -1, found: 2');
  throwsCode(() => update({ _id: 1, a: i32(1) }, { $pop: { a: 1 } }), 14, "Path 'a' contains an element of non-array type 'int'");
  assert.deepEqual(update({ _id: 1, a: [1, 5, 7, 9] }, { $pull: { a: { $gte: 6 } } }).doc.a, [1, 5]);
  assert.deepEqual(update({ _id: 1, a: [{ x: 1 }, { x: 2 }, 3] }, { $pull: { a: { x: 2 } } }).doc.a, [{ x: 1 }, 3]);
  assert.deepEqual(update({ _id: 1, a: [1, 2, 1, 3] }, { $pullAll: { a: [1, 3] } }).doc.a, [2]);
  assert.deepEqual(update({ _id: 1, a: [[1], 2] }, { $pull: { a: [1] } }).doc.a, [2]);
  throwsCode(() => update({ _id: 1, a: 1 }, { $pull: { a: 1 } }), 2, 'Cannot apply $pull to a non-array value');
});

test('$bit', () => {
  const r = update({ _id: 1, a: i32(13), b: Long.fromNumber(3) }, { $bit: { a: { and: i32(10) }, b: { or: i32(4) } } });
  assert.deepEqual(r.doc.a, i32(8));
  assert.ok(r.doc.b instanceof Long);
  assert.equal(r.doc.b.toString(), '7');
  throwsCode(() => update({ _id: 1 }, { $bit: { v: { not: i32(1) } } }), 2, "The $bit modifier only supports 'and', 'or', and 'xor', not 'not' which is an unknown operator: {not: 1}");
  throwsCode(() => update({ _id: 1 }, { $bit: { v: {} } }), 2, 'You must pass in at least one bitwise operation. The format is: {$bit: {field: {and/or/xor: #}}');
});

test('parse errors: unknown modifier, non-object operand, conflicts', () => {
  throwsCode(() => update({ _id: 1 }, { $foo: { a: 1 } }), 9, 'Unknown modifier: $foo. Expected a valid update modifier or pipeline-style update specified as an array');
  throwsCode(() => update({ _id: 1 }, { $set: { a: 1 }, b: 1 }), 9, 'Unknown modifier: b. Expected a valid update modifier or pipeline-style update specified as an array');
  throwsCode(() => update({ _id: 1 }, { $bit: 'string' }), 9, 'Modifiers operate on fields but we found type string instead. For example: {$mod: {<field>: ...}} not {$bit: "string"}');
  throwsCode(() => update({ _id: 1 }, { $set: { 'a.b': 1 }, $inc: { a: 1 } }), 40, "Updating the path 'a' would create a conflict at 'a'");
  throwsCode(() => update({ _id: 1 }, { $set: { a: 1 }, $inc: { 'a.b': 1 } }), 40, "Updating the path 'a.b' would create a conflict at 'a'");
  throwsCode(() => update({ _id: 1 }, { $set: { 'v.': 1 } }), 56, "The update path 'v.' contains an empty field name, which is not allowed.");
  throwsCode(() => update({ _id: 1 }, { $set: { '': 1 } }), 56, 'An empty update path is not valid.');
  assert.equal(update({ _id: 1 }, { $set: {} }).modified, false);
});

test('immutable _id', () => {
  throwsCode(() => update({ _id: 'a' }, { $set: { _id: 'b' } }), 66, "Performing an update on the path '_id' would modify the immutable field '_id'");
  throwsCode(() => update({ _id: i32(1) }, { $set: { _id: dbl(1) } }), 66);
  assert.equal(update({ _id: i32(1) }, { $set: { _id: i32(1) } }).modified, false);
  throwsCode(() => update({ _id: i32(1), a: 1 }, { $unset: { _id: 1 } }), 66);
  const r = update({ a: 1 }, { $set: { _id: i32(7) } }, { isUpsertInsert: true });
  assert.deepEqual(Object.keys(r.doc), ['_id', 'a']);
});

test('replacement documents', () => {
  const r = update({ _id: i32(1), a: 1, b: 2 }, { c: 3 });
  assert.deepEqual(r.doc, { _id: i32(1), c: 3 });
  assert.equal(r.modified, true);
  assert.equal(update({ _id: i32(1), a: 1 }, { a: 1 }).modified, false);
  const r2 = update({ _id: i32(1), a: 1 }, { _id: dbl(1), a: 2 });
  assert.ok(r2.doc._id instanceof Double);
  throwsCode(() => update({ _id: i32(1) }, { _id: i32(2) }), 66, "After applying the update, the (immutable) field '_id' was found to have been altered to _id: 2");
  throwsCode(() => update({ _id: 1 }, { a: 1, $set: { b: 1 } }), 52);
  const r3 = update({ _id: 1 }, { t: new Timestamp({ t: 0, i: 0 }) });
  assert.equal(r3.doc.t.getHighBits(), 1_700_000_000);
});

test('positional $ operator', () => {
  const r = update({ _id: 1, grades: [i32(80), i32(85), i32(90)] }, { $set: { 'grades.$': i32(82) } }, { positionalMatch: '1' });
  assert.deepEqual(r.doc.grades, [i32(80), i32(82), i32(90)]);
  throwsCode(() => update({ _id: 1, a: [1] }, { $set: { 'a.$': 1 } }), 2, 'The positional operator did not find the match needed from the query.');
  throwsCode(() => update({ _id: 1 }, { $set: { '$.a': 1 } }), 2, "Cannot have positional (i.e. '$') element in the first position in path '$.a'");
  throwsCode(() => update({ _id: 1 }, { $set: { 'a.$.b.$': 1 } }), 2, "Too many positional (i.e. '$') elements found in path 'a.$.b.$'");
  const r2 = update({ _id: 1, a: [{ b: 1, c: 1 }, { b: 2, c: 2 }] }, { $inc: { 'a.$.c': i32(10) } }, { positionalMatch: '1' });
  assert.deepEqual(r2.doc.a[1].c, i32(12));
});

test('$[] and $[<identifier>] with arrayFilters (documentation examples)', () => {
  const r = update({ _id: 1, grades: [i32(95), i32(92), i32(90)] }, { $inc: { 'grades.$[]': i32(10) } });
  assert.deepEqual(r.doc.grades, [i32(105), i32(102), i32(100)]);
  const r2 = update({ _id: 1, grades: [i32(95), i32(102), i32(90), i32(150)] }, { $set: { 'grades.$[element]': i32(100) } }, { arrayFilters: [{ element: { $gte: i32(100) } }] });
  assert.deepEqual(r2.doc.grades, [i32(95), i32(100), i32(90), i32(100)]);
  const r3 = update(
    { _id: 1, grades: [{ grade: 80, mean: 75 }, { grade: 85, mean: 90 }, { grade: 85, mean: 85 }] },
    { $set: { 'grades.$[elem].mean': 100 } },
    { arrayFilters: [{ 'elem.grade': { $gte: 85 } }] },
  );
  assert.deepEqual(r3.doc.grades.map((g: Document) => g.mean), [75, 100, 100]);
  throwsCode(() => update({ _id: 1 }, { $set: { 'a.$[x]': 1 } }), 2, "No array filter found for identifier 'x' in path 'a.$[x]'");
  throwsCode(() => update({ _id: 1 }, { $set: { a: 1 } }, { arrayFilters: [{ x: 1 }] }), 9, "The array filter for identifier 'x' was not used in the update { $set: { a: 1 } }");
  throwsCode(() => update({ _id: 1 }, { $set: { 'a.$[X]': 1 } }, { arrayFilters: [{ X: 1 }] }), 2, /must be an alphanumeric string beginning with a lowercase letter, found 'X'/);
  throwsCode(() => update({ _id: 1 }, { $set: { 'a.$[i]': 1 } }, { arrayFilters: [{ i: 1 }, { i: 2 }] }), 9, 'Found multiple array filters with the same top-level field name i');
  throwsCode(() => update({ _id: 1, a: [0] }, { $set: { 'a.$[i]': 2, 'a.$[j]': 3 } }, { arrayFilters: [{ i: 0 }, { j: 0 }] }), 40, "Update created a conflict at 'a.0'");
  throwsCode(() => update({ _id: 1, a: 5 }, { $set: { 'a.$[]': 1 } }), 2, 'Cannot apply array updates to non-array element a: 5');
  throwsCode(() => update({ _id: 1 }, { $set: { 'a.$[]': 1 } }), 2, "The path 'a' must exist in the document in order to apply array updates.");
});

test('$setOnInsert only on upsert inserts', () => {
  assert.equal(update({ _id: 1 }, { $setOnInsert: { a: 1 } }).modified, false);
  assert.deepEqual(update({ _id: 1 }, { $setOnInsert: { a: 1 } }, { isUpsertInsert: true }).doc, { _id: 1, a: 1 });
});

test('pipeline updates need a hook', () => {
  throwsCode(() => parseUpdate([{ $set: { a: 1 } }], { matcherFactory }), 2);
  const p = parseUpdate([{ $set: { a: 1 } }], { matcherFactory, parsePipeline: () => (d) => ({ ...d, a: 1 }) });
  assert.deepEqual(applyUpdate(p, { _id: 1 }, ctx), { doc: { _id: 1, a: 1 }, modified: true });
});

test('buildUpsertSeed', () => {
  assert.deepEqual(buildUpsertSeed({ a: 1, _id: 5, 'b.c': 2, d: { $gt: 1 }, $and: [{ e: { $eq: 3 } }] }), { _id: 5, a: 1, b: { c: 2 }, e: 3 });
  throwsCode(() => buildUpsertSeed({ a: 1, 'a.b': 2 }), 54, "cannot infer query fields to set, both paths 'a.b' and 'a' are matched");
  throwsCode(() => buildUpsertSeed({ a: 1, $and: [{ a: 2 }] }), 54, "cannot infer query fields to set, path 'a' is matched twice");
  assert.deepEqual(buildUpsertSeed({ a: 1, _id: 2 }, { onlyId: true }), { _id: 2 });
});

test('validateStorable', () => {
  throwsCode(() => validateStorable({ _id: [1] }), 2, "can't use an array for _id");
  throwsCode(() => validateStorable({ _id: [1] }, { context: 'update' }), 53, "The '_id' value cannot be of type array");
  validateStorable({ _id: 1, $x: 1, 'a.b': 2, '': 3 });
  throwsCode(() => update({ a: 1 }, { $set: { _id: [1] } }, { isUpsertInsert: true }), 53);
});
