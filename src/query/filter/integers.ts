/**
 * mongod's parseIntegerElementToLong family: operands that must be integral numbers
 * ($size, $alwaysTrue, $type codes, bit positions, JSON Schema lengths), with its messages.
 */
import { DossierError, ErrorCodes } from '../../base/index.js';
import { decimalToNumber, typeNameOf, type BsonValue } from '../../bson/index.js';
import { formatElement } from './format.js';

const TWO_POW_63 = 2 ** 63;

function parseFailure(message: string): DossierError {
  return new DossierError(ErrorCodes.FailedToParse, message);
}

/** An integral number operand as int64, or the reason it is not one (mongod's wording). */
export function integerOperand(name: string, v: BsonValue): bigint | DossierError {
  const t = typeNameOf(v);
  switch (t) {
    case 'int':
      return BigInt(typeof v === 'number' ? v : v.value);
    case 'long':
      return typeof v === 'bigint' ? v : v.toBigInt();
    case 'double': {
      const n: number = typeof v === 'number' ? v : v.value;
      if (Number.isNaN(n)) return parseFailure(`Expected an integer, but found NaN in: ${formatElement(name, v)}`);
      if (n >= TWO_POW_63 || n < -TWO_POW_63) return parseFailure(`Cannot represent as a 64-bit integer: ${formatElement(name, v)}`);
      if (!Number.isInteger(n)) return parseFailure(`Expected an integer: ${formatElement(name, v)}`);
      return BigInt(n);
    }
    case 'decimal': {
      const n = decimalToNumber(v);
      if (!Number.isInteger(n) || n >= TWO_POW_63 || n < -TWO_POW_63) {
        return parseFailure(`Cannot represent as a 64-bit integer: ${formatElement(name, v)}`);
      }
      return BigInt(n);
    }
    default:
      return parseFailure(`Expected a number in: ${formatElement(name, v)}`);
  }
}

/** parseIntegerElementToLong: throws FailedToParse like mongod. */
export function parseIntegerToLong(name: string, v: BsonValue): bigint {
  const r = integerOperand(name, v);
  if (r instanceof DossierError) throw r;
  return r;
}

/** parseIntegerElementToNonNegativeLong. */
export function parseIntegerToNonNegativeLong(name: string, v: BsonValue): bigint {
  const r = parseIntegerToLong(name, v);
  if (r < 0n) throw parseFailure(`Expected a positive number in: ${formatElement(name, v)}`);
  return r;
}

/** parseIntegerElementToInt. */
export function parseIntegerToInt(name: string, v: BsonValue): number {
  const r = parseIntegerToLong(name, v);
  if (r < -2147483648n || r > 2147483647n) throw parseFailure(`Cannot represent ${formatElement(name, v)} in an int`);
  return Number(r);
}

/** parseIntegerElementToNonNegativeInt. */
export function parseIntegerToNonNegativeInt(name: string, v: BsonValue): number {
  const r = parseIntegerToNonNegativeLong(name, v);
  if (r > 2147483647n) throw parseFailure(`Cannot represent ${formatElement(name, v)} in an int`);
  return Number(r);
}
