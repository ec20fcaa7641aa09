/** Database and collection name rules, as mongod checks them (NamespaceString). */
import { fail } from '../base/index.js';
import { DATABASE_NAME_LENGTH_MAX_BYTES, NAMESPACE_LENGTH_MAX_BYTES } from '../base/limits.js';

const DB_NAME_FORBIDDEN = /[/\\. "$\0]/;

export function validateDatabaseName(db: string): void {
  if (db.length === 0) fail('InvalidNamespace', 'Invalid empty database name');
  if (Buffer.byteLength(db) > DATABASE_NAME_LENGTH_MAX_BYTES) fail('InvalidNamespace', `db name is too long: ${db}`);
  if (DB_NAME_FORBIDDEN.test(db)) fail('InvalidNamespace', `Invalid database name: '${db}'`);
}

/** Rules for a collection a user creates or writes to. */
export function validateCollectionName(db: string, coll: string, options: { forWrite?: boolean } = {}): void {
  validateDatabaseName(db);
  if (coll.length === 0) fail('InvalidNamespace', `Invalid namespace specified '${db}.'`);
  if (coll.includes('\0')) fail('InvalidNamespace', `Invalid namespace specified '${db}.${coll}'`);
  if (coll.startsWith('.') || coll.includes('$')) {
    if (!(db === 'local' && coll === 'oplog.$main')) fail('InvalidNamespace', `Invalid collection name: ${coll}`);
  }
  if (Buffer.byteLength(`${db}.${coll}`) > NAMESPACE_LENGTH_MAX_BYTES) {
    fail('InvalidNamespace', `Fully qualified namespace is too long. Namespace: ${db}.${coll} Max: ${NAMESPACE_LENGTH_MAX_BYTES}`);
  }
  if (options.forWrite && coll.startsWith('system.') && !ALLOWED_SYSTEM_WRITES.has(coll)) {
    fail('InvalidNamespace', `Invalid system namespace: ${db}.${coll}`);
  }
}

const ALLOWED_SYSTEM_WRITES = new Set(['system.js', 'system.users', 'system.roles', 'system.sessions', 'system.profile', 'system.views']);
