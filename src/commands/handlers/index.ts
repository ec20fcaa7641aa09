/** Every command handler, one file each. The registry reads this list. */
import type { CommandDefinition } from '../types.js';
import { helloCommand, isMasterCommand } from './hello.js';
import { pingCommand } from './ping.js';
import { buildInfoCommand } from './buildInfo.js';
import { insertCommand } from './insert.js';
import { updateCommand } from './update.js';
import { deleteCommand } from './delete.js';
import { findAndModifyCommand } from './findAndModify.js';
import { findCommand } from './find.js';
import { getMoreCommand } from './getMore.js';
import { killCursorsCommand } from './killCursors.js';
import { createCommand } from './create.js';
import { dropCommand } from './drop.js';
import { dropDatabaseCommand } from './dropDatabase.js';
import { renameCollectionCommand } from './renameCollection.js';
import { createIndexesCommand } from './createIndexes.js';
import { listIndexesCommand } from './listIndexes.js';
import { dropIndexesCommand } from './dropIndexes.js';
import { listCollectionsCommand } from './listCollections.js';
import { collModCommand } from './collMod.js';
import { explainCommand } from './explain.js';
import { commitTransactionCommand } from './commitTransaction.js';
import { abortTransactionCommand } from './abortTransaction.js';
import { startSessionCommand } from './startSession.js';
import { refreshSessionsCommand } from './refreshSessions.js';
import { killSessionsCommand } from './killSessions.js';
import { killAllSessionsCommand } from './killAllSessions.js';
import { killAllSessionsByPatternCommand } from './killAllSessionsByPattern.js';
import { refreshLogicalSessionCacheNowCommand } from './refreshLogicalSessionCacheNow.js';
import { bulkWriteCommand } from './bulkWrite.js';
import { configureFailPointCommand } from './configureFailPoint.js';
import { aggregateCommand } from './aggregate.js';
import { createSearchIndexesCommand } from './createSearchIndexes.js';
import { dropSearchIndexCommand } from './dropSearchIndex.js';
import { updateSearchIndexCommand } from './updateSearchIndex.js';
import { listSearchIndexesCommand } from './listSearchIndexes.js';
import { DIAGNOSTIC_COMMANDS } from './diagnostic-index.js';
import { DURABILITY_COMMANDS } from './durability-index.js';

export const ALL_COMMANDS: readonly CommandDefinition[] = [
  helloCommand,
  isMasterCommand,
  pingCommand,
  buildInfoCommand,
  insertCommand,
  updateCommand,
  deleteCommand,
  findAndModifyCommand,
  findCommand,
  getMoreCommand,
  killCursorsCommand,
  createCommand,
  dropCommand,
  dropDatabaseCommand,
  renameCollectionCommand,
  createIndexesCommand,
  listIndexesCommand,
  dropIndexesCommand,
  listCollectionsCommand,
  collModCommand,
  explainCommand,
  commitTransactionCommand,
  abortTransactionCommand,
  startSessionCommand,
  refreshSessionsCommand,
  killSessionsCommand,
  killAllSessionsCommand,
  killAllSessionsByPatternCommand,
  refreshLogicalSessionCacheNowCommand,
  bulkWriteCommand,
  configureFailPointCommand,
  aggregateCommand,
  createSearchIndexesCommand,
  dropSearchIndexCommand,
  updateSearchIndexCommand,
  listSearchIndexesCommand,
  ...DIAGNOSTIC_COMMANDS,
  ...DURABILITY_COMMANDS,
];
