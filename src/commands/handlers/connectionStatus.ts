/**
 * connectionStatus: who this connection is authenticated as. Dossier has no users yet, so every
 * connection is unauthenticated: empty users and roles, and (with showPrivileges) no privileges.
 */
import type { Document } from '../../bson/index.js';
import { CommandArgs } from '../args.js';
import type { CommandDefinition } from '../types.js';

export const connectionStatusCommand: CommandDefinition = {
  name: 'connectionStatus',
  help: 'Returns connection-specific information such as logged-in users and their roles',
  kind: 'diagnostic',
  noAuth: true,
  run(ctx) {
    const a = new CommandArgs('connectionStatus', ctx.body);
    a.rejectUnknown(['showPrivileges']);
    const authInfo: Document = { authenticatedUsers: [], authenticatedUserRoles: [] };
    if (a.bool('showPrivileges') === true) authInfo.authenticatedUserPrivileges = [];
    return { authInfo };
  },
};
