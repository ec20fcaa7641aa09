import { fail } from '../../base/index.js';
import { isDocument, typeNameOf, type Document } from '../../bson/index.js';
import { CommandArgs, collectionNameArg } from '../args.js';
import { checkInsertAllowedInTransaction, insertDocument } from '../write-support.js';
import { checkBatchSize, checkWritableNamespace, runStatements, withRetriedStmtIds } from '../write-batch.js';
import { retryableStatement, runWrite, stmtIdFor } from '../write-path.js';
import type { CommandDefinition } from '../types.js';

export const insertCommand: CommandDefinition = {
  name: 'insert',
  help: 'Inserts documents into a collection, creating it if needed.',
  kind: 'write',
  allowedInTransaction: true,
  retryableWrite: true,
  options: ['documents', 'ordered', 'bypassDocumentValidation', 'comment', 'writeConcern'],
  async run(ctx) {
    const name = collectionNameArg('insert', ctx.body);
    const args = new CommandArgs('insert', ctx.body);
    args.rejectUnknown(['documents', 'ordered', 'bypassDocumentValidation']);
    const documents = args.required('documents', args.array);
    documents.forEach((d, i) => {
      if (!isDocument(d)) fail('TypeMismatch', `BSON field 'insert.documents.${i}' is the wrong type '${typeNameOf(d)}', expected type 'object'`);
    });
    checkBatchSize(documents.length);
    checkWritableNamespace(ctx.db, name);
    const ordered = args.bool('ordered') ?? true;
    const bypass = args.bool('bypassDocumentValidation') ?? false;
    const { instance } = ctx;
    checkInsertAllowedInTransaction(instance.getCollection(ctx.db, name), ctx.inTransaction);
    let n = 0;
    const retried: number[] = [];
    const writeErrors = await runStatements(documents as Document[], ordered, ctx.inTransaction, async (doc, i) => {
      instance.opcounters.insert++;
      const stmtId = stmtIdFor(ctx.body, i);
      const outcome = await retryableStatement(ctx, stmtId, async () => {
        const coll = instance.ensureCollection(ctx.db, name, ctx.transaction);
        await runWrite(ctx, stmtId, (txn) => insertDocument(instance, txn, coll, doc, bypass));
        return { n: 1 };
      });
      if (outcome.retried) retried.push(stmtId);
      n++;
    });
    return withRetriedStmtIds(writeErrors.length > 0 ? { n, writeErrors } : { n }, retried);
  },
};
