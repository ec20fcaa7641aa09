/**
 * bulkWrite (8.0): inserts, updates and deletes across namespaces in one command, as the drivers'
 * client-level bulk write sends it. Each op is a statement with its own stmtId (its index), run
 * like the per-collection write commands; results come back as a cursor of per-op replies.
 */
import { fail } from '../../base/index.js';
import { isDocument, typeNameOf, type BsonValue, type Document } from '../../bson/index.js';
import { CommandArgs } from '../args.js';
import { parseCollation, cursorReply } from '../query-support.js';
import { executeDelete, executeDeleteMany, executeUpdate, executeUpdateMany, insertDocument, parseUpdateStatement, type UpdateStatement } from '../write-support.js';
import { checkBatchSize, checkWritableNamespace } from '../write-batch.js';
import { retryableStatement, runWrite } from '../write-path.js';
import { toDossierError } from '../replies.js';
import { assertNotView } from '../views.js';
import type { CommandContext, CommandDefinition } from '../types.js';

const FIELDS = ['ops', 'nsInfo', 'ordered', 'bypassDocumentValidation', 'errorsOnly', 'let', 'cursor'];

function namespaceOf(nsInfo: Document[], raw: BsonValue, i: number): { db: string; coll: string } {
  const idx = Number(raw?.valueOf?.() ?? raw);
  const info = nsInfo[idx];
  if (!Number.isInteger(idx) || !info) fail('BadValue', `BulkWrite ops entry ${i} has an invalid nsInfo index`);
  const ns = info.ns;
  if (typeof ns !== 'string' || !ns.includes('.')) fail('InvalidNamespace', `Invalid namespace specified '${String(ns)}'`);
  const dot = ns.indexOf('.');
  return { db: ns.slice(0, dot), coll: ns.slice(dot + 1) };
}

async function runOp(ctx: CommandContext, op: Document, i: number, nsInfo: Document[], bypass: boolean): Promise<Document> {
  const { instance } = ctx;
  const kind = ['insert', 'update', 'delete'].find((k) => op[k] !== undefined);
  if (!kind) fail('FailedToParse', `Unrecognized bulkWrite op: ${Object.keys(op)[0] ?? '(empty)'}`);
  const { db, coll } = namespaceOf(nsInfo, op[kind], i);
  checkWritableNamespace(db, coll);
  assertNotView(instance, db, coll, ctx.transaction);
  const opCtx: CommandContext = { ...ctx, db };
  if (kind === 'insert') {
    if (!isDocument(op.document)) fail('TypeMismatch', `BSON field 'bulkWrite.ops.document' is the wrong type '${typeNameOf(op.document)}', expected type 'object'`);
    instance.opcounters.insert++;
    const target = instance.ensureCollection(db, coll, ctx.transaction);
    await runWrite(opCtx, i, (txn) => insertDocument(instance, txn, target, op.document, bypass));
    return { n: 1 };
  }
  if (kind === 'update') {
    instance.opcounters.update++;
    const collation = parseCollation(op.collation);
    const a = new CommandArgs('bulkWrite.ops', op);
    const stmt: UpdateStatement = {
      q: a.required('filter', a.document),
      u: op.updateMods as Document | Document[],
      upsert: a.bool('upsert') ?? false,
      multi: a.bool('multi') ?? false,
      arrayFilters: a.documentArray('arrayFilters'),
      hint: op.hint,
      sort: a.document('sort'),
      bypassDocumentValidation: bypass,
      lets: ctx.body.let,
      collation,
    };
    if (!isDocument(stmt.u) && !Array.isArray(stmt.u)) fail('FailedToParse', 'Update argument must be either an object or an array');
    const parsed = parseUpdateStatement(stmt, instance.getCollection(db, coll));
    const out = stmt.multi && !ctx.transaction ? await executeUpdateMany(opCtx, i, coll, stmt, parsed) : await runWrite(opCtx, i, (txn) => executeUpdate(instance, txn, db, coll, stmt, parsed));
    const reply: Document = { n: out.upsertedId !== undefined ? 1 : out.n, nModified: out.nModified };
    if (out.upsertedId !== undefined) reply.upserted = { _id: out.upsertedId };
    return reply;
  }
  instance.opcounters.delete++;
  const collation = parseCollation(op.collation);
  const a = new CommandArgs('bulkWrite.ops', op);
  const q = a.required('filter', a.document);
  const multi = a.bool('multi') ?? false;
  const target = instance.getCollection(db, coll);
  const out = multi && !ctx.transaction ? await executeDeleteMany(opCtx, i, target, q, op.hint, ctx.body.let, collation) : await runWrite(opCtx, i, (txn) => executeDelete(instance, txn, target, q, !multi, op.hint, undefined, ctx.body.let, collation));
  return { n: out.n };
}

export const bulkWriteCommand: CommandDefinition = {
  name: 'bulkWrite',
  help: 'Runs inserts, updates and deletes across collections in one command (the client bulk write of 8.0).',
  kind: 'write',
  adminOnly: true,
  allowedInTransaction: true,
  retryableWrite: true,
  options: FIELDS,
  async run(ctx) {
    const a = new CommandArgs('bulkWrite', ctx.body);
    a.rejectUnknown(FIELDS);
    const ops = a.required('ops', a.documentArray);
    const nsInfo = a.required('nsInfo', a.documentArray);
    checkBatchSize(ops.length);
    const ordered = a.bool('ordered') ?? true;
    const errorsOnly = a.bool('errorsOnly') ?? false;
    const bypass = a.bool('bypassDocumentValidation') ?? false;
    const counts = { nErrors: 0, nInserted: 0, nMatched: 0, nModified: 0, nUpserted: 0, nDeleted: 0 };
    const results: Document[] = [];
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i]!;
      try {
        const { result } = await retryableStatement(ctx, i, () => runOp(ctx, op, i, nsInfo, bypass));
        if (op.insert !== undefined) counts.nInserted += result.n as number;
        else if (op.update !== undefined) {
          if (result.upserted) counts.nUpserted++;
          else counts.nMatched += result.n as number;
          counts.nModified += result.nModified as number;
        } else counts.nDeleted += result.n as number;
        if (!errorsOnly) results.push({ ok: 1, idx: i, ...result });
      } catch (e) {
        if (ctx.inTransaction) throw e;
        const err = toDossierError(e);
        counts.nErrors++;
        results.push({ ok: 0, idx: i, code: err.code, codeName: err.codeName, errmsg: err.errmsg, ...(err.extra ?? {}) });
        if (ordered) break;
      }
    }
    const reply = cursorReply({ ...ctx, snapshotRead: false }, { ns: 'admin.$cmd.bulkWrite', source: results[Symbol.iterator](), txn: undefined, batchSize: undefined, singleBatch: false });
    return { ...reply, ...counts };
  },
};
