export { dispatchCommand, type DispatchResult } from './dispatch.js';
export { Instance, type InstanceConfig, type Logger } from './instance.js';
export type { ConnectionInfo } from './connection.js';
export { allCommands, lookupCommand } from './registry.js';
export type { CommandDefinition, CommandContext } from './types.js';
export { setSupportedCompressors } from './compression.js';
