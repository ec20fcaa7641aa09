/**
 * Test harness: a real Dossier on a free loopback port and a real official driver client.
 * Every test file starts its own and stops it in `after`, so nothing assumes a server on 27017.
 */
import assert from 'node:assert/strict';
import { MongoClient, MongoServerError, type MongoClientOptions } from 'mongodb';
import { Dossier, type DossierOptions } from '../../src/index.js';

export interface Harness {
  dossier: Dossier;
  client: MongoClient;
  uri: string;
  stop(): Promise<void>;
}

export async function startDossier(options: DossierOptions = {}, clientOptions: MongoClientOptions = {}): Promise<Harness> {
  const dossier = await Dossier.create(options);
  const client = new MongoClient(dossier.uri, { serverSelectionTimeoutMS: 5000, ...clientOptions });
  await client.connect();
  return {
    dossier,
    client,
    uri: dossier.uri,
    async stop() {
      await client.close();
      await dossier.stop();
    },
  };
}

/** A fresh database name per test, so tests in one file do not see each other's data. */
let counter = 0;
export function uniqueDbName(prefix = 'test'): string {
  counter++;
  return `${prefix}_${process.pid}_${counter}`;
}

/** Awaits `p`, which must fail with a server error of `code` (and, if given, this message). */
export async function failsWith(p: Promise<unknown>, code: number, message?: string | RegExp): Promise<MongoServerError> {
  const err = await p.then(
    () => assert.fail('expected the command to fail'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof MongoServerError, `expected a server error, got ${String(err)}`);
  assert.equal(err.code, code, err.message);
  if (typeof message === 'string') assert.equal(err.message, message);
  else if (message) assert.match(err.message, message);
  return err;
}
