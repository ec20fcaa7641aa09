import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Int32, Long, type Document } from '../../../src/bson/index.js';
import { parseFilter, matches } from '../../../src/query/filter/index.js';
import { filterImplies } from '../../../src/query/partial.js';

const implies = (query: Document, pfe: Document): boolean => filterImplies(parseFilter(query), parseFilter(pfe));

describe('filterImplies (may a partial index answer the query?)', () => {
  it('ranges inside ranges, of the same type bracket only', () => {
    assert.equal(implies({ a: { $gt: 10 } }, { a: { $gt: 5 } }), true);
    assert.equal(implies({ a: { $gt: 5 } }, { a: { $gte: 5 } }), true);
    assert.equal(implies({ a: { $gte: 5 } }, { a: { $gt: 5 } }), false);
    assert.equal(implies({ a: { $lt: 1.5 } }, { a: { $lte: 1.5 } }), true);
    assert.equal(implies({ a: { $lte: 1.5 } }, { a: { $lt: 1.5 } }), false);
    assert.equal(implies({ a: { $lt: 1 } }, { a: { $gt: 0 } }), false);
    assert.equal(implies({ a: 'x' }, { a: { $gt: 0 } }), false);
    assert.equal(implies({ a: new Int32(7) }, { a: { $gt: Long.fromNumber(5) } }), true);
    assert.equal(implies({ a: { $lte: null } }, { a: { $lte: 1 } }), false);
  });

  it('equality, $in, $exists, $type and their combinations', () => {
    assert.equal(implies({ a: 3 }, { a: { $in: [3, 5] } }), true);
    assert.equal(implies({ a: { $in: [3, 5] } }, { a: { $in: [3, 5, 7] } }), true);
    assert.equal(implies({ a: { $in: [3, 4] } }, { a: { $in: [3, 5] } }), false);
    assert.equal(implies({ a: { $in: [1, 2] } }, { a: { $lte: 2 } }), true);
    assert.equal(implies({ a: 1 }, { a: { $exists: true } }), true);
    assert.equal(implies({ a: null }, { a: { $exists: true } }), false);
    assert.equal(implies({ a: { $ne: 1 } }, { a: { $exists: true } }), false);
    assert.equal(implies({ a: 's' }, { a: { $type: 'string' } }), true);
    assert.equal(implies({ a: { $type: ['string', 'int'] } }, { a: { $type: 'string' } }), false);
    assert.equal(implies({ a: 1, b: { $gt: 20 }, c: 0 }, { a: 1, b: { $gt: 10 } }), true);
    assert.equal(implies({ a: 1 }, { a: 1, b: { $gt: 10 } }), false);
    assert.equal(implies({ $or: [{ a: 1 }, { a: 2 }] }, { a: { $gte: 1 } }), true);
    assert.equal(implies({ $or: [{ a: 1 }, { b: 2 }] }, { a: { $gte: 1 } }), false);
    assert.equal(implies({ a: 3 }, { $or: [{ a: 3 }, { $and: [{ a: 5 }, { b: 5 }] }] }), true);
    assert.equal(implies({ a: 5 }, { $or: [{ a: 3 }, { $and: [{ a: 5 }, { b: 5 }] }] }), false);
    assert.equal(implies({ 'a.b': 2 }, { 'a.b': { $exists: true } }), true);
    assert.equal(implies({ a: { b: 2 } }, { 'a.b': { $exists: true } }), false);
  });

  it('never claims an implication a document contradicts', () => {
    const docs: Document[] = [{}, { a: null }, { a: 1 }, { a: 5 }, { a: 11 }, { a: 'x' }, { a: [1, 20] }, { a: [] }, { a: 5, b: 5 }, { b: 15 }];
    const queries: Document[] = [{ a: 5 }, { a: { $gt: 10 } }, { a: { $in: [1, 5] } }, { a: { $gte: 1, $lt: 10 } }, { $or: [{ a: 1 }, { a: 5 }] }, { a: { $exists: true } }, { a: { $type: 'number' } }];
    const pfes: Document[] = [{ a: { $gt: 0 } }, { a: { $exists: true } }, { a: { $lte: 5 } }, { a: { $type: 'int' } }, { a: { $in: [1, 5, 11] } }];
    for (const q of queries) {
      for (const p of pfes) {
        if (!implies(q, p)) continue;
        for (const d of docs) {
          if (matches(parseFilter(q), d)) assert.ok(matches(parseFilter(p), d), `${JSON.stringify(q)} implies ${JSON.stringify(p)} but ${JSON.stringify(d)} breaks it`);
        }
      }
    }
  });
});
