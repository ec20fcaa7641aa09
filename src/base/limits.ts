/** Limits with mongod's defaults. Units are last in names. */

/** BSONObjMaxUserSize: the largest document a user may store. */
export const BSON_OBJECT_SIZE_MAX_BYTES = 16 * 1024 * 1024;
/** BSONObjMaxInternalSize: commands may exceed a user document by this much (for their own fields). */
export const BSON_OBJECT_INTERNAL_ALLOWANCE_BYTES = 16 * 1024;
export const COMMAND_SIZE_MAX_BYTES = BSON_OBJECT_SIZE_MAX_BYTES + BSON_OBJECT_INTERNAL_ALLOWANCE_BYTES;
/** MaxMessageSizeBytes. */
export const MESSAGE_SIZE_MAX_BYTES = 48_000_000;
/** write_ops::kMaxWriteBatchSize. */
export const WRITE_BATCH_SIZE_MAX = 100_000;
/** BSONDepth::kDefaultMaxAllowableDepth: nesting depth of stored documents. */
export const BSON_DEPTH_MAX = 180;
/** Depth a command document may reach: the user depth plus the wrapping levels of a command. */
export const COMMAND_BSON_DEPTH_MAX = BSON_DEPTH_MAX + 20;
export const LOGICAL_SESSION_TIMEOUT_MINUTES = 30;
export const TRANSACTION_LIFETIME_LIMIT_SECONDS = 60;
export const MAX_TRANSACTION_LOCK_REQUEST_TIMEOUT_MILLIS = 5;
/** find's default first batch: 101 documents (or 16 MiB). */
export const FIND_DEFAULT_BATCH_SIZE = 101;
/** A getMore batch stops once it holds this many bytes. */
export const CURSOR_BATCH_SIZE_MAX_BYTES = BSON_OBJECT_SIZE_MAX_BYTES;
/** cursorTimeoutMillis: idle cursors are reaped after 10 minutes. */
export const CURSOR_TIMEOUT_MILLIS = 10 * 60 * 1000;
/** ttlMonitorSleepSecs. */
export const TTL_MONITOR_SLEEP_SECS = 60;
/** Namespace ("db.collection") length limit since 4.4. */
export const NAMESPACE_LENGTH_MAX_BYTES = 255;
export const DATABASE_NAME_LENGTH_MAX_BYTES = 63;
/** maxIndexBuildMemoryUsageMegabytes is not modelled; the index count per collection is. */
export const INDEXES_PER_COLLECTION_MAX = 64;
export const MAX_WIRE_VERSION = 25;
export const MIN_WIRE_VERSION = 0;
/** hello's streaming protocol: the longest maxAwaitTimeMS we hold a reply for. */
export const HELLO_MAX_AWAIT_TIME_MS_MAX = 10 * 60 * 1000;
export const SERVER_VERSION = '8.0.4';
export const SERVER_VERSION_ARRAY = [8, 0, 4, 0] as const;
