/**
 * The other clients a MongoDB user brings: mongoose 9 and 8, pymongo 3.11 (Debian), mongosh.
 * Each connects with and without ?replicaSet=rs0, sees a primary, and does CRUD.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { Dossier } from '../../src/index.js';
import { MONGOOSES } from '../helpers/mongooses.js';
import { DEBIAN_PYTHON, ensureMongosh, ensurePymongo, runClient } from '../helpers/peers.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

describe('other drivers and tools', () => {
  let dossier: Dossier;
  before(async () => {
    dossier = await Dossier.create();
  });
  after(async () => {
    await dossier.stop();
  });

  for (const [label, mongoose] of MONGOOSES) {
    it(`${label}: models, create, find, update, delete, unique index`, async () => {
      const conn = await mongoose.createConnection(dossier.getUri(`m_${label.replace(/\W/g, '')}`)).asPromise();
      try {
        const Account = conn.model('Account', new mongoose.Schema({ name: { type: String, unique: true }, balance: Number, tags: [String] }));
        await Account.init();
        await Account.create([{ name: 'alice', balance: 100, tags: ['a'] }, { name: 'bob', balance: 50 }]);
        const alice = await Account.findOne({ name: 'alice' }).lean();
        assert.equal(alice?.balance, 100);
        await Account.updateOne({ name: 'bob' }, { $inc: { balance: 25 } });
        assert.equal((await Account.findOne({ name: 'bob' }).lean())?.balance, 75);
        await assert.rejects(Account.create({ name: 'alice', balance: 1 }), { code: 11000 });
        const rich = await Account.find({ balance: { $gte: 75 } }).sort({ balance: -1 }).lean();
        assert.deepEqual(rich.map((a: { name?: string | null }) => a.name), ['alice', 'bob']);
        await Account.deleteOne({ name: 'bob' });
        assert.equal((await Account.find().lean()).length, 1);
        const indexes = await Account.listIndexes();
        assert.ok(indexes.some((i: { name?: string; unique?: boolean }) => i.name === 'name_1' && i.unique === true));
      } finally {
        await conn.close();
      }
    });
  }

  it('pymongo 3.11 (Debian) connects with and without replicaSet and does CRUD', async () => {
    ensurePymongo();
    const script = `
import sys, json, pymongo
out = {}
for label, uri in (("rs", sys.argv[1]), ("plain", sys.argv[2])):
    c = pymongo.MongoClient(uri, serverSelectionTimeoutMS=5000)
    db = c["py_" + label]
    db.items.insert_many([{"_id": 1, "n": 1}, {"_id": 2, "n": 2}])
    db.items.update_one({"_id": 1}, {"$inc": {"n": 10}})
    db.items.delete_one({"_id": 2})
    docs = list(db.items.find({}, {"_id": 0}))
    hello = c.admin.command("isMaster")
    out[label] = {"docs": docs, "ismaster": hello["ismaster"], "setName": hello.get("setName"), "primary": c.primary is not None}
    c.close()
print(json.dumps(out))
`;
    const r = await runClient(DEBIAN_PYTHON, ['-c', script, dossier.uri, `mongodb://127.0.0.1:${dossier.port}/`], { timeoutMs: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Record<string, { docs: unknown[]; ismaster: boolean; setName: string; primary: boolean }>;
    for (const label of ['rs', 'plain']) {
      assert.deepEqual(out[label]!.docs, [{ n: 11 }], label);
      assert.equal(out[label]!.ismaster, true);
      assert.equal(out[label]!.setName, 'rs0');
    }
    // pymongo 3.11 connects directly to a single seed without replicaSet, and then reports no set primary.
    assert.equal(out.rs!.primary, true);
  });

  it('mongosh connects with and without replicaSet, sees a primary, and does CRUD', async () => {
    const mongosh = ensureMongosh(ROOT);
    const script = `
const d = db.getSiblingDB('sh');
d.items.insertOne({ _id: 1, n: 1 });
d.items.updateOne({ _id: 1 }, { $set: { n: 2 } });
const n = d.items.findOne({ _id: 1 }).n;
d.items.drop();
print(JSON.stringify({ n, primary: db.hello().isWritablePrimary, set: db.hello().setName }));
`;
    for (const uri of [dossier.uri, `mongodb://127.0.0.1:${dossier.port}`]) {
      const r = await runClient(mongosh, [uri, '--quiet', '--norc', '--eval', script], { timeoutMs: 60_000, env: { ...process.env, MONGOSH_SKIP_NODE_VERSION_CHECK: '1' } });
      assert.equal(r.status, 0, `${uri}: ${r.stderr}${r.stdout}`);
      const last = r.stdout.trim().split('\n').pop()!;
      assert.deepEqual(JSON.parse(last), { n: 2, primary: true, set: 'rs0' }, uri);
    }
  });
});
