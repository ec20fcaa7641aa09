/** The statement loop of insert/update/delete: per-statement errors, ordered or not. */
import { DossierError, fail } from '../base/index.js';
import { WRITE_BATCH_SIZE_MAX } from '../base/limits.js';
import type { Document } from '../bson/index.js';
import { toDossierError, writeErrorEntry } from './replies.js';
import { validateCollectionName } from './namespaces.js';

export function checkBatchSize(count: number): void {
  if (count < 1 || count > WRITE_BATCH_SIZE_MAX) fail('InvalidLength', `Write batch sizes must be between 1 and ${WRITE_BATCH_SIZE_MAX}. Got ${count} operations.`);
}

export function checkWritableNamespace(db: string, coll: string): void {
  validateCollectionName(db, coll, { forWrite: true });
  if (db === 'local' && coll === 'oplog.rs') fail('InvalidNamespace', 'cannot write to \'local.oplog.rs\'');
}

/**
 * Runs each statement; an error becomes a writeErrors entry. Ordered batches stop at the first
 * error, unordered ones go on. Inside a multi-document transaction the first error fails the
 * whole command instead (and with it the transaction), as mongod does. Returns the entries.
 */
export async function runStatements<T>(statements: T[], ordered: boolean, inTransaction: boolean, run: (stmt: T, index: number) => Promise<void>): Promise<Document[]> {
  const writeErrors: Document[] = [];
  for (let i = 0; i < statements.length; i++) {
    try {
      await run(statements[i]!, i);
    } catch (e) {
      if (inTransaction) throw e;
      const err: DossierError = toDossierError(e);
      writeErrors.push(writeErrorEntry(i, err));
      if (ordered) break;
    }
  }
  return writeErrors;
}

/** mongod lists the statements a retryable write answered from its history. */
export function withRetriedStmtIds(reply: Document, retried: number[]): Document {
  if (retried.length > 0) reply.retriedStmtIds = retried;
  return reply;
}
