/**
 * listCommands: every registered command with its metadata, generated from the registry so it
 * can never drift from what the server really answers. Shape and field order as mongod's:
 * help, requiresAuth, secondaryOk, adminOnly, [secondaryOverrideOk], apiVersions,
 * deprecatedApiVersions; sorted by name, canonical names only.
 */
import type { Document } from '../../bson/index.js';
import { allCommands } from '../registry.js';
import type { CommandDefinition } from '../types.js';

/** The commands mongod 8.0 declares in Stable API version 1 (apiVersions: ['1']). */
const API_V1_COMMANDS: ReadonlySet<string> = new Set([
  'abortTransaction', 'aggregate', 'authenticate', 'bulkWrite', 'collMod', 'commitTransaction', 'count',
  'create', 'createIndexes', 'delete', 'drop', 'dropDatabase', 'dropIndexes', 'endSessions', 'explain',
  'find', 'findAndModify', 'getMore', 'hello', 'insert', 'killCursors', 'listCollections', 'listDatabases',
  'listIndexes', 'ping', 'refreshSessions', 'saslContinue', 'saslStart', 'update',
]);

/**
 * mongod's AllowedOnSecondary: reads may be opted into on a secondary (kOptIn), writes and DDL
 * never (kNever), diagnostics and session commands always (kAlways).
 */
export function secondaryAllowed(def: CommandDefinition): 'always' | 'optIn' | 'never' {
  switch (def.kind) {
    case 'read':
      return 'optIn';
    case 'write':
    case 'admin':
      return def.name === 'setParameter' ? 'always' : 'never';
    default:
      return 'always';
  }
}

export const listCommandsCommand: CommandDefinition = {
  name: 'listCommands',
  help: 'get a list of all db commands',
  kind: 'diagnostic',
  noAuth: true,
  run(ctx) {
    const commands: Document = {};
    for (const def of allCommands()) {
      // Test commands exist only with enableTestCommands, as on mongod.
      if (def.testOnly && !ctx.instance.config.enableTestCommands) continue;
      const secondary = secondaryAllowed(def);
      const entry: Document = {
        help: def.help,
        requiresAuth: def.noAuth !== true,
        secondaryOk: secondary === 'always',
        adminOnly: def.adminOnly === true,
      };
      if (secondary === 'optIn') entry.secondaryOverrideOk = true;
      entry.apiVersions = API_V1_COMMANDS.has(def.name) ? ['1'] : [];
      entry.deprecatedApiVersions = [];
      commands[def.name] = entry;
    }
    return { commands };
  },
};
