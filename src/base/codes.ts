/**
 * mongod's error codes (src/mongo/base/error_codes.yml), the subset Dossier can produce or that
 * drivers' retry logic reads. Numbers and names are facts of the protocol: drivers match on them.
 */
export const ErrorCodes = {
  OK: 0,
  InternalError: 1,
  BadValue: 2,
  NoSuchKey: 4,
  GraphContainsCycle: 5,
  HostUnreachable: 6,
  HostNotFound: 7,
  UnknownError: 8,
  FailedToParse: 9,
  CannotMutateObject: 10,
  UserNotFound: 11,
  UnsupportedFormat: 12,
  Unauthorized: 13,
  TypeMismatch: 14,
  Overflow: 15,
  InvalidLength: 16,
  ProtocolError: 17,
  AuthenticationFailed: 18,
  IllegalOperation: 20,
  EmptyArrayOperation: 21,
  InvalidBSON: 22,
  LockTimeout: 24,
  NamespaceNotFound: 26,
  IndexNotFound: 27,
  PathNotViable: 28,
  NonExistentPath: 29,
  InvalidPath: 30,
  ConflictingUpdateOperators: 40,
  CursorNotFound: 43,
  NoMatchingDocument: 47,
  NamespaceExists: 48,
  MaxTimeMSExpired: 50,
  DollarPrefixedFieldName: 52,
  InvalidIdField: 53,
  NotSingleValueField: 54,
  InvalidDBRef: 55,
  EmptyFieldName: 56,
  DottedFieldName: 57,
  CommandNotFound: 59,
  WriteConcernTimeout: 64,
  ImmutableField: 66,
  CannotCreateIndex: 67,
  IndexAlreadyExists: 68,
  InvalidOptions: 72,
  InvalidNamespace: 73,
  NodeNotFound: 74,
  NoReplicationEnabled: 76,
  UnknownReplWriteConcern: 79,
  IndexOptionsConflict: 85,
  IndexKeySpecsConflict: 86,
  NetworkTimeout: 89,
  ShutdownInProgress: 91,
  NotYetInitialized: 94,
  OperationFailed: 96,
  NoProjectionFound: 97,
  UnsatisfiableWriteConcern: 100,
  WriteConflict: 112,
  CommandNotSupported: 115,
  ConflictingOperationInProgress: 117,
  DocumentValidationFailure: 121,
  NotAReplicaSet: 123,
  CommandFailed: 125,
  FailedToSatisfyReadPreference: 133,
  ReadConcernMajorityNotAvailableYet: 134,
  CappedPositionLost: 136,
  CursorInUse: 143,
  ExceededMemoryLimit: 146,
  StaleEpoch: 150,
  ZLibError: 147,
  ReadConcernMajorityNotEnabled: 148,
  IncompatibleCollationVersion: 161,
  ViewDepthLimitExceeded: 165,
  CommandNotSupportedOnView: 166,
  OptionNotSupportedOnView: 167,
  InvalidPipelineOperator: 168,
  CannotIndexParallelArrays: 171,
  AmbiguousIndexKeyPattern: 181,
  InvalidViewDefinition: 182,
  QueryFeatureNotAllowed: 224,
  QueryPlanKilled: 175,
  ClientMetadataCannotBeMutated: 186,
  PrimarySteppedDown: 189,
  FailPointEnabled: 192,
  InvalidIndexSpecificationOption: 197,
  CannotBuildIndexKeys: 201,
  NoSuchSession: 206,
  InvalidUUID: 207,
  KeyNotFound: 211,
  DuplicateSession: 213,
  ElectionInProgress: 216,
  IncompleteTransactionHistory: 217,
  IllegalOpMsgFlag: 223,
  TransactionTooOld: 225,
  CannotImplicitlyCreateCollection: 227,
  TooManyDocumentSequences: 233,
  RetryChangeStream: 234,
  CursorKilled: 237,
  NotImplemented: 238,
  SnapshotTooOld: 239,
  ConversionFailure: 241,
  CannotCreateCollection: 242,
  SnapshotUnavailable: 246,
  NoSuchTransaction: 251,
  TransactionCommitted: 256,
  TransactionTooLarge: 257,
  InvalidResumeToken: 260,
  TooManyLogicalSessions: 261,
  ExceededTimeLimit: 262,
  OperationNotSupportedInTransaction: 263,
  FailPointSetFailed: 266,
  PreparedTransactionInProgress: 267,
  IndexBuildAborted: 276,
  ClientDisconnect: 279,
  ChangeStreamFatalError: 280,
  IndexBuildAlreadyInProgress: 285,
  ChangeStreamHistoryLost: 286,
  ChecksumMismatch: 288,
  TransactionExceededLifetimeLimitSeconds: 290,
  NoQueryExecutionPlans: 291,
  QueryExceededMemoryLimitNoDiskUseAllowed: 292,
  DataCorruptionDetected: 301,
  APIVersionError: 322,
  APIStrictError: 323,
  APIDeprecationError: 324,
  MechanismUnavailable: 334,
  InvalidBSONType: 357,
  CannotConvertIndexToUnique: 359,
  UnsupportedOpQueryCommand: 352,
  NonConformantBSON: 378,
  ConnectionPoolExpired: 317,
  ConnectionError: 384,
  SocketException: 9001,
  NotWritablePrimary: 10107,
  BSONObjectTooLarge: 10334,
  DuplicateKey: 11000,
  StaleConfig: 13388,
  InterruptedAtShutdown: 11600,
  Interrupted: 11601,
  InterruptedDueToReplStateChange: 11602,
  NotPrimaryNoSecondaryOk: 13435,
  NotPrimaryOrSecondary: 13436,
  OutOfDiskSpace: 14031,
  SearchNotEnabled: 31082,
  IDLDuplicateField: 40413,
  IDLFailedToParse: 40414,
  IDLUnknownField: 40415,
  NotARetryableWriteCommand: 50768,
} as const;

export type CodeName = keyof typeof ErrorCodes;
export type ErrorCode = (typeof ErrorCodes)[CodeName];

/**
 * Codes Dossier names for its own readability but mongod reports as "Location<code>": the IDL
 * parser's errors are plain assertion ids in mongod, not entries of error_codes.yml.
 */
const REPORTED_AS_LOCATION: ReadonlySet<number> = new Set([ErrorCodes.IDLDuplicateField, ErrorCodes.IDLFailedToParse, ErrorCodes.IDLUnknownField]);

const namesByCode = new Map<number, CodeName>();
for (const [name, code] of Object.entries(ErrorCodes)) if (!REPORTED_AS_LOCATION.has(code)) namesByCode.set(code, name as CodeName);

/** The codeName mongod sends for a code; mongod calls unnamed codes "Location<code>". */
export function codeNameOf(code: number): string {
  return namesByCode.get(code) ?? `Location${code}`;
}

/**
 * Codes in mongod's RetriableError category: a driver retrying a retryable write reads the
 * RetryableWriteError label, which mongod adds for these codes (see sessions/labels).
 */
export const RetriableErrorCodes: ReadonlySet<number> = new Set([
  ErrorCodes.HostUnreachable,
  ErrorCodes.HostNotFound,
  ErrorCodes.NetworkTimeout,
  ErrorCodes.ShutdownInProgress,
  ErrorCodes.PrimarySteppedDown,
  ErrorCodes.ExceededTimeLimit,
  ErrorCodes.SocketException,
  ErrorCodes.NotWritablePrimary,
  ErrorCodes.InterruptedAtShutdown,
  ErrorCodes.InterruptedDueToReplStateChange,
  ErrorCodes.NotPrimaryNoSecondaryOk,
  ErrorCodes.NotPrimaryOrSecondary,
  ErrorCodes.ReadConcernMajorityNotAvailableYet,
]);

/** mongod's NetworkError category. */
export const NetworkErrorCodes: ReadonlySet<number> = new Set([
  ErrorCodes.HostUnreachable, ErrorCodes.HostNotFound, ErrorCodes.NetworkTimeout, ErrorCodes.SocketException, ErrorCodes.ConnectionPoolExpired, ErrorCodes.ConnectionError,
]);

/** mongod's NeedRetargettingError category (routing information went stale). */
export const NeedRetargettingErrorCodes: ReadonlySet<number> = new Set([ErrorCodes.StaleEpoch, ErrorCodes.StaleConfig]);

/** mongod's NonResumableChangeStreamError category. */
export const NonResumableChangeStreamErrorCodes: ReadonlySet<number> = new Set([ErrorCodes.ChangeStreamFatalError, ErrorCodes.ChangeStreamHistoryLost]);
