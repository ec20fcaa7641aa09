/**
 * Entity operations: each unified-format operation name, per entity kind, mapped to the official
 * Node driver's API. Each one lists the arguments it understands; any other argument is an error
 * ("a key in operation.arguments that does not correspond to a known parameter MUST raise an
 * error"), so a test can never pass by having part of it silently ignored.
 */
import { Readable } from 'node:stream';
import {
  ChangeStream, Collection, MongoBulkWriteError, type AbstractCursor, type AnyBulkWriteOperation, type ClientSession,
  type Db, type GridFSBucket, type MongoClient,
} from 'mongodb';
import { RunnerError, collectionOrDatabaseOptions, readConcernOf, readPreferenceOf, writeConcernOf, type Entity, type EntityMap } from './entities.js';
import { isDoc, toNative, type Doc } from './match.js';

/** How an operation's result is matched: a root-level document, a list of them, or a plain value. */
export type ResultKind = 'document' | 'documents' | 'value';

export interface OperationOutcome {
  result: unknown;
  kind: ResultKind;
  /** An entity to store under saveResultAsEntity, when the result is one (cursor, stream, collection). */
  entity?: Entity;
}

export interface OperationEnv {
  entities: EntityMap;
  /** Runs a nested operation (withTransaction's callback), assertions included. */
  runNested(op: Doc): Promise<void>;
  /** Marks that the test started a transaction, so open ones are killed afterwards. */
  noteTransaction(): void;
}

/** Arguments kept with their BSON wrappers: they are data sent to the server as the test wrote it. */
const DATA_ARGS = new Set(['filter', 'document', 'documents', 'update', 'replacement', 'pipeline', 'command', 'let', 'arrayFilters', 'hint', 'resumeAfter', 'startAfter', 'startAtOperationTime', 'validator', 'metadata', 'definition', 'model', 'models', 'keys', 'max', 'min']);

type Args = Doc;

/** Checks the argument names, then turns the rest into driver options (session, concerns, enums). */
function options(env: OperationEnv, opName: string, args: Args, allowed: readonly string[], positional: readonly string[] = []): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(args)) {
    if (positional.includes(key)) continue;
    if (!allowed.includes(key)) throw new RunnerError(`${opName}: unsupported argument '${key}'`);
    out[key] = convertArgument(env, opName, key, value);
  }
  for (const key of positional) if (args[key] === undefined && !OPTIONAL_POSITIONAL.has(`${opName}.${key}`)) throw new RunnerError(`${opName}: missing required argument '${key}'`);
  return out;
}

const OPTIONAL_POSITIONAL = new Set(['listCollections.filter', 'listCollectionNames.filter', 'listCollectionObjects.filter', 'listDatabases.filter', 'listDatabaseNames.filter', 'listDatabaseObjects.filter', 'createChangeStream.pipeline', 'listSearchIndexes.name']);

function convertArgument(env: OperationEnv, opName: string, key: string, value: unknown): unknown {
  switch (key) {
    case 'session':
      return env.entities.getKind(value, 'session').session;
    case 'readConcern':
      return readConcernOf(value);
    case 'writeConcern':
      return writeConcernOf(value);
    case 'readPreference':
      return readPreferenceOf(value);
    case 'returnDocument': {
      const v = typeof value === 'string' ? value.toLowerCase() : '';
      if (v !== 'before' && v !== 'after') throw new RunnerError(`${opName}: returnDocument must be "Before" or "After", got ${JSON.stringify(value)}`);
      return v;
    }
    default:
      return DATA_ARGS.has(key) ? value : toNative(value);
  }
}

/**
 * Results are decoded with the driver's defaults. (Decoding with promoteValues: false would keep
 * Int32/Double wrappers for $$type, but the driver then misreads error codes and stops retrying.)
 */
const READ_DECODING = {} as const;

const CRUD_COMMON = ['session', 'comment', 'timeoutMS', 'rawData'];
const FIND_OPTIONS = [...CRUD_COMMON, 'allowDiskUse', 'allowPartialResults', 'batchSize', 'collation', 'hint', 'let', 'limit', 'max', 'maxAwaitTimeMS', 'maxTimeMS', 'min', 'noCursorTimeout', 'projection', 'returnKey', 'showRecordId', 'skip', 'sort', 'readConcern', 'readPreference', 'cursorType', 'timeoutMode'];
const WRITE_OPTIONS = [...CRUD_COMMON, 'writeConcern', 'bypassDocumentValidation'];
const UPDATE_OPTIONS = [...WRITE_OPTIONS, 'arrayFilters', 'collation', 'hint', 'let', 'upsert', 'sort'];
const DELETE_OPTIONS = [...CRUD_COMMON, 'writeConcern', 'collation', 'hint', 'let'];
const FAM_OPTIONS = [...WRITE_OPTIONS, 'collation', 'hint', 'let', 'maxTimeMS', 'projection', 'sort'];
const AGG_OPTIONS = [...CRUD_COMMON, 'allowDiskUse', 'batchSize', 'bypassDocumentValidation', 'collation', 'hint', 'let', 'maxTimeMS', 'maxAwaitTimeMS', 'readConcern', 'readPreference', 'writeConcern', 'timeoutMode'];
const CHANGE_STREAM_OPTIONS = ['session', 'comment', 'batchSize', 'collation', 'fullDocument', 'fullDocumentBeforeChange', 'maxAwaitTimeMS', 'resumeAfter', 'startAfter', 'startAtOperationTime', 'showExpandedEvents', 'timeoutMS'];

type Handler = (env: OperationEnv, target: never, args: Args, name: string) => Promise<OperationOutcome>;

function value(result: unknown): OperationOutcome {
  return { result, kind: 'value' };
}
function document(result: unknown): OperationOutcome {
  return { result, kind: 'document' };
}
function documents(result: unknown): OperationOutcome {
  return { result, kind: 'documents' };
}

/** Drops the driver's `null` stand-ins for absent optional fields (e.g. UpdateResult.upsertedId). */
function withoutNulls(r: object): Doc {
  return Object.fromEntries(Object.entries(r).filter(([, v]) => v !== null && v !== undefined));
}

/** BulkWriteResult → the CRUD spec's fields. */
export function bulkWriteResultDoc(r: {
  insertedCount: number; matchedCount: number; modifiedCount: number; deletedCount: number; upsertedCount: number;
  insertedIds: Record<number, unknown>; upsertedIds: Record<number, unknown>;
}): Doc {
  return {
    insertedCount: r.insertedCount,
    matchedCount: r.matchedCount,
    modifiedCount: r.modifiedCount,
    deletedCount: r.deletedCount,
    upsertedCount: r.upsertedCount,
    insertedIds: { ...r.insertedIds },
    upsertedIds: { ...r.upsertedIds },
  };
}

/** A Map (client bulk write results) as a document keyed by index. */
function mapDoc(m: unknown): unknown {
  if (!(m instanceof Map)) return m;
  return Object.fromEntries([...m.entries()].map(([k, v]) => [String(k), isDoc(v) ? withoutNulls(v) : v && typeof v === 'object' ? withoutNulls(v as object) : v]));
}

/**
 * The bulk write spec's UpdateResult: upsertedId is optional and must tell a null _id from no
 * upsert; the spec lets drivers add didUpsert for that, which driver 7 does (and leaves upsertedId
 * null without an upsert). The spec's shape has upsertedId exactly when didUpsert is true.
 */
function clientUpdateResultDoc(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  const { didUpsert, upsertedId, ...rest } = v as Record<string, unknown>;
  if (typeof didUpsert !== 'boolean') throw new RunnerError('clientBulkWrite: an update result without didUpsert');
  return didUpsert ? { ...rest, upsertedId } : rest;
}

export function clientBulkWriteResultDoc(r: Record<string, unknown>): Doc {
  const out: Doc = {};
  for (const k of ['insertedCount', 'upsertedCount', 'matchedCount', 'modifiedCount', 'deletedCount']) out[k] = r[k];
  for (const k of ['insertResults', 'deleteResults']) if (r[k] !== undefined) out[k] = mapDoc(r[k]);
  if (r.updateResults instanceof Map) {
    out.updateResults = Object.fromEntries([...r.updateResults.entries()].map(([k, v]) => [String(k), clientUpdateResultDoc(v)]));
  } else if (r.updateResults !== undefined) out.updateResults = r.updateResults;
  return out;
}

function bulkRequests(requests: unknown): AnyBulkWriteOperation[] {
  if (!Array.isArray(requests)) throw new RunnerError('bulkWrite: requests must be an array');
  const allowed: Record<string, string[]> = {
    insertOne: ['document'],
    updateOne: ['filter', 'update', 'upsert', 'arrayFilters', 'collation', 'hint', 'sort'],
    updateMany: ['filter', 'update', 'upsert', 'arrayFilters', 'collation', 'hint'],
    replaceOne: ['filter', 'replacement', 'upsert', 'collation', 'hint', 'sort'],
    deleteOne: ['filter', 'collation', 'hint'],
    deleteMany: ['filter', 'collation', 'hint'],
  };
  return requests.map((r) => {
    if (!isDoc(r) || Object.keys(r).length !== 1) throw new RunnerError('bulkWrite: each request is a single-key document');
    const [type, spec] = Object.entries(r)[0]!;
    if (!allowed[type]) throw new RunnerError(`bulkWrite: unknown request type '${type}'`);
    if (!isDoc(spec)) throw new RunnerError(`bulkWrite: ${type} takes a document`);
    const model: Doc = {};
    for (const [k, v] of Object.entries(spec)) {
      if (!allowed[type]!.includes(k)) throw new RunnerError(`bulkWrite: ${type}: unsupported field '${k}'`);
      model[k] = DATA_ARGS.has(k) ? v : toNative(v);
    }
    return { [type]: model } as unknown as AnyBulkWriteOperation;
  });
}

function clientBulkModels(models: unknown): unknown[] {
  if (!Array.isArray(models)) throw new RunnerError('clientBulkWrite: models must be an array');
  const allowed: Record<string, string[]> = {
    insertOne: ['namespace', 'document'],
    updateOne: ['namespace', 'filter', 'update', 'upsert', 'arrayFilters', 'collation', 'hint', 'sort'],
    updateMany: ['namespace', 'filter', 'update', 'upsert', 'arrayFilters', 'collation', 'hint'],
    replaceOne: ['namespace', 'filter', 'replacement', 'upsert', 'collation', 'hint', 'sort'],
    deleteOne: ['namespace', 'filter', 'collation', 'hint'],
    deleteMany: ['namespace', 'filter', 'collation', 'hint'],
  };
  return models.map((m) => {
    if (!isDoc(m) || Object.keys(m).length !== 1) throw new RunnerError('clientBulkWrite: each model is a single-key document');
    const [type, spec] = Object.entries(m)[0]!;
    if (!allowed[type] || !isDoc(spec)) throw new RunnerError(`clientBulkWrite: unknown model '${type}'`);
    for (const k of Object.keys(spec)) if (!allowed[type]!.includes(k)) throw new RunnerError(`clientBulkWrite: ${type}: unsupported field '${k}'`);
    const model: Doc = { name: type };
    for (const [k, v] of Object.entries(spec)) model[k] = DATA_ARGS.has(k) || k === 'namespace' ? v : toNative(v);
    return model;
  });
}

/** Starts the server-side cursor without consuming a document (the driver exposes this for runners). */
async function initCursor(cursor: AbstractCursor): Promise<void> {
  await (cursor as unknown as { cursorInit(): Promise<void> }).cursorInit();
}

async function createChangeStream(stream: ChangeStream): Promise<OperationOutcome> {
  const cursor = (stream as unknown as { cursor: AbstractCursor }).cursor;
  try {
    await initCursor(cursor);
  } catch (e) {
    await stream.close().catch(() => undefined);
    throw e;
  }
  return { result: undefined, kind: 'value', entity: { kind: 'changeStream', stream } };
}

function runCommandArgs(name: string, args: Args): { command: Doc; commandName: string } {
  const { command, commandName } = args;
  if (!isDoc(command)) throw new RunnerError(`${name}: command must be a document`);
  if (typeof commandName !== 'string') throw new RunnerError(`${name}: commandName must be a string`);
  if (Object.keys(command)[0] !== commandName) throw new RunnerError(`${name}: commandName '${commandName}' is not the command's first key`);
  return { command, commandName };
}

async function streamToBuffer(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

const collectionOps: Record<string, Handler> = {
  async aggregate(env, c: Collection, args) {
    const o = options(env, 'aggregate', args, AGG_OPTIONS, ['pipeline']);
    return documents(await c.aggregate(args.pipeline as Doc[], { ...READ_DECODING, ...o }).toArray());
  },
  async bulkWrite(env, c: Collection, args) {
    const o = options(env, 'bulkWrite', args, [...WRITE_OPTIONS, 'ordered', 'let'], ['requests']);
    return document(bulkWriteResultDoc(await c.bulkWrite(bulkRequests(args.requests), o)));
  },
  async countDocuments(env, c: Collection, args) {
    const o = options(env, 'countDocuments', args, [...CRUD_COMMON, 'collation', 'hint', 'limit', 'maxTimeMS', 'skip', 'readConcern', 'readPreference'], ['filter']);
    return value(await c.countDocuments((args.filter ?? {}) as Doc, o));
  },
  async count(env, c: Collection, args) {
    const o = options(env, 'count', args, [...CRUD_COMMON, 'collation', 'hint', 'limit', 'maxTimeMS', 'skip', 'readConcern', 'readPreference'], ['filter']);
    return value(await c.count((args.filter ?? {}) as Doc, o));
  },
  async estimatedDocumentCount(env, c: Collection, args) {
    const o = options(env, 'estimatedDocumentCount', args, ['comment', 'maxTimeMS', 'timeoutMS', 'rawData', 'readConcern', 'readPreference']);
    return value(await c.estimatedDocumentCount(o));
  },
  async distinct(env, c: Collection, args) {
    const o = options(env, 'distinct', args, [...CRUD_COMMON, 'collation', 'hint', 'maxTimeMS', 'readConcern', 'readPreference'], ['fieldName', 'filter']);
    if (typeof args.fieldName !== 'string') throw new RunnerError('distinct: fieldName must be a string');
    return value(await c.distinct(args.fieldName, (args.filter ?? {}) as Doc, { ...READ_DECODING, ...o }));
  },
  async find(env, c: Collection, args) {
    const o = options(env, 'find', args, FIND_OPTIONS, ['filter']);
    return documents(await c.find((args.filter ?? {}) as Doc, { ...READ_DECODING, ...o }).toArray());
  },
  async findOne(env, c: Collection, args) {
    const o = options(env, 'findOne', args, FIND_OPTIONS, ['filter']);
    return document(await c.findOne((args.filter ?? {}) as Doc, { ...READ_DECODING, ...o }));
  },
  async createFindCursor(env, c: Collection, args) {
    const o = options(env, 'createFindCursor', args, FIND_OPTIONS, ['filter']);
    const cursor = c.find((args.filter ?? {}) as Doc, { ...READ_DECODING, ...o });
    await initCursor(cursor);
    return { result: undefined, kind: 'value', entity: { kind: 'findCursor', cursor } };
  },
  async findOneAndDelete(env, c: Collection, args) {
    const o = options(env, 'findOneAndDelete', args, FAM_OPTIONS, ['filter']);
    return document(await c.findOneAndDelete(args.filter as Doc, { ...READ_DECODING, ...o }));
  },
  async findOneAndReplace(env, c: Collection, args) {
    const o = options(env, 'findOneAndReplace', args, [...FAM_OPTIONS, 'returnDocument', 'upsert'], ['filter', 'replacement']);
    return document(await c.findOneAndReplace(args.filter as Doc, args.replacement as Doc, { ...READ_DECODING, ...o }));
  },
  async findOneAndUpdate(env, c: Collection, args) {
    const o = options(env, 'findOneAndUpdate', args, [...FAM_OPTIONS, 'returnDocument', 'upsert', 'arrayFilters'], ['filter', 'update']);
    return document(await c.findOneAndUpdate(args.filter as Doc, args.update as Doc, { ...READ_DECODING, ...o }));
  },
  async insertOne(env, c: Collection, args) {
    const o = options(env, 'insertOne', args, WRITE_OPTIONS, ['document']);
    return document(withoutNulls(await c.insertOne(args.document as Doc, o)));
  },
  async insertMany(env, c: Collection, args) {
    const o = options(env, 'insertMany', args, [...WRITE_OPTIONS, 'ordered'], ['documents']);
    const r = await c.insertMany(args.documents as Doc[], o);
    return document({ insertedCount: r.insertedCount, insertedIds: { ...r.insertedIds } });
  },
  async deleteOne(env, c: Collection, args) {
    const o = options(env, 'deleteOne', args, DELETE_OPTIONS, ['filter']);
    return document(withoutNulls(await c.deleteOne(args.filter as Doc, o)));
  },
  async deleteMany(env, c: Collection, args) {
    const o = options(env, 'deleteMany', args, DELETE_OPTIONS, ['filter']);
    return document(withoutNulls(await c.deleteMany(args.filter as Doc, o)));
  },
  async replaceOne(env, c: Collection, args) {
    const o = options(env, 'replaceOne', args, UPDATE_OPTIONS.filter((k) => k !== 'arrayFilters'), ['filter', 'replacement']);
    return document(withoutNulls(await c.replaceOne(args.filter as Doc, args.replacement as Doc, o)));
  },
  async updateOne(env, c: Collection, args) {
    const o = options(env, 'updateOne', args, UPDATE_OPTIONS, ['filter', 'update']);
    return document(withoutNulls(await c.updateOne(args.filter as Doc, args.update as Doc, o)));
  },
  async updateMany(env, c: Collection, args) {
    const o = options(env, 'updateMany', args, UPDATE_OPTIONS.filter((k) => k !== 'sort'), ['filter', 'update']);
    return document(withoutNulls(await c.updateMany(args.filter as Doc, args.update as Doc, o)));
  },
  async createIndex(env, c: Collection, args) {
    const o = options(env, 'createIndex', args, ['session', 'name', 'unique', 'sparse', 'expireAfterSeconds', 'partialFilterExpression', 'hidden', 'collation', 'commitQuorum', 'maxTimeMS', 'comment', 'timeoutMS', 'rawData', 'writeConcern', 'background', 'storageEngine', 'version', 'weights', 'default_language', 'language_override', 'textIndexVersion', '2dsphereIndexVersion', 'bits', 'min', 'max', 'wildcardProjection'], ['keys']);
    return value(await c.createIndex(toNative(args.keys) as never, o));
  },
  async dropIndex(env, c: Collection, args) {
    const o = options(env, 'dropIndex', args, ['session', 'maxTimeMS', 'comment', 'timeoutMS', 'rawData', 'writeConcern'], ['name']);
    return document(await c.dropIndex(args.name as string, o));
  },
  async dropIndexes(env, c: Collection, args) {
    const o = options(env, 'dropIndexes', args, ['session', 'maxTimeMS', 'comment', 'timeoutMS', 'writeConcern']);
    return value(await c.dropIndexes(o));
  },
  async listIndexes(env, c: Collection, args) {
    const o = options(env, 'listIndexes', args, ['session', 'batchSize', 'comment', 'timeoutMS', 'rawData']);
    return documents(await c.listIndexes({ ...READ_DECODING, ...o }).toArray());
  },
  async listIndexNames(env, c: Collection, args) {
    const o = options(env, 'listIndexNames', args, ['session', 'batchSize', 'comment', 'timeoutMS']);
    return value((await c.listIndexes(o).toArray()).map((i) => i.name));
  },
  async createChangeStream(env, c: Collection, args) {
    const o = options(env, 'createChangeStream', args, CHANGE_STREAM_OPTIONS, ['pipeline']);
    return createChangeStream(c.watch((args.pipeline ?? []) as Doc[], o));
  },
  async rename(env, c: Collection, args) {
    const o = options(env, 'rename', args, ['session', 'dropTarget', 'comment', 'timeoutMS'], ['to']);
    await c.rename(args.to as string, o);
    return value(undefined);
  },
  async drop(env, c: Collection, args) {
    const o = options(env, 'drop', args, ['session', 'comment', 'timeoutMS', 'writeConcern']);
    return value(await c.drop(o));
  },
  async createSearchIndex(env, c: Collection, args) {
    options(env, 'createSearchIndex', args, [], ['model']);
    return value(await c.createSearchIndex(args.model as never));
  },
  async createSearchIndexes(env, c: Collection, args) {
    options(env, 'createSearchIndexes', args, [], ['models']);
    return value(await c.createSearchIndexes(args.models as never));
  },
  async dropSearchIndex(env, c: Collection, args) {
    options(env, 'dropSearchIndex', args, [], ['name']);
    await c.dropSearchIndex(args.name as string);
    return value(undefined);
  },
  async updateSearchIndex(env, c: Collection, args) {
    options(env, 'updateSearchIndex', args, [], ['name', 'definition']);
    await c.updateSearchIndex(args.name as string, args.definition as Doc);
    return value(undefined);
  },
  async listSearchIndexes(env, c: Collection, args) {
    const o = options(env, 'listSearchIndexes', args, ['aggregationOptions'], ['name']);
    const aggOptions = (o.aggregationOptions ?? {}) as Doc;
    const cursor = typeof args.name === 'string' ? c.listSearchIndexes(args.name, aggOptions) : c.listSearchIndexes(aggOptions);
    return documents(await cursor.toArray());
  },
};

const databaseOps: Record<string, Handler> = {
  async runCommand(env, db: Db, args) {
    const { command } = runCommandArgs('runCommand', args);
    const o = options(env, 'runCommand', args, ['session', 'readPreference', 'timeoutMS'], ['command', 'commandName']);
    return document(await db.command(command, { ...READ_DECODING, ...o }));
  },
  async runCursorCommand(env, db: Db, args) {
    const { command } = runCommandArgs('runCursorCommand', args);
    const o = options(env, 'runCursorCommand', args, ['session', 'readPreference', 'batchSize', 'comment', 'maxTimeMS', 'cursorType', 'timeoutMode', 'timeoutMS'], ['command', 'commandName']);
    return documents(await commandCursor(db, command, o).toArray());
  },
  async createCommandCursor(env, db: Db, args) {
    const { command } = runCommandArgs('createCommandCursor', args);
    const o = options(env, 'createCommandCursor', args, ['session', 'readPreference', 'batchSize', 'comment', 'maxTimeMS', 'cursorType', 'timeoutMode', 'timeoutMS'], ['command', 'commandName']);
    const cursor = commandCursor(db, command, o);
    await initCursor(cursor);
    return { result: undefined, kind: 'value', entity: { kind: 'commandCursor', cursor } };
  },
  async aggregate(env, db: Db, args) {
    const o = options(env, 'aggregate', args, AGG_OPTIONS, ['pipeline']);
    return documents(await db.aggregate(args.pipeline as Doc[], { ...READ_DECODING, ...o }).toArray());
  },
  async createChangeStream(env, db: Db, args) {
    const o = options(env, 'createChangeStream', args, CHANGE_STREAM_OPTIONS, ['pipeline']);
    return createChangeStream(db.watch((args.pipeline ?? []) as Doc[], o));
  },
  async listCollections(env, db: Db, args) {
    const o = options(env, 'listCollections', args, ['session', 'batchSize', 'comment', 'timeoutMS', 'rawData', 'authorizedCollections'], ['filter']);
    return documents(await db.listCollections((args.filter ?? {}) as Doc, { ...READ_DECODING, ...o }).toArray());
  },
  async listCollectionNames(env, db: Db, args) {
    const o = options(env, 'listCollectionNames', args, ['session', 'batchSize', 'comment', 'timeoutMS', 'authorizedCollections'], ['filter']);
    return value((await db.listCollections((args.filter ?? {}) as Doc, { ...o, nameOnly: true }).toArray()).map((c) => c.name));
  },
  async listCollectionObjects(env, db: Db, args) {
    const o = options(env, 'listCollectionObjects', args, ['session', 'batchSize', 'comment', 'timeoutMS', 'authorizedCollections'], ['filter']);
    return documents(await db.listCollections((args.filter ?? {}) as Doc, o).toArray());
  },
  async createCollection(env, db: Db, args) {
    const o = options(env, 'createCollection', args, ['session', 'capped', 'size', 'max', 'storageEngine', 'validator', 'validationLevel', 'validationAction', 'indexOptionDefaults', 'viewOn', 'pipeline', 'collation', 'writeConcern', 'timeseries', 'expireAfterSeconds', 'clusteredIndex', 'changeStreamPreAndPostImages', 'encryptedFields', 'comment', 'timeoutMS'], ['collection']);
    if (o.pipeline !== undefined) o.pipeline = args.pipeline;
    const coll = await db.createCollection(args.collection as string, o);
    return { result: undefined, kind: 'value', entity: { kind: 'collection', coll, clientId: '' } };
  },
  async dropCollection(env, db: Db, args) {
    const o = options(env, 'dropCollection', args, ['session', 'writeConcern', 'comment', 'timeoutMS', 'encryptedFields'], ['collection']);
    return value(await db.dropCollection(args.collection as string, o));
  },
  async modifyCollection(env, db: Db, args) {
    const { collection, session, ...rest } = args;
    if (typeof collection !== 'string') throw new RunnerError('modifyCollection: collection must be a string');
    const known = ['validator', 'validationLevel', 'validationAction', 'index', 'changeStreamPreAndPostImages', 'expireAfterSeconds', 'timeseries', 'viewOn', 'pipeline', 'comment'];
    for (const k of Object.keys(rest)) if (!known.includes(k)) throw new RunnerError(`modifyCollection: unsupported argument '${k}'`);
    const o = session === undefined ? {} : { session: env.entities.getKind(session, 'session').session };
    return document(await db.command({ collMod: collection, ...rest }, o));
  },
  async dropDatabase(env, db: Db, args) {
    const o = options(env, 'dropDatabase', args, ['session', 'writeConcern', 'comment', 'timeoutMS']);
    return value(await db.dropDatabase(o));
  },
};

function commandCursor(db: Db, command: Doc, o: Record<string, unknown>): AbstractCursor {
  const { batchSize, maxTimeMS, comment, ...rest } = o;
  const cursor = db.runCursorCommand(command, { ...READ_DECODING, ...rest });
  if (batchSize !== undefined) cursor.setBatchSize(batchSize as number);
  if (maxTimeMS !== undefined) cursor.setMaxTimeMS(maxTimeMS as number);
  if (comment !== undefined) cursor.setComment(comment);
  return cursor;
}

const clientOps: Record<string, Handler> = {
  async listDatabases(env, client: MongoClient, args) {
    const o = options(env, 'listDatabases', args, ['session', 'authorizedDatabases', 'nameOnly', 'comment', 'timeoutMS'], ['filter']);
    const r = await client.db('admin').admin().listDatabases({ ...o, ...(args.filter ? { filter: args.filter } : {}) } as never);
    return documents(r.databases);
  },
  async listDatabaseNames(env, client: MongoClient, args) {
    const o = options(env, 'listDatabaseNames', args, ['session', 'authorizedDatabases', 'comment', 'timeoutMS'], ['filter']);
    const r = await client.db('admin').admin().listDatabases({ ...o, nameOnly: true, ...(args.filter ? { filter: args.filter } : {}) } as never);
    return value(r.databases.map((d) => d.name));
  },
  async listDatabaseObjects(env, client: MongoClient, args) {
    const o = options(env, 'listDatabaseObjects', args, ['session', 'authorizedDatabases', 'nameOnly', 'comment', 'timeoutMS'], ['filter']);
    const r = await client.db('admin').admin().listDatabases({ ...o, ...(args.filter ? { filter: args.filter } : {}) } as never);
    return documents(r.databases);
  },
  async createChangeStream(env, client: MongoClient, args) {
    const o = options(env, 'createChangeStream', args, CHANGE_STREAM_OPTIONS, ['pipeline']);
    return createChangeStream(client.watch((args.pipeline ?? []) as Doc[], o));
  },
  async clientBulkWrite(env, client: MongoClient, args) {
    const o = options(env, 'clientBulkWrite', args, ['session', 'ordered', 'bypassDocumentValidation', 'comment', 'let', 'verboseResults', 'writeConcern', 'timeoutMS', 'rawData'], ['models']);
    const r = await client.bulkWrite(clientBulkModels(args.models) as never, o);
    return document(clientBulkWriteResultDoc(r as unknown as Record<string, unknown>));
  },
  async dropDatabase(env, client: MongoClient, args) {
    const o = options(env, 'dropDatabase', args, ['session', 'writeConcern'], ['database']);
    return value(await client.db(args.database as string).dropDatabase(o));
  },
  async close(env, client: MongoClient, args) {
    options(env, 'close', args, []);
    await client.close();
    return value(undefined);
  },
};

const sessionOps: Record<string, Handler> = {
  async startTransaction(env, s: ClientSession, args) {
    const o = options(env, 'startTransaction', args, ['readConcern', 'writeConcern', 'readPreference', 'maxCommitTimeMS']);
    env.noteTransaction();
    s.startTransaction(o);
    return value(undefined);
  },
  async commitTransaction(env, s: ClientSession, args) {
    const o = options(env, 'commitTransaction', args, ['timeoutMS']);
    await s.commitTransaction(o);
    return value(undefined);
  },
  async abortTransaction(env, s: ClientSession, args) {
    const o = options(env, 'abortTransaction', args, ['timeoutMS']);
    await s.abortTransaction(o);
    return value(undefined);
  },
  async withTransaction(env, s: ClientSession, args) {
    const o = options(env, 'withTransaction', args, ['readConcern', 'writeConcern', 'readPreference', 'maxCommitTimeMS', 'timeoutMS'], ['callback']);
    if (!Array.isArray(args.callback)) throw new RunnerError('withTransaction: callback must be an array of operations');
    env.noteTransaction();
    await s.withTransaction(async () => {
      for (const op of args.callback as Doc[]) await env.runNested(op);
    }, o);
    return value(undefined);
  },
  async endSession(env, s: ClientSession, args) {
    options(env, 'endSession', args, []);
    await s.endSession();
    return value(undefined);
  },
  async getSnapshotTime(env, s: ClientSession, args) {
    options(env, 'getSnapshotTime', args, []);
    return value((s as unknown as { snapshotTime?: unknown }).snapshotTime);
  },
};

/** The cursor-like entities all iterate the same three ways. */
type Iterable = { kind: 'findCursor' | 'commandCursor'; cursor: AbstractCursor } | { kind: 'changeStream'; stream: ChangeStream };

const cursorOps: Record<string, Handler> = {
  async iterateUntilDocumentOrError(env, it: Iterable, args) {
    options(env, 'iterateUntilDocumentOrError', args, []);
    if (it.kind === 'changeStream') return document(await it.stream.next());
    return document(await it.cursor.next());
  },
  async iterateOnce(env, it: Iterable, args) {
    options(env, 'iterateOnce', args, []);
    if (it.kind === 'changeStream') return document(await it.stream.tryNext());
    return document(await it.cursor.tryNext());
  },
  async close(env, it: Iterable, args) {
    options(env, 'close', args, []);
    // The format: errors closing a cursor are suppressed; monitoring events tell killCursors' fate.
    await (it.kind === 'changeStream' ? it.stream.close() : it.cursor.close()).catch(() => undefined);
    return value(undefined);
  },
};

function hexSource(source: unknown): Buffer {
  if (!isDoc(source) || Object.keys(source).length !== 1 || typeof source.$$hexBytes !== 'string' || !/^([0-9a-fA-F]{2})*$/.test(source.$$hexBytes)) {
    throw new RunnerError(`upload: source must be {$$hexBytes: <even-length hex>}, got ${JSON.stringify(source)}`);
  }
  return Buffer.from(source.$$hexBytes, 'hex');
}

async function upload(bucket: GridFSBucket, id: unknown, filename: string, data: Buffer, o: Record<string, unknown>): Promise<unknown> {
  const stream = id === undefined ? bucket.openUploadStream(filename, o) : bucket.openUploadStreamWithId(id as never, filename, o);
  await new Promise<void>((resolve, reject) => {
    Readable.from([data]).pipe(stream).on('finish', () => resolve()).on('error', reject);
  });
  return stream.id;
}

const bucketOps: Record<string, Handler> = {
  async upload(env, b: GridFSBucket, args) {
    const o = options(env, 'upload', args, ['chunkSizeBytes', 'metadata', 'disableMD5', 'contentType', 'aliases'], ['filename', 'source']);
    return value(await upload(b, undefined, args.filename as string, hexSource(args.source), o));
  },
  async uploadWithId(env, b: GridFSBucket, args) {
    const o = options(env, 'uploadWithId', args, ['chunkSizeBytes', 'metadata', 'disableMD5', 'contentType', 'aliases'], ['id', 'filename', 'source']);
    return value(await upload(b, args.id, args.filename as string, hexSource(args.source), o));
  },
  async download(env, b: GridFSBucket, args) {
    options(env, 'download', args, [], ['id']);
    return value(await streamToBuffer(b.openDownloadStream(args.id as never)));
  },
  async downloadByName(env, b: GridFSBucket, args) {
    const o = options(env, 'downloadByName', args, ['revision'], ['filename']);
    return value(await streamToBuffer(b.openDownloadStreamByName(args.filename as string, o)));
  },
  async delete(env, b: GridFSBucket, args) {
    options(env, 'delete', args, [], ['id']);
    await b.delete(args.id as never);
    return value(undefined);
  },
  async rename(env, b: GridFSBucket, args) {
    options(env, 'rename', args, [], ['id', 'newFilename']);
    await b.rename(args.id as never, args.newFilename as string);
    return value(undefined);
  },
  async drop(env, b: GridFSBucket, args) {
    options(env, 'drop', args, []);
    await b.drop();
    return value(undefined);
  },
};

/** Runs entity operation `name` on `entity`; unknown operations are errors. */
export async function runEntityOperation(env: OperationEnv, entity: Entity, name: string, args: Args): Promise<OperationOutcome> {
  const call = (table: Record<string, Handler>, target: unknown): Promise<OperationOutcome> => {
    const handler = Object.prototype.hasOwnProperty.call(table, name) ? table[name] : undefined;
    if (!handler) throw new RunnerError(`unsupported operation '${name}' on a ${entity.kind} entity`);
    return handler(env, target as never, args, name);
  };
  switch (entity.kind) {
    case 'client':
      return call(clientOps, entity.client.client);
    case 'database':
      return call(databaseOps, entity.db);
    case 'collection':
      return call(collectionOps, entity.coll);
    case 'session':
      return call(sessionOps, entity.session);
    case 'bucket':
      return call(bucketOps, entity.bucket);
    case 'findCursor':
    case 'commandCursor':
    case 'changeStream':
      return call(cursorOps, entity);
    default:
      throw new RunnerError(`entity of kind ${entity.kind} has no operations (asked for '${name}')`);
  }
}

export { ChangeStream, Collection, MongoBulkWriteError, collectionOrDatabaseOptions };
