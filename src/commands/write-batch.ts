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
 * error, unordered ones go on. Returns the entries (empty when all succeeded).
 */
export function runStatements<T>(statements: T[], ordered: boolean, run: (stmt: T, index: number) => void): Document[] {
  const writeErrors: Document[] = [];
  for (let i = 0; i < statements.length; i++) {
    try {
      run(statements[i]!, i);
    } catch (e) {
      const err: DossierError = toDossierError(e);
      writeErrors.push(writeErrorEntry(i, err));
      if (ordered) break;
    }
  }
  return writeErrors;
}
