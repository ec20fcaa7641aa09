export { Session, type TxnState, type TxnMode, type TransactionReadConcern } from './session.js';
export { SessionCatalog, REAPER_INTERVAL_MS, type SessionCatalogOptions } from './catalog.js';
export { parseLsid, lsidKey, lsidToString } from './lsid.js';
export { errorLabelsFor, isTransientTransactionError, type LabelInputs } from './labels.js';
