/**
 * count: how many documents of a collection match a query, after skip and within limit. Runs
 * the same compiled query and plan as find, in one read snapshot. A missing collection counts 0.
 */
import { fail } from '../../base/index.js';
import { isDocument, toJsNumber, typeNameOf, type BsonValue, type Document } from '../../bson/index.js';
import { runQuery } from '../../query/executor.js';
import { CommandArgs, collectionNameArg } from '../args.js';
import { validateCollectionName } from '../namespaces.js';
import { compileQuery, parseCollation, endRead, readTransaction } from '../query-support.js';
import { sortLimit } from '../write-support.js';
import { resolveView, viewAggregateBody } from '../views.js';
import { aggregateAll } from './aggregate.js';
import type { CommandContext, CommandDefinition } from '../types.js';

const COUNT_FIELDS = ['query', 'limit', 'skip', 'hint', 'collation', 'fields', 'readConcern', 'maxTimeMS', '$queryOptions', 'encryptionInformation'] as const;

function isNumber(v: BsonValue): boolean {
  const t = typeNameOf(v);
  return t === 'int' || t === 'long' || t === 'double' || t === 'decimal';
}

/** mongod's BSONElement::parseIntegerElementToLong: a whole number that fits in 64 bits. */
function integerOf(field: string, v: BsonValue): number {
  const n = toJsNumber(v);
  if (Number.isNaN(n)) fail('FailedToParse', `Expected an integer, but found NaN in: ${field}: ${n}`);
  if (!Number.isInteger(n)) fail('FailedToParse', `Expected an integer: ${field}: ${n}`);
  if (Math.abs(n) > 2 ** 63) fail('FailedToParse', `Cannot represent as a 64-bit integer: ${field}: ${n}`);
  return n;
}

/** count's limit: any whole number; -n means n (count_request::countParseLimit). */
function parseLimit(v: BsonValue): number | undefined {
  if (v === undefined) return undefined;
  if (!isNumber(v)) fail('BadValue', 'limit value is not a valid number');
  const n = integerOf('limit', v);
  if (n <= -(2 ** 63)) fail('BadValue', 'limit value for count cannot be min long');
  return Math.abs(n);
}

function parseSkip(v: BsonValue): number | undefined {
  if (v === undefined) return undefined;
  if (!isNumber(v)) fail('BadValue', 'skip value is not a valid number');
  const n = integerOf('skip', v);
  if (n < 0) fail('FailedToParse', `Expected a positive number in: skip: ${n}`);
  return n;
}

/** count on a view: an aggregation of the view's pipeline, then $match, $skip, $limit, $count. */
async function countOnView(ctx: CommandContext, view: string, query: Document | undefined, skip: number | undefined, limit: number | undefined): Promise<Document> {
  const pipeline: Document[] = [];
  if (query && Object.keys(query).length > 0) pipeline.push({ $match: query });
  if (skip) pipeline.push({ $skip: skip });
  if (limit) pipeline.push({ $limit: limit });
  pipeline.push({ $count: 'count' });
  const options: Document = {};
  for (const k of ['collation', 'hint'] as const) if (ctx.body[k] !== undefined) options[k] = ctx.body[k];
  const [result] = await aggregateAll(ctx, viewAggregateBody(ctx, view, pipeline, options));
  return { n: result === undefined ? 0 : toJsNumber(result.count) };
}

export const countCommand: CommandDefinition = {
  name: 'count',
  help: 'count objects in collection',
  kind: 'read',
  retryable: true,
  options: [...COUNT_FIELDS],
  run(ctx) {
    const name = collectionNameArg('count', ctx.body);
    validateCollectionName(ctx.db, name);
    const a = new CommandArgs('count', ctx.body);
    a.rejectUnknown(COUNT_FIELDS);
    const query = a.document('query');
    const limit = parseLimit(ctx.body.limit);
    const skip = parseSkip(ctx.body.skip);
    const hint = ctx.body.hint;
    if (hint !== undefined && typeof hint !== 'string' && !isDocument(hint)) fail('FailedToParse', 'Hint must be a string or an object');
    const collation = parseCollation(ctx.body.collation);
    const { instance } = ctx;
    if (resolveView(instance, ctx.db, name, ctx.transaction)) return countOnView(ctx, name, query, skip, limit);
    const coll = instance.getCollection(ctx.db, name);
    const q = compileQuery(coll, query, undefined, hint, undefined, undefined, collation);
    const read = readTransaction(ctx);
    const txn = read.txn;
    try {
      let n = 0;
      for (const _ of runQuery(txn, coll, q.planned, q.filter, { skip, limit, sortMemoryLimitBytes: sortLimit(instance) })) {
        n++;
        if (ctx.killed()) fail('Interrupted', 'operation was interrupted');
      }
      return { n };
    } finally {
      endRead(ctx, read);
    }
  },
};
