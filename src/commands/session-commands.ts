/** What startSession, refreshSessions and the kill* commands share: reading lists of sessions. */
import { fail } from '../base/index.js';
import { isDocument, typeNameOf, type BsonValue, type Document } from '../bson/index.js';
import { parseLsid, type Session } from '../sessions/index.js';
import type { CommandContext } from './types.js';

export function sessionList(ctx: CommandContext, field: string): Document[] {
  const v = ctx.body[field];
  if (!Array.isArray(v)) fail('TypeMismatch', `BSON field '${field}.${field}' is the wrong type '${typeNameOf(v)}', expected type 'array'`);
  return v.map((e: BsonValue, i: number) => {
    if (!isDocument(e)) fail('TypeMismatch', `BSON field '${field}.${field}.${i}' is the wrong type '${typeNameOf(e)}', expected type 'object'`);
    return e;
  });
}

/** Sessions matching killAllSessionsByPattern patterns: {lsid}, {uid}, or {} (all); an empty list means all. */
export function sessionsMatching(ctx: CommandContext, patterns: Document[]): Session[] {
  const all = ctx.instance.sessions.all();
  if (patterns.length === 0) return all;
  const out = new Set<Session>();
  for (const p of patterns) {
    if (p.lsid !== undefined) {
      const s = ctx.instance.sessions.get(parseLsid(p.lsid, 'lsid'));
      if (s) out.add(s);
    } else if (p.uid !== undefined) {
      const hex = Buffer.from((p.uid as { buffer: Uint8Array }).buffer).toString('hex');
      for (const s of all) if (s.key.endsWith(`:${hex}`)) out.add(s);
    } else {
      for (const s of all) out.add(s);
    }
  }
  return [...out];
}
