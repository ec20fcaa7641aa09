/**
 * replSetGetConfig: the replica-set configuration document. Dossier's set has one member, this
 * node, with mongod's defaults for every setting.
 */
import { Long, type Document } from '../../bson/index.js';
import { CURRENT_TERM } from '../../storage/index.js';
import { CommandArgs } from '../args.js';
import type { Instance } from '../instance.js';
import type { CommandDefinition } from '../types.js';
import { ELECTION_TIMEOUT_MILLIS, HEARTBEAT_INTERVAL_MILLIS, replicaSetIdOf } from './replSetGetStatus.js';

export function replSetConfig(instance: Instance): Document {
  return {
    _id: instance.config.replSetName,
    version: 1,
    term: CURRENT_TERM,
    members: [
      {
        _id: 0,
        host: instance.config.host,
        arbiterOnly: false,
        buildIndexes: true,
        hidden: false,
        priority: 1,
        tags: {},
        secondaryDelaySecs: Long.fromNumber(0),
        votes: 1,
      },
    ],
    protocolVersion: Long.fromNumber(1),
    writeConcernMajorityJournalDefault: true,
    settings: {
      chainingAllowed: true,
      heartbeatIntervalMillis: HEARTBEAT_INTERVAL_MILLIS,
      heartbeatTimeoutSecs: 10,
      electionTimeoutMillis: ELECTION_TIMEOUT_MILLIS,
      catchUpTimeoutMillis: -1,
      catchUpTakeoverDelayMillis: 30_000,
      getLastErrorModes: {},
      getLastErrorDefaults: { w: 1, wtimeout: 0 },
      replicaSetId: replicaSetIdOf(instance),
    },
  };
}

export const replSetGetConfigCommand: CommandDefinition = {
  name: 'replSetGetConfig',
  help: 'Returns the current replica set configuration{ replSetGetConfig : 1 }',
  kind: 'diagnostic',
  adminOnly: true,
  run(ctx) {
    const a = new CommandArgs('replSetGetConfig', ctx.body);
    a.rejectUnknown(['commitmentStatus', 'includeNewlyAdded']);
    const commitmentStatus = a.bool('commitmentStatus') ?? false;
    a.bool('includeNewlyAdded');
    const reply: Document = { config: replSetConfig(ctx.instance) };
    // A one-member config is committed the moment it is installed.
    if (commitmentStatus) reply.commitmentStatus = true;
    return reply;
  },
};
