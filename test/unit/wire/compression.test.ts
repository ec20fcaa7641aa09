import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import { before, describe, it } from 'node:test';
import {
  CompressorId, WireError, availableCompressors, canUseCompressor, compressFrame, decodeMessage, encodeOpMsgReply, encodeOpReply,
  loadOptionalCompressors, type OpMsgRequest,
} from '../../../src/wire/index.js';
import { opCompressed, opMsg, opMsgCommand, opQuery, readReply } from './frames.js';

function assertClosed(frame: Buffer, code: number, message?: RegExp): void {
  assert.throws(() => decodeMessage(frame), (e: unknown) => {
    assert.ok(e instanceof WireError, String(e));
    assert.equal(e.code, code, e.message);
    assert.equal(e.closeConnection, true);
    if (message) assert.match(e.message, message);
    return true;
  });
}

describe('OP_COMPRESSED', () => {
  let snappyLoaded = false;
  before(async () => {
    snappyLoaded = await loadOptionalCompressors();
  });

  it('lists what it can negotiate', () => {
    assert.deepEqual(availableCompressors(), snappyLoaded ? ['snappy', 'zlib'] : ['zlib']);
    assert.equal(canUseCompressor(CompressorId.zstd), false);
  });

  for (const id of [CompressorId.noop, CompressorId.zlib]) {
    it(`decodes OP_MSG and OP_QUERY compressed with compressorId ${id}`, () => {
      const inner = opMsg({ requestId: 11, sections: [{ kind: 0, body: { insert: 'c', $db: 't' } }, { kind: 1, identifier: 'documents', documents: [{ _id: 1 }] }], checksum: true });
      const m = decodeMessage(opCompressed(inner, { compressorId: id }));
      assert.equal(m.opCode, 'msg');
      assert.equal(m.requestId, 11);
      assert.equal(m.compressorId, id);
      assert.equal((m as OpMsgRequest).body.documents.length, 1);
      const q = decodeMessage(opCompressed(opQuery({ query: { isMaster: 1 } }), { compressorId: id }));
      assert.equal(q.opCode, 'query');
      assert.equal(q.compressorId, id);
    });
  }

  it('guards uncompressedSize before inflating (zip bombs)', () => {
    // 40 MB of zeros deflates to ~40 KB; declared honestly it is fine, over the limit it is refused.
    const hugeBody = Buffer.alloc(48_000_000 - 16 + 1);
    const bomb = opCompressed(opMsgCommand({ a: 1 }), { compressorId: 2, dataOverride: deflateSync(hugeBody), uncompressedSizeOverride: hugeBody.length });
    assertClosed(bomb, 2, /larger than maximum message size/);
    // A small declared size with a big stream: inflation stops at the declared size.
    const liar = opCompressed(opMsgCommand({ a: 1 }), { compressorId: 2, dataOverride: deflateSync(Buffer.alloc(10_000_000)), uncompressedSizeOverride: 100 });
    assertClosed(liar, 2, /invalid or corrupted/);
    assertClosed(opCompressed(opMsgCommand({ a: 1 }), { uncompressedSizeOverride: -1 }), 2, /negative/);
  });

  it('closes on size mismatches, corrupt data, unknown or unavailable compressors', () => {
    const inner = opMsgCommand({ ping: 1 });
    const bodyLength = inner.length - 16;
    assertClosed(opCompressed(inner, { uncompressedSizeOverride: bodyLength + 1 }), 2, /less data than expected/);
    assertClosed(opCompressed(inner, { compressorId: 2, uncompressedSizeOverride: bodyLength + 1 }), 2, /less data than expected/);
    assertClosed(opCompressed(inner, { compressorId: 2, dataOverride: Buffer.from('not zlib') }), 2, /invalid or corrupted/);
    assertClosed(opCompressed(inner, { compressorId: 3, dataOverride: Buffer.alloc(4) }), 1, /not available/);
    assertClosed(opCompressed(inner, { compressorId: 9, dataOverride: Buffer.alloc(4) }), 1, /not available/);
    if (!snappyLoaded) assertClosed(opCompressed(inner, { compressorId: 1, dataOverride: Buffer.alloc(4) }), 1, /not available/);
    const short = Buffer.alloc(20);
    short.writeInt32LE(20, 0);
    short.writeInt32LE(2012, 12);
    assertClosed(short, 2, /Invalid compressed message header/);
  });

  it('honours the enabled compressor set', () => {
    assert.throws(() => decodeMessage(opCompressed(opMsgCommand({ ping: 1 })), { compressors: new Set([CompressorId.zlib]) }), WireError);
  });

  it('treats a compressed OP_COMPRESSED as an unsupported opCode, like mongod', () => {
    const m = decodeMessage(opCompressed(opMsgCommand({ ping: 1 }), { originalOpCodeOverride: 2012 }));
    assert.equal(m.opCode, 'unsupported');
  });

  it('compresses replies with the request compressor and round-trips them', () => {
    for (const id of [CompressorId.noop, CompressorId.zlib]) {
      const frame = encodeOpMsgReply({ ok: 1, s: 'abc'.repeat(1000) }, 5, 6, { compressorId: id, checksum: true });
      assert.equal(frame.readInt32LE(12), 2012);
      assert.equal(frame[24], id);
      const r = readReply(frame);
      assert.equal(r.opCode, 2013);
      assert.equal(r.responseTo, 5);
      assert.equal(r.documents[0]!.s.length, 3000);
      // The checksum inside covers the uncompressed message: our decoder accepts it.
      assert.equal(decodeMessage(frame).opCode, 'msg');
      const reply = readReply(encodeOpReply({ ok: 1 }, 5, 6, { compressorId: id }));
      assert.equal(reply.opCode, 1);
    }
    // An unusable compressor leaves the message uncompressed, as mongod's compressMessage does.
    const plain = encodeOpMsgReply({ ok: 1 }, 1, 2);
    assert.equal(compressFrame(plain, CompressorId.zstd), plain);
  });

  it('decodes and encodes snappy when the package is installed', (t) => {
    if (!snappyLoaded) {
      t.skip('the optional snappy package is not installed');
      return;
    }
    const frame = encodeOpMsgReply({ ok: 1, s: 'xyz'.repeat(500) }, 1, 2, { compressorId: CompressorId.snappy });
    assert.equal(frame[24], 1);
    const m = decodeMessage(frame);
    assert.equal(m.compressorId, 1);
    assert.equal((m as OpMsgRequest).body.s.length, 1500);
    // A snappy preamble promising a different size than uncompressedSize is refused.
    const lie = Buffer.from(frame);
    lie.writeInt32LE(lie.readInt32LE(20) + 1, 20);
    assertClosed(lie, 2, /does not match expected size/);
  });
});
