export * from './values.js';
export * from './compare.js';
export * from './format.js';
export * from './fingerprint.js';
export { hasKeyOrder, isArrayIndexKey, noteFieldAdded, orderedKeys, setKeyOrder } from './key-order.js';
export { Collator, COLLATION_VERSION, COLLATOR_CACHE_MAX, collationDocument, makeCollator, parseCollationArgument, sameCollation, type CollationSpec } from './collation.js';
