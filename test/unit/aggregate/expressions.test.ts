/**
 * Aggregation expressions, table-driven: each case is an expression, a document, and the value
 * mongod gives — compared by value *and* BSON type (int32 vs int64 vs double vs decimal matter).
 * Cases come from MongoDB's documentation examples where they exist.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expressionHook } from '../../../src/query/aggregate/index.js';
import { compareValues, Decimal128, Double, Int32, isDocument, Long, ObjectId, Timestamp, typeNameOf, type BsonValue, type Document } from '../../../src/bson/index.js';
import { DossierError } from '../../../src/base/index.js';

const i = (n: number): Int32 => new Int32(n);
const d = (n: number): Double => new Double(n);
const l = (n: number | bigint): Long => (typeof n === 'bigint' ? Long.fromBigInt(n) : Long.fromNumber(n));
const dec = (s: string): Decimal128 => Decimal128.fromString(s);

const hook = expressionHook({ now: new Date('2024-01-02T03:04:05.678Z'), random: () => 0.25 });
const evaluate = (expr: BsonValue, doc: Document = {}): BsonValue => hook(expr)(doc);

/** Same value and same BSON type, all the way down. */
function assertSame(actual: BsonValue, expected: BsonValue, path = '$'): void {
  assert.equal(typeNameOf(actual), typeNameOf(expected), `${path}: type ${typeNameOf(actual)} (${String(actual)}) vs ${typeNameOf(expected)} (${String(expected)})`);
  if (Array.isArray(expected)) {
    assert.equal(actual.length, expected.length, `${path}: length`);
    expected.forEach((e, k) => assertSame(actual[k], e, `${path}[${k}]`));
    return;
  }
  if (isDocument(expected)) {
    assert.deepEqual(Object.keys(actual), Object.keys(expected), `${path}: keys`);
    for (const k of Object.keys(expected)) assertSame(actual[k], expected[k], `${path}.${k}`);
    return;
  }
  if (typeNameOf(expected) === 'double' && Number.isNaN(expected.value)) {
    assert.ok(Number.isNaN(actual.value), path);
    return;
  }
  assert.equal(compareValues(actual, expected), 0, `${path}: ${String(actual)} vs ${String(expected)}`);
}

type Case = [name: string, expr: BsonValue, doc: Document, expected: BsonValue];

const MISSING = undefined;

const CASES: Case[] = [
  // arithmetic and MongoDB's numeric type rules
  ['$add int+int', { $add: [i(1), i(2)] }, {}, i(3)],
  ['$add int32 overflow widens to long', { $add: [i(2147483647), i(1)] }, {}, l(2147483648)],
  ['$add long overflow becomes double', { $add: [l(9223372036854775807n), i(1)] }, {}, d(9223372036854775808)],
  ['$add with a double is a double', { $add: [i(1), d(0.5)] }, {}, d(1.5)],
  ['$add decimal wins', { $add: [dec('1.1'), d(2), i(3)] }, {}, dec('6.1')],
  ['$add date + ms', { $add: [new Date(0), i(1000)] }, {}, new Date(1000)],
  ['$add null', { $add: [i(1), null] }, {}, null],
  ['$add missing field', { $add: [i(1), '$nope'] }, {}, null],
  ['$subtract dates gives long ms', { $subtract: [new Date(5000), new Date(2000)] }, {}, l(3000)],
  ['$subtract date - number', { $subtract: [new Date(5000), i(1000)] }, {}, new Date(4000)],
  ['$multiply int overflow', { $multiply: [i(65536), i(65536)] }, {}, l(4294967296)],
  ['$divide ints is double', { $divide: [i(9), i(2)] }, {}, d(4.5)],
  ['$divide decimal', { $divide: [dec('1'), i(4)] }, {}, dec('0.25')],
  ['$mod ints', { $mod: [i(7), i(3)] }, {}, i(1)],
  ['$mod long', { $mod: [l(7), i(3)] }, {}, l(1)],
  ['$mod double', { $mod: [d(7.5), i(2)] }, {}, d(1.5)],
  ['$abs int min', { $abs: i(-2147483648) }, {}, l(2147483648)],
  ['$ceil double', { $ceil: d(1.2) }, {}, d(2)],
  ['$floor int stays int', { $floor: i(5) }, {}, i(5)],
  ['$round half to even', { $round: [d(2.5), i(0)] }, {}, d(2)],
  ['$round 1 place', { $round: [d(19.25), i(1)] }, {}, d(19.2)],
  ['$round negative place on int', { $round: [i(1234), i(-2)] }, {}, i(1200)],
  ['$trunc', { $trunc: [d(-19.99), i(1)] }, {}, d(-19.9)],
  ['$pow int', { $pow: [i(2), i(10)] }, {}, i(1024)],
  ['$pow int overflow to long', { $pow: [i(2), i(40)] }, {}, l(1099511627776)],
  ['$pow negative exponent is double', { $pow: [i(2), i(-1)] }, {}, d(0.5)],
  ['$sqrt', { $sqrt: i(25) }, {}, d(5)],
  ['$log10', { $log10: i(100) }, {}, d(2)],
  ['$exp', { $exp: i(0) }, {}, d(1)],

  // comparison and boolean
  ['$cmp', { $cmp: ['b', 'a'] }, {}, i(1)],
  ['$eq across numeric types', { $eq: [i(1), d(1)] }, {}, true],
  ['$eq missing vs null is false', { $eq: ['$nope', null] }, {}, false],
  ['$gt string vs number (BSON order)', { $gt: ['a', i(5)] }, {}, true],
  ['$and empty', { $and: [] }, {}, true],
  ['$or', { $or: [i(0), null, 'x'] }, {}, true],
  ['$not', { $not: [i(0)] }, {}, true],

  // conditional
  ['$cond array form', { $cond: [{ $gte: ['$q', i(250)] }, i(30), i(20)] }, { q: i(300) }, i(30)],
  ['$cond object form', { $cond: { if: false, then: 'a', else: 'b' } }, {}, 'b'],
  ['$ifNull', { $ifNull: ['$description', 'Unspecified'] }, {}, 'Unspecified'],
  ['$ifNull multiple', { $ifNull: [null, '$nope', 'x'] }, {}, 'x'],
  ['$switch', { $switch: { branches: [{ case: { $lt: ['$s', i(50)] }, then: 'low' }], default: 'high' } }, { s: i(75) }, 'high'],

  // strings
  ['$concat', { $concat: ['$item', ' - ', '$description'] }, { item: 'abc', description: 'product 1' }, 'abc - product 1'],
  ['$concat null', { $concat: ['a', null] }, {}, null],
  ['$substrCP', { $substrCP: ['cafétéria', i(0), i(5)] }, {}, 'cafét'],
  ['$substrBytes', { $substrBytes: ['abcde', i(1), i(2)] }, {}, 'bc'],
  ['$strLenCP', { $strLenCP: 'cafétéria' }, {}, i(9)],
  ['$strLenBytes', { $strLenBytes: 'cafétéria' }, {}, i(11)],
  ['$toLower', { $toLower: 'ABC123' }, {}, 'abc123'],
  ['$toUpper of null is ""', { $toUpper: null }, {}, ''],
  ['$split', { $split: ['June-15-2013', '-'] }, {}, ['June', '15', '2013']],
  ['$trim', { $trim: { input: '  ggggoodbyeeeee  ' } }, {}, 'ggggoodbyeeeee'],
  ['$ltrim chars', { $ltrim: { input: 'xxhixx', chars: 'x' } }, {}, 'hixx'],
  ['$indexOfCP', { $indexOfCP: ['cafeteria', 'e'] }, {}, i(3)],
  ['$indexOfBytes not found', { $indexOfBytes: ['abc', 'z'] }, {}, i(-1)],
  ['$strcasecmp', { $strcasecmp: ['ABC', 'abc'] }, {}, i(0)],
  ['$replaceAll', { $replaceAll: { input: 'a.b.c', find: '.', replacement: '-' } }, {}, 'a-b-c'],
  ['$replaceOne', { $replaceOne: { input: 'a.b.c', find: '.', replacement: '-' } }, {}, 'a-b.c'],
  ['$regexMatch', { $regexMatch: { input: 'Cafe', regex: '^c', options: 'i' } }, {}, true],
  ['$regexFind', { $regexFind: { input: 'cafétéria 42', regex: '([0-9])([0-9])' } }, {}, { match: '42', idx: i(10), captures: ['4', '2'] }],
  ['$regexFindAll', { $regexFindAll: { input: 'a1b2', regex: '[0-9]' } }, {}, [{ match: '1', idx: i(1), captures: [] }, { match: '2', idx: i(3), captures: [] }]],

  // arrays
  ['$arrayElemAt negative', { $arrayElemAt: [[i(1), i(2), i(3)], i(-1)] }, {}, i(3)],
  ['$arrayElemAt out of range is missing', { $arrayElemAt: [[i(1)], i(5)] }, {}, MISSING],
  ['$first', { $first: [[i(1), i(2)]] }, {}, i(1)],
  ['$last', { $last: '$a' }, { a: [i(1), i(2)] }, i(2)],
  ['$size', { $size: '$a' }, { a: [i(1), i(2)] }, i(2)],
  ['$slice 2 args', { $slice: ['$a', i(-2)] }, { a: [i(1), i(2), i(3)] }, [i(2), i(3)]],
  ['$slice 3 args', { $slice: [[i(1), i(2), i(3), i(4)], i(1), i(2)] }, {}, [i(2), i(3)]],
  ['$in', { $in: ['bananas', '$in_stock'] }, { in_stock: ['apples', 'bananas'] }, true],
  ['$indexOfArray', { $indexOfArray: [['a', 'b', 'c'], 'b'] }, {}, i(1)],
  ['$concatArrays', { $concatArrays: [[i(1)], [i(2), i(3)]] }, {}, [i(1), i(2), i(3)]],
  ['$reverseArray', { $reverseArray: [[i(1), i(2)]] }, {}, [i(2), i(1)]],
  ['$range', { $range: [i(0), i(10), i(3)] }, {}, [i(0), i(3), i(6), i(9)]],
  ['$zip', { $zip: { inputs: [[i(1), i(2)], ['a']] } }, {}, [[i(1), 'a']]],
  ['$zip longest with defaults', { $zip: { inputs: [[i(1), i(2)], ['a']], useLongestLength: true, defaults: [i(0), 'z'] } }, {}, [[i(1), 'a'], [i(2), 'z']]],
  ['$map', { $map: { input: '$q', as: 'x', in: { $add: ['$$x', i(2)] } } }, { q: [i(5), i(6)] }, [i(7), i(8)]],
  ['$filter', { $filter: { input: '$items', as: 'it', cond: { $gte: ['$$it.price', i(100)] } } }, { items: [{ price: i(10) }, { price: i(200) }] }, [{ price: i(200) }]],
  ['$filter limit', { $filter: { input: [i(1), i(2), i(3)], cond: true, limit: i(2) } }, {}, [i(1), i(2)]],
  ['$reduce', { $reduce: { input: ['a', 'b', 'c'], initialValue: '', in: { $concat: ['$$value', '$$this'] } } }, {}, 'abc'],
  ['$sortArray by field', { $sortArray: { input: [{ a: i(2) }, { a: i(1) }], sortBy: { a: 1 } } }, {}, [{ a: i(1) }, { a: i(2) }]],
  ['$sortArray desc', { $sortArray: { input: [i(1), i(3), i(2)], sortBy: -1 } }, {}, [i(3), i(2), i(1)]],
  ['$isArray', { $isArray: ['$a'] }, { a: [] }, true],
  ['$firstN (array)', { $firstN: { n: i(2), input: [i(5), i(6), i(7)] } }, {}, [i(5), i(6)]],
  ['$maxN (array)', { $maxN: { n: i(2), input: [i(5), null, i(7), i(6)] } }, {}, [i(7), i(6)]],
  ['field path through an array', '$a.b', { a: [{ b: i(1) }, { c: i(2) }, { b: i(3) }] }, [i(1), i(3)]],

  // objects
  ['$mergeObjects', { $mergeObjects: [{ a: i(1) }, null, { a: i(2), b: i(3) }] }, {}, { a: i(2), b: i(3) }],
  ['$objectToArray', { $objectToArray: { a: i(1) } }, {}, [{ k: 'a', v: i(1) }]],
  ['$arrayToObject pairs', { $arrayToObject: [[['a', i(1)]]] }, {}, { a: i(1) }],
  ['$arrayToObject k/v', { $arrayToObject: [[{ k: 'x', v: 'y' }]] }, {}, { x: 'y' }],
  ['$getField dotted name', { $getField: 'price.usd' }, { 'price.usd': i(45) }, i(45)],
  ['$setField', { $setField: { field: 'b', input: { a: i(1) }, value: i(2) } }, {}, { a: i(1), b: i(2) }],
  ['$unsetField', { $unsetField: { field: 'a', input: { a: i(1), b: i(2) } } }, {}, { b: i(2) }],

  // sets
  ['$setEquals', { $setEquals: [['a', 'b', 'a'], ['b', 'a']] }, {}, true],
  ['$setIntersection', { $setIntersection: [['a', 'b'], ['b', 'c']] }, {}, ['b']],
  ['$setDifference', { $setDifference: [['a', 'b'], ['b']] }, {}, ['a']],
  ['$setIsSubset', { $setIsSubset: [['a'], ['a', 'b']] }, {}, true],
  ['$anyElementTrue', { $anyElementTrue: [[false, i(0), 'x']] }, {}, true],
  ['$allElementsTrue', { $allElementsTrue: [[true, i(0)]] }, {}, false],

  // accumulator expressions
  ['$sum of array', { $sum: '$a' }, { a: [i(1), i(2), 'x'] }, i(3)],
  ['$sum of operands', { $sum: [i(1), l(2)] }, {}, l(3)],
  ['$avg of array', { $avg: [[i(1), i(2)]] }, {}, d(1.5)],
  ['$max of array', { $max: '$a' }, { a: [i(1), i(9), null] }, i(9)],
  ['$min of nothing', { $min: [[]] }, {}, null],
  ['$stdDevPop', { $stdDevPop: [[i(2), i(4), i(4), i(4), i(5), i(5), i(7), i(9)]] }, {}, d(2)],

  // dates
  ['$year', { $year: new Date('2014-01-01T08:15:39.736Z') }, {}, i(2014)],
  ['$month in a zone', { $month: { date: new Date('2014-01-01T02:00:00Z'), timezone: 'America/New_York' } }, {}, i(12)],
  ['$dayOfWeek', { $dayOfWeek: new Date('2014-01-01T08:15:39.736Z') }, {}, i(4)],
  ['$dayOfYear', { $dayOfYear: new Date('2014-02-01T00:00:00Z') }, {}, i(32)],
  ['$week', { $week: new Date('2014-01-01T08:15:39.736Z') }, {}, i(0)],
  ['$isoWeek', { $isoWeek: new Date('2014-01-01T08:15:39.736Z') }, {}, i(1)],
  ['$isoWeekYear', { $isoWeekYear: new Date('2016-01-01T00:00:00Z') }, {}, i(2015)],
  ['$hour with offset', { $hour: { date: new Date('2014-01-01T08:15:39.736Z'), timezone: '+05:30' } }, {}, i(13)],
  ['$dateToString default', { $dateToString: { date: new Date('2014-01-01T08:15:39.736Z') } }, {}, '2014-01-01T08:15:39.736Z'],
  ['$dateToString format', { $dateToString: { date: new Date('2014-01-01T08:15:39.736Z'), format: '%Y-%m-%d %H:%M:%S %j %u %V' } }, {}, '2014-01-01 08:15:39 001 3 01'],
  ['$dateToString zone', { $dateToString: { date: new Date('2014-07-01T08:15:39.736Z'), format: '%H:%M %z', timezone: 'America/New_York' } }, {}, '04:15 -0400'],
  ['$dateToString onNull', { $dateToString: { date: '$nope', onNull: 'none' } }, {}, 'none'],
  ['$dateFromString', { $dateFromString: { dateString: '2017-02-08T12:10:40.787' } }, {}, new Date('2017-02-08T12:10:40.787Z')],
  ['$dateFromString zone', { $dateFromString: { dateString: '2017-02-08T12:10:40.787', timezone: 'America/New_York' } }, {}, new Date('2017-02-08T17:10:40.787Z')],
  ['$dateFromString format', { $dateFromString: { dateString: '15-06-2018', format: '%d-%m-%Y' } }, {}, new Date('2018-06-15T00:00:00Z')],
  ['$dateFromString onError', { $dateFromString: { dateString: 'garbage', onError: 'bad' } }, {}, 'bad'],
  ['$dateFromParts', { $dateFromParts: { year: i(2017), month: i(2), day: i(8), hour: i(12) } }, {}, new Date('2017-02-08T12:00:00Z')],
  ['$dateFromParts overflow months', { $dateFromParts: { year: i(2017), month: i(14), day: i(1) } }, {}, new Date('2018-02-01T00:00:00Z')],
  ['$dateToParts', { $dateToParts: { date: new Date('2017-01-01T01:29:09.123Z') } }, {}, { year: i(2017), month: i(1), day: i(1), hour: i(1), minute: i(29), second: i(9), millisecond: i(123) }],
  ['$dateAdd month clamps', { $dateAdd: { startDate: new Date('2021-01-31T10:00:00Z'), unit: 'month', amount: i(1) } }, {}, new Date('2021-02-28T10:00:00Z')],
  ['$dateSubtract hours', { $dateSubtract: { startDate: new Date('2021-01-31T10:00:00Z'), unit: 'hour', amount: i(3) } }, {}, new Date('2021-01-31T07:00:00Z')],
  ['$dateDiff days', { $dateDiff: { startDate: new Date('2021-01-01T23:00:00Z'), endDate: new Date('2021-01-02T01:00:00Z'), unit: 'day' } }, {}, l(1)],
  ['$dateDiff months', { $dateDiff: { startDate: new Date('2021-01-31T00:00:00Z'), endDate: new Date('2021-03-01T00:00:00Z'), unit: 'month' } }, {}, l(2)],
  ['$dateDiff weeks from monday', { $dateDiff: { startDate: new Date('2021-01-03T00:00:00Z'), endDate: new Date('2021-01-04T00:00:00Z'), unit: 'week', startOfWeek: 'monday' } }, {}, l(1)],
  ['$dateTrunc hour', { $dateTrunc: { date: new Date('2021-03-14T15:09:26.535Z'), unit: 'hour' } }, {}, new Date('2021-03-14T15:00:00Z')],
  ['$dateTrunc month', { $dateTrunc: { date: new Date('2021-03-14T15:09:26.535Z'), unit: 'month' } }, {}, new Date('2021-03-01T00:00:00Z')],
  ['$dateTrunc quarter binSize 2', { $dateTrunc: { date: new Date('2021-08-14T00:00:00Z'), unit: 'quarter', binSize: i(2) } }, {}, new Date('2021-07-01T00:00:00Z')],
  ['$dateTrunc week (sunday)', { $dateTrunc: { date: new Date('2021-03-17T15:09:26Z'), unit: 'week' } }, {}, new Date('2021-03-14T00:00:00Z')],
  ['$dateTrunc day in a zone', { $dateTrunc: { date: new Date('2021-03-14T03:00:00Z'), unit: 'day', timezone: 'America/New_York' } }, {}, new Date('2021-03-13T05:00:00Z')],

  // types and conversion
  ['$type', { $type: '$a' }, { a: l(1) }, 'long'],
  ['$type missing', { $type: '$nope' }, {}, 'missing'],
  ['$isNumber', { $isNumber: dec('1') }, {}, true],
  ['$toInt from double truncates', { $toInt: d(5.9) }, {}, i(5)],
  ['$toInt from string', { $toInt: '-42' }, {}, i(-42)],
  ['$toLong from date', { $toLong: new Date(1000) }, {}, l(1000)],
  ['$toDouble from bool', { $toDouble: true }, {}, d(1)],
  ['$toDecimal from int', { $toDecimal: i(5) }, {}, dec('5')],
  ['$toString from double', { $toString: d(2.5) }, {}, '2.5'],
  ['$toString from objectId', { $toString: new ObjectId('5ab9cbfa31c2ab715d42129e') }, {}, '5ab9cbfa31c2ab715d42129e'],
  ['$toBool from string', { $toBool: '' }, {}, true],
  ['$toDate from string', { $toDate: '2018-03-03' }, {}, new Date('2018-03-03T00:00:00Z')],
  ['$toDate from long', { $toDate: l(1000) }, {}, new Date(1000)],
  ['$toObjectId', { $toObjectId: '5ab9cbfa31c2ab715d42129e' }, {}, new ObjectId('5ab9cbfa31c2ab715d42129e')],
  ['$convert onError', { $convert: { input: 'x', to: 'int', onError: i(0) } }, {}, i(0)],
  ['$convert onNull', { $convert: { input: null, to: 'int', onNull: i(-1) } }, {}, i(-1)],
  ['$convert numeric target', { $convert: { input: '1.5', to: i(1) } }, {}, d(1.5)],
  ['$tsSecond', { $tsSecond: new Timestamp({ t: 1622731060, i: 1 }) }, {}, l(1622731060)],
  ['$bsonSize', { $bsonSize: { a: i(1) } }, {}, i(12)],

  // variables and literals
  ['$literal keeps $', { $literal: '$1' }, {}, '$1'],
  ['$let', { $let: { vars: { total: { $add: ['$p', '$t'] } }, in: { $multiply: ['$$total', i(2)] } } }, { p: i(1), t: i(2) }, i(6)],
  ['$$ROOT', '$$ROOT.a', { a: i(1) }, i(1)],
  ['$$NOW', '$$NOW', {}, new Date('2024-01-02T03:04:05.678Z')],
  ['$$REMOVE is missing', '$$REMOVE', {}, MISSING],
  ['$rand', { $rand: {} }, {}, d(0.25)],
  ['object expression drops missing', { a: '$nope', b: i(1) }, {}, { b: i(1) }],
];

for (const [name, expr, doc, expected] of CASES) {
  test(`expression: ${name}`, () => {
    assertSame(evaluate(expr, doc), expected);
  });
}

type ErrorCase = [name: string, expr: BsonValue, doc: Document, code: number, message?: string];

const ERRORS: ErrorCase[] = [
  ['unknown operator', { $foo: 1 }, {}, 168, "Unrecognized expression '$foo'"],
  ['two operators in one object', { $add: [], $sub: [] }, {}, 15983],
  ['arity', { $ne: [1] }, {}, 16020, 'Expression $ne takes exactly 2 arguments. 1 were passed in.'],
  ['$divide by zero', { $divide: [i(1), i(0)] }, {}, 16608, "can't $divide by zero"],
  ['$add string', { $add: ['a', i(1)] }, {}, 16554, '$add only supports numeric or date types, not string'],
  ['$concat number', { $concat: ['a', i(1)] }, {}, 16702, '$concat only supports strings, not int'],
  ['$size of missing', { $size: '$nope' }, {}, 17124, 'The argument to $size must be an array. Type of the argument was: missing'],
  ['undefined variable', '$$nope', {}, 17276, 'Use of undefined variable: nope'],
  ['$toInt garbage', { $toInt: 'abc' }, {}, 241],
  ['$switch no default', { $switch: { branches: [{ case: false, then: 1 }] } }, {}, 40066],
  ['bad timezone', { $year: { date: new Date(0), timezone: 'Mars/Phobos' } }, {}, 40485, 'unrecognized time zone identifier: "Mars/Phobos"'],
  ['$dateToString bad format', { $dateToString: { date: new Date(0), format: '%Q' } }, {}, 18536],
  ['$sqrt negative', { $sqrt: i(-1) }, {}, 28714],
  ['$arrayElemAt non-array', { $arrayElemAt: ['x', i(0)] }, {}, 28689],
  ['$mergeObjects non-object', { $mergeObjects: [i(5)] }, {}, 40400],
  ['field path with empty component', '$a..b', {}, 15998],
];

for (const [name, expr, doc, code, message] of ERRORS) {
  test(`expression error: ${name}`, () => {
    assert.throws(() => evaluate(expr, doc), (e: unknown) => {
      assert.ok(e instanceof DossierError, String(e));
      assert.equal(e.code, code, e.message);
      if (message) assert.equal(e.message, message);
      return true;
    });
  });
}

test('$expr hook: a filter evaluator over the document, with let variables', () => {
  const withLet = expressionHook({ let: { min: i(3) } });
  assert.equal(withLet({ $gte: ['$a', '$$min'] })({ a: i(5) }), true);
  assert.equal(withLet({ $gte: ['$a', '$$min'] })({ a: i(1) }), false);
});
