/**
 * Window functions of $setWindowFields: parsing (with mongod's validation order and codes) and
 * execution over one sorted partition. A function is asked for its value at documents 0..n-1 in
 * order, so state that slides with the window (sums, counts, ranks, moving averages) is kept
 * between calls instead of recomputed per document.
 */
import { fail, failLocation } from '../../base/index.js';
import { compareValues, isDocument, typeNameOf, type BsonValue, type Document } from '../../bson/index.js';
import type { SortSpec } from '../sort.js';
import {
  parseAccumulator, simpleAccumulatorState, SumState, type Accumulator, type AccumulatorState,
} from './accumulators.js';
import { constantExpression, parseExpression, CURRENT_SLOT, ROOT_SLOT, type Expression, type Scope, type Variables } from './expression.js';
import { dateAdd, UTC_ZONE, type DateUnit } from './ops-date.js';
import {
  addNumbers, asDec, asDouble, decimalOf, divideDec, fromSafeNum, integral, isNullish, multiplyNumbers, subtractNumbers, toSafeNum, type SafeNum,
} from './values.js';

type DocBound = 'unbounded' | 'current' | number;

export type WindowBounds =
  | { kind: 'documents'; lower: DocBound; upper: DocBound }
  | { kind: 'range'; lower: DocBound; upper: DocBound; unit: DateUnit | undefined };

const UNBOUNDED: WindowBounds = { kind: 'documents', lower: 'unbounded', upper: 'unbounded' };
const LEFT_UNBOUNDED: WindowBounds = { kind: 'documents', lower: 'unbounded', upper: 'current' };

/** One partition, sorted, as the window functions see it. */
export interface Partition {
  readonly docs: readonly Document[];
  /** Evaluates an expression with $$ROOT/$$CURRENT bound to docs[i]. */
  evaluate(expr: Expression, i: number): BsonValue;
  /** The value of the single sortBy field at docs[i] (for ranks, ranges, derivatives). */
  sortValue(i: number): BsonValue;
  /** The first component of docs[i]'s sort key (an array's smallest or largest element). */
  sortKey(i: number): BsonValue;
  /** Values of `n` and other per-run constants are evaluated with these (no document). */
  readonly baseVars: Variables;
}

export interface WindowExec {
  /** The value at document i; called for i = 0, 1, ... n-1 in order. Undefined leaves the field out. */
  valueAt(i: number): BsonValue;
}

export interface WindowFunction {
  readonly name: string;
  readonly bounds: WindowBounds;
  create(p: Partition): WindowExec;
}

/** The parse-time view of $setWindowFields' sortBy. */
export interface WindowSort {
  readonly spec: SortSpec | undefined;
}

const TIME_UNITS: readonly DateUnit[] = ['year', 'quarter', 'month', 'week', 'day', 'hour', 'minute', 'second', 'millisecond'];

export function parseTimeUnit(v: string): DateUnit {
  if (!TIME_UNITS.includes(v as DateUnit)) fail('FailedToParse', `unknown time unit value: ${v}`);
  return v as DateUnit;
}

const UNIT_MS: Partial<Record<DateUnit, number>> = {
  week: 7 * 86_400_000, day: 86_400_000, hour: 3_600_000, minute: 60_000, second: 1000, millisecond: 1,
};

// ---- bounds ------------------------------------------------------------------------------------

function parseBound(v: BsonValue, scope: Scope, check: (x: BsonValue) => number | BsonValue): DocBound {
  if (typeof v === 'string') {
    if (v === 'unbounded' || v === 'current') return v;
    fail('FailedToParse', "Window bounds must be 'unbounded', 'current', or a number.");
  }
  const e = parseExpression(v, scope);
  if (!e.constant) fail('FailedToParse', 'Window bounds expression must be a constant.');
  const n = check(e.constant.value);
  return typeof n === 'number' ? n : asDouble(toSafeNum(n)!);
}

function isIntegral(v: BsonValue): boolean {
  const n = toSafeNum(v);
  return n !== undefined && Number.isInteger(asDouble(n));
}

function checkForward(lower: DocBound, upper: DocBound): void {
  const norm = (b: DocBound): DocBound => (b === 'current' ? 0 : b);
  const l = norm(lower);
  const u = norm(upper);
  if (typeof l === 'number' && typeof u === 'number' && l > u) {
    failLocation(5339900, `Lower bound must not exceed upper bound: [${l}, ${u}]`);
  }
}

export function parseWindowBounds(v: BsonValue, sort: WindowSort, scope: Scope): WindowBounds {
  if (!isDocument(v)) fail('FailedToParse', "'window' field must be an object");
  const documents = v.documents;
  const range = v.range;
  const unit = v.unit;
  const n = Object.keys(v).length;
  if (documents !== undefined && range !== undefined) fail('FailedToParse', "Window bounds can specify either 'documents' or 'unit', not both.");
  if (range === undefined && unit !== undefined) fail('FailedToParse', "Window bounds can only specify 'unit' with range-based bounds.");
  if (range === undefined && documents === undefined) {
    if (n !== 0) fail('FailedToParse', "'window' field can only contain 'documents' as the only argument or 'range' with an optional 'unit' field");
    return UNBOUNDED;
  }
  const unpack = (e: BsonValue): [BsonValue, BsonValue] => {
    if (!Array.isArray(e) || e.length !== 2) fail('FailedToParse', `Window bounds must be a 2-element array: ${documents !== undefined ? 'documents' : 'range'}: ${JSON.stringify(e)}`);
    return [e[0], e[1]];
  };
  if (documents !== undefined) {
    if (n !== 1) fail('FailedToParse', "'window' field that specifies documents cannot have other fields");
    const [l, u] = unpack(documents);
    const asInt = (x: BsonValue): number => {
      if (!isIntegral(x)) fail('FailedToParse', 'Numeric document-based bounds must be an integer');
      return asDouble(toSafeNum(x)!);
    };
    const lower = parseBound(l, scope, asInt);
    const upper = parseBound(u, scope, asInt);
    checkForward(lower, upper);
    const unbounded = lower === 'unbounded' && upper === 'unbounded';
    if (!unbounded && !sort.spec) failLocation(5339901, 'Document-based bounds require a sortBy');
    return { kind: 'documents', lower, upper };
  }
  const [l, u] = unpack(range);
  let parsedUnit: DateUnit | undefined;
  let lower: DocBound;
  let upper: DocBound;
  if (unit !== undefined) {
    if (n !== 2) fail('FailedToParse', "'window' field that specifies unit cannot have other fields besides 'range'");
    if (typeof unit !== 'string') fail('FailedToParse', "'unit' must be a string");
    const asInt = (x: BsonValue): BsonValue => {
      if (!isIntegral(x)) fail('FailedToParse', "With 'unit', range-based bounds must be an integer");
      return x;
    };
    lower = parseBound(l, scope, asInt);
    upper = parseBound(u, scope, asInt);
    checkForward(lower, upper);
    parsedUnit = parseTimeUnit(unit);
  } else {
    if (n !== 1) fail('FailedToParse', "'window' field that specifies range cannot have other fields besides 'unit'");
    const asNum = (x: BsonValue): BsonValue => {
      if (!toSafeNum(x)) fail('FailedToParse', 'Range-based bounds expression must be a number');
      return x;
    };
    lower = parseBound(l, scope, asNum);
    upper = parseBound(u, scope, asNum);
    checkForward(lower, upper);
  }
  if (!sort.spec || sort.spec.length !== 1) failLocation(5339902, 'Range-based bounds require sortBy a single field');
  return { kind: 'range', lower, upper, unit: parsedUnit };
}

/**
 * The documents of the window at i, as [lo, hi] (empty when hi < lo). Range windows compare the
 * sortBy values as numbers (dates as milliseconds); descending sorts mirror the offsets, so a
 * negative bound still means "before the current document".
 */
class WindowLocator {
  private keys: number[] | undefined;
  constructor(
    private readonly bounds: WindowBounds,
    private readonly p: Partition,
    private readonly direction: 1 | -1,
  ) {}

  private rangeKeys(): number[] {
    if (this.keys) return this.keys;
    const b = this.bounds as Extract<WindowBounds, { kind: 'range' }>;
    const keys: number[] = [];
    for (let i = 0; i < this.p.docs.length; i++) {
      const v = this.p.sortValue(i);
      if (b.unit) {
        if (!(v instanceof Date)) failLocation(5429513, `Invalid range: Expected the sortBy field to be a Date, but it was ${typeNameOf(v)}`);
        keys.push(v.getTime());
      } else {
        if (v instanceof Date) failLocation(5429413, 'Invalid range: For windows that involve date or time ranges, a unit must be provided.');
        const n = toSafeNum(v);
        if (!n) failLocation(5429414, `Invalid range: Expected the sortBy field to be a number, but it was ${typeNameOf(v)}`);
        keys.push(asDouble(n));
      }
    }
    this.keys = keys;
    return keys;
  }

  at(i: number): [number, number] {
    const n = this.p.docs.length;
    const b = this.bounds;
    if (b.kind === 'documents') {
      const lo = b.lower === 'unbounded' ? 0 : i + (b.lower === 'current' ? 0 : b.lower);
      const hi = b.upper === 'unbounded' ? n - 1 : i + (b.upper === 'current' ? 0 : b.upper);
      return [Math.max(lo, 0), Math.min(hi, n - 1)];
    }
    const keys = this.rangeKeys();
    const d = this.direction;
    const c = keys[i]!;
    const shifted = (amount: number): number => {
      if (!b.unit) return c + d * amount;
      return dateAdd(c, b.unit, d * amount, UTC_ZONE);
    };
    // Positions are ordered by d*key ascending; find the first at or past the lower edge and the
    // last at or before the upper edge.
    const lowEdge = b.lower === 'unbounded' ? -Infinity : d * shifted(b.lower === 'current' ? 0 : b.lower);
    const highEdge = b.upper === 'unbounded' ? Infinity : d * shifted(b.upper === 'current' ? 0 : b.upper);
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (d * keys[m]! >= lowEdge) hi = m;
      else lo = m + 1;
    }
    const first = lo;
    lo = 0;
    hi = n;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (d * keys[m]! > highEdge) hi = m;
      else lo = m + 1;
    }
    return [first, lo - 1];
  }
}

// ---- executors ---------------------------------------------------------------------------------

/** Values of an expression per document of the partition, evaluated once each. */
class Column {
  private readonly values: BsonValue[] = [];
  private readonly known: boolean[] = [];
  constructor(
    private readonly p: Partition,
    private readonly expr: Expression,
  ) {}
  at(i: number): BsonValue {
    if (!this.known[i]) {
      this.values[i] = this.p.evaluate(this.expr, i);
      this.known[i] = true;
    }
    return this.values[i];
  }
}

/** An accumulator over the window: slides (add/remove) when it can, rebuilds when it cannot. */
class AccumulatorExec implements WindowExec {
  private state: AccumulatorState | undefined;
  private lo = 0;
  private hi = -1;
  private readonly column: Column;
  constructor(
    p: Partition,
    private readonly locator: WindowLocator,
    private readonly make: () => AccumulatorState,
    argument: Expression,
    private readonly finish: (v: BsonValue) => BsonValue = (v) => v,
  ) {
    this.column = new Column(p, argument);
  }

  private last: { lo: number; hi: number; value: BsonValue } | undefined;

  valueAt(i: number): BsonValue {
    const [lo, hi] = this.locator.at(i);
    // The same window as the previous document's (whole-partition windows, ties in a range):
    // the same value, without finishing the state again.
    const last = this.last;
    if (last && last.lo === lo && last.hi === Math.max(hi, lo - 1)) return Array.isArray(last.value) ? [...last.value] : last.value;
    const s = this.state;
    const slides = s !== undefined && lo >= this.lo && hi >= this.hi && (s.remove !== undefined || lo === this.lo);
    if (!slides || s === undefined) {
      const fresh = this.make();
      for (let j = lo; j <= hi; j++) fresh.add(this.column.at(j));
      this.state = fresh;
    } else {
      for (let j = this.hi + 1; j <= hi; j++) s.add(this.column.at(j));
      for (let j = this.lo; j < lo && j <= this.hi; j++) s.remove!(this.column.at(j));
    }
    this.lo = lo;
    this.hi = Math.max(hi, lo - 1);
    const value = this.finish(this.state!.result());
    this.last = { lo: this.lo, hi: this.hi, value };
    return Array.isArray(value) ? [...value] : value;
  }
}

/**
 * $sum and $avg over a sliding window, as mongod's RemovableSum: integers summed exactly, doubles
 * with compensation (so removing a large value gives back the small ones), and the result's type
 * decided by what the window holds now (a double that left the window does not make the sum a
 * double). NaN and infinities are counted rather than summed, so they can leave again.
 */
class WindowSumState implements AccumulatorState {
  private ints = 0n;
  private doubleSum = 0;
  private doubleComp = 0;
  private decimal: SafeNum = { t: 'decimal', v: { kind: 'finite', neg: false, coeff: 0n, exp: 0 } };
  private doubles = 0;
  private decimals = 0;
  private nans = 0;
  private posInf = 0;
  private negInf = 0;
  private count = 0;
  readonly bytes = 64;
  constructor(private readonly average: boolean) {}

  private update(v: BsonValue, q: 1 | -1): void {
    const n = toSafeNum(v);
    if (!n) return;
    this.count += q;
    switch (n.t) {
      case 'int':
        this.ints += BigInt(n.v * q);
        return;
      case 'long':
        this.ints += q === 1 ? n.v : -n.v;
        return;
      case 'double': {
        this.doubles += q;
        const x = n.v;
        if (Number.isNaN(x)) this.nans += q;
        else if (x === Infinity) this.posInf += q;
        else if (x === -Infinity) this.negInf += q;
        else {
          // Neumaier's compensated summation.
          const y = x * q;
          const t = this.doubleSum + y;
          this.doubleComp += Math.abs(this.doubleSum) >= Math.abs(y) ? this.doubleSum - t + y : y - t + this.doubleSum;
          this.doubleSum = t;
        }
        return;
      }
      case 'decimal': {
        this.decimals += q;
        const d = n.v;
        if (d.kind === 'nan') this.nans += q;
        else if (d.kind === 'inf') {
          if (d.neg) this.negInf += q;
          else this.posInf += q;
        } else this.decimal = addNumbers(this.decimal, { t: 'decimal', v: q === 1 ? d : { ...d, neg: !d.neg } });
      }
    }
  }

  add(v: BsonValue): void {
    this.update(v, 1);
  }

  remove(v: BsonValue): void {
    this.update(v, -1);
  }

  private sum(): SafeNum {
    const dec = this.decimals > 0;
    if (this.nans > 0 || (this.posInf > 0 && this.negInf > 0)) return dec ? { t: 'decimal', v: { kind: 'nan' } } : { t: 'double', v: NaN };
    if (this.posInf > 0 || this.negInf > 0) return dec ? { t: 'decimal', v: { kind: 'inf', neg: this.negInf > 0 } } : { t: 'double', v: this.negInf > 0 ? -Infinity : Infinity };
    const doubles = this.doubleSum + this.doubleComp;
    if (dec) return addNumbers(addNumbers(this.decimal, { t: 'long', v: this.ints }), { t: 'double', v: doubles });
    if (this.doubles > 0) return { t: 'double', v: Number(this.ints) + doubles };
    if (this.ints >= -2147483648n && this.ints <= 2147483647n) return { t: 'int', v: Number(this.ints) };
    if (this.ints >= -(1n << 63n) && this.ints < 1n << 63n) return { t: 'long', v: this.ints };
    return { t: 'double', v: Number(this.ints) };
  }

  result(): BsonValue {
    const s = this.sum();
    if (!this.average) return fromSafeNum(s);
    if (this.count === 0) return null;
    if (s.t === 'decimal') return decimalOf(divideDec(s.v, asDec({ t: 'long', v: BigInt(this.count) })));
    return fromSafeNum({ t: 'double', v: asDouble(s) / this.count });
  }
}

/** $covariancePop / $covarianceSamp over [x, y] pairs, removable (co-moment updates). */
class CovarianceState implements AccumulatorState {
  private n = 0;
  private meanX = 0;
  private meanY = 0;
  private c = 0;
  readonly bytes = 32;
  constructor(private readonly sample: boolean) {}
  private pair(v: BsonValue): [number, number] | undefined {
    if (!Array.isArray(v) || v.length !== 2) return undefined;
    const x = toSafeNum(v[0]);
    const y = toSafeNum(v[1]);
    if (!x || !y) return undefined;
    return [asDouble(x), asDouble(y)];
  }
  add(v: BsonValue): void {
    const p = this.pair(v);
    if (!p) return;
    this.n++;
    const dx = p[0] - this.meanX;
    this.meanX += dx / this.n;
    this.meanY += (p[1] - this.meanY) / this.n;
    this.c += dx * (p[1] - this.meanY);
  }
  remove(v: BsonValue): void {
    const p = this.pair(v);
    if (!p) return;
    if (this.n <= 1) {
      this.n = 0;
      this.meanX = this.meanY = this.c = 0;
      return;
    }
    // The add step run backwards: x's mean without the point, y's mean still with it.
    this.meanX -= (p[0] - this.meanX) / (this.n - 1);
    const dx = p[0] - this.meanX;
    this.c -= dx * (p[1] - this.meanY);
    this.meanY -= (p[1] - this.meanY) / (this.n - 1);
    this.n--;
  }
  result(): BsonValue {
    if (this.n === 0 || (this.sample && this.n === 1)) return null;
    return fromSafeNum({ t: 'double', v: this.c / (this.sample ? this.n - 1 : this.n) });
  }
}

function sortedSet(v: BsonValue): BsonValue {
  // mongod keeps a window's $addToSet in an ordered multiset: the result comes out sorted.
  return Array.isArray(v) ? [...v].sort(compareValues) : v;
}

// ---- parsing -----------------------------------------------------------------------------------

type Parser = (spec: Document, name: string, sort: WindowSort, scope: Scope) => WindowFunction;

const PARSERS = new Map<string, Parser>();

function splitSpec(spec: Document, name: string, onOther: (k: string) => never): { arg: BsonValue; window: BsonValue } {
  let window: BsonValue;
  for (const k of Object.keys(spec)) {
    if (k === 'window') window = spec[k];
    else if (k !== name) {
      if (PARSERS.has(k)) fail('FailedToParse', 'Cannot specify two functions in window function spec');
      onOther(k);
    }
  }
  return { arg: spec[name], window };
}

const unknownArgument = (k: string): never => fail('FailedToParse', `Window function found an unknown argument: ${k}`);

function direction(sort: WindowSort): 1 | -1 {
  return sort.spec?.[0]?.direction ?? 1;
}

/** The plain accumulators: $sum $avg $min $max $push $addToSet $stdDevPop $stdDevSamp $count. */
for (const name of ['$sum', '$avg', '$min', '$max', '$push', '$addToSet', '$stdDevPop', '$stdDevSamp', '$count', '$covariancePop', '$covarianceSamp']) {
  PARSERS.set(name, (spec, _n, sort, scope) => {
    const { arg, window } = splitSpec(spec, name, unknownArgument);
    const bounds = window === undefined ? UNBOUNDED : parseWindowBounds(window, sort, scope);
    let argument: Expression;
    let make: () => AccumulatorState;
    if (name === '$count') {
      if (!isDocument(arg) || Object.keys(arg).length > 0) fail('FailedToParse', `$count only accepts an empty object as input`);
      argument = constantExpression(fromSafeNum({ t: 'int', v: 1 }));
      make = () => new SumState();
    } else if (name === '$covariancePop' || name === '$covarianceSamp') {
      argument = parseExpression(arg, scope);
      const sample = name === '$covarianceSamp';
      make = () => new CovarianceState(sample);
    } else if (name === '$sum' || name === '$avg') {
      argument = parseExpression(arg, scope);
      const average = name === '$avg';
      make = () => new WindowSumState(average);
    } else {
      argument = parseExpression(arg, scope);
      make = () => simpleAccumulatorState(name)!;
    }
    const finish = name === '$addToSet' ? sortedSet : undefined;
    return {
      name,
      bounds,
      create: (p) => new AccumulatorExec(p, new WindowLocator(bounds, p, direction(sort)), make, argument, finish),
    };
  });
}

/** $first / $last: the value at the window's edge (null for an empty window). */
for (const name of ['$first', '$last']) {
  PARSERS.set(name, (spec, _n, sort, scope) => {
    let bounds: WindowBounds | undefined;
    for (const k of Object.keys(spec)) {
      if (k === 'window') bounds = parseWindowBounds(spec[k], sort, scope);
      else if (k !== name) fail('FailedToParse', `${name} got unexpected argument: ${k}`);
    }
    const input = parseExpression(spec[name], scope);
    const b = bounds ?? UNBOUNDED;
    return {
      name,
      bounds: b,
      create(p) {
        const locator = new WindowLocator(b, p, direction(sort));
        return {
          valueAt(i) {
            const [lo, hi] = locator.at(i);
            if (hi < lo) return null;
            // As mongod: an empty window is null, a missing input leaves the field out.
            return p.evaluate(input, name === '$first' ? lo : hi);
          },
        };
      },
    };
  });
}

/** The n-accumulators and $top/$bottom: group accumulators rebuilt per window. */
for (const name of ['$minN', '$maxN', '$firstN', '$lastN', '$top', '$bottom', '$topN', '$bottomN']) {
  PARSERS.set(name, (spec, _n, sort, scope) => {
    let bounds: WindowBounds | undefined;
    let acc: Accumulator | undefined;
    for (const k of Object.keys(spec)) {
      if (k === name) acc = parseAccumulator(name, spec[k], scope);
      else if (k === 'window') bounds = parseWindowBounds(spec[k], sort, scope);
      else fail('FailedToParse', `${name} got unexpected argument: ${k}`);
    }
    const a = acc!;
    const b = bounds ?? UNBOUNDED;
    return {
      name,
      bounds: b,
      create(p) {
        const vars = p.baseVars.slice();
        // 'n' is evaluated once, without a document, as mongod does for window functions.
        a.create(vars);
        return new AccumulatorExec(p, new WindowLocator(b, p, direction(sort)), () => a.create(vars), a.argument);
      },
    };
  });
}

/** $rank / $denseRank / $documentNumber: positions by the single sortBy field. */
for (const name of ['$rank', '$denseRank', '$documentNumber']) {
  PARSERS.set(name, (spec, _n, sort) => {
    if (Object.keys(spec).length !== 1) failLocation(5371601, 'Rank style window functions take no other arguments');
    const arg = spec[name];
    if (!isDocument(arg) || Object.keys(arg).length !== 0) failLocation(5371603, `${name} must be specified with '{}' as the value`);
    if (!sort.spec || sort.spec.length !== 1) {
      failLocation(5371602, `${name} must be specified with a top level sortBy expression with exactly one element`);
    }
    return {
      name,
      bounds: LEFT_UNBOUNDED,
      create(p) {
        let rank = 0;
        let dense = 0;
        // mongod's tie rule: null and missing tie; arrays compare by their sort keys.
        const same = (a: number, b: number): boolean => {
          const x = p.sortValue(a);
          const y = p.sortValue(b);
          if (isNullish(x) && isNullish(y)) return true;
          if (Array.isArray(x) || Array.isArray(y)) return compareValues(p.sortKey(a), p.sortKey(b)) === 0;
          return compareValues(x, y) === 0;
        };
        return {
          valueAt(i) {
            if (i === 0 || !same(i - 1, i)) {
              rank = i + 1;
              dense++;
            }
            return integral(name === '$documentNumber' ? i + 1 : name === '$rank' ? rank : dense);
          },
        };
      },
    };
  });
}

PARSERS.set('$shift', (spec, _n, sort, scope) => {
  let arg: BsonValue;
  let seen = false;
  for (const k of Object.keys(spec)) {
    if (k === 'window') fail('FailedToParse', "$shift does not accept a 'window' field");
    else if (k === '$shift') {
      seen = true;
      arg = spec[k];
      if (!isDocument(arg)) fail('FailedToParse', 'Argument to $shift must be an object');
    } else if (PARSERS.has(k)) fail('FailedToParse', 'Cannot specify multiple functions in window function spec');
    else unknownArgument(k);
  }
  void seen;
  const a = arg as Document;
  let output: Expression | undefined;
  let dflt: BsonValue = null;
  let by: number | undefined;
  for (const k of Object.keys(a)) {
    if (k === 'output') output = parseExpression(a[k], scope);
    else if (k === 'default') {
      const e = parseExpression(a[k], scope);
      if (!e.constant) fail('FailedToParse', "'$shift:default' expression must yield a constant value.");
      dflt = e.constant.value;
    } else if (k === 'by') {
      const v = a[k];
      const n = toSafeNum(v);
      const x = n ? asDouble(n) : NaN;
      if (!n || !Number.isInteger(x) || x < -2147483648 || x > 2147483647) {
        fail('FailedToParse', `'$shift:by' field must be an integer, but found  by: ${String(v)}`);
      }
      by = x;
    } else fail('FailedToParse', 'Unknown argument in $shift');
  }
  if (!output) fail('FailedToParse', "$shift requires an 'output' expression.");
  if (by === undefined) fail('FailedToParse', "$shift requires 'by' as an integer value.");
  if (!sort.spec) fail('FailedToParse', "'$shift' requires a sortBy");
  const out = output;
  const offset = by;
  return {
    name: '$shift',
    bounds: { kind: 'documents', lower: offset, upper: offset },
    create(p) {
      return {
        valueAt(i) {
          const j = i + offset;
          if (j < 0 || j >= p.docs.length) return dflt;
          return p.evaluate(out, j);
        },
      };
    },
  };
});

PARSERS.set('$expMovingAvg', (spec, _n, sort, scope) => {
  const sub = spec.$expMovingAvg;
  if (Object.keys(spec).length !== 1 || !isDocument(sub)) fail('FailedToParse', '$expMovingAvg must have exactly one argument that is an object');
  if (Object.keys(sub).length !== 2 || !('input' in sub)) {
    fail('FailedToParse', "$expMovingAvg sub object must have exactly two fields: An 'input' field, and either an 'N' field or an 'alpha' field");
  }
  if (!sort.spec) fail('FailedToParse', "$expMovingAvg requires an explicit 'sortBy'");
  const input = parseExpression(sub.input, scope);
  let alpha: SafeNum;
  if ('N' in sub) {
    const n = toSafeNum(sub.N);
    if (!n) fail('FailedToParse', `'N' field must be an integer, but found type ${typeNameOf(sub.N)}`);
    const x = asDouble(n);
    if (!Number.isInteger(x)) fail('FailedToParse', `'N' field must be an integer, but found  N: ${x}. To use a non-integer, use the 'alpha' argument instead`);
    if (x <= 0) fail('FailedToParse', `'N' must be greater than zero. Got ${x}`);
    // mongod computes 2 / (N + 1) in Decimal128 and uses it as a double unless the input is decimal.
    alpha = { t: 'decimal', v: divideDec(asDec({ t: 'int', v: 2 }), asDec({ t: 'long', v: BigInt(x) + 1n })) };
  } else if ('alpha' in sub) {
    const n = toSafeNum(sub.alpha);
    if (!n) fail('FailedToParse', "'alpha' must be a number");
    const x = asDouble(n);
    if (!(x > 0 && x < 1)) fail('FailedToParse', `'alpha' must be between 0 and 1 (exclusive), found alpha: ${x}`);
    alpha = { t: 'decimal', v: asDec(n) };
  } else {
    return fail('FailedToParse', "Got unrecognized field in $expMovingAvg$expMovingAvg sub object must have exactly two fields: An 'input' field, and either an 'N' field or an 'alpha' field");
  }
  const alphaDouble = asDouble(alpha);
  const one: SafeNum = { t: 'int', v: 1 };
  return {
    name: '$expMovingAvg',
    bounds: LEFT_UNBOUNDED,
    create(p) {
      let current: SafeNum | undefined;
      let output: BsonValue = null;
      return {
        valueAt(i) {
          const raw = p.evaluate(input, i);
          const x = toSafeNum(raw);
          if (!x) return output;
          if (current === undefined) {
            // The first numeric input is the average as it is (an int stays an int).
            current = x;
            output = raw;
            return output;
          }
          if (x.t === 'decimal') {
            current = addNumbers(multiplyNumbers(x, alpha), multiplyNumbers(current, subtractNumbers(one, alpha)));
          } else {
            current = { t: 'double', v: asDouble(x) * alphaDouble + asDouble(current) * (1 - alphaDouble) };
          }
          output = fromSafeNum(current);
          return output;
        },
      };
    },
  };
});

function parseWithUnit(spec: Document, name: string, sort: WindowSort, scope: Scope): { input: Expression; unit: DateUnit | undefined; bounds: WindowBounds | undefined } {
  if (!sort.spec) fail('FailedToParse', `${name} requires a sortBy`);
  if (sort.spec.length !== 1) fail('FailedToParse', `${name} requires a non-compound sortBy`);
  let bounds: WindowBounds | undefined;
  for (const k of Object.keys(spec)) {
    if (k === 'window') {
      if (bounds && name === '$integral') fail('FailedToParse', "There can be only one 'window' field for $integral");
      bounds = parseWindowBounds(spec[k], sort, scope);
    } else if (k !== name) fail('FailedToParse', `${name} got unexpected argument: ${k}`);
  }
  const args = spec[name];
  if (!isDocument(args)) fail('FailedToParse', `${name} expects an object, but got a ${typeNameOf(args)}: ${name}: ${JSON.stringify(args)}`);
  let input: Expression | undefined;
  let unit: DateUnit | undefined;
  for (const k of Object.keys(args)) {
    if (k === 'input') input = parseExpression(args[k], scope);
    else if (k === 'unit') {
      const u = args[k];
      if (typeof u !== 'string') fail('FailedToParse', `unit' must be a string, but got ${typeNameOf(u)}`);
      unit = parseTimeUnit(u);
      if (unit === 'year' || unit === 'quarter' || unit === 'month') failLocation(5490710, "unit must be 'week' or smaller");
    } else fail('FailedToParse', `${name} got unexpected argument: ${k}`);
  }
  if (!input) fail('FailedToParse', `${name} requires an 'input' expression`);
  return { input, unit, bounds };
}

/** A sortBy value as milliseconds (dates) or a number, for $derivative and $integral. */
function timeOf(v: BsonValue): number {
  return v instanceof Date ? v.getTime() : asDouble(toSafeNum(v)!);
}

/** mongod's type checks of $derivative's endpoints, in its order. */
function checkDerivativeTime(v: BsonValue, unit: DateUnit | undefined): void {
  if (unit) {
    if (!(v instanceof Date)) failLocation(5624900, "$derivative with 'unit' expects the sortBy field to be a Date");
    return;
  }
  if (v instanceof Date) failLocation(5624901, "$derivative where the sortBy is a Date requires an 'unit'");
  if (!toSafeNum(v)) failLocation(5624902, "$derivative (with no 'unit') expects the sortBy field to be numeric");
}

/** mongod's type checks of one $integral point ([sortBy value, input]), in its order. */
function checkIntegralPoint(x: BsonValue, y: BsonValue, unit: DateUnit | undefined): void {
  if (!toSafeNum(y) || !(toSafeNum(x) || x instanceof Date)) {
    failLocation(5423900, 'The input value of $integral window function must be a vector of 2 value, the first value must be numeric or date type and the second must be numeric.');
  }
  if (unit) {
    if (!(x instanceof Date)) failLocation(5423901, "$integral with 'outputUnit' expects the sortBy field to be a Date");
  } else if (!toSafeNum(x)) failLocation(5423902, "$integral (with no 'outputUnit') expects the sortBy field to be numeric");
}

PARSERS.set('$derivative', (spec, name, sort, scope) => {
  const { input, unit, bounds } = parseWithUnit(spec, name, sort, scope);
  if (!bounds) fail('FailedToParse', '$derivative requires explicit window bounds');
  return {
    name,
    bounds,
    create(p) {
      const locator = new WindowLocator(bounds, p, direction(sort));
      const column = new Column(p, input);
      return {
        valueAt(i) {
          const [lo, hi] = locator.at(i);
          if (hi < lo) return null;
          const left = p.sortValue(lo);
          const right = p.sortValue(hi);
          checkDerivativeTime(left, unit);
          checkDerivativeTime(right, unit);
          const y1 = column.at(lo);
          const y2 = column.at(hi);
          if (isNullish(y1) || isNullish(y2)) failLocation(5624903, '$derivative input must not be null or missing');
          const a = toSafeNum(y1);
          const b = toSafeNum(y2);
          if (!a || !b) failLocation(16556, `cant $subtract a ${typeNameOf(y1)} from a ${typeNameOf(y2)}`);
          const run = timeOf(right) - timeOf(left);
          // A one-document window divides by zero: mongod answers null rather than failing.
          if (run === 0) return null;
          const rise = subtractNumbers(b, a);
          if (rise.t === 'decimal') {
            const perMs = divideDec(rise.v, asDec({ t: 'double', v: run }));
            return decimalOf(unit ? asDec(multiplyNumbers({ t: 'decimal', v: perMs }, { t: 'int', v: UNIT_MS[unit]! })) : perMs);
          }
          const perMs = asDouble(rise) / run;
          return fromSafeNum({ t: 'double', v: unit ? perMs * UNIT_MS[unit]! : perMs });
        },
      };
    },
  };
});

PARSERS.set('$integral', (spec, name, sort, scope) => {
  const { input, unit, bounds } = parseWithUnit(spec, name, sort, scope);
  const b = bounds ?? UNBOUNDED;
  return {
    name,
    bounds: b,
    create(p) {
      const locator = new WindowLocator(b, p, direction(sort));
      const column = new Column(p, input);
      const checked: boolean[] = [];
      let checkedHi = -1;
      const check = (j: number): void => {
        if (checked[j]) return;
        checkIntegralPoint(p.sortValue(j), column.at(j), unit);
        checked[j] = true;
      };
      // Trapezoid areas between consecutive documents, as prefix sums: the window's integral is
      // a difference of two of them.
      const prefix: number[] = [0];
      const areaUpTo = (k: number): number => {
        while (prefix.length <= k) {
          const j = prefix.length;
          check(j - 1);
          check(j);
          const dx = timeOf(p.sortValue(j)) - timeOf(p.sortValue(j - 1));
          const sumY = asDouble(toSafeNum(column.at(j - 1))!) + asDouble(toSafeNum(column.at(j))!);
          prefix.push(prefix[j - 1]! + (sumY * dx) / 2);
        }
        return prefix[k]!;
      };
      return {
        valueAt(i) {
          const [lo, hi] = locator.at(i);
          // Every point of the window is type-checked, as mongod adds each to its state.
          for (let j = Math.max(lo, checkedHi + 1); j <= hi; j++) check(j);
          checkedHi = Math.max(checkedHi, hi);
          if (hi - lo < 1) return fromSafeNum({ t: 'int', v: 0 });
          const area = areaUpTo(hi) - areaUpTo(lo);
          return fromSafeNum({ t: 'double', v: unit ? area / UNIT_MS[unit]! : area });
        },
      };
    },
  };
});

function parseInputOnly(spec: Document, name: string, scope: Scope): Expression {
  for (const k of Object.keys(spec)) {
    if (k === 'window') fail('FailedToParse', `'window' field is not allowed in ${name}`);
    if (k !== name) {
      if (PARSERS.has(k)) fail('FailedToParse', 'Cannot specify two functions in window function spec');
      unknownArgument(k);
    }
  }
  return parseExpression(spec[name], scope);
}

PARSERS.set('$locf', (spec, name, _sort, scope) => {
  const input = parseInputOnly(spec, name, scope);
  return {
    name,
    bounds: LEFT_UNBOUNDED,
    create(p) {
      let last: BsonValue = null;
      return {
        valueAt(i) {
          const v = p.evaluate(input, i);
          if (!isNullish(v)) last = v;
          return last;
        },
      };
    },
  };
});

PARSERS.set('$linearFill', (spec, name, sort, scope) => {
  const input = parseInputOnly(spec, name, scope);
  if (!sort.spec || sort.spec.length !== 1) {
    failLocation(605001, `${name} must be specified with a top level sortBy expression with exactly one element`);
  }
  return {
    name,
    bounds: UNBOUNDED,
    create(p) {
      let filled: BsonValue[] | undefined;
      const compute = (): BsonValue[] => {
        const n = p.docs.length;
        const ys: BsonValue[] = [];
        const xs: number[] = [];
        let previous: BsonValue;
        for (let i = 0; i < n; i++) {
          const x = p.sortValue(i);
          const xn = toSafeNum(x);
          if (!xn && !(x instanceof Date)) fail('TypeMismatch', `Value of the sortBy field must be numeric or a date, but found ${typeNameOf(x)}`);
          if (i > 0 && compareValues(x, previous) === 0) failLocation(6050106, 'There can be no repeated values in the sort field in the same partition');
          if (i > 0 && (previous instanceof Date) !== (x instanceof Date)) {
            fail('TypeMismatch', `Conflicting sort value types, previously received type ${typeNameOf(previous)}, but found ${typeNameOf(x)}`);
          }
          previous = x;
          xs.push(x instanceof Date ? x.getTime() : asDouble(xn!));
          const y = p.evaluate(input, i);
          if (!isNullish(y) && !toSafeNum(y)) fail('TypeMismatch', `Value to be filled must be numeric or nullish, but found ${typeNameOf(y)}`);
          ys.push(y);
        }
        const out: BsonValue[] = new Array(n);
        let left = -1;
        for (let i = 0; i < n; i++) {
          if (!isNullish(ys[i])) {
            out[i] = ys[i];
            left = i;
            continue;
          }
          let right = i + 1;
          while (right < n && isNullish(ys[right])) right++;
          if (left < 0 || right >= n) {
            out[i] = null;
            continue;
          }
          const y1 = toSafeNum(ys[left])!;
          const y2 = toSafeNum(ys[right])!;
          const x1 = xs[left]!;
          const x2 = xs[right]!;
          const v = asDouble(y1) + ((xs[i]! - x1) * (asDouble(y2) - asDouble(y1))) / (x2 - x1);
          out[i] = y1.t === 'decimal' || y2.t === 'decimal' ? decimalOf(asDec({ t: 'double', v })) : fromSafeNum({ t: 'double', v });
        }
        return out;
      };
      return {
        valueAt(i) {
          filled ??= compute();
          return filled[i];
        },
      };
    },
  };
});

/** Parses one output field's window function (`{$fn: ..., window: ...}`). */
export function parseWindowFunction(field: string, spec: BsonValue, sort: WindowSort, scope: Scope): WindowFunction {
  if (!isDocument(spec)) fail('FailedToParse', `The field '${field}' must be an object`);
  const keys = Object.keys(spec);
  for (const k of keys) {
    if (!k.startsWith('$')) continue;
    const parser = PARSERS.get(k);
    if (!parser) fail('FailedToParse', `Unrecognized window function, ${k}`);
    return parser(spec, k, sort, scope);
  }
  return fail('FailedToParse', `Expected a $-prefixed window function${keys[0] ? `, ${keys[0]}` : ''}`);
}


/** Binds a document for evaluation. */
export function bindDocument(vars: Variables, doc: Document): Variables {
  vars[ROOT_SLOT] = doc;
  vars[CURRENT_SLOT] = doc;
  return vars;
}
