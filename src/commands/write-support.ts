/**
 * The write path shared by insert, update, delete and findAndModify: preparing documents for
 * storage (_id first, empty timestamps filled, size and validity checks, the validator) and
 * executing one update or delete statement inside a storage transaction.
 */
import { DossierError, ErrorCodes, fail } from '../base/index.js';
import { BSON_OBJECT_SIZE_MAX_BYTES } from '../base/limits.js';
import { documentSize, hasKeyOrder, isDocument, ObjectId, orderedKeys, setKeyOrder, toJsNumber, typeNameOf, type BsonValue, type Collator, type Document, type Timestamp } from '../bson/index.js';
import type { Collection, RecordId, StorageTxn, UpdateKind } from '../storage/index.js';
import { timestampOf } from '../time/index.js';
import { applyUpdate, buildUpsertSeed, parseUpdate, validateStorable, type ApplyResult, type ParsedUpdate } from '../query/update/index.js';
import { runQuery, type Candidate } from '../query/executor.js';
import { compileQuery, effectiveCollation, matcherFactoryFor } from './query-support.js';
import { runWrite } from './write-path.js';
import { pipelineUpdateHook } from '../query/aggregate/index.js';
import { matches } from '../query/filter/index.js';
import type { CommandContext } from './types.js';
import type { Instance } from './instance.js';

/** Puts `_id` first (generating an ObjectId when absent) and fills top-level empty timestamps, as mongod's fixDocumentForInsert. */
export function prepareForInsert(instance: Instance, doc: Document): Document {
  const out: Document = {};
  out._id = doc._id === undefined ? new ObjectId() : doc._id;
  const keys = orderedKeys(doc);
  for (const k of keys) {
    if (k === '_id') continue;
    const v = doc[k];
    out[k] = typeNameOf(v) === 'timestamp' && (v as Timestamp).high === 0 && (v as Timestamp).low === 0 ? timestampOf(instance.hlc.tick()) : v;
  }
  if (hasKeyOrder(doc)) setKeyOrder(out, ['_id', ...keys.filter((k) => k !== '_id')]);
  return out;
}

export function checkStorable(doc: Document, context: 'insert' | 'update'): void {
  validateStorable(doc, { context });
  const size = documentSize(doc);
  if (size > BSON_OBJECT_SIZE_MAX_BYTES) {
    throw new DossierError(ErrorCodes.BSONObjectTooLarge, `object to insert too large. size in bytes: ${size}, max size: ${BSON_OBJECT_SIZE_MAX_BYTES}`);
  }
}

export function validateAgainstCollection(coll: Collection, doc: Document, before: Document | null, bypass: boolean): void {
  checkTimeseriesMeasurement(coll, doc);
  if (bypass || !coll.validate) return;
  if (before && coll.options.validationLevel === 'moderate') {
    try {
      coll.validate(before);
    } catch {
      return; // moderate: documents that already broke the rules may stay broken
    }
  }
  coll.validate(doc);
}

/** A time-series measurement needs a date in the time field, whatever bypassDocumentValidation says. */
function checkTimeseriesMeasurement(coll: Collection, doc: Document): void {
  const ts = coll.options.timeseries;
  if (!isDocument(ts) || typeof ts.timeField !== 'string') return;
  if (!(doc[ts.timeField] instanceof Date)) fail('BadValue', `'${ts.timeField}' must be present and contain a valid BSON UTC datetime value`);
}

/** mongod refuses a transaction's writes to a capped collection before any statement runs. */
export function checkWriteAllowedInTransaction(coll: Collection | undefined, inTransaction: boolean): void {
  if (inTransaction && coll?.options.capped === true) {
    fail('OperationNotSupportedInTransaction', `Collection '${coll.ns}' is a capped collection. Writes in transactions are not allowed on capped collections.`);
  }
}

/** ... and a transaction's inserts into a time-series collection. */
export function checkInsertAllowedInTransaction(coll: Collection | undefined, inTransaction: boolean): void {
  if (inTransaction && coll?.options.timeseries !== undefined) fail('OperationNotSupportedInTransaction', 'Cannot insert into a time-series collection in a multi-document transaction.');
  checkWriteAllowedInTransaction(coll, inTransaction);
}

/**
 * A capped collection keeps its newest documents: after an insert, the oldest go (in insertion
 * order, in the same write) until the collection is back within its size and document count.
 */
function enforceCap(txn: StorageTxn, coll: Collection): void {
  const maxBytes = toJsNumber(coll.options.size ?? 0);
  const maxDocs = coll.options.max === undefined ? 0 : toJsNumber(coll.options.max);
  const records: Array<{ rid: RecordId; bytes: number }> = [];
  let bytes = 0;
  for (const { rid, doc } of txn.scan(coll)) {
    const size = documentSize(doc);
    records.push({ rid, bytes: size });
    bytes += size;
  }
  let count = records.length;
  for (const r of records) {
    if (bytes <= maxBytes && (maxDocs <= 0 || count <= maxDocs)) break;
    txn.delete(coll, r.rid);
    bytes -= r.bytes;
    count--;
  }
}

export function insertDocument(instance: Instance, txn: StorageTxn, coll: Collection, raw: Document, bypassValidation: boolean): Document {
  const doc = prepareForInsert(instance, raw);
  checkStorable(doc, 'insert');
  validateAgainstCollection(coll, doc, null, bypassValidation);
  if (coll.options.capped === true && documentSize(doc) > toJsNumber(coll.options.size ?? 0)) fail('BadValue', 'object to insert exceeds cappedMaxSize');
  txn.insert(coll, doc);
  if (coll.options.capped === true) enforceCap(txn, coll);
  return doc;
}

export interface UpdateStatement {
  q: Document;
  u: Document | Document[];
  upsert: boolean;
  multi: boolean;
  arrayFilters: Document[] | undefined;
  hint: BsonValue;
  sort?: Document;
  bypassDocumentValidation: boolean;
  /** `let` constants ($$name) for $expr and pipeline updates: the command's `let` and the statement's `c`. */
  lets?: Document;
  /** The statement's `collation`: undefined means the collection's default. */
  collation?: Collator | null;
}

export interface UpdateOutcome {
  n: number;
  nModified: number;
  upsertedId: BsonValue | undefined;
  /** For findAndModify: the document before and after the (first) update. */
  before: Document | null;
  after: Document | null;
}

/** Parses the update of a statement; arrayFilters and $pull conditions compare by its collation on `coll`. */
export function parseUpdateStatement(stmt: UpdateStatement, coll: Collection | undefined): ParsedUpdate {
  const collator = effectiveCollation(stmt.collation, coll);
  const parsed = parseUpdate(stmt.u, { arrayFilters: stmt.arrayFilters, matcherFactory: matcherFactoryFor(collator), collator, parsePipeline: pipelineUpdateHook(stmt.lets ? { let: stmt.lets } : {}) });
  if (stmt.multi && parsed.kind === 'replacement') fail('FailedToParse', 'multi update is not supported for replacement-style update');
  return parsed;
}

/** Runs one update statement (all matches when multi) and its upsert, inside `txn`. */
export function executeUpdate(instance: Instance, txn: StorageTxn, db: string, collName: string, stmt: UpdateStatement, parsed: ParsedUpdate): UpdateOutcome {
  let coll = instance.getCollection(db, collName);
  const query = compileQuery(coll, stmt.q, stmt.sort, stmt.hint, new Date(instance.clock.nowMs()), stmt.lets, stmt.collation);
  const outcome: UpdateOutcome = { n: 0, nModified: 0, upsertedId: undefined, before: null, after: null };
  const now = new Date(instance.clock.nowMs());
  const nowTimestamp = (): Timestamp => timestampOf(instance.hlc.tick());
  if (coll) {
    // Collect first: an update must not see the documents it has already changed (the Halloween problem).
    const candidates: Candidate[] = [];
    for (const c of runQuery(txn, coll, query.planned, query.filter, { sort: query.sort, limit: stmt.multi ? 0 : 1, sortMemoryLimitBytes: sortLimit(instance) })) candidates.push(c);
    for (const c of candidates) {
      const result = applyUpdate(parsed, c.doc, { isUpsertInsert: false, positionalMatch: c.positional, now, nowTimestamp });
      outcome.n++;
      if (outcome.n === 1) outcome.before = c.doc;
      if (result.modified) {
        checkStorable(result.doc, 'update');
        validateAgainstCollection(coll, result.doc, c.doc, stmt.bypassDocumentValidation);
        txn.update(coll, c.rid, result.doc, updateKindOf(parsed, result));
        outcome.nModified++;
      }
      if (outcome.n === 1) outcome.after = result.doc;
    }
  }
  if (outcome.n === 0 && stmt.upsert) {
    coll ??= instance.ensureCollection(db, collName);
    // mongod takes only _id from the query for a replacement-style upsert.
    const seed = buildUpsertSeed(stmt.q, { onlyId: parsed.kind === 'replacement' });
    let doc: Document;
    if (parsed.kind === 'replacement') {
      doc = { ...parsed.replacement };
      if (doc._id === undefined && seed._id !== undefined) doc = { _id: seed._id, ...doc };
    } else {
      doc = applyUpdate(parsed, seed, { isUpsertInsert: true, now, nowTimestamp }).doc;
    }
    const inserted = insertDocument(instance, txn, coll, doc, stmt.bypassDocumentValidation);
    outcome.upsertedId = inserted._id;
    outcome.after = inserted;
  }
  return outcome;
}

export interface DeleteOutcome {
  n: number;
  deleted: Document | null;
}

export function executeDelete(
  instance: Instance,
  txn: StorageTxn,
  coll: Collection | undefined,
  q: Document,
  limitOne: boolean,
  hint: BsonValue,
  sort?: Document,
  lets?: Document,
  collation?: Collator | null,
): DeleteOutcome {
  if (!coll) return { n: 0, deleted: null };
  const query = compileQuery(coll, q, sort, hint, new Date(instance.clock.nowMs()), lets, collation);
  const victims: Array<{ rid: RecordId; doc: Document }> = [];
  for (const c of runQuery(txn, coll, query.planned, query.filter, { sort: query.sort, limit: limitOne ? 1 : 0, sortMemoryLimitBytes: sortLimit(instance) })) victims.push(c);
  for (const v of victims) txn.delete(coll, v.rid);
  return { n: victims.length, deleted: victims[0]?.doc ?? null };
}

export function sortLimit(instance: Instance): number {
  return instance.parameters.getNumber('internalQueryMaxBlockingSortMemoryUsageBytes');
}


/**
 * updateMany outside a transaction, as mongod runs it: each matching document is updated in its
 * own storage transaction (its own oplog entry and timestamp), re-checked against the filter at
 * write time; the statement as a whole is not atomic. Inside a transaction, executeUpdate is used.
 */
export async function executeUpdateMany(ctx: CommandContext, stmtId: number, collName: string, stmt: UpdateStatement, parsed: ParsedUpdate): Promise<UpdateOutcome> {
  const { instance } = ctx;
  const coll = instance.getCollection(ctx.db, collName);
  const outcome: UpdateOutcome = { n: 0, nModified: 0, upsertedId: undefined, before: null, after: null };
  if (coll) {
    const query = compileQuery(coll, stmt.q, stmt.sort, stmt.hint, new Date(instance.clock.nowMs()), stmt.lets, stmt.collation);
    for (const rid of matchingRecordIds(instance, coll, query)) {
      await runWrite(ctx, stmtId, (txn) => {
        const doc = txn.get(coll, rid);
        const details: { elemMatchKey?: string } = {};
        if (!doc || !matches(query.filter, doc, details)) return;
        const result = applyUpdate(parsed, doc, { isUpsertInsert: false, positionalMatch: details.elemMatchKey, now: new Date(instance.clock.nowMs()), nowTimestamp: () => timestampOf(instance.hlc.tick()) });
        outcome.n++;
        if (!result.modified) return;
        checkStorable(result.doc, 'update');
        validateAgainstCollection(coll, result.doc, doc, stmt.bypassDocumentValidation);
        txn.update(coll, rid, result.doc, updateKindOf(parsed, result));
        outcome.nModified++;
      });
    }
  }
  if (outcome.n === 0 && stmt.upsert) return runWrite(ctx, stmtId, (txn) => executeUpdate(instance, txn, ctx.db, collName, stmt, parsed));
  return outcome;
}

/** deleteMany outside a transaction: one storage transaction (and oplog entry) per document, as mongod. */
export async function executeDeleteMany(
  ctx: CommandContext,
  stmtId: number,
  coll: Collection | undefined,
  q: Document,
  hint: BsonValue,
  lets?: Document,
  collation?: Collator | null,
): Promise<DeleteOutcome> {
  if (!coll) return { n: 0, deleted: null };
  const { instance } = ctx;
  const query = compileQuery(coll, q, undefined, hint, new Date(instance.clock.nowMs()), lets, collation);
  let n = 0;
  for (const rid of matchingRecordIds(instance, coll, query)) {
    await runWrite(ctx, stmtId, (txn) => {
      const doc = txn.get(coll, rid);
      if (!doc || !matches(query.filter, doc)) return;
      txn.delete(coll, rid);
      n++;
    });
  }
  return { n, deleted: null };
}

/** The records a multi-document statement will visit, read once at the newest snapshot. */
function matchingRecordIds(instance: Instance, coll: Collection, query: ReturnType<typeof compileQuery>): RecordId[] {
  const reader = instance.engine.begin();
  const rids: RecordId[] = [];
  try {
    for (const c of runQuery(reader, coll, query.planned, query.filter, { sortMemoryLimitBytes: sortLimit(instance) })) rids.push(c.rid);
  } finally {
    instance.engine.abort(reader);
  }
  return rids;
}

/** What the oplog needs to know about how an update changed its document (for change streams' updateDescription). */
function updateKindOf(parsed: ParsedUpdate, result: ApplyResult): UpdateKind {
  if (parsed.kind === 'replacement') return { replacement: true };
  return result.modifiedPaths ? { modifiedPaths: result.modifiedPaths } : {};
}
