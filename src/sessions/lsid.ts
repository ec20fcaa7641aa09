/** Logical session ids: `{ id: UUID, uid?: BinData(0, sha256) }`, validated and keyed as mongod does. */
import { fail } from '../base/index.js';
import { Binary, isDocument, typeNameOf, type BsonValue, type Document } from '../bson/index.js';

/** sha256 of the empty user name: the uid mongod gives sessions when auth is off. */
const NO_AUTH_UID = Buffer.from('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 'hex');

function binaryBytes(v: BsonValue): Buffer {
  const b = v as Binary;
  return Buffer.from(b.buffer.subarray(0, b.position));
}

/** Validates an lsid document; returns it with the uid filled in, as mongod stores it. */
export function parseLsid(raw: BsonValue, field = 'lsid'): Document {
  if (!isDocument(raw)) fail('TypeMismatch', `BSON field '${field}' is the wrong type '${typeNameOf(raw)}', expected type 'object'`);
  for (const k of Object.keys(raw)) {
    if (k !== 'id' && k !== 'uid' && k !== 'txnNumber' && k !== 'txnUUID') fail('IDLUnknownField', `BSON field '${field}.${k}' is an unknown field.`);
  }
  const id = raw.id;
  if (id === undefined) fail('IDLFailedToParse', `BSON field '${field}.id' is missing but a required field`);
  if (typeNameOf(id) !== 'binData') fail('TypeMismatch', `BSON field '${field}.id' is the wrong type '${typeNameOf(id)}', expected type 'binData'`);
  if ((id as Binary).sub_type !== 4) fail('InvalidUUID', `BSON field '${field}.id' is the wrong binData type`);
  if (binaryBytes(id).length !== 16) fail('InvalidUUID', `uuid must be a 16-byte binary field with UUID (4) subtype`);
  const uid = raw.uid === undefined ? new Binary(NO_AUTH_UID, 0) : raw.uid;
  if (typeNameOf(uid) !== 'binData') fail('TypeMismatch', `BSON field '${field}.uid' is the wrong type '${typeNameOf(uid)}', expected type 'binData'`);
  return { id, uid };
}

/** A string key for the session catalog: id and uid bytes in hex. */
export function lsidKey(lsid: Document): string {
  return `${binaryBytes(lsid.id).toString('hex')}:${binaryBytes(lsid.uid).toString('hex')}`;
}


/** How mongod prints a session id inside error messages. */
export function lsidToString(lsid: Document): string {
  const hex = binaryBytes(lsid.id).toString('hex');
  const uuid = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  return `${uuid} - ${binaryBytes(lsid.uid).toString('base64')} -  - `;
}
