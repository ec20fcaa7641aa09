/**
 * Fail points, as mongod's `configureFailPoint` sets them (src/mongo/util/fail_point.cpp) and the
 * fail points the drivers' conformance tests use:
 *
 * - `failCommand` (src/mongo/db/commands.cpp, shouldActivate/evaluateFailCommandFailPoint):
 *   evaluated once per command after the generic arguments are parsed and before the session is
 *   checked out, so an injected error never touches transaction state; then, separately, after a
 *   command that takes a write concern, for `writeConcernError`.
 * - `failGetMoreAfterCursorCheckout`: getMore fails after pinning its cursor.
 * - `onPrimaryTransactionalWrite`: a retryable write statement closes the connection and/or fails
 *   before it commits.
 *
 * One registry per Instance ({@link failPointsOf}). The registry only decides; the dispatcher acts
 * (blocks on a timer, throws, closes the connection), so this file needs no sockets and is
 * unit-testable.
 */
import { DossierError, ErrorCodes, fail } from '../base/index.js';
import { isDocument, toJsNumber, typeNameOf, type BsonValue, type Document } from '../bson/index.js';
import type { Clock, RandomSource } from '../platform/index.js';
import type { Instance } from './instance.js';

/** The fail points Dossier implements; configureFailPoint refuses other names like mongod does. */
export const FAIL_POINT_NAMES = ['failCommand', 'failGetMoreAfterCursorCheckout', 'onPrimaryTransactionalWrite'] as const;
export type FailPointName = (typeof FAIL_POINT_NAMES)[number];

type Mode =
  | { kind: 'off' }
  | { kind: 'alwaysOn' }
  | { kind: 'times'; remaining: number }
  | { kind: 'skip'; remaining: number }
  | { kind: 'probability'; p: number };

/** The mongod message of an error raised by failCommand. */
export const FAIL_COMMAND_MESSAGE = "Failing command via 'failCommand' failpoint";
/** mongod raises this code (a plain assertion id) on the server side when failCommand closes the connection. */
export const FAIL_COMMAND_CLOSE_CONNECTION_CODE = 50985;

/**
 * An error raised by a fail point. `labelsOverride`, when set (even empty), replaces the labels
 * the server would add by its own rules (sessions/labels.ts) — mongod's errorLabelsOverride.
 */
export class FailPointError extends DossierError {
  constructor(
    code: number,
    errmsg: string,
    readonly labelsOverride: readonly string[] | undefined,
  ) {
    super(code, errmsg, { labels: labelsOverride ? [...labelsOverride] : [] });
  }
}

/** What a fail point may know about the command it is asked about. */
export interface FailPointTarget {
  /** The command's canonical name. */
  commandName: string;
  /** Its other names: failCommands matches any of them (mongod's cmd->hasAlias). */
  aliases?: readonly string[];
  /** "db.coll" the command targets, or "db.$cmd"; matched against data.namespace. */
  namespace: string;
  /** The connection's `client.application.name` from its first hello. */
  appName: string | undefined;
  /** Internal (intra-cluster) connections are spared unless failInternalCommands is set. */
  internalClient?: boolean;
}

/** What the dispatcher must do before running the command. */
export interface FailCommandAction {
  /** Wait this long first (on a timer, never spinning). 0 when not blocking. */
  blockMs: number;
  /** Close the connection without replying (the client sees a network error). */
  closeConnection: boolean;
  /** Fail the command with this error (after blocking), unless the connection is closed. */
  error: FailPointError | undefined;
}

/** What the dispatcher adds to the reply of a command that takes a write concern. */
export interface WriteConcernErrorAction {
  writeConcernError: Document;
  /** From data.errorLabels: appended to the reply when non-empty, replacing the server's own labels. */
  labelsOverride: readonly string[] | undefined;
}

/** The effect of onPrimaryTransactionalWrite on one retryable-write statement. */
export interface TransactionalWriteAction {
  /** Close the connection once the command is done (the reply is never sent). */
  closeConnection: boolean;
  /** Fail the statement before it commits. */
  error: DossierError | undefined;
}

class FailPoint {
  mode: Mode = { kind: 'off' };
  data: Document = {};
  /** Cumulative activations, reported as `count` by configureFailPoint (mongod's timesEntered). */
  timesEntered = 0;

  constructor(readonly name: FailPointName) {}

  get enabled(): boolean {
    return this.mode.kind !== 'off';
  }

  /**
   * mongod's shouldFail: evaluate `predicate` only while enabled, and count an activation (which
   * consumes `times`/`skip`) only when it holds. A skipped activation returns false.
   */
  activate(predicate: (data: Document) => boolean, random: RandomSource): Document | undefined {
    const mode = this.mode;
    if (mode.kind === 'off') return undefined;
    if (!predicate(this.data)) return undefined;
    switch (mode.kind) {
      case 'alwaysOn':
        break;
      case 'times':
        mode.remaining--;
        if (mode.remaining <= 0) this.mode = { kind: 'off' };
        break;
      case 'skip':
        if (mode.remaining > 0) {
          mode.remaining--;
          return undefined;
        }
        break;
      case 'probability':
        // int(2^31) buckets are finer than any probability a test sets.
        if (random.int(0x80000000) / 0x80000000 >= mode.p) return undefined;
        break;
    }
    this.timesEntered++;
    return this.data;
  }
}

export class FailPointRegistry {
  private readonly points = new Map<FailPointName, FailPoint>();

  constructor(private readonly random: RandomSource) {
    for (const name of FAIL_POINT_NAMES) this.points.set(name, new FailPoint(name));
  }

  static isKnown(name: string): name is FailPointName {
    return (FAIL_POINT_NAMES as readonly string[]).includes(name);
  }

  /** True when any fail point is on: lets the dispatcher skip all work in the common case. */
  get anyEnabled(): boolean {
    for (const p of this.points.values()) if (p.enabled) return true;
    return false;
  }

  isEnabled(name: FailPointName): boolean {
    return this.points.get(name)!.enabled;
  }

  /**
   * configureFailPoint: sets mode and data; returns the times the fail point was entered so far
   * (the `count` mongod replies with). `body` is the whole command document.
   */
  configure(body: Document): number {
    const name = body.configureFailPoint;
    if (typeof name !== 'string') {
      fail('TypeMismatch', `BSON field 'configureFailPoint' is the wrong type '${typeNameOf(name)}', expected type 'string'`);
    }
    if (!FailPointRegistry.isKnown(name)) fail('FailPointSetFailed', `${name} not found`);
    const mode = parseMode(body.mode);
    let data: Document = {};
    if (body.data !== undefined) {
      if (!isDocument(body.data)) fail('TypeMismatch', "the 'data' field must be an object");
      data = body.data;
    }
    const point = this.points.get(name)!;
    const count = point.timesEntered;
    point.mode = mode;
    point.data = data;
    return count;
  }

  /** Everything off, as after a test. */
  reset(): void {
    for (const p of this.points.values()) {
      p.mode = { kind: 'off' };
      p.data = {};
    }
  }

  /**
   * failCommand before the command runs. Activates (and consumes `times`) only when the command
   * matches and the data asks for closeConnection, blockConnection or errorCode, as mongod does:
   * a writeConcernError-only configuration is left for {@link afterCommand}.
   */
  beforeCommand(target: FailPointTarget): FailCommandAction | undefined {
    const data = this.points.get('failCommand')!.activate(
      (d) => matchesCommand(d, target) && (boolField(d, 'closeConnection') || boolField(d, 'blockConnection') || intField(d, 'errorCode') !== undefined),
      this.random,
    );
    if (!data) return undefined;
    const labels = labelsOverrideOf(data);
    let blockMs = 0;
    if (boolField(data, 'blockConnection')) {
      const ms = intField(data, 'blockTimeMS');
      if (ms === undefined) {
        return { blockMs: 0, closeConnection: false, error: new FailPointError(ErrorCodes.InvalidOptions, "must specify 'blockTimeMS' when 'blockConnection' is true", labels) };
      }
      if (ms < 0) return { blockMs: 0, closeConnection: false, error: new FailPointError(ErrorCodes.InvalidOptions, "'blockTimeMS' must be non-negative", labels) };
      blockMs = ms;
    }
    if (boolField(data, 'closeConnection')) {
      return { blockMs, closeConnection: true, error: new FailPointError(FAIL_COMMAND_CLOSE_CONNECTION_CODE, FAIL_COMMAND_MESSAGE, labels) };
    }
    const code = intField(data, 'errorCode');
    if (code !== undefined) {
      const error = new FailPointError(code, FAIL_COMMAND_MESSAGE, labels);
      if (isDocument(data.errorExtraInfo)) Object.assign((error as { extra: Record<string, unknown> | undefined }), { extra: { ...data.errorExtraInfo } });
      return { blockMs, closeConnection: false, error };
    }
    return { blockMs, closeConnection: false, error: undefined };
  }

  /**
   * failCommand's writeConcernError, checked after a command that takes a write concern has run
   * (whether it succeeded or failed, as mongod's waitForWriteConcern hook): the document replaces
   * the real write-concern wait.
   */
  afterCommand(target: FailPointTarget): WriteConcernErrorAction | undefined {
    const data = this.points.get('failCommand')!.activate((d) => matchesCommand(d, target) && d.writeConcernError !== undefined, this.random);
    if (!data) return undefined;
    const wce = data.writeConcernError;
    return { writeConcernError: isDocument(wce) ? wce : { code: ErrorCodes.UnknownError, errmsg: String(wce) }, labelsOverride: labelsOverrideOf(data) };
  }

  /** failGetMoreAfterCursorCheckout: the error a getMore on `target.namespace` fails with. */
  getMoreAfterCursorCheckout(target: Omit<FailPointTarget, 'commandName'>): DossierError | undefined {
    const data = this.points
      .get('failGetMoreAfterCursorCheckout')!
      .activate((d) => matchesCommand({ ...d, failCommands: ['getMore'] }, { ...target, commandName: 'getMore' }), this.random);
    if (!data) return undefined;
    const code = intField(data, 'errorCode') ?? ErrorCodes.InternalError;
    return new DossierError(code, "Hit the 'failGetMoreAfterCursorCheckout' failpoint");
  }

  /**
   * onPrimaryTransactionalWrite, evaluated once per statement of a retryable write (a write with
   * lsid + txnNumber outside a multi-document transaction), after the statement executed and
   * before it commits. closeConnection defaults to true.
   */
  onPrimaryTransactionalWrite(): TransactionalWriteAction | undefined {
    const data = this.points.get('onPrimaryTransactionalWrite')!.activate(() => true, this.random);
    if (!data) return undefined;
    const closeConnection = typeof data.closeConnection === 'boolean' ? data.closeConnection : true;
    const code = intField(data, 'failBeforeCommitExceptionCode');
    return { closeConnection, error: code === undefined ? undefined : new DossierError(code, 'Failing write for test before commit') };
  }
}

/**
 * The Instance's registry, made on first use. Kept beside the Instance rather than in it so the
 * command layer can reach fail points without Instance knowing about test-only machinery.
 */
const registries = new WeakMap<Instance, FailPointRegistry>();
export function failPointsOf(instance: Instance): FailPointRegistry {
  let r = registries.get(instance);
  if (!r) {
    r = new FailPointRegistry(instance.random);
    registries.set(instance, r);
  }
  return r;
}

/** Commands that take a write concern, the only ones failCommand's writeConcernError applies to. */
const WRITE_CONCERN_COMMANDS: ReadonlySet<string> = new Set([
  'insert', 'update', 'delete', 'findAndModify', 'create', 'drop', 'dropDatabase', 'createIndexes', 'dropIndexes',
  'renameCollection', 'collMod', 'commitTransaction', 'abortTransaction', 'createUser', 'updateUser', 'dropUser',
  'createRole', 'updateRole', 'dropRole', 'setFeatureCompatibilityVersion', 'bulkWrite', 'aggregate', 'clone',
  'cloneCollectionAsCapped', 'convertToCapped', 'emptycapped', 'applyOps', 'mapReduce', 'setDefaultRWConcern',
]);
export function supportsWriteConcern(commandName: string): boolean {
  return WRITE_CONCERN_COMMANDS.has(commandName);
}

/** The target the dispatcher passes: canonical name and aliases, namespace, appName of the connection. */
export function failPointTarget(
  def: { readonly name: string; readonly aliases?: readonly string[] },
  namespace: string,
  connection: { readonly clientMetadata: Document | undefined },
): FailPointTarget {
  return { commandName: def.name, aliases: def.aliases ?? [], namespace, appName: appNameOf(connection.clientMetadata) };
}

function parseMode(mode: BsonValue): Mode {
  if (mode === 'off') return { kind: 'off' };
  if (mode === 'alwaysOn') return { kind: 'alwaysOn' };
  if (typeof mode === 'string') fail('BadValue', `unknown mode: ${mode}`);
  if (!isDocument(mode)) fail('TypeMismatch', "'mode' must be a string or an object");
  const keys = Object.keys(mode);
  if (keys.length !== 1) fail('BadValue', "'mode' must have exactly one of 'times', 'skip' or 'activationProbability'");
  const key = keys[0]!;
  const value = mode[key];
  if (key === 'activationProbability') {
    const p = typeNameOf(value) === 'double' || typeNameOf(value) === 'int' ? toJsNumber(value) : NaN;
    if (!(p >= 0 && p <= 1)) fail('BadValue', 'activationProbability must be between 0.0 and 1.0');
    return { kind: 'probability', p };
  }
  if (key !== 'times' && key !== 'skip') fail('BadValue', `unrecognized mode option: ${key}`);
  const t = typeNameOf(value);
  if (t !== 'int' && t !== 'long' && t !== 'double') fail('TypeMismatch', `'${key}' must be a number`);
  const n = toJsNumber(value);
  if (!Number.isInteger(n) || n < 0) fail('BadValue', `'${key}' option to 'mode' must be a non-negative integer`);
  if (key === 'times') return n === 0 ? { kind: 'off' } : { kind: 'times', remaining: n };
  return { kind: 'skip', remaining: n };
}

/** mongod's shouldActivateFailCommandFailPoint. configureFailPoint itself is never failed. */
function matchesCommand(data: Document, target: FailPointTarget): boolean {
  if (target.commandName === 'configureFailPoint') return false;
  if (typeof data.appName === 'string' && data.appName !== (target.appName ?? '')) return false;
  if (typeof data.namespace === 'string' && data.namespace !== target.namespace) return false;
  if (target.internalClient && !boolField(data, 'failInternalCommands')) return false;
  if (data.failAllCommands !== undefined) return true;
  if (!Array.isArray(data.failCommands)) return false;
  const names = [target.commandName, ...(target.aliases ?? [])];
  return data.failCommands.some((c: BsonValue) => typeof c === 'string' && names.includes(c));
}

function boolField(data: Document, field: string): boolean {
  return data[field] === true;
}

function intField(data: Document, field: string): number | undefined {
  const v = data[field];
  const t = typeNameOf(v);
  if (t !== 'int' && t !== 'long' && t !== 'double') return undefined;
  const n = toJsNumber(v);
  return Number.isInteger(n) ? n : undefined;
}

function labelsOverrideOf(data: Document): readonly string[] | undefined {
  if (!Array.isArray(data.errorLabels)) return undefined;
  return data.errorLabels.filter((l: BsonValue): l is string => typeof l === 'string');
}

/** The client's application name from its hello metadata, which failCommand's appName matches. */
export function appNameOf(clientMetadata: Document | undefined): string | undefined {
  const app = clientMetadata?.application;
  return isDocument(app) && typeof app.name === 'string' ? app.name : undefined;
}

/** Waits `ms` on the clock's timer: a blocked command yields the event loop to every other connection. */
export function sleepMs(clock: Clock, ms: number): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve) => {
    clock.setTimer(ms, resolve);
  });
}

/**
 * Connections a fail point asked to close once their current command is done (closeConnection of
 * onPrimaryTransactionalWrite, where the write still commits but the client never hears of it).
 */
const closeRequests = new WeakSet<object>();
export function requestCloseAfterCommand(connection: object): void {
  closeRequests.add(connection);
}
/** True (once) when a fail point asked for this connection to close: the dispatcher then sends no reply. */
export function takeCloseRequest(connection: object): boolean {
  return closeRequests.delete(connection);
}
