/**
 * The query filter language of mongod 8.0: parse a filter once (`parseFilter`), then evaluate it
 * per document (`matches`). See types.ts for the tree, walk.ts for reading it.
 */
export { parseFilter, isPathOperator, isPathlessOperator } from './parse.js';
export { matches, matchesValue, isTruthy } from './match.js';
export {
  walkFilter,
  childrenOf,
  isPathNode,
  topLevelConjuncts,
  collectEqualities,
  isEqualityOnly,
  equalityValueFor,
  referencedPaths,
  hasWholeDocumentPredicate,
  serializeFilter,
  serializeOperand,
} from './walk.js';
export { compileRegex, anchoredLiteralPrefix, validateRegexFlags } from './regex.js';
export { compileJsonSchema, unorderedEquals } from './json-schema.js';
export { formatValue, formatElement } from './format.js';
export type * from './types.js';
