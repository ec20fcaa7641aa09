import type { CommandDefinition } from '../types.js';

export const DIAGNOSTIC_COMMANDS: readonly CommandDefinition[] = [];
