/** whatsmyuri: the client's own address as the server sees it ("host:port"). */
import type { CommandDefinition } from '../types.js';

export const whatsmyuriCommand: CommandDefinition = {
  name: 'whatsmyuri',
  help: '{whatsmyuri:1}',
  kind: 'diagnostic',
  noAuth: true,
  run: (ctx) => ({ you: ctx.connection.remote }),
};
