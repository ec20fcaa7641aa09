/**
 * replSetResizeOplog: changes the oplog's cap (megabytes, mongod's bounds 990 MB .. 1 PB) and its
 * minimum retention; the oldest entries go at once if the new cap is smaller than what is held.
 */
import { fail } from '../../base/index.js';
import { toJsNumber, typeNameOf } from '../../bson/index.js';
import type { CommandDefinition } from '../types.js';

const OPLOG_SIZE_MB_MIN = 990;
const OPLOG_SIZE_MB_MAX = 1024 * 1024 * 1024;
const MB = 1024 * 1024;

export const replSetResizeOplogCommand: CommandDefinition = {
  name: 'replSetResizeOplog',
  help: 'Resizes the oplog: { replSetResizeOplog: 1, size: <MB>, minRetentionHours: <hours> }',
  kind: 'admin',
  adminOnly: true,
  options: ['size', 'minRetentionHours'],
  run(ctx) {
    const { size, minRetentionHours } = ctx.body;
    for (const [field, v] of [['size', size], ['minRetentionHours', minRetentionHours]] as const) {
      if (v === undefined) continue;
      const t = typeNameOf(v);
      if (!['int', 'long', 'double', 'decimal'].includes(t)) fail('TypeMismatch', `BSON field 'replSetResizeOplog.${field}' is the wrong type '${t}', expected types '[double, int, long, decimal]'`);
    }
    if (size === undefined && minRetentionHours === undefined) fail('InvalidOptions', "replSetResizeOplog requires either 'size' or 'minRetentionHours' to be specified");
    const engine = ctx.instance.engine;
    if (size !== undefined) {
      const mb = toJsNumber(size);
      if (!(mb >= OPLOG_SIZE_MB_MIN)) fail('BadValue', `BSON field 'size' value must be >= ${OPLOG_SIZE_MB_MIN}, actual value '${mb}'`);
      if (!(mb <= OPLOG_SIZE_MB_MAX)) fail('BadValue', `BSON field 'size' value must be <= ${OPLOG_SIZE_MB_MAX}, actual value '${mb}'`);
      engine.resizeOplog(Math.floor(mb * MB));
    }
    if (minRetentionHours !== undefined) {
      const hours = toJsNumber(minRetentionHours);
      if (!(hours >= 0)) fail('BadValue', `BSON field 'minRetentionHours' value must be >= 0, actual value '${hours}'`);
      engine.oplogMinRetentionHours = hours;
    }
    ctx.instance.log.info({ sizeMB: engine.oplogSizeMaxBytes / MB, minRetentionHours: engine.oplogMinRetentionHours }, 'replSetResizeOplog success');
    return {};
  },
};
