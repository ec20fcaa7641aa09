import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DossierError } from '../../../src/base/index.js';
import { Int32, Long } from '../../../src/bson/index.js';
import { WireError, decodeMessage, encodeOpMsgReply, type WireRequest } from '../../../src/wire/index.js';
import { MSG_EXHAUST_ALLOWED, MSG_MORE_TO_COME, crc32cBitwise, opMsg, opMsgCommand, readReply } from './frames.js';

function decodeMsg(frame: Buffer): Extract<WireRequest, { opCode: 'msg' }> {
  const m = decodeMessage(frame);
  assert.equal(m.opCode, 'msg');
  return m as Extract<WireRequest, { opCode: 'msg' }>;
}

/** Asserts decodeMessage fails with this code, and whether mongod would reply or close. */
function assertWireError(frame: Buffer, code: number, action: 'reply' | 'close', message?: RegExp): WireError {
  let caught: unknown;
  try {
    decodeMessage(frame);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof WireError, `expected a WireError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.equal(caught.closeConnection, action === 'close', `closeConnection for ${caught.message}`);
  if (action === 'reply') {
    assert.equal(caught.replyTo?.protocol, 'msg');
    assert.equal(caught.replyTo?.requestId, frame.readInt32LE(4));
  }
  if (message) assert.match(caught.message, message);
  return caught;
}

describe('OP_MSG decoding', () => {
  it('decodes a body-only message with its header fields and flags', () => {
    const m = decodeMsg(opMsgCommand({ ping: 1, $db: 'admin' }, { requestId: 42, responseTo: 7 }));
    assert.equal(m.requestId, 42);
    assert.equal(m.responseTo, 7);
    assert.equal(m.compressorId, undefined);
    assert.deepEqual(m.flags, { checksumPresent: false, moreToCome: false, exhaustAllowed: false, raw: 0 });
    assert.deepEqual(Object.keys(m.body), ['ping', '$db']);
    assert.ok(m.body.ping instanceof Int32);
    assert.equal(m.body.$db, 'admin');
  });

  it('keeps BSON types (promoteValues false)', () => {
    const m = decodeMsg(opMsgCommand({ insert: 'c', n: new Long(5), d: 1.5, $db: 'test' }));
    assert.ok(m.body.n instanceof Long);
  });

  it('merges document sequences into the body, after the body fields', () => {
    const frame = opMsg({
      sections: [
        { kind: 1, identifier: 'documents', documents: [{ _id: 1 }, { _id: 2 }] },
        { kind: 0, body: { insert: 'c', $db: 'test' } },
        { kind: 1, identifier: 'other', documents: [] },
      ],
    });
    const m = decodeMsg(frame);
    assert.deepEqual(Object.keys(m.body), ['insert', '$db', 'documents', 'other']);
    assert.equal(m.body.documents.length, 2);
    assert.deepEqual(m.body.other, []);
    assert.deepEqual(m.sequences.map((s) => s.identifier), ['documents', 'other']);
    assert.equal(m.sequences[0]!.documents, m.body.documents);
  });

  it('sets a "__proto__" sequence as a plain field', () => {
    const m = decodeMsg(opMsg({ sections: [{ kind: 0, body: { ping: 1 } }, { kind: 1, identifier: '__proto__', documents: [{ a: 1 }] }] }));
    assert.equal(Object.getPrototypeOf(m.body), Object.prototype);
    assert.ok(Object.prototype.hasOwnProperty.call(m.body, '__proto__'));
  });

  it('reads flags: moreToCome, exhaustAllowed and unknown optional bits', () => {
    assert.equal(decodeMsg(opMsgCommand({ ping: 1 }, { flags: MSG_MORE_TO_COME })).flags.moreToCome, true);
    assert.equal(decodeMsg(opMsgCommand({ ping: 1 }, { flags: MSG_EXHAUST_ALLOWED })).flags.exhaustAllowed, true);
    // Bits 17-31 are optional: unknown ones are ignored.
    assert.equal(decodeMsg(opMsgCommand({ ping: 1 }, { flags: (1 << 31) | (1 << 20) })).flags.moreToCome, false);
  });

  it('verifies a correct checksum', () => {
    const m = decodeMsg(opMsgCommand({ ping: 1, $db: 'admin' }, { checksum: true }));
    assert.equal(m.flags.checksumPresent, true);
    assert.deepEqual(Object.keys(m.body), ['ping', '$db']);
  });

  it('closes on a checksum mismatch (ChecksumMismatch 288)', () => {
    const good = opMsgCommand({ ping: 1 }, { checksum: true });
    const wrong = (good.readUInt32LE(good.length - 4) ^ 1) >>> 0;
    assertWireError(opMsgCommand({ ping: 1 }, { checksum: wrong }), 288, 'close', /checksum does not match/);
    // A flipped byte in the body, checksum unchanged.
    const flipped = Buffer.from(good);
    flipped[good.length - 8] ^= 0x01;
    assert.throws(() => decodeMessage(flipped), WireError);
  });

  it('closes on an unknown required flag (IllegalOpMsgFlag 223)', () => {
    for (const bit of [2, 3, 8, 15]) {
      assertWireError(opMsgCommand({ ping: 1 }, { flags: 1 << bit }), 223, 'close', /illegal flags value: Ob0+/);
    }
  });

  it('replies to structural errors with mongod codes', () => {
    assertWireError(opMsg({ sections: [] }), 40587, 'reply', /must have a body/);
    assertWireError(opMsg({ sections: [{ kind: 0, body: { a: 1 } }, { kind: 0, body: { b: 1 } }] }), 40430, 'reply', /Multiple body sections/);
    assertWireError(
      opMsg({ sections: [{ kind: 0, body: { insert: 'c' } }, { kind: 1, identifier: 'd', documents: [] }, { kind: 1, identifier: 'd', documents: [] }] }),
      40431,
      'reply',
      /Duplicate document sequence: d/,
    );
    assertWireError(
      opMsg({ sections: [{ kind: 0, body: { insert: 'c', documents: [] } }, { kind: 1, identifier: 'documents', documents: [{}] }] }),
      40433,
      'reply',
      /Duplicate field between body and document sequence documents/,
    );
    // A dotted identifier collides with a nested body field, as mongod's path lookup finds it.
    assertWireError(opMsg({ sections: [{ kind: 0, body: { a: { b: 1 } } }, { kind: 1, identifier: 'a.b', documents: [] }] }), 40433, 'reply');
    assertWireError(opMsg({ sections: [{ kind: 0, body: { a: 1 } }, { kind: 7, raw: Buffer.alloc(8) }] }), 40432, 'reply', /Unknown section kind 7/);
    assertWireError(opMsg({ sections: [{ kind: 2, raw: Buffer.from([5, 0, 0, 0, 0]) }, { kind: 0, body: { a: 1 } }] }), 13, 'reply', /Security Token/);
    assertWireError(opMsgCommand({ ping: 1, $tenant: 'x' }), 72, 'reply', /Multitenancy not enabled/);
  });

  it('closes on a third document sequence (TooManyDocumentSequences 233)', () => {
    const seq = (identifier: string) => ({ kind: 1 as const, identifier, documents: [] });
    assertWireError(opMsg({ sections: [{ kind: 0, body: { a: 1 } }, seq('x'), seq('y'), seq('z')] }), 233, 'close');
  });

  it('replies to truncated sections and bad sizes', () => {
    // Sequence size smaller than itself, larger than the message, identifier without NUL.
    assertWireError(opMsg({ sections: [{ kind: 0, body: { a: 1 } }, { kind: 1, identifier: 'd', documents: [], sizeOverride: 2 }] }), 15, 'reply');
    assertWireError(opMsg({ sections: [{ kind: 0, body: { a: 1 } }, { kind: 1, identifier: 'd', documents: [], sizeOverride: 1000 }] }), 15, 'reply');
    assertWireError(opMsg({ sections: [{ kind: 0, body: { a: 1 } }, { kind: 1, raw: Buffer.from([6, 0, 0, 0, 0x61, 0x62]) }] }), 15, 'reply');
    assertWireError(opMsg({ sections: [{ kind: 1, raw: Buffer.from([2, 0]) }] }), 15, 'reply');
    // A body cut short.
    const frame = opMsgCommand({ ping: 1, $db: 'admin' });
    const cut = frame.subarray(0, frame.length - 3);
    cut.writeInt32LE(cut.length, 0);
    assertWireError(Buffer.from(cut), 22, 'reply', /BSON length exceeds buffer size/);
    // No room for flagBits.
    const tiny = Buffer.from(frame.subarray(0, 18));
    tiny.writeInt32LE(18, 0);
    assertWireError(tiny, 15, 'reply');
  });

  it('rejects a checksum flag on a message too short to hold one (51252)', () => {
    const f = opMsg({ sections: [], checksum: true });
    assertWireError(f, 51252, 'reply', /Invalid message size for an OpMsg containing a checksum/);
  });

  it('reports moreToCome in replyTo so the caller sends nothing', () => {
    const e = assertWireError(opMsg({ flags: MSG_MORE_TO_COME, sections: [] }), 40587, 'reply');
    assert.equal(e.replyTo?.moreToCome, true);
  });

  it('rejects invalid BSON in the body (InvalidBSON 22) and invalid UTF-8', () => {
    const bad = Buffer.from([12, 0, 0, 0, 0x42, 0x61, 0, 1, 2, 3, 4, 0]); // element type 0x42
    assertWireError(opMsgCommand(bad), 22, 'reply', /Unrecognized BSON type 66/);
    const utf8 = Buffer.from([14, 0, 0, 0, 0x02, 0x61, 0, 2, 0, 0, 0, 0xff, 0, 0]);
    assertWireError(opMsgCommand(utf8), 22, 'reply');
  });
});

describe('OP_MSG encoding', () => {
  it('round-trips a reply through the frame reader', () => {
    const frame = encodeOpMsgReply({ ok: 1, n: new Int32(3) }, 55, 9);
    const r = readReply(frame);
    assert.equal(r.opCode, 2013);
    assert.equal(r.responseTo, 55);
    assert.equal(r.requestId, 9);
    assert.equal(r.flags, 0);
    assert.deepEqual(r.documents.map((d) => Object.keys(d)), [['ok', 'n']]);
  });

  it('sets moreToCome and a valid checksum when asked', () => {
    const frame = encodeOpMsgReply({ ok: 1 }, 1, 2, { moreToCome: true, checksum: true });
    assert.equal(frame.readUInt32LE(16), 3);
    assert.equal(frame.readUInt32LE(frame.length - 4), crc32cBitwise(frame.subarray(0, frame.length - 4)));
    // Our own decoder accepts it (as a request) with its checksum.
    const m = decodeMsg(frame);
    assert.equal(m.flags.checksumPresent, true);
    assert.equal(m.flags.moreToCome, true);
  });

  it('refuses a reply body over 16 MiB + 16 KiB with BSONObjectTooLarge', () => {
    const big = 'x'.repeat(16 * 1024 * 1024);
    for (const body of [{ a: big, b: 'y'.repeat(64 * 1024) }, { a: big, b: big, c: big }]) {
      assert.throws(() => encodeOpMsgReply(body, 1, 1), (e: unknown) => {
        assert.ok(e instanceof DossierError);
        assert.equal(e.code, 10334);
        return true;
      });
    }
    assert.ok(encodeOpMsgReply({ a: big }, 1, 1).length > 16 * 1024 * 1024);
  });
});
