/**
 * Replica-set status, in-flight operations and sessions through the real driver:
 * replSetGetStatus, replSetGetConfig, currentOp, killOp, endSessions.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Binary, Long, MongoClient, UUID, type Db, type Document } from 'mongodb';
import { failsWith, startDossier, type Harness } from '../helpers/dossier.js';

let h: Harness;
let admin: Db;


before(async () => {
  h = await startDossier();
  admin = h.client.db('admin');
});
after(async () => {
  await h.stop();
});

describe('replSetGetStatus', () => {
  it('shows this node as the only member and primary', async () => {
    await h.client.db('rs').collection('c').insertOne({ x: 1 });
    const r = await admin.command({ replSetGetStatus: 1 });
    const host = h.dossier.instance.config.host;
    assert.equal(r.set, 'rs0');
    assert.equal(r.myState, 1);
    assert.equal(r.term, 1);
    assert.ok(r.date instanceof Date);
    assert.equal(r.members.length, 1);
    const m = r.members[0];
    assert.equal(m._id, 0);
    assert.equal(m.name, host);
    assert.equal(m.health, 1);
    assert.equal(m.state, 1);
    assert.equal(m.stateStr, 'PRIMARY');
    assert.equal(m.self, true);
    assert.ok(m.optimeDate instanceof Date);
    // The member's optime is the newest commit, the same one the reply's operationTime names.
    assert.equal(m.optime.ts.toString(), r.operationTime.toString());
    assert.equal(r.optimes.appliedOpTime.ts.toString(), m.optime.ts.toString());
    assert.equal(r.optimes.lastCommittedOpTime.ts.toString(), m.optime.ts.toString());
  });

  it('advances its optime with writes', async () => {
    const a = await admin.command({ replSetGetStatus: 1 });
    await h.client.db('rs').collection('c').insertOne({ x: 2 });
    const b = await admin.command({ replSetGetStatus: 1 });
    assert.ok(b.members[0].optime.ts.gt(a.members[0].optime.ts));
  });

  it('runs only against admin', async () => {
    await failsWith(h.client.db('test').command({ replSetGetStatus: 1 }), 13, /admin database/);
  });
});

describe('replSetGetConfig', () => {
  it('returns the one-member configuration', async () => {
    const r = await admin.command({ replSetGetConfig: 1 }, { promoteLongs: false });
    const c = r.config;
    assert.equal(c._id, 'rs0');
    assert.equal(c.version, 1);
    assert.equal(c.term, 1);
    assert.ok(c.protocolVersion instanceof Long);
    assert.equal(c.writeConcernMajorityJournalDefault, true);
    assert.equal(c.members.length, 1);
    const m = c.members[0];
    assert.equal(m.host, h.dossier.instance.config.host);
    assert.equal(m.arbiterOnly, false);
    assert.equal(m.buildIndexes, true);
    assert.equal(m.hidden, false);
    assert.equal(m.priority, 1);
    assert.deepEqual(m.tags, {});
    assert.ok(m.secondaryDelaySecs instanceof Long);
    assert.equal(m.votes, 1);
    assert.equal(c.settings.heartbeatIntervalMillis, 2000);
    const again = await admin.command({ replSetGetConfig: 1 });
    assert.equal(again.config.settings.replicaSetId.toHexString(), c.settings.replicaSetId.toHexString(), 'replicaSetId is stable');
  });

  it('adds commitmentStatus when asked', async () => {
    const r = await admin.command({ replSetGetConfig: 1, commitmentStatus: true });
    assert.equal(r.commitmentStatus, true);
    await failsWith(admin.command({ replSetGetConfig: 1, bogus: 1 }), 40415);
  });
});

describe('currentOp and killOp', () => {
  it('lists itself as an active operation', async () => {
    const r = await admin.command({ currentOp: 1 });
    const self = r.inprog.find((e: Document) => e.command?.currentOp === 1);
    assert.ok(self, JSON.stringify(r.inprog));
    assert.equal(self.type, 'op');
    assert.equal(self.active, true);
    assert.equal(typeof self.opid, 'number');
    assert.match(self.desc, /^conn\d+$/);
    assert.equal(self.desc, `conn${self.connectionId}`);
    assert.match(self.client, /^127\.0\.0\.1:\d+$/);
    assert.equal(self.ns, 'admin.$cmd');
    assert.equal(self.op, 'command');
    assert.equal(typeof self.currentOpTime, 'string');
    assert.equal(self.clientMetadata.driver.name, 'nodejs');
  });

  it('sees and kills a waiting operation from another client', async () => {
    const other = new MongoClient(h.uri, { serverSelectionTimeoutMS: 5000 });
    await other.connect();
    try {
      const hello = await other.db('admin').command({ hello: 1 });
      const waiting = other.db('admin').command({ hello: 1, topologyVersion: hello.topologyVersion, maxAwaitTimeMS: 1500 });
      let entry: Document | undefined;
      for (let i = 0; i < 50 && !entry; i++) {
        const r = await admin.command({ currentOp: 1, 'command.hello': 1 });
        entry = r.inprog[0];
        if (!entry) await new Promise((res) => setTimeout(res, 20));
      }
      assert.ok(entry, 'the waiting hello is in flight');
      assert.equal(entry.command.maxAwaitTimeMS, 1500);
      const filtered = await admin.command({ currentOp: 1, opid: entry.opid });
      assert.equal(filtered.inprog.length, 1);
      const killed = await admin.command({ killOp: 1, op: entry.opid });
      assert.equal(killed.info, 'attempting to kill op');
      const after = await admin.command({ currentOp: 1, opid: entry.opid });
      assert.equal(after.inprog[0]?.killPending, true);
      await waiting.catch(() => undefined);
    } finally {
      await other.close();
    }
  });

  it('filters with match expressions and shows idle connections with $all', async () => {
    const none = await admin.command({ currentOp: 1, ns: 'no.such' });
    assert.deepEqual(none.inprog, []);
    const active = await admin.command({ currentOp: 1, active: true, secs_running: { $gte: 0 } });
    assert.ok(active.inprog.length >= 1);
    const other = new MongoClient(h.uri, { serverSelectionTimeoutMS: 5000 });
    await other.connect();
    try {
      await other.db('admin').command({ ping: 1 });
      const all = await admin.command({ currentOp: 1, $all: true });
      const idle = all.inprog.filter((e: Document) => e.active === false);
      assert.ok(idle.length >= 1, 'the idle connections of the other client');
      assert.ok(idle.every((e: Document) => e.opid === undefined));
      const own = await admin.command({ currentOp: 1, $ownOps: true });
      assert.ok(own.inprog.length >= 1);
    } finally {
      await other.close();
    }
  });

  it('killOp answers the same for an unknown op and checks its argument', async () => {
    const r = await admin.command({ killOp: 1, op: 999999 });
    assert.equal(r.info, 'attempting to kill op');
    await failsWith(admin.command({ killOp: 1 }), 4, 'Missing expected field "op"');
    await failsWith(admin.command({ killOp: 1, op: 'x' }), 14);
    await failsWith(admin.command({ killOp: 1, op: 1.5 }), 2);
    await failsWith(h.client.db('test').command({ killOp: 1, op: 1 }), 13);
    await failsWith(h.client.db('test').command({ currentOp: 1 }), 13);
  });
});

describe('endSessions', () => {
  it('accepts what drivers send', async () => {
    const r = await admin.command({ endSessions: [{ id: new UUID() }, { id: new UUID() }] });
    assert.equal(r.ok, 1);
    assert.equal((await admin.command({ endSessions: [] })).ok, 1);
    const c = new MongoClient(h.uri, { serverSelectionTimeoutMS: 5000 });
    await c.connect();
    const s = c.startSession();
    await c.db('es').collection('c').insertOne({ a: 1 }, { session: s });
    await s.endSession();
    await c.close(); // sends endSessions with the pooled session
  });

  it('validates the sessions as mongod', async () => {
    await failsWith(admin.command({ endSessions: 'invalid' }), 14, "BSON field 'endSessions.endSessions' is the wrong type 'string', expected type 'array'");
    await failsWith(admin.command({ endSessions: [{ id: null }] }), 40414, "BSON field 'endSessions.endSessionsFromClient.id' is missing but a required field");
    await failsWith(admin.command({ endSessions: [{ id: 'invalid' }] }), 14, "BSON field 'endSessions.endSessionsFromClient.id' is the wrong type 'string', expected type 'binData'");
    await failsWith(admin.command({ endSessions: [{ id: new Binary(Buffer.alloc(16), 0) }] }), 14);
    await failsWith(admin.command({ endSessions: [{ id: new UUID(), bogus: 1 }] }), 40415);
    await failsWith(admin.command({ endSessions: [1] }), 14);
    await failsWith(admin.command({ endSessions: null }), 10065);
  });
});
