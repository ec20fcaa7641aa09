/**
 * Generic command arguments, parsed in one place for every command (mongod's
 * generic_argument.idl): $db, lsid, txnNumber, readConcern, writeConcern, maxTimeMS, comment...
 */
import { fail } from '../base/index.js';
import { typeNameOf, toJsNumber, type BsonValue, type Document } from '../bson/index.js';

export type ReadConcern = { level?: 'local' | 'majority' | 'linearizable' | 'available' | 'snapshot'; afterClusterTime?: BsonValue; atClusterTime?: BsonValue };
export type WriteConcern = { w?: number | string; j?: boolean; wtimeout?: number };

export interface GenericArguments {
  $db: string;
  lsid?: Document;
  txnNumber?: BsonValue;
  autocommit?: boolean;
  startTransaction?: boolean;
  readConcern?: ReadConcern;
  writeConcern?: WriteConcern;
  maxTimeMS?: number;
  comment?: BsonValue;
  $readPreference?: Document;
  $clusterTime?: Document;
  apiVersion?: string;
  apiStrict?: boolean;
  apiDeprecationErrors?: boolean;
}

/** Field names every command accepts besides its own. */
export const GENERIC_ARGUMENT_NAMES: ReadonlySet<string> = new Set([
  '$db', 'lsid', 'txnNumber', 'autocommit', 'startTransaction', 'readConcern', 'writeConcern',
  'maxTimeMS', 'comment', '$readPreference', '$clusterTime', 'apiVersion', 'apiStrict',
  'apiDeprecationErrors', '$audit', '$client', '$configServerState', 'txnRetryCounter',
  'mayBypassWriteBlocking', 'maxTimeMSOpOnly', 'databaseVersion', 'shardVersion', 'clientOperationKey',
  'readOnly', '$queryOptions', 'stmtId', 'recoveryToken', 'coordinator', 'lsidTxnNumber', 'rawData',
]);

const READ_CONCERN_LEVELS = new Set(['local', 'majority', 'linearizable', 'available', 'snapshot']);

function expectType(body: Document, field: string, types: string[]): BsonValue {
  const v = body[field];
  if (v === undefined) return undefined;
  const t = typeNameOf(v);
  if (!types.includes(t)) {
    fail('TypeMismatch', `BSON field '${field}' is the wrong type '${t}', expected type${types.length > 1 ? 's' : ''} '${types.join(', ')}'`);
  }
  return v;
}

export function parseGenericArguments(body: Document, db: string): GenericArguments {
  const out: GenericArguments = { $db: db };
  const lsid = expectType(body, 'lsid', ['object']);
  if (lsid) out.lsid = lsid as Document;
  const txnNumber = expectType(body, 'txnNumber', ['long', 'int', 'double']);
  if (txnNumber !== undefined) out.txnNumber = txnNumber;
  const autocommit = expectType(body, 'autocommit', ['bool']);
  if (autocommit !== undefined) out.autocommit = autocommit as boolean;
  const startTransaction = expectType(body, 'startTransaction', ['bool']);
  if (startTransaction !== undefined) out.startTransaction = startTransaction as boolean;
  const rc = expectType(body, 'readConcern', ['object']);
  if (rc) out.readConcern = parseReadConcern(rc as Document);
  const wc = expectType(body, 'writeConcern', ['object']);
  if (wc) out.writeConcern = parseWriteConcern(wc as Document);
  const maxTimeMS = body.maxTimeMS;
  if (maxTimeMS !== undefined) out.maxTimeMS = parseMaxTimeMS(maxTimeMS);
  if (body.comment !== undefined) out.comment = body.comment;
  const rp = expectType(body, '$readPreference', ['object']);
  if (rp) out.$readPreference = rp as Document;
  const ct = expectType(body, '$clusterTime', ['object']);
  if (ct) out.$clusterTime = ct as Document;
  const apiVersion = expectType(body, 'apiVersion', ['string']);
  if (apiVersion !== undefined) {
    if (apiVersion !== '1') fail('APIVersionError', `Don't know how to handle API version: ${apiVersion}`);
    out.apiVersion = apiVersion as string;
  }
  const apiStrict = expectType(body, 'apiStrict', ['bool']);
  if (apiStrict !== undefined) out.apiStrict = apiStrict as boolean;
  const apiDep = expectType(body, 'apiDeprecationErrors', ['bool']);
  if (apiDep !== undefined) out.apiDeprecationErrors = apiDep as boolean;
  if ((apiStrict !== undefined || apiDep !== undefined) && apiVersion === undefined) {
    fail('APIVersionError', 'Cannot pass apiStrict or apiDeprecationErrors without apiVersion');
  }
  return out;
}

export function parseMaxTimeMS(v: BsonValue): number {
  const t = typeNameOf(v);
  if (t !== 'int' && t !== 'long' && t !== 'double' && t !== 'decimal') fail('BadValue', `maxTimeMS must be a number`);
  const n = toJsNumber(v);
  if (!Number.isInteger(n)) fail('BadValue', 'maxTimeMS has non-integral value');
  if (n < 0 || n > 2147483647) fail('BadValue', `${n} value for maxTimeMS is out of range [0, 2147483647]`);
  return n;
}

export function parseReadConcern(rc: Document): ReadConcern {
  const out: ReadConcern = {};
  for (const [k, v] of Object.entries(rc)) {
    if (k === 'level') {
      if (typeof v !== 'string') fail('TypeMismatch', `BSON field 'readConcern.level' is the wrong type '${typeNameOf(v)}', expected type 'string'`);
      if (!READ_CONCERN_LEVELS.has(v)) fail('FailedToParse', `BSON field 'readConcern.level' has invalid value '${v}'`);
      out.level = v as ReadConcern['level'];
    } else if (k === 'afterClusterTime' || k === 'atClusterTime') {
      if (typeNameOf(v) !== 'timestamp') fail('TypeMismatch', `BSON field 'readConcern.${k}' is the wrong type '${typeNameOf(v)}', expected type 'timestamp'`);
      out[k] = v;
    } else if (k === 'afterOpTime' || k === 'provenance') {
      // accepted and ignored, as mongod does for internal fields
    } else {
      fail('IDLUnknownField', `BSON field 'readConcern.${k}' is an unknown field.`);
    }
  }
  if (out.atClusterTime !== undefined && out.level !== 'snapshot') {
    fail('InvalidOptions', 'atClusterTime is only compatible with snapshot read concern level');
  }
  if (out.atClusterTime !== undefined && out.afterClusterTime !== undefined) {
    fail('InvalidOptions', 'Specifying a timestamp for readConcern snapshot in a causally consistent session is not allowed. See https://www.mongodb.com/docs/manual/core/read-isolation-consistency-recency/#causal-consistency');
  }
  return out;
}

export function parseWriteConcern(wc: Document): WriteConcern {
  const out: WriteConcern = {};
  for (const [k, v] of Object.entries(wc)) {
    switch (k) {
      case 'w': {
        const t = typeNameOf(v);
        if (t === 'string') out.w = v as string;
        else if (t === 'int' || t === 'long' || t === 'double' || t === 'decimal') {
          const n = toJsNumber(v);
          if (n < 0 || !Number.isInteger(n)) fail('FailedToParse', `w has to be a non-negative number and not greater than 50; found: ${n}`);
          out.w = n;
        } else if (t === 'object') {
          out.w = 'tagged';
        } else fail('FailedToParse', 'w has to be a number, string, or object');
        break;
      }
      case 'j':
      case 'fsync': {
        const t = typeNameOf(v);
        if (t !== 'bool' && t !== 'int' && t !== 'long' && t !== 'double') fail('TypeMismatch', `BSON field 'writeConcern.${k}' is the wrong type '${t}', expected types '[bool, long, int, decimal, double]'`);
        out.j = t === 'bool' ? (v as boolean) : toJsNumber(v) !== 0;
        break;
      }
      case 'wtimeout':
      case 'wtimeoutMS':
        out.wtimeout = toJsNumber(v);
        break;
      case 'provenance':
      case 'getLastError':
        break;
      default:
        fail('IDLUnknownField', `BSON field 'writeConcern.${k}' is an unknown field.`);
    }
  }
  return out;
}

export function isGenericArgument(name: string): boolean {
  return GENERIC_ARGUMENT_NAMES.has(name);
}

