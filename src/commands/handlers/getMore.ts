import { fail, failLocation } from '../../base/index.js';
import { typeNameOf, Long } from '../../bson/index.js';
import { CommandArgs } from '../args.js';
import { CursorManager, cursorIdToLong, type ClientCursor } from '../cursors.js';
import type { Document } from '../../bson/index.js';
import { appNameOf, failPointsOf, sleepMs } from '../failpoints.js';
import type { CommandContext, CommandDefinition } from '../types.js';
import { labelChangeStreamError } from '../change-streams.js';

/** How often an awaitData getMore looks for new documents while it waits. */
const AWAIT_POLL_MS = 10;

/** A cursor stays in the session, and the transaction, that opened it (mongod's getMore checks). */
function checkCursorSession(ctx: CommandContext, cursor: ClientCursor): void {
  if (cursor.sessionKey !== undefined && ctx.session === undefined) {
    failLocation(50737, `Cannot run getMore on cursor ${cursor.id}, which was created in session ${cursor.sessionKey}, without an lsid`);
  }
  if (cursor.sessionKey !== undefined && ctx.session !== undefined && cursor.sessionKey !== ctx.session.key) {
    failLocation(50738, `Cannot run getMore on cursor ${cursor.id}, which was created in session ${cursor.sessionKey}, in session ${ctx.session.key}`);
  }
  if (cursor.inTransaction && !ctx.inTransaction) {
    failLocation(50740, `Cannot run getMore on cursor ${cursor.id}, which was created in transaction ${cursor.txnNumber}, without a txnNumber`);
  }
  if (cursor.inTransaction && ctx.txnNumber !== cursor.txnNumber) {
    failLocation(50739, `Cannot run getMore on cursor ${cursor.id}, which was created in transaction ${cursor.txnNumber}, in transaction ${ctx.txnNumber}`);
  }
  if (!cursor.inTransaction && ctx.inTransaction) {
    failLocation(50741, `Cannot run getMore on cursor ${cursor.id}, which was not created in a transaction, in a transaction`);
  }
}

export const getMoreCommand: CommandDefinition = {
  name: 'getMore',
  help: 'Returns the next batch of a cursor.',
  kind: 'read',
  allowedInTransaction: true,
  options: ['collection', 'batchSize', 'maxTimeMS', 'comment'],
  async run(ctx) {
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
    const existing = cursors.get(id);
    if (existing) checkCursorSession(ctx, existing);
    const cursor = cursors.checkOut(id, ns);
    try {
      const injected = failPointsOf(ctx.instance).getMoreAfterCursorCheckout({ namespace: ns, appName: appNameOf(ctx.connection.clientMetadata) });
      if (injected) throw injected;
      const size = batchSize === 0 ? undefined : batchSize;
      // A pipeline's cursor is read asynchronously, so its work yields to other connections as
      // the first batch's did; other sources are plain iterators.
      const read = (): Promise<{ batch: Document[]; exhausted: boolean }> | { batch: Document[]; exhausted: boolean } =>
        cursor.nextAsync ? CursorManager.readBatchAsync(cursor.nextAsync, size, cursor) : CursorManager.readBatch(cursor.source, size, cursor);
      let { batch, exhausted } = await read();
      const tailing = (): boolean => cursor.tailable && cursor.keepTailing?.() === true;
      if (tailing() && cursor.awaitData && batch.length === 0) {
        // An awaitData getMore waits for new documents up to its maxTimeMS (1 s by default), then answers an empty batch.
        const { clock } = ctx.instance;
        const deadline = clock.nowMs() + (ctx.generic.maxTimeMS ?? 1000);
        while (batch.length === 0 && clock.nowMs() < deadline && !ctx.killed() && cursors.get(id) === cursor) {
          await sleepMs(clock, Math.min(AWAIT_POLL_MS, Math.max(1, deadline - clock.nowMs())));
          ({ batch, exhausted } = await read());
        }
      }
      cursor.nReturned += batch.length;
      // A tailable cursor outlives an empty batch: it is the client's to close.
      const closed = exhausted && !tailing();
      const reply: Document = { nextBatch: batch };
      if (cursor.changeStream) reply.postBatchResumeToken = cursor.changeStream.postBatchResumeToken(batch[batch.length - 1]);
      reply.id = cursorIdToLong(closed ? 0n : id);
      reply.ns = ns;
      if (closed) cursors.kill(id);
      return { cursor: reply };
    } catch (e) {
      cursors.kill(id);
      if (cursor.changeStream) labelChangeStreamError(e);
      throw e;
    } finally {
      cursors.checkIn(cursor);
    }
  },
};
