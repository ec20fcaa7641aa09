// What storage uses from the layers below it (platform, base, bson, time), in one place.
export { DossierError, dossierError, fail, invariant, ErrorCodes } from '../base/index.js';
export { Collator, makeCollator, sameCollation, collationDocument, compareValues, typeNameOf, decodeDocument, documentSize, encodeDocument, isDocument, valueFingerprint, formatDocument, formatValue, UUID, Timestamp, Long, Int32, type BsonValue, type Document } from '../bson/index.js';
export { HybridLogicalClock, timestampOf, tsKeyOf, tsKeyAtSeconds, type TsKey } from '../time/index.js';
