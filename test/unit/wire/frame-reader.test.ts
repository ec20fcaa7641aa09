import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FrameReader, HTTP_ON_NATIVE_PORT_RESPONSE, WireError, crc32c } from '../../../src/wire/index.js';
import { crc32cBitwise, header, opMsgCommand } from './frames.js';

describe('crc32c', () => {
  it('matches the standard check values', () => {
    assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
    assert.equal(crc32c(Buffer.alloc(32)), 0x8a9136aa); // RFC 3720 B.4
    assert.equal(crc32c(Buffer.alloc(32, 0xff)), 0x62a8ab43);
  });
  it('agrees with a bitwise implementation on every length and offset', () => {
    const data = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 131 + 7) & 0xff));
    for (let start = 0; start < 5; start++) {
      for (let end = start; end <= data.length; end += 7) {
        assert.equal(crc32c(data, start, end), crc32cBitwise(data.subarray(start, end)));
      }
    }
  });
});

describe('FrameReader', () => {
  const a = opMsgCommand({ ping: 1, $db: 'admin' });
  const b = opMsgCommand({ hello: 1, $db: 'admin', filler: 'x'.repeat(5000) });

  it('returns nothing until a frame is complete', () => {
    const r = new FrameReader();
    assert.equal(r.next(), undefined);
    r.push(a.subarray(0, 10));
    assert.equal(r.next(), undefined);
    r.push(a.subarray(10, a.length - 1));
    assert.equal(r.next(), undefined);
    r.push(a.subarray(a.length - 1));
    assert.deepEqual(r.next(), a);
    assert.equal(r.next(), undefined);
    assert.equal(r.bufferedBytes, 0);
  });

  it('splits several frames out of one chunk without copying', () => {
    const chunk = Buffer.concat([a, b, a.subarray(0, 5)]);
    const r = new FrameReader();
    r.push(chunk);
    const frames = [...r.frames()];
    assert.equal(frames.length, 2);
    assert.deepEqual(frames[0], a);
    assert.deepEqual(frames[1], b);
    // Views of the pushed chunk, not copies.
    assert.equal(frames[0]!.buffer, chunk.buffer);
    assert.equal(frames[1]!.byteOffset, chunk.byteOffset + a.length);
    assert.equal(r.bufferedBytes, 5);
  });

  it('reassembles frames pushed one byte at a time', () => {
    const stream = Buffer.concat([a, b, a, b]);
    const r = new FrameReader();
    const out: Buffer[] = [];
    for (let i = 0; i < stream.length; i++) {
      r.push(stream.subarray(i, i + 1));
      for (const f of r.frames()) out.push(Buffer.from(f));
    }
    assert.deepEqual(out, [a, b, a, b]);
  });

  it('reassembles frames across arbitrary chunk boundaries', () => {
    const stream = Buffer.concat([b, a, b, a, b]);
    for (const size of [1, 3, 16, 17, 100, 4097, 5000, 9000]) {
      const r = new FrameReader();
      const out: Buffer[] = [];
      for (let i = 0; i < stream.length; i += size) {
        r.push(stream.subarray(i, i + size));
        for (const f of r.frames()) out.push(Buffer.from(f));
      }
      assert.deepEqual(out, [b, a, b, a, b], `chunk size ${size}`);
    }
  });

  it('rejects a messageLength below 16 or above the limit and stays failed', () => {
    for (const length of [0, 15, -1, 48_000_001, 0x7fffffff]) {
      const r = new FrameReader();
      r.push(header(length, 1, 0, 2013));
      assert.throws(() => r.next(), (e: unknown) => {
        assert.ok(e instanceof WireError);
        assert.equal(e.code, 17);
        assert.equal(e.codeName, 'ProtocolError');
        assert.equal(e.closeConnection, true);
        assert.equal(e.replyTo, undefined);
        assert.match(e.message, /recv\(\): message msgLen \d+ is invalid\. Min 16 Max: 48000000/);
        return true;
      });
      assert.throws(() => r.next(), WireError);
    }
  });

  it('accepts exactly 48,000,000 and honours a custom limit', () => {
    const r = new FrameReader();
    r.push(header(48_000_000, 1, 0, 2013));
    assert.equal(r.next(), undefined);
    const small = new FrameReader({ maxMessageSizeBytes: 100 });
    small.push(header(101, 1, 0, 2013));
    assert.throws(() => small.next(), WireError);
  });

  it('delivers the good frames before a bad header', () => {
    const r = new FrameReader();
    r.push(Buffer.concat([a, header(3, 1, 0, 2013)]));
    const it = r.frames();
    assert.deepEqual(it.next().value, a);
    assert.throws(() => it.next(), WireError);
  });

  it('answers HTTP on the native port as mongod does', () => {
    const r = new FrameReader();
    r.push(Buffer.from('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n'));
    assert.throws(() => r.next(), (e: unknown) => {
      assert.ok(e instanceof WireError);
      assert.equal(e.closeConnection, true);
      assert.equal(e.httpResponse, HTTP_ON_NATIVE_PORT_RESPONSE);
      assert.match(e.httpResponse!.toString(), /trying to access MongoDB over HTTP on the native driver port/);
      return true;
    });
  });
});
