/**
 * Collations: mongod's collation document, validated with mongod's codes and messages
 * (CollatorFactoryICU::makeFromBSON), and string comparison through Node's built-in ICU
 * (`Intl.Collator`). `null` stands for the simple (binary) collation everywhere, so code without
 * a collation keeps comparing strings by code point and never calls into Intl.
 *
 * What Intl cannot express is approximated, and listed in docs/compatibility.md: strength 4
 * compares as 3, strength 5 breaks tertiary ties by code point, caseLevel at strength 2 breaks
 * secondary ties by a primary+case comparison, and backwards, maxVariable and normalization are
 * validated and reported but do not change the order.
 */
import { dossierError, type CodeName } from '../base/index.js';
import { formatDocument } from './format.js';
import { isDocument, toJsNumber, typeNameOf, type BsonValue, type Document } from './values.js';

/** The ICU version mongod 8.0 reports in every collation it shows (listIndexes, listCollections). */
export const COLLATION_VERSION = '57.1';

/** Distinct collation specs kept compiled at once; a spec past this is compiled again when next used. */
export const COLLATOR_CACHE_MAX = 256;

/** mongod's fully resolved collation, in the field order mongod shows it. */
export interface CollationSpec {
  locale: string;
  caseLevel: boolean;
  caseFirst: 'upper' | 'lower' | 'off';
  strength: 1 | 2 | 3 | 4 | 5;
  numericOrdering: boolean;
  alternate: 'non-ignorable' | 'shifted';
  maxVariable: 'punct' | 'space';
  normalization: boolean;
  backwards: boolean;
  version: string;
}

/** ICU's `@collation=` keyword values and their BCP 47 `-u-co-` spellings (Intl speaks BCP 47). */
const COLLATION_KEYWORDS: Readonly<Record<string, string>> = {
  big5han: 'big5han',
  compat: 'compat',
  dictionary: 'dict',
  emoji: 'emoji',
  eor: 'eor',
  gb2312han: 'gb2312',
  phonebook: 'phonebk',
  phonetic: 'phonetic',
  pinyin: 'pinyin',
  reformed: 'reformed',
  search: 'search',
  searchjl: 'searchjl',
  standard: 'standard',
  stroke: 'stroke',
  traditional: 'trad',
  unihan: 'unihan',
  zhuyin: 'zhuyin',
};
const KEYWORD_OF_BCP47 = new Map(Object.entries(COLLATION_KEYWORDS).map(([icu, bcp]) => [bcp, icu]));

/** Locales whose ICU tailoring turns French secondary ordering on (Intl cannot report it). */
const BACKWARDS_BY_DEFAULT = new Set(['fr_CA']);

function toBcp47(localeId: string): string | undefined {
  const at = localeId.indexOf('@');
  const base = at < 0 ? localeId : localeId.slice(0, at);
  let tag = base === 'root' ? 'und' : base.replace(/_/g, '-');
  if (at >= 0) {
    const m = /^collation=([a-z0-9]+)$/.exec(localeId.slice(at + 1));
    const co = m ? COLLATION_KEYWORDS[m[1]!] : undefined;
    if (co === undefined) return undefined;
    tag += `-u-co-${co}`;
  }
  return tag;
}

function toIcuLocaleId(tag: string): string {
  const [base, ext] = tag.split('-u-');
  let id = base === 'und' ? 'root' : base!.replace(/-/g, '_');
  const co = ext ? /(?:^|-)co-([a-z0-9]+)/.exec(ext) : null;
  if (co) id += `@collation=${KEYWORD_OF_BCP47.get(co[1]!) ?? co[1]}`;
  return id;
}

function specError(code: CodeName, message: string): never {
  throw dossierError(code, message);
}

function extractBool(doc: Document, field: string): boolean | undefined {
  const v = doc[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') specError('TypeMismatch', `"${field}" had the wrong type. Expected bool, found ${typeNameOf(v)}`);
  return v;
}

function extractString(doc: Document, field: string): string | undefined {
  const v = doc[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') specError('TypeMismatch', `"${field}" had the wrong type. Expected string, found ${typeNameOf(v)}`);
  return v;
}

function extractInteger(doc: Document, field: string): number | undefined {
  const v = doc[field];
  if (v === undefined) return undefined;
  const t = typeNameOf(v);
  if (t !== 'int' && t !== 'long' && t !== 'double' && t !== 'decimal') {
    specError('TypeMismatch', `Expected field "${field}" to have numeric type, but found ${t}`);
  }
  const n = toJsNumber(v);
  if (!Number.isInteger(n)) {
    specError('BadValue', `Expected field "${field}" to have a value exactly representable as a 64-bit integer, but found ${field}: ${String(n)}`);
  }
  return n;
}

function oneOf<T extends string>(field: string, value: string | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  const choices = allowed.length === 2 ? `'${allowed[0]}' or '${allowed[1]}'` : `${allowed.slice(0, -1).map((a) => `'${a}'`).join(', ')}, or '${allowed[allowed.length - 1]}'`;
  specError('FailedToParse', `Field '${field}' must be ${choices}. Got: ${value}`);
}

const SPEC_FIELDS = new Set(['locale', 'caseLevel', 'caseFirst', 'strength', 'numericOrdering', 'alternate', 'maxVariable', 'normalization', 'backwards', 'version']);

/** The BCP 47 tag Intl resolves `localeId` to, or an error in mongod's words. */
function resolveLocale(localeId: string, spec: Document): string {
  const shown = formatDocument(spec);
  if (localeId.includes('\0')) specError('BadValue', `Field 'locale' cannot contain null byte. Collation spec: ${shown}`);
  if (localeId === '') specError('BadValue', `Field 'locale' cannot be the empty string in: ${shown}`);
  const tag = toBcp47(localeId);
  let supported: string[];
  try {
    supported = tag === undefined ? [] : Intl.Collator.supportedLocalesOf([tag], { localeMatcher: 'lookup' });
  } catch {
    specError('BadValue', `Field 'locale' is not valid in: ${shown}`);
  }
  const invalid = `Field 'locale' is invalid in: ${shown}`;
  if (supported.length === 0) specError('BadValue', invalid);
  // ICU may fall back to a parent locale (en_XX -> en); mongod rejects that and names the fallback.
  const resolved = new Intl.Collator(tag, { usage: 'sort' }).resolvedOptions().locale;
  const resolvedId = toIcuLocaleId(resolved);
  if (resolvedId !== localeId) specError('BadValue', resolvedId === 'root' ? invalid : `${invalid}. Did you mean '${resolvedId}'?`);
  return tag!;
}

/**
 * A compiled non-simple collation. Instances are shared (see `parseCollation`), so two
 * collators with the same resolved spec are the same object.
 */
export class Collator {
  readonly spec: CollationSpec;
  /** The spec as mongod shows it: every field filled in, in mongod's order. */
  readonly document: Document;
  /** A string equal for equal specs; collations are compared by it. */
  readonly key: string;
  private readonly primary: Intl.Collator;
  private readonly tieBreak: ((a: string, b: string) => number) | undefined;

  constructor(spec: CollationSpec, tag: string) {
    this.spec = spec;
    this.document = { ...spec };
    this.key = JSON.stringify(spec);
    const base: Intl.CollatorOptions = {
      usage: 'sort',
      numeric: spec.numericOrdering,
      caseFirst: spec.caseFirst === 'off' ? 'false' : spec.caseFirst,
      ignorePunctuation: spec.alternate === 'shifted',
    };
    const sensitivity = spec.strength === 1 ? (spec.caseLevel ? 'case' : 'base') : spec.strength === 2 ? 'accent' : 'variant';
    this.primary = new Intl.Collator(tag, { ...base, sensitivity });
    if (spec.strength === 2 && spec.caseLevel) {
      const caseOnly = new Intl.Collator(tag, { ...base, sensitivity: 'case' });
      this.tieBreak = (a, b) => caseOnly.compare(a, b);
    } else if (spec.strength === 5) {
      // The identical level: code points of the NFD forms, once every other level is equal.
      this.tieBreak = (a, b) => {
        const x = a.normalize('NFD');
        const y = b.normalize('NFD');
        return x < y ? -1 : x > y ? 1 : 0;
      };
    }
  }

  compare(a: string, b: string): -1 | 0 | 1 {
    let c = this.primary.compare(a, b);
    if (c === 0 && this.tieBreak !== undefined) c = this.tieBreak(a, b);
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  }
}

const cache = new Map<string, Collator>();

function compiled(spec: CollationSpec, tag: string): Collator {
  const key = JSON.stringify(spec);
  let c = cache.get(key);
  if (c === undefined) {
    if (cache.size >= COLLATOR_CACHE_MAX) cache.delete(cache.keys().next().value!);
    c = new Collator(spec, tag);
    cache.set(key, c);
  }
  return c;
}

/**
 * mongod's CollatorFactoryICU::makeFromBSON: the collator for a collation document, `null` for
 * `{locale: "simple"}`. Throws mongod's error for a bad document.
 */
export function makeCollator(spec: Document): Collator | null {
  if (!('locale' in spec) || spec.locale === undefined) specError('NoSuchKey', 'Missing expected field "locale"');
  const localeId = extractString(spec, 'locale')!;
  if (localeId === 'simple') {
    if (Object.keys(spec).length > 1) specError('FailedToParse', `If locale=simple, no other fields should be present in: ${formatDocument(spec)}`);
    return null;
  }
  const tag = resolveLocale(localeId, spec);
  const defaults = new Intl.Collator(tag, { usage: 'sort' }).resolvedOptions();
  const caseLevel = extractBool(spec, 'caseLevel') ?? false;
  const caseFirst = oneOf('caseFirst', extractString(spec, 'caseFirst'), ['upper', 'lower', 'off'] as const, defaults.caseFirst === 'upper' || defaults.caseFirst === 'lower' ? defaults.caseFirst : 'off');
  const strengthValue = extractInteger(spec, 'strength') ?? 3;
  if (strengthValue < 1 || strengthValue > 5) specError('FailedToParse', `Field 'strength' must be an integer 1 through 5. Got: ${strengthValue}`);
  const numericOrdering = extractBool(spec, 'numericOrdering') ?? false;
  const alternate = oneOf('alternate', extractString(spec, 'alternate'), ['non-ignorable', 'shifted'] as const, defaults.ignorePunctuation ? 'shifted' : 'non-ignorable');
  const maxVariable = oneOf('maxVariable', extractString(spec, 'maxVariable'), ['punct', 'space'] as const, 'punct');
  const normalization = extractBool(spec, 'normalization') ?? false;
  const backwards = extractBool(spec, 'backwards') ?? BACKWARDS_BY_DEFAULT.has(localeId);
  const version = extractString(spec, 'version');
  if (version !== undefined && version !== COLLATION_VERSION) {
    specError('IncompatibleCollationVersion', `Requested collation version ${version} but the only available collator version was ${COLLATION_VERSION}. Requested collation spec: ${formatDocument(spec)}`);
  }
  for (const field of Object.keys(spec)) {
    if (!SPEC_FIELDS.has(field)) specError('FailedToParse', `Collation spec contains unknown field. Collation spec: ${formatDocument(spec)}`);
  }
  const resolved: CollationSpec = {
    locale: localeId,
    caseLevel,
    caseFirst,
    strength: strengthValue as CollationSpec['strength'],
    numericOrdering,
    alternate,
    maxVariable,
    normalization,
    backwards,
    version: COLLATION_VERSION,
  };
  if (resolved.backwards && resolved.strength === 1) {
    specError('BadValue', `'backwards' is invalid with 'strength' of 1 in: ${formatDocument({ ...resolved })}`);
  }
  if (resolved.caseFirst !== 'off' && !resolved.caseLevel && resolved.strength <= 2) {
    specError('BadValue', `'caseFirst' is invalid unless 'caseLevel' is on or 'strength' is greater than 2 in: ${formatDocument({ ...resolved })}`);
  }
  return compiled(resolved, tag);
}

/**
 * The collation a command names in its `collation` field: `undefined` when absent or `{}` (the
 * collection's default applies), `null` for simple, else the collator.
 */
export function parseCollationArgument(v: BsonValue, field = 'collation'): Collator | null | undefined {
  if (v === undefined) return undefined;
  if (!isDocument(v)) specError('TypeMismatch', `BSON field '${field}' is the wrong type '${typeNameOf(v)}', expected type 'object'`);
  if (Object.keys(v).length === 0) return undefined;
  return makeCollator(v);
}

/** Whether two collations (null = simple) order every string the same way. */
export function sameCollation(a: Collator | null | undefined, b: Collator | null | undefined): boolean {
  return (a ?? null) === (b ?? null) || (a != null && b != null && a.key === b.key);
}

/** A collation as mongod shows it ({locale: 'simple'} for the simple one). */
export function collationDocument(c: Collator | null): Document {
  return c === null ? { locale: 'simple' } : { ...c.document };
}
