/**
 * The entity map of one test (unified-test-format.md, "Entity Map"): unique names, typed lookups,
 * and the client entities with their event observers. Everything here is per test: nothing is
 * shared between tests.
 */
import {
  GridFSBucket, MongoClient, ReadPreference, type ChangeStream, type ClientSession, type Collection, type Db,
  type FindCursor, type MongoClientOptions, type ReadPreferenceMode, type AbstractCursor,
} from 'mongodb';
import { asDocument, isDoc, toNative, type Doc } from './match.js';

export class RunnerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunnerError';
  }
}

/** Names of command monitoring events the drivers' monitoring spec calls sensitive. */
const SENSITIVE_COMMANDS = new Set([
  'authenticate', 'saslstart', 'saslcontinue', 'getnonce', 'createuser', 'updateuser', 'copydbgetnonce', 'copydbsaslstart', 'copydb',
]);

/** The driver's event names, keyed by the unified format's. */
export const COMMAND_EVENTS: Record<string, string> = {
  commandStartedEvent: 'commandStarted',
  commandSucceededEvent: 'commandSucceeded',
  commandFailedEvent: 'commandFailed',
};
export const CMAP_EVENTS: Record<string, string> = {
  poolCreatedEvent: 'connectionPoolCreated',
  poolReadyEvent: 'connectionPoolReady',
  poolClearedEvent: 'connectionPoolCleared',
  poolClosedEvent: 'connectionPoolClosed',
  connectionCreatedEvent: 'connectionCreated',
  connectionReadyEvent: 'connectionReady',
  connectionClosedEvent: 'connectionClosed',
  connectionCheckOutStartedEvent: 'connectionCheckOutStarted',
  connectionCheckOutFailedEvent: 'connectionCheckOutFailed',
  connectionCheckedOutEvent: 'connectionCheckedOut',
  connectionCheckedInEvent: 'connectionCheckedIn',
};
export const SDAM_EVENTS: Record<string, string> = {
  serverDescriptionChangedEvent: 'serverDescriptionChanged',
  serverHeartbeatStartedEvent: 'serverHeartbeatStarted',
  serverHeartbeatSucceededEvent: 'serverHeartbeatSucceeded',
  serverHeartbeatFailedEvent: 'serverHeartbeatFailed',
  topologyDescriptionChangedEvent: 'topologyDescriptionChanged',
  topologyOpeningEvent: 'topologyOpening',
  topologyClosedEvent: 'topologyClosed',
};
const ALL_EVENTS: Record<string, string> = { ...COMMAND_EVENTS, ...CMAP_EVENTS, ...SDAM_EVENTS };

export function eventCategory(specName: string): 'command' | 'cmap' | 'sdam' | undefined {
  if (specName in COMMAND_EVENTS) return 'command';
  if (specName in CMAP_EVENTS) return 'cmap';
  if (specName in SDAM_EVENTS) return 'sdam';
  return undefined;
}

/** One observed event: its unified-format name and the driver's event object. */
export interface ObservedEvent {
  name: string;
  // The driver's event classes differ per type; matching reads them field by field.
  event: Record<string, unknown>;
}

const CLIENT_KEYS = new Set(['id', 'uriOptions', 'useMultipleMongoses', 'observeEvents', 'ignoreCommandMonitoringEvents', 'observeSensitiveCommands', 'serverApi', 'storeEventsAsEntities']);

export class ClientEntity {
  readonly client: MongoClient;
  readonly observed: ObservedEvent[] = [];
  /** Every commandStartedEvent kept for the lsid assertions, in order. */
  readonly started: Array<Record<string, unknown>> = [];
  /** Connections checked out now, from CMAP events (always tracked). */
  checkedOut = 0;
  /** Events are recorded only while the test's operations run. */
  listening = true;
  private readonly observe: Set<string>;
  private readonly ignoreCommands: Set<string>;
  private readonly observeSensitive: boolean;
  private readonly stores: Array<{ events: Set<string>; list: Doc[] }> = [];

  constructor(
    readonly id: string,
    spec: Doc,
    baseUri: string,
    entities: EntityMap,
  ) {
    for (const k of Object.keys(spec)) if (!CLIENT_KEYS.has(k)) throw new RunnerError(`client entity: unsupported field '${k}'`);
    this.observe = new Set(stringList(spec.observeEvents, 'observeEvents'));
    for (const name of this.observe) if (!(name in ALL_EVENTS)) throw new RunnerError(`client entity: cannot observe '${name}'`);
    this.ignoreCommands = new Set(stringList(spec.ignoreCommandMonitoringEvents, 'ignoreCommandMonitoringEvents'));
    this.observeSensitive = spec.observeSensitiveCommands === true;
    // A single node: useMultipleMongoses has no effect (it only matters for sharded and load-balanced).
    const uriOptions = (spec.uriOptions ?? {}) as Doc;
    if (!isDoc(uriOptions)) throw new RunnerError('client entity: uriOptions must be a document');
    const options: MongoClientOptions = { monitorCommands: true, serverSelectionTimeoutMS: 10_000 };
    if (spec.serverApi !== undefined) {
      const api = spec.serverApi as Doc;
      for (const k of Object.keys(api)) if (!['version', 'strict', 'deprecationErrors'].includes(k)) throw new RunnerError(`serverApi: unsupported field '${k}'`);
      options.serverApi = toNative(api) as MongoClientOptions['serverApi'];
    }
    this.client = new MongoClient(clientUri(baseUri, uriOptions), options);
    for (const store of (spec.storeEventsAsEntities ?? []) as Doc[]) {
      const list: Doc[] = [];
      const names = stringList(store.events, 'storeEventsAsEntities.events');
      entities.add(String(store.id), { kind: 'eventList', list });
      this.stores.push({ events: new Set(names), list });
    }
    this.attachListeners();
  }

  /**
   * The driver connects by itself on first use; connecting eagerly would add a connection
   * check-out of its own to the CMAP events a test asserts. Only a client that watches SDAM events
   * connects at creation, since those events are about connecting and nothing else would start it.
   */
  async connect(): Promise<void> {
    if ([...this.observe].some((name) => eventCategory(name) === 'sdam')) await this.client.connect();
  }

  private attachListeners(): void {
    for (const [specName, driverName] of Object.entries(ALL_EVENTS)) {
      this.client.on(driverName as 'commandStarted', (ev: unknown) => this.onEvent(specName, ev as Record<string, unknown>));
    }
  }

  private onEvent(name: string, event: Record<string, unknown>): void {
    if (name === 'connectionCheckedOutEvent') this.checkedOut++;
    if (name === 'connectionCheckedInEvent') this.checkedOut--;
    if (!this.listening) return;
    // Events are asserted after the test's operations, but the driver may still change what an
    // event references (driver 7 adds afterClusterTime to the client's own readConcern object,
    // which earlier commands share): keep what the event said when it was emitted.
    if (eventCategory(name) === 'command') {
      for (const field of ['command', 'reply']) if (isDoc(event[field])) event[field] = snapshot(event[field]);
    }
    for (const store of this.stores) {
      if (store.events.has(name)) store.list.push({ name, observedAt: Date.now() / 1000, ...plainEvent(event) });
    }
    if (eventCategory(name) === 'command' && this.ignoredCommandEvent(event)) return;
    if (name === 'commandStartedEvent') this.started.push(event);
    if (this.observe.has(name)) this.observed.push({ name, event });
  }

  private ignoredCommandEvent(event: Record<string, unknown>): boolean {
    const commandName = String(event.commandName);
    if (commandName === 'configureFailPoint') return true;
    if (this.ignoreCommands.has(commandName)) return true;
    if (!this.observeSensitive && isSensitive(commandName, event)) return true;
    return false;
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

/** Sensitive commands; hello/isMaster only when the driver redacted them (speculative authentication). */
function isSensitive(commandName: string, event: Record<string, unknown>): boolean {
  const lower = commandName.toLowerCase();
  if (SENSITIVE_COMMANDS.has(lower)) return true;
  if (lower === 'hello' || lower === 'ismaster') {
    const doc = (event.command ?? event.reply) as Doc | undefined;
    return doc !== undefined && isDoc(doc) && Object.keys(doc).length === 0;
  }
  return false;
}

/**
 * A copy of a command or reply as documents and arrays, the driver's own objects (a ReadConcern,
 * a Map) turned into documents as the matcher would; BSON values (Long, ObjectId...) are kept.
 */
function snapshot(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(snapshot);
  const d = asDocument(v);
  if (isDoc(d)) return Object.fromEntries(Object.entries(d).map(([k, x]) => [k, snapshot(x)]));
  return d;
}

function plainEvent(event: Record<string, unknown>): Doc {
  const out: Doc = {};
  for (const [k, v] of Object.entries(event)) if (typeof v !== 'function') out[k] = typeof v === 'bigint' ? Number(v) : v;
  return out;
}

function lowerKeys(d: Doc): Doc {
  return Object.fromEntries(Object.entries(d).map(([k, v]) => [k.toLowerCase(), v]));
}

/**
 * The suite's connection string with the test's URI options on top (they win). directConnection
 * needs a single seed and no replicaSet, per the URI options spec.
 */
export function clientUri(baseUri: string, uriOptions: Doc): string {
  const url = new URL(baseUri);
  const lower = lowerKeys(uriOptions);
  if (lower.directconnection === true) url.searchParams.delete('replicaSet');
  for (const [key, value] of Object.entries(uriOptions)) {
    if (isDoc(value) && '$$placeholder' in value) throw new RunnerError(`uriOptions.${key}: no value to replace a $$placeholder with`);
    for (const existing of [...url.searchParams.keys()]) if (existing.toLowerCase() === key.toLowerCase()) url.searchParams.delete(existing);
    if (key === 'readPreferenceTags' && Array.isArray(value)) {
      for (const tags of value) url.searchParams.append(key, String(tags));
    } else if (key === 'authMechanismProperties' && isDoc(value)) {
      url.searchParams.set(key, Object.entries(value).map(([k, v]) => `${k}:${String(toNative(v))}`).join(','));
    } else if (isDoc(value) || Array.isArray(value)) {
      throw new RunnerError(`uriOptions.${key}: unsupported value ${JSON.stringify(value)}`);
    } else {
      url.searchParams.set(key, String(toNative(value)));
    }
  }
  return url.toString();
}

function stringList(v: unknown, what: string): string[] {
  if (v === undefined) return [];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new RunnerError(`${what} must be an array of strings`);
  return v as string[];
}

export type CursorKind = 'findCursor' | 'commandCursor' | 'changeStream';

export type Entity =
  | { kind: 'client'; client: ClientEntity }
  | { kind: 'database'; db: Db; clientId: string }
  | { kind: 'collection'; coll: Collection; clientId: string }
  | { kind: 'session'; session: ClientSession; lsid: unknown; clientId: string }
  | { kind: 'bucket'; bucket: GridFSBucket }
  | { kind: 'findCursor'; cursor: FindCursor | AbstractCursor }
  | { kind: 'commandCursor'; cursor: AbstractCursor }
  | { kind: 'changeStream'; stream: ChangeStream }
  | { kind: 'eventList'; list: Doc[] }
  | { kind: 'value'; value: unknown };

export class EntityMap {
  private readonly map = new Map<string, Entity>();

  add(id: string, entity: Entity): void {
    if (this.map.has(id)) throw new RunnerError(`entity '${id}' already exists`);
    this.map.set(id, entity);
  }

  has(id: string): boolean {
    return this.map.has(id);
  }

  get(id: string): Entity {
    const e = this.map.get(id);
    if (!e) throw new RunnerError(`no entity named '${id}'`);
    return e;
  }

  getKind<K extends Entity['kind']>(id: unknown, kind: K): Extract<Entity, { kind: K }> {
    if (typeof id !== 'string') throw new RunnerError(`expected the name of a ${kind} entity, got ${JSON.stringify(id)}`);
    const e = this.get(id);
    if (e.kind !== kind) throw new RunnerError(`entity '${id}' is a ${e.kind}, not a ${kind}`);
    return e as Extract<Entity, { kind: K }>;
  }

  clients(): ClientEntity[] {
    return [...this.map.values()].filter((e): e is Extract<Entity, { kind: 'client' }> => e.kind === 'client').map((e) => e.client);
  }

  all(): Entity[] {
    return [...this.map.values()];
  }
}

/** readConcern/writeConcern/readPreference in the format's Common Options shape → driver options. */
export function readPreferenceOf(spec: unknown): ReadPreference {
  if (!isDoc(spec) || typeof spec.mode !== 'string') throw new RunnerError(`readPreference needs a mode: ${JSON.stringify(spec)}`);
  for (const k of Object.keys(spec)) if (!['mode', 'tagSets', 'maxStalenessSeconds', 'hedge'].includes(k)) throw new RunnerError(`readPreference: unsupported field '${k}'`);
  const options: Record<string, unknown> = {};
  if (spec.maxStalenessSeconds !== undefined) options.maxStalenessSeconds = toNative(spec.maxStalenessSeconds);
  if (spec.hedge !== undefined) options.hedge = toNative(spec.hedge);
  const mode = spec.mode.charAt(0).toLowerCase() + spec.mode.slice(1);
  return new ReadPreference(mode as ReadPreferenceMode, spec.tagSets as never, options);
}

export function writeConcernOf(spec: unknown): Record<string, unknown> {
  if (!isDoc(spec)) throw new RunnerError('writeConcern must be a document');
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(spec)) {
    if (k === 'w') out.w = toNative(v);
    else if (k === 'journal' || k === 'j') out.journal = v;
    else if (k === 'wtimeoutMS' || k === 'wtimeout') out.wtimeoutMS = toNative(v);
    else throw new RunnerError(`writeConcern: unsupported field '${k}'`);
  }
  return out;
}

export function readConcernOf(spec: unknown): Record<string, unknown> {
  if (!isDoc(spec)) throw new RunnerError('readConcern must be a document');
  return toNative(spec) as Record<string, unknown>;
}

/** collectionOrDatabaseOptions → the driver's Db/Collection options. */
export function collectionOrDatabaseOptions(spec: unknown): Record<string, unknown> {
  if (spec === undefined) return {};
  if (!isDoc(spec)) throw new RunnerError('collection/database options must be a document');
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(spec)) {
    if (k === 'readConcern') out.readConcern = readConcernOf(v);
    else if (k === 'writeConcern') out.writeConcern = writeConcernOf(v);
    else if (k === 'readPreference') out.readPreference = readPreferenceOf(v);
    else if (k === 'timeoutMS') out.timeoutMS = toNative(v);
    else throw new RunnerError(`collection/database options: unsupported field '${k}'`);
  }
  return out;
}

export { GridFSBucket };
