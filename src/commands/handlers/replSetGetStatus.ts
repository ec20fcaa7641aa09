/**
 * replSetGetStatus: the replica set as this member sees it. Dossier is a single-node set whose
 * only member is the primary, so the status is built from the instance itself: its host, its
 * last commit (applied = durable = majority-committed on one node) and its uptime.
 */
import { CURRENT_TERM } from '../../storage/index.js';
import { timestampOf } from '../../time/index.js';
import { Long, ObjectId, Timestamp, type Document } from '../../bson/index.js';
import { CommandArgs } from '../args.js';
import type { Instance } from '../instance.js';
import type { CommandDefinition } from '../types.js';

export const HEARTBEAT_INTERVAL_MILLIS = 2000;
export const ELECTION_TIMEOUT_MILLIS = 10_000;

export function replicaSetIdOf(instance: Instance): ObjectId {
  return instance.replicaSetId;
}

/** The member's optime: the newest commit, in the single term Dossier has. */
export function currentOpTime(instance: Instance): { opTime: Document; wall: Date } {
  const ts = timestampOf(instance.engine.lastCommitTs);
  return { opTime: { ts, t: Long.fromNumber(CURRENT_TERM) }, wall: new Date(ts.high * 1000) };
}

/** When this node became primary: its start, the moment the single-node set elects itself. */
export function electionTime(instance: Instance): { ts: Timestamp; date: Date } {
  const seconds = Math.floor(instance.startedAtMs / 1000);
  return { ts: new Timestamp({ t: seconds, i: 1 }), date: new Date(seconds * 1000) };
}

export const replSetGetStatusCommand: CommandDefinition = {
  name: 'replSetGetStatus',
  help: 'Report status of a replica set from the POV of this server\n{ replSetGetStatus : 1 }',
  kind: 'diagnostic',
  adminOnly: true,
  run(ctx) {
    const { instance } = ctx;
    const a = new CommandArgs('replSetGetStatus', ctx.body);
    a.bool('initialSync');
    const now = new Date(instance.clock.nowMs());
    const { opTime, wall } = currentOpTime(instance);
    const election = electionTime(instance);
    const uptimeSecs = Math.floor(Math.max(0, instance.clock.nowMs() - instance.startedAtMs) / 1000);
    return {
      set: instance.config.replSetName,
      date: now,
      myState: 1,
      term: Long.fromNumber(CURRENT_TERM),
      syncSourceHost: '',
      syncSourceId: -1,
      heartbeatIntervalMillis: Long.fromNumber(HEARTBEAT_INTERVAL_MILLIS),
      majorityVoteCount: 1,
      writeMajorityCount: 1,
      votingMembersCount: 1,
      writableVotingMembersCount: 1,
      optimes: {
        lastCommittedOpTime: opTime,
        lastCommittedWallTime: wall,
        readConcernMajorityOpTime: opTime,
        appliedOpTime: opTime,
        durableOpTime: opTime,
        writtenOpTime: opTime,
        lastAppliedWallTime: wall,
        lastDurableWallTime: wall,
        lastWrittenWallTime: wall,
      },
      members: [
        {
          _id: 0,
          name: instance.config.host,
          health: 1,
          state: 1,
          stateStr: 'PRIMARY',
          uptime: uptimeSecs,
          optime: opTime,
          optimeDate: wall,
          optimeWritten: opTime,
          optimeWrittenDate: wall,
          lastAppliedWallTime: wall,
          lastDurableWallTime: wall,
          lastWrittenWallTime: wall,
          syncSourceHost: '',
          syncSourceId: -1,
          infoMessage: '',
          electionTime: election.ts,
          electionDate: election.date,
          configVersion: 1,
          configTerm: CURRENT_TERM,
          self: true,
          lastHeartbeatMessage: '',
        },
      ],
    };
  },
};
