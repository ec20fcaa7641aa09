/** The unified format's matching rules, checked without a server. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BSON } from 'mongodb';
import { MatchError, match, valuesEqual, type MatchContext } from './lib/match.js';

const { Int32, Long, Double, Decimal128, ObjectId, Binary, EJSON } = BSON;

const lsid = { id: new Binary(Buffer.alloc(16, 7), 4) };
const ctx: MatchContext = {
  entity: (name) => {
    if (name === 'oid0') return new ObjectId('000000000000000000000001');
    throw new Error(`no entity ${name}`);
  },
  sessionLsid: (name) => {
    if (name === 'session0') return lsid;
    throw new Error(`no session ${name}`);
  },
};
const ok = (expected: unknown, actual: unknown, root = true): void => match(expected, actual, ctx, { root });
const bad = (expected: unknown, actual: unknown, root = true): void => assert.throws(() => match(expected, actual, ctx, { root }), MatchError);
const ej = (s: string): unknown => EJSON.parse(s, { relaxed: false });

describe('unified format matching', () => {
  it('root documents may have extra fields, nested ones may not', () => {
    ok({ x: 1 }, { x: 1, y: 2 });
    bad({ x: { y: 1 } }, { x: { y: 1, z: 1 } });
    bad({ x: 1, y: 1 }, { x: 1 });
    bad({ x: 1 }, { x: 1, y: 2 }, false);
  });

  it('compares int32, int64 and double by value, but not decimal', () => {
    ok({ n: new Int32(1) }, { n: 1.0 });
    ok({ n: Long.fromNumber(5) }, { n: new Double(5) });
    ok(ej('{"n": {"$numberLong": "9223372036854775807"}}'), { n: Long.fromString('9223372036854775807') });
    bad(ej('{"n": {"$numberLong": "9223372036854775807"}}'), { n: Long.fromString('9223372036854775806') });
    bad({ n: 1 }, { n: 1.5 });
    bad({ n: 1 }, { n: Decimal128.fromString('1') });
    bad({ n: 1 }, { n: '1' });
  });

  it('arrays must have the same length and key order does not matter', () => {
    ok({ a: [1, { b: 2, c: 3 }] }, { a: [1, { c: 3, b: 2 }] });
    bad({ a: [1, 2] }, { a: [1, 2, 3] });
  });

  it('$$exists and $$unsetOrMatches decide about presence', () => {
    ok({ a: { $$exists: true } }, { a: null });
    bad({ a: { $$exists: true } }, {});
    ok({ a: { $$exists: false } }, { b: 1 });
    bad({ a: { $$exists: false } }, { a: 1 });
    ok({ a: { $$unsetOrMatches: 2 } }, {});
    ok({ a: { $$unsetOrMatches: 2 } }, { a: 2 });
    bad({ a: { $$unsetOrMatches: 2 } }, { a: 3 });
    ok({ $$unsetOrMatches: { insertedId: { $$unsetOrMatches: 1 } } }, undefined);
  });

  it('$$type checks the actual BSON type, with the number alias', () => {
    ok({ a: { $$type: 'int' } }, { a: 5 });
    ok({ a: { $$type: ['int', 'long'] } }, { a: Long.fromNumber(5) });
    ok({ a: { $$type: 'double' } }, { a: 0.5 });
    ok({ a: { $$type: 'number' } }, { a: Decimal128.fromString('1') });
    ok({ a: { $$type: 'objectId' } }, { a: new ObjectId() });
    bad({ a: { $$type: 'string' } }, { a: 5 });
    bad({ a: { $$type: 'string' } }, {});
    assert.throws(() => ok({ a: { $$type: 'nonsense' } }, { a: 1 }), /unknown type alias/);
  });

  it('$$sessionLsid, $$matchesEntity, $$matchesHexBytes, $$lte', () => {
    ok({ lsid: { $$sessionLsid: 'session0' } }, { lsid: { id: new Binary(Buffer.alloc(16, 7), 4) } });
    bad({ lsid: { $$sessionLsid: 'session0' } }, { lsid: { id: new Binary(Buffer.alloc(16, 8), 4) } });
    ok({ _id: { $$matchesEntity: 'oid0' } }, { _id: new ObjectId('000000000000000000000001') });
    ok({ $$matchesHexBytes: '12ab' }, Buffer.from([0x12, 0xab]));
    bad({ $$matchesHexBytes: '12ab' }, Buffer.from([0x12]));
    ok({ n: { $$lte: 5 } }, { n: 5.0 });
    bad({ n: { $$lte: 5 } }, { n: 5.5 });
  });

  it('$$matchAsDocument parses Extended JSON and is strict about extra fields; $$matchAsRoot relaxes', () => {
    ok({ j: { $$matchAsDocument: { x: 1 } } }, { j: '{"x": 1}' });
    bad({ j: { $$matchAsDocument: { x: 1 } } }, { j: '{"x": 1, "y": 2}' });
    ok({ j: { $$matchAsDocument: { $$matchAsRoot: { x: 1 } } } }, { j: '{"x": 1, "y": 2}' });
    bad({ j: { $$matchAsDocument: { x: 1 } } }, { j: '[1]' });
  });

  it('an operator it does not know fails the match', () => {
    assert.throws(() => ok({ a: { $$frobnicate: 1 } }, { a: 1 }), /unsupported match operator/);
    assert.throws(() => ok({ a: { $$placeholder: 1 } }, { a: 1 }), /unsupported match operator/);
  });

  it('driver-made Maps and class instances compare as documents', () => {
    ok({ sort: { _id: 1 } }, { sort: new Map([['_id', 1]]) });
    class ReadConcern {
      constructor(readonly level: string) {}
    }
    ok({ readConcern: { level: 'majority' } }, { readConcern: new ReadConcern('majority') });
  });

  it('valuesEqual is exact about fields but flexible about numbers', () => {
    assert.ok(valuesEqual({ a: 1, b: [new Int32(2)] }, { b: [2], a: new Double(1) }));
    assert.ok(!valuesEqual({ a: 1 }, { a: 1, b: 2 }));
  });
});
