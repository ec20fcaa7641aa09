/**
 * The aggregation framework: the expression language, accumulators and pipeline stages of
 * mongod 8.0. Public surface of src/query/aggregate (see README.md).
 */
import { fail, failLocation } from '../../base/index.js';
import { isDocument, type BsonValue, type Collator, type Document } from '../../bson/index.js';
import type { ApplyContext, PipelineUpdateFn } from '../update/index.js';
import { newVariables, parseExpression, Scope, validateVariableName, type Expression, type ExpressionEnvironment } from './expression.js';
import { parsePipelineStages, PAUSE, makeRunContext, type ParsedPipeline, type PipelineHost } from './pipeline.js';
import { runPipeline } from './runner.js';

// Operator and stage modules register themselves when loaded.
import './ops-core.js';
import './ops-string.js';
import './ops-array.js';
import './ops-date.js';
import './ops-type.js';
import './accumulators.js';
import './stages.js';
import './stages-join.js';
import './stages-io.js';
import './stages-search.js';
import './stages-window.js';
import './change-stream.js';

export {
  parseExpression, Scope, newVariables, validateVariableName, type Expression, type ExpressionEnvironment, type ParseState, type Variables,
} from './expression.js';
export {
  PAUSE, chain as chainStages, parsePipelineStages, stagesForbiddenInTransaction, stageDefinition, makeRunContext, baseVariables, executorError,
  type Flow, type ParsedPipeline, type PipelineHost, type PipelineLimits, type PipelineParseContext, type RunContext, type Stage,
  type StageDefinition, type OutputWriter, type OutputSession,
} from './pipeline.js';
export { runPipeline, planSource, explainSource, PipelineRun, type PipelineRunOptions, type SourcePlan } from './runner.js';
export { parseAccumulator, type Accumulator, type AccumulatorState } from './accumulators.js';
export { valueKey } from './keys.js';
export { failSearchNotEnabled } from './stages-search.js';

export interface ExpressionHookOptions {
  /** `$$NOW` (fixed for the command, as in mongod). */
  now?: Date;
  /** `$$CLUSTER_TIME`. */
  clusterTime?: BsonValue;
  random?: () => number;
  /** A command's `let` document: constants (or expressions over constants) visible as `$$name`. */
  let?: Document;
  /** The operation's collation (null or absent: simple). */
  collator?: Collator | null;
}

function defaultRandom(): number {
  return Math.random();
}

/** Parses a command's `let` into the scope; returns the slots to fill and their values. */
function bindLet(scope: Scope, letSpec: Document | undefined, now: Date, clusterTime: BsonValue): Array<[number, BsonValue]> {
  const out: Array<[number, BsonValue]> = [];
  if (!letSpec) return out;
  const pending: Array<[number, Expression]> = [];
  for (const name of Object.keys(letSpec)) {
    validateVariableName(name);
    // Each definition sees the ones before it, as mongod's Variables::seedVariablesWithLetParameters.
    const e = parseExpression(letSpec[name], scope);
    pending.push([scope.define(name), e]);
  }
  const vars = newVariables(scope.state, {}, now, clusterTime);
  for (const [slot, e] of pending) {
    vars[slot] = e.evaluate(vars);
    out.push([slot, vars[slot]]);
  }
  return out;
}

/**
 * The `$expr` / projection-expression hook: compiles an aggregation expression to a function of
 * the document. For `parseFilter(filter, { parseExpression: expressionHook() })` and
 * `parseProjection(spec, { parseExpression: expressionHook() })`.
 */
export function expressionHook(options: ExpressionHookOptions = {}): (expr: BsonValue) => (doc: Document) => BsonValue {
  const now = options.now ?? new Date(0);
  const clusterTime = options.clusterTime ?? null;
  const env: ExpressionEnvironment = { random: options.random ?? defaultRandom };
  if (options.collator) env.collator = options.collator;
  return (spec) => {
    const scope = Scope.root(env);
    const lets = bindLet(scope, options.let, now, clusterTime);
    const expr = parseExpression(spec, scope);
    const vars = newVariables(scope.state, undefined, now, clusterTime);
    for (const [slot, v] of lets) vars[slot] = v;
    return (doc) => {
      vars[0] = doc;
      vars[1] = doc;
      return expr.evaluate(vars);
    };
  };
}

const UPDATE_STAGES = new Set(['$addFields', '$set', '$project', '$unset', '$replaceRoot', '$replaceWith']);

/** A host for pipelines that only transform the documents they are given (pipeline updates). */
const NO_STORAGE_HOST: PipelineHost = {
  get txn(): never {
    return fail('InternalError', 'a pipeline-style update cannot read collections');
  },
  getCollection: () => undefined,
  hostName: '',
};

/**
 * The pipeline-style update hook: `parseUpdate(u, { parsePipeline: pipelineUpdateHook(), ... })`.
 * Only $addFields/$set/$project/$unset/$replaceRoot/$replaceWith are allowed (mongod's rule).
 */
export function pipelineUpdateHook(options: { let?: Document; random?: () => number } = {}): (pipeline: Document[]) => PipelineUpdateFn {
  return (pipeline) => {
    for (const s of pipeline) {
      const name = isDocument(s) ? Object.keys(s)[0] : undefined;
      if (name !== undefined && !UPDATE_STAGES.has(name)) {
        fail('InvalidOptions', `${name} is not allowed to be used within an update`);
      }
    }
    const env: ExpressionEnvironment = { random: options.random ?? defaultRandom };
    const scope = Scope.root(env);
    const letDoc = options.let;
    const letNames = letDoc ? Object.keys(letDoc) : [];
    // `let` of an update is evaluated per statement; its values do not depend on the document.
    let lets: Array<[number, BsonValue]> | undefined;
    const letScopeNow = new Date(0);
    if (letDoc) lets = bindLet(scope, letDoc, letScopeNow, null);
    void letNames;
    const parsed: ParsedPipeline = parsePipelineStages(pipeline, { scope, db: '', collection: '', nesting: 'top', inTransaction: false });
    return (doc: Document, ctx: ApplyContext): Document => {
      const base = newVariables(parsed.state, undefined, ctx.now, null);
      for (const [slot, v] of lets ?? []) base[slot] = v;
      const run = makeRunContext(NO_STORAGE_HOST, '', { groupMemoryBytes: Infinity, sortMemoryBytes: Infinity, allowDiskUse: true, yieldEveryDocs: Infinity }, base, env);
      const input = (function* () {
        yield doc;
      })();
      const out: Document[] = [];
      for (const d of runPipeline(parsed, run, undefined, { input })) if (d !== PAUSE) out.push(d);
      if (out.length !== 1) failLocation(40228, 'a pipeline-style update must produce exactly one document');
      return out[0]!;
    };
  };
}
export {
  ChangeStream, changeStreamScope, parseChangeStreamSpec, STAGES_ALLOWED_IN_CHANGE_STREAM,
  type ChangeStreamHost, type ChangeStreamScope, type ChangeStreamSpec,
} from './change-stream.js';
