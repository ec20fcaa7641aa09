/**
 * Change streams without a server: resume tokens (round trip, order, mongod's parse errors) and
 * the update deltas the oplog keeps beside `u` entries.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decodeResumeToken, encodeResumeToken, highWaterMark, TokenType, type ResumeTokenData } from '../../../src/query/aggregate/resume-token.js';
import { updateDiff, updateDiffFromPaths } from '../../../src/storage/oplog-diff.js';
import { DossierError } from '../../../src/base/index.js';
import { Double, Int32, Timestamp, UUID, type Document } from '../../../src/bson/index.js';

const ts = (t: number, i: number): Timestamp => new Timestamp({ t, i });
const event = (clusterTime: Timestamp, txnOpIndex: number, fromInvalidate = false, uuid?: UUID): ResumeTokenData => ({ clusterTime, tokenType: TokenType.Event, txnOpIndex, fromInvalidate, uuid });

describe('resume tokens', () => {
  it('round-trip every field', () => {
    const u = new UUID();
    const t = event(ts(1_700_000_000, 42), 7, true, u);
    const back = decodeResumeToken({ _data: encodeResumeToken(t) }, 'resumeAfter');
    assert.ok(back.clusterTime.equals(t.clusterTime));
    assert.equal(back.tokenType, TokenType.Event);
    assert.equal(back.txnOpIndex, 7);
    assert.equal(back.fromInvalidate, true);
    assert.ok(back.uuid?.equals(u));
    assert.equal(decodeResumeToken({ _data: encodeResumeToken(highWaterMark(ts(5, 1))) }, 'startAfter').uuid, undefined);
  });

  it('sort as the events they stand for: time, then high-water mark before events, then place in the commit, then invalidate', () => {
    const ordered = [
      highWaterMark(ts(10, 1)),
      event(ts(10, 1), 0),
      event(ts(10, 1), 0, true),
      event(ts(10, 1), 1),
      event(ts(10, 1), 300),
      highWaterMark(ts(10, 2)),
      event(ts(10, 2), 0),
      event(ts(11, 0), 0),
      event(ts(2 ** 31, 0), 0),
    ].map(encodeResumeToken);
    assert.deepEqual([...ordered].sort(), ordered);
  });

  it("refuses malformed tokens with mongod's codes", () => {
    const code = (v: unknown): number => {
      try {
        decodeResumeToken(v as Document, 'resumeAfter');
      } catch (e) {
        assert.ok(e instanceof DossierError);
        return e.code;
      }
      return assert.fail('expected an error');
    };
    assert.equal(code(1), 14);
    assert.equal(code({}), 40647);
    assert.equal(code({ _data: 5 }), 40647);
    assert.equal(code({ _data: 'xyz' }), 9);
    assert.equal(code({ _data: 'ABCD' }), 9);
  });
});

describe('update deltas', () => {
  it('reports set, removed and nested fields by dotted path', () => {
    const d = updateDiff({ _id: 1, a: 1, b: { c: 1, d: 2 }, gone: true }, { _id: 1, a: 2, b: { c: 1, d: 3, e: 4 } });
    assert.deepEqual(d.updatedFields, { a: 2, 'b.d': 3, 'b.e': 4 });
    assert.deepEqual(d.removedFields, ['gone']);
    assert.deepEqual(d.truncatedArrays, []);
    assert.deepEqual(d.disambiguatedPaths, {});
  });

  it('a changed BSON type is a change (1 and 1.0 differ), and arrays are compared by index', () => {
    const d = updateDiff({ _id: 1, n: new Int32(1), arr: [1, 2, 3, 4] }, { _id: 1, n: new Double(1), arr: [1, 5, 3] });
    assert.deepEqual(Object.keys(d.updatedFields), ['n', 'arr.1']);
    assert.deepEqual(d.truncatedArrays, [{ field: 'arr', newSize: new Int32(3) }]);
    assert.deepEqual(d.disambiguatedPaths, { 'arr.1': ['arr', new Int32(1)] });
  });

  it('paths through numeric field names and array indices are disambiguated', () => {
    const d = updateDiff({ _id: 1, a: { 1: 1 }, l: [{ 1: 1 }] }, { _id: 1, a: { 1: 2 }, l: [{ 1: 2 }] });
    assert.deepEqual(d.disambiguatedPaths, { 'a.1': ['a', '1'], 'l.0.1': ['l', new Int32(0), '1'] });
  });

  it('an operator update reports the fields it set whole, and paths inside them are covered', () => {
    const before = { _id: 1, a: { b: 1, c: 2 }, l: [{ 1: 0 }], gone: 1 };
    const after = { _id: 1, a: { b: 5 }, l: [{ 1: 9 }] };
    const d = updateDiffFromPaths(before, after, [
      { path: ['a'], removed: false },
      { path: ['a', 'b'], removed: false },
      { path: ['l', '0', '1'], removed: false },
      { path: ['gone'], removed: true },
    ]);
    assert.deepEqual(d.updatedFields, { a: { b: 5 }, 'l.0.1': 9 });
    assert.deepEqual(d.removedFields, ['gone']);
    assert.deepEqual(d.disambiguatedPaths, { 'l.0.1': ['l', new Int32(0), '1'] });
  });
});
