import { sessionList } from '../session-commands.js';
import type { CommandDefinition } from '../types.js';

export const killAllSessionsCommand: CommandDefinition = {
  name: 'killAllSessions',
  help: 'Kills every session of the given users (an empty list: of every user).',
  kind: 'session',
  run(ctx) {
    // Without authentication every session belongs to the same (empty) user.
    sessionList(ctx, 'killAllSessions');
    for (const s of ctx.instance.sessions.all()) if (s !== ctx.session) ctx.instance.sessions.kill(s);
    return {};
  },
};
