/** The fail-point registry (src/commands/failpoints.ts) against mongod's documented semantics. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BSON } from 'mongodb';
import { DossierError } from '../../src/base/index.js';
import { FailPointError, FailPointRegistry, appNameOf, requestCloseAfterCommand, sleepMs, takeCloseRequest } from '../../src/commands/failpoints.js';
import { ManualClock, type RandomSource } from '../../src/platform/index.js';

const random: RandomSource = { bytes: (n) => new Uint8Array(n), int: () => 0 };
const target = (commandName: string, extra: Partial<{ namespace: string; appName: string; aliases: string[]; internalClient: boolean }> = {}) => ({
  commandName,
  namespace: extra.namespace ?? 'db.coll',
  appName: extra.appName,
  aliases: extra.aliases ?? [],
  internalClient: extra.internalClient ?? false,
});

describe('failCommand', () => {
  it('{times: n} fails n matching commands, then turns itself off; count reports entries', () => {
    const r = new FailPointRegistry(random);
    assert.equal(r.configure({ configureFailPoint: 'failCommand', mode: { times: new BSON.Int32(2) }, data: { failCommands: ['insert'], errorCode: 91 } }), 0);
    assert.equal(r.beforeCommand(target('find')), undefined, 'other commands are untouched and do not consume times');
    const a = r.beforeCommand(target('insert'));
    assert.ok(a?.error instanceof FailPointError);
    assert.equal(a.error.code, 91);
    assert.equal(a.error.errmsg, "Failing command via 'failCommand' failpoint");
    assert.ok(r.beforeCommand(target('insert'))?.error);
    assert.equal(r.beforeCommand(target('insert')), undefined);
    assert.equal(r.isEnabled('failCommand'), false);
    assert.equal(r.configure({ configureFailPoint: 'failCommand', mode: 'off' }), 2);
  });

  it('{skip: n} lets n matching commands through, then stays on', () => {
    const r = new FailPointRegistry(random);
    r.configure({ configureFailPoint: 'failCommand', mode: { skip: 1 }, data: { failCommands: ['find'], errorCode: 2 } });
    assert.equal(r.beforeCommand(target('find')), undefined);
    assert.ok(r.beforeCommand(target('find'))?.error);
    assert.ok(r.beforeCommand(target('find'))?.error);
  });

  it('matches aliases, appName, namespace and spares internal clients and configureFailPoint', () => {
    const r = new FailPointRegistry(random);
    r.configure({ configureFailPoint: 'failCommand', mode: 'alwaysOn', data: { failCommands: ['findandmodify', 'configureFailPoint'], errorCode: 2, appName: 'app1', namespace: 'db.coll' } });
    assert.ok(r.beforeCommand(target('findAndModify', { aliases: ['findandmodify'], appName: 'app1' })));
    assert.equal(r.beforeCommand(target('findAndModify', { aliases: ['findandmodify'], appName: 'other' })), undefined);
    assert.equal(r.beforeCommand(target('findAndModify', { aliases: ['findandmodify'], appName: 'app1', namespace: 'db.other' })), undefined);
    assert.equal(r.beforeCommand(target('findAndModify', { aliases: ['findandmodify'], appName: 'app1', internalClient: true })), undefined);
    assert.equal(r.beforeCommand(target('configureFailPoint', { appName: 'app1' })), undefined);
  });

  it('closeConnection and blockConnection', () => {
    const r = new FailPointRegistry(random);
    r.configure({ configureFailPoint: 'failCommand', mode: { times: 1 }, data: { failCommands: ['ping'], closeConnection: true } });
    assert.equal(r.beforeCommand(target('ping'))?.closeConnection, true);
    r.configure({ configureFailPoint: 'failCommand', mode: { times: 1 }, data: { failCommands: ['ping'], blockConnection: true, blockTimeMS: 50 } });
    const a = r.beforeCommand(target('ping'));
    assert.deepEqual([a?.blockMs, a?.closeConnection, a?.error], [50, false, undefined]);
    r.configure({ configureFailPoint: 'failCommand', mode: { times: 1 }, data: { failCommands: ['ping'], blockConnection: true } });
    assert.equal(r.beforeCommand(target('ping'))?.error?.codeName, 'InvalidOptions');
  });

  it('a writeConcernError-only configuration acts after the command, not before', () => {
    const r = new FailPointRegistry(random);
    const wce = { code: 91, errmsg: 'Replication is being shut down' };
    r.configure({ configureFailPoint: 'failCommand', mode: { times: 1 }, data: { failCommands: ['insert'], writeConcernError: wce, errorLabels: ['RetryableWriteError'] } });
    assert.equal(r.beforeCommand(target('insert')), undefined);
    const after = r.afterCommand(target('insert'));
    assert.deepEqual(after?.writeConcernError, wce);
    assert.deepEqual(after?.labelsOverride, ['RetryableWriteError']);
    assert.equal(r.afterCommand(target('insert')), undefined);
  });

  it('errorLabels ride on the error as an override, even when empty; absent, the server labels it', () => {
    const r = new FailPointRegistry(random);
    r.configure({ configureFailPoint: 'failCommand', mode: 'alwaysOn', data: { failCommands: ['insert'], errorCode: 91, errorLabels: [] } });
    assert.deepEqual(r.beforeCommand(target('insert'))!.error!.labelsOverride, []);
    r.configure({ configureFailPoint: 'failCommand', mode: 'alwaysOn', data: { failCommands: ['insert'], errorCode: 91, errorLabels: ['X'] } });
    assert.deepEqual(r.beforeCommand(target('insert'))!.error!.errorLabels, ['X']);
    r.configure({ configureFailPoint: 'failCommand', mode: 'alwaysOn', data: { failCommands: ['insert'], errorCode: 91 } });
    assert.equal(r.beforeCommand(target('insert'))!.error!.labelsOverride, undefined);
  });

  it('rejects unknown fail points and malformed modes', () => {
    const r = new FailPointRegistry(random);
    assert.throws(() => r.configure({ configureFailPoint: 'noSuchFailPoint', mode: 'alwaysOn' }), (e: DossierError) => e.codeName === 'FailPointSetFailed');
    assert.throws(() => r.configure({ configureFailPoint: 'failCommand', mode: 'sometimes' }), (e: DossierError) => e.codeName === 'BadValue');
    assert.throws(() => r.configure({ configureFailPoint: 'failCommand', mode: { times: -1 } }), (e: DossierError) => e.codeName === 'BadValue');
  });

  it('activationProbability 0 never fires, 1 always does', () => {
    const r = new FailPointRegistry(random);
    r.configure({ configureFailPoint: 'failCommand', mode: { activationProbability: 0 }, data: { failCommands: ['ping'], errorCode: 2 } });
    assert.equal(r.beforeCommand(target('ping')), undefined);
    r.configure({ configureFailPoint: 'failCommand', mode: { activationProbability: 1 }, data: { failCommands: ['ping'], errorCode: 2 } });
    assert.ok(r.beforeCommand(target('ping')));
  });
});

describe('other fail points', () => {
  it('failGetMoreAfterCursorCheckout fails getMore with the given code (InternalError by default)', () => {
    const r = new FailPointRegistry(random);
    r.configure({ configureFailPoint: 'failGetMoreAfterCursorCheckout', mode: { times: 1 }, data: { errorCode: 6 } });
    assert.equal(r.getMoreAfterCursorCheckout({ namespace: 'db.c', appName: undefined })?.code, 6);
    assert.equal(r.getMoreAfterCursorCheckout({ namespace: 'db.c', appName: undefined }), undefined);
    r.configure({ configureFailPoint: 'failGetMoreAfterCursorCheckout', mode: { times: 1 } });
    assert.equal(r.getMoreAfterCursorCheckout({ namespace: 'db.c', appName: undefined })?.codeName, 'InternalError');
  });

  it('onPrimaryTransactionalWrite closes the connection by default and fails before commit when asked', () => {
    const r = new FailPointRegistry(random);
    r.configure({ configureFailPoint: 'onPrimaryTransactionalWrite', mode: { skip: 1 } });
    assert.equal(r.onPrimaryTransactionalWrite(), undefined);
    assert.deepEqual(r.onPrimaryTransactionalWrite(), { closeConnection: true, error: undefined });
    r.configure({ configureFailPoint: 'onPrimaryTransactionalWrite', mode: 'alwaysOn', data: { closeConnection: false, failBeforeCommitExceptionCode: 1 } });
    const a = r.onPrimaryTransactionalWrite();
    assert.equal(a?.closeConnection, false);
    assert.equal(a?.error?.code, 1);
  });
});

describe('helpers', () => {
  it('close requests are taken once', () => {
    const conn = {};
    assert.equal(takeCloseRequest(conn), false);
    requestCloseAfterCommand(conn);
    assert.equal(takeCloseRequest(conn), true);
    assert.equal(takeCloseRequest(conn), false);
  });

  it('appNameOf and sleepMs', async () => {    assert.equal(appNameOf({ application: { name: 'a' } }), 'a');
    assert.equal(appNameOf(undefined), undefined);
    const clock = new ManualClock();
    let done = false;
    const p = sleepMs(clock, 100).then(() => (done = true));
    clock.advance(99);
    await Promise.resolve();
    assert.equal(done, false);
    clock.advance(1);
    await p;
    assert.equal(done, true);
  });
});
