/**
 * mongod's rules for a document that is about to be stored (storage_validation.cpp for updates,
 * fixDocumentForInsert for inserts): what the _id may be, and how deep a document may nest.
 */
import { BSON_DEPTH_MAX, fail } from '../../base/index.js';
import { isDocument, nestingDepth, typeNameOf, type BsonValue, type Document } from '../../bson/index.js';

export interface ValidateStorableOptions {
  /**
   * 'insert' (default) reports a bad _id as an insert does (BadValue, "can't use an array for _id");
   * 'update' as an update or replacement does (InvalidIdField, "The '_id' value cannot be of type array").
   */
  context?: 'insert' | 'update';
}

/** DBRef fields are the only '$'-prefixed names mongod accepts inside an _id document. */
const DBREF_FIELDS: ReadonlySet<string> = new Set(['$ref', '$id', '$db']);

function firstDollarField(doc: Document): string | undefined {
  for (const k of Object.keys(doc)) {
    if (k.startsWith('$') && !DBREF_FIELDS.has(k)) return k;
    const v = doc[k];
    if (isDocument(v)) {
      const inner = firstDollarField(v);
      if (inner !== undefined) return inner;
    }
  }
  return undefined;
}

/** storage_validation::storageValidIdField. */
export function validateIdField(id: BsonValue, context: 'insert' | 'update' = 'update'): void {
  const t = typeNameOf(id);
  if (t === 'regex' || t === 'array' || t === 'undefined') {
    if (context === 'insert') {
      fail('BadValue', t === 'array' ? "can't use an array for _id" : t === 'regex' ? "can't use a regex for _id" : "can't use a undefined for _id");
    }
    fail('InvalidIdField', `The '_id' value cannot be of type ${t}`);
  }
  if (t === 'object' && isDocument(id)) {
    const bad = firstDollarField(id);
    if (bad !== undefined) {
      fail('DollarPrefixedFieldName', `_id fields may not contain '$'-prefixed fields: ${bad} is not valid for storage.`);
    }
  }
}

/**
 * Checks a whole document before it is stored. '$'-prefixed and dotted field names are allowed
 * (MongoDB 5.0+), as are empty field names; replacement documents' top-level '$' fields are
 * rejected earlier, when the update is parsed.
 */
export function validateStorable(doc: Document, options: ValidateStorableOptions = {}): void {
  if (Object.prototype.hasOwnProperty.call(doc, '_id')) validateIdField(doc['_id'], options.context ?? 'insert');
  if (nestingDepth(doc, BSON_DEPTH_MAX) > BSON_DEPTH_MAX) {
    fail('Overflow', `Document exceeds maximum nesting depth of ${BSON_DEPTH_MAX}`);
  }
}
