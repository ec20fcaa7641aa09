/** The commands of durable storage: flushing, checking and sizing what is on disk. */
import type { CommandDefinition } from '../types.js';
import { fsyncCommand, fsyncUnlockCommand } from './fsync.js';
import { validateCommand } from './validate.js';
import { replSetResizeOplogCommand } from './replSetResizeOplog.js';

export const DURABILITY_COMMANDS: readonly CommandDefinition[] = [fsyncCommand, fsyncUnlockCommand, validateCommand, replSetResizeOplogCommand];
