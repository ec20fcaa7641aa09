import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MongoClient } from 'mongodb';
import { MongoClient as MongoClient6 } from 'mongodb6';
import { Dossier } from '../../src/index.js';

describe('handshake: the drivers see a replica-set primary', () => {
  let dossier: Dossier;
  before(async () => {
    dossier = await Dossier.create();
  });
  after(async () => {
    await dossier.stop();
  });

  it('starts on a free loopback port and gives a replica-set uri', () => {
    assert.match(dossier.uri, /^mongodb:\/\/127\.0\.0\.1:\d+\/\?replicaSet=rs0$/);
    assert.ok(dossier.port > 0);
  });

  it('with ?replicaSet=rs0 the topology is ReplicaSetWithPrimary (driver 7)', async () => {
    const client = new MongoClient(dossier.uri, { serverSelectionTimeoutMS: 3000 });
    const descriptions: string[] = [];
    client.on('topologyDescriptionChanged', (e) => descriptions.push(e.newDescription.type));
    await client.connect();
    try {
      await client.db('admin').command({ ping: 1 });
      assert.ok(descriptions.includes('ReplicaSetWithPrimary'), `saw ${descriptions.join(',')}`);
    } finally {
      await client.close();
    }
  });

  // A single seed without replicaSet: the driver discovers the set (as against mongod); with
  // directConnection (what mongosh uses for one host) the topology stays Single.
  it('without replicaSet the server is an RSPrimary; with directConnection the topology is Single (driver 6)', async () => {
    const plain = new MongoClient6(`mongodb://127.0.0.1:${dossier.port}`, { serverSelectionTimeoutMS: 3000 });
    const plainServerTypes: string[] = [];
    plain.on('serverDescriptionChanged', (e) => plainServerTypes.push(e.newDescription.type));
    await plain.connect();
    await plain.db('admin').command({ ping: 1 });
    await plain.close();
    assert.ok(plainServerTypes.includes('RSPrimary'), `saw ${plainServerTypes.join(',')}`);
    const client = new MongoClient6(`mongodb://127.0.0.1:${dossier.port}/?directConnection=true`, { serverSelectionTimeoutMS: 3000 });
    const serverTypes: string[] = [];
    const topologyTypes: string[] = [];
    client.on('serverDescriptionChanged', (e) => serverTypes.push(e.newDescription.type));
    client.on('topologyDescriptionChanged', (e) => topologyTypes.push(e.newDescription.type));
    await client.connect();
    try {
      await client.db('admin').command({ ping: 1 });
      assert.ok(serverTypes.includes('RSPrimary'), `saw ${serverTypes.join(',')}`);
      assert.ok(topologyTypes.includes('Single'), `saw ${topologyTypes.join(',')}`);
    } finally {
      await client.close();
    }
  });

  it('answers hello with every field a single-node primary returns', async () => {
    const client = await MongoClient.connect(dossier.uri);
    try {
      const hello = await client.db('admin').command({ hello: 1, helloOk: true });
      assert.equal(hello.isWritablePrimary, true);
      assert.equal(hello.secondary, false);
      assert.equal(hello.setName, 'rs0');
      assert.equal(hello.setVersion, 1);
      assert.deepEqual(hello.hosts, [`127.0.0.1:${dossier.port}`]);
      assert.equal(hello.primary, `127.0.0.1:${dossier.port}`);
      assert.equal(hello.me, `127.0.0.1:${dossier.port}`);
      assert.equal(hello.maxWireVersion, 25);
      assert.equal(hello.minWireVersion, 0);
      assert.equal(hello.maxBsonObjectSize, 16 * 1024 * 1024);
      assert.equal(hello.maxMessageSizeBytes, 48_000_000);
      assert.equal(hello.maxWriteBatchSize, 100_000);
      assert.equal(hello.logicalSessionTimeoutMinutes, 30);
      assert.equal(hello.readOnly, false);
      assert.equal(hello.helloOk, true);
      assert.ok(hello.localTime instanceof Date);
      assert.equal(typeof hello.connectionId, 'number');
      assert.ok(hello.electionId);
      assert.ok(hello.topologyVersion?.processId);
      assert.ok(hello.lastWrite?.opTime?.ts);
      assert.ok(hello.$clusterTime?.clusterTime);
      assert.ok(hello.operationTime);
      const legacy = await client.db('admin').command({ isMaster: 1 });
      assert.equal(legacy.ismaster, true);
      assert.equal(legacy.isWritablePrimary, undefined);
    } finally {
      await client.close();
    }
  });

  it('the client metadata may only be sent in the first hello', async () => {
    const client = await MongoClient.connect(dossier.uri);
    try {
      await assert.rejects(client.db('admin').command({ hello: 1, client: { application: { name: 'x' } } }), { code: 186, codeName: 'ClientMetadataCannotBeMutated' });
    } finally {
      await client.close();
    }
  });

  it('streaming hello waits for maxAwaitTimeMS instead of answering at once', async () => {
    const client = await MongoClient.connect(dossier.uri);
    try {
      const first = await client.db('admin').command({ hello: 1 });
      const start = performance.now();
      const second = await client.db('admin').command({ hello: 1, topologyVersion: first.topologyVersion, maxAwaitTimeMS: 300 });
      const waited = performance.now() - start;
      assert.ok(waited >= 250, `answered after ${waited} ms`);
      assert.equal(second.isWritablePrimary, true);
    } finally {
      await client.close();
    }
  });

  it('unknown commands get CommandNotFound with mongod\'s message', async () => {
    const client = await MongoClient.connect(dossier.uri);
    try {
      await assert.rejects(client.db('test').command({ frobnicate: 1 }), { code: 59, codeName: 'CommandNotFound', message: "no such command: 'frobnicate'" });
    } finally {
      await client.close();
    }
  });
});
