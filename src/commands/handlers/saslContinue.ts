/**
 * saslContinue: the next step of a SASL conversation. Every saslStart fails on Dossier (no users
 * yet), so no conversation exists and this fails as mongod does without session state.
 */
import { fail } from '../../base/index.js';
import type { CommandDefinition } from '../types.js';

export const saslContinueCommand: CommandDefinition = {
  name: 'saslContinue',
  help: 'Subsequent steps in a SASL authentication conversation.',
  kind: 'session',
  noAuth: true,
  run: () => fail('ProtocolError', 'No SASL session state found'),
};
