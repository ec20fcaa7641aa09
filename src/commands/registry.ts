/** The command registry: every handler file's definition, looked up by name or alias. */
import type { CommandDefinition } from './types.js';
import { ALL_COMMANDS } from './handlers/index.js';

const byName = new Map<string, CommandDefinition>();
for (const def of ALL_COMMANDS) {
  for (const name of [def.name, ...(def.aliases ?? [])]) {
    if (byName.has(name)) throw new Error(`command ${name} registered twice`);
    byName.set(name, def);
  }
}

export function lookupCommand(name: string): CommandDefinition | undefined {
  return byName.get(name);
}

/** Every command, sorted by name, for listCommands and the compatibility table. */
export function allCommands(): CommandDefinition[] {
  return [...ALL_COMMANDS].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
