/**
 * Write concern on one node. `w: 1` and `w: "majority"` are satisfied once the write is
 * committed (this member is the whole majority); `w` above the member count and unknown tag
 * modes are answered with mongod's writeConcernError shapes. With a data directory, `j: true` and
 * `w: "majority"` (the default) also wait for the journal's group commit to cover the write.
 */
import { DossierError, fail } from '../base/index.js';
import type { Document } from '../bson/index.js';
import type { TsKey } from '../time/index.js';
import type { WriteConcern } from './generic.js';
import type { Instance } from './instance.js';
import type { CommandDefinition } from './types.js';
import { isCommitOrAbort } from './session-support.js';

/** The data-bearing members of the set. */
const MEMBER_COUNT = 1;

export function supportsWriteConcern(def: CommandDefinition): boolean {
  // aggregate takes one for $out/$merge, as mongod.
  if (def.noWriteConcern === true) return false;
  return def.kind === 'write' || isCommitOrAbort(def.name) || def.name === 'aggregate' || def.name === 'endSessions' || def.name === 'killSessions';
}

/** Rejections mongod makes before running the command. */
export function validateWriteConcern(def: CommandDefinition, wc: WriteConcern | undefined): void {
  if (!wc) return;
  if (!supportsWriteConcern(def)) fail('InvalidOptions', 'Command does not support writeConcern');
  if (wc.w === 0 && wc.j === true) fail('InvalidOptions', "cannot use 'j' option with a writeConcern of w:0");
}

function provenanced(wc: WriteConcern, provenance = 'clientSupplied'): Document {
  const out: Document = {};
  if (wc.w !== undefined) out.w = wc.w;
  if (wc.j !== undefined) out.j = wc.j;
  out.wtimeout = wc.wtimeout ?? 0;
  out.provenance = provenance;
  return out;
}

/**
 * Waits until the write concern is satisfied for a write committed at `opTime` and returns the
 * writeConcernError to attach to the reply, if it cannot be.
 */
export async function waitForWriteConcern(instance: Instance, requested: WriteConcern | undefined, _opTime: TsKey, takesWriteConcern: boolean): Promise<Document | undefined> {
  if (!requested && !takesWriteConcern) return undefined;
  // No write concern means the default, { w: "majority" } on a replica set since 5.0.
  const wc: WriteConcern = requested ?? { w: 'majority' };
  const provenance = requested ? 'clientSupplied' : 'implicitDefault';
  if (typeof wc.w === 'number' && wc.w > MEMBER_COUNT) {
    return { code: 100, codeName: 'UnsatisfiableWriteConcern', errmsg: 'Not enough data-bearing nodes', errInfo: { writeConcern: provenanced(wc) } };
  }
  if (typeof wc.w === 'string' && wc.w !== 'majority') {
    return { code: 79, codeName: 'UnknownReplWriteConcern', errmsg: `No write concern mode named '${wc.w}' found in replica set configuration`, errInfo: { writeConcern: provenanced(wc) } };
  }
  // w: "majority" (writeConcernMajorityJournalDefault: true, as mongod's default) and j: true wait
  // for the journal; w: 1 without j is answered once the commit is visible. In memory every
  // commit is as durable as it gets.
  const journal = instance.persistence?.journal;
  if (!journal || !(wc.j === true || wc.w === 'majority' || (wc.w === undefined && wc.j === undefined))) return undefined;
  try {
    await journal.whenDurable(journal.lastSeq);
  } catch (e) {
    if (!(e instanceof DossierError)) throw e;
    return { code: e.code, codeName: e.codeName, errmsg: e.message, errInfo: { writeConcern: provenanced(wc, provenance) } };
  }
  return undefined;
}
