/**
 * getDefaultRWConcern: the cluster-wide default read and write concerns. Nobody can set them on
 * Dossier yet (no setDefaultRWConcern), so they are mongod's implicit defaults for a replica set:
 * read concern "local" and write concern { w: "majority" }.
 */
import { CommandArgs } from '../args.js';
import type { CommandDefinition } from '../types.js';

export const getDefaultRWConcernCommand: CommandDefinition = {
  name: 'getDefaultRWConcern',
  help: 'Get the current read/write concern defaults being applied by this node',
  kind: 'diagnostic',
  adminOnly: true,
  run(ctx) {
    const a = new CommandArgs('getDefaultRWConcern', ctx.body);
    a.rejectUnknown(['inMemory']);
    const inMemory = a.bool('inMemory');
    return {
      defaultReadConcern: { level: 'local' },
      defaultWriteConcern: { w: 'majority', wtimeout: 0 },
      ...(inMemory === true ? { inMemory: true } : {}),
      // The defaults were "loaded" when this instance started; there was never an update.
      localUpdateWallClockTime: new Date(ctx.instance.startedAtMs),
      defaultWriteConcernSource: 'implicit',
      defaultReadConcernSource: 'implicit',
    };
  },
};
