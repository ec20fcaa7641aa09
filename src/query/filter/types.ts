/**
 * The parsed form of a query filter: a tree of nodes shaped like mongod's MatchExpression tree,
 * built once by `parseFilter` and evaluated many times by `matches`.
 *
 * Shapes follow mongod, so tools that know mongod's explain output recognise them:
 * - `$ne: v` is `not(comparison $eq v)`, `$nin` is `not(in)`, `$exists: false` is `not(exists)`,
 *   `{$not: {...}}` is `not(...)`; `$all` is an `and` of `$eq`/`regex` (or `$elemMatch`) nodes on
 *   the same path; the implicit and of a filter document with one predicate is that predicate.
 * - Path nodes carry the dotted `path` (and its split `parts`). Inside `$elemMatch` value form
 *   (`{a: {$elemMatch: {$gt: 1}}}`) the children have the empty path `""`: they test the array
 *   element itself through `test`.
 */
import type { BsonTypeName, BsonValue, Document } from '../../bson/index.js';
import type { Collator } from '../../bson/index.js';
import type { ValueTest } from '../path.js';

export type ComparisonOperator = '$eq' | '$lt' | '$lte' | '$gt' | '$gte';
export type BitTestOperator = '$bitsAllSet' | '$bitsAllClear' | '$bitsAnySet' | '$bitsAnyClear';

/** Fields every node that reads a path has. */
export interface PathNodeBase {
  /** Dotted path; "" for the operands of `$elemMatch` value form (the element itself). */
  readonly path: string;
  readonly parts: readonly string[];
  /** False when the node must see a leaf array whole (`$size`, `$elemMatch`), as in mongod. */
  readonly expandLeafArrays: boolean;
  /** mongod's matchesSingleElement: the predicate on one candidate value (undefined = missing). */
  readonly test: ValueTest;
}

export interface ComparisonNode extends PathNodeBase {
  readonly kind: 'comparison';
  readonly op: ComparisonOperator;
  readonly value: BsonValue;
}

export interface RegexNode extends PathNodeBase {
  readonly kind: 'regex';
  readonly pattern: string;
  readonly flags: string;
  readonly regexp: RegExp;
}

export interface InNode extends PathNodeBase {
  readonly kind: 'in';
  /** The non-regex operands, sorted in BSON order and without duplicates. */
  readonly values: readonly BsonValue[];
  readonly regexes: readonly RegexNode[];
  readonly hasNull: boolean;
  readonly hasArray: boolean;
}

export interface ExistsNode extends PathNodeBase {
  readonly kind: 'exists';
}

export interface TypeNode extends PathNodeBase {
  readonly kind: 'type';
  readonly types: ReadonlySet<BsonTypeName>;
  /** `"number"` was named: all four numeric types match. */
  readonly allNumbers: boolean;
  /** The operand as written, for serialization. */
  readonly operand: BsonValue;
}

export interface ModNode extends PathNodeBase {
  readonly kind: 'mod';
  readonly divisor: bigint;
  readonly remainder: bigint;
}

export interface SizeNode extends PathNodeBase {
  readonly kind: 'size';
  readonly size: number;
}

export interface BitTestNode extends PathNodeBase {
  readonly kind: 'bitTest';
  readonly op: BitTestOperator;
  readonly positions: readonly number[];
  readonly operand: BsonValue;
}

/** `{path: {$elemMatch: {field: ...}}}`: some array element is a document matching `child`. */
export interface ElemMatchObjectNode extends PathNodeBase {
  readonly kind: 'elemMatchObject';
  readonly child: FilterNode;
}

/** `{path: {$elemMatch: {$op: ...}}}`: some array element satisfies every child's `test`. */
export interface ElemMatchValueNode extends PathNodeBase {
  readonly kind: 'elemMatchValue';
  readonly children: readonly FilterNode[];
}

export interface AndNode {
  readonly kind: 'and';
  readonly children: readonly FilterNode[];
}

export interface OrNode {
  readonly kind: 'or';
  readonly children: readonly FilterNode[];
}

export interface NorNode {
  readonly kind: 'nor';
  readonly children: readonly FilterNode[];
}

export interface NotNode {
  readonly kind: 'not';
  readonly child: FilterNode;
}

export interface AlwaysTrueNode {
  readonly kind: 'alwaysTrue';
}

export interface AlwaysFalseNode {
  readonly kind: 'alwaysFalse';
}

/** `$expr`, evaluated by the plugged-in aggregation expression evaluator. */
export interface ExprNode {
  readonly kind: 'expr';
  readonly expression: BsonValue;
  readonly evaluate: (doc: Document) => BsonValue;
}

/** `$jsonSchema`, compiled to a validator of whole documents. */
export interface JsonSchemaNode {
  readonly kind: 'jsonSchema';
  readonly schema: Document;
  readonly validate: (doc: Document) => boolean;
}

export type PathNode =
  | ComparisonNode
  | RegexNode
  | InNode
  | ExistsNode
  | TypeNode
  | ModNode
  | SizeNode
  | BitTestNode
  | ElemMatchObjectNode
  | ElemMatchValueNode;

export type FilterNode =
  | PathNode
  | AndNode
  | OrNode
  | NorNode
  | NotNode
  | AlwaysTrueNode
  | AlwaysFalseNode
  | ExprNode
  | JsonSchemaNode;

export type FilterNodeKind = FilterNode['kind'];

/**
 * Filled in by `matches` when given: `elemMatchKey` is the array index (as a string) of the
 * element that made the match, as mongod's MatchDetails reports it for the positional `$`
 * operator. It is left undefined when no array was traversed.
 */
export interface MatchDetails {
  elemMatchKey?: string | undefined;
}

export interface FilterParseOptions {
  /**
   * Compiles an aggregation expression (the operand of `$expr`) to an evaluator. Without it
   * `$expr` is rejected. The evaluator's result is tested for truth as `$expr` does.
   */
  parseExpression?: (expr: BsonValue) => (doc: Document) => BsonValue;
  /** Source of uniform numbers in [0, 1) for `$sampleRate`; without it `$sampleRate` between 0 and 1 is rejected. */
  random?: () => number;
  /** The operation's collation: comparisons and `$in` compare strings by it (regexes do not). */
  collator?: Collator | null;
}
