import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Double, Int32, Long, MaxKey, MinKey, type Document } from '../../../src/bson/index.js';
import { DossierError } from '../../../src/base/index.js';
import { compareForSort, parseSort, sortKeyOf } from '../../../src/query/sort.js';
import { indexKeyValues, getPathValue, matchValuesAtPath, sortKeyValues } from '../../../src/query/path.js';

function order(spec: Document, docs: Document[]): unknown[] {
  return [...docs].sort(compareForSort(parseSort(spec))).map((d) => d._id);
}

function sortError(spec: Document, code: number, message?: string): void {
  assert.throws(
    () => parseSort(spec),
    (e: unknown) => {
      assert.ok(e instanceof DossierError);
      assert.equal(e.code, code, e.message);
      if (message !== undefined) assert.equal(e.message, message);
      return true;
    },
  );
}

describe('parseSort', () => {
  it('accepts 1/-1 of any numeric type', () => {
    const spec = parseSort({ a: 1, 'b.c': -1, d: new Double(1.0), e: Long.fromNumber(-1), f: new Int32(1), g: 1.5 });
    assert.deepEqual(spec.map((f) => [f.path, f.direction]), [['a', 1], ['b.c', -1], ['d', 1], ['e', -1], ['f', 1], ['g', 1]]);
    assert.deepEqual(spec[1]!.parts, ['b', 'c']);
    assert.equal(parseSort({ $natural: -1 }).natural, -1);
    assert.equal(parseSort({ $natural: -1 }).length, 0);
  });

  it('rejects what mongod rejects', () => {
    sortError({ a: 0 }, 15975, '$sort key ordering must be 1 (for ascending) or -1 (for descending)');
    sortError({ a: 2 }, 15975);
    sortError({ a: 0.5 }, 15975);
    sortError({ a: 'asc' }, 15974, 'Illegal key in $sort specification: a: "asc"');
    sortError({ a: { x: 1 } }, 15974, 'Illegal key in $sort specification: a: { x: 1 }');
    sortError({ a: { $meta: 'textScore' } }, 2);
    sortError({ $a: 1 }, 16410);
    sortError({ 'a..b': 1 }, 15998);
    sortError({ '': 1 }, 40352);
  });
});

describe('compareForSort', () => {
  it('orders across types by BSON type order, missing as null', () => {
    const docs = [
      { _id: 'str', a: 'x' },
      { _id: 'num', a: 5 },
      { _id: 'null', a: null },
      { _id: 'missing' },
      { _id: 'obj', a: { b: 1 } },
      { _id: 'bool', a: true },
      { _id: 'min', a: new MinKey() },
      { _id: 'max', a: new MaxKey() },
      { _id: 'date', a: new Date(0) },
    ];
    assert.deepEqual(order({ a: 1 }, docs), ['min', 'null', 'missing', 'num', 'str', 'obj', 'bool', 'date', 'max']);
    assert.deepEqual(order({ a: -1 }, docs), ['max', 'date', 'bool', 'obj', 'str', 'num', 'null', 'missing', 'min']);
  });

  it('sorts arrays by their smallest element ascending and largest descending', () => {
    const docs = [
      { _id: 1, a: [1, 10] },
      { _id: 2, a: [5] },
      { _id: 3, a: 7 },
      { _id: 4, a: [] },
      { _id: 5, a: null },
    ];
    assert.deepEqual(order({ a: 1 }, docs), [4, 5, 1, 2, 3]);
    assert.deepEqual(order({ a: -1 }, docs), [1, 3, 2, 5, 4]);
  });

  it('uses values inside arrays of documents and compares numbers across types', () => {
    const docs = [
      { _id: 1, a: [{ b: 3 }, { b: 1 }] },
      { _id: 2, a: { b: new Double(2.5) } },
      { _id: 3, a: [{ c: 1 }] },
      { _id: 4, a: { b: Long.fromNumber(2) } },
      { _id: 5, a: [{ b: 9 }, { c: 1 }] },
    ];
    // An element without the field keys as null, so _id 5 sorts as null ascending.
    assert.deepEqual(order({ 'a.b': 1 }, docs), [3, 5, 1, 4, 2]);
    assert.deepEqual(order({ 'a.b': -1 }, docs), [5, 1, 2, 4, 3]);
  });

  it('breaks ties with later keys and keeps input order on full ties', () => {
    const docs = [
      { _id: 1, a: 1, b: 2 },
      { _id: 2, a: 1, b: 1 },
      { _id: 3, a: 0, b: 9 },
      { _id: 4, a: 1, b: 1 },
    ];
    assert.deepEqual(order({ a: 1, b: 1 }, docs), [3, 2, 4, 1]);
    assert.deepEqual(order({ a: -1, b: -1 }, docs), [1, 2, 4, 3]);
  });

  it('exposes sort keys', () => {
    const spec = parseSort({ a: 1, b: -1 });
    assert.deepEqual(sortKeyOf(spec, { a: [3, 1], b: [3, 1] }), [1, 3]);
    assert.deepEqual(sortKeyOf(spec, {}), [null, null]);
  });
});

describe('path reading', () => {
  const doc = { a: [{ b: 1 }, { b: [2, 3] }, { c: 4 }, 5], x: { y: { z: 1 } }, e: [] };

  it('matcher semantics yield every candidate', () => {
    assert.deepEqual(matchValuesAtPath(doc, 'a.b'), [1, 2, 3, [2, 3], undefined]);
    assert.deepEqual(matchValuesAtPath(doc, 'a.b', false), [1, [2, 3], undefined]);
    assert.deepEqual(matchValuesAtPath(doc, 'a'), [{ b: 1 }, { b: [2, 3] }, { c: 4 }, 5, doc.a]);
    // Document elements are searched for a field named "3" too (and lack it), as in mongod.
    assert.deepEqual(matchValuesAtPath(doc, 'a.3'), [undefined, undefined, undefined, 5]);
    assert.deepEqual(matchValuesAtPath({ a: [7, 8] }, 'a.1'), [8]);
    assert.deepEqual(matchValuesAtPath(doc, 'x.y.z'), [1]);
    assert.deepEqual(matchValuesAtPath(doc, 'x.q.z'), [undefined]);
    assert.deepEqual(matchValuesAtPath({ a: [{ 0: 'x' }] }, 'a.0'), ['x', { 0: 'x' }]);
  });

  it('key semantics yield index keys', () => {
    const arrays = new Set<number>();
    assert.deepEqual(indexKeyValues(doc, 'a.b', arrays), [1, 2, 3, null, null]);
    assert.deepEqual([...arrays].sort(), [0, 1]);
    assert.deepEqual(indexKeyValues({ a: [] }, 'a.b'), [null]);
    assert.deepEqual(indexKeyValues({ a: [[1], 2] }, 'a'), [[1], 2]);
    assert.deepEqual(sortKeyValues(doc, 'e'), [undefined]);
    assert.deepEqual(sortKeyValues(doc, 'nope'), [null]);
    assert.deepEqual(sortKeyValues(doc, 'a.3'), [5]);
  });

  it('plain lookup follows positions only', () => {
    assert.equal(getPathValue(doc, 'a.1.b.0'), 2);
    assert.equal(getPathValue(doc, 'a.b'), undefined);
    assert.equal(getPathValue(doc, 'x.y.z'), 1);
    assert.equal(getPathValue(doc, 'x.y.z.w'), undefined);
  });
});
