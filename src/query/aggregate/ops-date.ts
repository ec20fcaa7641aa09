/**
 * Date operators with time zones: parts ($year ... $isoWeek), $dateToString, $dateFromString,
 * $dateToParts, $dateFromParts, $dateAdd, $dateSubtract, $dateDiff, $dateTrunc.
 *
 * Time zones are Olson names (through the ICU data Node ships), "UTC"/"GMT", or offsets
 * ("+05:30", "-0800", "+03"). Local time is computed as UTC plus the zone's offset at that instant.
 */
import { failLocation } from '../../base/index.js';
import { isDocument, Long, typeNameOf, type BsonValue, type Document } from '../../bson/index.js';
import { expression, namedArgs, parseExpression, parseOperands, checkArity, registerOperator, type Expression, type Variables } from './expression.js';
import { asDouble, fromSafeNum, integral, isNullish, toSafeNum } from './values.js';

// ---- time zones -------------------------------------------------------------------------------

export interface TimeZone {
  readonly name: string;
  /** The offset from UTC in milliseconds at a UTC instant. */
  offsetMs(utcMs: number): number;
}

const UTC: TimeZone = { name: 'UTC', offsetMs: () => 0 };
export const UTC_ZONE: TimeZone = UTC;
const zoneCache = new Map<string, TimeZone>();

function fixedZone(name: string, ms: number): TimeZone {
  return { name, offsetMs: () => ms };
}

function olsonZone(name: string): TimeZone | undefined {
  let fmt: Intl.DateTimeFormat;
  try {
    fmt = new Intl.DateTimeFormat('en-US', {
      timeZone: name, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
  } catch {
    return undefined;
  }
  return {
    name,
    offsetMs(utcMs: number): number {
      const whole = Math.floor(utcMs / 1000) * 1000;
      const parts = fmt.formatToParts(new Date(whole));
      const get = (t: string): number => Number(parts.find((p) => p.type === t)?.value ?? 0);
      let year = get('year');
      if (parts.find((p) => p.type === 'era')?.value === 'BC') year = 1 - year;
      const local = Date.UTC(year, get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
      return local - whole;
    },
  };
}

/** Parses a timezone argument, with mongod's 40485 for an unknown identifier. */
export function parseTimeZone(v: string): TimeZone {
  const hit = zoneCache.get(v);
  if (hit) return hit;
  let zone: TimeZone | undefined;
  if (v === 'UTC' || v === 'GMT' || v === 'Z') zone = UTC;
  else {
    const m = /^([+-])(\d{2})(?::?(\d{2}))?$/.exec(v);
    if (m) zone = fixedZone(v, (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 3600_000 + Number(m[3] ?? 0) * 60_000));
    else if (/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(v)) zone = olsonZone(v);
  }
  if (!zone) failLocation(40485, `unrecognized time zone identifier: "${v}"`);
  if (zoneCache.size > 1000) zoneCache.clear();
  zoneCache.set(v, zone);
  return zone;
}

/** The UTC instant of a local wall-clock time in a zone (the earlier one across a DST overlap). */
export function localToUtc(localMs: number, zone: TimeZone): number {
  const guess = localMs - zone.offsetMs(localMs);
  const fixed = localMs - zone.offsetMs(guess);
  return fixed;
}

export interface LocalParts {
  year: number; month: number; day: number; hour: number; minute: number; second: number; millisecond: number;
  /** 1 = Sunday ... 7 = Saturday, as $dayOfWeek. */
  dayOfWeek: number;
  dayOfYear: number;
}

export function localParts(utcMs: number, zone: TimeZone): LocalParts {
  const d = new Date(utcMs + zone.offsetMs(utcMs));
  const year = d.getUTCFullYear();
  const start = Date.UTC(year, 0, 1);
  const dayStart = Date.UTC(year, d.getUTCMonth(), d.getUTCDate());
  return {
    year, month: d.getUTCMonth() + 1, day: d.getUTCDate(), hour: d.getUTCHours(), minute: d.getUTCMinutes(), second: d.getUTCSeconds(),
    millisecond: d.getUTCMilliseconds(), dayOfWeek: d.getUTCDay() + 1, dayOfYear: Math.round((dayStart - start) / 86400_000) + 1,
  };
}

/** ISO 8601 week-numbering year and week of a local date. */
export function isoWeek(p: LocalParts): { isoYear: number; week: number; isoDay: number } {
  const isoDay = ((p.dayOfWeek + 5) % 7) + 1; // Monday = 1 ... Sunday = 7
  const date = Date.UTC(p.year, p.month - 1, p.day);
  const thursday = date + (4 - isoDay) * 86400_000;
  const isoYear = new Date(thursday).getUTCFullYear();
  const week = Math.floor((thursday - Date.UTC(isoYear, 0, 1)) / (7 * 86400_000)) + 1;
  return { isoYear, week, isoDay };
}

/** strftime %U: weeks start on Sunday; the days before the first Sunday are week 0. */
function weekOfYear(p: LocalParts): number {
  const jan1Dow = (p.dayOfWeek - 1 - ((p.dayOfYear - 1) % 7) + 7) % 7; // 0 = Sunday
  return Math.floor((p.dayOfYear - 1 + jan1Dow) / 7);
}

// ---- argument handling ------------------------------------------------------------------------

/** A date operand: Date, Timestamp or ObjectId (converted), else 16006. */
export function toDateMs(v: BsonValue, opName = ''): number {
  const t = typeNameOf(v);
  if (t === 'date') return (v as Date).getTime();
  if (t === 'timestamp') return (v.high >>> 0) * 1000;
  if (t === 'objectId') return v.getTimestamp().getTime();
  void opName;
  return failLocation(16006, `can't convert from BSON type ${t} to Date`);
}

function zoneOf(e: Expression | undefined, vars: Variables): TimeZone | null {
  if (!e) return UTC;
  const v = e.evaluate(vars);
  if (isNullish(v)) return null;
  if (typeof v !== 'string') failLocation(40533, `timezone must evaluate to a string, found ${typeNameOf(v)}`);
  return parseTimeZone(v);
}

function int(n: number): BsonValue {
  return fromSafeNum({ t: 'int', v: n });
}

function datePart(name: string, pick: (p: LocalParts) => number): void {
  registerOperator(name, (args, scope) => {
    let date: Expression;
    let tz: Expression | undefined;
    if (isDocument(args) && 'date' in args) {
      for (const k of Object.keys(args)) if (k !== 'date' && k !== 'timezone') failLocation(40535, `unrecognized option to ${name}: "${k}"`);
      date = parseExpression(args.date, scope);
      if ('timezone' in args) tz = parseExpression(args.timezone, scope);
    } else {
      const ops = parseOperands(args, scope);
      checkArity(name, ops, 1);
      date = ops[0]!;
    }
    return expression((vars) => {
      const v = date.evaluate(vars);
      const zone = zoneOf(tz, vars);
      if (isNullish(v) || zone === null) return null;
      return int(pick(localParts(toDateMs(v, name), zone)));
    });
  });
}

datePart('$year', (p) => p.year);
datePart('$month', (p) => p.month);
datePart('$dayOfMonth', (p) => p.day);
datePart('$hour', (p) => p.hour);
datePart('$minute', (p) => p.minute);
datePart('$second', (p) => p.second);
datePart('$millisecond', (p) => p.millisecond);
datePart('$dayOfYear', (p) => p.dayOfYear);
datePart('$dayOfWeek', (p) => p.dayOfWeek);
datePart('$week', weekOfYear);
datePart('$isoWeek', (p) => isoWeek(p).week);
datePart('$isoWeekYear', (p) => isoWeek(p).isoYear);
datePart('$isoDayOfWeek', (p) => isoWeek(p).isoDay);

// ---- $dateToString ------------------------------------------------------------------------------

const DEFAULT_FORMAT = '%Y-%m-%dT%H:%M:%S.%LZ';
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

function pad(n: number, width: number): string {
  const s = String(Math.abs(n)).padStart(width, '0');
  return n < 0 ? `-${s}` : s;
}

function offsetString(ms: number, colon: boolean): string {
  const sign = ms < 0 ? '-' : '+';
  const abs = Math.abs(ms) / 60_000;
  return `${sign}${pad(Math.floor(abs / 60), 2)}${colon ? ':' : ''}${pad(abs % 60, 2)}`;
}

function validateFormat(format: string): void {
  for (let i = 0; i < format.length; i++) {
    if (format[i] !== '%') continue;
    if (i + 1 >= format.length) failLocation(18535, "Unmatched '%' at end of format string");
    const c = format[++i]!;
    if (!'dGHjLmMSuUVwYzZ%bB'.includes(c)) failLocation(18536, `Invalid format character '%${c}' in format string`);
  }
}

export function formatDate(utcMs: number, format: string, zone: TimeZone): string {
  const p = localParts(utcMs, zone);
  const iso = isoWeek(p);
  let out = '';
  for (let i = 0; i < format.length; i++) {
    const ch = format[i]!;
    if (ch !== '%') {
      out += ch;
      continue;
    }
    const c = format[++i]!;
    switch (c) {
      case 'd': out += pad(p.day, 2); break;
      case 'G': out += pad(iso.isoYear, 4); break;
      case 'H': out += pad(p.hour, 2); break;
      case 'j': out += pad(p.dayOfYear, 3); break;
      case 'L': out += pad(p.millisecond, 3); break;
      case 'm': out += pad(p.month, 2); break;
      case 'M': out += pad(p.minute, 2); break;
      case 'S': out += pad(p.second, 2); break;
      case 'u': out += String(iso.isoDay); break;
      case 'U': out += pad(weekOfYear(p), 2); break;
      case 'V': out += pad(iso.week, 2); break;
      case 'w': out += String(p.dayOfWeek); break;
      case 'Y': out += pad(p.year, 4); break;
      case 'z': out += offsetString(zone.offsetMs(utcMs), false); break;
      case 'Z': out += String(zone.offsetMs(utcMs) / 60_000); break;
      case 'b': out += MONTHS[p.month - 1]!.slice(0, 3); break;
      case 'B': out += MONTHS[p.month - 1]!; break;
      case '%': out += '%'; break;
    }
  }
  return out;
}

registerOperator('$dateToString', (args, scope, name) => {
  const spec = namedArgs(name, args, ['date', 'format', 'timezone', 'onNull'], {
    notObject: [18629, `${name} only supports an object as its argument`],
    unknown: (k) => [18534, `Unrecognized argument to $dateToString: ${k}`],
  });
  if (!('date' in spec)) failLocation(18628, "Missing 'date' parameter to $dateToString");
  const date = parseExpression(spec.date, scope);
  const format = 'format' in spec ? parseExpression(spec.format, scope) : undefined;
  if (format?.constant && typeof format.constant.value === 'string') validateFormat(format.constant.value);
  const tz = 'timezone' in spec ? parseExpression(spec.timezone, scope) : undefined;
  const onNull = 'onNull' in spec ? parseExpression(spec.onNull, scope) : undefined;
  return expression((vars) => {
    let fmt = DEFAULT_FORMAT;
    if (format) {
      const f = format.evaluate(vars);
      if (isNullish(f)) return null;
      if (typeof f !== 'string') failLocation(18533, `$dateToString requires that 'format' be a string, found: ${typeNameOf(f)} with value ${String(f)}`);
      validateFormat(f);
      fmt = f;
    }
    const zone = zoneOf(tz, vars);
    if (zone === null) return null;
    const v = date.evaluate(vars);
    if (isNullish(v)) return onNull ? onNull.evaluate(vars) : null;
    return formatDate(toDateMs(v, name), fmt, zone);
  });
});

// ---- parsing dates -----------------------------------------------------------------------------

/** Parses the ISO-8601 forms mongod's date parser accepts for $toDate / $dateFromString without a format. */
export function parseIsoDate(s: string, zone: TimeZone = UTC): Date | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/.exec(s.trim());
  if (!m) {
    const m2 = /^(\d{4})\/(\d{2})\/(\d{2})(?: (\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(s.trim());
    if (!m2) return undefined;
    return new Date(localToUtc(Date.UTC(+m2[1]!, +m2[2]! - 1, +m2[3]!, +(m2[4] ?? 0), +(m2[5] ?? 0), +(m2[6] ?? 0)), zone));
  }
  const ms = m[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0;
  const local = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0), ms);
  if (m[8]) return new Date(local - parseTimeZone(m[8] === 'Z' ? 'UTC' : m[8]).offsetMs(local));
  return new Date(localToUtc(local, zone));
}

function conversionFailure(msg: string): never {
  return failLocation(241, msg);
}

/** Parses a date string with a format of %-specifiers (mongod's $dateFromString with 'format'). */
function parseWithFormat(s: string, format: string, zone: TimeZone): Date {
  let pos = 0;
  const fields = { Y: 1970, m: 1, d: 1, H: 0, M: 0, S: 0, L: 0, j: 0, G: 0, V: 0, u: 0 };
  let offset: number | undefined;
  const fail = (): never => conversionFailure(`Error parsing date string '${s}'; 0: Unexpected data found after parsing '${format}'`);
  const digits = (max: number): number => {
    const m = new RegExp(`^\\d{1,${max}}`).exec(s.slice(pos));
    if (!m) fail();
    pos += m![0].length;
    return Number(m![0]);
  };
  for (let i = 0; i < format.length; i++) {
    const ch = format[i]!;
    if (ch !== '%') {
      if (s[pos] !== ch) fail();
      pos++;
      continue;
    }
    const c = format[++i]!;
    switch (c) {
      case 'Y': fields.Y = digits(4); break;
      case 'G': fields.G = digits(4); break;
      case 'm': fields.m = digits(2); break;
      case 'd': fields.d = digits(2); break;
      case 'H': fields.H = digits(2); break;
      case 'M': fields.M = digits(2); break;
      case 'S': fields.S = digits(2); break;
      case 'L': fields.L = digits(3); break;
      case 'j': fields.j = digits(3); break;
      case 'V': fields.V = digits(2); break;
      case 'u': fields.u = digits(1); break;
      case 'z': {
        const m = /^[+-]\d{2}:?\d{2}/.exec(s.slice(pos));
        if (!m) fail();
        offset = parseTimeZone(m![0]).offsetMs(0);
        pos += m![0].length;
        break;
      }
      case 'Z': {
        const m = /^[+-]?\d+/.exec(s.slice(pos));
        if (!m) fail();
        offset = Number(m![0]) * 60_000;
        pos += m![0].length;
        break;
      }
      case '%':
        if (s[pos] !== '%') fail();
        pos++;
        break;
      default:
        fail();
    }
  }
  if (pos !== s.length) fail();
  let local: number;
  if (fields.G) {
    const jan4 = Date.UTC(fields.G, 0, 4);
    const jan4Dow = (new Date(jan4).getUTCDay() + 6) % 7;
    local = jan4 - jan4Dow * 86400_000 + ((fields.V || 1) - 1) * 7 * 86400_000 + ((fields.u || 1) - 1) * 86400_000 + fields.H * 3600_000 + fields.M * 60_000 + fields.S * 1000 + fields.L;
  } else if (fields.j) {
    local = Date.UTC(fields.Y, 0, fields.j, fields.H, fields.M, fields.S, fields.L);
  } else {
    local = Date.UTC(fields.Y, fields.m - 1, fields.d, fields.H, fields.M, fields.S, fields.L);
  }
  return new Date(offset !== undefined ? local - offset : localToUtc(local, zone));
}

registerOperator('$dateFromString', (args, scope, name) => {
  const spec = namedArgs(name, args, ['dateString', 'format', 'timezone', 'onError', 'onNull'], {
    notObject: [40540, `$dateFromString only supports an object as an argument, found: ${typeNameOf(args)}`],
    unknown: (k) => [40541, `Unrecognized argument to $dateFromString: ${k}`],
  });
  if (!('dateString' in spec)) failLocation(40542, "Missing 'dateString' parameter to $dateFromString");
  const str = parseExpression(spec.dateString, scope);
  const format = 'format' in spec ? parseExpression(spec.format, scope) : undefined;
  const tz = 'timezone' in spec ? parseExpression(spec.timezone, scope) : undefined;
  const onError = 'onError' in spec ? parseExpression(spec.onError, scope) : undefined;
  const onNull = 'onNull' in spec ? parseExpression(spec.onNull, scope) : undefined;
  return expression((vars) => {
    const zone = zoneOf(tz, vars);
    const s = str.evaluate(vars);
    let fmt: string | undefined;
    if (format) {
      const f = format.evaluate(vars);
      if (isNullish(f)) return null;
      if (typeof f !== 'string') failLocation(40684, `$dateFromString requires that 'format' be a string, found: ${typeNameOf(f)} with value ${String(f)}`);
      validateFormat(f);
      fmt = f;
    }
    if (isNullish(s)) return onNull ? onNull.evaluate(vars) : null;
    if (zone === null) return null;
    try {
      if (typeof s !== 'string') conversionFailure(`$dateFromString requires that 'dateString' be a string, found: ${typeNameOf(s)} with value ${String(s)}`);
      if (fmt !== undefined) return parseWithFormat(s, fmt, zone);
      const d = parseIsoDate(s, zone);
      if (d === undefined || Number.isNaN(d.getTime())) conversionFailure(`Error parsing date string '${s}'; 0: Unexpected data found after parsing`);
      return d;
    } catch (e) {
      if (onError && (e as { code?: number }).code === 241) return onError.evaluate(vars);
      throw e;
    }
  });
});

// ---- parts ---------------------------------------------------------------------------------------

registerOperator('$dateToParts', (args, scope, name) => {
  const spec = namedArgs(name, args, ['date', 'timezone', 'iso8601'], {
    notObject: [40524, `$dateToParts only supports an object as its argument`],
    unknown: (k) => [40520, `Unrecognized argument to $dateToParts: ${k}`],
  });
  if (!('date' in spec)) failLocation(40522, "Missing 'date' parameter to $dateToParts");
  const date = parseExpression(spec.date, scope);
  const tz = 'timezone' in spec ? parseExpression(spec.timezone, scope) : undefined;
  const iso = 'iso8601' in spec ? parseExpression(spec.iso8601, scope) : undefined;
  return expression((vars) => {
    const v = date.evaluate(vars);
    const zone = zoneOf(tz, vars);
    const isoV = iso?.evaluate(vars);
    if (isNullish(v) || zone === null) return null;
    if (iso && !isNullish(isoV) && typeof isoV !== 'boolean') failLocation(40521, `iso8601 must evaluate to a bool, found ${typeNameOf(isoV)}`);
    const p = localParts(toDateMs(v, name), zone);
    const tail = { hour: int(p.hour), minute: int(p.minute), second: int(p.second), millisecond: int(p.millisecond) };
    if (isoV === true) {
      const w = isoWeek(p);
      return { isoWeekYear: int(w.isoYear), isoWeek: int(w.week), isoDayOfWeek: int(w.isoDay), ...tail };
    }
    return { year: int(p.year), month: int(p.month), day: int(p.day), ...tail };
  });
});

registerOperator('$dateFromParts', (args, scope, name) => {
  const fields = ['year', 'month', 'day', 'hour', 'minute', 'second', 'millisecond', 'isoWeekYear', 'isoWeek', 'isoDayOfWeek', 'timezone'];
  const spec = namedArgs(name, args, fields, {
    notObject: [40519, `$dateFromParts only supports an object as its argument`],
    unknown: (k) => [40518, `Unrecognized argument to $dateFromParts: ${k}`],
  });
  const isIso = 'isoWeekYear' in spec;
  if (!isIso && !('year' in spec)) failLocation(40516, "$dateFromParts requires either 'year' or 'isoWeekYear' to be present");
  if (isIso && ('year' in spec || 'month' in spec || 'day' in spec)) failLocation(40489, "$dateFromParts does not allow mixing natural dates with ISO dates");
  const exprs = new Map<string, Expression>();
  for (const f of fields) if (f in spec) exprs.set(f, parseExpression(spec[f], scope));
  return expression((vars) => {
    const val = (f: string, dflt: number, min: number, max: number): number | null => {
      const e = exprs.get(f);
      if (!e) return dflt;
      const v = e.evaluate(vars);
      if (isNullish(v)) return null;
      const n = toSafeNum(v);
      if (!n || !Number.isInteger(asDouble(n))) failLocation(40515, `'${f}' must evaluate to an integer, found ${typeNameOf(v)} with value ${String(v)}`);
      const x = asDouble(n);
      if (x < min || x > max) failLocation(31034, `'${f}' must evaluate to a value in the range [${min}, ${max}]; found ${x}`);
      return x;
    };
    const zone = zoneOf(exprs.get('timezone'), vars);
    const hour = val('hour', 0, -32768, 32767);
    const minute = val('minute', 0, -32768, 32767);
    const second = val('second', 0, -32768, 32767);
    const ms = val('millisecond', 0, -32768, 32767);
    if (zone === null || hour === null || minute === null || second === null || ms === null) return null;
    let local: number;
    if (isIso) {
      const y = val('isoWeekYear', 1970, 1, 9999);
      const w = val('isoWeek', 1, -32768, 32767);
      const d = val('isoDayOfWeek', 1, -32768, 32767);
      if (y === null || w === null || d === null) return null;
      const jan4 = Date.UTC(y, 0, 4);
      const monday = jan4 - ((new Date(jan4).getUTCDay() + 6) % 7) * 86400_000;
      local = monday + ((w - 1) * 7 + (d - 1)) * 86400_000 + hour * 3600_000 + minute * 60_000 + second * 1000 + ms;
    } else {
      const y = val('year', 1970, 1, 9999);
      const mo = val('month', 1, -32768, 32767);
      const d = val('day', 1, -32768, 32767);
      if (y === null || mo === null || d === null) return null;
      const base = new Date(0);
      base.setUTCFullYear(y, mo - 1, d);
      base.setUTCHours(hour, minute, second, ms);
      local = base.getTime();
    }
    return new Date(localToUtc(local, zone));
  });
});

// ---- arithmetic on dates ---------------------------------------------------------------------------

export type DateUnit = Unit;
type Unit = 'year' | 'quarter' | 'month' | 'week' | 'day' | 'hour' | 'minute' | 'second' | 'millisecond';
const UNITS = new Set<Unit>(['year', 'quarter', 'month', 'week', 'day', 'hour', 'minute', 'second', 'millisecond']);
const FIXED_MS: Partial<Record<Unit, number>> = { hour: 3600_000, minute: 60_000, second: 1000, millisecond: 1 };
const DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const DAY_ABBREV = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

function parseUnit(v: BsonValue, opName: string): Unit {
  if (typeof v !== 'string') failLocation(5439013, `${opName} requires 'unit' to be a string, but got ${typeNameOf(v)}`);
  if (!UNITS.has(v as Unit)) failLocation(5439014, `${opName} parameter 'unit' value parsing failed :: caused by :: unknown time unit value: ${v}`);
  return v as Unit;
}

function parseStartOfWeek(v: BsonValue, opName: string): number {
  if (typeof v !== 'string') failLocation(5439015, `${opName} requires 'startOfWeek' to be a string, but got ${typeNameOf(v)}`);
  const s = v.toLowerCase();
  let i = DAYS.indexOf(s);
  if (i < 0) i = DAY_ABBREV.indexOf(s);
  if (i < 0) failLocation(5439016, `${opName} parameter 'startOfWeek' value cannot be recognized as a day of a week: ${v}`);
  return i;
}

/** Adds `amount` units to an instant, in the zone's local time for day and longer units. */
export function dateAdd(utcMs: number, unit: Unit, amount: number, zone: TimeZone): number {
  const fixed = FIXED_MS[unit];
  if (fixed !== undefined) return utcMs + amount * fixed;
  const offset = zone.offsetMs(utcMs);
  const local = new Date(utcMs + offset);
  if (unit === 'day' || unit === 'week') {
    local.setUTCDate(local.getUTCDate() + amount * (unit === 'week' ? 7 : 1));
  } else {
    const months = unit === 'year' ? amount * 12 : unit === 'quarter' ? amount * 3 : amount;
    const day = local.getUTCDate();
    local.setUTCDate(1);
    local.setUTCMonth(local.getUTCMonth() + months);
    // Clamp to the last day of the target month (Jan 31 + 1 month = Feb 28/29), as mongod.
    const last = new Date(Date.UTC(local.getUTCFullYear(), local.getUTCMonth() + 1, 0)).getUTCDate();
    local.setUTCDate(Math.min(day, last));
  }
  return localToUtc(local.getTime(), zone);
}

function truncLocal(localMs: number, unit: Unit, binSize: number, startOfWeek: number): number {
  const d = new Date(localMs);
  switch (unit) {
    case 'millisecond':
    case 'second':
    case 'minute':
    case 'hour': {
      const size = FIXED_MS[unit]! * binSize;
      return Math.floor(localMs / size) * size;
    }
    case 'day': {
      const day = Math.floor(localMs / 86400_000);
      return Math.floor(day / binSize) * binSize * 86400_000;
    }
    case 'week': {
      const day = Math.floor(localMs / 86400_000);
      // Day 0 (1970-01-01) was a Thursday; weeks are counted from a reference week start.
      const dow = (day + 4) % 7;
      const weekStartDay = day - ((dow - startOfWeek + 7) % 7);
      const refStart = -((4 - startOfWeek + 7) % 7);
      const weeks = Math.floor((weekStartDay - refStart) / 7);
      return (refStart + Math.floor(weeks / binSize) * binSize * 7) * 86400_000;
    }
    default: {
      const monthsPer = unit === 'year' ? 12 : unit === 'quarter' ? 3 : 1;
      const total = (d.getUTCFullYear() - 2000) * 12 + d.getUTCMonth();
      const bin = monthsPer * binSize;
      const start = Math.floor(total / bin) * bin;
      return Date.UTC(2000 + Math.floor(start / 12), ((start % 12) + 12) % 12, 1);
    }
  }
}

function dateArith(name: string, sign: 1 | -1): void {
  registerOperator(name, (args, scope) => {
    const spec = namedArgs(name, args, ['startDate', 'unit', 'amount', 'timezone'], {
      notObject: [5166400, `${name} expects an object as its argument`],
      unknown: (k) => [5166401, `Unrecognized argument to ${name}: ${k}. Expected arguments are startDate, unit, amount, and optionally timezone.`],
    });
    for (const f of ['startDate', 'unit', 'amount']) if (!(f in spec)) failLocation(5166402, `${name} requires startDate, unit, and amount to be present`);
    const start = parseExpression(spec.startDate, scope);
    const unit = parseExpression(spec.unit, scope);
    const amount = parseExpression(spec.amount, scope);
    const tz = 'timezone' in spec ? parseExpression(spec.timezone, scope) : undefined;
    return expression((vars) => {
      const s = start.evaluate(vars);
      const u = unit.evaluate(vars);
      const a = amount.evaluate(vars);
      const zone = zoneOf(tz, vars);
      if (isNullish(s) || isNullish(u) || isNullish(a) || zone === null) return null;
      const ms = toDateMs(s, name);
      const un = parseUnit(u, name);
      const n = toSafeNum(a);
      if (!n || !Number.isInteger(asDouble(n))) failLocation(5166403, `${name} requires an integer for amount, found ${typeNameOf(a)} with value ${String(a)}`);
      return new Date(dateAdd(ms, un, sign * asDouble(n), zone));
    });
  });
}

dateArith('$dateAdd', 1);
dateArith('$dateSubtract', -1);

registerOperator('$dateDiff', (args, scope, name) => {
  const spec = namedArgs(name, args, ['startDate', 'endDate', 'unit', 'timezone', 'startOfWeek'], {
    notObject: [5166301, `${name} only supports an object as its argument`],
    unknown: (k) => [5166302, `Unrecognized argument to ${name}: ${k}`],
  });
  if (!('startDate' in spec)) failLocation(5166303, "Missing 'startDate' parameter to $dateDiff");
  if (!('endDate' in spec)) failLocation(5166304, "Missing 'endDate' parameter to $dateDiff");
  if (!('unit' in spec)) failLocation(5166305, "Missing 'unit' parameter to $dateDiff");
  const start = parseExpression(spec.startDate, scope);
  const end = parseExpression(spec.endDate, scope);
  const unit = parseExpression(spec.unit, scope);
  const tz = 'timezone' in spec ? parseExpression(spec.timezone, scope) : undefined;
  const sow = 'startOfWeek' in spec ? parseExpression(spec.startOfWeek, scope) : undefined;
  return expression((vars) => {
    const s = start.evaluate(vars);
    const e = end.evaluate(vars);
    const u = unit.evaluate(vars);
    const zone = zoneOf(tz, vars);
    if (isNullish(s) || isNullish(e) || isNullish(u) || zone === null) return null;
    const un = parseUnit(u, name);
    let startOfWeek = 0;
    if (un === 'week' && sow) {
      const w = sow.evaluate(vars);
      if (isNullish(w)) return null;
      startOfWeek = parseStartOfWeek(w, name);
    }
    const a = toDateMs(s, name);
    const b = toDateMs(e, name);
    // Counts unit boundaries crossed between the two instants, as mongod's dateDiff.
    const la = a + zone.offsetMs(a);
    const lb = b + zone.offsetMs(b);
    let diff: number;
    switch (un) {
      case 'millisecond':
        diff = b - a;
        break;
      case 'second':
      case 'minute':
      case 'hour': {
        const size = FIXED_MS[un]!;
        diff = Math.floor(lb / size) - Math.floor(la / size);
        break;
      }
      case 'day':
        diff = Math.floor(lb / 86400_000) - Math.floor(la / 86400_000);
        break;
      case 'week':
        diff = Math.round((truncLocal(lb, 'week', 1, startOfWeek) - truncLocal(la, 'week', 1, startOfWeek)) / (7 * 86400_000));
        break;
      default: {
        const da = new Date(la);
        const db = new Date(lb);
        const months = (db.getUTCFullYear() - da.getUTCFullYear()) * 12 + db.getUTCMonth() - da.getUTCMonth();
        diff = un === 'month' ? months : un === 'year' ? db.getUTCFullYear() - da.getUTCFullYear() : Math.floor((db.getUTCFullYear() * 12 + db.getUTCMonth()) / 3) - Math.floor((da.getUTCFullYear() * 12 + da.getUTCMonth()) / 3);
      }
    }
    return Long.fromNumber(diff);
  });
});

registerOperator('$dateTrunc', (args, scope, name) => {
  const spec = namedArgs(name, args, ['date', 'unit', 'binSize', 'timezone', 'startOfWeek'], {
    notObject: [5439007, `${name} only supports an object as its argument`],
    unknown: (k) => [5439008, `Unrecognized argument to ${name}: ${k}. Expected arguments are date, unit, and optionally, binSize, timezone, startOfWeek`],
  });
  if (!('date' in spec)) failLocation(5439009, `Missing 'date' parameter to ${name}`);
  if (!('unit' in spec)) failLocation(5439010, `Missing 'unit' parameter to ${name}`);
  const date = parseExpression(spec.date, scope);
  const unit = parseExpression(spec.unit, scope);
  const bin = 'binSize' in spec ? parseExpression(spec.binSize, scope) : undefined;
  const tz = 'timezone' in spec ? parseExpression(spec.timezone, scope) : undefined;
  const sow = 'startOfWeek' in spec ? parseExpression(spec.startOfWeek, scope) : undefined;
  return expression((vars) => {
    const d = date.evaluate(vars);
    const u = unit.evaluate(vars);
    const zone = zoneOf(tz, vars);
    if (isNullish(d) || isNullish(u) || zone === null) return null;
    const un = parseUnit(u, name);
    let binSize = 1;
    if (bin) {
      const b = bin.evaluate(vars);
      if (isNullish(b)) return null;
      const n = toSafeNum(b);
      if (!n || !Number.isInteger(asDouble(n)) || asDouble(n) <= 0) failLocation(5439017, `${name} requires 'binSize' to be a 64-bit integer greater than 0, but got value '${String(b)}' of type ${typeNameOf(b)}`);
      binSize = asDouble(n);
    }
    let startOfWeek = 0;
    if (un === 'week' && sow) {
      const w = sow.evaluate(vars);
      if (isNullish(w)) return null;
      startOfWeek = parseStartOfWeek(w, name);
    }
    const ms = toDateMs(d, name);
    if (FIXED_MS[un] !== undefined && (un === 'millisecond' || un === 'second' || un === 'minute' || (un === 'hour' && zone.offsetMs(0) % 3600_000 === 0 && zone.offsetMs(ms) % 3600_000 === 0))) {
      // Units up to an hour are fixed lengths: bin in UTC (as mongod does), except zones with odd offsets.
      const size = FIXED_MS[un]! * binSize;
      return new Date(Math.floor(ms / size) * size);
    }
    const local = ms + zone.offsetMs(ms);
    return new Date(localToUtc(truncLocal(local, un, binSize, startOfWeek), zone));
  });
});

export function dateOf(v: BsonValue): Date {
  return new Date(toDateMs(v));
}

export { integral, isDocument };
export type { Document };
