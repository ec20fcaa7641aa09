/**
 * What a command is: its metadata beside its run function. One command, one handler file.
 */
import type { Document } from '../bson/index.js';
import type { Instance } from './instance.js';
import type { GenericArguments } from './generic.js';
import type { ConnectionInfo } from './connection.js';

export type CommandKind = 'read' | 'write' | 'admin' | 'session' | 'diagnostic';

export interface CommandContext {
  readonly instance: Instance;
  readonly connection: ConnectionInfo;
  /** `$db` of the request. */
  readonly db: string;
  /** The command document, sequences (kind 1 sections) merged in. */
  readonly body: Document;
  readonly generic: GenericArguments;
  /** mongod's opid for currentOp/killOp. */
  readonly opId: number;
  /** Set once killOp has targeted this operation; long loops check it. */
  readonly killed: () => boolean;
}

export interface CommandDefinition {
  /** The canonical name, as listCommands shows it. */
  readonly name: string;
  readonly aliases?: readonly string[];
  readonly help: string;
  readonly kind: CommandKind;
  /** Runs only against the admin database. */
  readonly adminOnly?: boolean;
  /** May run inside a multi-document transaction. */
  readonly allowedInTransaction?: boolean;
  /** A retryable write (insert/update/delete/findAndModify) or a retryable read. */
  readonly retryable?: boolean;
  /** Accepted without authentication (hello and friends). */
  readonly noAuth?: boolean;
  /** A test-only command, present only with enableTestCommands. */
  readonly testOnly?: boolean;
  /** Options the command accepts, for the compatibility table. */
  readonly options?: readonly string[];
  run(ctx: CommandContext): Promise<Document> | Document;
}
