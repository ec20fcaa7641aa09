/**
 * The document-transforming stages: $match $project $addFields $set $unset $replaceRoot
 * $replaceWith $group $sort $limit $skip $count $unwind $sortByCount $sample $bucket $bucketAuto
 * $redact. Every stage passes PAUSE markers through (see pipeline.ts); blocking stages ($group,
 * $sort, $bucketAuto, $sample) do so while they consume, so the runner can yield mid-stage.
 */
import { fail, failLocation } from '../../base/index.js';
import { compareValues, isDocument, orderedKeys, typeNameOf, type BsonValue, type Collator, type Document } from '../../bson/index.js';
import { CollationCanonicalizer } from '../../storage/index.js';
import { formatValue, parseFilter, matches } from '../filter/index.js';
import { compareForSort, parseSort, type SortSpec } from '../sort.js';
import { parseAccumulator, approximateSize, type Accumulator, type AccumulatorState } from './accumulators.js';
import {
  constantExpression, expression, parseExpression, parseFieldPath, CURRENT_SLOT, ROOT_SLOT, type Expression, type Scope, type Variables,
} from './expression.js';
import { valueKey } from './keys.js';
import { PAUSE, registerStage, type Flow, type PipelineParseContext, type RunContext, type Stage } from './pipeline.js';
import { applyProjection, parseProjectionStage, parseUnset, type ParsedProjection } from './projection.js';
import { asDouble, fromSafeNum, integral, isNullish, setField, toBool, toSafeNum } from './values.js';

/** Prefixes parse errors the way mongod's projection stages do ("Invalid $project :: caused by :: ..."). */
function withContext<T>(stageName: string, parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    if (e instanceof Error && 'code' in e && !e.message.startsWith('Invalid ')) {
      e.message = `Invalid ${stageName} :: caused by :: ${e.message}`;
    }
    throw e;
  }
}

function varsFor(ctx: RunContext): Variables {
  return ctx.baseVars.slice();
}

function bind(vars: Variables, doc: Document): Variables {
  vars[ROOT_SLOT] = doc;
  vars[CURRENT_SLOT] = doc;
  return vars;
}

/** A streaming stage from a per-document function (undefined drops the document). */
function mapStage(name: string, spec: Document, fn: (doc: Document, vars: Variables) => Document | undefined): Stage {
  return {
    name,
    spec,
    *run(input, ctx) {
      const vars = varsFor(ctx);
      for (const d of input) {
        if (d === PAUSE) {
          yield d;
          continue;
        }
        const r = fn(d, bind(vars, d));
        if (r !== undefined) yield r;
      }
    },
  };
}

// ---- $match ---------------------------------------------------------------------------------

/** Parses a filter whose `$expr` reads the stage's variables (set by the stage before matching). */
export function parseMatchFilter(spec: Document, scope: Scope): { filter: ReturnType<typeof parseFilter>; holder: { vars: Variables } } {
  const holder = { vars: [] as Variables };
  const filter = parseFilter(spec, {
    parseExpression: (e) => {
      const x = parseExpression(e, scope);
      return (doc) => x.evaluate(bind(holder.vars, doc));
    },
    random: scope.state.env.random,
    collator: scope.state.env.collator ?? null,
  });
  return { filter, holder };
}

registerStage({
  name: '$match',
  parse(spec, ctx) {
    if (!isDocument(spec)) failLocation(15959, 'the match filter must be an expression in an object');
    const { filter, holder } = parseMatchFilter(spec, ctx.scope);
    return {
      name: '$match',
      spec: { $match: spec },
      // When the planner takes the filter over, the $expr variables must still be bound.
      pushdown: { kind: 'match', filterDoc: spec, filter, prepare: (rctx) => void (holder.vars = varsFor(rctx)) },
      *run(input, rctx) {
        holder.vars = varsFor(rctx);
        for (const d of input) {
          if (d === PAUSE || matches(filter, d)) yield d;
        }
      },
    };
  },
});

// ---- projections ------------------------------------------------------------------------------

function projectionStage(name: string, p: ParsedProjection, spec: Document): Stage {
  return mapStage(name, spec, (doc, vars) => applyProjection(p, doc, vars));
}

registerStage({
  name: '$project',
  parse(spec, ctx) {
    if (!isDocument(spec)) failLocation(15969, '$project specification must be an object');
    const p = withContext('$project', () => {
      if (Object.keys(spec).length === 0) failLocation(51272, 'projection specification must have at least one field');
      return parseProjectionStage(spec, ctx.scope, 'project');
    });
    return projectionStage('$project', p, { $project: spec });
  },
});

for (const name of ['$addFields', '$set']) {
  registerStage({
    name,
    parse(spec, ctx) {
      if (!isDocument(spec)) failLocation(40272, `${name} specification stage must be an object, got ${typeNameOf(spec)}`);
      const p = withContext(name, () => {
        if (Object.keys(spec).length === 0) failLocation(40177, 'specification must have at least one field');
        return parseProjectionStage(spec, ctx.scope, 'addFields');
      });
      return projectionStage(name, p, { [name]: spec });
    },
  });
}

registerStage({
  name: '$unset',
  parse(spec) {
    const paths = typeof spec === 'string' ? [spec] : spec;
    if (!Array.isArray(paths) || paths.length === 0) {
      failLocation(31002, '$unset specification must be a string or an array with at least one field');
    }
    for (const p of paths) if (typeof p !== 'string') failLocation(31120, '$unset specification must be a string or an array containing only string values');
    const proj = withContext('$unset', () => parseUnset(paths as string[]));
    return projectionStage('$unset', proj, { $unset: spec });
  },
});

function replaceRootStage(name: string, expr: Expression, spec: Document, what: string): Stage {
  return mapStage(name, spec, (doc, vars) => {
    const v = expr.evaluate(vars);
    if (!isDocument(v)) {
      failLocation(40228, `'${what}' must evaluate to an object, but resulting value was: ${v === undefined ? 'MISSING' : formatValue(v)}. Type of resulting value: '${typeNameOf(v)}'. Input document: ${formatValue(doc)}`);
    }
    return v;
  });
}

registerStage({
  name: '$replaceRoot',
  parse(spec, ctx) {
    if (!isDocument(spec)) failLocation(40228, `expected an object as specification for $replaceRoot stage, got ${typeNameOf(spec)}`);
    for (const k of Object.keys(spec)) if (k !== 'newRoot') failLocation(40415, `BSON field '$replaceRoot.${k}' is an unknown field.`);
    if (!('newRoot' in spec)) failLocation(40414, "BSON field '$replaceRoot.newRoot' is missing but a required field");
    return replaceRootStage('$replaceRoot', parseExpression(spec.newRoot, ctx.scope), { $replaceRoot: spec }, 'newRoot');
  },
});

registerStage({
  name: '$replaceWith',
  parse(spec, ctx) {
    return replaceRootStage('$replaceWith', parseExpression(spec, ctx.scope), { $replaceWith: spec }, 'replacement document');
  },
});

// ---- $group ----------------------------------------------------------------------------------

interface GroupSpec {
  id: Expression;
  fields: Array<{ name: string; acc: Accumulator }>;
}

function parseGroupSpec(spec: BsonValue, scope: Scope): GroupSpec {
  if (!isDocument(spec)) failLocation(15947, 'a group\'s fields must be specified in an object');
  let id: Expression | undefined;
  const fields: GroupSpec['fields'] = [];
  for (const name of Object.keys(spec)) {
    const v = spec[name];
    if (name === '_id') {
      id = parseExpression(v, scope);
      continue;
    }
    if (name.startsWith('$')) failLocation(40236, `The field name '${name}' cannot be an operator name`);
    if (name.includes('.')) failLocation(40235, `The field name '${name}' cannot contain '.'`);
    if (!isDocument(v) || Array.isArray(v)) failLocation(40234, `The field '${name}' must be an accumulator object`);
    const keys = Object.keys(v);
    if (keys.length !== 1) failLocation(40238, `The field '${name}' must specify one accumulator`);
    fields.push({ name, acc: parseAccumulator(keys[0]!, v[keys[0]!], scope) });
  }
  if (!id) failLocation(15955, 'a group specification must include an _id');
  return { id, fields };
}

interface Group {
  id: BsonValue;
  states: AccumulatorState[];
  bytes: number[];
}

/** Groups a flow; yields PAUSE while consuming, then the groups in order of first appearance. */
function* groupFlow(input: Flow, g: GroupSpec, ctx: RunContext, stageName = '$group'): Generator<Document | typeof PAUSE, Group[], undefined> {
  const groups = new Map<string, Group>();
  const vars = varsFor(ctx);
  // Under a collation, group keys that it calls equal must hash alike (collation-keys.ts).
  const canonical = ctx.env.collator ? new CollationCanonicalizer(ctx.env.collator) : undefined;
  let memory = 0;
  const limit = ctx.limits.groupMemoryBytes;
  for (const d of input) {
    if (d === PAUSE) {
      yield d;
      continue;
    }
    bind(vars, d);
    const idv = g.id.evaluate(vars);
    const key = valueKey(canonical ? canonical.value(idv) : idv);
    let group = groups.get(key);
    if (!group) {
      group = { id: idv === undefined ? null : idv, states: g.fields.map((f) => f.acc.create(vars)), bytes: g.fields.map(() => 0) };
      groups.set(key, group);
      memory += approximateSize(group.id) + 64;
    }
    for (let i = 0; i < g.fields.length; i++) {
      const s = group.states[i]!;
      s.add(g.fields[i]!.acc.argument.evaluate(vars));
      const b = s.bytes;
      memory += b - group.bytes[i]!;
      group.bytes[i] = b;
    }
    if (memory > limit && !ctx.limits.allowDiskUse) {
      fail('QueryExceededMemoryLimitNoDiskUseAllowed', `Exceeded memory limit for ${stageName}, but didn't allow external sort. Pass allowDiskUse:true to opt in.`);
    }
  }
  return [...groups.values()];
}

function groupResult(g: GroupSpec, group: Group): Document {
  const out: Document = { _id: group.id };
  g.fields.forEach((f, i) => setField(out, f.name, group.states[i]!.result()));
  return out;
}

registerStage({
  name: '$group',
  parse(spec, ctx) {
    const g = parseGroupSpec(spec, ctx.scope);
    return {
      name: '$group',
      spec: { $group: spec },
      *run(input, rctx) {
        const groups = yield* groupFlow(input, g, rctx);
        for (const group of groups) {
          if (rctx.tick()) yield PAUSE;
          yield groupResult(g, group);
        }
      },
    };
  },
});

// ---- $sort ------------------------------------------------------------------------------------

const SORT_CHUNK_DOCS = 4096;

/** Sorts a flow in chunks (yielding between them) and merges; with a limit keeps only the top. */
export function* sortFlow(input: Flow, spec: SortSpec, ctx: RunContext, limit: number | undefined): Flow {
  const compare = compareForSort(spec);
  let memory = 0;
  const memLimit = ctx.limits.sortMemoryBytes;
  const checkMemory = (): void => {
    if (memory > memLimit && !ctx.limits.allowDiskUse) {
      fail('QueryExceededMemoryLimitNoDiskUseAllowed', `Sort exceeded memory limit of ${memLimit} bytes, but did not opt in to external sorting.`);
    }
  };
  const chunks: Document[][] = [];
  let current: Document[] = [];
  let currentBytes = 0;
  for (const d of input) {
    if (d === PAUSE) {
      yield d;
      continue;
    }
    current.push(d);
    const size = approximateSize(d);
    currentBytes += size;
    memory += size;
    if (limit !== undefined && current.length >= Math.max(2 * limit, SORT_CHUNK_DOCS)) {
      current.sort(compare);
      current.length = limit;
      memory -= currentBytes;
      currentBytes = current.reduce((n, x) => n + approximateSize(x), 0);
      memory += currentBytes;
      yield PAUSE;
    } else if (limit === undefined && current.length >= SORT_CHUNK_DOCS) {
      current.sort(compare);
      chunks.push(current);
      current = [];
      currentBytes = 0;
      yield PAUSE;
    }
    checkMemory();
  }
  current.sort(compare);
  if (limit !== undefined) current.length = Math.min(current.length, limit);
  if (current.length > 0) chunks.push(current);
  if (chunks.length <= 1) {
    for (const d of chunks[0] ?? []) {
      if (ctx.tick()) yield PAUSE;
      yield d;
    }
    return;
  }
  // k-way merge; ties go to the earlier chunk, so the sort is stable.
  const pos = chunks.map(() => 0);
  const heap: number[] = [];
  const less = (a: number, b: number): boolean => {
    const c = compare(chunks[a]![pos[a]!]!, chunks[b]![pos[b]!]!);
    return c < 0 || (c === 0 && a < b);
  };
  const push = (i: number): void => {
    heap.push(i);
    let k = heap.length - 1;
    while (k > 0) {
      const p = (k - 1) >> 1;
      if (!less(heap[k]!, heap[p]!)) break;
      [heap[k], heap[p]] = [heap[p]!, heap[k]!];
      k = p;
    }
  };
  const pop = (): number => {
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let k = 0;
      for (;;) {
        const l = 2 * k + 1;
        const r = l + 1;
        let m = k;
        if (l < heap.length && less(heap[l]!, heap[m]!)) m = l;
        if (r < heap.length && less(heap[r]!, heap[m]!)) m = r;
        if (m === k) break;
        [heap[k], heap[m]] = [heap[m]!, heap[k]!];
        k = m;
      }
    }
    return top;
  };
  chunks.forEach((_, i) => push(i));
  while (heap.length > 0) {
    const i = pop();
    const d = chunks[i]![pos[i]!]!;
    pos[i]!++;
    if (pos[i]! < chunks[i]!.length) push(i);
    if (ctx.tick()) yield PAUSE;
    yield d;
  }
}

function parseSortStage(spec: BsonValue, collator: Collator | null | undefined): SortSpec {
  if (!isDocument(spec)) failLocation(15973, 'the $sort key specification must be an object');
  if (Object.keys(spec).length === 0) failLocation(15976, '$sort stage must have at least one sort key');
  const parsed = parseSort(spec, collator);
  if (parsed.length === 0) failLocation(15976, '$sort stage must have at least one sort key');
  return parsed;
}

registerStage({
  name: '$sort',
  parse(spec, ctx) {
    const sort = parseSortStage(spec, ctx.scope.state.env.collator);
    return {
      name: '$sort',
      spec: { $sort: spec },
      pushdown: { kind: 'sort', sortDoc: spec as Document },
      run: (input, ctx) => sortFlow(input, sort, ctx, undefined),
    };
  },
});

// ---- $limit / $skip / $count ------------------------------------------------------------------

function integralArg(spec: BsonValue, notNumber: [number, string], negative: [number, string], allowZero: boolean): number {
  const n = toSafeNum(spec);
  if (!n) failLocation(notNumber[0], notNumber[1]);
  const x = asDouble(n);
  if (!Number.isInteger(x)) failLocation(notNumber[0], notNumber[1]);
  if (x < 0 || (!allowZero && x === 0)) failLocation(negative[0], negative[1]);
  return x;
}

registerStage({
  name: '$limit',
  parse(spec) {
    const n = integralArg(spec, [15957, 'the limit must be specified as a number'], [15958, 'the limit must be positive'], false);
    return {
      name: '$limit',
      spec: { $limit: spec },
      pushdown: { kind: 'limit', n },
      *run(input) {
        if (n <= 0) return;
        let left = n;
        for (const d of input) {
          yield d;
          if (d !== PAUSE && --left <= 0) return;
        }
      },
    };
  },
});

registerStage({
  name: '$skip',
  parse(spec) {
    const n = integralArg(spec, [15972, 'Argument to $skip must be a number'], [15956, 'Argument to $skip cannot be negative'], true);
    return {
      name: '$skip',
      spec: { $skip: spec },
      pushdown: { kind: 'skip', n },
      *run(input) {
        let left = n;
        for (const d of input) {
          if (d !== PAUSE && left > 0) {
            left--;
            continue;
          }
          yield d;
        }
      },
    };
  },
});

registerStage({
  name: '$count',
  parse(spec) {
    if (typeof spec !== 'string') failLocation(40156, 'the count field must be a non-empty string');
    if (spec.length === 0) failLocation(40157, 'the count field must be a non-empty string');
    if (spec.startsWith('$')) failLocation(40158, 'the count field cannot be a $-prefixed path');
    if (spec.includes('.')) failLocation(40160, "the count field cannot contain '.'");
    return {
      name: '$count',
      spec: { $count: spec },
      *run(input) {
        let n = 0;
        for (const d of input) {
          if (d === PAUSE) yield d;
          else n++;
        }
        if (n > 0) yield { [spec]: integral(n) };
      },
    };
  },
});

// ---- $unwind ----------------------------------------------------------------------------------

/** A copy of `doc` with the value at `parts` replaced (undefined removes it); documents only. */
export function withPath(doc: Document, parts: readonly string[], value: BsonValue, i = 0): Document {
  const out: Document = {};
  const key = parts[i]!;
  let placed = false;
  for (const k of orderedKeys(doc)) {
    if (k !== key) {
      if (doc[k] !== undefined) setField(out, k, doc[k]);
      continue;
    }
    placed = true;
    if (i === parts.length - 1) {
      if (value !== undefined) setField(out, k, value);
    } else {
      const cur = doc[k];
      setField(out, k, withPath(isDocument(cur) ? cur : {}, parts, value, i + 1));
    }
  }
  if (!placed && value !== undefined) {
    setField(out, key, i === parts.length - 1 ? value : withPath({}, parts, value, i + 1));
  }
  return out;
}

/** Plain document lookup without array traversal (mongod's Document::getNestedField). */
export function getNested(doc: Document, parts: readonly string[]): BsonValue {
  let cur: BsonValue = doc;
  for (const p of parts) {
    if (!isDocument(cur)) return undefined;
    cur = Object.prototype.hasOwnProperty.call(cur, p) ? cur[p] : undefined;
    if (cur === undefined) return undefined;
  }
  return cur;
}

registerStage({
  name: '$unwind',
  parse(spec) {
    let path: BsonValue;
    let indexField: string | undefined;
    let preserve = false;
    if (typeof spec === 'string') path = spec;
    else if (isDocument(spec)) {
      for (const k of Object.keys(spec)) {
        const v = spec[k];
        if (k === 'path') {
          if (typeof v !== 'string') failLocation(28808, `expected a string as the path for $unwind stage, got ${typeNameOf(v)}`);
          path = v;
        } else if (k === 'includeArrayIndex') {
          if (typeof v !== 'string' || v.length === 0) failLocation(28810, `expected a non-empty string for the includeArrayIndex  option to $unwind stage, got ${typeNameOf(v)}`);
          if (v.startsWith('$')) failLocation(28822, `includeArrayIndex option to $unwind stage should not be prefixed with a '$': ${v}`);
          indexField = v;
        } else if (k === 'preserveNullAndEmptyArrays') {
          if (typeof v !== 'boolean') failLocation(28809, `expected a boolean for the preserveNullAndEmptyArrays option to $unwind stage, got ${typeNameOf(v)}`);
          preserve = v;
        } else failLocation(28811, `unrecognized option to $unwind stage: ${k}`);
      }
      if (path === undefined) failLocation(28812, 'no path specified to $unwind stage');
    } else failLocation(15981, `expected either a string or an object as specification for $unwind stage, got ${typeNameOf(spec)}`);
    if (typeof path !== 'string' || path.length === 0) failLocation(28812, 'no path specified to $unwind stage');
    if (!path.startsWith('$')) failLocation(28818, `path option to $unwind stage should be prefixed with a '$': ${path}`);
    const parts = parseFieldPath(path.slice(1));
    const indexParts = indexField ? parseFieldPath(indexField) : undefined;
    return {
      name: '$unwind',
      spec: { $unwind: spec },
      *run(input) {
        for (const d of input) {
          if (d === PAUSE) {
            yield d;
            continue;
          }
          const v = getNested(d, parts);
          if (Array.isArray(v)) {
            if (v.length === 0) {
              if (preserve) yield indexParts ? withPath(withPath(d, parts, undefined), indexParts, null) : withPath(d, parts, undefined);
              continue;
            }
            for (let i = 0; i < v.length; i++) {
              let out = withPath(d, parts, v[i]);
              if (indexParts) out = withPath(out, indexParts, fromSafeNum({ t: 'long', v: BigInt(i) }));
              yield out;
            }
          } else if (isNullish(v)) {
            if (preserve) yield indexParts ? withPath(d, indexParts, null) : d;
          } else {
            yield indexParts ? withPath(d, indexParts, null) : d;
          }
        }
      },
    };
  },
});

// ---- $sortByCount / $bucket / $bucketAuto -----------------------------------------------------------

registerStage({
  name: '$sortByCount',
  parse(spec, ctx) {
    const ok = (typeof spec === 'string' && spec.startsWith('$')) || (isDocument(spec) && Object.keys(spec)[0]?.startsWith('$'));
    if (!ok) failLocation(40147, 'the sortByCount field must be defined as a $-prefixed path or an expression');
    const g: GroupSpec = { id: parseExpression(spec, ctx.scope), fields: [{ name: 'count', acc: parseAccumulator('$sum', fromSafeNum({ t: 'int', v: 1 }), ctx.scope) }] };
    const sort = parseSort({ count: -1 });
    return {
      name: '$sortByCount',
      spec: { $sortByCount: spec },
      run(input, rctx) {
        function* grouped(): Flow {
          const groups = yield* groupFlow(input, g, rctx, '$sortByCount');
          for (const group of groups) yield groupResult(g, group);
        }
        return sortFlow(grouped(), sort, rctx, undefined);
      },
    };
  },
});

function parseOutputSpec(spec: BsonValue, scope: Scope, stage: string): GroupSpec['fields'] {
  if (spec === undefined) return [{ name: 'count', acc: parseAccumulator('$sum', fromSafeNum({ t: 'int', v: 1 }), scope) }];
  if (!isDocument(spec)) failLocation(40196, `The $${stage} 'output' field must be an object, but found type: ${typeNameOf(spec)}.`);
  const g = parseGroupSpec({ _id: null, ...spec }, scope);
  return g.fields;
}

registerStage({
  name: '$bucket',
  parse(spec, ctx) {
    if (!isDocument(spec)) failLocation(40201, `Argument to $bucket stage must be an object, but found type: ${typeNameOf(spec)}.`);
    for (const k of Object.keys(spec)) if (!['groupBy', 'boundaries', 'default', 'output'].includes(k)) failLocation(40197, `Unrecognized option to $bucket: ${k}.`);
    if (!('groupBy' in spec) || !('boundaries' in spec)) failLocation(40198, "$bucket requires 'groupBy' and 'boundaries' to be specified.");
    const gb = spec.groupBy;
    if (!((typeof gb === 'string' && gb.startsWith('$')) || (isDocument(gb) && Object.keys(gb)[0]?.startsWith('$')))) {
      failLocation(40202, `The $bucket 'groupBy' field must be defined as a $-prefixed path or an expression, but found: ${formatValue(gb)}.`);
    }
    const boundaries = spec.boundaries;
    if (!Array.isArray(boundaries)) failLocation(40200, `The $bucket 'boundaries' field must be an array, but found type: ${typeNameOf(boundaries)}.`);
    if (boundaries.length < 2) failLocation(40192, `The $bucket 'boundaries' field must have at least 2 values, but found ${boundaries.length} value(s).`);
    const bucketType = (v: BsonValue): string => (toSafeNum(v) ? 'number' : typeNameOf(v));
    for (let i = 1; i < boundaries.length; i++) {
      const a = boundaries[i - 1];
      const b = boundaries[i];
      if (bucketType(a) !== bucketType(b)) {
        failLocation(40193, `All values in the the 'boundaries' option to $bucket must have the same type. Found conflicting types ${typeNameOf(a)} and ${typeNameOf(b)}.`);
      }
      if (compareValues(a, b) >= 0) {
        failLocation(40194, `The 'boundaries' option to $bucket must be sorted in ascending order, but elements ${i - 1} and ${i} are not in ascending order (${formatValue(a)} is not less than ${formatValue(b)}).`);
      }
    }
    const hasDefault = 'default' in spec;
    const dflt = spec.default;
    if (hasDefault && bucketType(dflt) === bucketType(boundaries[0]) && compareValues(dflt, boundaries[0]) >= 0 && compareValues(dflt, boundaries[boundaries.length - 1]) < 0) {
      failLocation(40199, "The $bucket 'default' field must be less than the lowest boundary or greater than or equal to the highest boundary.");
    }
    const groupBy = parseExpression(gb, ctx.scope);
    // mongod desugars $bucket into $group on a $switch over the boundaries, then $sort on _id.
    const id = expression((vars) => {
      const v = groupBy.evaluate(vars);
      if (compareValues(v, boundaries[0]) >= 0 && compareValues(v, boundaries[boundaries.length - 1]) < 0) {
        let lo = 0;
        let hi = boundaries.length - 1;
        while (hi - lo > 1) {
          const mid = (lo + hi) >> 1;
          if (compareValues(v, boundaries[mid]) >= 0) lo = mid;
          else hi = mid;
        }
        return boundaries[lo];
      }
      if (!hasDefault) failLocation(40066, '$switch could not find a matching branch for an input, and no default was specified.');
      return dflt;
    });
    const g: GroupSpec = { id, fields: parseOutputSpec(spec.output, ctx.scope, 'bucket') };
    const sort = parseSort({ _id: 1 });
    return {
      name: '$bucket',
      spec: { $bucket: spec },
      run(input, rctx) {
        function* grouped(): Flow {
          const groups = yield* groupFlow(input, g, rctx, '$bucket');
          for (const group of groups) yield groupResult(g, group);
        }
        return sortFlow(grouped(), sort, rctx, undefined);
      },
    };
  },
});

/** Preferred-number series for $bucketAuto's granularity. */
const SERIES: Record<string, number[]> = {
  R5: [1.0, 1.6, 2.5, 4.0, 6.3],
  R10: [1.0, 1.25, 1.6, 2.0, 2.5, 3.15, 4.0, 5.0, 6.3, 8.0],
  R20: [1.0, 1.12, 1.25, 1.4, 1.6, 1.8, 2.0, 2.24, 2.5, 2.8, 3.15, 3.55, 4.0, 4.5, 5.0, 5.6, 6.3, 7.1, 8.0, 9.0],
  R40: [1.0, 1.06, 1.12, 1.18, 1.25, 1.32, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9, 2.0, 2.12, 2.24, 2.36, 2.5, 2.65, 2.8, 3.0, 3.15, 3.35, 3.55, 3.75, 4.0, 4.25, 4.5, 4.75, 5.0, 5.3, 5.6, 6.0, 6.3, 6.7, 7.1, 7.5, 8.0, 8.5, 9.0, 9.5],
  R80: [1.0, 1.03, 1.06, 1.09, 1.12, 1.15, 1.18, 1.22, 1.25, 1.28, 1.32, 1.36, 1.4, 1.45, 1.5, 1.55, 1.6, 1.65, 1.7, 1.75, 1.8, 1.85, 1.9, 1.95, 2.0, 2.06, 2.12, 2.18, 2.24, 2.3, 2.36, 2.43, 2.5, 2.58, 2.65, 2.72, 2.8, 2.9, 3.0, 3.07, 3.15, 3.25, 3.35, 3.45, 3.55, 3.65, 3.75, 3.87, 4.0, 4.12, 4.25, 4.37, 4.5, 4.62, 4.75, 4.87, 5.0, 5.15, 5.3, 5.45, 5.6, 5.8, 6.0, 6.15, 6.3, 6.5, 6.7, 6.9, 7.1, 7.3, 7.5, 7.75, 8.0, 8.25, 8.5, 8.75, 9.0, 9.25, 9.5, 9.75],
  '1-2-5': [1, 2, 5],
  E6: [1.0, 1.5, 2.2, 3.3, 4.7, 6.8],
  E12: [1.0, 1.2, 1.5, 1.8, 2.2, 2.7, 3.3, 3.9, 4.7, 5.6, 6.8, 8.2],
  E24: [1.0, 1.1, 1.2, 1.3, 1.5, 1.6, 1.8, 2.0, 2.2, 2.4, 2.7, 3.0, 3.3, 3.6, 3.9, 4.3, 4.7, 5.1, 5.6, 6.2, 6.8, 7.5, 8.2, 9.1],
  E48: [1.0, 1.05, 1.1, 1.15, 1.21, 1.27, 1.33, 1.4, 1.47, 1.54, 1.62, 1.69, 1.78, 1.87, 1.96, 2.05, 2.15, 2.26, 2.37, 2.49, 2.61, 2.74, 2.87, 3.01, 3.16, 3.32, 3.48, 3.65, 3.83, 4.02, 4.22, 4.42, 4.64, 4.87, 5.11, 5.36, 5.62, 5.9, 6.19, 6.49, 6.81, 7.15, 7.5, 7.87, 8.25, 8.66, 9.09, 9.53],
  E96: [],
  E192: [],
};

function roundSeries(x: number, series: string, up: boolean): number {
  if (x === 0) return 0;
  if (series === 'POWERSOF2') {
    const p = 2 ** (up ? Math.floor(Math.log2(x)) + 1 : Math.ceil(Math.log2(x)) - 1);
    return p;
  }
  const base = SERIES[series]!;
  const mag = 10 ** Math.floor(Math.log10(x));
  const candidates = [...base.map((b) => b * mag / 10), ...base.map((b) => b * mag), ...base.map((b) => b * mag * 10)];
  if (up) return candidates.find((c) => c > x * (1 + 1e-12)) ?? x;
  const below = candidates.filter((c) => c < x * (1 - 1e-12));
  return below[below.length - 1] ?? x;
}

registerStage({
  name: '$bucketAuto',
  parse(spec, ctx) {
    if (!isDocument(spec)) failLocation(40240, `The argument to $bucketAuto must be an object, but found type: ${typeNameOf(spec)}.`);
    for (const k of Object.keys(spec)) if (!['groupBy', 'buckets', 'output', 'granularity'].includes(k)) failLocation(40245, `Unrecognized option to $bucketAuto: ${k}.`);
    if (!('groupBy' in spec) || !('buckets' in spec)) failLocation(40246, "$bucketAuto requires 'groupBy' and 'buckets' to be specified");
    const nb = toSafeNum(spec.buckets);
    if (!nb || !Number.isInteger(asDouble(nb))) failLocation(40241, `The $bucketAuto 'buckets' field must be a numeric value, but found type: ${typeNameOf(spec.buckets)}`);
    const buckets = asDouble(nb);
    if (buckets <= 0) failLocation(40243, `The $bucketAuto 'buckets' field must be greater than 0, but found: ${buckets}`);
    const granularity = spec.granularity;
    if (granularity !== undefined && (typeof granularity !== 'string' || !(granularity in SERIES || granularity === 'POWERSOF2'))) {
      failLocation(40257, `Rounding granularity not recognized: ${String(granularity)}`);
    }
    const groupBy = parseExpression(spec.groupBy, ctx.scope);
    const fields = parseOutputSpec(spec.output, ctx.scope, 'bucketAuto');
    return {
      name: '$bucketAuto',
      spec: { $bucketAuto: spec },
      *run(input, rctx) {
        const vars = varsFor(rctx);
        const items: Array<{ key: BsonValue; doc: Document }> = [];
        let memory = 0;
        for (const d of input) {
          if (d === PAUSE) {
            yield d;
            continue;
          }
          const key = groupBy.evaluate(bind(vars, d));
          const k = key === undefined ? null : key;
          if (granularity !== undefined && !toSafeNum(k)) failLocation(40258, `$bucketAuto can specify a 'granularity' with numeric boundaries only, but found a value with type: ${typeNameOf(k)}`);
          items.push({ key: k, doc: d });
          memory += approximateSize(d);
          if (memory > rctx.limits.groupMemoryBytes && !rctx.limits.allowDiskUse) {
            fail('QueryExceededMemoryLimitNoDiskUseAllowed', "Exceeded memory limit for $bucketAuto, but didn't allow external sort. Pass allowDiskUse:true to opt in.");
          }
        }
        items.sort((a, b) => compareValues(a.key, b.key));
        if (items.length === 0) return;
        const approx = Math.round(items.length / buckets) || 1;
        const out: Array<{ min: BsonValue; max: BsonValue; docs: Document[] }> = [];
        let i = 0;
        while (i < items.length) {
          const start = i;
          i = Math.min(items.length, i + approx);
          // Equal values stay in one bucket.
          while (i < items.length && compareValues(items[i]!.key, items[i - 1]!.key) === 0) i++;
          out.push({ min: items[start]!.key, max: items[i - 1]!.key, docs: items.slice(start, i).map((x) => x.doc) });
          if (out.length === buckets - 1 && i < items.length) {
            out.push({ min: items[i]!.key, max: items[items.length - 1]!.key, docs: items.slice(i).map((x) => x.doc) });
            break;
          }
        }
        for (let b = 0; b < out.length; b++) {
          const bucket = out[b]!;
          let min = bucket.min;
          let max = b + 1 < out.length ? out[b + 1]!.min : bucket.max;
          if (granularity !== undefined) {
            const x = asDouble(toSafeNum(min)!);
            const y = asDouble(toSafeNum(max)!);
            min = fromSafeNum({ t: 'double', v: b === 0 ? roundSeries(x, granularity, false) : asDouble(toSafeNum(out[b - 1]!.max)!) });
            max = fromSafeNum({ t: 'double', v: roundSeries(y, granularity, true) });
            bucket.max = max;
          }
          const states = fields.map((f) => f.acc.create(vars));
          for (const d of bucket.docs) {
            bind(vars, d);
            fields.forEach((f, j) => states[j]!.add(f.acc.argument.evaluate(vars)));
          }
          const doc: Document = { _id: { min, max } };
          fields.forEach((f, j) => setField(doc, f.name, states[j]!.result()));
          yield doc;
        }
      },
    };
  },
});

// ---- $sample ------------------------------------------------------------------------------------

registerStage({
  name: '$sample',
  parse(spec, ctx) {
    if (!isDocument(spec)) failLocation(28745, 'the $sample stage specification must be an object');
    let size: number | undefined;
    for (const k of Object.keys(spec)) {
      if (k !== 'size') failLocation(28748, `unrecognized option to $sample: ${k}`);
      const n = toSafeNum(spec.size);
      if (!n) failLocation(28746, 'size argument to $sample must be a number');
      size = Math.trunc(asDouble(n));
      if (size < 0) failLocation(28747, 'size argument to $sample must not be negative');
    }
    if (size === undefined) failLocation(28749, '$sample stage must specify a size');
    const n = size;
    const random = ctx.scope.state.env.random;
    return {
      name: '$sample',
      spec: { $sample: spec },
      *run(input) {
        // Reservoir sampling: one pass, n documents held.
        const reservoir: Document[] = [];
        let seen = 0;
        for (const d of input) {
          if (d === PAUSE) {
            yield d;
            continue;
          }
          seen++;
          if (reservoir.length < n) reservoir.push(d);
          else {
            const j = Math.floor(random() * seen);
            if (j < n) reservoir[j] = d;
          }
        }
        for (let i = reservoir.length - 1; i > 0; i--) {
          const j = Math.floor(random() * (i + 1));
          [reservoir[i], reservoir[j]] = [reservoir[j]!, reservoir[i]!];
        }
        yield* reservoir;
      },
    };
  },
});

// ---- $redact --------------------------------------------------------------------------------------

registerStage({
  name: '$redact',
  parse(spec, ctx) {
    const expr = parseExpression(spec, ctx.scope);
    const redact = (value: Document, vars: Variables): Document | undefined => {
      vars[CURRENT_SLOT] = value;
      const r = expr.evaluate(vars);
      if (r === '$$KEEP') return value;
      if (r === '$$PRUNE') return undefined;
      if (r !== '$$DESCEND') {
        failLocation(17053, `$redact's expression should not return anything aside from the variables $$KEEP, $$DESCEND, and $$PRUNE, but returned ${formatValue(r)}`);
      }
      const out: Document = {};
      for (const k of orderedKeys(value)) {
        const v = value[k];
        if (isDocument(v)) {
          const sub = redact(v, vars);
          if (sub !== undefined) setField(out, k, sub);
        } else if (Array.isArray(v)) {
          setField(out, k, redactArray(v, vars));
        } else if (v !== undefined) setField(out, k, v);
      }
      return out;
    };
    const redactArray = (arr: BsonValue[], vars: Variables): BsonValue[] => {
      const out: BsonValue[] = [];
      for (const el of arr) {
        if (isDocument(el)) {
          const sub = redact(el, vars);
          if (sub !== undefined) out.push(sub);
        } else if (Array.isArray(el)) out.push(redactArray(el, vars));
        else out.push(el);
      }
      return out;
    };
    return mapStage('$redact', { $redact: spec }, (doc, vars) => redact(doc, vars));
  },
});

export { constantExpression, toBool };
