import { codeNameOf, ErrorCodes, type CodeName } from './codes.js';

export type ErrorLabel =
  | 'TransientTransactionError'
  | 'UnknownTransactionCommitResult'
  | 'RetryableWriteError'
  | 'NoWritesPerformed'
  | 'ResumableChangeStreamError'
  | (string & {});

/**
 * The one error type of Dossier. It is a value the command layer turns into a reply
 * ({ ok: 0, errmsg, code, codeName, errorLabels }); `extra` carries fields mongod adds beside
 * them for some codes (keyPattern/keyValue for DuplicateKey, errInfo for validation).
 */
export class DossierError extends Error {
  readonly code: number;
  readonly codeName: string;
  readonly errorLabels: ErrorLabel[];
  readonly extra: Record<string, unknown> | undefined;

  constructor(code: number, errmsg: string, options: { labels?: ErrorLabel[]; extra?: Record<string, unknown> } = {}) {
    super(errmsg);
    this.name = 'DossierError';
    this.code = code;
    this.codeName = codeNameOf(code);
    this.errorLabels = options.labels ? [...options.labels] : [];
    this.extra = options.extra;
  }

  get errmsg(): string {
    return this.message;
  }

  hasLabel(label: ErrorLabel): boolean {
    return this.errorLabels.includes(label);
  }

  addLabel(label: ErrorLabel): this {
    if (!this.errorLabels.includes(label)) this.errorLabels.push(label);
    return this;
  }
}

/** Shorthand: `fail('BadValue', '...')` builds the error with the named code. */
export function dossierError(name: CodeName, errmsg: string, options?: { labels?: ErrorLabel[]; extra?: Record<string, unknown> }): DossierError {
  return new DossierError(ErrorCodes[name], errmsg, options);
}

/** Throws the named error; typed `never` so callers can use it in expressions. */
export function fail(name: CodeName, errmsg: string, options?: { labels?: ErrorLabel[]; extra?: Record<string, unknown> }): never {
  throw dossierError(name, errmsg, options);
}

/** mongod reports code-less assertions as "Location<N>"; some tests and drivers match those numbers. */
export function failLocation(code: number, errmsg: string): never {
  throw new DossierError(code, errmsg);
}

/** A programmer error: an invariant the code itself must keep. Never user input. */
export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) throw new DossierError(ErrorCodes.InternalError, `invariant failed: ${message}`);
}

export function isDossierError(e: unknown): e is DossierError {
  return e instanceof DossierError;
}
