/**
 * Update operators: parse an update document once (`parseUpdate`), apply it to each matched
 * document (`applyUpdate`), build an upsert's starting document (`buildUpsertSeed`) and check a
 * document before it is stored (`validateStorable`).
 */
export { parseUpdate } from './parse.js';
export type {
  ApplyContext, ArrayFilter, MatcherFactory, ModifierName, ParsedUpdate, ParseUpdateOptions, PipelineUpdateFn,
} from './parse.js';
export { applyUpdate, type ApplyResult } from './apply.js';
export { buildUpsertSeed, type UpsertSeedOptions } from './upsert.js';
export { validateStorable, validateIdField, type ValidateStorableOptions } from './storable.js';
export { formatElement, formatValue } from './format.js';
