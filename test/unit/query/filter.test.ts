import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  BSONRegExp,
  BSONSymbol,
  Binary,
  DBRef,
  Decimal128,
  Double,
  Int32,
  Long,
  MaxKey,
  MinKey,
  ObjectId,
  Timestamp,
  type Document,
} from '../../../src/bson/index.js';
import { DossierError } from '../../../src/base/index.js';
import {
  collectEqualities,
  isEqualityOnly,
  matches,
  parseFilter,
  referencedPaths,
  serializeFilter,
  walkFilter,
  type MatchDetails,
} from '../../../src/query/filter/index.js';

function m(filter: Document, doc: Document): boolean {
  return matches(parseFilter(filter), doc);
}

/** Which of `docs` (by _id) match. */
function which(filter: Document, docs: Document[]): unknown[] {
  const node = parseFilter(filter);
  return docs.filter((d) => matches(node, d)).map((d) => d._id);
}

function parseError(filter: Document, code: number, message?: string | RegExp): void {
  assert.throws(
    () => parseFilter(filter),
    (e: unknown) => {
      assert.ok(e instanceof DossierError, `expected DossierError, got ${String(e)}`);
      assert.equal(e.code, code, `code for ${e.message}`);
      if (typeof message === 'string') assert.equal(e.message, message);
      else if (message) assert.match(e.message, message);
      return true;
    },
  );
}

describe('equality', () => {
  it('matches scalars, cross-type numbers and nested paths', () => {
    assert.equal(m({ a: 1 }, { a: 1 }), true);
    assert.equal(m({ a: 1 }, { a: new Double(1.0) }), true);
    assert.equal(m({ a: new Int32(1) }, { a: Long.fromNumber(1) }), true);
    assert.equal(m({ a: 1 }, { a: Decimal128.fromString('1.0') }), true);
    assert.equal(m({ a: 1 }, { a: '1' }), false);
    assert.equal(m({ 'a.b': 2 }, { a: { b: 2 } }), true);
    assert.equal(m({ 'a.b': 2 }, { a: { b: 3 } }), false);
    assert.equal(m({}, { a: 1 }), true);
  });

  it('implicitly traverses arrays (docs: query an array for an element)', () => {
    const docs = [
      { _id: 1, tags: ['blank', 'red'] },
      { _id: 2, tags: ['red', 'blank'] },
      { _id: 3, tags: ['blue'] },
      { _id: 4, tags: 'red' },
    ];
    assert.deepEqual(which({ tags: 'red' }, docs), [1, 2, 4]);
    assert.deepEqual(which({ tags: ['red', 'blank'] }, docs), [2]);
    assert.deepEqual(which({ tags: ['blank', 'red'] }, docs), [1]);
  });

  it('matches an array value exactly or as an element of an array', () => {
    assert.equal(m({ a: [1, 2] }, { a: [[1, 2], 3] }), true);
    assert.equal(m({ a: [1, 2] }, { a: [1, 2, 3] }), false);
    assert.equal(m({ a: 1 }, { a: [[1]] }), false);
  });

  it('traverses arrays of documents in the middle of a path', () => {
    const doc = { a: [{ b: 1 }, { b: [2, 3] }, { c: 4 }] };
    assert.equal(m({ 'a.b': 1 }, doc), true);
    assert.equal(m({ 'a.b': 3 }, doc), true);
    assert.equal(m({ 'a.b': [2, 3] }, doc), true);
    assert.equal(m({ 'a.c': 4 }, doc), true);
    assert.equal(m({ 'a.b': 5 }, doc), false);
  });

  it('does not traverse arrays nested directly in arrays by field name', () => {
    assert.equal(m({ 'a.b': 1 }, { a: [[{ b: 1 }]] }), false);
    assert.equal(m({ 'a.0.b': 1 }, { a: [[{ b: 1 }]] }), true);
  });

  it('reads numeric components as array positions and as field names', () => {
    assert.equal(m({ 'a.0': 5 }, { a: [5, 6] }), true);
    assert.equal(m({ 'a.1': 5 }, { a: [5, 6] }), false);
    assert.equal(m({ 'a.0': 5 }, { a: [{ 0: 5 }] }), true);
    assert.equal(m({ 'a.0': { 0: 5 } }, { a: [{ 0: 5 }] }), true);
    assert.equal(m({ 'a.1.b': 2 }, { a: [{ b: 1 }, { b: 2 }] }), true);
    assert.equal(m({ 'a.0.b': 2 }, { a: [{ b: 1 }, { b: 2 }] }), false);
    assert.equal(m({ 'a.01': 5 }, { a: [5, 5] }), false);
    assert.equal(m({ 'a.0': 1 }, { a: [[1, 2]] }), false);
    assert.equal(m({ 'a.0': 5 }, { a: { 0: 5 } }), true);
  });

  it('matches documents by exact field order', () => {
    assert.equal(m({ a: { x: 1, y: 2 } }, { a: { x: 1, y: 2 } }), true);
    assert.equal(m({ a: { x: 1, y: 2 } }, { a: { y: 2, x: 1 } }), false);
    assert.equal(m({ a: { x: 1 } }, { a: [{ x: 1 }, { x: 2 }] }), true);
  });

  it('compares strings, symbols, dates, ids and binaries', () => {
    const id = new ObjectId();
    assert.equal(m({ a: id }, { a: new ObjectId(id.toHexString()) }), true);
    assert.equal(m({ a: 'x' }, { a: new BSONSymbol('x') }), true);
    assert.equal(m({ a: new Date(5) }, { a: new Date(5) }), true);
    assert.equal(m({ a: new Date(5) }, { a: new Timestamp({ t: 0, i: 5 }) }), false);
    assert.equal(m({ a: new Binary(Buffer.from([1, 2])) }, { a: new Binary(Buffer.from([1, 2])) }), true);
  });
});

describe('null and missing', () => {
  const docs = [
    { _id: 1, item: null },
    { _id: 2 },
    { _id: 3, item: [1, null] },
    { _id: 4, item: [] },
    { _id: 5, item: 0 },
    { _id: 6, item: { x: null } },
  ];

  it('equality to null matches null, missing and arrays holding null', () => {
    assert.deepEqual(which({ item: null }, docs), [1, 2, 3]);
    assert.deepEqual(which({ item: { $eq: null } }, docs), [1, 2, 3]);
    assert.deepEqual(which({ item: { $in: [null] } }, docs), [1, 2, 3]);
    assert.deepEqual(which({ item: { $gte: null } }, docs), [1, 2, 3]);
    assert.deepEqual(which({ item: { $lte: null } }, docs), [1, 2, 3]);
    assert.deepEqual(which({ item: { $gt: null } }, docs), []);
    assert.deepEqual(which({ item: { $lt: null } }, docs), []);
  });

  it('$ne: null and $exists', () => {
    assert.deepEqual(which({ item: { $ne: null } }, docs), [4, 5, 6]);
    assert.deepEqual(which({ item: { $exists: true } }, docs), [1, 3, 4, 5, 6]);
    assert.deepEqual(which({ item: { $exists: false } }, docs), [2]);
    assert.deepEqual(which({ item: { $exists: 0 } }, docs), [2]);
    assert.deepEqual(which({ item: { $type: 'null' } }, docs), [1, 3]);
  });

  it('reads a missing subpath under scalars and documents as null', () => {
    assert.equal(m({ 'a.b': null }, { a: 5 }), true);
    assert.equal(m({ 'a.b': null }, { a: { c: 1 } }), true);
    assert.equal(m({ 'a.b': null }, { a: [{ c: 1 }] }), true);
    assert.equal(m({ 'a.b': null }, { a: [{ b: 1 }] }), false);
    // Scalars inside an array yield nothing for a subpath.
    assert.equal(m({ 'a.b': null }, { a: [1, 2] }), false);
    assert.equal(m({ 'a.b': { $exists: false } }, { a: [1, 2] }), true);
    assert.equal(m({ 'a.b': { $exists: true } }, { a: [{ b: 1 }, { c: 2 }] }), true);
    assert.equal(m({ 'a.b': { $exists: false } }, { a: [{ b: 1 }, { c: 2 }] }), false);
  });
});

describe('comparison', () => {
  it('compares only within the type bracket', () => {
    assert.equal(m({ a: { $gt: 1 } }, { a: 'z' }), false);
    assert.equal(m({ a: { $gt: 1 } }, { a: 2 }), true);
    assert.equal(m({ a: { $lt: 'b' } }, { a: 'a' }), true);
    assert.equal(m({ a: { $lt: 'b' } }, { a: 1 }), false);
    assert.equal(m({ a: { $gte: new Date(0) } }, { a: new Timestamp({ t: 1, i: 1 }) }), false);
    assert.equal(m({ a: { $gt: {} } }, { a: { x: 1 } }), true);
    assert.equal(m({ a: { $gt: false } }, { a: true }), true);
    assert.equal(m({ a: { $lt: Long.fromString('9007199254740993') } }, { a: Long.fromString('9007199254740992') }), true);
  });

  it('lets each bound be met by a different element of an array', () => {
    const docs = [
      { _id: 1, dim_cm: [14, 21] },
      { _id: 2, dim_cm: [22.85, 30] },
      { _id: 3, dim_cm: [10, 15.25] },
    ];
    assert.deepEqual(which({ dim_cm: { $gt: 15, $lt: 20 } }, docs), [1, 3]);
    assert.deepEqual(which({ dim_cm: { $elemMatch: { $gt: 15, $lt: 20 } } }, docs), [3]);
    assert.deepEqual(which({ dim_cm: { $elemMatch: { $gt: 14, $lt: 15 } } }, docs), []);
    assert.deepEqual(which({ dim_cm: { $elemMatch: { $gt: 22, $lt: 30 } } }, docs), [2]);
    assert.deepEqual(which({ dim_cm: { $gt: 25 } }, docs), [2]);
  });

  it('compares whole arrays as well as their elements', () => {
    assert.equal(m({ a: { $gt: [1] } }, { a: [1, 2] }), true);
    assert.equal(m({ a: { $lt: [1] } }, { a: [0, 5] }), true);
    assert.equal(m({ a: { $lt: [0] } }, { a: [0, 5] }), false);
  });

  it('follows the NaN rules', () => {
    assert.equal(m({ a: NaN }, { a: NaN }), true);
    assert.equal(m({ a: NaN }, { a: Decimal128.fromString('NaN') }), true);
    assert.equal(m({ a: { $gte: NaN } }, { a: NaN }), true);
    assert.equal(m({ a: { $gt: NaN } }, { a: NaN }), false);
    assert.equal(m({ a: { $lt: 0 } }, { a: NaN }), false);
    assert.equal(m({ a: { $lte: 0 } }, { a: NaN }), false);
    assert.equal(m({ a: { $gt: 0 } }, { a: NaN }), false);
    assert.equal(m({ a: { $lt: NaN } }, { a: -Infinity }), false);
    assert.equal(m({ a: { $in: [NaN] } }, { a: NaN }), true);
  });

  it('treats MinKey and MaxKey as below and above everything', () => {
    assert.equal(m({ a: { $lt: new MaxKey() } }, { a: 'x' }), true);
    assert.equal(m({ a: { $lt: new MaxKey() } }, { b: 1 }), true);
    assert.equal(m({ a: { $gt: new MinKey() } }, { a: null }), true);
    assert.equal(m({ a: { $gt: new MinKey() } }, { a: new MinKey() }), false);
    assert.equal(m({ a: { $gte: new MinKey() } }, { a: new MinKey() }), true);
    assert.equal(m({ a: new MaxKey() }, { a: new MaxKey() }), true);
    assert.equal(m({ a: { $gt: new MaxKey() } }, { a: 1 }), false);
  });
});

describe('$ne, $in, $nin', () => {
  const docs = [
    { _id: 1, qty: 5, tags: ['a', 'b'] },
    { _id: 2, qty: 20, tags: ['c'] },
    { _id: 3, tags: [] },
    { _id: 4, qty: [5, 20] },
  ];

  it('$ne and $nin exclude arrays holding the value and include missing', () => {
    assert.deepEqual(which({ qty: { $ne: 5 } }, docs), [2, 3]);
    assert.deepEqual(which({ qty: { $nin: [5, 20] } }, docs), [3]);
    assert.deepEqual(which({ tags: { $nin: ['a'] } }, docs), [2, 3, 4]);
    assert.deepEqual(which({ tags: { $ne: [] } }, docs), [1, 2, 4]);
  });

  it('$in matches any value, whole arrays, and regexes', () => {
    assert.deepEqual(which({ qty: { $in: [5, 15] } }, docs), [1, 4]);
    assert.deepEqual(which({ tags: { $in: [/^b/] } }, docs), [1]);
    assert.deepEqual(which({ tags: { $in: [[]] } }, docs), [3]);
    assert.deepEqual(which({ tags: { $in: [] } }, docs), []);
    assert.deepEqual(which({ tags: { $nin: [] } }, docs), [1, 2, 3, 4]);
    assert.equal(m({ a: { $in: [new BSONRegExp('^x', 'i')] } }, { a: 'Xy' }), true);
  });

  it('rejects malformed operands', () => {
    parseError({ a: { $in: 5 } }, 2, '$in needs an array');
    parseError({ a: { $nin: 5 } }, 2, '$nin needs an array');
    parseError({ a: { $in: [{ $gt: 1 }] } }, 2, 'cannot nest $ under $in');
    parseError({ a: { $ne: /x/ } }, 2, "Can't have regex as arg to $ne.");
    parseError({ a: { $gt: /x/ } }, 2, "Can't have RegEx as arg to predicate over field 'a'.");
  });
});

describe('logical operators', () => {
  const docs = [
    { _id: 1, a: 1, b: 1 },
    { _id: 2, a: 1, b: 2 },
    { _id: 3, a: 2, b: 2 },
  ];

  it('$and, $or, $nor', () => {
    assert.deepEqual(which({ $and: [{ a: 1 }, { b: 2 }] }, docs), [2]);
    assert.deepEqual(which({ $or: [{ a: 2 }, { b: 1 }] }, docs), [1, 3]);
    assert.deepEqual(which({ $nor: [{ a: 2 }, { b: 1 }] }, docs), [2]);
    assert.deepEqual(which({ a: 1, $or: [{ b: 2 }, { b: 3 }] }, docs), [2]);
  });

  it('$not negates its operator expression, including on missing fields', () => {
    assert.deepEqual(which({ a: { $not: { $gt: 1 } } }, docs), [1, 2]);
    assert.equal(m({ a: { $not: { $gt: 1 } } }, {}), true);
    assert.equal(m({ a: { $not: /^x/ } }, { a: 'xyz' }), false);
    assert.equal(m({ a: { $not: /^x/ } }, { a: 'abc' }), true);
    assert.equal(m({ a: { $not: { $regex: '^x' } } }, { a: 'abc' }), true);
    assert.equal(m({ a: { $not: { $gt: 1, $lt: 5 } } }, { a: 3 }), false);
    assert.equal(m({ a: { $not: { $gt: 1, $lt: 5 } } }, { a: 7 }), true);
  });

  it('rejects malformed logical operators', () => {
    parseError({ $and: [] }, 2, '$and/$or/$nor must be a nonempty array');
    parseError({ $or: [] }, 2, '$and/$or/$nor must be a nonempty array');
    parseError({ $and: {} }, 2, '$and must be an array');
    parseError({ $or: [1] }, 2, '$or/$and/$nor entries need to be full objects');
    parseError({ $not: { a: 1 } }, 2, 'unknown top level operator: $not. If you are trying to negate an entire expression, use $nor.');
    parseError({ a: { $not: 5 } }, 2, '$not needs a regex or a document');
    parseError({ a: { $not: {} } }, 2, '$not cannot be empty');
    parseError({ a: { $not: { b: 1 } } }, 2, 'unknown operator: b');
  });

  it('$alwaysTrue, $alwaysFalse, $comment', () => {
    assert.equal(m({ $alwaysTrue: 1 }, {}), true);
    assert.equal(m({ $alwaysFalse: 1 }, {}), false);
    assert.equal(m({ $comment: 'hi', a: 1 }, { a: 1 }), true);
    parseError({ $alwaysTrue: 2 }, 9, '$alwaysTrue must be an integer value of 1');
    parseError({ $alwaysFalse: 'x' }, 9, 'Expected a number in: $alwaysFalse: "x"');
  });
});

describe('unknown operators', () => {
  it('reports mongod errors', () => {
    parseError({ $foo: 1 }, 2, /^unknown top level operator: \$foo\. If you have a field name that starts with a '\$' symbol/);
    parseError({ a: { $foo: 1 } }, 2, 'unknown operator: $foo');
    parseError({ a: { $where: 'x' } }, 2, '$where cannot be applied to a field');
    parseError({ $where: 'this.a == 1' }, 2);
    parseError({ $text: { $search: 'x' } }, 27, 'text index required for $text query');
    parseError({ a: { $near: [0, 0] } }, 291);
    parseError({ a: { $geoWithin: { $center: [[0, 0], 1] } } }, 238);
    parseError({ $expr: { $eq: ['$a', 1] } }, 2, '$expr is not supported yet');
    parseError({ a: { $eq: undefined } }, 2, 'cannot compare to undefined');
  });

  it('treats a document whose first key is not an operator as a literal', () => {
    assert.equal(m({ a: { b: 1, $gt: 5 } }, { a: { b: 1, $gt: 5 } }), true);
    assert.equal(m({ a: {} }, { a: {} }), true);
  });
});

describe('$expr plug-in', () => {
  it('evaluates with the supplied expression compiler and aggregation truth', () => {
    const options = {
      parseExpression: (expr: unknown) => (doc: Document) => {
        const e = expr as { $field: string };
        return doc[e.$field];
      },
    };
    const node = parseFilter({ $expr: { $field: 'ok' } }, options);
    assert.equal(matches(node, { ok: 1 }), true);
    assert.equal(matches(node, { ok: 0 }), false);
    assert.equal(matches(node, { ok: new Double(0) }), false);
    assert.equal(matches(node, { ok: null }), false);
    assert.equal(matches(node, {}), false);
    assert.equal(matches(node, { ok: '' }), true);
    assert.equal(matches(node, { ok: [] }), true);
    assert.throws(() => parseFilter({ a: { $elemMatch: { $expr: {} } } }, options), /\$expr can only be applied to the top-level document/);
  });
});

describe('$exists and $type', () => {
  it('$exists', () => {
    assert.equal(m({ a: { $exists: true } }, { a: null }), true);
    assert.equal(m({ a: { $exists: true } }, { a: [] }), true);
    assert.equal(m({ a: { $exists: false } }, { b: 1 }), true);
    assert.equal(m({ 'a.b': { $exists: true } }, { a: [{ b: null }] }), true);
  });

  it('$type by alias, number, "number" and arrays', () => {
    const docs = [
      { _id: 1, z: 1 },
      { _id: 2, z: new Double(1.5) },
      { _id: 3, z: 'x' },
      { _id: 4, z: [1, 'y'] },
      { _id: 5, z: Long.fromNumber(4) },
      { _id: 6, z: Decimal128.fromString('1') },
      { _id: 7, z: [[]] },
    ];
    assert.deepEqual(which({ z: { $type: 'string' } }, docs), [3, 4]);
    assert.deepEqual(which({ z: { $type: 2 } }, docs), [3, 4]);
    assert.deepEqual(which({ z: { $type: 'number' } }, docs), [1, 2, 4, 5, 6]);
    assert.deepEqual(which({ z: { $type: ['long', 'decimal'] } }, docs), [5, 6]);
    assert.deepEqual(which({ z: { $type: 'array' } }, docs), [4, 7]);
    assert.deepEqual(which({ z: { $type: 'int' } }, docs), [1, 4]);
    assert.deepEqual(which({ z: { $type: 'double' } }, docs), [2]);
    assert.deepEqual(which({ z: { $type: 4.0 } }, docs), [4, 7]);
  });

  it('rejects bad $type operands', () => {
    parseError({ a: { $type: 'foo' } }, 2, 'Unknown type name alias: foo');
    parseError({ a: { $type: 100 } }, 2, 'Invalid numerical type code: 100');
    parseError({ a: { $type: {} } }, 14, 'type must be represented as a number or a string');
    parseError({ a: { $type: [] } }, 9, 'a must match at least one type');
    parseError({ a: { $type: 1.5 } }, 9, /Expected an integer/);
  });
});

describe('$regex', () => {
  const docs = [
    { _id: 100, sku: 'abc123', description: 'Single line description.' },
    { _id: 101, sku: 'abc789', description: 'First line\nSecond line' },
    { _id: 102, sku: 'xyz456', description: 'Many spaces before     line' },
    { _id: 103, sku: 'xyz789', description: 'Multiple\nline description' },
    { _id: 104, sku: 'Abc789', description: 'SKU starts with A' },
  ];

  it('follows the documentation examples', () => {
    assert.deepEqual(which({ sku: { $regex: /789$/ } }, docs), [101, 103, 104]);
    assert.deepEqual(which({ sku: { $regex: /^ABC/i } }, docs), [100, 101, 104]);
    assert.deepEqual(which({ description: { $regex: /^S/, $options: 'm' } }, docs), [100, 101, 104]);
    assert.deepEqual(which({ description: { $regex: /^S/ } }, docs), [100, 104]);
    assert.deepEqual(which({ description: { $regex: /m.*line/, $options: 'si' } }, docs), [102, 103]);
    assert.deepEqual(which({ description: { $regex: /m.*line/, $options: 'i' } }, docs), [102]);
    const pattern = 'abc #category code\n123 #item number';
    assert.deepEqual(which({ sku: { $regex: pattern, $options: 'x' } }, docs), [100]);
    assert.deepEqual(which({ sku: /^abc/ }, docs), [100, 101]);
    assert.deepEqual(which({ sku: { $in: [/^abc/, /^xyz4/] } }, docs), [100, 101, 102]);
  });

  it('matches strings, symbols and equal stored regexes', () => {
    assert.equal(m({ a: /b/ }, { a: new BSONSymbol('abc') }), true);
    assert.equal(m({ a: /b/ }, { a: new BSONRegExp('b', '') }), true);
    assert.equal(m({ a: /b/ }, { a: new BSONRegExp('b', 'i') }), false);
    assert.equal(m({ a: /b/ }, { a: 5 }), false);
    assert.equal(m({ a: { $eq: new BSONRegExp('b', 'i') } }, { a: new BSONRegExp('b', 'i') }), true);
    assert.equal(m({ a: { $eq: new BSONRegExp('b', '') } }, { a: 'b' }), false);
    assert.equal(m({ a: /b/ }, { a: ['x', 'abc'] }), true);
  });

  it('translates PCRE syntax', () => {
    assert.equal(m({ a: { $regex: '\\Aab\\z' } }, { a: 'ab' }), true);
    assert.equal(m({ a: { $regex: '^ab$' } }, { a: 'ab\n' }), true);
    assert.equal(m({ a: { $regex: '(?i)^AB' } }, { a: 'abc' }), true);
    assert.equal(m({ a: { $regex: '(?P<x>a)(?P=x)' } }, { a: 'aa' }), true);
    assert.equal(m({ a: { $regex: '^[[:digit:]]+$' } }, { a: '123' }), true);
    assert.equal(m({ a: { $regex: '\\Qa.b\\E' } }, { a: 'a.b' }), true);
    assert.equal(m({ a: { $regex: '\\Qa.b\\E' } }, { a: 'axb' }), false);
  });

  it('rejects bad regexes with mongod codes', () => {
    parseError({ a: { $regex: 5 } }, 2, '$regex has to be a string');
    parseError({ a: { $regex: 'a', $options: 5 } }, 2, '$options has to be a string');
    parseError({ a: { $options: 'i' } }, 2, '$options needs a $regex');
    parseError({ a: { $regex: /a/i, $options: 'm' } }, 51075, 'options set in both $regex and $options');
    parseError({ a: { $options: 'm', $regex: /a/i } }, 51074, 'options set in both $regex and $options');
    parseError({ a: { $regex: 'a', $options: 'z' } }, 51108, 'invalid flag in regex options: z');
    parseError({ a: { $regex: '(' } }, 51091, /^Regular expression is invalid/);
    parseError({ a: { $regex: 'a\0b' } }, 2, 'Regular expression cannot contain an embedded null byte');
  });

  it('accepts $regex with a regex operand and separate empty-flag options', () => {
    assert.equal(m({ a: { $regex: /A/, $options: 'i' } }, { a: 'a' }), true);
  });
});

describe('$mod', () => {
  it('matches remainders with truncation and C semantics', () => {
    const docs = [
      { _id: 1, qty: 0 },
      { _id: 2, qty: 5 },
      { _id: 3, qty: 12 },
      { _id: 4, qty: -12 },
      { _id: 5, qty: 12.9 },
      { _id: 6, qty: 'x' },
      { _id: 7, qty: Long.fromString('9223372036854775806') },
    ];
    assert.deepEqual(which({ qty: { $mod: [4, 0] } }, docs), [1, 3, 4, 5]);
    assert.deepEqual(which({ qty: { $mod: [4, -0] } }, docs), [1, 3, 4, 5]);
    assert.deepEqual(which({ qty: { $mod: [5, -2] } }, docs), [4]);
    assert.deepEqual(which({ qty: { $mod: [4.5, 0] } }, docs), [1, 3, 4, 5]);
    assert.deepEqual(which({ qty: { $mod: [3, 0] } }, docs), [1, 3, 4, 5, 7]);
    assert.deepEqual(which({ qty: { $mod: [Long.fromString('9223372036854775807'), Long.fromString('9223372036854775806')] } }, docs), [7]);
    assert.equal(m({ a: { $mod: [2, 1] } }, { a: NaN }), false);
    assert.equal(m({ a: { $mod: [2, 0] } }, { a: Infinity }), false);
    assert.equal(m({ a: { $mod: [-1, 0] } }, { a: 7 }), true);
  });

  it('rejects malformed operands', () => {
    parseError({ a: { $mod: 4 } }, 2, 'malformed mod, needs to be an array');
    parseError({ a: { $mod: [] } }, 2, 'malformed mod, not enough elements');
    parseError({ a: { $mod: [4] } }, 2, 'malformed mod, not enough elements');
    parseError({ a: { $mod: ['a', 0] } }, 2, 'malformed mod, divisor not a number');
    parseError({ a: { $mod: [4, 'a'] } }, 2, 'malformed mod, remainder not a number');
    parseError({ a: { $mod: [4, 0, 1] } }, 2, 'malformed mod, too many elements');
    parseError({ a: { $mod: [0, 0] } }, 2, 'divisor cannot be 0');
    parseError({ a: { $mod: [NaN, 0] } }, 2, 'malformed mod, divisor value is invalid :: caused by :: Unable to coerce NaN/Inf to integral type');
    parseError({ a: { $mod: [1, Infinity] } }, 2, 'malformed mod, remainder value is invalid :: caused by :: Unable to coerce NaN/Inf to integral type');
  });
});

describe('$size', () => {
  it('matches array length only', () => {
    assert.equal(m({ a: { $size: 2 } }, { a: [1, 2] }), true);
    assert.equal(m({ a: { $size: 2 } }, { a: [[1, 2]] }), false);
    assert.equal(m({ a: { $size: 0 } }, { a: [] }), true);
    assert.equal(m({ a: { $size: 0 } }, {}), false);
    assert.equal(m({ a: { $size: 1 } }, { a: 'x' }), false);
    assert.equal(m({ 'a.b': { $size: 2 } }, { a: [{ b: [1, 2] }, { b: [1] }] }), true);
    assert.equal(m({ a: { $size: 2.0 } }, { a: [1, 2] }), true);
    assert.equal(m({ a: { $size: Long.fromNumber(2) } }, { a: [1, 2] }), true);
  });

  it('needs a non-negative integer', () => {
    parseError({ a: { $size: 'x' } }, 2, 'Failed to parse $size. Expected a number in: $size: "x"');
    parseError({ a: { $size: -1 } }, 2, 'Failed to parse $size. Expected a positive number in: $size: -1');
    parseError({ a: { $size: 2.5 } }, 2, 'Failed to parse $size. Expected an integer: $size: 2.5');
  });
});

describe('$all', () => {
  const docs = [
    { _id: 1, tags: ['appliance', 'school', 'book'], qty: [{ size: 'S', num: 10, color: 'blue' }, { size: 'M', num: 45, color: 'blue' }] },
    { _id: 2, tags: ['school', 'book'], qty: [{ size: 'S', num: 6, color: 'blue' }, { size: 'M', num: 100, color: 'green' }] },
    { _id: 3, tags: ['electronics', 'school'], qty: [{ size: 'M', num: 100, color: 'green' }] },
    { _id: 4, tags: 'school' },
  ];

  it('requires every value', () => {
    assert.deepEqual(which({ tags: { $all: ['school', 'book'] } }, docs), [1, 2]);
    assert.deepEqual(which({ tags: { $all: ['school'] } }, docs), [1, 2, 3, 4]);
    assert.deepEqual(which({ tags: { $all: [] } }, docs), []);
    assert.deepEqual(which({ tags: { $all: [/^b/, 'school'] } }, docs), [1, 2]);
    assert.equal(m({ a: { $all: [[1, 2]] } }, { a: [[1, 2], 3] }), true);
    assert.equal(m({ a: { $all: [[1, 2]] } }, { a: [1, 2] }), true);
  });

  it('combines $elemMatch clauses (documentation example)', () => {
    assert.deepEqual(
      which({ qty: { $all: [{ $elemMatch: { size: 'M', num: { $gt: 50 } } }, { $elemMatch: { num: 100, color: 'green' } }] } }, docs),
      [2, 3],
    );
  });

  it('rejects malformed operands', () => {
    parseError({ a: { $all: 5 } }, 2, '$all needs an array');
    parseError({ a: { $all: [{ $elemMatch: { b: 1 } }, 5] } }, 2, '$all/$elemMatch has to be consistent');
    parseError({ a: { $all: [{ $gt: 1 }] } }, 2, 'no $ expressions in $all');
  });
});

describe('$elemMatch', () => {
  it('value form: one element satisfies every condition', () => {
    const docs = [
      { _id: 1, results: [82, 85, 88] },
      { _id: 2, results: [75, 88, 89] },
    ];
    assert.deepEqual(which({ results: { $elemMatch: { $gte: 80, $lt: 85 } } }, docs), [1]);
    assert.equal(m({ a: { $elemMatch: { $not: { $gt: 5 } } } }, { a: [7, 3] }), true);
    assert.equal(m({ a: { $elemMatch: { $not: { $gt: 5 } } } }, { a: [7, 8] }), false);
    assert.equal(m({ a: { $elemMatch: { $eq: 5 } } }, { a: [[5]] }), false);
    assert.equal(m({ a: { $elemMatch: { $elemMatch: { $eq: 5 } } } }, { a: [[5]] }), true);
    assert.equal(m({ a: { $elemMatch: { $gt: 1 } } }, { a: 5 }), false);
    assert.equal(m({ a: { $elemMatch: { $exists: true } } }, { a: [] }), false);
    assert.equal(m({ a: { $elemMatch: { $in: [1, 2] } } }, { a: [3, 2] }), true);
    assert.equal(m({ a: { $elemMatch: { $regex: '^x' } } }, { a: ['a', 'xb'] }), true);
    assert.equal(m({ a: { $elemMatch: { $size: 1 } } }, { a: [[1], [1, 2]] }), true);
  });

  it('object form: one document element matches the whole sub-filter', () => {
    const docs = [
      { _id: 1, results: [{ product: 'abc', score: 10 }, { product: 'xyz', score: 5 }] },
      { _id: 2, results: [{ product: 'abc', score: 8 }, { product: 'xyz', score: 7 }] },
      { _id: 3, results: [{ product: 'abc', score: 7 }, { product: 'xyz', score: 8 }] },
      { _id: 4, results: [{ product: 'abc', score: 7 }, { product: 'def', score: 8 }] },
    ];
    assert.deepEqual(which({ results: { $elemMatch: { product: 'xyz', score: { $gte: 8 } } } }, docs), [3]);
    assert.deepEqual(which({ results: { $elemMatch: { product: 'xyz' } } }, docs), [1, 2, 3]);
    assert.deepEqual(which({ 'results.product': 'xyz', 'results.score': { $gte: 8 } }, docs), [1, 2, 3]);
    assert.deepEqual(which({ results: { $elemMatch: { $or: [{ score: 10 }, { product: 'def' }] } } }, docs), [1, 4]);
  });

  it('does not match scalars or missing fields, reaches nested arrays as documents', () => {
    assert.equal(m({ a: { $elemMatch: { b: 1 } } }, { a: [1, 2] }), false);
    assert.equal(m({ a: { $elemMatch: { b: 1 } } }, { a: { b: 1 } }), false);
    assert.equal(m({ a: { $elemMatch: { 0: 1 } } }, { a: [[1, 2]] }), true);
    assert.equal(m({ a: { $elemMatch: { length: 2 } } }, { a: [[1, 2]] }), false);
    assert.equal(m({ 'a.b': { $elemMatch: { c: 1 } } }, { a: [{ b: [{ c: 1 }] }] }), true);
  });

  it('rejects a non-object operand', () => {
    parseError({ a: { $elemMatch: 1 } }, 2, '$elemMatch needs an Object');
    parseError({ a: { $elemMatch: [1] } }, 2, '$elemMatch needs an Object');
    parseError({ a: { $elemMatch: { $where: 'x' } } }, 2, '$where can only be applied to the top-level document');
  });
});

describe('elemMatchKey', () => {
  function key(filter: Document, doc: Document): string | undefined {
    const details: MatchDetails = {};
    assert.equal(matches(parseFilter(filter), doc, details), true);
    return details.elemMatchKey;
  }

  it('reports the array position that matched', () => {
    assert.equal(key({ a: 3 }, { a: [1, 2, 3] }), '2');
    assert.equal(key({ a: 3 }, { a: 3 }), undefined);
    assert.equal(key({ 'a.b': 5 }, { a: [{ b: 1 }, { b: 5 }] }), '1');
    assert.equal(key({ 'a.b': 2 }, { a: [{ b: [1, 2] }] }), '0');
    assert.equal(key({ a: { $elemMatch: { $gt: 2 } } }, { a: [1, 2, 3] }), '2');
    assert.equal(key({ a: { $elemMatch: { b: 2 } } }, { a: [{ b: 1 }, { b: 2 }] }), '1');
    assert.equal(key({ 'a.b': { $elemMatch: { $gt: 1 } } }, { a: [{ b: [0] }, { b: [5] }] }), '1');
    assert.equal(key({ x: 1, a: { $gt: 4 } }, { x: 1, a: [1, 5, 9] }), '1');
    assert.equal(key({ 'a.1': 5 }, { a: [4, 5] }), undefined);
    assert.equal(key({ $or: [{ a: 5 }] }, { a: [4, 5] }), undefined);
  });
});

describe('bit tests', () => {
  const docs = [
    { _id: 1, a: 54, binaryValueofA: '00110110' },
    { _id: 2, a: 20, binaryValueofA: '00010100' },
    { _id: 3, a: 20.0, binaryValueofA: '00010100' },
    { _id: 4, a: new Binary(Buffer.from('Zg==', 'base64')), binaryValueofA: '01100110' },
    { _id: 5, a: -1 },
  ];

  it('follows the documentation examples', () => {
    assert.deepEqual(which({ a: { $bitsAllSet: [1, 5] } }, docs), [1, 4, 5]);
    assert.deepEqual(which({ a: { $bitsAllSet: 50 } }, docs), [1, 5]);
    assert.deepEqual(which({ a: { $bitsAnySet: [1, 5] } }, docs), [1, 4, 5]);
    assert.deepEqual(which({ a: { $bitsAllClear: [1, 5] } }, docs), [2, 3]);
    assert.deepEqual(which({ a: { $bitsAnyClear: [1, 5] } }, docs), [2, 3]);
    assert.deepEqual(which({ a: { $bitsAllSet: [100] } }, docs), [5]);
    assert.deepEqual(which({ a: { $bitsAllSet: new Binary(Buffer.from([0x30])) } }, docs), [1, 5]);
  });

  it('rejects bad masks', () => {
    parseError({ a: { $bitsAllSet: 'x' } }, 2, 'a takes an Array, a number, or a BinData but received: $bitsAllSet: "x"');
    parseError({ a: { $bitsAllSet: [-1] } }, 2, /^Failed to parse bit position\. Expected a positive number/);
    parseError({ a: { $bitsAllSet: -1 } }, 9, /Expected a positive number/);
  });
});

describe('DBRef and special fields', () => {
  it('queries DBRef fields', () => {
    const id = new ObjectId();
    const doc = { r: new DBRef('coll', id) };
    assert.equal(m({ 'r.$id': id }, doc), true);
    assert.equal(m({ 'r.$ref': 'coll' }, doc), true);
    assert.equal(m({ r: { $elemMatch: { $ref: 'coll' } } }, { r: [new DBRef('coll', id)] }), true);
    assert.equal(m({ r: new DBRef('coll', id) }, doc), true);
    assert.equal(m({ r: { $elemMatch: new DBRef('coll', id) } }, { r: [new DBRef('coll', id)] }), true);
  });

  it('never reads what objects inherit', () => {
    assert.equal(m({ toString: { $exists: true } }, {}), false);
    assert.equal(m({ 'a.constructor': { $exists: true } }, { a: {} }), false);
    assert.equal(m({ 'a.length': 2 }, { a: [1, 2] }), false);
  });
});


describe('reading the tree', () => {
  it('serializes like explain parsedQuery', () => {
    assert.deepEqual(serializeFilter(parseFilter({ a: 1 })), { a: { $eq: 1 } });
    assert.deepEqual(serializeFilter(parseFilter({ a: 1, b: { $gt: 2, $lt: 5 } })), { $and: [{ a: { $eq: 1 } }, { b: { $gt: 2 } }, { b: { $lt: 5 } }] });
    assert.deepEqual(serializeFilter(parseFilter({ a: { $ne: 1 } })), { a: { $not: { $eq: 1 } } });
    assert.deepEqual(serializeFilter(parseFilter({ a: { $elemMatch: { $gt: 1 } } })), { a: { $elemMatch: { $gt: 1 } } });
    assert.deepEqual(serializeFilter(parseFilter({})), {});
  });

  it('collects the equalities an upsert seeds', () => {
    const node = parseFilter({ a: 1, 'b.c': { $eq: 'x' }, d: { $in: [5] }, e: { $gt: 1 }, $and: [{ f: true }], $or: [{ g: 1 }] });
    assert.deepEqual(collectEqualities(node), [
      { path: 'a', value: 1 },
      { path: 'b.c', value: 'x' },
      { path: 'd', value: 5 },
      { path: 'f', value: true },
    ]);
    assert.equal(isEqualityOnly(parseFilter({ a: 1, b: 2 })), true);
    assert.equal(isEqualityOnly(parseFilter({ a: { $gt: 1 } })), false);
    assert.deepEqual([...referencedPaths(parseFilter({ a: 1, $or: [{ 'b.c': 2 }, { d: { $elemMatch: { e: 1 } } }] }))].sort(), ['a', 'b.c', 'd', 'e']);
  });

  it('walks every node', () => {
    const kinds: string[] = [];
    walkFilter(parseFilter({ a: 1, $or: [{ b: { $not: { $gt: 2 } } }, { c: { $exists: false } }] }), (n) => void kinds.push(n.kind));
    assert.deepEqual(kinds, ['and', 'comparison', 'or', 'not', 'comparison', 'not', 'exists']);
  });
});
