import { fail } from '../../base/index.js';
import { CommandArgs } from '../args.js';
import type { CommandDefinition } from '../types.js';

export const abortTransactionCommand: CommandDefinition = {
  name: 'abortTransaction',
  help: 'Aborts the session\'s multi-document transaction: none of its writes become visible.',
  kind: 'session',
  adminOnly: true,
  allowedInTransaction: true,
  options: ['recoveryToken', 'writeConcern'],
  run(ctx) {
    new CommandArgs('abortTransaction', ctx.body).rejectUnknown(['recoveryToken']);
    const session = ctx.session;
    if (!session || !ctx.inTransaction) fail('InvalidOptions', 'abortTransaction must be run within a transaction');
    if (session.state === 'committed') throw session.committedError();
    if (session.state === 'aborted') throw session.abortedError();
    session.abortOpenTransaction(ctx.instance.engine, 'abortTransaction');
    return {};
  },
};
