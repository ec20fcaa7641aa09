/**
 * $setWindowFields, $fill and $densify. All three are blocking: they read their whole input
 * (passing PAUSE markers on while they do), order it by partition and sort key, and then emit
 * document by document, ticking the run context so a long partition still yields.
 *
 * $fill is desugared as mongod does it: a $setWindowFields for `method` outputs ($locf,
 * $linearFill) followed by an $addFields of `{$ifNull: ["$field", value]}` for `value` outputs.
 */
import { fail, failLocation } from '../../base/index.js';
import { compareValues, isDocument, typeNameOf, type BsonValue, type Document } from '../../bson/index.js';
import { parseSort, sortKeyOf, compareSortKeys, type SortSpec } from '../sort.js';
import { approximateSize } from './accumulators.js';
import { parseExpression, parseFieldPath, type Expression, type Scope, type Variables } from './expression.js';
import { dateAdd, UTC_ZONE, type DateUnit } from './ops-date.js';
import { PAUSE, registerStage, stageDefinition, type Flow, type PipelineParseContext, type RunContext, type Stage } from './pipeline.js';
import { applyProjection, parseProjectionStage } from './projection.js';
import { addNumbers, asDouble, fromSafeNum, setField, toSafeNum, type SafeNum } from './values.js';
import { bindDocument, parseTimeUnit, parseWindowFunction, type Partition, type WindowFunction } from './window.js';

function idlUnknown(stage: string, field: string): never {
  return failLocation(40415, `BSON field '${stage}.${field}' is an unknown field.`);
}

function idlMissing(stage: string, field: string): never {
  return failLocation(40414, `BSON field '${stage}.${field}' is missing but a required field`);
}

function idlType(stage: string, field: string, v: BsonValue, expected: string): never {
  return fail('TypeMismatch', `BSON field '${stage}.${field}' is the wrong type '${typeNameOf(v)}', expected type '${expected}'`);
}

const SORT_SLICE = 4096;

/**
 * A stable merge sort that pauses between slices of work, so sorting a large input does not hold
 * the thread: runs of SORT_SLICE are sorted, then merged pairwise, a PAUSE after every slice.
 */
function* sortYielding<T>(items: T[], compare: (a: T, b: T) => number): Generator<typeof PAUSE, T[], undefined> {
  const n = items.length;
  let a = items.slice();
  for (let i = 0; i < n; i += SORT_SLICE) {
    const run = a.slice(i, i + SORT_SLICE).sort(compare);
    for (let j = 0; j < run.length; j++) a[i + j] = run[j]!;
    if (n > SORT_SLICE) yield PAUSE;
  }
  let b: T[] = new Array<T>(n);
  for (let width = SORT_SLICE; width < n; width *= 2) {
    let work = 0;
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(lo + width, n);
      const hi = Math.min(lo + 2 * width, n);
      let i = lo;
      let j = mid;
      let k = lo;
      while (i < mid && j < hi) b[k++] = compare(a[j]!, a[i]!) < 0 ? a[j++]! : a[i++]!;
      while (i < mid) b[k++] = a[i++]!;
      while (j < hi) b[k++] = a[j++]!;
      work += hi - lo;
      if (work >= SORT_SLICE) {
        work = 0;
        yield PAUSE;
      }
    }
    [a, b] = [b, a];
  }
  return a;
}

/** Reads a whole flow into an array, passing PAUSE markers on. */
function* drain(input: Flow, into: Document[]): Generator<typeof PAUSE, void, undefined> {
  for (const d of input) {
    if (d === PAUSE) yield PAUSE;
    else into.push(d);
  }
}

// ---- $setWindowFields ----------------------------------------------------------------------------

interface OutputField {
  readonly path: string;
  readonly fn: WindowFunction;
  readonly slot: number;
}

interface SetWindowFieldsSpec {
  readonly partitionBy: Expression | undefined;
  readonly sortBy: SortSpec | undefined;
  /** The first sortBy field as an expression: what ranks, ranges and fills read. */
  readonly sortValue: Expression | undefined;
  readonly outputs: readonly OutputField[];
  readonly apply: ReturnType<typeof parseProjectionStage>;
}

function parseSetWindowFields(spec: BsonValue, scope: Scope): SetWindowFieldsSpec {
  const stage = '$setWindowFields';
  if (!isDocument(spec)) fail('FailedToParse', `the ${stage} stage specification must be an object, found ${typeNameOf(spec)}`);
  for (const k of Object.keys(spec)) if (k !== 'partitionBy' && k !== 'sortBy' && k !== 'output') idlUnknown(stage, k);
  if (spec.sortBy !== undefined && !isDocument(spec.sortBy)) idlType(stage, 'sortBy', spec.sortBy, 'object');
  if (spec.output === undefined) idlMissing(stage, 'output');
  if (!isDocument(spec.output)) idlType(stage, 'output', spec.output, 'object');
  const partitionBy = spec.partitionBy === undefined ? undefined : parseExpression(spec.partitionBy, scope);
  if (partitionBy?.constant && Array.isArray(partitionBy.constant.value)) {
    fail('TypeMismatch', 'An expression used to partition cannot evaluate to value of type array');
  }
  let sortBy: SortSpec | undefined;
  if (spec.sortBy !== undefined) {
    sortBy = parseSort(spec.sortBy as Document);
    if (sortBy.length === 0) failLocation(15976, '$sort stage must have at least one sort key');
  }
  const sortValue = sortBy?.[0] ? parseExpression(`$${sortBy[0].path}`, scope) : undefined;
  const outputs: OutputField[] = [];
  const projection: Document = {};
  const seen: string[][] = [];
  for (const path of Object.keys(spec.output)) {
    const parts = parseFieldPath(path);
    for (const other of seen) {
      const n = Math.min(other.length, parts.length);
      if (other.slice(0, n).join('.') === parts.slice(0, n).join('.')) {
        failLocation(6307900, "$setWindowFields 'output' specification contains two conflicting paths");
      }
    }
    seen.push(parts);
    const fn = parseWindowFunction(path, spec.output[path], { spec: sortBy }, scope);
    // Each output's value reaches the $addFields that writes it through a slot of its own.
    const name = `__setWindowFields_${outputs.length}`;
    const slot = scope.define(name);
    setField(projection, path, `$$${name}`);
    outputs.push({ path, fn, slot });
  }
  const apply = parseProjectionStage(projection, scope, 'addFields');
  return { partitionBy, sortBy, sortValue, outputs, apply };
}

function* setWindowFieldsFlow(input: Flow, s: SetWindowFieldsSpec, ctx: RunContext): Flow {
  const docs: Document[] = [];
  yield* drain(input, docs);
  const vars = ctx.baseVars.slice();
  const n = docs.length;
  const keys: BsonValue[] = new Array(n);
  const sortKeys: BsonValue[][] = new Array(n);
  for (let i = 0; i < n; i++) {
    const d = docs[i]!;
    if (s.partitionBy) {
      const k = s.partitionBy.evaluate(bindDocument(vars, d));
      if (Array.isArray(k)) fail('TypeMismatch', 'An expression used to partition cannot evaluate to value of type array');
      // A missing partition key is the null partition, as in mongod.
      keys[i] = k === undefined ? null : k;
    } else keys[i] = null;
    sortKeys[i] = s.sortBy ? sortKeyOf(s.sortBy, d) : [];
    if (ctx.tick()) yield PAUSE;
  }
  let order = Array.from({ length: n }, (_, i) => i);
  if (s.partitionBy || s.sortBy) {
    order = yield* sortYielding(order, (a, b) => compareValues(keys[a], keys[b]) || (s.sortBy ? compareSortKeys(s.sortBy, sortKeys[a]!, sortKeys[b]!) : 0));
  }
  let start = 0;
  while (start < n) {
    let end = start + 1;
    while (end < n && compareValues(keys[order[start]!], keys[order[end]!]) === 0) end++;
    const first = start;
    const partDocs = order.slice(start, end).map((i) => docs[i]!);
    checkWindowMemory(partDocs, ctx);
    const evalVars = ctx.baseVars.slice();
    const sortValues: BsonValue[] = [];
    const partition: Partition = {
      docs: partDocs,
      baseVars: ctx.baseVars,
      evaluate: (expr, i) => expr.evaluate(bindDocument(evalVars, partDocs[i]!)),
      sortKey: (i) => sortKeys[order[first + i]!]![0],
      sortValue(i) {
        if (!s.sortValue) return undefined;
        if (!(i in sortValues)) sortValues[i] = s.sortValue.evaluate(bindDocument(evalVars, partDocs[i]!));
        return sortValues[i];
      },
    };
    const execs = s.outputs.map((o) => o.fn.create(partition));
    const outVars: Variables = ctx.baseVars.slice();
    for (let i = 0; i < partDocs.length; i++) {
      s.outputs.forEach((o, j) => (outVars[o.slot] = execs[j]!.valueAt(i)));
      const d = partDocs[i]!;
      yield applyProjection(s.apply, d, bindDocument(outVars, d));
      if (ctx.tick()) yield PAUSE;
    }
    start = end;
  }
}

/**
 * mongod counts the partition it holds against internalDocumentSourceSetWindowFieldsMaxMemoryBytes
 * and spills with allowDiskUse; Dossier cannot spill, so allowDiskUse lifts the limit instead.
 */
function checkWindowMemory(partition: readonly Document[], ctx: RunContext): void {
  const limit = ctx.limits.windowMemoryBytes;
  if (limit === undefined || ctx.limits.allowDiskUse) return;
  let used = 0;
  for (const d of partition) {
    used += approximateSize(d);
    if (used > limit) break;
  }
  if (used > limit) failLocation(5414201, `Exceeded memory limit in DocumentSourceSetWindowFields, used ${used} bytes but max allowed is ${limit}`);
}

function setWindowFieldsStage(spec: Document, parsed: SetWindowFieldsSpec, name = '$setWindowFields'): Stage {
  return {
    name,
    spec,
    run: (input, ctx) => setWindowFieldsFlow(input, parsed, ctx),
  };
}

registerStage({
  name: '$setWindowFields',
  parse(spec, ctx) {
    const parsed = parseSetWindowFields(spec, ctx.scope);
    return setWindowFieldsStage({ $setWindowFields: spec }, parsed);
  },
});

// ---- $fill -----------------------------------------------------------------------------------------

registerStage({
  name: '$fill',
  parse(spec, ctx: PipelineParseContext) {
    const stage = '$fill';
    if (!isDocument(spec)) fail('FailedToParse', `The ${stage} stage specification must be an object, found ${typeNameOf(spec)}`);
    for (const k of Object.keys(spec)) if (!['partitionBy', 'partitionByFields', 'sortBy', 'output'].includes(k)) idlUnknown(stage, k);
    const { partitionBy, partitionByFields, sortBy, output } = spec;
    if (sortBy !== undefined && !isDocument(sortBy)) idlType(stage, 'sortBy', sortBy, 'object');
    if (partitionBy !== undefined && typeof partitionBy !== 'string' && !isDocument(partitionBy)) {
      fail('TypeMismatch', `BSON field '${stage}.partitionBy' is the wrong type '${typeNameOf(partitionBy)}', expected types '[string, object]'`);
    }
    if (partitionByFields !== undefined) {
      if (!Array.isArray(partitionByFields)) idlType(stage, 'partitionByFields', partitionByFields, 'array');
      partitionByFields.forEach((f, i) => {
        if (typeof f !== 'string') idlType(stage, `partitionByFields.${i}`, f, 'string');
      });
    }
    if (output === undefined) idlMissing(stage, 'output');
    if (!isDocument(output)) idlType(stage, 'output', output, 'object');
    const fields = Object.keys(output);
    if (fields.length === 0) failLocation(6050203, "The output field in '$fill' must contain an object with at least one element");
    const windowOutput: Document = {};
    const addFields: Document = {};
    for (const field of fields) {
      const f = output[field];
      if (!isDocument(f)) failLocation(6050200, 'Each fill output specification must be an object with exactly one field');
      for (const k of Object.keys(f)) if (k !== 'method' && k !== 'value') idlUnknown(stage, k);
      if (f.method !== undefined) {
        if (typeof f.method !== 'string') idlType(stage, 'method', f.method, 'string');
        if (f.value !== undefined) failLocation(6050201, "Each fill output specification must have exactly one of 'method' or 'value' fields, not both");
        if (f.method !== 'locf' && f.method !== 'linear') failLocation(6050202, 'Method must be either locf or linear');
        setField(windowOutput, field, { [f.method === 'linear' ? '$linearFill' : '$locf']: `$${field}` });
      }
      if (f.value !== undefined) setField(addFields, field, { $ifNull: [`$${field}`, f.value] });
    }
    const stages: Stage[] = [];
    if (Object.keys(windowOutput).length > 0) {
      const swf: Document = {};
      if (sortBy !== undefined) swf.sortBy = sortBy;
      if (partitionBy !== undefined) {
        if (partitionByFields !== undefined) failLocation(6050204, "Maximum one of 'partitionBy' and 'partitionByFields can be specified in '$fill'");
        swf.partitionBy = partitionBy;
      }
      if (partitionByFields !== undefined) {
        const key: Document = {};
        for (const f of partitionByFields as string[]) setField(key, f, `$${f}`);
        swf.partitionBy = key;
      }
      swf.output = windowOutput;
      stages.push(setWindowFieldsStage({ $setWindowFields: swf }, parseSetWindowFields(swf, ctx.scope)));
    }
    if (Object.keys(addFields).length > 0) {
      const def = stageDefinition('$addFields')!;
      const parsed = def.parse(addFields, ctx);
      stages.push(...(Array.isArray(parsed) ? parsed : [parsed]));
    }
    return stages;
  },
});

// ---- $densify --------------------------------------------------------------------------------------

type DensifyBounds = { kind: 'full' } | { kind: 'partition' } | { kind: 'explicit'; lower: BsonValue; upper: BsonValue };

interface DensifySpec {
  readonly field: string;
  readonly parts: readonly string[];
  readonly partitions: readonly string[];
  readonly step: BsonValue;
  readonly unit: DateUnit | undefined;
  readonly bounds: DensifyBounds;
}

function parseDensify(spec: BsonValue): DensifySpec {
  const stage = '$densify';
  if (!isDocument(spec)) fail('FailedToParse', `The ${stage} stage specification must be an object, found ${typeNameOf(spec)}`);
  for (const k of Object.keys(spec)) if (!['field', 'partitionByFields', 'range'].includes(k)) idlUnknown(stage, k);
  const { field, partitionByFields, range } = spec;
  if (field === undefined) idlMissing(stage, 'field');
  if (typeof field !== 'string') idlType(stage, 'field', field, 'string');
  if (partitionByFields !== undefined) {
    if (!Array.isArray(partitionByFields)) idlType(stage, 'partitionByFields', partitionByFields, 'array');
    partitionByFields.forEach((f, i) => {
      if (typeof f !== 'string') idlType(stage, `partitionByFields.${i}`, f, 'string');
    });
  }
  if (range === undefined) idlMissing(stage, 'range');
  if (!isDocument(range)) idlType(stage, 'range', range, 'object');
  for (const k of Object.keys(range)) if (!['step', 'unit', 'bounds'].includes(k)) idlUnknown(`${stage}.range`, k);
  if (range.step === undefined) idlMissing(`${stage}.range`, 'step');
  if (range.bounds === undefined) idlMissing(`${stage}.range`, 'bounds');
  if (range.unit !== undefined && typeof range.unit !== 'string') idlType(`${stage}.range`, 'unit', range.unit, 'string');
  const step = range.step;
  const stepNum = toSafeNum(step);
  if (!stepNum || !(asDouble(stepNum) > 0)) failLocation(5733401, 'The step parameter in a range statement must be a strictly positive numeric value');
  let unit: DateUnit | undefined;
  if (range.unit !== undefined) {
    if (!Number.isInteger(asDouble(stepNum))) failLocation(6586400, 'The step parameter in a range statement must be a whole number when densifying a date range');
    unit = parseTimeUnit(range.unit as string);
  }
  let bounds: DensifyBounds;
  const b = range.bounds;
  if (Array.isArray(b)) {
    if (b.length !== 2) failLocation(5733403, 'A bounding array in a range statement must have exactly two elements');
    const [lo, hi] = b;
    if (compareValues(lo, hi) > 0) failLocation(5733402, 'A bounding array must be an ascending array of either two dates or two numbers');
    if (toSafeNum(lo)) {
      if (unit) failLocation(5733409, 'Numeric bounds may not have unit parameter');
      if (!toSafeNum(hi)) failLocation(5733406, 'A bounding array must contain either both dates or both numeric types');
      if (typeNameOf(lo) !== typeNameOf(hi) || typeNameOf(lo) !== typeNameOf(step)) {
        failLocation(5876900, 'Upper bound, lower bound, and step must all have the same type');
      }
    } else if (lo instanceof Date) {
      if (!(hi instanceof Date)) failLocation(5733405, 'A bounding array must contain either both dates or both numeric types');
      if (!unit) failLocation(5733410, 'A bounding array of dates must specify a unit');
    } else failLocation(5946800, 'Explicit bounds must be numeric or dates');
    bounds = { kind: 'explicit', lower: lo, upper: hi };
  } else if (typeof b === 'string') {
    if (b === 'full') bounds = { kind: 'full' };
    else if (b === 'partition') bounds = { kind: 'partition' };
    else failLocation(5946802, "Bounds string must either be 'full' or 'partition'");
  } else {
    failLocation(5733404, "The bounds in a range statement must be the string 'full', 'partition', or an ascending array of two numbers or two dates");
  }
  const partitions = (partitionByFields as string[] | undefined) ?? [];
  for (const p of partitions) parseFieldPath(p);
  const parts = parseFieldPath(field);
  if (bounds.kind === 'partition' && partitions.length === 0) {
    failLocation(5733408, "One cannot specify the bounds as 'partition' without specifying a non-empty array of partitionByFields. You may have meant to specify 'full' bounds.");
  }
  return { field, parts, partitions, step, unit, bounds };
}

/** Reads a dotted path the way mongod's Document::getNestedField does (no array traversal). */
function nested(doc: Document, parts: readonly string[]): BsonValue {
  let v: BsonValue = doc;
  for (const p of parts) {
    if (!isDocument(v) || Array.isArray(v)) return undefined;
    v = Object.prototype.hasOwnProperty.call(v, p) ? (v as Document)[p] : undefined;
  }
  return v;
}

function setNested(doc: Document, parts: readonly string[], value: BsonValue): void {
  let d = doc;
  for (let i = 0; i < parts.length - 1; i++) {
    const p = parts[i]!;
    let next = Object.prototype.hasOwnProperty.call(d, p) ? d[p] : undefined;
    if (Array.isArray(next)) failLocation(5733307, '$densify cannot generate fields nested inside arrays');
    if (!isDocument(next)) {
      if (next !== undefined) failLocation(5733308, '$densify cannot overwrite non-object values with objects');
      next = {};
      Object.defineProperty(d, p, { value: next, writable: true, enumerable: true, configurable: true });
    }
    d = next as Document;
  }
  Object.defineProperty(d, parts[parts.length - 1]!, { value, writable: true, enumerable: true, configurable: true });
}

/** A densify value: numbers keep their BSON type through $add, dates move by the unit. */
type DValue = { num: SafeNum } | { date: number };

function dvalueOf(v: BsonValue, unit: DateUnit | undefined): DValue {
  if (v instanceof Date) {
    if (!unit) failLocation(6053601, 'Encountered date densify value in collection when step does not have a date unit.');
    return { date: v.getTime() };
  }
  const n = toSafeNum(v);
  if (!n) failLocation(5733201, 'Densify field type must be numeric or a date');
  if (unit) failLocation(6053600, 'Encountered numeric densify value in collection when step has a date unit.');
  return { num: n };
}

function compareD(a: DValue, b: DValue): number {
  if ('date' in a && 'date' in b) return a.date - b.date;
  if ('num' in a && 'num' in b) return compareValues(fromSafeNum(a.num), fromSafeNum(b.num));
  return 'date' in a ? 1 : -1;
}

function bsonOfD(v: DValue): BsonValue {
  return 'date' in v ? new Date(v.date) : fromSafeNum(v.num);
}

/** mongod's internalQueryMaxAllowedDensifyDocs default: how many documents one $densify may add. */
const DENSIFY_DOCS_MAX = 500_000;

function* densifyFlow(input: Flow, s: DensifySpec, ctx: RunContext): Flow {
  const docs: Document[] = [];
  yield* drain(input, docs);
  const step = toSafeNum(s.step)!;
  const stepCount = asDouble(step);
  const increment = (v: DValue): DValue =>
    'date' in v ? { date: dateAdd(v.date, s.unit!, stepCount, UTC_ZONE) } : { num: addNumbers(v.num, step) };
  const partitionKeyOf = (d: Document): BsonValue[] => s.partitions.map((p) => nested(d, p.split('.')) ?? null);

  // Documents without a value pass through first, as the $sort mongod puts in front sorts them first.
  let withValue: Array<{ doc: Document; value: DValue; key: BsonValue[] }> = [];
  for (const d of docs) {
    const v = nested(d, s.parts);
    if (v === undefined || v === null) {
      yield d;
      continue;
    }
    withValue.push({ doc: d, value: dvalueOf(v, s.unit), key: partitionKeyOf(d) });
    if (ctx.tick()) yield PAUSE;
  }
  withValue = yield* sortYielding(withValue, (a, b) => {
    for (let i = 0; i < a.key.length; i++) {
      const c = compareValues(a.key[i], b.key[i]);
      if (c !== 0) return c;
    }
    return compareD(a.value, b.value);
  });

  let globalMin: DValue | undefined;
  let globalMax: DValue | undefined;
  for (const w of withValue) {
    if (!globalMin || compareD(w.value, globalMin) < 0) globalMin = w.value;
    if (!globalMax || compareD(w.value, globalMax) > 0) globalMax = w.value;
  }
  let generatedCount = 0;
  const generated = (key: BsonValue[], value: DValue): Document => {
    if (++generatedCount > DENSIFY_DOCS_MAX) {
      failLocation(5897900, `Generated ${generatedCount - 1} documents in $densify, which is over the limit of ${DENSIFY_DOCS_MAX}. Increase the 'internalQueryMaxAllowedDensifyDocs' parameter to allow more generated documents`);
    }
    const out: Document = {};
    s.partitions.forEach((p, i) => {
      if (key[i] !== undefined) setNested(out, p.split('.'), key[i]);
    });
    setNested(out, s.parts, bsonOfD(value));
    return out;
  };

  // Each partition walks the grid lower, lower+step, ... below the upper bound, emitting the
  // grid points no document holds; documents off the grid pass through without moving it.
  function* fillPartition(items: typeof withValue, key: BsonValue[], lower: DValue, upper: DValue, includeUpper: boolean): Flow {
    let g: DValue | undefined = lower;
    const below = (v: DValue): boolean => compareD(v, upper) < 0 || (includeUpper && compareD(v, upper) === 0);
    for (const it of items) {
      while (g && compareD(g, it.value) < 0 && below(g)) {
        yield generated(key, g);
        if (ctx.tick()) yield PAUSE;
        g = increment(g);
      }
      if (g && compareD(g, it.value) === 0) g = increment(g);
      yield it.doc;
      if (ctx.tick()) yield PAUSE;
    }
    while (g && below(g)) {
      yield generated(key, g);
      if (ctx.tick()) yield PAUSE;
      g = increment(g);
    }
  }

  const explicit = s.bounds.kind === 'explicit' ? s.bounds : undefined;
  const explicitLower = explicit ? dvalueOf(explicit.lower, s.unit) : undefined;
  const explicitUpper = explicit ? dvalueOf(explicit.upper, s.unit) : undefined;
  if (withValue.length === 0) {
    // Without documents there are no partitions; an explicit range over no partitions is still filled.
    if (explicitLower && explicitUpper && s.partitions.length === 0) yield* fillPartition([], [], explicitLower, explicitUpper, false);
    return;
  }
  let start = 0;
  while (start < withValue.length) {
    let end = start + 1;
    const key = withValue[start]!.key;
    while (end < withValue.length && withValue[end]!.key.every((v, i) => compareValues(v, key[i]) === 0)) end++;
    const items = withValue.slice(start, end);
    const partitionKey = s.partitions.map((p) => nested(items[0]!.doc, p.split('.')));
    if (explicitLower && explicitUpper) yield* fillPartition(items, partitionKey, explicitLower, explicitUpper, false);
    else if (s.bounds.kind === 'partition') yield* fillPartition(items, partitionKey, items[0]!.value, items[items.length - 1]!.value, false);
    // "full" reaches the global maximum itself when it is on the grid (partitions that lack it get it).
    else yield* fillPartition(items, partitionKey, globalMin!, globalMax!, true);
    start = end;
  }
}

registerStage({
  name: '$densify',
  parse(spec) {
    const parsed = parseDensify(spec);
    return {
      name: '$densify',
      spec: { $densify: spec },
      run: (input, ctx) => densifyFlow(input, parsed, ctx),
    };
  },
});
