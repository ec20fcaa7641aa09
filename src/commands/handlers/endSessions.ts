/**
 * endSessions: the client says it is done with these logical sessions. Every driver sends it when
 * it closes, so it must accept exactly what drivers send and reject malformed input the way
 * mongod's IDL parser does. Ending a session aborts its open transaction and kills its cursors;
 * unknown sessions are ignored, as mongod does.
 */
import { fail, failLocation } from '../../base/index.js';
import { isDocument, typeNameOf, type BsonValue, type Document } from '../../bson/index.js';
import { CommandArgs } from '../args.js';
import { parseLsid } from '../../sessions/index.js';
import type { CommandDefinition } from '../types.js';

/** The struct context mongod's parser names in its messages for each array element. */
const ELEMENT_CONTEXT = 'endSessions.endSessionsFromClient';
const SESSION_FIELDS = ['id', 'uid', 'txnNumber', 'txnUUID'] as const;

/** Binary subtypes as mongod's typeName(BinDataType) spells them. */
const BINARY_SUBTYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'general', 1: 'function', 2: 'byte(deprecated)', 3: 'UUID(deprecated)', 4: 'UUID', 5: 'MD5', 6: 'encrypt', 7: 'column', 8: 'sensitive', 9: 'vector', 128: 'Custom',
};

function subtypeName(subtype: number): string {
  return BINARY_SUBTYPE_NAMES[subtype] ?? 'invalid';
}

function expectBinary(field: string, v: BsonValue, subtype: number, length?: number): void {
  const t = typeNameOf(v);
  if (t !== 'binData') fail('TypeMismatch', `BSON field '${ELEMENT_CONTEXT}.${field}' is the wrong type '${t}', expected type 'binData'`);
  const actual = (v as { sub_type: number }).sub_type;
  if (actual !== subtype) {
    fail('TypeMismatch', `BSON field '${ELEMENT_CONTEXT}.${field}' is the wrong binData type '${subtypeName(actual)}', expected type '${subtypeName(subtype)}'`);
  }
  const bytes = (v as { length(): number }).length();
  if (length !== undefined && bytes !== length) fail('BadValue', `Unsupported SHA256Block hash length: ${bytes}`);
  if (subtype === 4 && bytes !== 16) fail('InvalidUUID', `Invalid UUID: ${bytes} bytes`);
}

/** One LogicalSessionFromClient: {id: UUID, uid?: 32-byte binData, txnNumber?, txnUUID?}, strict. */
export function validateSessionFromClient(doc: Document): void {
  for (const k of Object.keys(doc)) {
    if (!(SESSION_FIELDS as readonly string[]).includes(k)) fail('IDLUnknownField', `BSON field '${ELEMENT_CONTEXT}.${k}' is an unknown field.`);
  }
  // IDL treats a null required field as missing.
  if (doc.id === undefined || doc.id === null) fail('IDLFailedToParse', `BSON field '${ELEMENT_CONTEXT}.id' is missing but a required field`);
  expectBinary('id', doc.id, 4);
  if (doc.uid !== undefined) expectBinary('uid', doc.uid, 0, 32);
  if (doc.txnNumber !== undefined && typeNameOf(doc.txnNumber) !== 'long') {
    fail('TypeMismatch', `BSON field '${ELEMENT_CONTEXT}.txnNumber' is the wrong type '${typeNameOf(doc.txnNumber)}', expected type 'long'`);
  }
  if (doc.txnUUID !== undefined) expectBinary('txnUUID', doc.txnUUID, 4);
}

export const endSessionsCommand: CommandDefinition = {
  name: 'endSessions',
  help: 'end a set of logical sessions',
  kind: 'session',
  noAuth: true,
  run(ctx) {
    const v = ctx.body.endSessions;
    if (v === null) failLocation(10065, 'invalid parameter: expected an object (endSessions)');
    if (!Array.isArray(v)) fail('TypeMismatch', `BSON field 'endSessions.endSessions' is the wrong type '${typeNameOf(v)}', expected type 'array'`);
    new CommandArgs('endSessions', ctx.body).rejectUnknown([]);
    v.forEach((e: BsonValue, i: number) => {
      if (!isDocument(e)) fail('TypeMismatch', `BSON field 'endSessions.endSessions.${i}' is the wrong type '${typeNameOf(e)}', expected type 'object'`);
      validateSessionFromClient(e);
    });
    for (const e of v as Document[]) ctx.instance.sessions.end(parseLsid(e));
    return {};
  },
};
