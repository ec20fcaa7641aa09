import { fail } from '../../base/index.js';
import { isDocument, typeNameOf, type Document } from '../../bson/index.js';
import { CommandArgs, collectionNameArg } from '../args.js';
import { autocommit } from '../query-support.js';
import { insertDocument } from '../write-support.js';
import { checkBatchSize, checkWritableNamespace, runStatements } from '../write-batch.js';
import type { CommandDefinition } from '../types.js';

export const insertCommand: CommandDefinition = {
  name: 'insert',
  help: 'Inserts documents into a collection, creating it if needed.',
  kind: 'write',
  allowedInTransaction: true,
  retryable: true,
  options: ['documents', 'ordered', 'bypassDocumentValidation', 'comment', 'writeConcern'],
  run(ctx) {
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
    let n = 0;
    const writeErrors = runStatements(documents as Document[], ordered, (doc) => {
      instance.opcounters.insert++;
      const coll = instance.ensureCollection(ctx.db, name);
      autocommit(instance, (txn) => insertDocument(instance, txn, coll, doc, bypass));
      n++;
    });
    return writeErrors.length > 0 ? { n, writeErrors } : { n };
  },
};
