/**
 * Round-trips against the official Node driver's own wire classes (internals, tests only): what
 * the driver sends must decode, and what we encode must parse in the driver.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { decodeDocument, type Document } from '../../../src/bson/index.js';
import { CompressorId, decodeMessage, encodeOpMsgReply, encodeOpReply, type OpMsgRequest, type OpQueryRequest } from '../../../src/wire/index.js';

interface DriverRequest {
  requestId: number;
  toBin(): Uint8Array[];
}
interface DriverResponse {
  requestId: number;
  responseTo: number;
  opCode: number;
  moreToCome: boolean;
  parse(): Uint8Array;
}
interface DriverCommands {
  OpMsgRequest: new (db: string, command: Document, options: Record<string, unknown>) => DriverRequest & { moreToCome: boolean; exhaustAllowed: boolean };
  OpQueryRequest: new (db: string, query: Document, options: Record<string, unknown>) => DriverRequest;
  DocumentSequence: new (field: string, documents: Document[]) => object;
  OpCompressedRequest: new (command: DriverRequest, options: { agreedCompressor: string; zlibCompressionLevel?: number }) => { toBin(): Promise<Uint8Array[]> };
}
interface DriverCompression {
  decompressResponse(message: Buffer): Promise<DriverResponse>;
}

const require = createRequire(import.meta.url);
const driver = require('mongodb/lib/cmap/commands.js') as DriverCommands;
const compression = require('mongodb/lib/cmap/wire_protocol/compression.js') as DriverCompression;

const concat = (parts: Uint8Array[]): Buffer => Buffer.concat(parts);

describe('frames from the official driver', () => {
  it('decodes a driver OP_MSG with $db and flags', () => {
    const req = new driver.OpMsgRequest('admin', { hello: 1, helloOk: true, maxAwaitTimeMS: 10 }, { exhaustAllowed: true });
    const m = decodeMessage(concat(req.toBin()));
    assert.equal(m.opCode, 'msg');
    const msg = m as OpMsgRequest;
    assert.equal(msg.requestId, req.requestId);
    assert.equal(msg.flags.exhaustAllowed, true);
    assert.deepEqual(Object.keys(msg.body), ['hello', 'helloOk', 'maxAwaitTimeMS', '$db']);
  });

  it('decodes a driver OP_MSG with a document sequence (moreToCome for w:0)', () => {
    const documents = [{ _id: 1 }, { _id: 2, s: 'x' }];
    const cmd = { insert: 'coll', documents: new driver.DocumentSequence('documents', documents), ordered: true, writeConcern: { w: 0 } };
    const req = new driver.OpMsgRequest('test', cmd, {});
    assert.equal(req.moreToCome, true);
    const msg = decodeMessage(concat(req.toBin())) as OpMsgRequest;
    assert.equal(msg.flags.moreToCome, true);
    assert.deepEqual(Object.keys(msg.body), ['insert', 'ordered', 'writeConcern', '$db', 'documents']);
    assert.equal(msg.sequences[0]!.identifier, 'documents');
    assert.equal(msg.body.documents.length, 2);
    assert.equal(msg.body.documents[1].s, 'x');
  });

  it('decodes a driver OP_QUERY handshake', () => {
    const req = new driver.OpQueryRequest('admin', { ismaster: 1, client: { driver: { name: 'nodejs' } } }, { numberToSkip: 0, numberToReturn: -1, secondaryOk: true });
    const q = decodeMessage(concat(req.toBin())) as OpQueryRequest;
    assert.equal(q.opCode, 'query');
    assert.equal(q.fullCollectionName, 'admin.$cmd');
    assert.equal(q.numberToReturn, -1);
    assert.equal(q.flags.secondaryOk, true);
    assert.deepEqual(Object.keys(q.query), ['ismaster', 'client']);
  });

  it('decodes driver OP_COMPRESSED (zlib) messages', async () => {
    const inner = new driver.OpMsgRequest('test', { find: 'c', filter: { a: 'b'.repeat(200) } }, {});
    const compressed = new driver.OpCompressedRequest(inner, { agreedCompressor: 'zlib', zlibCompressionLevel: 6 });
    const msg = decodeMessage(concat(await compressed.toBin())) as OpMsgRequest;
    assert.equal(msg.compressorId, CompressorId.zlib);
    assert.equal(msg.requestId, inner.requestId);
    assert.equal(msg.body.filter.a.length, 200);
  });
});

describe('replies parsed by the official driver', () => {
  for (const compressorId of [undefined, CompressorId.noop, CompressorId.zlib]) {
    it(`parses our OP_MSG reply (compressorId ${String(compressorId)})`, async () => {
      const frame = encodeOpMsgReply({ ok: 1, isWritablePrimary: true, maxWireVersion: 25 }, 77, 78, { compressorId, moreToCome: true });
      const response = await compression.decompressResponse(frame);
      assert.equal(response.responseTo, 77);
      assert.equal(response.opCode, 2013);
      assert.equal(response.moreToCome, true);
      const body = decodeDocument(response.parse());
      assert.equal(body.isWritablePrimary, true);
    });

    it(`parses our OP_REPLY (compressorId ${String(compressorId)})`, async () => {
      const frame = encodeOpReply({ ismaster: true, ok: 1 }, 5, 6, { compressorId });
      const response = await compression.decompressResponse(frame);
      assert.equal(response.responseTo, 5);
      assert.equal(response.opCode, 1);
      assert.equal(decodeDocument(response.parse()).ismaster, true);
    });
  }
});
