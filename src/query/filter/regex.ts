/**
 * MongoDB regular expressions (PCRE2 syntax and flags) compiled to JavaScript RegExp.
 *
 * mongod accepts the flags i, m, s, x (and u, l which change nothing for us) and the PCRE
 * syntax; JavaScript differs in a few places, translated here: `\A \z \Z`, PCRE's `$` (which
 * also matches before a final newline), `(?P<name>...)`, `\Q...\E`, POSIX classes, atomic
 * groups and possessive quantifiers (approximated by their plain forms), extended mode `x`, and
 * leading inline flags `(?i)`. Anything JavaScript still rejects is reported as mongod reports an
 * invalid pattern (code 51091).
 */
import { DossierError, fail } from '../../base/index.js';

const VALID_FLAGS = 'imsxul';

const POSIX_CLASSES: Readonly<Record<string, string>> = {
  alpha: 'a-zA-Z',
  digit: '0-9',
  alnum: 'a-zA-Z0-9',
  upper: 'A-Z',
  lower: 'a-z',
  space: ' \\t\\n\\r\\f\\v',
  blank: ' \\t',
  punct: '!-\\/:-@\\[-`{-~',
  xdigit: '0-9A-Fa-f',
  word: '\\w',
  cntrl: '\\x00-\\x1f\\x7f',
  print: '\\x20-\\x7e',
  graph: '\\x21-\\x7e',
  ascii: '\\x00-\\x7f',
};

const cache = new Map<string, RegExp>();
const CACHE_MAX = 1000;

/** Validates mongod's regex options; throws mongod's error for an unknown flag. */
export function validateRegexFlags(flags: string): void {
  for (const c of flags) {
    if (!VALID_FLAGS.includes(c)) throw new DossierError(51108, `invalid flag in regex options: ${c}`);
  }
}

/**
 * Compiles a MongoDB regex (pattern + options) to a JavaScript RegExp, or throws mongod's
 * errors: BadValue for an embedded NUL, 51108 for a bad flag, 51091 for an invalid pattern.
 * The result never has the `g` or `y` flag, so `test` is stateless.
 */
export function compileRegex(pattern: string, flags: string): RegExp {
  const key = `${flags}/${pattern}`;
  const hit = cache.get(key);
  if (hit) return hit;
  if (pattern.includes('\0')) fail('BadValue', 'Regular expression cannot contain an embedded null byte');
  validateRegexFlags(flags);
  let multiline = flags.includes('m');
  let ignoreCase = flags.includes('i');
  let dotAll = flags.includes('s');
  let extended = flags.includes('x');

  // Leading inline options, e.g. (?i) or (?ms), apply to the whole pattern.
  let body = pattern;
  for (;;) {
    const m = /^\(\?([imsx]+)\)/.exec(body);
    if (!m) break;
    for (const c of m[1]!) {
      if (c === 'i') ignoreCase = true;
      else if (c === 'm') multiline = true;
      else if (c === 's') dotAll = true;
      else extended = true;
    }
    body = body.slice(m[0].length);
  }

  let source: string;
  try {
    source = translate(body, multiline, extended);
  } catch (e) {
    if (e instanceof DossierError) throw e;
    throw new DossierError(51091, `Regular expression is invalid: ${(e as Error).message}`);
  }
  const jsFlags = `${ignoreCase ? 'i' : ''}${multiline ? 'm' : ''}${dotAll ? 's' : ''}`;
  let re: RegExp;
  try {
    re = needsUnicode(source) ? new RegExp(source, `${jsFlags}u`) : new RegExp(source, jsFlags);
  } catch (first) {
    try {
      re = new RegExp(source, `${jsFlags}u`);
    } catch {
      throw new DossierError(51091, `Regular expression is invalid: ${(first as Error).message}`);
    }
  }
  if (cache.size >= CACHE_MAX) cache.clear();
  cache.set(key, re);
  return re;
}

function needsUnicode(source: string): boolean {
  return /\\[pP]\{|\\u\{/.test(source);
}

/** Rewrites PCRE-only syntax into JavaScript syntax, keeping everything else as written. */
function translate(src: string, multiline: boolean, extended: boolean): string {
  let out = '';
  let inClass = false;
  const n = src.length;
  for (let i = 0; i < n; i++) {
    const c = src[i]!;
    if (c === '\\') {
      const d = src[i + 1];
      if (d === undefined) throw new Error('\\ at end of pattern');
      i++;
      if (d === 'Q') {
        const end = src.indexOf('\\E', i + 1);
        const literal = end < 0 ? src.slice(i + 1) : src.slice(i + 1, end);
        out += literal.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
        i = end < 0 ? n : end + 1;
        continue;
      }
      if (d === 'E') continue;
      if (!inClass) {
        if (d === 'A') { out += '(?<![\\s\\S])'; continue; }
        if (d === 'z') { out += '(?![\\s\\S])'; continue; }
        if (d === 'Z') { out += '(?=\\n?(?![\\s\\S]))'; continue; }
        if (d === 'G') { continue; }
      }
      if (d === 'h') { out += inClass ? ' \\t' : '[ \\t]'; continue; }
      if (d === 'x' && src[i + 1] === '{') {
        const end = src.indexOf('}', i);
        if (end < 0) throw new Error('missing } in \\x{...}');
        out += `\\u{${src.slice(i + 2, end)}}`;
        i = end;
        continue;
      }
      out += `\\${d}`;
      continue;
    }
    if (inClass) {
      if (c === '[' && src[i + 1] === ':') {
        const end = src.indexOf(':]', i + 2);
        if (end > 0) {
          let name = src.slice(i + 2, end);
          const negated = name.startsWith('^');
          if (negated) name = name.slice(1);
          const cls = POSIX_CLASSES[name];
          if (cls === undefined) throw new Error(`unknown POSIX class name [:${name}:]`);
          if (negated) throw new Error('negated POSIX classes are not supported');
          out += cls;
          i = end + 1;
          continue;
        }
      }
      if (c === ']') inClass = false;
      out += c;
      continue;
    }
    if (extended) {
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v') continue;
      if (c === '#') {
        const nl = src.indexOf('\n', i);
        i = nl < 0 ? n : nl;
        continue;
      }
    }
    if (c === '[') {
      inClass = true;
      out += c;
      // A ']' right after '[' or '[^' is a literal in PCRE.
      if (src[i + 1] === '^') {
        out += '^';
        i++;
      }
      if (src[i + 1] === ']') {
        out += '\\]';
        i++;
      }
      continue;
    }
    if (c === '$' && !multiline) {
      out += '(?=\\n?(?![\\s\\S]))';
      continue;
    }
    if (c === '(' && src[i + 1] === '?') {
      if (src[i + 2] === 'P' && src[i + 3] === '<') {
        out += '(?<';
        i += 3;
        continue;
      }
      if (src[i + 2] === 'P' && src[i + 3] === '=') {
        const end = src.indexOf(')', i);
        if (end < 0) throw new Error('missing )');
        out += `\\k<${src.slice(i + 4, end)}>`;
        i = end;
        continue;
      }
      if (src[i + 2] === '>') {
        out += '(?:';
        i += 2;
        continue;
      }
      if (src[i + 2] === '#') {
        const end = src.indexOf(')', i);
        i = end < 0 ? n : end;
        continue;
      }
    }
    if (c === '+' && i > 0 && isQuantifierEnd(src, i - 1)) continue; // possessive: a++ → a+
    out += c;
  }
  if (inClass) throw new Error('missing terminating ] for character class');
  return out;
}

function isQuantifierEnd(src: string, i: number): boolean {
  const c = src[i];
  if (c !== '*' && c !== '+' && c !== '?' && c !== '}') return false;
  let backslashes = 0;
  for (let j = i - 1; j >= 0 && src[j] === '\\'; j--) backslashes++;
  return backslashes % 2 === 0;
}

/**
 * The literal prefix every match of the regex must start with, when the regex is anchored with
 * `^` (or `\A`) and has no options that defeat prefix scans (i, x; m lets `^` match after a
 * newline). Used for index bounds. Returns undefined when there is no usable prefix.
 */
export function anchoredLiteralPrefix(pattern: string, flags: string): string | undefined {
  if (flags.includes('i') || flags.includes('x') || flags.includes('m')) return undefined;
  // An alternation anywhere may offer a branch without the prefix.
  if (pattern.includes('|')) return undefined;
  let i: number;
  if (pattern.startsWith('^')) i = 1;
  else if (pattern.startsWith('\\A')) i = 2;
  else return undefined;
  let prefix = '';
  const special = '\\^$.|?*+()[]{}';
  for (; i < pattern.length; i++) {
    const c = pattern[i]!;
    let literal: string;
    let width = 1;
    if (c === '\\') {
      const d = pattern[i + 1];
      // Only an escaped metacharacter is a plain literal; \d, \w, ... are classes.
      if (d === undefined || !special.includes(d)) break;
      literal = d;
      width = 2;
    } else if (special.includes(c)) {
      break;
    } else {
      literal = c;
    }
    // A quantified character (or an alternation after it) is not certain to be there.
    const after = pattern[i + width] ?? '';
    if ('?*+{|'.includes(after) && after !== '') break;
    prefix += literal;
    i += width - 1;
  }
  return prefix.length > 0 ? prefix : undefined;
}
