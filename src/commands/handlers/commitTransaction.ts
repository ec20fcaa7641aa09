import { fail } from '../../base/index.js';
import { CommandArgs } from '../args.js';
import { recordSessionWrite, sessionOplogFields } from '../write-path.js';
import type { CommandDefinition } from '../types.js';

export const commitTransactionCommand: CommandDefinition = {
  name: 'commitTransaction',
  help: 'Commits the session\'s multi-document transaction: all its writes become visible at one timestamp.',
  kind: 'session',
  adminOnly: true,
  allowedInTransaction: true,
  options: ['recoveryToken', 'writeConcern', 'maxTimeMS'],
  run(ctx) {
    new CommandArgs('commitTransaction', ctx.body).rejectUnknown(['recoveryToken', 'commitTimestamp']);
    const session = ctx.session;
    if (!session || !ctx.inTransaction || ctx.txnNumber === undefined) fail('InvalidOptions', 'commitTransaction must be run within a transaction');
    switch (session.state) {
      case 'committed':
        // A retried commit of a committed transaction succeeds again (with its write concern).
        return {};
      case 'aborted':
        throw session.abortedError();
      default:
        break;
    }
    const { instance } = ctx;
    const txnNumber = ctx.txnNumber;
    const fields = sessionOplogFields(session, txnNumber, undefined);
    let ts: ReturnType<typeof session.commitOpenTransaction>;
    try {
      ts = session.commitOpenTransaction((txn) => instance.engine.commit(txn, { asTransaction: true, oplogFields: fields }));
    } catch (e) {
      // The journal refused the commit (full or failing disk): the transaction cannot commit later either.
      session.abortOpenTransaction(instance.engine, 'its commit could not be journaled');
      throw e;
    }
    if (ts !== null) recordSessionWrite(instance, session, txnNumber, ts, 'committed');
    return {};
  },
};
