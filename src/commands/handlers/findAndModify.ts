import { fail } from '../../base/index.js';
import { isDocument, typeNameOf, type Document } from '../../bson/index.js';
import { applyProjection, parseProjection } from '../../query/projection/index.js';
import { CommandArgs, collectionNameArg } from '../args.js';
import { matcherFactory, parseCollation } from '../query-support.js';
import { retryableStatement, runWrite, stmtIdFor } from '../write-path.js';
import { checkWriteAllowedInTransaction, executeDelete, executeUpdate, parseUpdateStatement } from '../write-support.js';
import { checkWritableNamespace } from '../write-batch.js';
import type { CommandDefinition } from '../types.js';
import { assertNotView } from '../views.js';

const FIELDS = ['query', 'sort', 'remove', 'update', 'new', 'fields', 'upsert', 'bypassDocumentValidation', 'arrayFilters', 'hint', 'collation', 'let'];

export const findAndModifyCommand: CommandDefinition = {
  name: 'findAndModify',
  aliases: ['findandmodify'],
  help: 'Atomically updates or removes one document and returns it (before or after).',
  kind: 'write',
  allowedInTransaction: true,
  retryableWrite: true,
  options: FIELDS,
  async run(ctx) {
    const name = collectionNameArg(Object.keys(ctx.body)[0]!, ctx.body);
    const a = new CommandArgs('findAndModify', ctx.body);
    a.rejectUnknown(FIELDS);
    checkWritableNamespace(ctx.db, name);
    const collation = parseCollation(ctx.body.collation);
    const query = a.document('query') ?? {};
    const sort = a.document('sort');
    const remove = a.bool('remove') ?? false;
    const update = ctx.body.update;
    const returnNew = a.bool('new') ?? false;
    const upsert = a.bool('upsert') ?? false;
    const fields = a.document('fields');
    const bypass = a.bool('bypassDocumentValidation') ?? false;
    const arrayFilters = a.documentArray('arrayFilters');
    if (remove && update !== undefined) fail('FailedToParse', 'Cannot specify both an update and remove=true');
    if (!remove && update === undefined) fail('FailedToParse', 'Either an update or remove=true must be specified');
    if (remove && upsert) fail('FailedToParse', 'Cannot specify both upsert=true and remove=true');
    if (remove && returnNew) fail('FailedToParse', 'Cannot specify both new=true and remove=true; \'remove\' always returns the deleted document');
    if (update !== undefined && !isDocument(update) && !Array.isArray(update)) {
      fail('FailedToParse', `Update argument must be either an object or an array, found ${typeNameOf(update)}`);
    }
    const projection = fields && Object.keys(fields).length > 0 ? parseProjection(fields, { matcherFactory }) : undefined;
    const project = (d: Document | null): Document | null => (d && projection ? applyProjection(projection, d, {}) : d);
    const { instance } = ctx;
    assertNotView(instance, ctx.db, name, ctx.transaction);
    checkWriteAllowedInTransaction(instance.getCollection(ctx.db, name), ctx.inTransaction);
    const stmtId = stmtIdFor(ctx.body, 0);
    // A retry answers with the recorded reply: the original pre- or post-image, not a new one.
    const { result } = await retryableStatement(ctx, stmtId, async (): Promise<Document> => {
      if (remove) {
        instance.opcounters.delete++;
        const coll = instance.getCollection(ctx.db, name);
        const out = await runWrite(ctx, stmtId, (txn) => executeDelete(instance, txn, coll, query, true, ctx.body.hint, sort, a.document('let'), collation));
        return { lastErrorObject: { n: out.n }, value: project(out.deleted) };
      }
      instance.opcounters.update++;
      const stmt = { q: query, u: update as Document | Document[], upsert, multi: false, arrayFilters, hint: ctx.body.hint, sort, bypassDocumentValidation: bypass, lets: a.document('let'), collation };
      const parsed = parseUpdateStatement(stmt, instance.getCollection(ctx.db, name));
      const out = await runWrite(ctx, stmtId, (txn) => executeUpdate(instance, txn, ctx.db, name, stmt, parsed));
      const lastErrorObject: Document = { n: out.upsertedId !== undefined ? 1 : out.n, updatedExisting: out.n > 0 };
      if (out.upsertedId !== undefined) lastErrorObject.upserted = out.upsertedId;
      const value = returnNew ? out.after : out.upsertedId !== undefined ? null : out.before;
      return { lastErrorObject, value: project(value) };
    });
    return result;
  },
};
