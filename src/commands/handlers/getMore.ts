import { fail } from '../../base/index.js';
import { typeNameOf, Long } from '../../bson/index.js';
import { CommandArgs } from '../args.js';
import { CursorManager, cursorIdToLong } from '../cursors.js';
import type { CommandDefinition } from '../types.js';

export const getMoreCommand: CommandDefinition = {
  name: 'getMore',
  help: 'Returns the next batch of a cursor.',
  kind: 'read',
  allowedInTransaction: true,
  options: ['collection', 'batchSize', 'maxTimeMS', 'comment'],
  run(ctx) {
    const idValue = ctx.body.getMore;
    if (typeNameOf(idValue) !== 'long') fail('TypeMismatch', `BSON field 'getMore.getMore' is the wrong type '${typeNameOf(idValue)}', expected type 'long'`);
    const a = new CommandArgs('getMore', ctx.body);
    a.rejectUnknown(['collection', 'batchSize', 'term', 'lastKnownCommittedOpTime']);
    const collection = a.required('collection', a.string);
    const batchSize = a.integer('batchSize');
    if (batchSize !== undefined && batchSize < 0) fail('BadValue', `Batch size for getMore must be non-negative, but received: ${batchSize}`);
    const id = (idValue as Long).toBigInt();
    const ns = `${ctx.db}.${collection}`;
    const { cursors } = ctx.instance;
    const cursor = cursors.checkOut(id, ns);
    try {
      const { batch, exhausted } = CursorManager.readBatch(cursor.source, batchSize === 0 ? undefined : batchSize, cursor);
      cursor.nReturned += batch.length;
      if (exhausted) {
        cursors.kill(id);
        return { cursor: { nextBatch: batch, id: cursorIdToLong(0n), ns } };
      }
      return { cursor: { nextBatch: batch, id: cursorIdToLong(id), ns } };
    } catch (e) {
      cursors.kill(id);
      throw e;
    } finally {
      cursors.checkIn(cursor);
    }
  },
};
