/**
 * Array, object and set operators ($arrayElemAt ... $zip, $getField/$setField, $set*).
 */
import { failLocation } from '../../base/index.js';
import { compareValues, isDocument, orderedKeys, typeNameOf, type BsonValue, type Collator, type Document } from '../../bson/index.js';
import { parseSort, compareForSort } from '../sort.js';
import {
  checkArity, constantExpression, expression, foldConstant, namedArgs, parseExpression, parseOperands, registerOperator,
  validateVariableName, type Expression, type Scope, type Variables,
} from './expression.js';
import { asDouble, fromSafeNum, integral, isNullish, setField, toBool, toSafeNum } from './values.js';

function int(n: number): BsonValue {
  return fromSafeNum({ t: 'int', v: n });
}

/** A numeric operand that must be a whole number representable as int32. */
function int32Of(v: BsonValue, onBad: () => never): number {
  const n = toSafeNum(v);
  if (!n) onBad();
  const x = asDouble(n);
  if (!Number.isInteger(x) || x < -2147483648 || x > 2147483647) onBad();
  return x;
}

registerOperator('$arrayElemAt', (args, scope, name) => {
  const ops = parseOperands(args, scope);
  checkArity(name, ops, 2);
  return foldConstant(ops, (vars) => {
    const arr = ops[0]!.evaluate(vars);
    const idx = ops[1]!.evaluate(vars);
    if (isNullish(arr) || isNullish(idx)) return null;
    if (!Array.isArray(arr)) failLocation(28689, `$arrayElemAt's first argument must be an array, but is ${typeNameOf(arr)}`);
    if (!toSafeNum(idx)) failLocation(28690, `$arrayElemAt's second argument must be a numeric value, but is ${typeNameOf(idx)}`);
    const i = int32Of(idx, () => failLocation(28691, `$arrayElemAt's second argument must be representable as a 32-bit integer: ${idx}`));
    const k = i < 0 ? arr.length + i : i;
    return k >= 0 && k < arr.length ? arr[k] : undefined;
  });
});

for (const [name, pick] of [['$first', (a: BsonValue[]) => a[0]], ['$last', (a: BsonValue[]) => a[a.length - 1]]] as const) {
  registerOperator(name, (args, scope) => {
    const ops = parseOperands(args, scope);
    checkArity(name, ops, 1);
    return foldConstant(ops, (vars) => {
      const arr = ops[0]!.evaluate(vars);
      if (isNullish(arr)) return null;
      if (!Array.isArray(arr)) failLocation(28689, `${name}'s argument must be an array, but is ${typeNameOf(arr)}`);
      return pick(arr);
    });
  });
}

registerOperator('$size', (args, scope, name) => {
  const ops = parseOperands(args, scope);
  checkArity(name, ops, 1);
  return foldConstant(ops, (vars) => {
    const arr = ops[0]!.evaluate(vars);
    if (!Array.isArray(arr)) failLocation(17124, `The argument to $size must be an array. Type of the argument was: ${typeNameOf(arr)}`);
    return int(arr.length);
  });
});

registerOperator('$isArray', (args, scope, name) => {
  const ops = parseOperands(args, scope);
  checkArity(name, ops, 1);
  return foldConstant(ops, (vars) => Array.isArray(ops[0]!.evaluate(vars)));
});

registerOperator('$concatArrays', (args, scope) => {
  const ops = parseOperands(args, scope);
  return foldConstant(ops, (vars) => {
    const out: BsonValue[] = [];
    for (const o of ops) {
      const v = o.evaluate(vars);
      if (isNullish(v)) return null;
      if (!Array.isArray(v)) failLocation(28664, `$concatArrays only supports arrays, not ${typeNameOf(v)}`);
      out.push(...v);
    }
    return out;
  });
});

registerOperator('$reverseArray', (args, scope, name) => {
  const ops = parseOperands(args, scope);
  checkArity(name, ops, 1);
  return foldConstant(ops, (vars) => {
    const v = ops[0]!.evaluate(vars);
    if (isNullish(v)) return null;
    if (!Array.isArray(v)) failLocation(34435, `The argument to $reverseArray must be an array, but was of type: ${typeNameOf(v)}`);
    return [...v].reverse();
  });
});

registerOperator('$in', (args, scope, name) => {
  const ops = parseOperands(args, scope);
  const collator = scope.state.env.collator;
  checkArity(name, ops, 2);
  return foldConstant(ops, (vars) => {
    const v = ops[0]!.evaluate(vars);
    const arr = ops[1]!.evaluate(vars);
    if (!Array.isArray(arr)) failLocation(40081, `$in requires an array as a second argument, found: ${typeNameOf(arr)}`);
    return arr.some((e) => compareValues(e, v, collator) === 0);
  });
});

registerOperator('$indexOfArray', (args, scope, name) => {
  const ops = parseOperands(args, scope);
  const collator = scope.state.env.collator;
  checkArity(name, ops, 2, 4);
  return foldConstant(ops, (vars) => {
    const arr = ops[0]!.evaluate(vars);
    if (isNullish(arr)) return null;
    if (!Array.isArray(arr)) failLocation(40090, `$indexOfArray requires an array as a first argument, found: ${typeNameOf(arr)}`);
    const v = ops[1]!.evaluate(vars);
    const bound = (e: Expression | undefined, dflt: number, what: string): number => {
      if (!e) return dflt;
      const x = e.evaluate(vars);
      const n = int32Of(x, () => failLocation(40096, `$indexOfArray requires an integral ${what}, found a value of type: ${typeNameOf(x)}, with value: ${x}`));
      if (n < 0) failLocation(40097, `$indexOfArray requires a nonnegative ${what}, found: ${n}`);
      return n;
    };
    const start = bound(ops[2], 0, 'starting index');
    const end = Math.min(arr.length, bound(ops[3], arr.length, 'ending index'));
    for (let i = start; i < end; i++) if (compareValues(arr[i], v, collator) === 0) return int(i);
    return int(-1);
  });
});

registerOperator('$slice', (args, scope, name) => {
  const ops = parseOperands(args, scope);
  checkArity(name, ops, 2, 3);
  return foldConstant(ops, (vars) => {
    const arr = ops[0]!.evaluate(vars);
    const values = ops.slice(1).map((o) => o.evaluate(vars));
    if (isNullish(arr) || values.some(isNullish)) return null;
    if (!Array.isArray(arr)) failLocation(28724, `First argument to $slice must be an array, but is of type: ${typeNameOf(arr)}`);
    if (values.length === 1) {
      const n = int32Of(values[0], () => failLocation(28725, `Second argument to $slice must be a numeric value, but is of type: ${typeNameOf(values[0])}`));
      return n >= 0 ? arr.slice(0, n) : arr.slice(Math.max(0, arr.length + n));
    }
    const pos = int32Of(values[0], () => failLocation(28725, `Second argument to $slice must be a numeric value, but is of type: ${typeNameOf(values[0])}`));
    const n = int32Of(values[1], () => failLocation(28727, `Third argument to $slice must be numeric, but is of type: ${typeNameOf(values[1])}`));
    if (n <= 0) failLocation(28729, `Third argument to $slice must be positive: ${n}`);
    const start = pos < 0 ? Math.max(0, arr.length + pos) : Math.min(pos, arr.length);
    return arr.slice(start, start + n);
  });
});

registerOperator('$range', (args, scope, name) => {
  const ops = parseOperands(args, scope);
  checkArity(name, ops, 2, 3);
  return foldConstant(ops, (vars) => {
    const s = ops[0]!.evaluate(vars);
    const e = ops[1]!.evaluate(vars);
    const st = ops[2]?.evaluate(vars);
    const start = int32Of(s, () => failLocation(34443, `$range requires a numeric starting value, found value of type: ${typeNameOf(s)}`));
    const end = int32Of(e, () => failLocation(34445, `$range requires a numeric ending value, found value of type: ${typeNameOf(e)}`));
    let step = 1;
    if (ops[2]) {
      step = int32Of(st, () => failLocation(34447, `$range requires a numeric step value, found value of type: ${typeNameOf(st)}`));
      if (step === 0) failLocation(34449, '$range requires a non-zero step value');
    }
    const out: BsonValue[] = [];
    if (step > 0) for (let i = start; i < end; i += step) out.push(int(i));
    else for (let i = start; i > end; i += step) out.push(int(i));
    return out;
  });
});

/** Parses `{input, as, ...}` with the iteration variable bound in a child scope. */
function iterationScope(scope: Scope, as: BsonValue, dflt: string, opName: string): { inner: Scope; slot: number } {
  const name = as === undefined ? dflt : as;
  if (typeof name !== 'string') failLocation(opName === '$map' ? 16866 : 16866, 'empty variable names are not allowed');
  validateVariableName(name);
  const inner = scope.child();
  return { inner, slot: inner.define(name) };
}

registerOperator('$map', (args, scope) => {
  if (!isDocument(args)) failLocation(16878, '$map only supports an object as its argument');
  for (const k of Object.keys(args)) if (k !== 'input' && k !== 'as' && k !== 'in') failLocation(16879, `Unrecognized parameter to $map: ${k}`);
  if (!('input' in args)) failLocation(16880, "Missing 'input' parameter to $map");
  if (!('in' in args)) failLocation(16882, "Missing 'in' parameter to $map");
  const input = parseExpression(args.input, scope);
  const { inner, slot } = iterationScope(scope, args.as, 'this', '$map');
  const body = parseExpression(args.in, inner);
  return expression((vars: Variables) => {
    const arr = input.evaluate(vars);
    if (isNullish(arr)) return null;
    if (!Array.isArray(arr)) failLocation(16883, `input to $map must be an array not ${typeNameOf(arr)}`);
    return arr.map((el) => {
      vars[slot] = el;
      const v = body.evaluate(vars);
      return v === undefined ? null : v;
    });
  });
});

registerOperator('$filter', (args, scope) => {
  if (!isDocument(args)) failLocation(28646, '$filter only supports an object as its argument');
  for (const k of Object.keys(args)) if (!['input', 'as', 'cond', 'limit'].includes(k)) failLocation(28647, `Unrecognized parameter to $filter: ${k}`);
  if (!('input' in args)) failLocation(28648, "Missing 'input' parameter to $filter");
  if (!('cond' in args)) failLocation(28650, "Missing 'cond' parameter to $filter");
  const input = parseExpression(args.input, scope);
  const limit = 'limit' in args ? parseExpression(args.limit, scope) : undefined;
  const { inner, slot } = iterationScope(scope, args.as, 'this', '$filter');
  const cond = parseExpression(args.cond, inner);
  return expression((vars: Variables) => {
    const arr = input.evaluate(vars);
    if (isNullish(arr)) return null;
    if (!Array.isArray(arr)) failLocation(28651, `input to $filter must be an array not ${typeNameOf(arr)}`);
    let max = Infinity;
    if (limit) {
      const l = limit.evaluate(vars);
      if (!isNullish(l)) {
        max = int32Of(l, () => failLocation(327391, `$filter: limit must be represented as a 32-bit integral value: ${l}`));
        if (max < 1) failLocation(327392, `$filter: limit must be greater than 0: ${max}`);
      }
    }
    const out: BsonValue[] = [];
    for (const el of arr) {
      if (out.length >= max) break;
      vars[slot] = el;
      if (toBool(cond.evaluate(vars))) out.push(el);
    }
    return out;
  });
});

registerOperator('$reduce', (args, scope) => {
  if (!isDocument(args)) failLocation(40075, `$reduce requires an object as an argument, found: ${typeNameOf(args)}`);
  for (const k of Object.keys(args)) if (!['input', 'initialValue', 'in'].includes(k)) failLocation(40076, `$reduce found an unknown argument: ${k}`);
  if (!('input' in args)) failLocation(40077, "$reduce requires 'input' to be specified");
  if (!('initialValue' in args)) failLocation(40078, "$reduce requires 'initialValue' to be specified");
  if (!('in' in args)) failLocation(40079, "$reduce requires 'in' to be specified");
  const input = parseExpression(args.input, scope);
  const initial = parseExpression(args.initialValue, scope);
  const inner = scope.child();
  const thisSlot = inner.define('this');
  const valueSlot = inner.define('value');
  const body = parseExpression(args.in, inner);
  return expression((vars: Variables) => {
    const arr = input.evaluate(vars);
    if (isNullish(arr)) return null;
    if (!Array.isArray(arr)) failLocation(40080, `$reduce requires that 'input' be an array, found: ${typeNameOf(arr)}`);
    let acc = initial.evaluate(vars);
    for (const el of arr) {
      vars[thisSlot] = el;
      vars[valueSlot] = acc;
      acc = body.evaluate(vars);
    }
    return acc;
  });
});

registerOperator('$zip', (args, scope) => {
  if (!isDocument(args)) failLocation(34460, `$zip only supports an object as an argument, found ${typeNameOf(args)}`);
  for (const k of Object.keys(args)) if (!['inputs', 'useLongestLength', 'defaults'].includes(k)) failLocation(34464, `$zip found an unknown argument: ${k}`);
  if (!Array.isArray(args.inputs)) failLocation(34461, `inputs must be an array of expressions, found ${typeNameOf(args.inputs)}`);
  const inputs = (args.inputs as BsonValue[]).map((e) => parseExpression(e, scope));
  const longest = args.useLongestLength === true;
  if (args.useLongestLength !== undefined && typeof args.useLongestLength !== 'boolean') failLocation(34463, `useLongestLength must be a bool, found ${typeNameOf(args.useLongestLength)}`);
  let defaults: Expression[] | undefined;
  if (args.defaults !== undefined) {
    if (!Array.isArray(args.defaults)) failLocation(34462, `defaults must be an array of expressions, found ${typeNameOf(args.defaults)}`);
    if (!longest) failLocation(34466, 'cannot specify defaults unless useLongestLength is true');
    defaults = (args.defaults as BsonValue[]).map((e) => parseExpression(e, scope));
    if (defaults.length !== inputs.length) failLocation(34467, 'defaults and inputs must have the same length');
  }
  return expression((vars) => {
    const arrays: BsonValue[][] = [];
    for (const e of inputs) {
      const v = e.evaluate(vars);
      if (isNullish(v)) return null;
      if (!Array.isArray(v)) failLocation(34468, `$zip found a non-array expression in input: ${typeNameOf(v)}`);
      arrays.push(v);
    }
    if (arrays.length === 0) return [];
    const n = longest ? Math.max(...arrays.map((a) => a.length)) : Math.min(...arrays.map((a) => a.length));
    const dflts = defaults?.map((d) => d.evaluate(vars)) ?? [];
    const out: BsonValue[] = [];
    for (let i = 0; i < n; i++) out.push(arrays.map((a, j) => (i < a.length ? a[i] : (dflts[j] ?? null))));
    return out;
  });
});

registerOperator('$sortArray', (args, scope) => {
  if (!isDocument(args)) failLocation(2942500, `$sortArray requires an object as an argument, found: ${typeNameOf(args)}`);
  for (const k of Object.keys(args)) if (k !== 'input' && k !== 'sortBy') failLocation(2942501, `$sortArray found an unknown argument: ${k}`);
  if (!('input' in args)) failLocation(2942502, "$sortArray requires 'input' to be specified");
  if (!('sortBy' in args)) failLocation(2942503, "$sortArray requires 'sortBy' to be specified");
  const input = parseExpression(args.input, scope);
  const sortBy = args.sortBy;
  let cmp: (a: BsonValue, b: BsonValue) => number;
  const collator = scope.state.env.collator;
  if (isDocument(sortBy)) {
    const spec = parseSort(sortBy, collator);
    const byDoc = compareForSort(spec);
    // Non-documents sort before documents, by value, as mongod's sortArray with a pattern.
    cmp = (a, b) => {
      const da = isDocument(a);
      const db = isDocument(b);
      if (da && db) return byDoc(a, b);
      return compareValues(da ? {} : a, db ? {} : b, collator);
    };
  } else {
    const n = toSafeNum(sortBy);
    const d = n ? asDouble(n) : 0;
    if (d !== 1 && d !== -1) failLocation(2942505, '$sortArray requires sortBy to be either 1, -1 or a valid sort pattern');
    cmp = d === 1 ? (a, b) => compareValues(a, b, collator) : (a, b) => compareValues(b, a, collator);
  }
  return foldConstant([input], (vars) => {
    const arr = input.evaluate(vars);
    if (isNullish(arr)) return null;
    if (!Array.isArray(arr)) failLocation(2942504, `The input argument to $sortArray must be an array, but was of type: ${typeNameOf(arr)}`);
    return [...arr].sort(cmp);
  });
});

// ---- N forms over arrays ($firstN ... $minN as expressions) -------------------------------------

function arrayN(name: string, pick: (arr: BsonValue[], n: number, collator: Collator | null | undefined) => BsonValue[]): void {
  registerOperator(name, (args, scope) => {
    const collator = scope.state.env.collator;
    if (!isDocument(args)) failLocation(5787801, `specification must be an object; found ${typeNameOf(args)}`);
    for (const k of Object.keys(args)) if (k !== 'input' && k !== 'n') failLocation(5787901, `Unknown argument for 'n' operator: ${k}`);
    if (!('n' in args)) failLocation(5787906, `Missing value for 'n'`);
    if (!('input' in args)) failLocation(5787907, `Missing value for 'input'`);
    const n = parseExpression(args.n, scope);
    const input = parseExpression(args.input, scope);
    return foldConstant([n, input], (vars) => {
      const nv = n.evaluate(vars);
      const k = toSafeNum(nv);
      if (!k || !Number.isInteger(asDouble(k))) failLocation(5787902, `Value for 'n' must be of integral type, but found ${String(nv)}`);
      if (asDouble(k) <= 0) failLocation(5787908, `'n' must be greater than 0, found ${asDouble(k)}`);
      const arr = input.evaluate(vars);
      if (!Array.isArray(arr)) failLocation(5788200, `Input must be an array; found ${typeNameOf(arr)}`);
      return pick(arr, asDouble(k), collator);
    });
  });
}

arrayN('$firstN', (a, n) => a.slice(0, n));
arrayN('$lastN', (a, n) => a.slice(Math.max(0, a.length - n)));
arrayN('$maxN', (a, n, c) => a.filter((v) => !isNullish(v)).sort((x, y) => compareValues(y, x, c)).slice(0, n));
arrayN('$minN', (a, n, c) => a.filter((v) => !isNullish(v)).sort((x, y) => compareValues(x, y, c)).slice(0, n));

// ---- objects -------------------------------------------------------------------------------------

registerOperator('$mergeObjects', (args, scope) => {
  const ops = parseOperands(args, scope);
  return foldConstant(ops, (vars) => {
    const out: Document = {};
    for (const o of ops) {
      const v = o.evaluate(vars);
      if (isNullish(v)) continue;
      if (!isDocument(v)) failLocation(40400, `$mergeObjects requires object inputs, but input ${formatAny(v)} is of type ${typeNameOf(v)}`);
      for (const k of orderedKeys(v)) if (v[k] !== undefined) setField(out, k, v[k]);
    }
    return out;
  });
});

function formatAny(v: BsonValue): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(v?.toString?.() ?? v);
}

registerOperator('$objectToArray', (args, scope, name) => {
  const ops = parseOperands(args, scope);
  checkArity(name, ops, 1);
  return foldConstant(ops, (vars) => {
    const v = ops[0]!.evaluate(vars);
    if (isNullish(v)) return null;
    if (!isDocument(v)) failLocation(40390, `$objectToArray requires a document input, found: ${typeNameOf(v)}`);
    return orderedKeys(v).filter((k) => v[k] !== undefined).map((k) => ({ k, v: v[k] }));
  });
});

registerOperator('$arrayToObject', (args, scope, name) => {
  const ops = parseOperands(args, scope);
  checkArity(name, ops, 1);
  return foldConstant(ops, (vars) => {
    const arr = ops[0]!.evaluate(vars);
    if (isNullish(arr)) return null;
    if (!Array.isArray(arr)) failLocation(40386, `$arrayToObject requires an array input, found: ${typeNameOf(arr)}`);
    const out: Document = {};
    if (arr.length === 0) return out;
    const pairs = Array.isArray(arr[0]);
    for (const el of arr) {
      let k: BsonValue;
      let v: BsonValue;
      if (pairs) {
        if (!Array.isArray(el)) failLocation(40396, `$arrayToObject requires a consistent input format. Elements must all be arrays or all be objects. Array was detected, now found: ${typeNameOf(el)}`);
        if (el.length !== 2) failLocation(40397, `$arrayToObject requires an array of size 2 arrays,found array of size: ${el.length}`);
        [k, v] = el;
        if (typeof k !== 'string') failLocation(40395, `$arrayToObject requires an array of key-value pairs, where the key must be of type string. Found key type: ${typeNameOf(k)}`);
      } else {
        if (!isDocument(el)) failLocation(40398, `$arrayToObject requires a consistent input format. Elements must all be arrays or all be objects. Object was detected, now found: ${typeNameOf(el)}`);
        const keys = Object.keys(el);
        if (keys.length !== 2 || !('k' in el) || !('v' in el)) failLocation(40392, `$arrayToObject requires an object keys of 'k' and 'v'. Found incorrect number of keys:${keys.length}`);
        k = el.k;
        v = el.v;
        if (typeof k !== 'string') failLocation(40394, `$arrayToObject requires an object with keys 'k' and 'v', where the value of 'k' must be of type string. Found type: ${typeNameOf(k)}`);
      }
      if ((k as string).includes('\0')) failLocation(4940400, "Key field cannot contain an embedded null byte");
      setField(out, k as string, v);
    }
    return out;
  });
});

function fieldArg(name: string, spec: BsonValue, scope: Scope): Expression {
  const e = parseExpression(spec, scope);
  if (e.constant === undefined) {
    // mongod requires 'field' to be a constant string (possibly via $literal).
    failLocation(5654601, `${name} requires 'field' to evaluate to a constant, but got a non-constant argument`);
  }
  if (typeof e.constant.value !== 'string') failLocation(5654602, `${name} requires 'field' to evaluate to type String, but got ${typeNameOf(e.constant.value)}`);
  return e;
}

registerOperator('$getField', (args, scope, name) => {
  let fieldSpec: BsonValue;
  let inputSpec: BsonValue = '$$CURRENT';
  if (isDocument(args) && ('field' in args || 'input' in args)) {
    for (const k of Object.keys(args)) if (k !== 'field' && k !== 'input') failLocation(3041701, `$getField found an unknown argument: ${k}`);
    if (!('field' in args)) failLocation(3041702, "$getField requires 'field' to be specified");
    if (!('input' in args)) failLocation(3041703, "$getField requires 'input' to be specified");
    fieldSpec = args.field;
    inputSpec = args.input;
  } else {
    fieldSpec = args;
  }
  const field = fieldArg(name, fieldSpec, scope).constant!.value as string;
  const input = parseExpression(inputSpec, scope);
  return expression((vars) => {
    const v = input.evaluate(vars);
    if (isNullish(v)) return null;
    if (!isDocument(v)) return undefined;
    return Object.prototype.hasOwnProperty.call(v, field) ? v[field] : undefined;
  });
});

function setFieldOp(name: string, unset: boolean): void {
  registerOperator(name, (args, scope) => {
    const known = unset ? ['field', 'input'] : ['field', 'input', 'value'];
    const spec = namedArgs(name, args, known, {
      notObject: [4161100, `${name} only supports an object as its argument`],
      unknown: (k) => [4161101, `${name} found an unknown argument: ${k}`],
    });
    for (const k of known) if (!(k in spec)) failLocation(4161102, `${name} requires '${k}' to be specified`);
    const field = fieldArg(name, spec.field, scope).constant!.value as string;
    const input = parseExpression(spec.input, scope);
    const value = unset ? undefined : parseExpression(spec.value, scope);
    return expression((vars) => {
      const v = input.evaluate(vars);
      if (isNullish(v)) return null;
      if (!isDocument(v)) failLocation(4161105, `${name} requires 'input' to evaluate to type Object`);
      const nv = value?.evaluate(vars);
      const out: Document = {};
      let placed = false;
      for (const k of orderedKeys(v)) {
        if (k === field) {
          placed = true;
          if (nv !== undefined) setField(out, k, nv);
        } else setField(out, k, v[k]);
      }
      if (!placed && nv !== undefined) setField(out, field, nv);
      return out;
    });
  });
}

setFieldOp('$setField', false);
setFieldOp('$unsetField', true);

// ---- sets ----------------------------------------------------------------------------------------

function dedupe(values: readonly BsonValue[], collator: Collator | null | undefined): BsonValue[] {
  const out: BsonValue[] = [];
  for (const v of values) if (!out.some((x) => compareValues(x, v, collator) === 0)) out.push(v);
  return out;
}

function has(set: readonly BsonValue[], v: BsonValue, collator: Collator | null | undefined): boolean {
  return set.some((x) => compareValues(x, v, collator) === 0);
}

registerOperator('$setEquals', (args, scope, name) => {
  const ops = parseOperands(args, scope);
  const collator = scope.state.env.collator;
  if (ops.length < 2) failLocation(17045, `$setEquals needs at least two arguments had: ${ops.length}`);
  return foldConstant(ops, (vars) => {
    const sets = ops.map((o, i) => {
      const v = o.evaluate(vars);
      if (!Array.isArray(v)) failLocation(17044, `All operands of ${name} must be arrays. ${i + 1}-th argument is of type: ${typeNameOf(v)}`);
      return dedupe(v, collator);
    });
    const first = sets[0]!;
    return sets.every((s) => s.length === first.length && s.every((x) => has(first, x, collator)));
  });
});

registerOperator('$setIntersection', (args, scope, name) => {
  const ops = parseOperands(args, scope);
  const collator = scope.state.env.collator;
  return foldConstant(ops, (vars) => {
    let acc: BsonValue[] | undefined;
    for (const o of ops) {
      const v = o.evaluate(vars);
      if (isNullish(v)) return null;
      if (!Array.isArray(v)) failLocation(17047, `All operands of ${name} must be arrays. One argument is of type: ${typeNameOf(v)}`);
      acc = acc === undefined ? dedupe(v, collator) : acc.filter((x) => has(v, x, collator));
    }
    return acc ?? [];
  });
});

registerOperator('$setUnion', (args, scope, name) => {
  const ops = parseOperands(args, scope);
  const collator = scope.state.env.collator;
  return foldConstant(ops, (vars) => {
    const acc: BsonValue[] = [];
    for (const o of ops) {
      const v = o.evaluate(vars);
      if (isNullish(v)) return null;
      if (!Array.isArray(v)) failLocation(17043, `All operands of ${name} must be arrays. One argument is of type: ${typeNameOf(v)}`);
      acc.push(...v);
    }
    return dedupe(acc, collator);
  });
});

registerOperator('$setDifference', (args, scope, name) => {
  const ops = parseOperands(args, scope);
  const collator = scope.state.env.collator;
  checkArity(name, ops, 2);
  return foldConstant(ops, (vars) => {
    const a = ops[0]!.evaluate(vars);
    const b = ops[1]!.evaluate(vars);
    if (isNullish(a) || isNullish(b)) return null;
    if (!Array.isArray(a)) failLocation(17048, `both operands of $setDifference must be arrays. First argument is of type: ${typeNameOf(a)}`);
    if (!Array.isArray(b)) failLocation(17049, `both operands of $setDifference must be arrays. Second argument is of type: ${typeNameOf(b)}`);
    return dedupe(a, collator).filter((x) => !has(b, x, collator));
  });
});

registerOperator('$setIsSubset', (args, scope, name) => {
  const ops = parseOperands(args, scope);
  const collator = scope.state.env.collator;
  checkArity(name, ops, 2);
  return foldConstant(ops, (vars) => {
    const a = ops[0]!.evaluate(vars);
    const b = ops[1]!.evaluate(vars);
    if (!Array.isArray(a)) failLocation(17046, `both operands of $setIsSubset must be arrays. First argument is of type: ${typeNameOf(a)}`);
    if (!Array.isArray(b)) failLocation(17042, `both operands of $setIsSubset must be arrays. Second argument is of type: ${typeNameOf(b)}`);
    return a.every((x) => has(b, x, collator));
  });
});

for (const [name, all] of [['$anyElementTrue', false], ['$allElementsTrue', true]] as const) {
  registerOperator(name, (args, scope) => {
    const ops = parseOperands(args, scope);
    checkArity(name, ops, 1);
    return foldConstant(ops, (vars) => {
      const v = ops[0]!.evaluate(vars);
      if (!Array.isArray(v)) failLocation(all ? 17040 : 17041, `${name}'s argument must be an array, but is ${typeNameOf(v)}`);
      return all ? v.every(toBool) : v.some(toBool);
    });
  });
}

export { constantExpression, integral };
