import { fail } from '../../base/index.js';
import { isDocument, typeNameOf } from '../../bson/index.js';
import { explainFind } from './find.js';
import { explainAggregate } from './aggregate.js';
import type { CommandDefinition } from '../types.js';

const VERBOSITIES = ['queryPlanner', 'executionStats', 'allPlansExecution'];

export const explainCommand: CommandDefinition = {
  name: 'explain',
  help: 'Explains how a find would run: the winning plan (IXSCAN with bounds, COLLSCAN, EXPRESS_IXSCAN) and, with executionStats, what it examined.',
  kind: 'read',
  options: ['verbosity'],
  run(ctx) {
    const inner = ctx.body.explain;
    if (!isDocument(inner)) fail('TypeMismatch', `BSON field 'explain.explain' is the wrong type '${typeNameOf(inner)}', expected type 'object'`);
    const verbosity = ctx.body.verbosity ?? 'allPlansExecution';
    if (typeof verbosity !== 'string' || !VERBOSITIES.includes(verbosity)) fail('BadValue', `verbosity string must be one of {'queryPlanner', 'executionStats', 'allPlansExecution'}`);
    const name = Object.keys(inner)[0];
    if (name === 'aggregate') return explainAggregate({ ...ctx, body: { ...inner, $db: ctx.db } }, verbosity);
    if (name !== 'find') fail('CommandNotSupported', `Explain for '${name}' is not supported by Dossier yet`);
    return explainFind({ ...ctx, body: { ...inner, $db: ctx.db } }, verbosity);
  },
};
