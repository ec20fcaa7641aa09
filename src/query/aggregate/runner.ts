/**
 * Running a parsed pipeline: the document source (a collection read through the query planner, so
 * a leading $match — and a $sort the index order gives, with its $skip/$limit — uses indexes like
 * find), then the stages; and `PipelineRun`, the asynchronous driver that yields to the event
 * loop at PAUSE markers and enforces maxTimeMS and killOp.
 */
import { fail } from '../../base/index.js';
import type { Collator, Document } from '../../bson/index.js';
import type { Collection } from '../../storage/index.js';
import { runQuery, newStats, type ExecutionStats } from '../executor.js';
import { explainPlan, planQuery, type Hint, type PlannedQuery } from '../planner.js';
import { parseFilter } from '../filter/index.js';
import { parseSort, type SortSpec } from '../sort.js';
import { chain, emptyFlow, PAUSE, sourceFlow, type Flow, type ParsedPipeline, type RunContext, type Stage } from './pipeline.js';

export interface SourcePlan {
  /** How many leading stages the collection read absorbed. */
  consumed: number;
  planned: PlannedQuery | undefined;
  filterDoc: Document;
  sort: SortSpec | undefined;
  skip: number | undefined;
  limit: number | undefined;
}

/** Decides what of the pipeline's head the query planner can do, under the pipeline's collation. */
export function planSource(stages: readonly Stage[], coll: Collection | undefined, hint: Hint, collator: Collator | null = null): SourcePlan {
  let i = 0;
  let filterDoc: Document = {};
  let filter = parseFilter({});
  const head = stages[0]?.pushdown;
  if (head?.kind === 'match') {
    filterDoc = head.filterDoc;
    filter = head.filter;
    i = 1;
  }
  let sort: SortSpec | undefined;
  let skip: number | undefined;
  let limit: number | undefined;
  let planned = planQuery(coll, filter, filterDoc, undefined, hint, collator);
  const next = stages[i]?.pushdown;
  if (next?.kind === 'sort') {
    const spec = parseSort(next.sortDoc, collator);
    const withSort = planQuery(coll, filter, filterDoc, spec, hint, collator);
    if (withSort.sortProvided) {
      planned = withSort;
      sort = spec;
      i++;
      const s = stages[i]?.pushdown;
      if (s?.kind === 'skip') {
        skip = s.n;
        i++;
      }
      const l = stages[i]?.pushdown;
      if (l?.kind === 'limit') {
        limit = l.n;
        i++;
      }
    }
  }
  return { consumed: i, planned, filterDoc, sort, skip, limit };
}

/** The flow of a pipeline over a collection (or over nothing, for collectionless pipelines). */
export function runPipeline(
  parsed: ParsedPipeline,
  ctx: RunContext,
  coll: Collection | undefined,
  options: { hint?: Hint; stats?: ExecutionStats; input?: Flow } = {},
): Flow {
  const stages = parsed.stages;
  if (options.input) return chain(stages, options.input, ctx);
  if (parsed.definitions[0]?.collectionless) return chain(stages, emptyFlow(), ctx);
  const src = planSource(stages, coll, options.hint, ctx.env.collator ?? null);
  let input: Flow;
  if (!coll || !src.planned) input = emptyFlow();
  else {
    const head = stages[0]?.pushdown;
    const pushedMatch = head?.kind === 'match' && src.consumed > 0 ? head : undefined;
    pushedMatch?.prepare(ctx);
    const filter = pushedMatch ? pushedMatch.filter : parseFilter({});
    const candidates = runQuery(ctx.host.txn, coll, src.planned, filter, {
      sort: src.sort,
      skip: src.skip,
      limit: src.limit,
      sortMemoryLimitBytes: ctx.limits.sortMemoryBytes,
      allowDiskUse: ctx.limits.allowDiskUse,
    }, options.stats ?? newStats());
    input = sourceFlow(mapCandidates(candidates), ctx);
  }
  return chain(stages.slice(src.consumed), input, ctx);
}

function* mapCandidates(candidates: Iterable<{ doc: Document }>): Generator<Document> {
  for (const c of candidates) yield c.doc;
}

export function explainSource(src: SourcePlan): Document {
  return src.planned ? explainPlan(src.planned.plan) : { stage: 'EOF' };
}

/** Options of the asynchronous driver. */
export interface PipelineRunOptions {
  /** Resolves on the next turn of the event loop (setImmediate in the server). */
  yieldToEventLoop: () => Promise<void>;
  /** Monotonic milliseconds, for maxTimeMS. */
  nowMs: () => number;
  /** 0 or undefined: no limit. */
  maxTimeMS?: number;
  /** True once killOp has targeted the operation. */
  killed?: () => boolean;
  /** Wraps errors raised while running (mongod's "PlanExecutor error during aggregation"). */
  wrapError?: (e: unknown) => unknown;
}

/**
 * Pulls documents from a flow. `next` is asynchronous and yields to the event loop at PAUSE
 * markers (the aggregate command's first batch and getMore both read through it); `rest` ignores
 * them, for consumers that cannot await.
 */
export class PipelineRun {
  private readonly deadline: number;
  private done = false;

  constructor(
    private readonly flow: Flow,
    private readonly options: PipelineRunOptions,
  ) {
    this.deadline = options.maxTimeMS ? options.nowMs() + options.maxTimeMS : Infinity;
  }

  get exhausted(): boolean {
    return this.done;
  }

  private checkInterrupts(): void {
    if (this.options.killed?.()) fail('Interrupted', 'operation was interrupted');
    if (this.options.nowMs() > this.deadline) fail('MaxTimeMSExpired', 'operation exceeded time limit');
  }

  private step(): IteratorResult<Document | typeof PAUSE, void> {
    try {
      return this.flow.next();
    } catch (e) {
      this.done = true;
      throw this.options.wrapError ? this.options.wrapError(e) : e;
    }
  }

  /** The next document, or undefined at the end; yields to the event loop at each PAUSE. */
  async next(): Promise<Document | undefined> {
    for (;;) {
      if (this.done) return undefined;
      const r = this.step();
      if (r.done) {
        this.done = true;
        return undefined;
      }
      if (r.value === PAUSE) {
        this.checkInterrupts();
        await this.options.yieldToEventLoop();
        this.checkInterrupts();
        continue;
      }
      return r.value;
    }
  }

  /** Up to `n` documents (fewer at the end). */
  async take(n: number): Promise<Document[]> {
    const out: Document[] = [];
    while (out.length < n) {
      const d = await this.next();
      if (d === undefined) break;
      out.push(d);
    }
    return out;
  }

  /** Everything that remains. */
  async all(): Promise<Document[]> {
    return this.take(Infinity);
  }

  /** The rest as a synchronous iterator (PAUSE markers skipped; interrupts still checked there). */
  *rest(): Generator<Document, void, undefined> {
    for (;;) {
      if (this.done) return;
      const r = this.step();
      if (r.done) {
        this.done = true;
        return;
      }
      if (r.value === PAUSE) {
        this.checkInterrupts();
        continue;
      }
      yield r.value;
    }
  }

  close(): void {
    this.done = true;
    this.flow.return(undefined);
  }
}
