import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Double, Int32, Long, ObjectId, type Document } from '../../../src/bson/index.js';
import { DossierError } from '../../../src/base/index.js';
import { matches, parseFilter } from '../../../src/query/filter/index.js';

function valid(schema: Document, doc: Document): boolean {
  return matches(parseFilter({ $jsonSchema: schema }), doc);
}

function schemaError(schema: unknown, code: number, message?: string | RegExp): void {
  assert.throws(
    () => parseFilter({ $jsonSchema: schema }),
    (e: unknown) => {
      assert.ok(e instanceof DossierError);
      assert.equal(e.code, code, e.message);
      if (typeof message === 'string') assert.equal(e.message, message);
      else if (message) assert.match(e.message, message);
      return true;
    },
  );
}

describe('$jsonSchema', () => {
  // The students validator from the schema validation documentation.
  const students = {
    bsonType: 'object',
    title: 'Student Object Validation',
    required: ['address', 'major', 'name', 'year'],
    properties: {
      name: { bsonType: 'string', description: "'name' must be a string and is required" },
      year: { bsonType: 'int', minimum: 2017, maximum: 3017, description: "'year' must be an integer in [ 2017, 3017 ] and is required" },
      gpa: { bsonType: ['double'], description: "'gpa' must be a double if the field exists" },
      major: { enum: ['Math', 'English', 'Computer Science', 'History', null] },
      address: {
        bsonType: 'object',
        required: ['city'],
        properties: { street: { bsonType: 'string' }, city: { bsonType: 'string' } },
      },
    },
  };
  const good = { name: 'Alice', year: new Int32(2019), major: 'History', gpa: new Double(3.0), address: { city: 'NYC', street: '33rd Street' } };

  it('validates the documentation example', () => {
    assert.equal(valid(students, good), true);
    assert.equal(valid(students, { ...good, gpa: new Int32(3) }), false);
    assert.equal(valid(students, { ...good, year: new Int32(2000) }), false);
    assert.equal(valid(students, { ...good, year: new Double(2019) }), false);
    assert.equal(valid(students, { ...good, major: 'Art' }), false);
    assert.equal(valid(students, { ...good, major: null }), true);
    assert.equal(valid(students, { ...good, address: { street: 'x' } }), false);
    const { name: _name, ...noName } = good;
    assert.equal(valid(students, noName), false);
    const { gpa: _gpa, ...noGpa } = good;
    assert.equal(valid(students, noGpa), true);
  });

  it('applies restrictions only to values of their type', () => {
    const s = { properties: { a: { minimum: 5, maxLength: 2, minItems: 1 } } };
    assert.equal(valid(s, { a: 7 }), true);
    assert.equal(valid(s, { a: 3 }), false);
    assert.equal(valid(s, { a: 'ab' }), true);
    assert.equal(valid(s, { a: 'abc' }), false);
    assert.equal(valid(s, { a: [] }), false);
    assert.equal(valid(s, { a: [1] }), true);
    assert.equal(valid(s, { a: { x: 1 } }), true);
    assert.equal(valid(s, {}), true);
  });

  it('type, exclusive bounds, pattern, lengths in code points', () => {
    assert.equal(valid({ properties: { a: { type: 'number' } } }, { a: Long.fromNumber(1) }), true);
    assert.equal(valid({ properties: { a: { type: 'number' } } }, { a: '1' }), false);
    assert.equal(valid({ properties: { a: { type: ['string', 'null'] } } }, { a: null }), true);
    assert.equal(valid({ properties: { a: { type: 'boolean' } } }, { a: false }), true);
    assert.equal(valid({ properties: { a: { maximum: 5, exclusiveMaximum: true } } }, { a: 5 }), false);
    assert.equal(valid({ properties: { a: { maximum: 5 } } }, { a: 5 }), true);
    assert.equal(valid({ properties: { a: { minimum: 5, exclusiveMinimum: true } } }, { a: 5.5 }), true);
    assert.equal(valid({ properties: { a: { pattern: '^x' } } }, { a: 'xy' }), true);
    assert.equal(valid({ properties: { a: { pattern: '^x' } } }, { a: 'yx' }), false);
    assert.equal(valid({ properties: { a: { maxLength: 1 } } }, { a: '😀' }), true);
    assert.equal(valid({ properties: { a: { multipleOf: 3 } } }, { a: 9 }), true);
    assert.equal(valid({ properties: { a: { multipleOf: 3 } } }, { a: 10 }), false);
  });

  it('arrays: items, additionalItems, uniqueItems', () => {
    const tuple = { properties: { a: { items: [{ bsonType: 'string' }, { bsonType: 'int' }], additionalItems: false } } };
    assert.equal(valid(tuple, { a: ['x', new Int32(1)] }), true);
    assert.equal(valid(tuple, { a: ['x'] }), true);
    assert.equal(valid(tuple, { a: ['x', new Int32(1), 3] }), false);
    assert.equal(valid(tuple, { a: [1, 'x'] }), false);
    const all = { properties: { a: { items: { bsonType: 'string' } } } };
    assert.equal(valid(all, { a: ['x', 'y'] }), true);
    assert.equal(valid(all, { a: ['x', 1] }), false);
    const unique = { properties: { a: { uniqueItems: true } } };
    assert.equal(valid(unique, { a: [1, 2] }), true);
    assert.equal(valid(unique, { a: [1, 1.0] }), false);
    assert.equal(valid(unique, { a: [{ x: 1, y: 2 }, { y: 2, x: 1 }] }), false);
  });

  it('documents: additionalProperties, patternProperties, min/maxProperties, dependencies', () => {
    const closed = { properties: { _id: {}, a: {} }, additionalProperties: false };
    assert.equal(valid(closed, { _id: 1, a: 1 }), true);
    assert.equal(valid(closed, { _id: 1, a: 1, b: 2 }), false);
    assert.equal(valid({ properties: { a: {} }, additionalProperties: false }, { _id: 1, a: 1 }), false);
    const patterned = { patternProperties: { '^s_': { bsonType: 'string' } }, additionalProperties: { bsonType: 'int' } };
    assert.equal(valid(patterned, { s_x: 'a', n: new Int32(1) }), true);
    assert.equal(valid(patterned, { s_x: 1 }), false);
    assert.equal(valid(patterned, { n: 'x' }), false);
    assert.equal(valid({ minProperties: 2 }, { _id: 1 }), false);
    assert.equal(valid({ maxProperties: 1 }, { _id: 1 }), true);
    assert.equal(valid({ dependencies: { a: ['b'] } }, { a: 1 }), false);
    assert.equal(valid({ dependencies: { a: ['b'] } }, { a: 1, b: 1 }), true);
    assert.equal(valid({ dependencies: { a: { required: ['c'] } } }, { a: 1 }), false);
    assert.equal(valid({ dependencies: { a: { required: ['c'] } } }, { b: 1 }), true);
  });

  it('logic: allOf, anyOf, oneOf, not, enum', () => {
    const p = (s: Document) => ({ properties: { a: s } });
    assert.equal(valid(p({ anyOf: [{ bsonType: 'string' }, { minimum: 5 }] }), { a: 7 }), true);
    assert.equal(valid(p({ anyOf: [{ bsonType: 'string' }, { bsonType: 'int', minimum: 5 }] }), { a: 3 }), false);
    assert.equal(valid(p({ oneOf: [{ minimum: 5 }, { maximum: 10 }] }), { a: 7 }), false);
    assert.equal(valid(p({ oneOf: [{ minimum: 5 }, { maximum: 10 }] }), { a: 12 }), true);
    assert.equal(valid(p({ allOf: [{ minimum: 5 }, { maximum: 10 }] }), { a: 12 }), false);
    assert.equal(valid(p({ not: { bsonType: 'string' } }), { a: 1 }), true);
    assert.equal(valid(p({ not: { bsonType: 'string' } }), { a: 'x' }), false);
    assert.equal(valid(p({ enum: [{ x: 1, y: 2 }] }), { a: { y: 2, x: 1 } }), true);
    assert.equal(valid({ enum: [{ _id: 1 }, 5] }, { _id: 1 }), true);
    assert.equal(valid({ enum: [5] }, { _id: 1 }), false);
  });

  it('top-level type keywords', () => {
    assert.equal(valid({ bsonType: 'object' }, { a: 1 }), true);
    assert.equal(valid({ bsonType: 'string' }, { a: 1 }), false);
    assert.equal(valid({ minimum: 5 }, { a: 1 }), true);
    assert.equal(valid({}, { a: 1 }), true);
  });

  it('does not traverse arrays', () => {
    assert.equal(valid({ properties: { a: { bsonType: 'int' } } }, { a: [new Int32(1)] }), false);
    assert.equal(valid({ properties: { a: { properties: { b: { bsonType: 'string' } } } } }, { a: [{ b: 1 }] }), true);
    assert.equal(valid({ properties: { _id: { bsonType: 'objectId' } } }, { _id: new ObjectId() }), true);
  });

  it('combines with other predicates', () => {
    const node = parseFilter({ $jsonSchema: { required: ['a'] }, b: 1 });
    assert.equal(matches(node, { a: 1, b: 1 }), true);
    assert.equal(matches(node, { b: 1 }), false);
    assert.equal(matches(parseFilter({ $nor: [{ $jsonSchema: { required: ['a'] } }] }), { b: 1 }), true);
  });

  it('rejects bad schemas with mongod errors', () => {
    schemaError(5, 14, '$jsonSchema must be an object');
    schemaError({ foo: 1 }, 9, 'Unknown $jsonSchema keyword: foo');
    schemaError({ $ref: '#' }, 9, "$jsonSchema keyword '$ref' is not currently supported");
    schemaError({ type: 'object', bsonType: 'object' }, 9, "Cannot specify both $jsonSchema keywords 'type' and 'bsonType'");
    schemaError({ type: 'integer' }, 9, "$jsonSchema type 'integer' is not currently supported.");
    schemaError({ bsonType: 'foo' }, 2, 'Unknown type name alias: foo');
    schemaError({ type: 'int' }, 2, 'Unknown type name alias: int');
    schemaError({ bsonType: 5 }, 14, "$jsonSchema keyword 'bsonType' must be either a string or an array of strings");
    schemaError({ required: [] }, 9, "$jsonSchema keyword 'required' cannot be an empty array");
    schemaError({ required: ['a', 'a'] }, 9, "$jsonSchema keyword 'required' array cannot contain duplicate values");
    schemaError({ required: 'a' }, 14, /^\$jsonSchema keyword 'required' must be an array/);
    schemaError({ properties: { a: 1 } }, 14, "Nested schema for $jsonSchema property 'a' must be an object");
    schemaError({ maximum: 'x' }, 14, "$jsonSchema keyword 'maximum' must be a number");
    schemaError({ exclusiveMaximum: true }, 9, "$jsonSchema keyword 'maximum' must be a present if exclusiveMaximum is present");
    schemaError({ minLength: -1 }, 9, /Expected a positive number/);
    schemaError({ enum: [] }, 9, "$jsonSchema keyword 'enum' cannot be an empty array");
    schemaError({ enum: [1, 1] }, 9, "$jsonSchema keyword 'enum' array cannot contain duplicate values.");
    schemaError({ anyOf: [] }, 2, "$jsonSchema keyword 'anyOf' must be a non-empty array");
    schemaError({ description: 5 }, 14, "$jsonSchema keyword 'description' must be of type string");
    schemaError({ additionalProperties: 5 }, 14, "$jsonSchema keyword 'additionalProperties' must be an object or a boolean");
    schemaError({ properties: { a: { minimum: 1, foo: 2 } } }, 9, 'Unknown $jsonSchema keyword: foo');
  });
});
