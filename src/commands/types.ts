/**
 * What a command is: its metadata beside its run function. One command, one handler file.
 */
import type { Document } from '../bson/index.js';
import type { Instance } from './instance.js';
import type { GenericArguments } from './generic.js';
import type { ConnectionInfo } from './connection.js';
import type { Session } from '../sessions/index.js';
import type { StorageTxn } from '../storage/index.js';
import type { TsKey } from '../time/index.js';

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
  /** The logical session the command runs in (from `lsid`), checked out for its duration. */
  readonly session: Session | undefined;
  /** The request's txnNumber. */
  readonly txnNumber: bigint | undefined;
  /** A statement of a multi-document transaction (autocommit: false). */
  readonly inTransaction: boolean;
  /** The open storage transaction of that multi-document transaction. */
  readonly transaction: StorageTxn | undefined;
  /** A retryable write: txnNumber without autocommit. */
  readonly retryableWrite: boolean;
  /** For reads outside a transaction: the snapshot timestamp the read concern chose. */
  readonly readTimestamp: TsKey | undefined;
  /** readConcern level snapshot outside a transaction: cursors answer with atClusterTime. */
  readonly snapshotRead: boolean;
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
  /** A retryable read (drivers retry it once on a retryable error). */
  readonly retryable?: boolean;
  /** A retryable write: accepts txnNumber without autocommit, records its statements. */
  readonly retryableWrite?: boolean;
  /** Accepted without authentication (hello and friends). */
  readonly noAuth?: boolean;
  /** A test-only command, present only with enableTestCommands. */
  readonly testOnly?: boolean;
  /** Accepts readConcern snapshot outside a transaction (find, aggregate, distinct). */
  readonly snapshotReads?: boolean;
  /** Refuses a writeConcern although it writes (mongod's supportsWriteConcern() false), like the search index commands. */
  readonly noWriteConcern?: boolean;
  /** Options the command accepts, for the compatibility table. */
  readonly options?: readonly string[];
  run(ctx: CommandContext): Promise<Document> | Document;
}
