import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DossierError } from '../../../src/base/index.js';
import {
  BSONRegExp, BSONSymbol, Binary, Code, DBRef, Decimal128, Double, Int32, Long, MaxKey, MinKey, ObjectId, Timestamp, UUID,
  encodeDocument,
} from '../../../src/bson/index.js';
import { WireError, decodeMessage, validateBsonDocument } from '../../../src/wire/index.js';
import { deeplyNestedBson, opMsgCommand } from './frames.js';

const LIMITS = { maxDepth: 200, maxSizeBytes: 16 * 1024 * 1024 + 16 * 1024 };

function assertInvalid(bytes: Uint8Array, code: number, message?: RegExp, limits = LIMITS): void {
  assert.throws(() => validateBsonDocument(bytes, limits), (e: unknown) => {
    assert.ok(e instanceof DossierError, String(e));
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    return true;
  });
}

/** A document {a: <value bytes of type t>} built by hand. */
function withElement(type: number, value: number[]): Buffer {
  const body = Buffer.from([type, 0x61, 0, ...value, 0]);
  const out = Buffer.alloc(4 + body.length);
  out.writeInt32LE(out.length, 0);
  body.copy(out, 4);
  return out;
}

describe('validateBsonDocument', () => {
  it('accepts every BSON type the encoder produces', () => {
    const doc = {
      double: new Double(1.5), string: 'héllo', object: { x: [1, { y: null }] }, array: [1, 'two', [3]],
      binary: new Binary(Buffer.from([1, 2, 3]), 0), uuid: new UUID(), oldBinary: new Binary(Buffer.from([1, 2]), 2),
      undefinedValue: undefined, objectId: new ObjectId(), bool: true, date: new Date(0), nullValue: null,
      regex: new BSONRegExp('^a', 'i'), code: new Code('function () {}'), symbol: new BSONSymbol('s'),
      codeWithScope: new Code('x', { x: { deep: [1] } }), int32: new Int32(1), timestamp: new Timestamp({ t: 1, i: 2 }),
      long: Long.fromNumber(7), decimal: Decimal128.fromString('1.1'), minKey: new MinKey(), maxKey: new MaxKey(),
      dbref: new DBRef('c', new ObjectId()),
    };
    const bytes = encodeDocument(doc);
    assert.equal(validateBsonDocument(bytes, LIMITS), bytes.length);
    // Trailing bytes after the document are allowed; the length is returned.
    assert.equal(validateBsonDocument(Buffer.concat([bytes, Buffer.from([9, 9])]), LIMITS), bytes.length);
  });

  it('accepts the smallest document and the DBPointer type', () => {
    assert.equal(validateBsonDocument(Buffer.from([5, 0, 0, 0, 0]), LIMITS), 5);
    assert.equal(validateBsonDocument(withElement(0x0c, [2, 0, 0, 0, 0x6e, 0, ...new Array(12).fill(7)]), LIMITS), 26);
  });

  it('rejects bad lengths and terminators (InvalidBSON 22)', () => {
    assertInvalid(Buffer.from([5, 0, 0]), 22, /at least 5 bytes/);
    assertInvalid(Buffer.from([4, 0, 0, 0, 0]), 22, /at least 5 bytes/);
    assertInvalid(Buffer.from([6, 0, 0, 0, 0]), 22, /exceeds buffer size/);
    assertInvalid(Buffer.from([5, 0, 0, 0, 1]), 22, /not terminated with EOO/);
    assertInvalid(Buffer.from([6, 0, 0, 0, 0, 0]), 22, /EOO is not at the end/);
    assertInvalid(Buffer.from([0xff, 0xff, 0xff, 0xff, 0]), 22);
  });

  it('rejects unknown types, bad strings, bad bools, out-of-bounds values', () => {
    assertInvalid(withElement(0x14, []), 22, /Unrecognized BSON type 20/);
    assertInvalid(withElement(0x80, []), 22, /Unrecognized BSON type -128/);
    assertInvalid(withElement(0x02, [0, 0, 0, 0]), 22, /Not null terminated string/); // length 0
    assertInvalid(withElement(0x02, [2, 0, 0, 0, 0x61, 0x62]), 22, /Not null terminated string/);
    assertInvalid(withElement(0x02, [0xff, 0xff, 0xff, 0xff, 0x61]), 22, /past the end/); // negative length
    assertInvalid(withElement(0x08, [2]), 22, /neither false nor true/);
    assertInvalid(withElement(0x10, [1, 2]), 22, /past the end/);
    assertInvalid(withElement(0x05, [100, 0, 0, 0, 0, 1]), 22, /past the end/);
    assertInvalid(withElement(0x03, [4, 0, 0, 0]), 22, /at least 5 bytes/);
    assertInvalid(withElement(0x03, [50, 0, 0, 0, 0]), 22, /past the end/);
    assertInvalid(withElement(0x0b, [0x61, 0x62]), 22); // regex without terminators
    // A field name running to the end of the document.
    assertInvalid(Buffer.from([8, 0, 0, 0, 0x10, 0x61, 0x62, 0]), 22);
  });

  it('checks code-with-scope lengths', () => {
    const good = encodeDocument({ c: new Code('x', { a: 1 }) });
    validateBsonDocument(good, LIMITS);
    const bad = Buffer.from(good);
    // Total length of the code-with-scope value sits right after 0x0F 'c' 0x00 at offset 4.
    bad.writeInt32LE(bad.readInt32LE(7) + 1, 7);
    assert.throws(() => validateBsonDocument(bad, LIMITS), DossierError);
  });

  it('enforces the depth limit exactly as mongod counts it (root is level 0)', () => {
    validateBsonDocument(deeplyNestedBson(200), LIMITS);
    assertInvalid(deeplyNestedBson(201), 15, /exceeds maximum nested object depth/);
    validateBsonDocument(deeplyNestedBson(3), { ...LIMITS, maxDepth: 3 });
    assertInvalid(deeplyNestedBson(4), 15, undefined, { ...LIMITS, maxDepth: 4 - 1 });
    // Code-with-scope takes two levels.
    const cws = encodeDocument({ c: new Code('x', {}) });
    validateBsonDocument(cws, { ...LIMITS, maxDepth: 2 });
    assertInvalid(cws, 15, undefined, { ...LIMITS, maxDepth: 1 });
  });

  it('walks 100,000 levels of nesting without overflowing the stack', () => {
    const deep = deeplyNestedBson(100_000);
    assertInvalid(deep, 15, /exceeds maximum nested object depth/);
    assert.equal(validateBsonDocument(deep, { maxDepth: 100_000, maxSizeBytes: deep.length }), deep.length);
    // Through the whole decoder: a reply-able Overflow, not a RangeError.
    assert.throws(() => decodeMessage(opMsgCommand(deep)), (e: unknown) => {
      assert.ok(e instanceof WireError);
      assert.equal(e.code, 15);
      assert.equal(e.closeConnection, false);
      return true;
    });
  });

  it('rejects documents over the size limit (BSONObjectTooLarge 10334)', () => {
    const doc = encodeDocument({ s: 'x'.repeat(1000) });
    assertInvalid(doc, 10334, /is invalid\. Size must be between 0 and 100/, { maxDepth: 200, maxSizeBytes: 100 });
  });
});
