import type { CommandDefinition } from '../types.js';

export const refreshLogicalSessionCacheNowCommand: CommandDefinition = {
  name: 'refreshLogicalSessionCacheNow',
  help: 'Writes the session catalog to config.system.sessions now (a test command, as in mongod).',
  kind: 'session',
  testOnly: true,
  run(ctx) {
    ctx.instance.sessionsCollection.refresh();
    return {};
  },
};
