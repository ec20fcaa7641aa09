/** Turning results and errors into the reply documents mongod sends. */
import { DossierError, ErrorCodes } from '../base/index.js';
import { Double, toJsNumber, type Document } from '../bson/index.js';

export function errorReply(e: DossierError): Document {
  const reply: Document = { ok: new Double(0), errmsg: e.errmsg, code: e.code, codeName: e.codeName };
  if (e.extra) Object.assign(reply, e.extra);
  if (e.errorLabels.length > 0) reply.errorLabels = [...e.errorLabels];
  return reply;
}

/** An unexpected exception is a bug in Dossier: report it as InternalError rather than crash. */
export function toDossierError(e: unknown): DossierError {
  if (e instanceof DossierError) return e;
  if (e instanceof RangeError && /call stack/i.test(e.message)) {
    return new DossierError(ErrorCodes.Overflow, 'BSONObj exceeds maximum nested object depth');
  }
  const message = e instanceof Error ? e.message : String(e);
  return new DossierError(ErrorCodes.InternalError, `internal error: ${message}`);
}

/** The per-statement error entry of a write command's writeErrors array. */
export function writeErrorEntry(index: number, e: DossierError): Document {
  const entry: Document = { index, code: e.code, errmsg: e.errmsg };
  if (e.extra) {
    // mongod puts keyPattern/keyValue and errInfo inside the write error entry.
    for (const [k, v] of Object.entries(e.extra)) entry[k] = v;
  }
  return entry;
}

export function isOkReply(reply: Document): boolean {
  return toJsNumber(reply.ok) === 1;
}
