/**
 * Stand-ins for strings under a collation. Intl.Collator compares but gives no sort keys, so
 * anything that hashes or deduplicates values (index entry bookkeeping, $group keys) maps each
 * string to the first string seen that the collator calls equal to it; equal values then have
 * equal fingerprints. The map lives as long as its owner (one index, one $group), and holds one
 * string per equivalence class seen.
 */
import sortedBtree from 'sorted-btree';
import type SortedBTree from 'sorted-btree';
import { isDocument, type BsonValue, type Collator, type Document } from './deps.js';

const BTree = sortedBtree.default;

export class CollationCanonicalizer {
  private readonly representatives: SortedBTree.default<string, true>;

  constructor(readonly collator: Collator) {
    this.representatives = new BTree<string, true>(undefined, (a, b) => collator.compare(a, b));
  }

  /** The representative of `s`'s equivalence class (`s` itself when it is the first of it). */
  string(s: string): string {
    // The smallest representative >= s stands for s when the collator calls them equal.
    const found = this.representatives.getPairOrNextHigher(s);
    if (found !== undefined && this.collator.compare(found[0], s) === 0) return found[0];
    this.representatives.set(s, true);
    return s;
  }

  /** `v` with every string (also inside documents and arrays) replaced by its representative. */
  value(v: BsonValue): BsonValue {
    if (typeof v === 'string') return this.string(v);
    if (Array.isArray(v)) return v.map((e) => this.value(e));
    if (isDocument(v) && v.constructor === Object) {
      const out: Document = {};
      for (const k of Object.keys(v)) out[k] = this.value(v[k]);
      return out;
    }
    return v;
  }
}
