/**
 * Stages that write ($out, $merge) or report on the server ($collStats, $indexStats, $currentOp,
 * $listLocalSessions, $listSessions). The writing and reporting itself is the host's (the command
 * layer's): this module parses the stages and drives them.
 */
import { DossierError, ErrorCodes, fail, failLocation } from '../../base/index.js';
import { compareValues, isDocument, Long, orderedKeys, typeNameOf, type BsonValue, type Document } from '../../bson/index.js';
import { formatValue } from '../filter/index.js';
import { parseExpression, validateVariableName, NOW_SLOT, type Expression } from './expression.js';
import {
  childRunContext, collect, parsePipelineStages, PAUSE, registerStage, sourceFlow, type OutputSession, type ParsedPipeline, type RunContext,
} from './pipeline.js';
import { runPipeline } from './runner.js';
import { getNested } from './stages.js';
import { setField } from './values.js';

/** `doc` with `id` put first as its _id (field order kept, even for keys JavaScript would reorder). */
function idFirst(id: BsonValue, doc: Document): Document {
  const out: Document = {};
  setField(out, '_id', id);
  for (const k of orderedKeys(doc)) if (k !== '_id') setField(out, k, doc[k]);
  return out;
}

function parseTarget(stage: string, v: BsonValue, db: string): { db: string; coll: string } {
  if (typeof v === 'string') return { db, coll: v };
  if (isDocument(v)) {
    const d = v.db ?? db;
    const c = v.coll;
    if (typeof d !== 'string' || typeof c !== 'string') fail('FailedToParse', `${stage} requires 'db' and 'coll' to be strings`);
    return { db: d, coll: c };
  }
  return failLocation(16990, `${stage} only supports a string or object argument, not ${typeNameOf(v)}`);
}

function openOutput(ctx: RunContext, stage: string, target: { db: string; coll: string }): OutputSession {
  if (!ctx.host.openOutput) fail('IllegalOperation', `${stage} is not available here`);
  return ctx.host.openOutput(target.db, target.coll);
}

/** Runs `write` over the documents in slices, yielding PAUSE between them, then commits. */
function* writeInSlices(ctx: RunContext, out: OutputSession, docs: readonly Document[], write: (d: Document) => void): Generator<typeof PAUSE, void, undefined> {
  try {
    for (const d of docs) {
      if (ctx.tick()) yield PAUSE;
      write(d);
    }
    out.commit();
  } catch (e) {
    out.abort();
    throw e;
  }
}

registerStage({
  name: '$out',
  lastOnly: true,
  forbiddenInTransaction: true,
  notInFacet: true,
  writes: true,
  parse(spec, ctx) {
    const target = parseTarget('$out', spec, ctx.db);
    if (target.coll.length === 0) fail('InvalidNamespace', `Invalid $out target namespace, ${target.db}.`);
    return {
      name: '$out',
      spec: { $out: spec },
      *run(input, rctx) {
        const docs: Document[] = [];
        yield* collect(input, docs);
        const out = openOutput(rctx, '$out', target);
        try {
          out.clear();
        } catch (e) {
          out.abort();
          throw e;
        }
        yield* writeInSlices(rctx, out, docs, (d) => out.insert(d));
      },
    };
  },
});

type WhenMatched = 'replace' | 'keepExisting' | 'merge' | 'fail' | ParsedPipeline;
type WhenNotMatched = 'insert' | 'discard' | 'fail';

registerStage({
  name: '$merge',
  lastOnly: true,
  forbiddenInTransaction: true,
  notInFacet: true,
  writes: true,
  parse(spec, ctx) {
    let target: { db: string; coll: string };
    let on: string[] = ['_id'];
    let whenMatched: WhenMatched = 'merge';
    let whenNotMatched: WhenNotMatched = 'insert';
    const lets: Array<[number, Expression]> = [];
    const inner = ctx.scope.child();
    let newSlot = -1;
    if (typeof spec === 'string') target = { db: ctx.db, coll: spec };
    else if (isDocument(spec)) {
      for (const k of Object.keys(spec)) {
        if (!['into', 'on', 'let', 'whenMatched', 'whenNotMatched'].includes(k)) fail('IDLUnknownField', `BSON field '$merge.${k}' is an unknown field.`);
      }
      if (spec.into === undefined) fail('IDLFailedToParse', "BSON field '$merge.into' is missing but a required field");
      target = parseTarget('$merge', spec.into, ctx.db);
      if (spec.on !== undefined) {
        const o = spec.on;
        if (typeof o === 'string') on = [o];
        else if (Array.isArray(o) && o.length > 0 && o.every((x) => typeof x === 'string')) on = o as string[];
        else failLocation(51186, "$merge 'on' field  must be either a string or an array of strings, but found " + typeNameOf(o));
      }
      if (spec.whenNotMatched !== undefined) {
        if (!['insert', 'discard', 'fail'].includes(spec.whenNotMatched)) fail('BadValue', `Enumeration value '${String(spec.whenNotMatched)}' for field '$merge.whenNotMatched' is not a valid value.`);
        whenNotMatched = spec.whenNotMatched;
      }
      const letSpec = spec.let;
      if (letSpec !== undefined && !isDocument(letSpec)) fail('TypeMismatch', `BSON field '$merge.let' is the wrong type '${typeNameOf(letSpec)}', expected type 'object'`);
      const wm = spec.whenMatched;
      if (Array.isArray(wm)) {
        newSlot = inner.define('new');
        for (const name of Object.keys(letSpec ?? {})) {
          if (name === 'new') continue;
          validateVariableName(name);
          lets.push([inner.define(name), parseExpression(letSpec[name], ctx.scope)]);
        }
        if (letSpec && 'new' in letSpec) lets.push([newSlot, parseExpression(letSpec.new, ctx.scope)]);
        const allowed = new Set(['$addFields', '$set', '$project', '$unset', '$replaceRoot', '$replaceWith']);
        for (const s of wm) {
          const name = isDocument(s) ? Object.keys(s)[0] : undefined;
          if (name && !allowed.has(name)) failLocation(ErrorCodes.InvalidOptions, `${name} is not allowed to be used within an update`);
        }
        whenMatched = parsePipelineStages(wm, { ...ctx, scope: inner, nesting: 'lookup' });
      } else if (wm !== undefined) {
        if (!['replace', 'keepExisting', 'merge', 'fail'].includes(wm)) fail('BadValue', `Enumeration value '${String(wm)}' for field '$merge.whenMatched' is not a valid value.`);
        if (letSpec !== undefined) failLocation(51199, "Cannot use 'let' variables with 'whenMatched: " + wm + "' mode");
        whenMatched = wm;
      }
    } else {
      return failLocation(51182, `$merge only supports a string or object argument, but found ${typeNameOf(spec)}`);
    }
    const t = target;
    const onFields = on;
    return {
      name: '$merge',
      spec: { $merge: spec },
      *run(input, rctx) {
        const docs: Document[] = [];
        yield* collect(input, docs);
        const w = openOutput(rctx, '$merge', t);
        const isId = onFields.length === 1 && onFields[0] === '_id';
        if (!isId && !w.hasUniqueIndexOn(onFields)) {
          w.abort();
          failLocation(51183, 'Cannot find index to verify that join fields will be unique');
        }
        yield* writeInSlices(rctx, w, docs, (d) => {
          const key: Document = {};
          for (const f of onFields) {
            const v = getNested(d, f.split('.'));
            if (v === undefined && f === '_id') continue;
            if (v === undefined || v === null || Array.isArray(v) || typeNameOf(v) === 'undefined') {
              failLocation(51132, `$merge write error: 'on' field '${f}' cannot be missing, null, undefined or an array`);
            }
            key[f] = v;
          }
          const existing = Object.keys(key).length === onFields.length ? w.find(onFields, key) : undefined;
          if (!existing) {
            if (whenNotMatched === 'insert') w.insert(d);
            else if (whenNotMatched === 'fail') failLocation(13113, '$merge could not find a matching document in the target collection for at least one document in the source collection');
            return;
          }
          let next: Document;
          if (whenMatched === 'keepExisting') return;
          if (whenMatched === 'fail') {
            throw new DossierError(ErrorCodes.DuplicateKey, `E11000 duplicate key error collection: ${t.db}.${t.coll} index: _id_ dup key: { _id: ${formatValue(existing._id)} }`, {
              extra: { keyPattern: { _id: 1 }, keyValue: { _id: existing._id } },
            });
          }
          if (whenMatched === 'replace') {
            next = d._id === undefined ? idFirst(existing._id, d) : d;
          } else if (whenMatched === 'merge') {
            next = {};
            for (const k of orderedKeys(existing)) setField(next, k, existing[k]);
            for (const k of orderedKeys(d)) if (d[k] !== undefined) setField(next, k, d[k]);
          } else {
            const childVars = rctx.baseVars.slice();
            childVars[newSlot] = d;
            const lv = rctx.baseVars.slice();
            lv[0] = d;
            lv[1] = d;
            for (const [slot, e] of lets) childVars[slot] = e.evaluate(lv);
            const out: Document[] = [];
            const childCtx = childRunContext(rctx, childVars);
            for (const x of runPipeline(whenMatched, childCtx, undefined, { input: sourceFlow([existing], childCtx) })) if (x !== PAUSE) out.push(x);
            if (out.length !== 1) fail('InternalError', '$merge whenMatched pipeline must produce one document');
            next = out[0]!;
          }
          if (next._id !== undefined && compareValues(next._id, existing._id) !== 0) {
            fail('ImmutableField', "$merge failed to update the matching document, did you attempt to modify the _id or the shard key? :: caused by :: Performing an update on the path '_id' would modify the immutable field '_id'");
          }
          if (next._id === undefined) next = idFirst(existing._id, next);
          w.replace(existing, next);
        });
      },
    };
  },
});

registerStage({
  name: '$collStats',
  firstOnly: true,
  forbiddenInTransaction: true,
  notInFacet: true,
  notInLookup: true,
  parse(spec, ctx) {
    if (!isDocument(spec)) failLocation(5447000, `$collStats must take a nested object but found: ${formatValue(spec)}`);
    for (const k of Object.keys(spec)) {
      if (!['latencyStats', 'storageStats', 'count', 'queryExecStats'].includes(k)) fail('IDLUnknownField', `BSON field '$collStats.${k}' is an unknown field.`);
    }
    const coll = ctx.collection;
    return {
      name: '$collStats',
      spec: { $collStats: spec },
      *run(input, rctx) {
        void input;
        if (!rctx.host.collStats) fail('IllegalOperation', '$collStats is not available here');
        yield rctx.host.collStats(rctx.db, coll ?? '', spec);
      },
    };
  },
});

registerStage({
  name: '$indexStats',
  firstOnly: true,
  forbiddenInTransaction: true,
  notInFacet: true,
  notInLookup: true,
  parse(spec, ctx) {
    if (!isDocument(spec) || Object.keys(spec).length > 0) failLocation(28803, 'The $indexStats stage specification must be an empty object');
    const collName = ctx.collection;
    return {
      name: '$indexStats',
      spec: { $indexStats: spec },
      *run(input, rctx) {
        void input;
        const coll = collName !== undefined ? rctx.host.getCollection(rctx.db, collName) : undefined;
        if (!coll) return;
        const since = rctx.baseVars[NOW_SLOT];
        for (const index of coll.indexes.values()) {
          const out: Document = {
            name: index.name,
            key: index.spec.key,
            host: rctx.host.hostName,
            accesses: { ops: Long.fromNumber(0), since },
            spec: index.spec,
          };
          yield out;
        }
      },
    };
  },
});

registerStage({
  name: '$currentOp',
  firstOnly: true,
  collectionless: true,
  forbiddenInTransaction: true,
  notInFacet: true,
  notInLookup: true,
  parse(spec, ctx) {
    if (!isDocument(spec)) fail('FailedToParse', `$currentOp options must be specified in an object, but found: ${typeNameOf(spec)}`);
    if (ctx.db !== 'admin' || ctx.collection !== undefined) {
      fail('InvalidNamespace', "$currentOp must be run against the 'admin' database with {aggregate: 1}");
    }
    for (const k of Object.keys(spec)) {
      if (!['allUsers', 'idleConnections', 'idleCursors', 'idleSessions', 'localOps', 'backtrace', 'truncateOps', 'targetAllNodes'].includes(k)) {
        fail('FailedToParse', `Unrecognized option '${k}' in $currentOp stage.`);
      }
    }
    return {
      name: '$currentOp',
      spec: { $currentOp: spec },
      *run(input, rctx) {
        void input;
        if (!rctx.host.currentOp) fail('IllegalOperation', '$currentOp is not available here');
        for (const e of rctx.host.currentOp(spec)) yield e;
      },
    };
  },
});

for (const [name, local] of [['$listLocalSessions', true], ['$listSessions', false]] as const) {
  registerStage({
    name,
    firstOnly: true,
    collectionless: local,
    forbiddenInTransaction: true,
    notInFacet: true,
    notInLookup: true,
    parse(spec, ctx) {
      if (!isDocument(spec)) fail('TypeMismatch', `${name} options must be specified in an object, but found: ${typeNameOf(spec)}`);
      for (const k of Object.keys(spec)) if (k !== 'allUsers' && k !== 'users') fail('IDLUnknownField', `BSON field '${name}.${k}' is an unknown field.`);
      if (!local && (ctx.db !== 'config' || ctx.collection !== 'system.sessions')) {
        fail('InvalidNamespace', `${name} may only be run against config.system.sessions`);
      }
      if (local && ctx.collection !== undefined) fail('InvalidNamespace', `${name} must be run against the database with {aggregate: 1}, not a collection`);
      return {
        name,
        spec: { [name]: spec },
        *run(input, rctx) {
          void input;
          for (const e of rctx.host.listSessions?.(spec, local) ?? []) yield e;
        },
      };
    },
  });
}
