import { sessionList, sessionsMatching } from '../session-commands.js';
import type { CommandDefinition } from '../types.js';

export const killAllSessionsByPatternCommand: CommandDefinition = {
  name: 'killAllSessionsByPattern',
  help: 'Kills the sessions matching any pattern ({lsid}, {uid}, {}); an empty list kills all.',
  kind: 'session',
  run(ctx) {
    for (const s of sessionsMatching(ctx, sessionList(ctx, 'killAllSessionsByPattern'))) if (s !== ctx.session) ctx.instance.sessions.kill(s);
    return {};
  },
};
