/** The operand of `$type` (mongod's MatcherTypeSet): aliases, numeric codes, arrays of both. */
import { DossierError, ErrorCodes, fail } from '../../base/index.js';
import { BSON_TYPE_NUMBERS, typeNameOf, type BsonTypeName, type BsonValue } from '../../bson/index.js';
import { parseIntegerToInt } from './integers.js';

type StoredTypeName = Exclude<BsonTypeName, 'missing'>;

const TYPES_BY_CODE = new Map<number, StoredTypeName>();
for (const [name, code] of Object.entries(BSON_TYPE_NUMBERS)) TYPES_BY_CODE.set(code, name as StoredTypeName);

export interface TypeSet {
  readonly types: Set<BsonTypeName>;
  readonly allNumbers: boolean;
}

/** The BSON type name for a `$type` alias, or undefined. "number" is handled by the caller. */
export function typeForAlias(alias: string): BsonTypeName | undefined {
  return Object.prototype.hasOwnProperty.call(BSON_TYPE_NUMBERS, alias) ? (alias as BsonTypeName) : undefined;
}

/** The BSON type name for a numeric type code, or undefined. */
export function typeForCode(code: number): BsonTypeName | undefined {
  return TYPES_BY_CODE.get(code);
}

function addSingle(set: TypeSet & { allNumbers: boolean }, name: string, elem: BsonValue): void {
  const t = typeNameOf(elem);
  if (t === 'string') {
    if (elem === 'number') {
      set.allNumbers = true;
      return;
    }
    const type = typeForAlias(elem);
    if (type === undefined) fail('BadValue', `Unknown type name alias: ${elem}`);
    set.types.add(type);
    return;
  }
  if (t !== 'int' && t !== 'long' && t !== 'double' && t !== 'decimal') {
    throw new DossierError(ErrorCodes.TypeMismatch, 'type must be represented as a number or a string');
  }
  const code = parseIntegerToInt(name, elem);
  const type = typeForCode(code);
  if (type === undefined) fail('BadValue', `Invalid numerical type code: ${code}`);
  set.types.add(type);
}

/** Parses a `$type` operand; `path` names the field in mongod's "must match at least one type". */
export function parseTypeSet(path: string, operand: BsonValue): TypeSet {
  const set = { types: new Set<BsonTypeName>(), allNumbers: false };
  if (Array.isArray(operand)) {
    for (const el of operand) addSingle(set, '$type', el);
    if (set.types.size === 0 && !set.allNumbers) {
      throw new DossierError(ErrorCodes.FailedToParse, `${path} must match at least one type`);
    }
  } else {
    addSingle(set, '$type', operand);
  }
  return set;
}
