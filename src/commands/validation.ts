/**
 * What a collection needs evaluated from the query language: its validator and the partial
 * filters of its indexes. Storage cannot import the query layer, so the command layer compiles
 * them here and hands storage plain functions.
 */
import { DossierError, ErrorCodes } from '../base/index.js';
import type { Document } from '../bson/index.js';
import type { Collection, IndexState } from '../storage/index.js';
import { matches, parseFilter } from '../query/filter/index.js';

export function compilePredicate(filter: Document): (doc: Document) => boolean {
  const node = parseFilter(filter);
  return (doc) => matches(node, doc);
}

/** Installs the collection's document validator (collMod and create call this again on change). */
export function buildCollectionHooks(coll: Collection): void {
  const validator = coll.options.validator;
  if (!validator || Object.keys(validator).length === 0 || coll.options.validationLevel === 'off') {
    coll.validate = undefined;
    return;
  }
  const check = compilePredicate(validator);
  const warnOnly = coll.options.validationAction === 'warn';
  coll.validate = (doc) => {
    if (check(doc) || warnOnly) return;
    throw new DossierError(ErrorCodes.DocumentValidationFailure, 'Document failed validation', {
      extra: { errInfo: { failingDocumentId: doc._id, details: { operatorName: Object.keys(validator)[0], specifiedAs: validator } } },
    });
  };
}

export function partialFilterOf(spec: IndexState['spec']): ((doc: Document) => boolean) | undefined {
  return spec.partialFilterExpression ? compilePredicate(spec.partialFilterExpression) : undefined;
}
