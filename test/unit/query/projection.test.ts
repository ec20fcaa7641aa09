import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyProjection, parseProjection, type MatcherFactory } from '../../../src/query/projection/index.js';
import { compareValues, Int32, isDocument, type BsonValue, type Document } from '../../../src/bson/index.js';
import { DossierError } from '../../../src/base/index.js';

/** Equality / $gt / $gte only, and {field: {$elemMatch: cond}} over arrays. */
const matcherFactory: MatcherFactory = (filter) => (doc) => Object.keys(filter).every((field) => {
  const cond = filter[field];
  const v: BsonValue = doc[field];
  const test1 = (x: BsonValue, c: BsonValue): boolean => {
    if (isDocument(c) && Object.keys(c)[0]?.startsWith('$')) {
      return Object.entries(c).every(([op, arg]) => op === '$gt' ? compareValues(x, arg) > 0 : op === '$gte' ? compareValues(x, arg) >= 0 : compareValues(x, arg) === 0);
    }
    if (isDocument(c) && isDocument(x)) return Object.keys(c).every((k) => test1(x[k], c[k]));
    return x !== undefined && compareValues(x, c) === 0;
  };
  if (isDocument(cond) && '$elemMatch' in cond) return Array.isArray(v) && v.some((e) => test1(e, cond.$elemMatch));
  return test1(v, cond);
});

function project(spec: Document, doc: Document, positionalMatch?: string, query?: Document): Document {
  const p = parseProjection(spec, { matcherFactory, ...(query ? { query } : {}) });
  return applyProjection(p, doc, positionalMatch === undefined ? {} : { positionalMatch });
}

function throwsCode(fn: () => unknown, code: number, message?: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof DossierError, String(e));
    assert.equal(e.code, code, e.message);
    if (message !== undefined) assert.equal(e.message, message);
    return true;
  });
}

const inventory = { _id: 1, item: 'abc', status: 'A', size: { h: 14, w: 21, uom: 'cm' }, instock: [{ warehouse: 'A', qty: 5 }, { warehouse: 'C', qty: 15 }] };

test('inclusion keeps _id and document order (documentation examples)', () => {
  assert.deepEqual(project({ status: 1, item: 1 }, inventory), { _id: 1, item: 'abc', status: 'A' });
  assert.deepEqual(project({ item: 1, status: 1, _id: 0 }, inventory), { item: 'abc', status: 'A' });
  assert.deepEqual(project({ item: 1, 'size.uom': 1 }, inventory), { _id: 1, item: 'abc', size: { uom: 'cm' } });
  assert.deepEqual(project({ item: 1, 'instock.qty': 1 }, inventory), { _id: 1, item: 'abc', instock: [{ qty: 5 }, { qty: 15 }] });
  assert.deepEqual(project({ size: { uom: 1 } }, inventory), { _id: 1, size: { uom: 'cm' } });
  assert.deepEqual(project({ _id: 1 }, inventory), { _id: 1 });
});

test('exclusion', () => {
  assert.deepEqual(project({ status: 0, instock: 0 }, inventory), { _id: 1, item: 'abc', size: { h: 14, w: 21, uom: 'cm' } });
  assert.deepEqual(project({ 'size.uom': 0, _id: 0, instock: 0 }, inventory), { item: 'abc', status: 'A', size: { h: 14, w: 21 } });
  assert.deepEqual(project({ 'a.b': 0 }, { _id: 1, a: [1, { b: 2, c: 3 }, [{ b: 4 }]] }), { _id: 1, a: [1, { c: 3 }, [{}]] });
  assert.deepEqual(project({ _id: 0 }, { _id: 1, a: 1 }), { a: 1 });
  assert.deepEqual(project({}, { _id: 1, a: 1 }), { _id: 1, a: 1 });
});

test('inclusion through arrays drops scalars', () => {
  assert.deepEqual(project({ 'a.b': 1, _id: 0 }, { a: [1, { b: 2, c: 3 }, { c: 4 }, [{ b: 5 }]] }), { a: [{ b: 2 }, {}, [{ b: 5 }]] });
  assert.deepEqual(project({ 'a.b': 1, _id: 0 }, { a: 5 }), {});
});

test('$slice', () => {
  const doc = { _id: 1, a: [1, 2, 3, 4, 5], b: 'x' };
  assert.deepEqual(project({ a: { $slice: 2 } }, doc), { _id: 1, a: [1, 2], b: 'x' });
  assert.deepEqual(project({ a: { $slice: -2 } }, doc), { _id: 1, a: [4, 5], b: 'x' });
  assert.deepEqual(project({ a: { $slice: [1, 2] } }, doc), { _id: 1, a: [2, 3], b: 'x' });
  assert.deepEqual(project({ a: { $slice: [-2, 5] } }, doc), { _id: 1, a: [4, 5], b: 'x' });
  assert.deepEqual(project({ a: { $slice: 1 }, b: 1 }, doc), { _id: 1, a: [1], b: 'x' });
  assert.deepEqual(project({ a: { $slice: 1 }, _id: 1 }, doc), { _id: 1, a: [1] });
  assert.deepEqual(project({ b: { $slice: 1 } }, doc), doc);
  throwsCode(() => project({ a: { $slice: [1, 0] } }, doc), 31259, '$slice limit must be positive, got 0');
  throwsCode(() => project({ a: { $slice: [1] } }, doc), 31272);
  throwsCode(() => project({ a: { $slice: 'x' } }, doc), 31273);
});

test('$elemMatch returns the first match, after the other included fields', () => {
  const doc = { _id: 1, zipcode: '63109', students: [{ name: 'john', school: 102, age: 10 }, { name: 'jess', school: 102, age: 11 }, { name: 'jeff', school: 108, age: 15 }] };
  assert.deepEqual(project({ students: { $elemMatch: { school: 102 } } }, doc), { _id: 1, students: [{ name: 'john', school: 102, age: 10 }] });
  const r = project({ students: { $elemMatch: { school: 102, age: { $gt: 10 } } }, zipcode: 1 }, doc);
  assert.deepEqual(r, { _id: 1, zipcode: '63109', students: [{ name: 'jess', school: 102, age: 11 }] });
  assert.deepEqual(Object.keys(r), ['_id', 'zipcode', 'students']);
  assert.deepEqual(project({ students: { $elemMatch: { school: 999 } } }, doc), { _id: 1 });
  throwsCode(() => project({ 'a.b': { $elemMatch: { x: 1 } } }, doc), 31275, 'Cannot use $elemMatch projection on a nested field.');
});

test('positional a.$', () => {
  const doc = { _id: 1, semester: 1, grades: [new Int32(70), new Int32(87), new Int32(90)] };
  assert.deepEqual(project({ 'grades.$': 1 }, doc, '1'), { _id: 1, grades: [new Int32(87)] });
  throwsCode(() => project({ 'grades.$': 1 }, doc), 51246, "positional operator '.$' couldn't find a matching element in the array");
  throwsCode(() => project({ 'v.foo.$': 1 }, { _id: 1, v: [42] }, '0'), 51247, "positional operator '.$' element mismatch");
  throwsCode(() => project({ 'v.$': 0 }, doc), 31395, 'positional projection cannot be used with exclusion');
  throwsCode(() => project({ 'v.$.foo': 1 }, doc), 31394);
  throwsCode(() => project({ 'a.$': 1, 'b.$': 1 }, doc), 31276);
  throwsCode(() => project({ 'a.$': 1 }, doc, '0', { b: 1 }), 31277, "Positional projection 'a.$' does not match the query document.");
  assert.deepEqual(project({ 'a.b.$': 1 }, { _id: 1, a: { b: [5, 6] } }, '1'), { _id: 1, a: { b: [6] } });
});

test('parse errors', () => {
  throwsCode(() => project({ foo: 0, bar: 1 }, {}), 31253, 'Cannot do inclusion on field bar in exclusion projection');
  throwsCode(() => project({ foo: 1, bar: 0 }, {}), 31254, 'Cannot do exclusion on field bar in inclusion projection');
  throwsCode(() => project({ a: 1, 'a.b': 1 }, {}), 31249, 'Path collision at a.b remaining portion b');
  throwsCode(() => project({ 'a.b': 1, a: 1 }, {}), 31250, 'Path collision at a');
  throwsCode(() => project({ '': 1 }, {}), 40352);
  throwsCode(() => project({ 'v..d': 1 }, {}), 15998);
  throwsCode(() => project({ 'v..$': 1 }, {}), 40353);
  throwsCode(() => project({ $v: 1 }, {}), 16410);
  throwsCode(() => project({ a: { $meta: 'textScore' } }, {}), 2);
  throwsCode(() => project({ a: '$b' }, {}), 2);
});

test('expressions through the injected parser', () => {
  const p = parseProjection({ x: '$a', a: 1 }, {
    matcherFactory,
    parseExpression: (e) => (root) => (typeof e === 'string' && e.startsWith('$') ? root[e.slice(1)] : e),
  });
  assert.deepEqual(applyProjection(p, { _id: 1, a: 5, b: 2 }), { _id: 1, a: 5, x: 5 });
  throwsCode(() => parseProjection({ b: 0, x: '$a' }, { matcherFactory, parseExpression: () => () => 1 }), 31310);
});

test('input is not mutated', () => {
  const doc = { _id: 1, a: { b: 1, c: 2 } };
  project({ 'a.b': 0 }, doc);
  assert.deepEqual(doc, { _id: 1, a: { b: 1, c: 2 } });
});
