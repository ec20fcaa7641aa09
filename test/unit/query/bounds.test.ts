import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { compareValues, Double, MaxKey, MinKey, type BsonValue, type Document } from '../../../src/bson/index.js';
import { matches, parseFilter } from '../../../src/query/filter/index.js';
import { boundsToExplain, indexBounds, intervalToString, type IndexBounds, type Interval } from '../../../src/query/bounds.js';
import { sortKeyValues } from '../../../src/query/path.js';

function bounds(filter: Document, keyPattern: Document, multikey: string[] = []): string[][] | null {
  const b = indexBounds(parseFilter(filter), keyPattern, { multikeyPaths: new Set(multikey) });
  return b === null ? null : b.map((field) => field.map(intervalToString));
}

function inInterval(v: BsonValue, iv: Interval): boolean {
  const lo = compareValues(v, iv.low);
  if (lo < 0 || (lo === 0 && !iv.lowInclusive)) return false;
  const hi = compareValues(v, iv.high);
  return hi < 0 || (hi === 0 && iv.highInclusive);
}

/** Index keys of a single-field index, as the key generator makes them (missing → null, [] → undefined). */
function keysOf(doc: Document, path: string): BsonValue[] {
  return sortKeyValues(doc, path);
}

describe('indexBounds', () => {
  it('equality and $in give points', () => {
    assert.deepEqual(bounds({ a: 5 }, { a: 1 }), [['[5, 5]']]);
    assert.deepEqual(bounds({ a: 'x' }, { a: 1 }), [['["x", "x"]']]);
    assert.deepEqual(bounds({ a: null }, { a: 1 }), [['[null, null]']]);
    assert.deepEqual(bounds({ a: { $in: [3, 1, 'z', 1] } }, { a: 1 }), [['[1, 1]', '[3, 3]', '["z", "z"]']]);
    assert.deepEqual(bounds({ a: { b: 1 } }, { a: 1 }), [['[{ b: 1 }, { b: 1 }]']]);
  });

  it('array equality, regexes in $in and unconstrained first fields are unusable', () => {
    assert.equal(bounds({ a: [1, 2] }, { a: 1 }), null);
    assert.equal(bounds({ a: { $in: [/x/, 1] } }, { a: 1 }), null);
    assert.equal(bounds({ b: 1 }, { a: 1 }), null);
    assert.equal(bounds({ $or: [{ a: 1 }, { a: 2 }] }, { a: 1 }), null);
    assert.equal(bounds({ a: { $exists: true } }, { a: 1 }), null);
    assert.equal(bounds({ a: 1 }, { a: 'hashed' }), null);
    assert.equal(bounds({ 'a.0': 1 }, { 'a.0': 1 }), null);
  });

  it('ranges stay inside the type bracket', () => {
    assert.deepEqual(bounds({ a: { $gt: 5 } }, { a: 1 }), [['(5, inf.0]']]);
    assert.deepEqual(bounds({ a: { $gte: new Double(5) } }, { a: 1 }), [['[5.0, inf.0]']]);
    assert.deepEqual(bounds({ a: { $lt: 5 } }, { a: 1 }), [['[-inf.0, 5)']]);
    assert.deepEqual(bounds({ a: { $lt: 'm' } }, { a: 1 }), [['["", "m")']]);
    assert.deepEqual(bounds({ a: { $gte: 'm' } }, { a: 1 }), [['["m", {})']]);
    assert.deepEqual(bounds({ a: { $gt: 5, $lt: 10 } }, { a: 1 }), [['(5, 10)']]);
    assert.deepEqual(bounds({ a: { $gt: 10, $lt: 5 } }, { a: 1 }), [[]]);
    assert.deepEqual(bounds({ a: { $gte: NaN } }, { a: 1 }), [['[nan.0, nan.0]']]);
    assert.deepEqual(bounds({ a: { $gt: NaN } }, { a: 1 }), [[]]);
    assert.deepEqual(bounds({ a: { $gt: new MinKey() } }, { a: 1 }), [['(MinKey, MaxKey]']]);
    assert.deepEqual(bounds({ a: { $lt: new MaxKey() } }, { a: 1 }), [['[MinKey, MaxKey)']]);
    assert.deepEqual(bounds({ a: { $gte: null } }, { a: 1 }), [['[null, null]']]);
  });

  it('compound patterns fill unconstrained fields', () => {
    assert.deepEqual(bounds({ a: 1, b: { $gt: 2 } }, { a: 1, b: -1 }), [['[1, 1]'], ['(2, inf.0]']]);
    assert.deepEqual(bounds({ a: 1 }, { a: 1, b: 1 }), [['[1, 1]'], ['[MinKey, MaxKey]']]);
    assert.deepEqual(bounds({ $and: [{ a: 1 }, { b: 2 }] }, { a: 1, b: 1 }), [['[1, 1]'], ['[2, 2]']]);
  });

  it('does not intersect two ranges on a multikey path, but does within $elemMatch', () => {
    const one = bounds({ a: { $gt: 5, $lt: 10 } }, { a: 1 }, ['a']);
    assert.ok(one !== null && one[0]!.length === 1);
    assert.ok(one![0]![0] === '(5, inf.0]' || one![0]![0] === '[-inf.0, 10)');
    assert.deepEqual(bounds({ $and: [{ a: { $elemMatch: { $gt: 5, $lt: 10 } } }, { a: { $gt: 5 } }] }, { a: 1 }, ['a']), [['(5, 10)']]);
    assert.deepEqual(bounds({ a: { $elemMatch: { $gt: 5, $lt: 10 } } }, { a: 1 }, ['a']), [['(5, 10)']]);
    assert.deepEqual(bounds({ a: { $gt: 5 }, $and: [{ a: 7 }] }, { a: 1 }, ['a']), [['[7, 7]']]);
  });

  it('reads predicates inside $elemMatch on a prefix', () => {
    assert.deepEqual(bounds({ a: { $elemMatch: { b: 3, c: 1 } } }, { 'a.b': 1 }), [['[3, 3]']]);
  });

  it('$ne and $nin give complements', () => {
    assert.deepEqual(bounds({ a: { $ne: 5 } }, { a: 1 }), [['[MinKey, 5)', '(5, MaxKey]']]);
    assert.deepEqual(bounds({ a: { $nin: [1, 3] } }, { a: 1 }), [['[MinKey, 1)', '(1, 3)', '(3, MaxKey]']]);
  });

  it('regexes scan their literal prefix and equal stored regexes', () => {
    assert.deepEqual(bounds({ a: /^abc/ }, { a: 1 }), [['["abc", "abd")', '[/^abc/, /^abc/]']]);
    assert.deepEqual(bounds({ a: /abc/ }, { a: 1 }), [['["", {})', '[/abc/, /abc/]']]);
    assert.deepEqual(bounds({ a: /^abc/i }, { a: 1 }), [['["", {})', '[/^abc/i, /^abc/i]']]);
    assert.deepEqual(bounds({ a: /^a|b/ }, { a: 1 }), [['["", {})', '[/^a|b/, /^a|b/]']]);
  });

  it('formats explain bounds, reversed for descending fields', () => {
    const b = indexBounds(parseFilter({ a: { $gt: 5 }, b: { $in: [1, 2] } }), { a: -1, b: 1 }, { multikeyPaths: new Set() }) as IndexBounds;
    assert.deepEqual(boundsToExplain(b, { a: -1, b: 1 }), { a: ['[inf.0, 5)'], b: ['[1, 1]', '[2, 2]'] });
  });

  it('is a superset: every matching document has a key in the bounds', () => {
    const docs: Document[] = [
      {}, { a: null }, { a: 5 }, { a: 7.5 }, { a: 'x' }, { a: 'abz' }, { a: [1, 9] }, { a: [] }, { a: [[5]] },
      { a: { b: 5 } }, { a: [{ b: 5 }, { c: 1 }] }, { a: NaN }, { a: new MinKey() }, { a: new MaxKey() }, { a: [null, 3] },
      { a: true }, { a: new Date(5) }, { a: /^abc/ },
    ];
    const filters: Document[] = [
      { a: 5 }, { a: null }, { a: { $gt: 4 } }, { a: { $lte: 7.5 } }, { a: { $ne: 5 } }, { a: { $nin: [null, 5] } },
      { a: { $in: [null, 'x', 9] } }, { a: /^ab/ }, { a: { $gte: new MinKey() } }, { a: { $lt: new MaxKey() } },
      { a: { $gt: 4, $lt: 8 } }, { a: { $elemMatch: { $gt: 0, $lt: 2 } } }, { a: { $gte: NaN } }, { a: { $gt: false } },
      { 'a.b': 5 }, { 'a.b': null }, { 'a.b': { $ne: 5 } },
    ];
    for (const filter of filters) {
      const node = parseFilter(filter);
      const path = Object.keys(filter)[0]!;
      for (const multikey of [false, true]) {
        const b = indexBounds(node, { [path]: 1 }, { multikeyPaths: new Set(multikey ? [path] : []) });
        if (b === null) continue;
        for (const doc of docs) {
          if (!matches(node, doc)) continue;
          // A non-multikey index never holds a document with an array on its path.
          if (!multikey && Array.isArray(doc.a)) continue;
          const keys = keysOf(doc, path);
          assert.ok(
            keys.some((k) => b[0]!.some((iv) => inInterval(k, iv))),
            `${JSON.stringify(filter)} matches ${String(JSON.stringify(doc))} but no key in ${b[0]!.map(intervalToString).join(' ')}`,
          );
        }
      }
    }
  });
});
