/**
 * saslStart: Dossier has no users yet, so it answers like a mongod
 * with authentication off and no users: a mechanism it knows fails with AuthenticationFailed
 * (mongod does not say whether the user exists), an unknown one with MechanismUnavailable.
 */
import { fail } from '../../base/index.js';
import { typeNameOf } from '../../bson/index.js';
import type { Instance } from '../instance.js';
import type { CommandDefinition } from '../types.js';

function enabledMechanisms(instance: Instance): string[] {
  const configured = instance.parameters.get('authenticationMechanisms');
  return typeof configured === 'string' ? configured.split(',').map((m) => m.trim()).filter((m) => m.length > 0) : [];
}

/** Fails as mongod does for an authentication attempt that cannot succeed. */
export function rejectAuthentication(instance: Instance, mechanism: unknown, db: string): never {
  if (mechanism === undefined) fail('IDLFailedToParse', 'BSON field \'saslStart.mechanism\' is missing but a required field');
  if (typeof mechanism !== 'string') fail('TypeMismatch', `BSON field 'saslStart.mechanism' is the wrong type '${typeNameOf(mechanism)}', expected type 'string'`);
  if (!enabledMechanisms(instance).includes(mechanism)) {
    fail('MechanismUnavailable', `Received authentication for mechanism ${mechanism} which is not enabled`);
  }
  instance.log.info({ mechanism, db }, 'Authentication failed: no users are defined');
  return fail('AuthenticationFailed', 'Authentication failed.');
}

export const saslStartCommand: CommandDefinition = {
  name: 'saslStart',
  help: 'First step in a SASL authentication conversation.',
  kind: 'session',
  noAuth: true,
  run: (ctx) => rejectAuthentication(ctx.instance, ctx.body.mechanism, ctx.db),
};
