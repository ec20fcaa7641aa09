import { parseLsid, type Session } from '../../sessions/index.js';
import { sessionList } from '../session-commands.js';
import type { CommandDefinition } from '../types.js';

export const killSessionsCommand: CommandDefinition = {
  name: 'killSessions',
  help: 'Kills sessions: aborts their transactions and closes their cursors (an empty list kills all).',
  kind: 'session',
  run(ctx) {
    const list = sessionList(ctx, 'killSessions');
    const targets: Session[] = list.length === 0 ? ctx.instance.sessions.all() : list.map((raw) => ctx.instance.sessions.get(parseLsid(raw, 'killSessions'))).filter((s): s is Session => s !== undefined);
    for (const s of targets) if (s !== ctx.session) ctx.instance.sessions.kill(s);
    return {};
  },
};
