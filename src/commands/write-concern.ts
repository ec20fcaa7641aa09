/**
 * Write concern on one node. `w: 1` and `w: "majority"` are satisfied once the write is
 * committed (this member is the whole majority); `w` above the member count and unknown tag
 * modes are answered with mongod's writeConcernError shapes. The wait goes through
 * `waitForWriteConcern`, where durable storage will plug in `j: true` and the majority commit point.
 */
import { fail } from '../base/index.js';
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

function provenanced(wc: WriteConcern): Document {
  const out: Document = {};
  if (wc.w !== undefined) out.w = wc.w;
  if (wc.j !== undefined) out.j = wc.j;
  out.wtimeout = wc.wtimeout ?? 0;
  out.provenance = 'clientSupplied';
  return out;
}

/**
 * Waits until the write concern is satisfied for a write committed at `opTime` and returns the
 * writeConcernError to attach to the reply, if it cannot be.
 */
export async function waitForWriteConcern(_instance: Instance, wc: WriteConcern | undefined, _opTime: TsKey): Promise<Document | undefined> {
  if (!wc) return undefined;
  if (typeof wc.w === 'number' && wc.w > MEMBER_COUNT) {
    return { code: 100, codeName: 'UnsatisfiableWriteConcern', errmsg: 'Not enough data-bearing nodes', errInfo: { writeConcern: provenanced(wc) } };
  }
  if (typeof wc.w === 'string' && wc.w !== 'majority') {
    return { code: 79, codeName: 'UnknownReplWriteConcern', errmsg: `No write concern mode named '${wc.w}' found in replica set configuration`, errInfo: { writeConcern: provenanced(wc) } };
  }
  // w: 1 / "majority" / j: every commit is visible and, in memory, as durable as it gets.
  return undefined;
}
