/**
 * Executes unified-format test files against a server (unified-test-format.md, "Test Runner
 * Implementation"). The driver's side is played by the official Node driver.
 *
 * Strictness is the point: a test passes only when every assertion in it was evaluated and held.
 * Unknown fields, operations, operators or entity types make the test fail, never pass silently.
 */
import { setTimeout as delay } from 'node:timers/promises';
import {
  GridFSBucket, MongoBulkWriteError, MongoClient, MongoClientBulkWriteError, MongoError, MongoOperationTimeoutError,
  MongoServerError, MongoWriteConcernError, type ClientSession,
} from 'mongodb';
import {
  ClientEntity, EntityMap, RunnerError, collectionOrDatabaseOptions, eventCategory, readConcernOf, writeConcernOf, readPreferenceOf,
  type ObservedEvent,
} from './entities.js';
import { compareVersions, parseVersion, schemaVersionSupported, type SpecFile } from './load.js';
import { MatchError, isDoc, match, toNative, valuesEqual, describe, type Doc, type MatchContext } from './match.js';
import { bulkWriteResultDoc, clientBulkWriteResultDoc, runEntityOperation, type OperationEnv, type ResultKind } from './operations.js';

export type TestStatus = 'passed' | 'failed' | 'not-applicable';

export interface TestResult {
  /** "<suite>/<file>.json: <test description>": the key of the expected-failures list. */
  id: string;
  status: TestStatus;
  /** Why it failed or is not applicable. */
  reason?: string;
  durationMs: number;
}

/** What the runner knows about the deployment, for runOnRequirements. */
export interface ServerInfo {
  version: [number, number, number];
  topology: 'single' | 'replicaset' | 'sharded' | 'load-balanced';
  auth: boolean;
  serverless: boolean;
  csfle: boolean;
}

export interface RunnerOptions {
  uri: string;
  /** Per-test time limit; a test still running then fails. */
  testTimeoutMs?: number;
}

const TOP_KEYS = new Set(['description', 'schemaVersion', 'runOnRequirements', 'createEntities', 'initialData', 'tests', '_yamlAnchors']);
const TEST_KEYS = new Set(['description', 'runOnRequirements', 'skipReason', 'operations', 'expectEvents', 'outcome']);
const OPERATION_KEYS = new Set(['name', 'object', 'arguments', 'expectError', 'expectResult', 'ignoreResultAndError', 'saveResultAsEntity']);
const EXPECTED_ERROR_KEYS = new Set(['isError', 'isClientError', 'isTimeoutError', 'errorContains', 'errorCode', 'errorCodeName', 'errorLabelsContain', 'errorLabelsOmit', 'writeErrors', 'writeConcernErrors', 'errorResponse', 'expectResult']);

/** Runs against one server; keeps the internal client and what it learned about the server. */
export class SpecRunner {
  private internal: MongoClient | undefined;
  private info: ServerInfo | undefined;
  private readonly parameterCache = new Map<string, unknown>();

  constructor(private readonly options: RunnerOptions) {}

  async start(): Promise<void> {
    this.internal = new MongoClient(this.options.uri, { serverSelectionTimeoutMS: 10_000 });
    await this.internal.connect();
    const admin = this.internal.db('admin');
    const build = await admin.command({ buildInfo: 1 });
    const hello = await admin.command({ hello: 1 });
    const va = build.versionArray as number[] | undefined;
    const version = va ? ([va[0], va[1], va[2]] as [number, number, number]) : parseVersion(String(build.version));
    const topology = hello.msg === 'isdbgrid' ? 'sharded' : hello.setName ? 'replicaset' : 'single';
    // Dossier runs without authentication, is not Atlas Serverless, and this runner has no libmongocrypt.
    this.info = { version, topology, auth: false, serverless: false, csfle: false };
  }

  async stop(): Promise<void> {
    await this.internal?.close();
  }

  get serverInfo(): ServerInfo {
    if (!this.info) throw new Error('SpecRunner.start() first');
    return this.info;
  }

  private get client(): MongoClient {
    if (!this.internal) throw new Error('SpecRunner.start() first');
    return this.internal;
  }

  /** Runs every test of a file; a file the runner cannot process fails each of its tests. */
  async runFile(file: SpecFile): Promise<TestResult[]> {
    const doc = file.doc;
    const tests = Array.isArray(doc.tests) ? (doc.tests as Doc[]) : [];
    const idOf = (t: Doc, i: number): string => `${file.id}: ${typeof t.description === 'string' ? t.description : `#${i}`}`;
    const failAll = (reason: string): TestResult[] =>
      (tests.length > 0 ? tests : [{ description: '<file>' }]).map((t, i) => ({ id: idOf(t, i), status: 'failed' as const, reason, durationMs: 0 }));
    if (!schemaVersionSupported(doc.schemaVersion)) return failAll(`unsupported schemaVersion ${JSON.stringify(doc.schemaVersion)}`);
    const unknownTop = Object.keys(doc).filter((k) => !TOP_KEYS.has(k));
    if (unknownTop.length > 0) return failAll(`unsupported top-level field(s) ${unknownTop.join(', ')}`);
    if (tests.length === 0) return failAll('a file needs at least one test');
    let fileApplicable: string | undefined;
    try {
      fileApplicable = await this.unmetRequirements(doc.runOnRequirements);
    } catch (e) {
      return failAll(`runOnRequirements: ${(e as Error).message}`);
    }
    const results: TestResult[] = [];
    for (const [i, test] of tests.entries()) {
      const id = idOf(test, i);
      const started = Date.now();
      if (fileApplicable !== undefined) {
        results.push({ id, status: 'not-applicable', reason: fileApplicable, durationMs: 0 });
        continue;
      }
      let result: Omit<TestResult, 'id' | 'durationMs'>;
      try {
        result = await this.runTest(doc, test);
      } catch (e) {
        result = { status: 'failed', reason: errorText(e) };
      }
      results.push({ id, ...result, durationMs: Date.now() - started });
    }
    return results;
  }

  /** undefined when some requirement in the list is met (or there is no list); else why not. */
  private async unmetRequirements(list: unknown): Promise<string | undefined> {
    if (list === undefined) return undefined;
    if (!Array.isArray(list) || list.length === 0) throw new RunnerError('runOnRequirements must be a non-empty array');
    const reasons: string[] = [];
    for (const req of list) {
      const why = await this.unmetRequirement(req);
      if (why === undefined) return undefined;
      reasons.push(why);
    }
    return `requirements not met: ${reasons.join('; ')}`;
  }

  private async unmetRequirement(req: unknown): Promise<string | undefined> {
    if (!isDoc(req)) throw new RunnerError('a runOnRequirement must be a document');
    const info = this.serverInfo;
    for (const [key, value] of Object.entries(req)) {
      switch (key) {
        case 'minServerVersion':
          if (compareVersions(info.version, parseVersion(String(value))) < 0) return `server ${info.version.join('.')} < ${String(value)}`;
          break;
        case 'maxServerVersion':
          if (compareVersions(info.version, parseVersion(String(value))) > 0) return `server ${info.version.join('.')} > ${String(value)}`;
          break;
        case 'topologies': {
          const wanted = value as string[];
          const ok = wanted.includes(info.topology) || (info.topology === 'sharded' && wanted.includes('sharded-replicaset'));
          if (!ok) return `topology ${info.topology} not in [${wanted.join(', ')}]`;
          break;
        }
        case 'serverless':
          if (value === 'require' && !info.serverless) return 'needs Atlas Serverless';
          if (value === 'forbid' && info.serverless) return 'forbids Atlas Serverless';
          if (!['require', 'forbid', 'allow'].includes(String(value))) throw new RunnerError(`serverless: bad value ${String(value)}`);
          break;
        case 'auth':
          if (value !== info.auth) return value ? 'needs authentication' : 'needs authentication off';
          break;
        case 'authMechanism':
          if (!info.auth) return `needs auth mechanism ${String(value)}`;
          break;
        case 'csfle':
          if (value !== false && !info.csfle) return 'needs client-side field level encryption';
          if (value === false && info.csfle) return 'forbids client-side field level encryption';
          break;
        case 'serverParameters': {
          if (!isDoc(value)) throw new RunnerError('serverParameters must be a document');
          for (const [name, expected] of Object.entries(value)) {
            const actual = await this.serverParameter(name);
            if (actual === undefined || !valuesEqual(expected, actual)) return `server parameter ${name} is ${describe(actual)}, not ${describe(expected)}`;
          }
          break;
        }
        default:
          throw new RunnerError(`unsupported runOnRequirement field '${key}'`);
      }
    }
    return undefined;
  }

  private async serverParameter(name: string): Promise<unknown> {
    if (this.parameterCache.has(name)) return this.parameterCache.get(name);
    let value: unknown;
    try {
      const r = await this.client.db('admin').command({ getParameter: 1, [name]: 1 });
      value = r[name];
    } catch {
      value = undefined; // an unsupported parameter is "not equal": the test is skipped
    }
    this.parameterCache.set(name, value);
    return value;
  }

  private async runTest(file: Doc, test: Doc): Promise<Omit<TestResult, 'id' | 'durationMs'>> {
    const unknown = Object.keys(test).filter((k) => !TEST_KEYS.has(k));
    if (unknown.length > 0) return { status: 'failed', reason: `unsupported test field(s) ${unknown.join(', ')}` };
    if (typeof test.skipReason === 'string') return { status: 'not-applicable', reason: `skipReason: ${test.skipReason}` };
    const unmet = await this.unmetRequirements(test.runOnRequirements);
    if (unmet !== undefined) return { status: 'not-applicable', reason: unmet };
    const ctx = new TestContext(this.client, this.options.uri);
    const timeoutMs = this.options.testTimeoutMs ?? 60_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.executeTest(ctx, file, test),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new RunnerError(`test timed out after ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      if (ctx.failures.length > 0) throw ctx.failures[0];
      return { status: 'passed' };
    } catch (e) {
      return { status: 'failed', reason: errorText(ctx.failures[0] ?? e) };
    } finally {
      clearTimeout(timer);
      await ctx.cleanup();
    }
  }

  private async executeTest(ctx: TestContext, file: Doc, test: Doc): Promise<void> {
    if (!Array.isArray(test.operations)) throw new RunnerError('test.operations must be an array');
    if (file.initialData !== undefined) await this.loadInitialData(file.initialData);
    if (file.createEntities !== undefined) await ctx.createEntities(file.createEntities);
    for (const op of test.operations as Doc[]) await ctx.runOperation(op, false);
    for (const c of ctx.entities.clients()) c.listening = false;
    await ctx.disableFailPoints();
    if (test.expectEvents !== undefined) ctx.checkExpectedEvents(test.expectEvents);
    if (test.outcome !== undefined) await this.checkOutcome(ctx, test.outcome);
  }

  /** initialData: drop, create (with createOptions), insert, all with the internal client and w:majority. */
  private async loadInitialData(list: unknown): Promise<void> {
    if (!Array.isArray(list)) throw new RunnerError('initialData must be an array');
    for (const data of list as Doc[]) {
      const { collectionName, databaseName, documents, createOptions, ...rest } = data;
      if (Object.keys(rest).length > 0) throw new RunnerError(`initialData: unsupported field(s) ${Object.keys(rest).join(', ')}`);
      if (typeof collectionName !== 'string' || typeof databaseName !== 'string' || !Array.isArray(documents)) {
        throw new RunnerError('initialData entries need collectionName, databaseName and documents');
      }
      const db = this.client.db(databaseName);
      const majority = { writeConcern: { w: 'majority' as const } };
      for (const name of [collectionName, `enxcol_.${collectionName}.esc`, `enxcol_.${collectionName}.ecoc`]) {
        await db.dropCollection(name, majority).catch((e: unknown) => {
          if (!(e instanceof MongoServerError && e.code === 26)) throw e;
        });
      }
      if (createOptions !== undefined || documents.length === 0) {
        const options = createOptions === undefined ? {} : (toNative(createOptions) as Doc);
        await db.createCollection(collectionName, { ...options, ...majority });
      }
      if (documents.length > 0) await db.collection(collectionName).insertMany(documents as Doc[], majority);
    }
  }

  /** outcome: exact documents (key order aside, numbers by value), read with the internal client. */
  private async checkOutcome(ctx: TestContext, list: unknown): Promise<void> {
    if (!Array.isArray(list)) throw new RunnerError('outcome must be an array');
    for (const data of list as Doc[]) {
      const { collectionName, databaseName, documents, ...rest } = data;
      if (Object.keys(rest).length > 0) throw new RunnerError(`outcome: unsupported field(s) ${Object.keys(rest).join(', ')}`);
      const actual = await this.client
        .db(String(databaseName))
        .collection(String(collectionName))
        .find({}, { sort: { _id: 1 }, readPreference: 'primary', readConcern: { level: 'local' }, promoteValues: false, promoteLongs: false })
        .toArray();
      const expected = documents as Doc[];
      const where = `outcome ${String(databaseName)}.${String(collectionName)}`;
      if (actual.length !== expected.length) {
        throw new MatchError(where, `expected ${expected.length} document(s) ${describe(expected)}, got ${actual.length}: ${describe(actual)}`);
      }
      expected.forEach((e, i) => {
        if (!valuesEqual(e, actual[i])) throw new MatchError(`${where}[${i}]`, `expected ${describe(e)}, got ${describe(actual[i])}`);
      });
    }
    void ctx;
  }
}

/** Everything one test creates; thrown away afterwards. */
class TestContext implements MatchContext {
  readonly entities = new EntityMap();
  /** Assertion failures from inside callbacks (withTransaction), which the driver may swallow. */
  readonly failures: Error[] = [];
  private readonly failPoints: Array<{ name: string; client: MongoClient }> = [];
  private startedTransaction = false;

  constructor(
    private readonly internal: MongoClient,
    private readonly uri: string,
  ) {}

  entity(name: string): unknown {
    const e = this.entities.get(name);
    if (e.kind === 'value') return e.value;
    throw new RunnerError(`entity '${name}' is a ${e.kind}, not a BSON value`);
  }

  sessionLsid(name: string): unknown {
    return this.entities.getKind(name, 'session').lsid;
  }

  async createEntities(list: unknown): Promise<void> {
    if (!Array.isArray(list)) throw new RunnerError('createEntities must be an array');
    for (const item of list) {
      if (!isDoc(item) || Object.keys(item).length !== 1) throw new RunnerError('an entity is a document with exactly one key');
      const [kind, spec] = Object.entries(item)[0]!;
      if (!isDoc(spec) || typeof spec.id !== 'string') throw new RunnerError(`${kind} entity needs an id`);
      const id = spec.id;
      if (this.entities.has(id)) throw new RunnerError(`entity '${id}' already exists`);
      await this.createEntity(kind, id, spec);
    }
  }

  private async createEntity(kind: string, id: string, spec: Doc): Promise<void> {
    const only = (allowed: string[]): void => {
      for (const k of Object.keys(spec)) if (!allowed.includes(k)) throw new RunnerError(`${kind} entity: unsupported field '${k}'`);
    };
    switch (kind) {
      case 'client': {
        const client = new ClientEntity(id, spec, this.uri, this.entities);
        this.entities.add(id, { kind: 'client', client });
        await client.connect();
        return;
      }
      case 'database': {
        only(['id', 'client', 'databaseName', 'databaseOptions']);
        const client = this.entities.getKind(spec.client, 'client').client;
        if (typeof spec.databaseName !== 'string') throw new RunnerError('database entity needs databaseName');
        this.entities.add(id, { kind: 'database', db: client.client.db(spec.databaseName, collectionOrDatabaseOptions(spec.databaseOptions)), clientId: client.id });
        return;
      }
      case 'collection': {
        only(['id', 'database', 'collectionName', 'collectionOptions']);
        const db = this.entities.getKind(spec.database, 'database');
        if (typeof spec.collectionName !== 'string') throw new RunnerError('collection entity needs collectionName');
        this.entities.add(id, { kind: 'collection', coll: db.db.collection(spec.collectionName, collectionOrDatabaseOptions(spec.collectionOptions)), clientId: db.clientId });
        return;
      }
      case 'session': {
        only(['id', 'client', 'sessionOptions']);
        const client = this.entities.getKind(spec.client, 'client').client;
        const { snapshotTime, ...sessionOptions } = this.sessionOptions(spec.sessionOptions);
        const session = client.client.startSession(sessionOptions);
        // Driver 7 has no snapshotTime session option; its own snapshot time (learnt from the first
        // read otherwise) is the field the option would set, and what it sends as atClusterTime.
        if (snapshotTime !== undefined) (session as unknown as { snapshotTime: unknown }).snapshotTime = snapshotTime;
        // Explicit sessions take their server session at once; keep the lsid for $$sessionLsid
        // even after the session has ended.
        this.entities.add(id, { kind: 'session', session, lsid: session.id, clientId: client.id });
        return;
      }
      case 'bucket': {
        only(['id', 'database', 'bucketOptions']);
        const db = this.entities.getKind(spec.database, 'database').db;
        const options: Doc = {};
        for (const [k, v] of Object.entries((spec.bucketOptions ?? {}) as Doc)) {
          if (k === 'readConcern') options.readConcern = readConcernOf(v);
          else if (k === 'writeConcern') options.writeConcern = writeConcernOf(v);
          else if (k === 'readPreference') options.readPreference = readPreferenceOf(v);
          else if (['bucketName', 'chunkSizeBytes', 'disableMD5'].includes(k)) options[k] = toNative(v);
          else throw new RunnerError(`bucketOptions: unsupported field '${k}'`);
        }
        this.entities.add(id, { kind: 'bucket', bucket: new GridFSBucket(db, options) });
        return;
      }
      default:
        throw new RunnerError(`unsupported entity type '${kind}'`);
    }
  }

  private sessionOptions(spec: unknown): Doc {
    if (spec === undefined) return {};
    if (!isDoc(spec)) throw new RunnerError('sessionOptions must be a document');
    const out: Doc = {};
    for (const [k, v] of Object.entries(spec)) {
      if (k === 'causalConsistency' || k === 'snapshot') out[k] = v;
      else if (k === 'defaultTransactionOptions') {
        const t: Doc = {};
        for (const [tk, tv] of Object.entries(v as Doc)) {
          if (tk === 'readConcern') t.readConcern = readConcernOf(tv);
          else if (tk === 'writeConcern') t.writeConcern = writeConcernOf(tv);
          else if (tk === 'readPreference') t.readPreference = readPreferenceOf(tv);
          else if (tk === 'maxCommitTimeMS') t.maxCommitTimeMS = toNative(tv);
          else throw new RunnerError(`defaultTransactionOptions: unsupported field '${tk}'`);
        }
        out.defaultTransactionOptions = t;
      } else if (k === 'defaultTimeoutMS') out.defaultTimeoutMS = toNative(v);
      else if (k === 'snapshotTime') {
        // The option names an entity holding a timestamp, saved earlier by getSnapshotTime.
        if (typeof v !== 'string') throw new RunnerError('sessionOptions.snapshotTime must name an entity');
        if (spec.snapshot !== true) throw new RunnerError('sessionOptions.snapshotTime needs snapshot: true');
        out.snapshotTime = this.entity(v);
      }
      else throw new RunnerError(`sessionOptions: unsupported field '${k}'`);
    }
    return out;
  }

  /** One operation with its expectations (operation.expectResult / expectError / saveResultAsEntity). */
  async runOperation(op: Doc, inCallback: boolean): Promise<void> {
    const unknown = Object.keys(op).filter((k) => !OPERATION_KEYS.has(k));
    if (unknown.length > 0) throw new RunnerError(`operation ${String(op.name)}: unsupported field(s) ${unknown.join(', ')}`);
    const { name, object } = op;
    if (typeof name !== 'string' || typeof object !== 'string') throw new RunnerError('an operation needs a name and an object');
    const args = op.arguments === undefined ? {} : op.arguments;
    if (!isDoc(args)) throw new RunnerError(`${name}: arguments must be a document`);
    if (op.ignoreResultAndError !== undefined) {
      if (typeof op.ignoreResultAndError !== 'boolean') throw new RunnerError(`${name}: ignoreResultAndError must be a boolean`);
      if (op.expectError !== undefined || op.expectResult !== undefined || op.saveResultAsEntity !== undefined) {
        throw new RunnerError(`${name}: ignoreResultAndError excludes expectError, expectResult and saveResultAsEntity`);
      }
    }
    if (op.expectError !== undefined && (op.expectResult !== undefined || op.saveResultAsEntity !== undefined)) {
      throw new RunnerError(`${name}: expectError excludes expectResult and saveResultAsEntity`);
    }
    if (object === 'testRunner') {
      if (op.expectError !== undefined || op.expectResult !== undefined || op.saveResultAsEntity !== undefined) {
        throw new RunnerError(`testRunner.${name}: special operations take no expectations`);
      }
      await this.runSpecialOperation(name, args);
      return;
    }
    const entity = this.entities.get(object);
    let outcome: { result: unknown; kind: ResultKind; entity?: import('./entities.js').Entity } | undefined;
    let error: unknown;
    try {
      outcome = await runEntityOperation(this.operationEnv(), entity, name, args);
    } catch (e) {
      if (e instanceof RunnerError) throw e;
      error = e;
    }
    if (op.ignoreResultAndError === true) {
      if (inCallback && error !== undefined) throw error;
      return;
    }
    if (op.expectError !== undefined) {
      if (error === undefined) {
        const failure = new MatchError(`${object}.${name}`, `expected an error, got result ${describe(outcome?.result)}`);
        if (inCallback) this.failures.push(failure);
        throw failure;
      }
      try {
        this.checkExpectedError(op.expectError, error);
      } catch (assertion) {
        if (inCallback) this.failures.push(assertion as Error);
        throw assertion;
      }
      // Errors inside withTransaction's callback propagate to withTransaction, as the format requires.
      if (inCallback) throw error;
      return;
    }
    if (error !== undefined) throw error;
    if (op.expectResult !== undefined) {
      try {
        this.checkResult(op.expectResult, outcome!.result, outcome!.kind, `${object}.${name} result`);
      } catch (assertion) {
        if (inCallback) this.failures.push(assertion as Error);
        throw assertion;
      }
    }
    if (op.saveResultAsEntity !== undefined) {
      if (typeof op.saveResultAsEntity !== 'string') throw new RunnerError('saveResultAsEntity must be a string');
      if (outcome!.entity) this.entities.add(op.saveResultAsEntity, outcome!.entity);
      else if (outcome!.result === undefined) throw new RunnerError(`${name} returned nothing to save as '${op.saveResultAsEntity}'`);
      else this.entities.add(op.saveResultAsEntity, { kind: 'value', value: outcome!.result });
    }
  }

  private operationEnv(): OperationEnv {
    return {
      entities: this.entities,
      runNested: (op) => this.runOperation(op, true),
      noteTransaction: () => {
        this.startedTransaction = true;
      },
    };
  }

  private checkResult(expected: unknown, actual: unknown, kind: ResultKind, where: string): void {
    try {
      if (kind === 'documents' && Array.isArray(expected) && Array.isArray(actual)) {
        if (expected.length !== actual.length) throw new MatchError('', `expected ${expected.length} document(s), got ${actual.length}: ${describe(actual)}`);
        expected.forEach((e, i) => match(e, actual[i], this, { root: true }, `[${i}]`));
      } else {
        match(expected, actual === undefined ? null : actual, this, { root: kind !== 'value' });
      }
    } catch (e) {
      if (e instanceof MatchError) throw new MatchError(`${where}${e.path ? ` ${e.path}` : ''}`, e.message.slice(e.message.indexOf(': ') + 2));
      throw e;
    }
  }

  private checkExpectedError(spec: unknown, error: unknown): void {
    if (!isDoc(spec) || Object.keys(spec).length === 0) throw new RunnerError('expectError must be a non-empty document');
    for (const k of Object.keys(spec)) if (!EXPECTED_ERROR_KEYS.has(k)) throw new RunnerError(`expectError: unsupported field '${k}'`);
    const fail = (msg: string): never => {
      throw new MatchError('expectError', `${msg} (error: ${errorText(error)})`);
    };
    // The bulk write spec's BulkWriteException keeps a top-level error in its `error` field; driver 7
    // puts it in `cause`. The top-level assertions are about that error (the unified format's
    // expectedError), while writeErrors, writeConcernErrors and expectResult read the wrapper.
    const top = topLevelError(error);
    const err = top as Record<string, unknown> & Error;
    const isServer = top instanceof MongoServerError || top instanceof MongoWriteConcernError;
    if (spec.isError !== undefined && spec.isError !== true) throw new RunnerError('expectError.isError may only be true');
    if (spec.isClientError !== undefined && spec.isClientError === isServer) fail(spec.isClientError ? 'expected a client-side error' : 'expected a server error');
    if (spec.isTimeoutError !== undefined && (top instanceof MongoOperationTimeoutError) !== spec.isTimeoutError) {
      fail(spec.isTimeoutError ? 'expected a timeout error' : 'expected no timeout error');
    }
    const nested = aggregatedServerErrors(top);
    if (spec.errorContains !== undefined) {
      const needle = String(spec.errorContains).toLowerCase();
      const messages = [err.message, ...nested.map((n) => String(n.errmsg ?? n.message ?? ''))];
      if (!messages.some((m) => m.toLowerCase().includes(needle))) fail(`expected the message to contain '${String(spec.errorContains)}'`);
    }
    if (spec.errorCode !== undefined) {
      if (!isServer) fail(`expected server error code ${String(spec.errorCode)}`);
      const codes = [err.code, ...nested.map((n) => n.code)];
      if (!codes.some((c) => c !== undefined && valuesEqual(spec.errorCode, c))) fail(`expected error code ${String(toNative(spec.errorCode))}, got ${String(err.code)}`);
    }
    if (spec.errorCodeName !== undefined) {
      if (!isServer) fail(`expected server error ${String(spec.errorCodeName)}`);
      const names = [err.codeName, ...nested.map((n) => n.codeName)].filter((n): n is string => typeof n === 'string').map((n) => n.toLowerCase());
      if (!names.includes(String(spec.errorCodeName).toLowerCase())) fail(`expected codeName ${String(spec.errorCodeName)}, got ${String(err.codeName)}`);
    }
    const hasLabel = (label: string): boolean => top instanceof MongoError && top.hasErrorLabel(label);
    for (const label of (spec.errorLabelsContain ?? []) as string[]) if (!hasLabel(label)) fail(`expected error label ${label}`);
    for (const label of (spec.errorLabelsOmit ?? []) as string[]) if (hasLabel(label)) fail(`expected no error label ${label}`);
    if (spec.errorResponse !== undefined) {
      const response = top instanceof MongoServerError ? (top.errorResponse as unknown) : undefined;
      if (response === undefined) fail('expected a server response');
      match(spec.errorResponse, { ...(response as Doc) }, this, { root: true }, 'expectError.errorResponse');
    }
    if (spec.writeErrors !== undefined) {
      if (!(error instanceof MongoClientBulkWriteError)) fail('expected a client bulk write error with writeErrors');
      const actual = (error as MongoClientBulkWriteError).writeErrors;
      const expected = spec.writeErrors as Doc;
      if (actual.size !== Object.keys(expected).length) fail(`expected ${Object.keys(expected).length} write error(s), got ${actual.size}`);
      for (const [index, e] of Object.entries(expected)) {
        const a = actual.get(Number(index));
        if (!a) fail(`expected a write error at index ${index}`);
        match(e, { ...(a as object) }, this, { root: true }, `expectError.writeErrors.${index}`);
      }
    }
    if (spec.writeConcernErrors !== undefined) {
      if (!(error instanceof MongoClientBulkWriteError)) fail('expected a client bulk write error with writeConcernErrors');
      const actual = (error as MongoClientBulkWriteError).writeConcernErrors.map((w) => ({ ...(w as object) }));
      const expected = spec.writeConcernErrors as unknown[];
      if (actual.length !== expected.length) fail(`expected ${expected.length} write concern error(s), got ${actual.length}`);
      expected.forEach((e, i) => match(e, actual[i], this, { root: true }, `expectError.writeConcernErrors[${i}]`));
    }
    if (spec.expectResult !== undefined) {
      let result: unknown;
      if (error instanceof MongoBulkWriteError) result = bulkWriteResultDoc(error.result);
      else if (error instanceof MongoClientBulkWriteError && error.partialResult) result = clientBulkWriteResultDoc(error.partialResult as unknown as Doc);
      this.checkResult(spec.expectResult, result, 'document', 'expectError.expectResult');
    }
  }

  private async runSpecialOperation(name: string, args: Doc): Promise<void> {
    const only = (allowed: string[]): void => {
      for (const k of Object.keys(args)) if (!allowed.includes(k)) throw new RunnerError(`testRunner.${name}: unsupported argument '${k}'`);
    };
    const session = (): ClientSession => this.entities.getKind(args.session, 'session').session;
    const clientEntity = (): ClientEntity => this.entities.getKind(args.client, 'client').client;
    const assert = (cond: boolean, msg: string): void => {
      if (!cond) throw new MatchError(`testRunner.${name}`, msg);
    };
    switch (name) {
      case 'failPoint': {
        only(['client', 'failPoint']);
        const fp = args.failPoint as Doc;
        if (!isDoc(fp) || typeof fp.configureFailPoint !== 'string') throw new RunnerError('failPoint: needs a configureFailPoint command');
        const client = clientEntity().client;
        this.failPoints.push({ name: fp.configureFailPoint, client: this.internal });
        await client.db('admin').command(fp);
        return;
      }
      case 'targetedFailPoint': {
        only(['session', 'failPoint']);
        const s = session();
        // Only a session pinned to a mongos has a server to target; on a replica set it never is.
        assert(s.isPinned, 'the session is not pinned to a mongos, so there is no server to target');
        const fp = args.failPoint as Doc;
        this.failPoints.push({ name: String(fp.configureFailPoint), client: this.internal });
        await (s as unknown as { client: MongoClient }).client.db('admin').command(fp);
        return;
      }
      case 'assertSessionTransactionState': {
        only(['session', 'state']);
        const states: Record<string, string> = {
          NO_TRANSACTION: 'none', STARTING_TRANSACTION: 'starting', TRANSACTION_IN_PROGRESS: 'in_progress',
          TRANSACTION_COMMITTED: 'committed', TRANSACTION_COMMITTED_EMPTY: 'committed', TRANSACTION_ABORTED: 'aborted',
        };
        const actual = states[String((session() as unknown as { transaction: { state: string } }).transaction.state)];
        assert(actual === args.state, `expected transaction state ${String(args.state)}, got ${String(actual)}`);
        return;
      }
      case 'assertSessionPinned':
        only(['session']);
        assert(session().isPinned, 'expected the session to be pinned');
        return;
      case 'assertSessionUnpinned':
        only(['session']);
        assert(!session().isPinned, 'expected the session to be unpinned');
        return;
      case 'assertSessionDirty':
        only(['session']);
        assert(session().serverSession?.isDirty === true, 'expected the session to be dirty');
        return;
      case 'assertSessionNotDirty':
        only(['session']);
        assert(session().serverSession?.isDirty !== true, 'expected the session not to be dirty');
        return;
      case 'assertSameLsidOnLastTwoCommands':
      case 'assertDifferentLsidOnLastTwoCommands': {
        only(['client']);
        const started = clientEntity().started;
        assert(started.length >= 2, `fewer than two commands observed (${started.length})`);
        const [a, b] = started.slice(-2).map((e) => (e.command as Doc).lsid);
        assert(a !== undefined && b !== undefined, 'one of the last two commands has no lsid');
        const same = valuesEqual(a, b);
        assert(name === 'assertSameLsidOnLastTwoCommands' ? same : !same, `lsids ${describe(a)} and ${describe(b)} are ${same ? 'the same' : 'different'}`);
        return;
      }
      case 'assertCollectionExists':
      case 'assertCollectionNotExists': {
        only(['collectionName', 'databaseName']);
        const found = await this.internal.db(String(args.databaseName)).listCollections({ name: String(args.collectionName) }, { nameOnly: true }).toArray();
        const exists = found.length > 0;
        assert(exists === (name === 'assertCollectionExists'), `collection ${String(args.databaseName)}.${String(args.collectionName)} ${exists ? 'exists' : 'does not exist'}`);
        return;
      }
      case 'assertIndexExists':
      case 'assertIndexNotExists': {
        only(['collectionName', 'databaseName', 'indexName']);
        let names: string[] = [];
        try {
          names = (await this.internal.db(String(args.databaseName)).collection(String(args.collectionName)).listIndexes().toArray()).map((i) => String(i.name));
        } catch (e) {
          if (!(e instanceof MongoServerError && e.code === 26)) throw e;
        }
        const exists = names.includes(String(args.indexName));
        assert(exists === (name === 'assertIndexExists'), `index ${String(args.indexName)} ${exists ? 'exists' : 'does not exist'}`);
        return;
      }
      case 'createEntities':
        only(['entities']);
        await this.createEntities(args.entities);
        return;
      case 'assertNumberConnectionsCheckedOut': {
        only(['client', 'connections']);
        if (args.connections === undefined) throw new RunnerError('assertNumberConnectionsCheckedOut needs connections');
        const n = clientEntity().checkedOut;
        assert(valuesEqual(args.connections, n), `expected ${String(toNative(args.connections))} connection(s) checked out, got ${n}`);
        return;
      }
      case 'waitForEvent':
      case 'assertEventCount': {
        only(['client', 'event', 'count']);
        const client = clientEntity();
        const want = Number(toNative(args.count));
        const count = (): number => client.observed.filter((o) => this.eventMatches(args.event, o)).length;
        if (name === 'waitForEvent') {
          const deadline = Date.now() + 10_000;
          while (count() < want) {
            if (Date.now() > deadline) throw new MatchError('testRunner.waitForEvent', `saw ${count()} of ${want} matching event(s) in 10 s`);
            await delay(10);
          }
        } else {
          assert(count() === want, `expected ${want} matching event(s), got ${count()}`);
        }
        return;
      }
      case 'wait':
        only(['ms']);
        await delay(Number(toNative(args.ms)));
        return;
      default:
        throw new RunnerError(`unsupported special operation '${name}'`);
    }
  }

  /** Whether one observed event matches an expectedEvent document (no throw). */
  private eventMatches(expected: unknown, observed: ObservedEvent): boolean {
    try {
      this.matchEvent(expected, observed, '');
      return true;
    } catch (e) {
      if (e instanceof MatchError) return false;
      throw e;
    }
  }

  private matchEvent(expected: unknown, observed: ObservedEvent, where: string): void {
    if (!isDoc(expected) || Object.keys(expected).length !== 1) throw new RunnerError(`${where}: an expected event has exactly one key`);
    const [type, spec] = Object.entries(expected)[0]!;
    if (eventCategory(type) === undefined) throw new RunnerError(`${where}: unsupported event type '${type}'`);
    if (!isDoc(spec)) throw new RunnerError(`${where}: ${type} takes a document`);
    if (observed.name !== type) throw new MatchError(where, `expected ${type}, got ${observed.name} (${describeEvent(observed)})`);
    const ev = observed.event;
    for (const [field, value] of Object.entries(spec)) {
      const at = `${where}.${type}.${field}`;
      switch (field) {
        case 'command':
        case 'reply':
          match(value, { ...(ev[field] as Doc) }, this, { root: true }, at);
          break;
        case 'commandName':
        case 'databaseName':
          if (ev[field] !== value) throw new MatchError(at, `expected ${String(value)}, got ${String(ev[field])}`);
          break;
        case 'hasServiceId': {
          const id = ev.serviceId as { toHexString(): string } | undefined;
          const has = id !== undefined && id !== null && /[^0]/.test(id.toHexString());
          if (has !== value) throw new MatchError(at, `serviceId is ${has ? 'set' : 'unset'}`);
          break;
        }
        case 'hasServerConnectionId': {
          const sid = ev.serverConnectionId;
          const has = sid !== undefined && sid !== null && Number(sid) > 0;
          if (has !== value) throw new MatchError(at, `serverConnectionId is ${has ? 'set' : 'unset'} (${String(sid)})`);
          break;
        }
        case 'interruptInUseConnections':
          if (ev.interruptInUseConnections !== value) throw new MatchError(at, `expected ${String(value)}, got ${String(ev.interruptInUseConnections)}`);
          break;
        case 'reason':
          if (ev.reason !== value) throw new MatchError(at, `expected reason ${String(value)}, got ${String(ev.reason)}`);
          break;
        case 'awaited':
          if (ev.awaited !== value) throw new MatchError(at, `expected awaited ${String(value)}, got ${String(ev.awaited)}`);
          break;
        case 'previousDescription':
        case 'newDescription': {
          if (!isDoc(value)) throw new RunnerError(`${at} must be a document`);
          for (const [k, v] of Object.entries(value)) {
            if (k !== 'type') throw new RunnerError(`${at}: unsupported field '${k}'`);
            const actual = (ev[field] as { type?: unknown } | undefined)?.type;
            if (actual !== v) throw new MatchError(`${at}.type`, `expected ${String(v)}, got ${String(actual)}`);
          }
          break;
        }
        default:
          throw new RunnerError(`${at}: unsupported event field`);
      }
    }
  }

  checkExpectedEvents(list: unknown): void {
    if (!Array.isArray(list)) throw new RunnerError('expectEvents must be an array');
    for (const item of list as Doc[]) {
      const { client: clientId, eventType = 'command', events, ignoreExtraEvents, ...rest } = item;
      if (Object.keys(rest).length > 0) throw new RunnerError(`expectEvents: unsupported field(s) ${Object.keys(rest).join(', ')}`);
      if (!['command', 'cmap', 'sdam'].includes(String(eventType))) throw new RunnerError(`expectEvents: unsupported eventType ${String(eventType)}`);
      if (!Array.isArray(events)) throw new RunnerError('expectEvents: events must be an array');
      const client = this.entities.getKind(clientId, 'client').client;
      const actual = client.observed.filter((o) => eventCategory(o.name) === eventType);
      const where = `expectEvents[${String(clientId)}/${String(eventType)}]`;
      if (ignoreExtraEvents === true ? actual.length < events.length : actual.length !== events.length) {
        throw new MatchError(where, `expected ${events.length} event(s), got ${actual.length}: ${actual.map(describeEvent).join(' | ')}`);
      }
      events.forEach((e, i) => this.matchEvent(e, actual[i]!, `${where}[${i}]`));
    }
  }

  async disableFailPoints(): Promise<void> {
    for (const fp of this.failPoints.splice(0)) {
      await fp.client.db('admin').command({ configureFailPoint: fp.name, mode: 'off' });
    }
  }

  /** Ends sessions, closes cursors and clients, turns fail points off, kills open transactions. */
  async cleanup(): Promise<void> {
    for (const e of this.entities.all()) {
      try {
        if (e.kind === 'session') await e.session.endSession();
        else if (e.kind === 'findCursor' || e.kind === 'commandCursor') await e.cursor.close();
        else if (e.kind === 'changeStream') await e.stream.close();
      } catch {
        // cleanup must not hide the test's own outcome
      }
    }
    await this.disableFailPoints().catch(() => undefined);
    for (const c of this.entities.clients()) await c.close().catch(() => undefined);
    if (this.startedTransaction) {
      await this.internal.db('admin').command({ killAllSessions: [] }).catch(() => undefined);
    }
  }
}

/** The error a client bulk write stopped on, or the error itself. */
function topLevelError(error: unknown): unknown {
  if (error instanceof MongoClientBulkWriteError && error.cause !== undefined) return error.cause;
  return error;
}

/** The write errors and write concern errors a bulk write error aggregates. */
function aggregatedServerErrors(error: unknown): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  if (error instanceof MongoBulkWriteError) {
    for (const w of error.writeErrors as unknown as Array<Record<string, unknown>>) out.push({ code: w.code, errmsg: w.errmsg, codeName: (w.err as Doc | undefined)?.codeName });
    const wce = (error.result as unknown as { getWriteConcernError?: () => Record<string, unknown> | undefined }).getWriteConcernError?.();
    if (wce) out.push(wce);
  }
  if (error instanceof MongoServerError && isDoc(error.writeConcernError)) out.push(error.writeConcernError);
  if (error instanceof MongoClientBulkWriteError) {
    for (const w of error.writeErrors.values()) out.push(w as unknown as Record<string, unknown>);
    for (const w of error.writeConcernErrors) out.push(w as unknown as Record<string, unknown>);
  }
  return out;
}

function describeEvent(o: ObservedEvent): string {
  const ev = o.event;
  if (o.name.startsWith('command')) return `${o.name}(${String(ev.commandName)})`;
  return o.name;
}

export function errorText(e: unknown): string {
  if (e instanceof MatchError || e instanceof RunnerError) return e.message;
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    return `${e.name}${code !== undefined ? ` [${String(code)}]` : ''}: ${e.message}`;
  }
  return String(e);
}
