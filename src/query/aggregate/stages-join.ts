/**
 * Stages that read other collections or run sub-pipelines: $lookup (equality, let/pipeline and
 * the combined form), $unionWith, $facet, $documents.
 *
 * $lookup's equality form is a hash join: the foreign collection is read once per run (from the
 * same snapshot) and indexed in memory by every value its `foreignField` matches under query
 * semantics, so each input document costs a few hash probes instead of a collection scan.
 */
import { fail, failLocation } from '../../base/index.js';
import { isDocument, typeNameOf, type BsonValue, type Collator, type Document } from '../../bson/index.js';
import { CollationCanonicalizer, type Collection } from '../../storage/index.js';
import { splitPath, visitMatchValues } from '../path.js';
import {
  newVariables, parseExpression, parseFieldPath, validateVariableName, Scope, CLUSTER_TIME_SLOT, CURRENT_SLOT, NOW_SLOT, ROOT_SLOT, type Expression, type Variables,
} from './expression.js';
import { valueKey } from './keys.js';
import {
  childRunContext, collect, parsePipelineStages, PAUSE, registerStage, sourceFlow, type Flow, type ParsedPipeline, type PipelineParseContext, type RunContext,
} from './pipeline.js';
import { runPipeline } from './runner.js';
import { withPath } from './stages.js';

function bind(vars: Variables, doc: Document): Variables {
  vars[ROOT_SLOT] = doc;
  vars[CURRENT_SLOT] = doc;
  return vars;
}

/** mongod's extractAllElementsAlongPath: values along a path, arrays expanded (also at the leaf). */
function extractAll(v: BsonValue, parts: readonly string[], i: number, out: BsonValue[]): void {
  if (i === parts.length) {
    if (Array.isArray(v)) out.push(...v);
    else if (v !== undefined) out.push(v);
    return;
  }
  if (Array.isArray(v)) {
    for (const el of v) if (isDocument(el)) extractAll(el, parts, i, out);
    return;
  }
  if (!isDocument(v)) return;
  const next = Object.prototype.hasOwnProperty.call(v, parts[i]!) ? v[parts[i]!] : undefined;
  extractAll(next, parts, i + 1, out);
}

function* arrayFlow(docs: readonly Document[], ctx: RunContext): Flow {
  yield* sourceFlow(docs, ctx);
}

/** The foreign side of an equality $lookup, hashed by foreignField value. */
class HashedForeign {
  readonly docs: Document[] = [];
  private readonly table = new Map<string, number[]>();
  /** Under a collation, strings it calls equal must hash alike (see storage's collation-keys.ts). */
  private readonly canonical: CollationCanonicalizer | undefined;

  constructor(
    private readonly parts: readonly string[],
    collator: Collator | null | undefined,
  ) {
    this.canonical = collator ? new CollationCanonicalizer(collator) : undefined;
  }

  private keyOf(v: BsonValue): string {
    return valueKey(this.canonical ? this.canonical.value(v) : v);
  }

  add(doc: Document): void {
    const index = this.docs.length;
    this.docs.push(doc);
    const keys = new Set<string>();
    visitMatchValues(doc, this.parts, true, (v) => {
      keys.add(this.keyOf(v));
      return false;
    });
    for (const k of keys) {
      let list = this.table.get(k);
      if (!list) this.table.set(k, (list = []));
      list.push(index);
    }
  }

  /** The foreign documents matching any of the local values, in the foreign collection's order. */
  lookup(localValues: readonly BsonValue[]): Document[] {
    const hits = new Set<number>();
    for (const v of localValues) for (const i of this.table.get(this.keyOf(v)) ?? []) hits.add(i);
    return [...hits].sort((a, b) => a - b).map((i) => this.docs[i]!);
  }
}

/**
 * What a $lookup or $unionWith reads: a collection, or a view's collection with the view's stages
 * in front (mongod resolves views there as it does for aggregate). The view's stages are parsed
 * per run: views may change between runs, and parsing is once per run, not per document.
 */
interface ForeignSource {
  coll: Collection | undefined;
  /** The documents of the view, afresh on each call; undefined when reading a collection. */
  viewFlow: ((rctx: RunContext) => Flow) | undefined;
}

function foreignSource(rctx: RunContext, db: string, name: string): ForeignSource {
  const view = rctx.host.resolveView?.(db, name);
  if (!view) return { coll: rctx.host.getCollection(db, name), viewFlow: undefined };
  const coll = rctx.host.getCollection(db, view.collection);
  const parsed = parsePipelineStages(view.pipeline, { scope: Scope.root(rctx.env), db, collection: view.collection, nesting: 'lookup', inTransaction: false });
  return {
    coll,
    viewFlow: (ctx) => {
      const vars = newVariables(parsed.state, undefined, ctx.baseVars[NOW_SLOT] as Date, ctx.baseVars[CLUSTER_TIME_SLOT]);
      return runPipeline(parsed, childRunContext(ctx, vars), coll);
    },
  };
}

/** The documents of a foreign source, for a sub-pipeline's input. */
function* foreignDocs(source: ForeignSource, rctx: RunContext): Flow {
  if (source.viewFlow) {
    yield* source.viewFlow(rctx);
    return;
  }
  if (!source.coll) return;
  for (const r of rctx.host.txn.scan(source.coll)) {
    if (rctx.tick()) yield PAUSE;
    yield r.doc;
  }
}

registerStage({
  name: '$lookup',
  parse(spec, ctx) {
    if (!isDocument(spec)) failLocation(40319, `the $lookup stage specification must be an object, but found ${typeNameOf(spec)}`);
    let from: string | undefined;
    let fromDb = ctx.db;
    let localField: string | undefined;
    let foreignField: string | undefined;
    let as: string | undefined;
    let letSpec: Document | undefined;
    let pipelineSpec: BsonValue[] | undefined;
    for (const k of Object.keys(spec)) {
      const v = spec[k];
      switch (k) {
        case 'from':
          if (typeof v === 'string') from = v;
          else if (isDocument(v) && typeof v.db === 'string' && typeof v.coll === 'string') {
            fromDb = v.db;
            from = v.coll;
          } else fail('FailedToParse', `$lookup 'from' field must be a string or an object, but found ${typeNameOf(v)}`);
          break;
        case 'localField':
        case 'foreignField':
        case 'as':
          if (typeof v !== 'string') fail('FailedToParse', `$lookup argument '${k}: ${String(v)}' must be a string, is type ${typeNameOf(v)}`);
          if (k === 'localField') localField = v;
          else if (k === 'foreignField') foreignField = v;
          else as = v;
          break;
        case 'let':
          if (!isDocument(v)) fail('FailedToParse', `$lookup argument 'let' must be an object, is type ${typeNameOf(v)}`);
          letSpec = v;
          break;
        case 'pipeline':
          if (!Array.isArray(v)) fail('FailedToParse', `$lookup argument 'pipeline' must be an array, is type ${typeNameOf(v)}`);
          pipelineSpec = v;
          break;
        default:
          fail('FailedToParse', `unknown argument to $lookup: ${k}`);
      }
    }
    if (as === undefined) fail('FailedToParse', "must specify 'as' field for a $lookup");
    if ((localField === undefined) !== (foreignField === undefined)) {
      fail('FailedToParse', "$lookup requires both or neither of 'localField' and 'foreignField' to be specified");
    }
    if (localField === undefined && pipelineSpec === undefined) {
      fail('FailedToParse', "$lookup requires either 'pipeline' or both 'localField' and 'foreignField' to be specified");
    }
    if (letSpec && pipelineSpec === undefined) fail('FailedToParse', "$lookup with 'let' must also specify 'pipeline'");
    const startsWithDocuments = isDocument(pipelineSpec?.[0]) && Object.keys(pipelineSpec![0])[0] === '$documents';
    if (from === undefined && !startsWithDocuments) fail('FailedToParse', "must specify 'from' field for a $lookup");
    const asParts = parseFieldPath(as);
    const localParts = localField !== undefined ? parseFieldPath(localField) : undefined;
    const foreignParts = foreignField !== undefined ? splitPath(parseFieldPath(foreignField).join('.')) : undefined;

    const inner = ctx.scope.child();
    const lets: Array<[number, Expression]> = [];
    for (const name of Object.keys(letSpec ?? {})) {
      validateVariableName(name);
      lets.push([inner.define(name), parseExpression(letSpec![name], ctx.scope)]);
    }
    let sub: ParsedPipeline | undefined;
    if (pipelineSpec) {
      const subCtx: PipelineParseContext = { ...ctx, scope: inner, collection: from, nesting: 'lookup', db: fromDb };
      sub = parsePipelineStages(pipelineSpec, subCtx);
    }
    const dbName = fromDb;
    return {
      name: '$lookup',
      spec: { $lookup: spec },
      *run(input, rctx) {
        const source: ForeignSource = from !== undefined ? foreignSource(rctx, dbName, from) : { coll: undefined, viewFlow: undefined };
        const coll = source.coll;
        const vars = rctx.baseVars.slice();
        let hashed: HashedForeign | undefined;
        if (foreignParts) {
          hashed = new HashedForeign(foreignParts, rctx.env.collator);
          for (const d of foreignDocs(source, rctx)) {
            if (d === PAUSE) yield d;
            else hashed.add(d);
          }
        }
        for (const d of input) {
          if (d === PAUSE) {
            yield d;
            continue;
          }
          let matched: Document[] | undefined;
          if (hashed && localParts) {
            const values: BsonValue[] = [];
            extractAll(d, localParts, 0, values);
            if (values.length === 0) values.push(null);
            matched = hashed.lookup(values);
          }
          let results: Document[];
          if (sub) {
            const childVars = rctx.baseVars.slice();
            bind(vars, d);
            for (const [slot, e] of lets) childVars[slot] = e.evaluate(vars);
            const childCtx = childRunContext(rctx, childVars);
            results = [];
            const input = matched ? arrayFlow(matched, childCtx) : source.viewFlow?.(childCtx);
            const flow = input ? runPipeline(sub, childCtx, coll, { input }) : runPipeline(sub, childCtx, coll);
            yield* collect(flow, results);
          } else {
            results = matched ?? [];
          }
          yield withPath(d, asParts, results);
        }
      },
    };
  },
});

registerStage({
  name: '$unionWith',
  parse(spec, ctx) {
    let coll: string | undefined;
    let collDb = ctx.db;
    let pipelineSpec: BsonValue[] = [];
    if (typeof spec === 'string') coll = spec;
    else if (isDocument(spec)) {
      for (const k of Object.keys(spec)) {
        if (k === 'coll') {
          if (typeof spec.coll === 'string') coll = spec.coll;
          else if (isDocument(spec.coll) && typeof spec.coll.db === 'string' && typeof spec.coll.coll === 'string') {
            collDb = spec.coll.db;
            coll = spec.coll.coll;
          } else fail('TypeMismatch', `BSON field '$unionWith.coll' is the wrong type '${typeNameOf(spec.coll)}', expected type 'string'`);
        } else if (k === 'pipeline') {
          if (!Array.isArray(spec.pipeline)) fail('TypeMismatch', `BSON field '$unionWith.pipeline' is the wrong type '${typeNameOf(spec.pipeline)}', expected type 'array'`);
          pipelineSpec = spec.pipeline;
        } else fail('IDLUnknownField', `BSON field '$unionWith.${k}' is an unknown field.`);
      }
      const startsWithDocuments = isDocument(pipelineSpec[0]) && Object.keys(pipelineSpec[0])[0] === '$documents';
      if (coll === undefined && !startsWithDocuments) fail('IDLFailedToParse', "BSON field '$unionWith.coll' is missing but a required field");
    } else {
      failLocation(ErrorCodesFailedToParse, `the $unionWith stage specification must be an object or string, but found ${typeNameOf(spec)}`);
    }
    const sub = parsePipelineStages(pipelineSpec, { ...ctx, scope: ctx.scope.child(), collection: coll, nesting: 'unionWith', db: collDb });
    const dbName = collDb;
    return {
      name: '$unionWith',
      spec: { $unionWith: spec },
      *run(input, rctx) {
        yield* input;
        const source: ForeignSource = coll !== undefined ? foreignSource(rctx, dbName, coll) : { coll: undefined, viewFlow: undefined };
        const childCtx = childRunContext(rctx, rctx.baseVars.slice());
        const viewInput = source.viewFlow?.(childCtx);
        yield* viewInput ? runPipeline(sub, childCtx, source.coll, { input: viewInput }) : runPipeline(sub, childCtx, source.coll);
      },
    };
  },
});

const ErrorCodesFailedToParse = 9;

registerStage({
  name: '$facet',
  notInFacet: true,
  parse(spec, ctx) {
    if (!isDocument(spec) || Object.keys(spec).length === 0) failLocation(40169, 'the $facet specification must be a non-empty object, but found: ' + typeNameOf(spec));
    const facets: Array<[string, ParsedPipeline]> = [];
    for (const name of Object.keys(spec)) {
      if (name.startsWith('$')) failLocation(40169, `$facet pipeline names must not start with '$', but found: ${name}`);
      if (name.includes('.')) failLocation(40169, `$facet pipeline names must not contain '.', but found: ${name}`);
      const p = spec[name];
      if (!Array.isArray(p)) failLocation(40170, `arguments to $facet must be arrays, ${name} is type ${typeNameOf(p)}`);
      if (p.length === 0) failLocation(40171, `sub-pipeline in $facet stage cannot be empty: ${name}`);
      facets.push([name, parsePipelineStages(p, { ...ctx, nesting: 'facet' })]);
    }
    return {
      name: '$facet',
      spec: { $facet: spec },
      *run(input, rctx) {
        const buffered: Document[] = [];
        yield* collect(input, buffered);
        const out: Document = {};
        for (const [name, parsed] of facets) {
          const results: Document[] = [];
          yield* collect(runPipeline(parsed, rctx, undefined, { input: arrayFlow(buffered, rctx) }), results);
          out[name] = results;
        }
        yield out;
      },
    };
  },
});

registerStage({
  name: '$documents',
  firstOnly: true,
  collectionless: true,
  parse(spec, ctx) {
    const expr = parseExpression(spec, ctx.scope);
    return {
      name: '$documents',
      spec: { $documents: spec },
      *run(input, rctx) {
        // $documents ignores its (empty) input: it is the source.
        void input;
        const v = expr.evaluate(rctx.baseVars.slice());
        if (!Array.isArray(v)) failLocation(5858203, 'error during $documents evaluation :: caused by :: an array is expected');
        for (const d of v) {
          if (!isDocument(d)) failLocation(40228, `'newRoot' expression must evaluate to an object, but resulting value was: ${String(d)}. Type of resulting value: '${typeNameOf(d)}'. Input document: {}`);
          if (rctx.tick()) yield PAUSE;
          yield d;
        }
      },
    };
  },
});
