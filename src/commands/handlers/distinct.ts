/**
 * distinct: the distinct values of a field across the documents a query matches. As mongod:
 * values are read along the dotted path with arrays unwound one level (so `[1, [2]]` gives 1 and
 * [2]), missing fields contribute nothing, values equal under BSON comparison (1, 1.0, NumberLong(1))
 * count once (the first seen is kept), and the result comes back in BSON order, because mongod
 * collects them into an ordered set.
 */
import { timestampOf } from '../../time/index.js';
import { fail, failLocation } from '../../base/index.js';
import { BSON_OBJECT_SIZE_MAX_BYTES } from '../../base/limits.js';
import { compareValues, documentSize, isDocument, type BsonValue, type Collator, type Document } from '../../bson/index.js';
import { runQuery } from '../../query/executor.js';
import { getField } from '../../query/path.js';
import { CommandArgs, collectionNameArg } from '../args.js';
import { validateCollectionName } from '../namespaces.js';
import { compileQuery, parseCollation, endRead, readTransaction } from '../query-support.js';
import { sortLimit } from '../write-support.js';
import { resolveView, viewAggregateBody, viewReadCollation } from '../views.js';
import { aggregateAll } from './aggregate.js';
import type { CommandContext, CommandDefinition } from '../types.js';

const DISTINCT_FIELDS = ['key', 'query', 'collation', 'hint', 'readConcern', 'maxTimeMS', '$queryOptions', 'sampleId', 'mirrored'] as const;

/**
 * mongod's dotted_path_support::extractAllElementsAlongPath with expandArrayOnTrailingField:
 * the values at `path` in `obj`, arrays met in the middle traversed (or indexed, when the next
 * component is all digits), a trailing array expanded one level, missing paths contributing
 * nothing. An array is read as a document whose field names are its indexes, as BSON stores it.
 */
function extractAlongPath(obj: Document | BsonValue[], path: string, out: BsonValue[]): void {
  const whole = fieldOf(obj, path);
  if (whole !== undefined) {
    if (Array.isArray(whole)) out.push(...whole);
    else out.push(whole);
    return;
  }
  const dot = path.indexOf('.');
  if (dot < 0) return;
  const left = fieldOf(obj, path.slice(0, dot));
  const next = path.slice(dot + 1);
  if (isDocument(left)) {
    extractAlongPath(left, next, out);
  } else if (Array.isArray(left)) {
    if (/^\d+(\.|$)/.test(next)) {
      extractAlongPath(left, next, out);
    } else {
      for (const el of left) if (isDocument(el) || Array.isArray(el)) extractAlongPath(el, next, out);
    }
  }
}

function fieldOf(obj: Document | BsonValue[], name: string): BsonValue {
  if (!Array.isArray(obj)) return getField(obj, name);
  // BSON arrays are documents keyed "0", "1", ...: only the canonical spelling names an element.
  if (!/^(0|[1-9]\d*)$/.test(name)) return undefined;
  return obj[Number(name)];
}

/** Inserts `v` into the ascending array `sorted` unless an equal value is there. */
function insertDistinct(sorted: BsonValue[], v: BsonValue, collator: Collator | null): void {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = compareValues(sorted[mid], v, collator);
    if (c === 0) return;
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  sorted.splice(lo, 0, v);
}

/** distinct on a view: the view's pipeline and a $match, then the values along `key`, in the view's collation. */
async function distinctOnView(ctx: CommandContext, view: string, key: string, query: Document | undefined, collator: Collator | null): Promise<Document> {
  const pipeline: Document[] = query && Object.keys(query).length > 0 ? [{ $match: query }] : [];
  const options: Document = {};
  for (const k of ['collation', 'hint'] as const) if (ctx.body[k] !== undefined) options[k] = ctx.body[k];
  const values: BsonValue[] = [];
  const found: BsonValue[] = [];
  for (const doc of await aggregateAll(ctx, viewAggregateBody(ctx, view, pipeline, options))) {
    found.length = 0;
    extractAlongPath(doc, key, found);
    for (const v of found) insertDistinct(values, v, collator);
  }
  if (documentSize({ values }) >= BSON_OBJECT_SIZE_MAX_BYTES) failLocation(17217, 'distinct too big, 16mb cap');
  return { values };
}

export const distinctCommand: CommandDefinition = {
  name: 'distinct',
  help: '{ distinct : \'collection name\' , key : \'a.b\' , query : {} }',
  kind: 'read',
  allowedInTransaction: true,
  retryable: true,
  snapshotReads: true,
  options: [...DISTINCT_FIELDS],
  run(ctx) {
    const name = collectionNameArg('distinct', ctx.body);
    validateCollectionName(ctx.db, name);
    const a = new CommandArgs('distinct', ctx.body);
    a.rejectUnknown(DISTINCT_FIELDS);
    const key = a.required('key', a.string);
    // A null query is accepted as "no query", as mongod's IDL does for this optional field.
    const query = ctx.body.query === null ? undefined : a.document('query');
    const hint = ctx.body.hint;
    if (hint !== undefined && typeof hint !== 'string' && !isDocument(hint)) fail('FailedToParse', 'Hint must be a string or an object');
    const collation = parseCollation(ctx.body.collation);
    const { instance } = ctx;
    const view = resolveView(instance, ctx.db, name, ctx.transaction);
    if (view) return distinctOnView(ctx, name, key, query, viewReadCollation(collation, view));
    const coll = instance.getCollection(ctx.db, name);
    const q = compileQuery(coll, query, undefined, hint, undefined, undefined, collation);
    const read = readTransaction(ctx);
    const txn = read.txn;
    const readTs = txn.readTs;
    const values: BsonValue[] = [];
    try {
      const found: BsonValue[] = [];
      for (const c of runQuery(txn, coll, q.planned, q.filter, { sortMemoryLimitBytes: sortLimit(instance) })) {
        found.length = 0;
        extractAlongPath(c.doc, key, found);
        for (const v of found) insertDistinct(values, v, q.collator);
      }
    } finally {
      endRead(ctx, read);
    }
    // mongod checks the reply's size before sending it (distinct too big, 16mb cap).
    if (documentSize({ values }) >= BSON_OBJECT_SIZE_MAX_BYTES) failLocation(17217, 'distinct too big, 16mb cap');
    // A snapshot read answers the timestamp it read at, as find does in cursor.atClusterTime.
    return ctx.snapshotRead ? { values, atClusterTime: timestampOf(readTs) } : { values };
  },
};
