/**
 * getLog: the server's in-memory log buffers (mongod's RamLogs). `'*'` lists their names;
 * `'global'` is the recent log lines; `'startupWarnings'` the warnings printed at startup
 * (Dossier prints none, so it is empty).
 */
import { fail } from '../../base/index.js';
import { typeNameOf } from '../../bson/index.js';
import { CommandArgs } from '../args.js';
import type { CommandDefinition } from '../types.js';

const LOG_NAMES = ['global', 'startupWarnings'] as const;
/** mongod's RamLog keeps the newest 1024 lines. */
const RAM_LOG_LINES_MAX = 1024;

export const getLogCommand: CommandDefinition = {
  name: 'getLog',
  help: '{ getLog : \'*\' }  OR { getLog : \'global\' }',
  kind: 'diagnostic',
  adminOnly: true,
  run(ctx) {
    const v = ctx.body.getLog;
    if (v === null) fail('IDLFailedToParse', 'BSON field \'getLog.getLog\' is missing but a required field');
    if (typeof v !== 'string') fail('TypeMismatch', `BSON field 'getLog.getLog' is the wrong type '${typeNameOf(v)}', expected type 'string'`);
    new CommandArgs('getLog', ctx.body).rejectUnknown([]);
    if (v === '*') return { names: [...LOG_NAMES] };
    if (v === 'global') {
      const lines = ctx.instance.logLines;
      return { totalLinesWritten: ctx.instance.totalLogLinesWritten, log: lines.slice(-RAM_LOG_LINES_MAX) };
    }
    if (v === 'startupWarnings') return { totalLinesWritten: 0, log: [] };
    return fail('OperationFailed', `No log named '${v}'`);
  },
};
