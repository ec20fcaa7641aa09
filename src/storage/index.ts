export { StorageEngine, durableOplogSizeBytes, OPLOG_NS, PREIMAGES_NS, type OplogRead, CURRENT_TERM, OPLOG_SIZE_DEFAULT_BYTES, SNAPSHOT_HISTORY_WINDOW_DEFAULT_SECONDS, type CommitOptions } from './engine.js';
export { StorageTxn, inInterval, writeConflict, blockingTransactionOf, type KeyInterval, type WriteOp, type UpdateKind } from './txn.js';
export { Collection, IndexState, type CollectionOptions, type IndexSpec, type RecordId } from './collection.js';
export { generateKeys, parseKeyPattern, compareKeys, type IndexKey, type KeyPatternField } from './keys.js';
export { Persistence, CHECKPOINT_INTERVAL_DEFAULT_SECONDS } from './persistence.js';
export type { RecoveredSession, RecoveredState } from './recovery.js';
export { CollationCanonicalizer } from './collation-keys.js';
export { loadDiff, type ModifiedPath, type UpdateDiff } from './oplog-diff.js';
export { timestampOf, tsKeyOf } from './deps.js';
