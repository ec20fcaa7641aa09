/**
 * fsync: makes every commit durable now and writes a checkpoint, as mongod flushes its storage
 * engine. `lock: true` (fsyncLock, for file-copy backups) is refused: the journal and checkpoint
 * writers would have to stop while commands keep running, and Dossier does not do that yet.
 */
import { fail } from '../../base/index.js';
import { CommandArgs } from '../args.js';
import type { CommandDefinition } from '../types.js';

export const fsyncCommand: CommandDefinition = {
  name: 'fsync',
  help: 'Flushes the journal and writes a checkpoint. { fsync: 1 }; lock: true is not supported.',
  kind: 'admin',
  adminOnly: true,
  options: ['lock', 'async', 'forBackup', 'fsyncLockAcquisitionTimeoutMillis'],
  async run(ctx) {
    const a = new CommandArgs('fsync', ctx.body);
    a.rejectUnknown(['lock', 'async', 'forBackup', 'fsyncLockAcquisitionTimeoutMillis']);
    if (a.bool('lock') === true) {
      fail('CommandNotSupported', 'fsync with lock: true is not supported by Dossier; back up with mongodump, or stop the server and copy its --dbpath');
    }
    if (a.bool('async') === true) fail('BadValue', 'async option to fsync no longer supported');
    const { persistence } = ctx.instance;
    if (persistence) {
      await persistence.journal.flush();
      await persistence.checkpoint(ctx.instance.engine.checkpointSource);
    }
    return { numFiles: 1 };
  },
};

export const fsyncUnlockCommand: CommandDefinition = {
  name: 'fsyncUnlock',
  help: 'Releases an fsync lock; Dossier never takes one, so this always answers that it is not locked.',
  kind: 'admin',
  adminOnly: true,
  run() {
    fail('CommandFailed', 'fsyncUnlock called when not locked');
  },
};
