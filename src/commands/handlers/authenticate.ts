/**
 * authenticate: the non-SASL authentication command (MONGODB-X509 only since MONGODB-CR was
 * removed). Dossier has no TLS client certificates and no users, so it always fails.
 */
import { fail } from '../../base/index.js';
import type { CommandDefinition } from '../types.js';

export const authenticateCommand: CommandDefinition = {
  name: 'authenticate',
  help: 'internal',
  kind: 'session',
  noAuth: true,
  run(ctx) {
    const mechanism = ctx.body.mechanism;
    if (mechanism === undefined) fail('IDLFailedToParse', 'BSON field \'authenticate.mechanism\' is missing but a required field');
    if (mechanism === 'MONGODB-X509') fail('AuthenticationFailed', 'No verified subject name available from client');
    return fail('MechanismUnavailable', `Unsupported mechanism for authenticate: ${String(mechanism)}`);
  },
};
