import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DossierError } from '../../../src/base/index.js';
import { Int32 } from '../../../src/bson/index.js';
import { WireError, decodeMessage, encodeOpReply, upconvertOpQuery, type OpQueryRequest } from '../../../src/wire/index.js';
import { opQuery, readReply } from './frames.js';

function decodeQuery(frame: Buffer): OpQueryRequest {
  const m = decodeMessage(frame);
  assert.equal(m.opCode, 'query');
  return m as OpQueryRequest;
}

describe('OP_QUERY decoding (legacy handshake)', () => {
  it('decodes an isMaster on admin.$cmd', () => {
    const m = decodeQuery(opQuery({ requestId: 3, flags: 4, query: { isMaster: 1, client: { driver: { name: 'PyMongo' } } } }));
    assert.equal(m.requestId, 3);
    assert.equal(m.fullCollectionName, 'admin.$cmd');
    assert.equal(m.databaseName, 'admin');
    assert.equal(m.collectionName, '$cmd');
    assert.equal(m.isCommand, true);
    assert.equal(m.numberToSkip, 0);
    assert.equal(m.numberToReturn, -1);
    assert.equal(m.flags.secondaryOk, true);
    assert.equal(m.flags.raw, 4);
    assert.deepEqual(Object.keys(m.query), ['isMaster', 'client']);
    assert.equal(m.returnFieldsSelector, undefined);
  });

  it('reads an optional returnFieldsSelector and a non-command namespace', () => {
    const m = decodeQuery(opQuery({ fullCollectionName: 'db.coll.sub', query: { a: 1 }, returnFieldsSelector: { b: 1 }, numberToSkip: 5, numberToReturn: 10 }));
    assert.equal(m.databaseName, 'db');
    assert.equal(m.collectionName, 'coll.sub');
    assert.equal(m.isCommand, false);
    assert.deepEqual(Object.keys(m.returnFieldsSelector ?? {}), ['b']);
    assert.equal(m.numberToSkip, 5);
  });

  it('replies (OP_REPLY) to malformed OP_QUERY messages', () => {
    const unterminated = opQuery();
    const ns = Buffer.from([0x10, 0, 0, 0, 0, 0, 0, 0, 0x61, 0x62]);
    const frame = Buffer.concat([unterminated.subarray(0, 16), ns]);
    frame.writeInt32LE(frame.length, 0);
    assert.throws(() => decodeMessage(frame), (e: unknown) => {
      assert.ok(e instanceof WireError);
      assert.equal(e.closeConnection, false);
      assert.equal(e.replyTo?.protocol, 'query');
      return true;
    });
    const bad = opQuery({ query: Buffer.from([5, 0, 0, 0, 1]) });
    assert.throws(() => decodeMessage(bad), (e: unknown) => e instanceof WireError && e.code === 22 && e.replyTo?.protocol === 'query');
  });
});

describe('upconvertOpQuery', () => {
  it('adds $db to a plain command', () => {
    const body = upconvertOpQuery(decodeQuery(opQuery({ query: { ismaster: 1, helloOk: true } })));
    assert.deepEqual(Object.keys(body), ['ismaster', 'helloOk', '$db']);
    assert.equal(body.$db, 'admin');
  });

  it('unwraps $query and lifts $readPreference, as mongos-era drivers send it', () => {
    const body = upconvertOpQuery(decodeQuery(opQuery({ query: { $query: { isMaster: 1 }, $readPreference: { mode: 'secondary' } } })));
    assert.deepEqual(Object.keys(body), ['isMaster', '$readPreference', '$db']);
    assert.deepEqual(body.$readPreference, { mode: 'secondary' });
  });

  it('turns the secondaryOk flag into secondaryPreferred when no read preference is given', () => {
    const body = upconvertOpQuery(decodeQuery(opQuery({ flags: 4, query: { isMaster: 1 } })));
    assert.deepEqual(body.$readPreference, { mode: 'secondaryPreferred' });
  });

  it('refuses what mongod refuses', () => {
    const codeOf = (f: () => unknown): number => {
      try {
        f();
      } catch (e) {
        assert.ok(e instanceof DossierError);
        return e.code;
      }
      return 0;
    };
    assert.equal(codeOf(() => upconvertOpQuery(decodeQuery(opQuery({ query: { isMaster: 1, $db: 'x' } })))), 40621);
    assert.equal(codeOf(() => upconvertOpQuery(decodeQuery(opQuery({ flags: 64 })))), 18527);
    assert.equal(codeOf(() => upconvertOpQuery(decodeQuery(opQuery({ numberToReturn: 0 })))), 72);
    assert.equal(codeOf(() => upconvertOpQuery(decodeQuery(opQuery({ query: { $query: { isMaster: 1 }, $maxTimeMS: 5 } })))), 72);
  });
});

describe('OP_REPLY encoding', () => {
  it('writes the legacy reply layout with awaitCapable set', () => {
    const frame = encodeOpReply({ ismaster: true, ok: new Int32(1) }, 77, 5);
    assert.equal(frame.readInt32LE(0), frame.length);
    assert.equal(frame.readInt32LE(12), 1);
    assert.equal(frame.readBigInt64LE(20), 0n); // cursorID
    assert.equal(frame.readInt32LE(28), 0); // startingFrom
    const r = readReply(frame);
    assert.equal(r.responseTo, 77);
    assert.equal(r.requestId, 5);
    assert.equal(r.flags, 8);
    assert.equal(r.documents.length, 1);
    assert.equal(r.documents[0]!.ismaster, true);
  });
});
