/**
 * The session catalog: implicit sessions, endSessions/killSessions/refreshSessions, the
 * transaction lifetime reaper, session expiry and maxSessions. Time moves with a ManualClock.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Dossier } from '../../src/index.js';
import { ManualClock } from '../../src/platform/index.js';
import { Long, UUID } from '../../src/bson/index.js';
import { RawCommander } from '../helpers/raw-client.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyDoc = any;
const num = (v: unknown): number => Number((v as { valueOf(): unknown })?.valueOf?.() ?? v);
const t = (n: number): Long => Long.fromNumber(n);

describe('logical sessions', () => {
  let clock: ManualClock;
  let dossier: Dossier;
  let r: RawCommander;
  before(async () => {
    clock = new ManualClock(Date.now());
    dossier = await Dossier.create({ clock });
    r = await RawCommander.open(dossier.port);
  });
  after(async () => {
    r.close();
    await dossier.stop();
  });

  it('commands create implicit sessions; startSession returns an id; endSessions ends them', async () => {
    const before = dossier.instance.sessions.size;
    const lsid = { id: new UUID() };
    await r.run('s', { find: 'c', lsid });
    assert.equal(dossier.instance.sessions.size, before + 1);
    const started: AnyDoc = await r.run('admin', { startSession: 1 });
    assert.equal(started.id.id.sub_type, 4);
    assert.equal(num(started.timeoutMinutes), 30);
    assert.equal(dossier.instance.sessions.size, before + 2);
    await r.run('admin', { endSessions: [lsid, { id: started.id.id }] });
    assert.equal(dossier.instance.sessions.size, before);
  });

  it('ending or killing a session aborts its transaction: nothing it wrote becomes visible', async () => {
    for (const command of ['endSessions', 'killSessions']) {
      const lsid = { id: new UUID() };
      await r.run('s', { insert: command, documents: [{ _id: 1 }], lsid, txnNumber: t(1), startTransaction: true, autocommit: false });
      await r.run('admin', { [command]: [lsid] });
      const commit: AnyDoc = await r.run('admin', { commitTransaction: 1, lsid, txnNumber: t(1), autocommit: false });
      assert.equal(num(commit.ok), 0, command);
      const found: AnyDoc = await r.run('s', { find: command });
      assert.deepEqual(found.cursor.firstBatch, [], command);
    }
  });

  it('killAllSessionsByPattern with an lsid pattern kills only that session', async () => {
    const a = { id: new UUID() };
    const b = { id: new UUID() };
    await r.run('s', { insert: 'pk', documents: [{ _id: 'a' }], lsid: a, txnNumber: t(1), startTransaction: true, autocommit: false });
    await r.run('s', { insert: 'pk', documents: [{ _id: 'b' }], lsid: b, txnNumber: t(1), startTransaction: true, autocommit: false });
    await r.run('admin', { killAllSessionsByPattern: [{ lsid: a }] });
    assert.equal(num((await r.run('admin', { commitTransaction: 1, lsid: a, txnNumber: t(1), autocommit: false })).ok), 0);
    assert.equal(num((await r.run('admin', { commitTransaction: 1, lsid: b, txnNumber: t(1), autocommit: false })).ok), 1);
  });

  it('a transaction past transactionLifetimeLimitSeconds is aborted by the reaper; the parameter is settable', async () => {
    const set: AnyDoc = await r.run('admin', { setParameter: 1, transactionLifetimeLimitSeconds: 5 });
    assert.equal(num(set.was), 60);
    const lsid = { id: new UUID() };
    await r.run('s', { insert: 'reaped', documents: [{ _id: 1 }], lsid, txnNumber: t(1), startTransaction: true, autocommit: false });
    clock.advance(3_000);
    await r.run('s', { find: 'reaped', lsid, txnNumber: t(1), autocommit: false });
    clock.advance(3_000);
    const late: AnyDoc = await r.run('s', { find: 'reaped', lsid, txnNumber: t(1), autocommit: false });
    assert.equal(num(late.code), 251);
    assert.deepEqual(late.errorLabels, ['TransientTransactionError']);
    await r.run('admin', { setParameter: 1, transactionLifetimeLimitSeconds: 60 });
  });

  it('an idle session expires after localLogicalSessionTimeoutMinutes', async () => {
    const lsid = { id: new UUID() };
    await r.run('s', { find: 'c', lsid });
    assert.ok(dossier.instance.sessions.get({ id: lsid.id, uid: dossier.instance.sessions.all()[0]!.lsid.uid }));
    const before = dossier.instance.sessions.size;
    clock.advance(31 * 60_000);
    assert.ok(dossier.instance.sessions.size < before);
  });

  it('refreshSessions keeps a session alive', async () => {
    const lsid = { id: new UUID() };
    await r.run('s', { find: 'c', lsid });
    for (let i = 0; i < 4; i++) {
      clock.advance(10 * 60_000);
      await r.run('admin', { refreshSessions: [lsid] });
    }
    assert.ok(dossier.instance.sessions.all().some((s) => s.lsid.id.toString('hex') === lsid.id.toHexString().replace(/-/g, '')));
  });
});

describe('maxSessions', () => {
  it('refuses new sessions past the limit with TooManyLogicalSessions', async () => {
    const dossier = await Dossier.create({ setParameter: { maxSessions: 3 } });
    const r = await RawCommander.open(dossier.port);
    try {
      for (let i = 0; i < 3; i++) await r.run('s', { find: 'c', lsid: { id: new UUID() } });
      const refused: AnyDoc = await r.run('s', { find: 'c', lsid: { id: new UUID() } });
      assert.equal(num(refused.code), 261);
      assert.equal(refused.codeName, 'TooManyLogicalSessions');
    } finally {
      r.close();
      await dossier.stop();
    }
  });
});

describe('config.system.sessions', () => {
  it('holds the cached sessions with lastUse after a refresh, and drops ended ones', async () => {
    const dossier = await Dossier.create();
    const r = await RawCommander.open(dossier.port);
    try {
      const a = { id: new UUID() };
      const b = { id: new UUID() };
      await r.run('s', { find: 'c', lsid: a });
      await r.run('s', { find: 'c', lsid: b });
      await r.run('admin', { refreshLogicalSessionCacheNow: 1 });
      let docs: AnyDoc = await r.run('config', { find: 'system.sessions' });
      const ids = (docs.cursor.firstBatch as AnyDoc[]).map((d) => d._id.id.toString('hex'));
      assert.ok(ids.includes(a.id.toHexString().replace(/-/g, '')));
      assert.ok((docs.cursor.firstBatch as AnyDoc[]).every((d) => d.lastUse instanceof Date));
      await r.run('admin', { endSessions: [a] });
      await r.run('admin', { refreshLogicalSessionCacheNow: 1 });
      docs = await r.run('config', { find: 'system.sessions' });
      const after = (docs.cursor.firstBatch as AnyDoc[]).map((d) => d._id.id.toString('hex'));
      assert.ok(!after.includes(a.id.toHexString().replace(/-/g, '')));
      assert.ok(after.includes(b.id.toHexString().replace(/-/g, '')));
      const indexes: AnyDoc = await r.run('config', { listIndexes: 'system.sessions' });
      assert.ok((indexes.cursor.firstBatch as AnyDoc[]).some((i) => i.name === 'lsidTTLIndex' && num(i.expireAfterSeconds) === 1800));
    } finally {
      r.close();
      await dossier.stop();
    }
  });
});
