import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { serialize } from 'bson';
import { decodeDocument, documentSize, encodeDocument, isArrayIndexKey, orderedKeys, type Document } from '../../../src/bson/index.js';
import { setField } from '../../../src/query/update/paths.js';
import { fieldNames } from '../../helpers/bson-order.js';

const bytesOf = (pairs: Array<[string, unknown]>): Uint8Array => serialize(new Map(pairs));

describe('BSON field order for keys JavaScript reorders', () => {
  it('isArrayIndexKey is exactly the keys V8 lists first', () => {
    const keys = ['0', '7', '12', '4294967294', '4294967295', '01', '-1', '1.5', '1e3', 'a1', ''];
    const o: Record<string, number> = {};
    for (const k of ['z', ...keys]) o[k] = 1;
    const first = Object.keys(o).slice(0, Object.keys(o).indexOf('z'));
    assert.deepEqual(keys.filter(isArrayIndexKey).sort(), first.sort());
  });

  it('decode then encode keeps the bytes; sizes are unchanged', () => {
    const nested = new Map<string, unknown>([['2', 'x'], ['y', 1], ['0', 'z']]);
    const raw = bytesOf([['_id', 1], ['b', 1], ['1', 2], ['a', nested], ['arr', [new Map([['1', 1], ['k', 1]])]]]);
    const doc = decodeDocument(raw);
    assert.deepEqual(Object.keys(doc), ['1', '_id', 'b', 'a', 'arr']);
    assert.deepEqual(orderedKeys(doc), ['_id', 'b', '1', 'a', 'arr']);
    assert.deepEqual(Buffer.from(encodeDocument(doc)), Buffer.from(raw));
    assert.equal(documentSize(doc), raw.length);
    // Invisible to the rest of JavaScript: keys, spread, JSON.
    assert.deepEqual(Object.keys({ ...doc }), Object.keys(doc));
    assert.equal(JSON.stringify(doc.a), '{"0":"z","2":"x","y":1}');
  });

  it('fields added later are appended; removed ones dropped; a copy with a new first field keeps it first', () => {
    const doc = decodeDocument(bytesOf([['b', 1], ['1', 2], ['a', 3]]));
    setField(doc, 'c', 4);
    setField(doc, '0', 5);
    delete doc.b;
    assert.deepEqual(orderedKeys(doc), ['1', 'a', 'c', '0']);
    const plain: Document = { x: 1 };
    setField(plain, '3', 1);
    setField(plain, 'y', 1);
    assert.deepEqual(fieldNames(encodeDocument(plain)), ['x', '3', 'y']);
  });
});

describe('documentSize', () => {
  it('is the encoded length for every BSON type, Int32 and BSONSymbol included', async () => {
    const b = await import('../../../src/bson/index.js');
    const doc: Document = {
      _id: new b.ObjectId(), i: new b.Int32(5), n: 5, big: 2 ** 40, f: 1.5, d: new b.Double(2), l: b.Long.fromNumber(7), dec: b.Decimal128.fromString('1.1'),
      s: 'héllo', t: new b.Timestamp({ t: 1, i: 2 }), date: new Date(0), bin: new b.Binary(Buffer.from('abc'), 4), old: new b.Binary(Buffer.from('ab'), 2),
      re: new b.BSONRegExp('a.c', 'i'), sym: new b.BSONSymbol('sym'), code: new b.Code('x()'), scoped: new b.Code('y()', { a: new b.Int32(1) }),
      ref: new b.DBRef('c', new b.ObjectId(), 'db', { extra: 1 }), min: new b.MinKey(), max: new b.MaxKey(), nul: null, undef: undefined, yes: true,
      arr: Array.from({ length: 12 }, (_, i) => new b.Int32(i)), sub: { 'ключ': [{ x: new b.Int32(1) }], '1': 2 },
    };
    assert.equal(documentSize(doc), encodeDocument(doc).length);
  });
});
