/**
 * Server-level diagnostic commands through the real driver: getParameter/setParameter,
 * serverStatus, hostInfo, listCommands, connectionStatus, whatsmyuri, getLog, getCmdLineOpts,
 * getDefaultRWConcern and the authentication commands.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Long, type Db, type Document } from 'mongodb';
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

describe('getParameter', () => {
  it('returns the named parameters only', async () => {
    const r = await admin.command({ getParameter: 1, transactionLifetimeLimitSeconds: 1, notablescan: 1, noSuchParameter: 1 });
    assert.equal(r.transactionLifetimeLimitSeconds, 60);
    assert.equal(r.notablescan, false);
    assert.equal('noSuchParameter' in r, false);
    assert.equal('cursorTimeoutMillis' in r, false);
  });

  it("returns everything for '*' and {allParameters: true}", async () => {
    const star = await admin.command({ getParameter: '*' });
    const all = await admin.command({ getParameter: { allParameters: true } });
    for (const r of [star, all]) {
      assert.equal(r.localLogicalSessionTimeoutMinutes, 30);
      assert.deepEqual(r.featureCompatibilityVersion, { version: '8.0' });
    }
  });

  it('shows details with settability', async () => {
    const r = await admin.command({ getParameter: { showDetails: true }, cursorTimeoutMillis: 1, maxSessions: 1 });
    assert.deepEqual(r.cursorTimeoutMillis, { value: 600000, settableAtRuntime: true, settableAtStartup: true });
    assert.deepEqual(r.maxSessions, { value: 1000000, settableAtRuntime: false, settableAtStartup: true });
  });

  it('filters by setAt', async () => {
    const r = await admin.command({ getParameter: { allParameters: true, setAt: 'runtime' } });
    assert.equal('notablescan' in r, true);
    assert.equal('maxSessions' in r, false);
  });

  it('fails with InvalidOptions when nothing is found', async () => {
    await failsWith(admin.command({ getParameter: 1, noSuchParameter: 1 }), 72, 'no option found to get');
  });

  it('rejects unknown option fields', async () => {
    await failsWith(admin.command({ getParameter: { bogus: true }, notablescan: 1 }), 40415, "BSON field 'getParameter.bogus' is an unknown field.");
  });

  it('runs only against admin', async () => {
    await failsWith(h.client.db('test').command({ getParameter: 1, notablescan: 1 }), 13, /admin database/);
  });
});

describe('setParameter', () => {
  it('sets a runtime parameter and returns the old value as was', async () => {
    const r = await admin.command({ setParameter: 1, cursorTimeoutMillis: 1234 });
    assert.equal(r.was, 600000);
    const g = await admin.command({ getParameter: 1, cursorTimeoutMillis: 1 });
    assert.equal(g.cursorTimeoutMillis, 1234);
    const back = await admin.command({ setParameter: 1, cursorTimeoutMillis: 600000 });
    assert.equal(back.was, 1234);
  });

  it('rejects unknown parameters', async () => {
    await failsWith(admin.command({ setParameter: 1, noSuchParameter: 1 }), 72, 'attempted to set unrecognized parameter [noSuchParameter], use help:true to see options ');
  });

  it('rejects startup-only parameters', async () => {
    await failsWith(admin.command({ setParameter: 1, maxSessions: 5 }), 20, 'not allowed to change [maxSessions] at runtime');
  });

  it('rejects a command naming no parameter', async () => {
    await failsWith(admin.command({ setParameter: 1 }), 72, 'no option found to set, use help:true to see options ');
  });

  it('validates the value and changes nothing when it is bad', async () => {
    await failsWith(admin.command({ setParameter: 1, transactionLifetimeLimitSeconds: 0 }), 2);
    const g = await admin.command({ getParameter: 1, transactionLifetimeLimitSeconds: 1 });
    assert.equal(g.transactionLifetimeLimitSeconds, 60);
  });
});

describe('serverStatus', () => {
  it('reports process, uptime, connections, opcounters, mem, cursors, repl and storage engine', async () => {
    const before = await admin.command({ serverStatus: 1 });
    await h.client.db('ss').collection('c').insertMany([{ a: 1 }, { a: 2 }]);
    await h.client.db('ss').collection('c').find({}).toArray();
    const r = await admin.command({ serverStatus: 1 });
    assert.equal(r.process, 'mongod');
    assert.equal(r.version, '8.0.4');
    assert.equal(r.pid, process.pid);
    assert.ok(r.localTime instanceof Date);
    assert.ok(typeof r.uptime === 'number' && r.uptime >= 0);
    assert.ok(r.uptimeMillis >= 0);
    assert.ok(r.connections.current >= 1);
    assert.ok(r.connections.totalCreated >= r.connections.current);
    assert.equal(r.connections.available, 1_000_000 - r.connections.current);
    assert.ok(r.connections.active >= 1, 'the serverStatus command itself is in flight');
    assert.equal(r.opcounters.insert - before.opcounters.insert, 2);
    assert.equal(r.opcounters.query - before.opcounters.query, 1);
    assert.ok(r.opcounters.command > before.opcounters.command);
    assert.equal(r.mem.bits, 64);
    assert.ok(r.mem.resident > 0);
    assert.equal(typeof r.metrics.cursor.open.total, 'number');
    assert.equal(r.repl.setName, 'rs0');
    assert.equal(r.repl.isWritablePrimary, true);
    assert.equal(r.repl.primary, h.dossier.instance.config.host);
    assert.deepEqual(r.repl.hosts, [h.dossier.instance.config.host]);
    assert.equal(r.storageEngine.name, 'inMemory');
    // Every section holds tracked values: transactions counts real starts, commits and aborts.
    assert.equal(typeof Number(r.transactions.totalStarted), 'number');
    assert.equal(r.locks, undefined, 'no placeholder sections');
  });

  it('sends opcounters and uptimeMillis as 64-bit integers', async () => {
    const r = await admin.command({ serverStatus: 1 }, { promoteLongs: false });
    assert.ok(r.opcounters.insert instanceof Long);
    assert.ok(r.uptimeMillis instanceof Long);
    assert.ok(r.pid instanceof Long);
  });

  it('leaves out a section asked with 0', async () => {
    const r = await admin.command({ serverStatus: 1, repl: 0, mem: false });
    assert.equal('repl' in r, false);
    assert.equal('mem' in r, false);
    assert.equal('connections' in r, true);
  });
});

describe('hostInfo', () => {
  it('describes the machine', async () => {
    const r = await admin.command({ hostInfo: 1 });
    assert.ok(r.system.currentTime instanceof Date);
    assert.equal(typeof r.system.hostname, 'string');
    assert.ok(r.system.memSizeMB > 0);
    assert.ok(r.system.numCores >= 1);
    assert.ok([32, 64].includes(r.system.cpuAddrSize));
    assert.equal(typeof r.system.cpuArch, 'string');
    assert.equal(typeof r.os.type, 'string');
    assert.equal(typeof r.extra, 'object');
  });

  it('rejects unknown fields', async () => {
    await failsWith(admin.command({ hostInfo: 1, bogus: 1 }), 40415, "BSON field 'hostInfo.bogus' is an unknown field.");
  });
});

describe('listCommands', () => {
  it('lists every registered command with mongod metadata', async () => {
    const r = await admin.command({ listCommands: 1 });
    const names = Object.keys(r.commands);
    assert.deepEqual(names, [...names].sort());
    for (const name of ['find', 'insert', 'hello', 'ping', 'count', 'distinct', 'serverStatus', 'listCommands']) assert.ok(names.includes(name), name);
    assert.equal(names.includes('ismaster'), false, 'aliases are not listed');
    assert.deepEqual(Object.keys(r.commands.find), ['help', 'requiresAuth', 'secondaryOk', 'adminOnly', 'secondaryOverrideOk', 'apiVersions', 'deprecatedApiVersions']);
    assert.equal(r.commands.find.secondaryOk, false);
    assert.deepEqual(r.commands.find.apiVersions, ['1']);
    assert.equal(r.commands.ping.requiresAuth, false);
    assert.equal(r.commands.ping.secondaryOk, true);
    assert.equal(r.commands.insert.secondaryOk, false);
    assert.equal('secondaryOverrideOk' in r.commands.insert, false);
    assert.equal(r.commands.listDatabases.adminOnly, true);
    assert.deepEqual(r.commands.serverStatus.apiVersions, []);
  });
});

describe('connection commands', () => {
  it('connectionStatus shows no authenticated users', async () => {
    const r = await admin.command({ connectionStatus: 1 });
    assert.deepEqual(r.authInfo, { authenticatedUsers: [], authenticatedUserRoles: [] });
    const p = await admin.command({ connectionStatus: 1, showPrivileges: true });
    assert.deepEqual(p.authInfo.authenticatedUserPrivileges, []);
  });

  it('connectionStatus checks its arguments', async () => {
    await failsWith(admin.command({ connectionStatus: 1, showPrivileges: 'yes' }), 14);
    await failsWith(admin.command({ connectionStatus: 1, bogus: 1 }), 40415);
  });

  it('whatsmyuri answers with the client address', async () => {
    const r = await h.client.db('test').command({ whatsmyuri: 1 });
    assert.match(r.you, /^127\.0\.0\.1:\d+$/);
    const conns = [...h.dossier.instance.connections.values()].map((c) => c.remote);
    assert.ok(conns.includes(r.you));
  });

  it('logout succeeds', async () => {
    const r = await h.client.db('test').command({ logout: 1 });
    assert.equal(r.ok, 1);
  });
});

describe('getLog', () => {
  it("lists the logs for '*'", async () => {
    const r = await admin.command({ getLog: '*' });
    assert.deepEqual(r.names, ['global', 'startupWarnings']);
  });

  it('returns the global log lines', async () => {
    h.dossier.instance.log.info({ marker: 42 }, 'a test line');
    const r = await admin.command({ getLog: 'global' });
    const line = (r.log as string[]).map((l) => JSON.parse(l)).find((l) => l.msg === 'a test line');
    assert.deepEqual(line?.attr, { marker: 42 });
    assert.equal(line?.s, 'I');
    assert.equal(r.totalLinesWritten, h.dossier.instance.totalLogLinesWritten);
    assert.ok(r.totalLinesWritten >= 1);
    const w = await admin.command({ getLog: 'startupWarnings' });
    assert.deepEqual(w.log, []);
  });

  it('fails as mongod for a bad name or type', async () => {
    await failsWith(admin.command({ getLog: 'nonExistentName' }), 96, "No log named 'nonExistentName'");
    await failsWith(admin.command({ getLog: [] }), 14, "BSON field 'getLog.getLog' is the wrong type 'array', expected type 'string'");
  });
});

describe('getCmdLineOpts and getDefaultRWConcern', () => {
  it('getCmdLineOpts returns argv and parsed', async () => {
    const r: Document = await admin.command({ getCmdLineOpts: 1 });
    assert.ok(Array.isArray(r.argv));
    assert.equal(r.parsed.replication.replSet, 'rs0');
    assert.equal(r.parsed.net.port, h.dossier.port);
  });

  it('getDefaultRWConcern returns the implicit defaults', async () => {
    const r = await admin.command({ getDefaultRWConcern: 1 });
    assert.deepEqual(r.defaultReadConcern, { level: 'local' });
    assert.deepEqual(r.defaultWriteConcern, { w: 'majority', wtimeout: 0 });
    assert.equal(r.defaultReadConcernSource, 'implicit');
    assert.equal(r.defaultWriteConcernSource, 'implicit');
    assert.ok(r.localUpdateWallClockTime instanceof Date);
    await failsWith(h.client.db('test').command({ getDefaultRWConcern: 1 }), 13);
  });
});

describe('authentication without users', () => {
  it('saslStart fails with AuthenticationFailed for an enabled mechanism', async () => {
    await failsWith(admin.command({ saslStart: 1, mechanism: 'SCRAM-SHA-256', payload: Buffer.from('n,,n=u,r=abc') }), 18, 'Authentication failed.');
  });

  it('saslStart fails with MechanismUnavailable for a mechanism that is not enabled', async () => {
    await failsWith(admin.command({ saslStart: 1, mechanism: 'PLAIN', payload: Buffer.from('x') }), 334);
  });

  it('saslContinue has no conversation to continue', async () => {
    await failsWith(admin.command({ saslContinue: 1, conversationId: 1, payload: Buffer.from('x') }), 17);
  });

  it('a driver with credentials cannot connect', async () => {
    const { MongoClient } = await import('mongodb');
    const c = new MongoClient(h.uri, { auth: { username: 'u', password: 'p' }, serverSelectionTimeoutMS: 2000 });
    await assert.rejects(c.connect(), (e: Error) => /Authentication failed/.test(e.message));
    await c.close();
  });

  it('atlasVersion is not a command', async () => {
    await failsWith(admin.command({ atlasVersion: 1 }), 59);
  });
});
