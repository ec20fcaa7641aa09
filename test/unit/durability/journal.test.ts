/**
 * The journal on its own, on a real directory: segments are zero-filled ahead of the last record
 * (so a commit's data sync rarely has to commit a new file size), and an all-zero tail, which a
 * crash leaves behind, is free space on reopening rather than damage.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { JOURNAL_PREALLOCATE_BYTES, Journal, JournalCorruptionError } from '../../../src/durability/index.js';
import { nodeDisk, systemClock } from '../../../src/platform/index.js';

function segmentPath(dir: string): string {
  const names = readdirSync(join(dir, 'journal')).filter((n) => n.startsWith('oplog.')).sort();
  return join(dir, 'journal', names.at(-1)!);
}

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'dossier-journal-'));
  try {
    await body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const payload = (i: number): Buffer => Buffer.from(`record ${i} `.repeat(20));

describe('journal: preallocated segments', () => {
  it('grows the segment in zero-filled steps while writing, and leaves only records after a clean close', async () => {
    await withDir(async (dir) => {
      const { journal } = await Journal.open(nodeDisk, dir, systemClock);
      for (let i = 1; i <= 10; i++) journal.append(i, [payload(i)]);
      await journal.whenDurable();
      assert.equal(statSync(segmentPath(dir)).size, JOURNAL_PREALLOCATE_BYTES, 'zero-filled ahead of the records');
      await journal.close();
      const bytes = readFileSync(segmentPath(dir));
      assert.ok(bytes.length < 10 * (16 + payload(10).length) + 1, `close cut the zeros (${bytes.length} bytes)`);
      const again = await Journal.open(nodeDisk, dir, systemClock);
      assert.deepEqual(again.contents.records.map((r) => r.ts), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      assert.equal(again.contents.cutTail, undefined);
      await again.journal.close();
    });
  });

  it('reads a zero tail left by a crash as free space, resumes right after the last record, and keeps what follows', async () => {
    await withDir(async (dir) => {
      const { journal } = await Journal.open(nodeDisk, dir, systemClock);
      for (let i = 1; i <= 3; i++) journal.append(i, [payload(i)]);
      await journal.close();
      // What a kill leaves: the records, then zero-filled space never written.
      appendFileSync(segmentPath(dir), Buffer.alloc(3 * 1024 * 1024));
      const second = await Journal.open(nodeDisk, dir, systemClock);
      assert.deepEqual(second.contents.records.map((r) => r.ts), [1, 2, 3]);
      assert.equal(second.contents.cutTail, undefined, 'free space is not a torn write');
      second.journal.append(4, [payload(4)]);
      await second.journal.close();
      const third = await Journal.open(nodeDisk, dir, systemClock);
      assert.deepEqual(third.contents.records.map((r) => r.ts), [1, 2, 3, 4]);
      await third.journal.close();
    });
  });

  it('still refuses a damaged record that has records after it, zero tail or not', async () => {
    await withDir(async (dir) => {
      const { journal } = await Journal.open(nodeDisk, dir, systemClock);
      for (let i = 1; i <= 3; i++) journal.append(i, [payload(i)]);
      await journal.close();
      const path = segmentPath(dir);
      const bytes = readFileSync(path);
      const second = 16 + bytes.readUInt32LE(0);
      bytes[second + 20] ^= 0xff;
      writeFileSync(path, Buffer.concat([bytes, Buffer.alloc(4096)]));
      await assert.rejects(Journal.open(nodeDisk, dir, systemClock), (e: Error) => e instanceof JournalCorruptionError && e.message.includes(`offset ${second}`));
    });
  });
});
