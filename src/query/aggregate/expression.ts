/**
 * The aggregation expression language: an expression is parsed once into an `Expression` (a
 * closure tree) and evaluated per document against `Variables`.
 *
 * Variables live in numbered slots resolved at parse time, so evaluation never looks names up:
 * slot 0 is `$$ROOT`, 1 `$$CURRENT`, 2 `$$NOW`, 3 `$$CLUSTER_TIME`, and every binding site
 * (`$let`, `$map`, `$filter`, `$reduce`, a pipeline's or `$lookup`'s `let`) gets slots of its own.
 * Because every binding site has its own slot and expressions cannot recurse, a binding writes
 * its slot, evaluates its body and is done; no scopes are built at run time.
 */
import { DossierError, failLocation, fail } from '../../base/index.js';
import { isDocument, orderedKeys, typeNameOf, type BsonValue, type Collator, type Document } from '../../bson/index.js';
import { setField } from './values.js';

/** The slots of one evaluation: ROOT, CURRENT, NOW, CLUSTER_TIME, then user variables. */
export type Variables = BsonValue[];

export const ROOT_SLOT = 0;
export const CURRENT_SLOT = 1;
export const NOW_SLOT = 2;
export const CLUSTER_TIME_SLOT = 3;
export const FIRST_USER_SLOT = 4;

export type Evaluator = (vars: Variables) => BsonValue;

export interface Expression {
  readonly evaluate: Evaluator;
  /** Present when the value does not depend on the document (mongod's ExpressionConstant). */
  readonly constant?: { readonly value: BsonValue };
  /** For `"$a.b"`: the dotted path read from CURRENT (planners and $group use it). */
  readonly fieldPath?: string;
  /** For a bare `"$$var"` / `"$$var.path"`: the variable's name. */
  readonly variable?: string;
}

/** What expressions may read besides the document: injected by the command layer. */
export interface ExpressionEnvironment {
  /** Uniform numbers in [0, 1) for `$rand` and `$sample`. */
  random: () => number;
  /** The operation's collation: string comparisons, set operators, `$group` keys and sorts use it. */
  collator?: Collator | null;
}

/** Parse-time state shared by every scope of one pipeline (so slots are unique across it). */
export interface ParseState {
  nextSlot: number;
  readonly env: ExpressionEnvironment;
  /** Names of the stage being parsed, for error context ("$project"). */
  stageName?: string;
}

const BUILTIN_VARIABLES: ReadonlyMap<string, number> = new Map([
  ['ROOT', ROOT_SLOT],
  ['CURRENT', CURRENT_SLOT],
  ['NOW', NOW_SLOT],
  ['CLUSTER_TIME', CLUSTER_TIME_SLOT],
]);

/** Names $redact compares its expression's result against; they evaluate to themselves. */
const REDACT_VARIABLES = new Set(['DESCEND', 'PRUNE', 'KEEP']);

/** A lexical scope: the user variables visible at a point of an expression. */
export class Scope {
  private readonly names = new Map<string, number>();

  constructor(
    readonly state: ParseState,
    readonly parent?: Scope,
  ) {}

  static root(env: ExpressionEnvironment): Scope {
    return new Scope({ nextSlot: FIRST_USER_SLOT, env });
  }

  child(): Scope {
    return new Scope(this.state, this);
  }

  /** Binds a user variable here; returns its slot. */
  define(name: string): number {
    const slot = this.state.nextSlot++;
    this.names.set(name, slot);
    return slot;
  }

  lookup(name: string): number | undefined {
    for (let s: Scope | undefined = this; s; s = s.parent) {
      const slot = s.names.get(name);
      if (slot !== undefined) return slot;
    }
    return undefined;
  }

  /** Every user variable visible here, innermost binding first (for $lookup sub-pipelines). */
  visible(): Map<string, number> {
    const out = new Map<string, number>();
    const chain: Scope[] = [];
    for (let s: Scope | undefined = this; s; s = s.parent) chain.push(s);
    for (const s of chain.reverse()) for (const [k, v] of s.names) out.set(k, v);
    return out;
  }
}

/** Creates the slots of one evaluation: the builtins are filled, user slots start empty. */
export function newVariables(state: ParseState, root: BsonValue, now: Date, clusterTime: BsonValue): Variables {
  const vars: Variables = new Array(Math.max(state.nextSlot, FIRST_USER_SLOT));
  vars[ROOT_SLOT] = root;
  vars[CURRENT_SLOT] = root;
  vars[NOW_SLOT] = now;
  vars[CLUSTER_TIME_SLOT] = clusterTime;
  return vars;
}

export type OperatorParser = (args: BsonValue, scope: Scope, name: string) => Expression;

const OPERATORS = new Map<string, OperatorParser>();

/** Registers an expression operator (`$add`, ...). Operator files call this when loaded. */
export function registerOperator(name: string, parser: OperatorParser): void {
  OPERATORS.set(name, parser);
}

export function isRegisteredOperator(name: string): boolean {
  return OPERATORS.has(name);
}

export function constantExpression(value: BsonValue): Expression {
  return { evaluate: () => value, constant: { value } };
}

export function expression(evaluate: Evaluator): Expression {
  return { evaluate };
}

/**
 * Parses any expression: a `$path`, a `$$variable`, an operator object, an object of expressions,
 * an array of expressions, or a literal.
 */
export function parseExpression(spec: BsonValue, scope: Scope): Expression {
  if (typeof spec === 'string') {
    if (spec.startsWith('$')) return parseFieldPathExpression(spec, scope);
    return constantExpression(spec);
  }
  if (Array.isArray(spec)) {
    const items = spec.map((e) => parseExpression(e, scope));
    if (items.every((e) => e.constant)) return constantExpression(items.map((e) => e.constant!.value));
    return expression((vars) => items.map((e) => {
      const v = e.evaluate(vars);
      // An array literal holds missing values as null, as mongod's ExpressionArray does.
      return v === undefined ? null : v;
    }));
  }
  if (isDocument(spec) && (spec as { _bsontype?: string })._bsontype === undefined) {
    const keys = orderedKeys(spec);
    if (keys.length > 0 && keys[0]!.startsWith('$')) return parseOperatorExpression(spec, scope);
    return parseObjectExpression(spec, scope);
  }
  return constantExpression(spec);
}

/** `{$op: args}`: exactly one field, a known operator. */
export function parseOperatorExpression(spec: Document, scope: Scope): Expression {
  const keys = Object.keys(spec);
  if (keys.length !== 1) {
    failLocation(15983, `An object representing an expression must have exactly one field: ${formatSpec(spec)}`);
  }
  const name = keys[0]!;
  const parser = OPERATORS.get(name);
  if (!parser) fail('InvalidPipelineOperator', `Unrecognized expression '${name}'`);
  return parser(spec[name], scope, name);
}

function parseObjectExpression(spec: Document, scope: Scope): Expression {
  const fields: Array<[string, Expression]> = [];
  for (const key of orderedKeys(spec)) {
    validateFieldName(key);
    fields.push([key, parseExpression(spec[key], scope)]);
  }
  if (fields.every(([, e]) => e.constant)) {
    const out: Document = {};
    for (const [k, e] of fields) if (e.constant!.value !== undefined) setField(out, k, e.constant!.value);
    return constantExpression(out);
  }
  return expression((vars) => {
    const out: Document = {};
    for (const [k, e] of fields) {
      const v = e.evaluate(vars);
      if (v !== undefined) setField(out, k, v);
    }
    return out;
  });
}

/** A field name in an expression object or a projection: mongod's FieldPath rules for one component. */
export function validateFieldName(key: string): void {
  if (key.length === 0) failLocation(16410, 'FieldPath field names may not be empty strings.');
  if (key.startsWith('$')) failLocation(16410, "FieldPath field names may not start with '$'. Consider using $getField or $setField.");
  if (key.includes('.')) failLocation(16412, "FieldPath field names may not contain '.'. Consider using $getField or $setField.");
  if (key.includes('\0')) failLocation(16411, 'FieldPath field names may not contain embedded nulls');
}

/** Splits and validates a dotted field path (no leading `$`). */
export function parseFieldPath(path: string): string[] {
  if (path.length === 0) failLocation(40352, 'FieldPath cannot be constructed with empty string');
  if (path.endsWith('.')) failLocation(40353, "FieldPath must not end with a '.'.");
  const parts = path.split('.');
  for (const p of parts) {
    if (p.length === 0) failLocation(15998, 'FieldPath field names may not be empty strings.');
    if (p.startsWith('$')) failLocation(16410, "FieldPath field names may not start with '$'. Consider using $getField or $setField.");
    if (p.includes('\0')) failLocation(16411, 'FieldPath field names may not contain embedded nulls');
  }
  return parts;
}

/** mongod's variable-name rule: user names start with a lowercase letter or a non-ASCII character. */
export function validateVariableName(name: string): void {
  if (name.length === 0) failLocation(16866, 'empty variable names are not allowed');
  const c = name.charCodeAt(0);
  if (!((c >= 97 && c <= 122) || c >= 128)) failLocation(16867, `'${name}' starts with an invalid character for a user variable name`);
  for (let i = 1; i < name.length; i++) {
    const d = name.charCodeAt(i);
    const ok = (d >= 97 && d <= 122) || (d >= 65 && d <= 90) || (d >= 48 && d <= 57) || d === 95 || d >= 128;
    if (!ok) failLocation(16868, `'${name}' contains an invalid character for a variable name: '${name[i]}'`);
  }
}

function parseFieldPathExpression(spec: string, scope: Scope): Expression {
  if (spec === '$') failLocation(16872, "'$' by itself is not a valid FieldPath");
  if (spec.startsWith('$$')) {
    const body = spec.slice(2);
    const dot = body.indexOf('.');
    const name = dot < 0 ? body : body.slice(0, dot);
    const rest = dot < 0 ? [] : parseFieldPath(body.slice(dot + 1));
    if (name.length === 0) failLocation(16869, 'empty variable names are not allowed');
    if (name === 'REMOVE') return { evaluate: () => undefined, variable: name };
    if (REDACT_VARIABLES.has(name)) return { evaluate: () => `$$${name}`, variable: name, constant: { value: `$$${name}` } };
    let slot = BUILTIN_VARIABLES.get(name);
    if (slot === undefined) slot = scope.lookup(name);
    if (slot === undefined) {
      if (name === 'USER_ROLES' || name === 'SEARCH_META') fail('NotImplemented', `Dossier does not support $$${name}`);
      validateVariableName(name);
      failLocation(17276, `Use of undefined variable: ${name}`);
    }
    const s = slot;
    if (rest.length === 0) return { evaluate: (vars) => vars[s], variable: name };
    return { evaluate: (vars) => evaluatePath(vars[s], rest, 0), variable: name };
  }
  const parts = parseFieldPath(spec.slice(1));
  const path = parts.join('.');
  if (parts.length === 1) {
    const f = parts[0]!;
    return { evaluate: (vars) => fieldOf(vars[CURRENT_SLOT], f), fieldPath: path };
  }
  return { evaluate: (vars) => evaluatePath(vars[CURRENT_SLOT], parts, 0), fieldPath: path };
}

function fieldOf(v: BsonValue, name: string): BsonValue {
  if (!isDocument(v)) return undefined;
  if (!Object.prototype.hasOwnProperty.call(v, name)) return undefined;
  return (v as Document)[name];
}

/**
 * mongod's ExpressionFieldPath::evaluatePath: documents are entered by name; an array maps the
 * rest of the path over its document elements (other elements, and missing results, drop out).
 */
export function evaluatePath(v: BsonValue, parts: readonly string[], i: number): BsonValue {
  let cur = v;
  for (let k = i; k < parts.length; k++) {
    if (Array.isArray(cur)) return evaluatePathArray(cur, parts, k);
    if (!isDocument(cur)) return undefined;
    cur = fieldOf(cur, parts[k]!);
    if (cur === undefined) return undefined;
  }
  return cur;
}

function evaluatePathArray(arr: BsonValue[], parts: readonly string[], i: number): BsonValue[] {
  const out: BsonValue[] = [];
  for (const el of arr) {
    if (Array.isArray(el)) {
      out.push(evaluatePathArray(el, parts, i));
    } else if (isDocument(el)) {
      const r = evaluatePath(el, parts, i);
      if (r !== undefined) out.push(r);
    }
  }
  return out;
}

// ---- helpers for operator parsers -------------------------------------------------------------

/** An operator's operands: an array is the list, anything else a single operand. */
export function operandList(args: BsonValue): BsonValue[] {
  return Array.isArray(args) ? args : [args];
}

export function parseOperands(args: BsonValue, scope: Scope): Expression[] {
  return operandList(args).map((a) => parseExpression(a, scope));
}

/** mongod's ExpressionNary arity check (16020). */
export function checkArity(name: string, operands: readonly unknown[], min: number, max = min): void {
  const n = operands.length;
  if (n >= min && n <= max) return;
  if (min === max) failLocation(16020, `Expression ${name} takes exactly ${min} arguments. ${n} were passed in.`);
  if (n < min) failLocation(16020, `Expression ${name} takes at least ${min} arguments, and at most ${max}. ${n} were passed in.`);
  failLocation(16020, `Expression ${name} takes at most ${max} arguments. ${n} were passed in.`);
}

/** The named arguments of `{$op: {a: ..., b: ...}}`, with mongod's unknown/missing-argument errors. */
export function namedArgs(
  name: string,
  args: BsonValue,
  known: readonly string[],
  errors: { notObject?: [number, string]; unknown?: (field: string) => [number, string] } = {},
): Document {
  if (!isDocument(args)) {
    const [code, msg] = errors.notObject ?? [40517, `${name} only supports an object as its argument`];
    failLocation(code, msg);
  }
  for (const k of Object.keys(args)) {
    if (!known.includes(k)) {
      const [code, msg] = errors.unknown?.(k) ?? [40518, `Unrecognized argument to ${name}: ${k}`];
      failLocation(code, msg);
    }
  }
  return args;
}

/** Wraps an operator so that constant operands fold to a constant at parse time. */
export function foldConstant(operands: readonly Expression[], evaluate: Evaluator): Expression {
  if (operands.every((o) => o.constant)) {
    try {
      const value = evaluate([]);
      return { evaluate: () => value, constant: { value } };
    } catch (e) {
      // A constant that fails (e.g. $divide by zero) fails when evaluated, as in mongod at run time.
      if (!(e instanceof DossierError)) throw e;
    }
  }
  return { evaluate };
}

/** For error messages that print an expression the way mongod does. */
export function formatSpec(spec: BsonValue): string {
  return JSON.stringify(toPrintable(spec)).replace(/"([^"]+)":/g, '$1: ').replace(/,/g, ', ').replace(/\{/g, '{ ').replace(/\}/g, ' }');
}

function toPrintable(v: BsonValue): unknown {
  if (Array.isArray(v)) return v.map(toPrintable);
  if (isDocument(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toPrintable(x)]));
  const t = typeNameOf(v);
  if (t === 'int' || t === 'double' || t === 'long' || t === 'decimal') return Number(v.toString());
  return v;
}
