/**
 * Property tests: whatever bytes arrive, the wire layer either decodes them or throws a
 * DossierError (WireError from decodeMessage/FrameReader), and always returns promptly.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DossierError } from '../../../src/base/index.js';
import { Binary, Code, Int32, Long, encodeDocument, type Document } from '../../../src/bson/index.js';
import { FrameReader, WireError, decodeMessage, validateBsonDocument } from '../../../src/wire/index.js';
import { deeplyNestedBson, opCompressed, opMsg, opMsgCommand, opQuery } from './frames.js';

const LIMITS = { maxDepth: 200, maxSizeBytes: 16 * 1024 * 1024 + 16 * 1024 };
const NUM_RUNS = 3000;

/** Runs f; anything thrown must be a DossierError (and a WireError when `wire`). */
function onlyDossierErrors(f: () => unknown, wire = true): void {
  try {
    f();
  } catch (e) {
    if (wire ? !(e instanceof WireError) : !(e instanceof DossierError)) {
      throw new Error(`threw a non-DossierError: ${e instanceof Error ? `${e.name}: ${e.message}\n${e.stack}` : String(e)}`);
    }
  }
}

const seedDocument: Document = {
  insert: 'coll', ordered: true, n: new Int32(3), l: Long.fromNumber(1), s: 'héllo', bin: new Binary(Buffer.from([1, 2, 3]), 2),
  nested: { a: [1, { b: [null, true, 1.5] }] }, code: new Code('x', { y: 1 }), $db: 'test',
};

const SEEDS: Buffer[] = [
  opMsg({ sections: [{ kind: 0, body: seedDocument }] }),
  opMsg({ sections: [{ kind: 0, body: { insert: 'c', $db: 't' } }, { kind: 1, identifier: 'documents', documents: [{ _id: 1 }, seedDocument] }], checksum: true }),
  opMsg({ flags: 2, sections: [{ kind: 1, identifier: 'updates', documents: [{ q: {}, u: { $set: { a: 1 } } }] }, { kind: 0, body: { update: 'c', $db: 't' } }] }),
  opMsg({ sections: [{ kind: 0, body: deeplyNestedBson(190) }] }),
  opQuery({ query: { $query: { isMaster: 1 }, $readPreference: { mode: 'secondary' } }, returnFieldsSelector: { a: 1 } }),
  opCompressed(opMsg({ sections: [{ kind: 0, body: seedDocument }] }), { compressorId: 2 }),
  opCompressed(opQuery(), { compressorId: 0 }),
];

type Mutation =
  | { op: 'set'; at: number; value: number }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'delete'; at: number; count: number }
  | { op: 'int32'; at: number; value: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 8 }) }),
  fc.record({
    op: fc.constant('int32' as const),
    at: fc.nat(),
    value: fc.oneof(fc.integer({ min: -10, max: 300 }), fc.constantFrom(-1, 0x7fffffff, -0x80000000, 48_000_000, 16 * 1024 * 1024)),
  }),
);

function mutate(seed: Buffer, mutations: Mutation[], fixLength: boolean): Buffer {
  let b = Buffer.from(seed);
  for (const m of mutations) {
    const at = b.length === 0 ? 0 : m.at % b.length;
    switch (m.op) {
      case 'set':
        if (b.length > 0) b[at] = m.value;
        break;
      case 'insert':
        b = Buffer.concat([b.subarray(0, at), Buffer.from(m.bytes), b.subarray(at)]);
        break;
      case 'delete':
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.count)]);
        break;
      case 'int32':
        if (b.length >= 4) b.writeInt32LE(m.value | 0, Math.min(at, b.length - 4));
        break;
    }
  }
  if (fixLength && b.length >= 4) b.writeInt32LE(b.length, 0);
  return b;
}

/** Each property must finish well within this: a hang fails the test instead of stalling CI. */
const BOUND = { timeout: 60_000 };

describe('wire fuzzing (fast-check)', () => {
  it('decodeMessage throws only WireError on random frames', BOUND, () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 400 }), fc.constantFrom(2013, 2004, 2012, 1, 2002), (bytes, opCode) => {
        const frame = Buffer.from(bytes);
        frame.writeInt32LE(frame.length, 0);
        frame.writeInt32LE(opCode, 12);
        onlyDossierErrors(() => decodeMessage(frame));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('decodeMessage throws only WireError on mutated valid frames', BOUND, () => {
    fc.assert(
      fc.property(fc.constantFrom(...SEEDS), fc.array(mutationArb, { minLength: 1, maxLength: 6 }), fc.boolean(), (seed, mutations, fixLength) => {
        const frame = mutate(seed, mutations, fixLength);
        onlyDossierErrors(() => {
          const reader = new FrameReader();
          reader.push(frame);
          for (const f of reader.frames()) decodeMessage(f);
        });
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('FrameReader never throws anything but WireError, and frames add up, whatever the chunking', BOUND, () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...SEEDS), { minLength: 1, maxLength: 5 }),
        fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 30 }),
        fc.option(fc.uint8Array({ minLength: 1, maxLength: 40 }), { nil: undefined }),
        (frames, cuts, garbage) => {
          const stream = Buffer.concat([...frames, ...(garbage ? [Buffer.from(garbage)] : [])]);
          const reader = new FrameReader();
          const out: Buffer[] = [];
          let failed = false;
          let i = 0;
          let c = 0;
          while (i < stream.length && !failed) {
            const size = cuts[c++ % cuts.length]!;
            reader.push(stream.subarray(i, i + size));
            i += size;
            try {
              for (const f of reader.frames()) out.push(Buffer.from(f));
            } catch (e) {
              assert.ok(e instanceof WireError);
              assert.equal(e.closeConnection, true);
              failed = true;
            }
          }
          // Every well-formed frame before any garbage comes out intact and in order.
          assert.deepEqual(out.slice(0, frames.length), frames);
          for (const f of out) onlyDossierErrors(() => decodeMessage(f));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('validateBsonDocument throws only DossierError on mutated documents, and agrees with the decoder', BOUND, () => {
    const base = encodeDocument(seedDocument);
    fc.assert(
      fc.property(fc.array(mutationArb, { minLength: 1, maxLength: 4 }), fc.boolean(), (mutations, fixLength) => {
        const bytes = mutate(base, mutations, fixLength);
        let length: number | undefined;
        onlyDossierErrors(() => {
          length = validateBsonDocument(bytes, LIMITS);
        }, false);
        // Whatever the validator lets through, the decoder behind it must not throw anything else.
        if (length !== undefined) onlyDossierErrors(() => decodeMessage(opMsgCommand(bytes.subarray(0, length))));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('validateBsonDocument accepts whatever the bson encoder produces', BOUND, () => {
    const value = fc.letrec((tie) => ({
      v: fc.oneof(
        { depthSize: 'small' },
        fc.string(),
        fc.double(),
        fc.integer().map((n) => new Int32(n)),
        fc.boolean(),
        fc.constant(null),
        fc.uint8Array({ maxLength: 20 }).map((b) => new Binary(b)),
        fc.array(tie('v'), { maxLength: 4 }),
        fc.dictionary(fc.string({ maxLength: 6 }).filter((k) => !k.includes('\0')), tie('v'), { maxKeys: 4 }),
      ),
    }));
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 6 }).filter((k) => !k.includes('\0')), value.v, { maxKeys: 6 }), (doc) => {
        const bytes = encodeDocument(doc as Document);
        assert.equal(validateBsonDocument(bytes, LIMITS), bytes.length);
      }),
      { numRuns: 1000 },
    );
  });
});
