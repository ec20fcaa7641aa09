/**
 * Accumulators of $group, $bucket, $bucketAuto and $setWindowFields: $sum $avg $min $max $first
 * $last $push $addToSet $count $mergeObjects $stdDevPop $stdDevSamp $top $bottom $topN $bottomN
 * $firstN $lastN $minN $maxN. Also registers the expression forms of $sum/$avg/$min/$max/
 * $stdDevPop/$stdDevSamp, which accumulate over an array operand or over their operands.
 */
import { failLocation } from '../../base/index.js';
import { compareValues, isDocument, typeNameOf, type BsonValue, type Collator, type Document } from '../../bson/index.js';
import { compareSortKeys, parseSort, sortKeyOf, type SortSpec } from '../sort.js';
import {
  constantExpression, expression, parseExpression, parseOperands, registerOperator, type Expression, type Scope, type Variables,
} from './expression.js';
import {
  addNumbers, asDec, asDouble, decimalOf, divideDec, fromSafeNum, isNullish, setField, toSafeNum, type SafeNum,
} from './values.js';

/** The running state of one accumulator for one group. */
export interface AccumulatorState {
  add(value: BsonValue): void;
  result(): BsonValue;
  /** Approximate bytes held, for the $group memory limit. */
  readonly bytes: number;
  /** For window functions: undo one earlier `add` (only removable accumulators). */
  remove?(value: BsonValue): void;
}

export interface Accumulator {
  readonly name: string;
  /** Evaluated per input document; what `add` receives. */
  readonly argument: Expression;
  /** A fresh state; `vars` are those of the first document of the group (for `n`). */
  create(vars: Variables): AccumulatorState;
  /** The value of a group that received no documents ($sum 0, others null). */
  readonly isCount?: boolean;
}

/** A rough size of a value in memory, for memory limits (mongod counts Value sizes similarly). */
export function approximateSize(v: BsonValue): number {
  if (v === null || v === undefined || typeof v === 'boolean') return 8;
  if (typeof v === 'string') return 24 + v.length * 2;
  if (Array.isArray(v)) {
    let n = 32;
    for (const e of v) n += approximateSize(e);
    return n;
  }
  if (isDocument(v)) {
    let n = 32;
    for (const k of Object.keys(v)) n += 24 + k.length * 2 + approximateSize(v[k]);
    return n;
  }
  if (v instanceof Uint8Array) return 32 + v.length;
  if (typeof v === 'object' && (v as { _bsontype?: string })._bsontype === 'Binary') return 32 + (v as { position: number }).position;
  return 16;
}

// ---- the simple accumulators ----------------------------------------------------------------

/** $sum: numbers only (others ignored); int stays int while it fits, then long, then double. */
export class SumState implements AccumulatorState {
  private total: SafeNum = { t: 'int', v: 0 };
  readonly bytes = 16;
  add(v: BsonValue): void {
    const n = toSafeNum(v);
    if (n) this.total = addNumbers(this.total, n);
  }
  remove(v: BsonValue): void {
    const n = toSafeNum(v);
    if (n) this.total = addNumbers(this.total, negateNum(n));
  }
  result(): BsonValue {
    return fromSafeNum(this.total);
  }
}

function negateNum(n: SafeNum): SafeNum {
  switch (n.t) {
    case 'int':
      return n.v === -2147483648 ? { t: 'long', v: 2147483648n } : { t: 'int', v: -n.v };
    case 'long':
      return { t: 'long', v: -n.v };
    case 'double':
      return { t: 'double', v: -n.v };
    case 'decimal':
      return { t: 'decimal', v: n.v.kind === 'nan' ? n.v : { ...n.v, neg: !n.v.neg } };
  }
}

/** $avg: a double (Decimal128 when any input is one); null without numeric input. */
export class AvgState implements AccumulatorState {
  private sum: SafeNum = { t: 'int', v: 0 };
  private count = 0;
  readonly bytes = 24;
  add(v: BsonValue): void {
    const n = toSafeNum(v);
    if (!n) return;
    this.sum = addNumbers(this.sum, n);
    this.count++;
  }
  remove(v: BsonValue): void {
    const n = toSafeNum(v);
    if (!n) return;
    this.sum = addNumbers(this.sum, negateNum(n));
    this.count--;
  }
  result(): BsonValue {
    if (this.count === 0) return null;
    if (this.sum.t === 'decimal') return decimalOf(divideDec(this.sum.v, asDec({ t: 'long', v: BigInt(this.count) })));
    return fromSafeNum({ t: 'double', v: asDouble(this.sum) / this.count });
  }
}

class MinMaxState implements AccumulatorState {
  private best: BsonValue = undefined;
  private values: BsonValue[] | undefined;
  readonly bytes = 16;
  constructor(private readonly sign: 1 | -1, private readonly collator: Collator | null = null) {}
  add(v: BsonValue): void {
    if (isNullish(v)) return;
    if (this.values) this.values.push(v);
    if (this.best === undefined || compareValues(v, this.best, this.collator) * this.sign > 0) this.best = v;
  }
  remove(v: BsonValue): void {
    // Windows remove in arrival order; keep every value once removal is asked for.
    if (isNullish(v)) return;
    if (!this.values) return;
    const i = this.values.findIndex((x) => compareValues(x, v, this.collator) === 0);
    if (i >= 0) this.values.splice(i, 1);
    this.best = undefined;
    for (const x of this.values) if (this.best === undefined || compareValues(x, this.best, this.collator) * this.sign > 0) this.best = x;
  }
  trackValues(): this {
    this.values = [];
    return this;
  }
  result(): BsonValue {
    return this.best === undefined ? null : this.best;
  }
}

class FirstState implements AccumulatorState {
  private seen = false;
  private value: BsonValue = null;
  bytes = 16;
  add(v: BsonValue): void {
    if (this.seen) return;
    this.seen = true;
    this.value = v === undefined ? null : v;
    this.bytes = approximateSize(this.value);
  }
  result(): BsonValue {
    return this.value;
  }
}

class LastState implements AccumulatorState {
  private value: BsonValue = null;
  bytes = 16;
  add(v: BsonValue): void {
    this.value = v === undefined ? null : v;
    this.bytes = approximateSize(this.value);
  }
  result(): BsonValue {
    return this.value;
  }
}

class PushState implements AccumulatorState {
  readonly values: BsonValue[] = [];
  bytes = 32;
  add(v: BsonValue): void {
    if (v === undefined) return;
    this.values.push(v);
    this.bytes += approximateSize(v);
  }
  remove(v: BsonValue): void {
    if (v === undefined) return;
    this.values.shift();
    this.bytes -= approximateSize(v);
  }
  result(): BsonValue {
    return [...this.values];
  }
}

class AddToSetState implements AccumulatorState {
  private readonly values: BsonValue[] = [];
  private readonly counts: number[] = [];
  private readonly index = new Map<string, number[]>();
  bytes = 32;
  constructor(private readonly collator: Collator | null = null) {}
  private keyOf(v: BsonValue): string {
    // A cheap bucket key; equality inside a bucket is decided by compareValues (so 1 == 1.0).
    const t = typeNameOf(v);
    if (t === 'int' || t === 'long' || t === 'double' || t === 'decimal') return `n${asDouble(toSafeNum(v)!)}`;
    // Under a collation unequal code points may be equal strings: one bucket for all of them.
    if (t === 'string' && this.collator === null) return `s${v}`;
    return t;
  }
  private find(v: BsonValue): number {
    const bucket = this.index.get(this.keyOf(v));
    if (!bucket) return -1;
    for (const i of bucket) if (compareValues(this.values[i], v, this.collator) === 0) return i;
    return -1;
  }
  add(v: BsonValue): void {
    if (v === undefined) return;
    const i = this.find(v);
    if (i >= 0) {
      this.counts[i]!++;
      return;
    }
    const key = this.keyOf(v);
    let bucket = this.index.get(key);
    if (!bucket) this.index.set(key, (bucket = []));
    bucket.push(this.values.length);
    this.values.push(v);
    this.counts.push(1);
    this.bytes += approximateSize(v);
  }
  remove(v: BsonValue): void {
    const i = this.find(v);
    if (i >= 0) this.counts[i]!--;
  }
  result(): BsonValue {
    return this.values.filter((_, i) => this.counts[i]! > 0);
  }
}

class MergeObjectsState implements AccumulatorState {
  private readonly out: Document = {};
  bytes = 32;
  add(v: BsonValue): void {
    if (isNullish(v)) return;
    if (!isDocument(v)) failLocation(40400, `$mergeObjects requires object inputs, but input ${String(v)} is of type ${typeNameOf(v)}`);
    for (const k of Object.keys(v)) {
      if (v[k] === undefined) continue;
      setField(this.out, k, v[k]);
    }
    this.bytes += approximateSize(v);
  }
  result(): BsonValue {
    return { ...this.out };
  }
}

/** Welford's online variance over the numeric inputs. */
class StdDevState implements AccumulatorState {
  private n = 0;
  private mean = 0;
  private m2 = 0;
  readonly bytes = 24;
  constructor(private readonly sample: boolean) {}
  add(v: BsonValue): void {
    const x = toSafeNum(v);
    if (!x) return;
    const d = asDouble(x);
    this.n++;
    const delta = d - this.mean;
    this.mean += delta / this.n;
    this.m2 += delta * (d - this.mean);
  }
  remove(v: BsonValue): void {
    const x = toSafeNum(v);
    if (!x) return;
    const d = asDouble(x);
    if (this.n === 1) {
      this.n = 0;
      this.mean = 0;
      this.m2 = 0;
      return;
    }
    const meanOld = (this.n * this.mean - d) / (this.n - 1);
    this.m2 -= (d - this.mean) * (d - meanOld);
    this.mean = meanOld;
    this.n--;
  }
  result(): BsonValue {
    if (this.n === 0 || (this.sample && this.n === 1)) return null;
    return fromSafeNum({ t: 'double', v: Math.sqrt(Math.max(0, this.m2) / (this.sample ? this.n - 1 : this.n)) });
  }
}

// ---- the N accumulators ------------------------------------------------------------------------

function evaluateN(e: Expression, vars: Variables, opName: string): number {
  const v = e.evaluate(vars);
  const n = toSafeNum(v);
  if (!n || !Number.isInteger(asDouble(n))) failLocation(5787902, `Value for 'n' must be of integral type, but found ${String(v)}`);
  const k = asDouble(n);
  if (k <= 0) failLocation(5787908, `'n' must be greater than 0, found ${k}`);
  void opName;
  return k;
}

class FirstNState implements AccumulatorState {
  private readonly values: BsonValue[] = [];
  bytes = 32;
  constructor(private readonly n: number, private readonly last: boolean) {}
  add(v: BsonValue): void {
    const x = v === undefined ? null : v;
    if (!this.last && this.values.length >= this.n) return;
    this.values.push(x);
    this.bytes += approximateSize(x);
    if (this.last && this.values.length > this.n) this.bytes -= approximateSize(this.values.shift());
  }
  result(): BsonValue {
    return [...this.values];
  }
}

class MinMaxNState implements AccumulatorState {
  private values: BsonValue[] = [];
  bytes = 32;
  constructor(private readonly n: number, private readonly sign: 1 | -1, private readonly collator: Collator | null = null) {}
  add(v: BsonValue): void {
    if (isNullish(v)) return;
    this.values.push(v);
    this.bytes += approximateSize(v);
    if (this.values.length > this.n * 2) this.trim();
  }
  private trim(): void {
    this.values.sort((a, b) => compareValues(a, b, this.collator) * -this.sign);
    this.values.length = Math.min(this.values.length, this.n);
    this.bytes = 32 + this.values.reduce((s: number, x) => s + approximateSize(x), 0);
  }
  result(): BsonValue {
    this.trim();
    return [...this.values];
  }
}

/** $top/$bottom(N): keeps the n best outputs by sortBy (ties keep arrival order). */
class TopBottomState implements AccumulatorState {
  private items: Array<{ key: BsonValue[]; output: BsonValue; seq: number }> = [];
  private seq = 0;
  bytes = 32;
  constructor(
    private readonly spec: SortSpec,
    private readonly n: number,
    private readonly bottom: boolean,
    private readonly single: boolean,
  ) {}
  add(v: BsonValue): void {
    const [output, sortDoc] = v as [BsonValue, Document];
    const key = sortKeyOf(this.spec, sortDoc);
    const o = output === undefined ? null : output;
    this.items.push({ key, output: o, seq: this.seq++ });
    this.bytes += approximateSize(o) + 16;
    if (this.items.length > this.n * 2 + 16) this.trim();
  }
  private trim(): void {
    const dir = this.bottom ? -1 : 1;
    this.items.sort((a, b) => dir * compareSortKeys(this.spec, a.key, b.key) || (this.bottom ? b.seq - a.seq : a.seq - b.seq));
    this.items.length = Math.min(this.items.length, this.n);
    this.bytes = 32 + this.items.reduce((s, x) => s + approximateSize(x.output) + 16, 0);
  }
  result(): BsonValue {
    this.trim();
    const outs = this.items.map((x) => x.output);
    if (this.bottom) outs.reverse();
    if (this.single) return outs[0] ?? null;
    return outs;
  }
}

// ---- parsing -------------------------------------------------------------------------------------

/** Accumulators by name; those that compare values take the operation's collation. */
const SIMPLE: Record<string, (collator?: Collator | null) => AccumulatorState> = {
  $sum: () => new SumState(),
  $avg: () => new AvgState(),
  $min: (c) => new MinMaxState(-1, c ?? null),
  $max: (c) => new MinMaxState(1, c ?? null),
  $first: () => new FirstState(),
  $last: () => new LastState(),
  $push: () => new PushState(),
  $addToSet: (c) => new AddToSetState(c ?? null),
  $mergeObjects: () => new MergeObjectsState(),
  $stdDevPop: () => new StdDevState(false),
  $stdDevSamp: () => new StdDevState(true),
};

export const ACCUMULATOR_NAMES: ReadonlySet<string> = new Set([
  ...Object.keys(SIMPLE), '$count', '$top', '$bottom', '$topN', '$bottomN', '$firstN', '$lastN', '$minN', '$maxN',
]);

/** Parses `{$acc: arg}` (one field of a $group spec). Throws mongod's 15952 for an unknown name. */
export function parseAccumulator(name: string, arg: BsonValue, scope: Scope): Accumulator {
  const simple = SIMPLE[name];
  if (simple) {
    if (Array.isArray(arg)) failLocation(40237, `The ${name} accumulator is a unary operator`);
    const collator = scope.state.env.collator ?? null;
    return { name, argument: parseExpression(arg, scope), create: () => simple(collator) };
  }
  switch (name) {
    case '$count':
      if (!isDocument(arg) || Object.keys(arg).length > 0) failLocation(40313, '$count takes no arguments, i.e. $count:{}');
      return { name, argument: constantExpression(fromSafeNum({ t: 'int', v: 1 })), create: () => new SumState(), isCount: true };
    case '$firstN':
    case '$lastN':
    case '$minN':
    case '$maxN': {
      if (!isDocument(arg)) failLocation(5787801, `specification must be an object; found ${typeNameOf(arg)}`);
      for (const k of Object.keys(arg)) if (k !== 'input' && k !== 'n') failLocation(5787901, `Unknown argument for 'n' operator: ${k}`);
      if (!('n' in arg)) failLocation(5787906, `Missing value for 'n'`);
      if (!('input' in arg)) failLocation(5787907, `Missing value for 'input'`);
      const n = parseExpression(arg.n, scope);
      const argument = parseExpression(arg.input, scope);
      return {
        name,
        argument,
        create: (vars) => {
          const k = evaluateN(n, vars, name);
          if (name === '$firstN') return new FirstNState(k, false);
          if (name === '$lastN') return new FirstNState(k, true);
          return new MinMaxNState(k, name === '$maxN' ? 1 : -1, scope.state.env.collator ?? null);
        },
      };
    }
    case '$top':
    case '$bottom':
    case '$topN':
    case '$bottomN': {
      const single = name === '$top' || name === '$bottom';
      if (!isDocument(arg)) failLocation(5788001, `specification must be an object; found ${typeNameOf(arg)}`);
      for (const k of Object.keys(arg)) {
        if (k !== 'output' && k !== 'sortBy' && (single || k !== 'n')) failLocation(5788002, `Unknown argument to ${name} '${k}'`);
      }
      if (!single && !('n' in arg)) failLocation(5788003, `Missing value for 'n'`);
      if (single && 'n' in arg) failLocation(5788002, `Unknown argument to ${name} 'n'`);
      if (!('output' in arg)) failLocation(5788004, `Missing value for 'output'`);
      if (!('sortBy' in arg)) failLocation(5788005, `Missing value for 'sortBy'`);
      if (!isDocument(arg.sortBy)) failLocation(5788604, `expected 'sortBy' to already be an object in the arguments to ${name}`);
      const spec = parseSort(arg.sortBy, scope.state.env.collator);
      const output = parseExpression(arg.output, scope);
      const n = single ? undefined : parseExpression(arg.n, scope);
      // The sort reads the document being grouped ($$CURRENT), the output is any expression.
      const argument = expression((vars) => [output.evaluate(vars), vars[1]]);
      return {
        name,
        argument,
        create: (vars) => new TopBottomState(spec, n ? evaluateN(n, vars, name) : 1, name.startsWith('$bottom'), single),
      };
    }
    default:
      return failLocation(15952, `unknown group operator '${name}'`);
  }
}

/** Creates a state for an accumulator by name, for window functions and $bucketAuto. */
export function simpleAccumulatorState(name: string, collator: Collator | null = null): AccumulatorState | undefined {
  const f = SIMPLE[name];
  if (!f) return undefined;
  const s = f(collator);
  if (s instanceof MinMaxState) s.trackValues();
  return s;
}

// ---- expression forms ------------------------------------------------------------------------------

for (const name of ['$sum', '$avg', '$min', '$max', '$stdDevPop', '$stdDevSamp']) {
  registerOperator(name, (args, scope) => {
    const ops = parseOperands(args, scope);
    const single = !Array.isArray(args) || ops.length === 1;
    const collator = scope.state.env.collator ?? null;
    return expression((vars) => {
      const state = SIMPLE[name]!(collator);
      if (single) {
        const v = ops[0]?.evaluate(vars);
        if (Array.isArray(v)) for (const e of v) state.add(e);
        else state.add(v);
      } else {
        for (const o of ops) state.add(o.evaluate(vars));
      }
      const r = state.result();
      // $sum over nothing numeric is 0; $min/$max of nothing is null.
      return r;
    });
  });
}

export { SIMPLE as SIMPLE_ACCUMULATORS };
