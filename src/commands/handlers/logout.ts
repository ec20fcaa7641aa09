/** logout: ends the connection's authentication. Dossier has no users yet, so there is nothing to end. */
import type { CommandDefinition } from '../types.js';

export const logoutCommand: CommandDefinition = {
  name: 'logout',
  help: 'de-authenticate',
  kind: 'session',
  noAuth: true,
  run: () => ({}),
};
