import { parseLsid } from '../../sessions/index.js';
import { sessionList } from '../session-commands.js';
import type { CommandDefinition } from '../types.js';

export const refreshSessionsCommand: CommandDefinition = {
  name: 'refreshSessions',
  help: 'Marks sessions as in use so they do not expire.',
  kind: 'session',
  run(ctx) {
    for (const raw of sessionList(ctx, 'refreshSessions')) {
      const lsid = parseLsid(raw, 'refreshSessions');
      ctx.instance.sessions.getOrCreate(lsid);
      ctx.instance.sessions.refresh(lsid);
    }
    return {};
  },
};
