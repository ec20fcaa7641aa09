import type { CommandDefinition } from '../types.js';

export const pingCommand: CommandDefinition = {
  name: 'ping',
  help: 'Answers { ok: 1 }: a liveness check.',
  kind: 'diagnostic',
  noAuth: true,
  allowedInTransaction: true,
  run: () => ({}),
};
