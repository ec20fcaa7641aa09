/**
 * killOp: marks an in-flight operation (by the opid currentOp shows) as killed; the operation
 * notices at its next check and fails with Interrupted. Like mongod, the reply does not say
 * whether such an operation existed.
 */
import { fail } from '../../base/index.js';
import { formatValue, toJsNumber, typeNameOf } from '../../bson/index.js';
import type { CommandDefinition } from '../types.js';

/** mongod's bsonExtractIntegerField(cmdObj, "op"): a number exactly representable as an integer. */
function parseOpId(v: unknown): number {
  if (v === undefined) fail('NoSuchKey', 'Missing expected field "op"');
  const t = typeNameOf(v);
  if (t !== 'int' && t !== 'long' && t !== 'double' && t !== 'decimal') fail('TypeMismatch', `Expected field "op" to have numeric type, but found ${t}`);
  const n = toJsNumber(v);
  if (!Number.isInteger(n)) fail('BadValue', `Expected field "op" to have a value exactly representable as a 64-bit integer, but found op: ${formatValue(v)}`);
  // Operation ids are unsigned 32-bit on mongod.
  if (n < -(2 ** 31) || n > 2 ** 32 - 1) fail('BadValue', `invalid op : ${n}. Op ID cannot be represented with 32 bits`);
  return n;
}

export const killOpCommand: CommandDefinition = {
  name: 'killOp',
  help: 'Kills the operation with the given opid: { killOp: 1, op: <opid> }',
  kind: 'admin',
  adminOnly: true,
  run(ctx) {
    const opid = parseOpId(ctx.body.op);
    const found = ctx.instance.killOperation(opid);
    ctx.instance.log.info({ opid, found }, 'Going to kill op');
    return { info: 'attempting to kill op' };
  },
};
