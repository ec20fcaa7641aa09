/**
 * Server parameters: what getParameter shows and setParameter may change, with mongod's names
 * and defaults. Limits elsewhere read their current value from here.
 */
import { fail } from '../base/index.js';
import {
  CURSOR_TIMEOUT_MILLIS, LOGICAL_SESSION_TIMEOUT_MINUTES, MAX_TRANSACTION_LOCK_REQUEST_TIMEOUT_MILLIS,
  TRANSACTION_LIFETIME_LIMIT_SECONDS, TTL_MONITOR_SLEEP_SECS, BSON_DEPTH_MAX,
} from '../base/limits.js';
import { isDocument, toJsNumber, typeNameOf, type BsonValue } from '../bson/index.js';

type Kind = 'int' | 'bool' | 'string' | 'document';

interface ParameterDefinition {
  readonly kind: Kind;
  readonly default: BsonValue;
  readonly runtime: boolean;
  readonly startup: boolean;
  readonly min?: number;
  readonly max?: number;
}

const DEFINITIONS: Readonly<Record<string, ParameterDefinition>> = {
  transactionLifetimeLimitSeconds: { kind: 'int', default: TRANSACTION_LIFETIME_LIMIT_SECONDS, runtime: true, startup: true, min: 1 },
  maxTransactionLockRequestTimeoutMillis: { kind: 'int', default: MAX_TRANSACTION_LOCK_REQUEST_TIMEOUT_MILLIS, runtime: true, startup: true },
  localLogicalSessionTimeoutMinutes: { kind: 'int', default: LOGICAL_SESSION_TIMEOUT_MINUTES, runtime: false, startup: true, min: 1 },
  minSnapshotHistoryWindowInSeconds: { kind: 'int', default: 300, runtime: true, startup: true, min: 0 },
  syncdelay: { kind: 'int', default: 60, runtime: true, startup: true, min: 1 },
  maxSessions: { kind: 'int', default: 1_000_000, runtime: false, startup: true, min: 1 },
  cursorTimeoutMillis: { kind: 'int', default: CURSOR_TIMEOUT_MILLIS, runtime: true, startup: true, min: 0 },
  ttlMonitorEnabled: { kind: 'bool', default: true, runtime: true, startup: true },
  ttlMonitorSleepSecs: { kind: 'int', default: TTL_MONITOR_SLEEP_SECS, runtime: false, startup: true, min: 1 },
  notablescan: { kind: 'bool', default: false, runtime: true, startup: true },
  logLevel: { kind: 'int', default: 0, runtime: true, startup: true, min: 0, max: 5 },
  quiet: { kind: 'bool', default: false, runtime: true, startup: true },
  internalQueryMaxBlockingSortMemoryUsageBytes: { kind: 'int', default: 100 * 1024 * 1024, runtime: true, startup: true, min: 1 },
  internalDocumentSourceGroupMaxMemoryBytes: { kind: 'int', default: 100 * 1024 * 1024, runtime: true, startup: true, min: 1 },
  internalDocumentSourceSetWindowFieldsMaxMemoryBytes: { kind: 'int', default: 100 * 1024 * 1024, runtime: true, startup: true, min: 1 },
  maxBSONDepth: { kind: 'int', default: BSON_DEPTH_MAX, runtime: false, startup: true, min: 21, max: 1000 },
  enableTestCommands: { kind: 'bool', default: true, runtime: false, startup: true },
  requireApiVersion: { kind: 'bool', default: false, runtime: true, startup: true },
  authenticationMechanisms: { kind: 'string', default: 'SCRAM-SHA-1,SCRAM-SHA-256', runtime: false, startup: true },
  featureCompatibilityVersion: { kind: 'document', default: { version: '8.0' }, runtime: false, startup: false },
  writePeriodicNoops: { kind: 'bool', default: true, runtime: false, startup: true },
  periodicNoopIntervalSecs: { kind: 'int', default: 10, runtime: false, startup: true, min: 1 },
  maxIndexBuildMemoryUsageMegabytes: { kind: 'int', default: 200, runtime: true, startup: true, min: 50 },
  internalQueryExecYieldIterations: { kind: 'int', default: 1000, runtime: true, startup: true, min: 1 },
};

export class Parameters {
  private readonly values = new Map<string, BsonValue>();

  constructor(startup: Record<string, BsonValue> = {}) {
    for (const [name, def] of Object.entries(DEFINITIONS)) this.values.set(name, def.default);
    for (const [name, v] of Object.entries(startup)) this.set(name, v, 'startup');
  }

  has(name: string): boolean {
    return name in DEFINITIONS;
  }

  get(name: string): BsonValue {
    if (!this.has(name)) fail('InvalidOptions', `no option found to get: ${name}`);
    return this.values.get(name);
  }

  getNumber(name: string): number {
    return toJsNumber(this.get(name));
  }

  /** Whether mongod lets this parameter change at runtime (setParameter) and at startup. */
  settableAt(name: string): { runtime: boolean; startup: boolean } {
    const def = DEFINITIONS[name];
    if (!def) fail('InvalidOptions', `no option found to get: ${name}`);
    return { runtime: def.runtime, startup: def.startup };
  }

  names(): string[] {
    return Object.keys(DEFINITIONS).sort();
  }

  /** Sets a parameter, validating as mongod; returns the previous value. */
  set(name: string, value: BsonValue, when: 'runtime' | 'startup'): BsonValue {
    const def = DEFINITIONS[name];
    if (!def) fail('InvalidOptions', `attempted to set unrecognized parameter [${name}], use help:true to see options`);
    if (when === 'runtime' && !def.runtime) fail('IllegalOperation', `not allowed to change [${name}] at runtime`);
    if (when === 'startup' && !def.startup) fail('IllegalOperation', `not allowed to set [${name}] at startup`);
    const old = this.values.get(name);
    this.values.set(name, coerce(name, def, value));
    return old;
  }
}

function coerce(name: string, def: ParameterDefinition, v: BsonValue): BsonValue {
  const t = typeNameOf(v);
  switch (def.kind) {
    case 'int': {
      let n: number;
      if (t === 'string' && /^-?\d+$/.test(v)) n = Number(v);
      else if (t === 'int' || t === 'long' || t === 'double' || t === 'decimal') n = toJsNumber(v);
      else return fail('BadValue', `Invalid value for parameter ${name}: expected a number, got ${t}`);
      if (!Number.isInteger(n)) fail('BadValue', `Invalid value for parameter ${name}: ${n} is not an integer`);
      if (def.min !== undefined && n < def.min) fail('BadValue', `Invalid value for parameter ${name}: ${n} is not greater than or equal to ${def.min}`);
      if (def.max !== undefined && n > def.max) fail('BadValue', `Invalid value for parameter ${name}: ${n} is not less than or equal to ${def.max}`);
      return n;
    }
    case 'bool':
      if (t === 'bool') return v;
      if (t === 'string' && (v === 'true' || v === 'false' || v === '1' || v === '0')) return v === 'true' || v === '1';
      if (t === 'int' || t === 'long' || t === 'double') return toJsNumber(v) !== 0;
      return fail('BadValue', `Invalid value for parameter ${name}: expected a boolean`);
    case 'string':
      if (t !== 'string') fail('BadValue', `Invalid value for parameter ${name}: expected a string`);
      return v;
    case 'document':
      if (!isDocument(v)) fail('BadValue', `Invalid value for parameter ${name}: expected an object`);
      return v;
  }
}
