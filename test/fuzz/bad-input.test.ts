/**
 * Bad input against a live server: every malformed frame gets mongod's error reply where the
 * frame can be parsed, the connection is closed only where it cannot, and the server, other
 * connections and the stored data survive all of it (a fast-check property over random and
 * mutated frames, then a normal driver client reads back everything it wrote).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MongoClient, type Collection } from 'mongodb';
import { Dossier } from '../../src/index.js';
import { RawClient } from '../helpers/raw-client.js';
import { deeplyNestedBson, header, opCompressed, opMsg, opMsgCommand, opQuery, OP_MSG } from '../unit/wire/frames.js';

describe('bad input on the wire', () => {
  let dossier: Dossier;
  let client: MongoClient;
  let coll: Collection<{ _id: number; v: string }>;
  const written: Array<{ _id: number; v: string }> = [];

  before(async () => {
    dossier = await Dossier.create();
    client = await MongoClient.connect(dossier.uri);
    coll = client.db('fuzz').collection('kept');
    for (let i = 0; i < 200; i++) written.push({ _id: i, v: `value-${i}` });
    await coll.insertMany(written);
  });
  after(async () => {
    await client.close();
    await dossier.stop();
  });

  /** Reply documents are read raw (promoteValues off), so numbers arrive as Int32/Double. */
  const num = (v: unknown): unknown => (v !== null && typeof v === 'object' ? (v as { valueOf(): unknown }).valueOf() : v);

  async function oneShot(bytes: Buffer, expectReplies = 1, timeoutMs = 1000) {
    const raw = await RawClient.open(dossier.port);
    try {
      return await raw.exchange(bytes, { expectReplies, timeoutMs });
    } finally {
      raw.close();
    }
  }

  it('answers a well-formed ping sent raw', async () => {
    const r = await oneShot(opMsgCommand({ ping: 1, $db: 'admin' }));
    assert.equal(num(r.replies[0]?.documents[0]?.ok), 1);
  });

  it('invalid BSON gets InvalidBSON (22) and the connection stays usable', async () => {
    const raw = await RawClient.open(dossier.port);
    try {
      const bad = Buffer.from([12, 0, 0, 0, 0x02, 0x61, 0x00, 0xff, 0xff, 0xff, 0x7f, 0x00]);
      const r1 = await raw.exchange(opMsgCommand(bad));
      assert.equal(num(r1.replies[0]?.documents[0]?.code), 22);
      assert.equal(r1.closed, false);
      const r2 = await raw.exchange(opMsgCommand({ ping: 1, $db: 'admin' }));
      assert.equal(num(r2.replies[0]?.documents[0]?.ok), 1);
    } finally {
      raw.close();
    }
  });

  it('nesting deeper than the limit gets Overflow (15), even 100,000 levels', async () => {
    for (const depth of [250, 100_000]) {
      const r = await oneShot(opMsgCommand(deeplyNestedBson(depth)));
      assert.equal(num(r.replies[0]?.documents[0]?.code), 15, `depth ${depth}`);
    }
  });

  it('a document nested 181 levels deep is refused for storage', async () => {
    let nested: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 181; i++) nested = { n: nested };
    await assert.rejects(coll.insertOne({ _id: -1, v: 'deep', deep: nested } as never));
    assert.equal(await coll.findOne({ _id: -1 }), null);
  });

  it('a bad checksum closes the connection (mongod: ChecksumMismatch is connection-fatal)', async () => {
    const r = await oneShot(opMsg({ checksum: 0x12345678 }), 1, 500);
    assert.equal(r.replies.length, 0);
    assert.equal(r.closed, true);
  });

  it('a valid checksum is accepted', async () => {
    const r = await oneShot(opMsg({ checksum: true }));
    assert.equal(num(r.replies[0]?.documents[0]?.ok), 1);
  });

  it('a message length over 48,000,000 or under 16 closes the connection', async () => {
    for (const len of [48_000_001, 8, -5]) {
      const r = await oneShot(header(len, 1, 0, OP_MSG), 1, 500);
      assert.equal(r.closed, true, `length ${len}`);
    }
  });

  it('OP_MSG without $db gets an error reply', async () => {
    const r = await oneShot(opMsgCommand({ ping: 1 }));
    assert.equal(num(r.replies[0]?.documents[0]?.ok), 0);
    assert.equal(num(r.replies[0]?.documents[0]?.code), 40571);
  });

  it('legacy OP_QUERY isMaster is answered with OP_REPLY; other OP_QUERY commands are refused', async () => {
    const r = await oneShot(opQuery({ query: { isMaster: 1 } }));
    assert.equal(r.replies[0]?.opCode, 1);
    assert.equal(num(r.replies[0]?.documents[0]?.ismaster), true);
    const f = await oneShot(opQuery({ query: { find: 'kept' }, fullCollectionName: 'fuzz.$cmd' }));
    assert.equal(num(f.replies[0]?.documents[0]?.code), 352);
  });

  it('zlib-compressed commands are answered compressed', async () => {
    const r = await oneShot(opCompressed(opMsgCommand({ ping: 1, $db: 'admin' }), { compressorId: 2 }));
    assert.equal(r.replies[0]?.compressorId, 2);
    assert.equal(num(r.replies[0]?.documents[0]?.ok), 1);
  });

  it('wrong types in command fields get TypeMismatch; unknown fields IDLUnknownField', async () => {
    const db = client.db('fuzz');
    await assert.rejects(db.command({ find: 'kept', limit: 'x' }), { code: 14 });
    await assert.rejects(db.command({ find: 'kept', filter: 5 }), { code: 14 });
    await assert.rejects(db.command({ insert: 'kept', documents: 5 }), { code: 14 });
    await assert.rejects(db.command({ find: 'kept', frobnicate: 1 }), { code: 40415 });
    await assert.rejects(db.command({ find: 'kept', limit: -1 }), { code: 51024 });
  });

  it('random and mutated frames never take the server or the data down', async () => {
    const valid = [
      opMsgCommand({ ping: 1, $db: 'admin' }),
      opMsgCommand({ find: 'kept', filter: { _id: { $gt: 5 } }, $db: 'fuzz' }),
      opMsgCommand({ insert: 'scratch', documents: [{ a: 1 }], $db: 'fuzz' }),
      opMsg({ sections: [{ kind: 0, body: { insert: 'scratch', $db: 'fuzz' } }, { kind: 1, identifier: 'documents', documents: [{ b: 2 }] }] }),
      opQuery({ query: { isMaster: 1 } }),
      opCompressed(opMsgCommand({ ping: 1, $db: 'admin' }), { compressorId: 2 }),
    ];
    const mutated = fc
      .tuple(fc.constantFrom(...valid), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), fc.option(fc.nat(), { nil: undefined }))
      .map(([frame, flips, cut]) => {
        const b = Buffer.from(frame);
        for (const [pos, byte] of flips) b[pos % b.length] = byte;
        return cut === undefined ? b : b.subarray(0, Math.max(1, cut % b.length));
      });
    const garbage = fc.uint8Array({ minLength: 1, maxLength: 300 }).map((a) => Buffer.from(a));
    const framedGarbage = fc.uint8Array({ minLength: 0, maxLength: 200 }).chain((body) =>
      fc.constantFrom(1, 2004, 2012, 2013, 2002, 9999).map((op) => Buffer.concat([header(16 + body.length, 7, 0, op), Buffer.from(body)])),
    );
    await fc.assert(
      fc.asyncProperty(fc.oneof(mutated, garbage, framedGarbage), async (bytes) => {
        const r = await oneShot(bytes, 1, 100);
        for (const reply of r.replies) {
          const doc = reply.documents[0];
          assert.ok(doc, 'a reply carries a document');
          if (num(doc.ok) === 0) {
            assert.equal(typeof num(doc.code), 'number');
            assert.equal(typeof doc.codeName, 'string');
            assert.equal(typeof doc.errmsg, 'string');
          }
        }
      }),
      { numRuns: 250 },
    );
    // The server is alive and the data intact, read by a normal client.
    assert.equal((await client.db('admin').command({ ping: 1 })).ok, 1);
    const back = await coll.find({ _id: { $gte: 0 } }).sort({ _id: 1 }).toArray();
    assert.deepEqual(back, written);
  });
});
