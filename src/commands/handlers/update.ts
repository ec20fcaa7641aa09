import { fail } from '../../base/index.js';
import { isDocument, typeNameOf, type BsonValue, type Document } from '../../bson/index.js';
import { CommandArgs, collectionNameArg } from '../args.js';
import { parseCollation } from '../query-support.js';
import { retryableStatement, runWrite, stmtIdFor } from '../write-path.js';
import { checkWriteAllowedInTransaction, executeUpdate, executeUpdateMany, parseUpdateStatement, type UpdateStatement } from '../write-support.js';
import { checkBatchSize, checkWritableNamespace, runStatements, withRetriedStmtIds } from '../write-batch.js';
import type { CommandDefinition } from '../types.js';
import { assertNotView } from '../views.js';

const STATEMENT_FIELDS = ['q', 'u', 'upsert', 'multi', 'arrayFilters', 'hint', 'collation', 'c', 'sort', 'upsertSupplied'];

export function parseUpdateEntry(raw: BsonValue, i: number, bypass: boolean, commandLet?: Document): UpdateStatement {
  if (!isDocument(raw)) fail('TypeMismatch', `BSON field 'update.updates.${i}' is the wrong type '${typeNameOf(raw)}', expected type 'object'`);
  const a = new CommandArgs('update.updates', raw);
  for (const k of Object.keys(raw)) if (!STATEMENT_FIELDS.includes(k)) fail('IDLUnknownField', `BSON field 'update.updates.${k}' is an unknown field.`);
  const q = a.required('q', a.document);
  const u = raw.u;
  if (u === undefined) fail('IDLFailedToParse', "BSON field 'update.updates.u' is missing but a required field");
  if (!isDocument(u) && !Array.isArray(u)) fail('FailedToParse', 'Update argument must be either an object or an array');
  const collation = parseCollation(raw.collation);
  return {
    q,
    u: u as Document | Document[],
    upsert: a.bool('upsert') ?? false,
    multi: a.bool('multi') ?? false,
    arrayFilters: a.documentArray('arrayFilters'),
    hint: raw.hint,
    sort: a.document('sort'),
    bypassDocumentValidation: bypass,
    lets: commandLet || raw.c ? { ...(commandLet ?? {}), ...(a.document('c') ?? {}) } : undefined,
    collation,
  };
}

export const updateCommand: CommandDefinition = {
  name: 'update',
  help: 'Updates documents: replacement or update operators, multi, upsert, arrayFilters.',
  kind: 'write',
  allowedInTransaction: true,
  retryableWrite: true,
  options: ['updates', 'ordered', 'bypassDocumentValidation', 'let', 'comment', 'writeConcern'],
  async run(ctx) {
    const name = collectionNameArg('update', ctx.body);
    const args = new CommandArgs('update', ctx.body);
    args.rejectUnknown(['updates', 'ordered', 'bypassDocumentValidation', 'let']);
    const updates = args.required('updates', args.array);
    checkBatchSize(updates.length);
    checkWritableNamespace(ctx.db, name);
    const ordered = args.bool('ordered') ?? true;
    const bypass = args.bool('bypassDocumentValidation') ?? false;
    const { instance } = ctx;
    checkWriteAllowedInTransaction(instance.getCollection(ctx.db, name), ctx.inTransaction);
    let n = 0;
    let nModified = 0;
    const upserted: Document[] = [];
    const retried: number[] = [];
    const writeErrors = await runStatements(updates, ordered, ctx.inTransaction, async (raw, index) => {
      instance.opcounters.update++;
      assertNotView(instance, ctx.db, name, ctx.transaction);
      const stmt = parseUpdateEntry(raw, index, bypass, args.document('let'));
      const parsed = parseUpdateStatement(stmt, instance.getCollection(ctx.db, name));
      const stmtId = stmtIdFor(ctx.body, index);
      const { result, retried: wasRetried } = await retryableStatement(ctx, stmtId, async () => {
        const outcome = stmt.multi && !ctx.transaction ? await executeUpdateMany(ctx, stmtId, name, stmt, parsed) : await runWrite(ctx, stmtId, (txn) => executeUpdate(instance, txn, ctx.db, name, stmt, parsed));
        const r: Document = { n: outcome.upsertedId !== undefined ? 1 : outcome.n, nModified: outcome.nModified };
        if (outcome.upsertedId !== undefined) r.upsertedId = { _id: outcome.upsertedId };
        return r;
      });
      if (wasRetried) retried.push(stmtId);
      n += result.n as number;
      nModified += result.nModified as number;
      if (result.upsertedId !== undefined) upserted.push({ index, _id: (result.upsertedId as Document)._id });
    });
    const reply: Document = { n, nModified };
    if (upserted.length > 0) reply.upserted = upserted;
    if (writeErrors.length > 0) reply.writeErrors = writeErrors;
    return withRetriedStmtIds(reply, retried);
  },
};
