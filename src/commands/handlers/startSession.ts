import { UUID } from '../../bson/index.js';
import { parseLsid } from '../../sessions/index.js';
import type { CommandDefinition } from '../types.js';

export const startSessionCommand: CommandDefinition = {
  name: 'startSession',
  help: 'Starts a logical session and returns its id.',
  kind: 'session',
  run(ctx) {
    const id = new UUID();
    const lsid = parseLsid({ id });
    ctx.instance.sessions.getOrCreate(lsid);
    return { id: { id: lsid.id }, timeoutMinutes: ctx.instance.parameters.getNumber('localLogicalSessionTimeoutMinutes') };
  },
};
