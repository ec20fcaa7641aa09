/**
 * Read concern on one node. `local`, `available` and `linearizable` read the newest committed
 * state; `majority` the same in memory and, with a data directory, what the journal holds;
 * `snapshot` reads at one timestamp — `atClusterTime` if given, inside the history window —
 * and `afterClusterTime` makes a read wait until the node's commits cover that time.
 */
import { fail } from '../base/index.js';
import { formatValue } from '../bson/index.js';
import { timestampOf, tsKeyOf, type TsKey } from '../time/index.js';
import type { ReadConcern } from './generic.js';
import type { Instance } from './instance.js';
import type { CommandDefinition } from './types.js';

/**
 * Makes sure the node's commits cover `afterClusterTime`. The clock may have issued or observed a
 * time no commit carries yet (cluster-time gossip, a client's own clock); as mongod's primary
 * does, a no-op oplog write moves the committed time past it instead of waiting for a write.
 */
export function satisfyAfterClusterTime(instance: Instance, rc: ReadConcern | undefined): void {
  const after = rc?.afterClusterTime;
  if (after === undefined) return;
  const key = tsKeyOf(after);
  if (key > instance.hlc.now()) {
    fail('InvalidOptions', `readConcern afterClusterTime value must not be greater than the current clusterTime. Requested clusterTime: ${formatValue(after)}; current clusterTime: ${formatValue(timestampOf(instance.hlc.now()))}`);
  }
  if (key > instance.engine.lastCommitTs) instance.engine.noop({ msg: 'advance committed time for afterClusterTime' });
}

/** The snapshot timestamp a read (or a starting transaction) uses under this read concern. */
export function readTimestampFor(instance: Instance, rc: ReadConcern | undefined, _inTransaction: boolean): TsKey {
  satisfyAfterClusterTime(instance, rc);
  if (rc?.level === 'linearizable') instance.engine.noop({ msg: 'linearizable read' });
  if (rc?.level !== 'snapshot' || rc.atClusterTime === undefined) return instance.engine.lastCommitTs;
  const at = tsKeyOf(rc.atClusterTime);
  if (at > instance.hlc.now()) {
    fail('InvalidOptions', `readConcern atClusterTime value must not be greater than the current clusterTime. Requested clusterTime: ${formatValue(rc.atClusterTime)}; current clusterTime: ${formatValue(timestampOf(instance.hlc.now()))}`);
  }
  if (at > instance.engine.lastCommitTs) instance.engine.noop({ msg: 'advance committed time for atClusterTime' });
  if (at < instance.engine.historyWindowStart()) {
    fail('SnapshotTooOld', `Read timestamp ${formatValue(rc.atClusterTime)} is older than the oldest available timestamp.`);
  }
  return at;
}

/**
 * The snapshot of a read outside a transaction. With a data directory, `majority` reads what the
 * journal holds (on one node the majority commit point is the durable point, as mongod's with
 * writeConcernMajorityJournalDefault), waiting for the group commit when `afterClusterTime` asks
 * for more than is durable yet.
 */
export async function readTimestampOutsideTransaction(instance: Instance, rc: ReadConcern | undefined): Promise<TsKey> {
  const ts = readTimestampFor(instance, rc, false);
  const journal = instance.persistence?.journal;
  if (rc?.level !== 'majority' || !journal) return ts;
  const after = rc.afterClusterTime === undefined ? 0 : tsKeyOf(rc.afterClusterTime);
  if (after > journal.lastDurableTs || journal.lastDurableTs === 0) await journal.flush();
  return Math.min(ts, journal.lastDurableTs);
}

/** Checks a read concern against what the command supports, outside transactions. */
export function validateReadConcern(def: CommandDefinition, rc: ReadConcern | undefined, inTransaction: boolean): void {
  if (!rc || inTransaction) return;
  const level = rc.level ?? 'local';
  if (level === 'snapshot' && !def.snapshotReads) {
    fail('InvalidOptions', `Command ${def.name} does not support { readConcern: { level: "snapshot" } } outside of a multi-document transaction`);
  }
  if (level !== 'local' && level !== 'available' && def.kind !== 'read' && def.name !== 'getMore') {
    fail('InvalidOptions', `Command ${def.name} does not support { readConcern: { level: "${level}" } }`);
  }
}
