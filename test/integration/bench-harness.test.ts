/**
 * The bench's own parts, without PostgreSQL or timing: the driver-ceiling server is a replica-set
 * primary to the official driver (handshake and streaming hello) and its canned replies make
 * findOne, insertOne, updateOne and a transaction succeed; the lean client's patched frames
 * round-trip; the result writer computes ratios and goals from the rows it is given.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MongoClient } from 'mongodb';
import { CeilingServer, CEILING_SET_NAME } from '../../bench/lib/ceiling.js';
import { LeanConnection } from '../../bench/lib/lean-client.js';
import { computeRatios, toJsonLines, toMarkdown, type ResultRow, type RunInfo, type ThroughputRow } from '../../bench/lib/report.js';
import { FrameTemplate } from '../../bench/lib/wire.js';

describe('bench: the driver-ceiling server', () => {
  let ceiling: CeilingServer;
  let port: number;
  let client: MongoClient;
  let awaitedHeartbeats = 0;
  let failedHeartbeats = 0;
  let topologyType = '';

  before(async () => {
    ceiling = new CeilingServer();
    port = await ceiling.listen(0);
    // The smallest heartbeat the driver allows, so a streaming hello completes within the test.
    client = new MongoClient(ceiling.uri, { serverSelectionTimeoutMS: 3000, heartbeatFrequencyMS: 500 });
    client.on('serverHeartbeatSucceeded', (e) => {
      if (e.awaited) awaitedHeartbeats++;
    });
    client.on('serverHeartbeatFailed', () => failedHeartbeats++);
    client.on('topologyDescriptionChanged', (e) => (topologyType = e.newDescription.type));
    await client.connect();
  });

  after(async () => {
    await client.close();
    await ceiling.close();
  });

  it('answers hello as the primary of a replica set', async () => {
    const hello = await client.db('admin').command({ hello: 1 });
    assert.equal(hello.setName, CEILING_SET_NAME);
    assert.equal(hello.isWritablePrimary, true);
    assert.equal(hello.primary, `127.0.0.1:${port}`);
    assert.ok(hello.topologyVersion?.processId, 'topologyVersion.processId');
    assert.ok(hello.logicalSessionTimeoutMinutes > 0, 'sessions are supported');
    assert.equal(topologyType, 'ReplicaSetWithPrimary');
  });

  it('round-trips insertOne, findOne, updateOne and a snapshot transaction', async () => {
    const coll = client.db('bench').collection<{ _id: number; balance?: number }>('accounts');
    const inserted = await coll.insertOne({ _id: 7, balance: 1 });
    assert.equal(inserted.acknowledged, true);
    assert.equal(inserted.insertedId, 7);
    const found = await coll.findOne({ _id: 7 });
    assert.equal(found?._id, 7, 'the canned document echoes the filter _id');
    const updated = await coll.updateOne({ _id: 7 }, { $inc: { balance: 1 } });
    assert.equal(updated.matchedCount, 1);
    const session = client.startSession();
    try {
      let attempts = 0;
      await session.withTransaction(
        async () => {
          attempts++;
          const a = await coll.findOne({ _id: 1 }, { session });
          await coll.updateOne({ _id: 1 }, { $set: { balance: (a?.balance ?? 0) - 1 } }, { session });
        },
        { readConcern: { level: 'snapshot' }, writeConcern: { w: 'majority' } },
      );
      assert.equal(attempts, 1);
    } finally {
      await session.endSession();
    }
    assert.equal(ceiling.counts.get('commitTransaction'), 1);
  });

  it('holds a streaming hello for maxAwaitTimeMS and keeps the stream open', async () => {
    const deadline = Date.now() + 5000;
    while (awaitedHeartbeats < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.ok(awaitedHeartbeats >= 2, `awaited heartbeats: ${awaitedHeartbeats}`);
    assert.equal(failedHeartbeats, 0);
  });

  it('answers the lean client\'s patched frames', async () => {
    const lean = await LeanConnection.open(port);
    try {
      const find = new FrameTemplate(['int32', 'int64'], ([id, txn]) => ({ find: 'accounts', filter: { _id: id }, txnNumber: txn, $db: 'bench' }));
      const reply = await lean.command(find.frame(lean.requestId(), [42, 9]));
      const batch = (reply.cursor as { firstBatch: Array<{ _id: number }> }).firstBatch;
      assert.equal(batch[0]?._id, 42);
    } finally {
      lean.close();
    }
  });
});

describe('bench: the result writer', () => {
  const row = (target: ThroughputRow['target'], client: ThroughputRow['client'], clients: number, opsPerSec: number, p99Ms: number): ThroughputRow => ({
    kind: 'throughput', workload: 'bank', op: 'transfer', target, client, label: target, clients, ops: opsPerSec, seconds: 1, opsPerSec, p50Ms: p99Ms / 2, p99Ms, retries: 0,
  });
  const rows: ResultRow[] = [
    row('dossier-durable', 'lean', 1, 900, 3),
    row('postgres', 'pg', 1, 1200, 2),
    row('dossier-durable', 'lean', 8, 5000, 4),
    row('postgres', 'pg', 8, 4000, 4),
    row('dossier-durable', 'lean', 32, 100, 1),
  ];
  const spec = {
    name: 'durable / pg', workload: 'bank',
    numerator: { target: 'dossier-durable', client: 'lean' }, denominator: { target: 'postgres', client: 'pg' },
    goalByClients: { 1: 1.0, 8: 1.0 }, p99RatioMax: 1.5,
  } as const;

  it('divides matching rows, checks the goals, and skips rows without a peer', () => {
    const ratios = computeRatios(rows, [spec]);
    assert.equal(ratios.length, 2, 'no PostgreSQL row at 32 clients, so no ratio');
    const [one, eight] = ratios;
    assert.equal(one!.clients, 1);
    assert.equal(one!.ratio, 0.75);
    assert.equal(one!.p99Ratio, 1.5);
    assert.equal(one!.met, false, '0.75× misses a 1.0× goal');
    assert.equal(eight!.ratio, 1.25);
    assert.equal(eight!.p99Ratio, 1);
    assert.equal(eight!.met, true);
  });

  it('renders the ratios in Markdown and every row in JSON lines', () => {
    const ratios = computeRatios(rows, [spec]);
    const info: RunInfo = { date: '2026-01-01T00:00:00Z', nproc: 2, cpuModel: 'test', node: '20', loadAvgStart: [0, 0, 0], loadAvgEnd: [0, 0, 0], options: 'npm run bench' };
    const md = toMarkdown(info, rows, ratios);
    assert.match(md, /\| durable \/ pg \| transfer \| 1 \| 900 \/ 1,200 \| 0\.75× \| 1\.50× \| ≥ 1\.00×, p99 ≤ 1\.5× ✗ \|/);
    assert.match(md, /\| durable \/ pg \| transfer \| 8 \| 5,000 \/ 4,000 \| 1\.25× \| 1\.00× \| ≥ 1\.00×, p99 ≤ 1\.5× ✓ \|/);
    const lines = toJsonLines(info, rows, ratios).trim().split('\n').map((l) => JSON.parse(l) as { kind: string });
    assert.deepEqual(lines.map((l) => l.kind), ['run', ...rows.map((r) => r.kind), 'ratio', 'ratio']);
  });
});
