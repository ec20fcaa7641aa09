import { fail } from '../../base/index.js';
import { isDocument, toJsNumber, typeNameOf } from '../../bson/index.js';
import { CommandArgs, collectionNameArg } from '../args.js';
import { parseCollation } from '../query-support.js';
import { retryableStatement, runWrite, stmtIdFor } from '../write-path.js';
import { checkWriteAllowedInTransaction, executeDelete, executeDeleteMany } from '../write-support.js';
import { checkBatchSize, checkWritableNamespace, runStatements, withRetriedStmtIds } from '../write-batch.js';
import type { CommandDefinition } from '../types.js';
import { assertNotView } from '../views.js';

const STATEMENT_FIELDS = ['q', 'limit', 'hint', 'collation'];

export const deleteCommand: CommandDefinition = {
  name: 'delete',
  help: 'Deletes documents matching each statement\'s filter (limit 1: the first; limit 0: all).',
  kind: 'write',
  allowedInTransaction: true,
  retryableWrite: true,
  options: ['deletes', 'ordered', 'let', 'comment', 'writeConcern'],
  async run(ctx) {
    const name = collectionNameArg('delete', ctx.body);
    const args = new CommandArgs('delete', ctx.body);
    args.rejectUnknown(['deletes', 'ordered', 'let']);
    const deletes = args.required('deletes', args.array);
    checkBatchSize(deletes.length);
    checkWritableNamespace(ctx.db, name);
    const ordered = args.bool('ordered') ?? true;
    const { instance } = ctx;
    checkWriteAllowedInTransaction(instance.getCollection(ctx.db, name), ctx.inTransaction);
    let n = 0;
    const retried: number[] = [];
    const writeErrors = await runStatements(deletes, ordered, ctx.inTransaction, async (raw, i) => {
      instance.opcounters.delete++;
      assertNotView(instance, ctx.db, name, ctx.transaction);
      if (!isDocument(raw)) fail('TypeMismatch', `BSON field 'delete.deletes.${i}' is the wrong type '${typeNameOf(raw)}', expected type 'object'`);
      for (const k of Object.keys(raw)) if (!STATEMENT_FIELDS.includes(k)) fail('IDLUnknownField', `BSON field 'delete.deletes.${k}' is an unknown field.`);
      const a = new CommandArgs('delete.deletes', raw);
      const q = a.required('q', a.document);
      const limit = a.required('limit', a.number);
      if (limit !== 0 && limit !== 1) fail('FailedToParse', `The limit field in delete objects must be 0 or 1. Got ${toJsNumber(limit)}`);
      const collation = parseCollation(raw.collation);
      const stmtId = stmtIdFor(ctx.body, i);
      const { result, retried: wasRetried } = await retryableStatement(ctx, stmtId, async () => {
        const coll = instance.getCollection(ctx.db, name);
        if (limit === 0 && !ctx.transaction) return { n: (await executeDeleteMany(ctx, stmtId, coll, q, raw.hint, args.document('let'), collation)).n };
        return { n: (await runWrite(ctx, stmtId, (txn) => executeDelete(instance, txn, coll, q, limit === 1, raw.hint, undefined, args.document('let'), collation))).n };
      });
      if (wasRetried) retried.push(stmtId);
      n += result.n;
    });
    return withRetriedStmtIds(writeErrors.length > 0 ? { n, writeErrors } : { n }, retried);
  },
};
