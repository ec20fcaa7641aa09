/**
 * Typed readers for command fields that fail the way mongod's IDL parser does:
 * `BSON field 'find.limit' is the wrong type 'string', expected types '[long, int, decimal, double]'`
 * (TypeMismatch) and `BSON field 'find.foo' is an unknown field.` (IDLUnknownField).
 */
import { fail } from '../base/index.js';
import { isDocument, orderedKeys, toJsNumber, typeNameOf, type BsonValue, type Document } from '../bson/index.js';
import { isGenericArgument } from './generic.js';

const NUMBER_TYPES = ['long', 'int', 'decimal', 'double'];

export class CommandArgs {
  constructor(
    readonly commandName: string,
    readonly body: Document,
  ) {}

  private wrongType(field: string, v: BsonValue, expected: string[]): never {
    const exp = expected.length === 1 ? `type '${expected[0]}'` : `types '[${expected.join(', ')}]'`;
    return fail('TypeMismatch', `BSON field '${this.commandName}.${field}' is the wrong type '${typeNameOf(v)}', expected ${exp}`);
  }

  has(field: string): boolean {
    return this.body[field] !== undefined;
  }

  required<T>(field: string, read: (field: string) => T | undefined): T {
    const v = read.call(this, field);
    if (v === undefined) fail('IDLFailedToParse', `BSON field '${this.commandName}.${field}' is missing but a required field`);
    return v;
  }

  string(field: string): string | undefined {
    const v = this.body[field];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') this.wrongType(field, v, ['string']);
    return v;
  }

  /** mongod's `safeBool`: a bool, or a number read as its truth value. */
  bool(field: string): boolean | undefined {
    const v = this.body[field];
    if (v === undefined) return undefined;
    if (typeof v === 'boolean') return v;
    const t = typeNameOf(v);
    if (NUMBER_TYPES.includes(t)) return toJsNumber(v) !== 0;
    return this.wrongType(field, v, ['bool']);
  }

  /** Any numeric type, as a JS number. */
  number(field: string): number | undefined {
    const v = this.body[field];
    if (v === undefined) return undefined;
    if (!NUMBER_TYPES.includes(typeNameOf(v))) this.wrongType(field, v, NUMBER_TYPES);
    return toJsNumber(v);
  }

  /** A whole number (mongod's safeInt64): numbers with a fraction are BadValue. */
  integer(field: string): number | undefined {
    const n = this.number(field);
    if (n === undefined) return undefined;
    if (!Number.isInteger(n)) fail('BadValue', `BSON field '${this.commandName}.${field}' has a non-integral value`);
    return n;
  }

  nonNegativeInteger(field: string): number | undefined {
    const n = this.integer(field);
    if (n !== undefined && n < 0) fail('BadValue', `BSON field '${field}' value must be >= 0, actual value '${n}'`);
    return n;
  }

  document(field: string): Document | undefined {
    const v = this.body[field];
    if (v === undefined) return undefined;
    if (!isDocument(v)) this.wrongType(field, v, ['object']);
    return v;
  }

  array(field: string): BsonValue[] | undefined {
    const v = this.body[field];
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) this.wrongType(field, v, ['array']);
    return v;
  }

  documentArray(field: string): Document[] | undefined {
    const a = this.array(field);
    if (a === undefined) return undefined;
    a.forEach((e, i) => {
      if (!isDocument(e)) fail('TypeMismatch', `BSON field '${this.commandName}.${field}.${i}' is the wrong type '${typeNameOf(e)}', expected type 'object'`);
    });
    return a as Document[];
  }

  /** Rejects fields that are neither the command's own nor generic arguments, as IDL strict commands do. */
  rejectUnknown(known: readonly string[]): void {
    const first = orderedKeys(this.body)[0];
    for (const k of Object.keys(this.body)) {
      if (k === first || known.includes(k) || isGenericArgument(k)) continue;
      fail('IDLUnknownField', `BSON field '${this.commandName}.${k}' is an unknown field.`);
    }
  }
}

/** The collection name a command names in its first field, validated like mongod's namespace checks. */
export function collectionNameArg(commandName: string, body: Document): string {
  const v = body[commandName] ?? body[orderedKeys(body)[0]!];
  if (typeof v !== 'string') {
    fail('InvalidNamespace', `collection name has invalid type ${typeNameOf(v)}`);
  }
  return v;
}
