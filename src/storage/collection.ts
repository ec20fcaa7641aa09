/**
 * A collection's records and indexes, multi-versioned.
 *
 * Each record is a chain of committed versions (ascending commit timestamp; a null document is a
 * delete) plus at most one pending version owned by an open storage transaction. Index entries
 * are a superset: an entry stays while any retained version (or the pending one) generates its key,
 * and readers check that the version they see really has the key they scanned.
 */
import sortedBtree from 'sorted-btree';
import type SortedBTree from 'sorted-btree';
import { compareKeys, generateKeys, keyFingerprint, parseKeyPattern, type IndexKey, type KeyPatternField } from './keys.js';
import { decodeDocument, isDocument, makeCollator, type BsonValue, type Collator, type Document, type TsKey, UUID } from './deps.js';
import { CollationCanonicalizer } from './collation-keys.js';
import type { StorageTxn } from './txn.js';

// sorted-btree is CommonJS: under ESM its module object arrives as the default import.
const BTree = sortedBtree.default;
type BTree<K, V> = SortedBTree.default<K, V>;

export type RecordId = number;

/**
 * One committed version. `bytes` holds the document encoded instead of `doc` where records are
 * many and rarely read (the oplog): BSON is several times smaller than the decoded objects. Old
 * oplog entries of a durable engine hold neither: `load` reads them back from the journal.
 */
export type Version = { ts: TsKey; doc: Document | null; bytes?: Buffer; load?: () => Buffer };

function documentOf(v: Version): Document | null {
  if (v.bytes) return decodeDocument(v.bytes);
  return v.load ? decodeDocument(v.load()) : v.doc;
}

export class RecordChain {
  versions: Version[] = [];
  pending: { txn: StorageTxn; doc: Document | null } | undefined = undefined;
  /**
   * Keys of pruned versions whose index entries may now be stale, by index: removed in batches
   * (see Collection.dropStaleIndexEntries) so pruning one version never costs a pass over all.
   */
  staleKeys: Map<IndexState, Map<string, IndexKey>> | undefined = undefined;
  staleKeyCount = 0;

  latest(): Version | undefined {
    return this.versions[this.versions.length - 1];
  }

  visibleAt(readTs: TsKey): Document | null {
    for (let i = this.versions.length - 1; i >= 0; i--) {
      const v = this.versions[i]!;
      if (v.ts <= readTs) return documentOf(v);
    }
    return null;
  }

  /** The document `txn` sees: its own pending write, or the committed version at its snapshot. */
  visibleTo(txn: StorageTxn): Document | null {
    if (this.pending && this.pending.txn === txn) return this.pending.doc;
    return this.visibleAt(txn.readTs);
  }
}

export type IndexSpec = {
  v: number;
  key: Document;
  name: string;
  unique?: boolean;
  sparse?: boolean;
  partialFilterExpression?: Document;
  expireAfterSeconds?: number;
  hidden?: boolean;
  [option: string]: BsonValue;
};

export type IndexEntry = { key: IndexKey; rid: RecordId };

export class IndexState {
  readonly fields: KeyPatternField[];
  readonly tree: BTree<IndexEntry, true>;
  readonly multikeyPaths = new Set<string>();
  /** The open multi-document transaction that created this index: others do not list it until it commits. */
  createdBy: StorageTxn | undefined;
  /** Set by the layer above for partial indexes: whether a document belongs in the index. */
  readonly partialFilter: ((doc: Document) => boolean) | undefined;
  /** The index's collation (`spec.collation`, already validated); null for simple. */
  readonly collator: Collator | null;
  /**
   * Under a collation, keys hold one representative string per equivalence class, so entries
   * that the collator calls equal are one entry with one fingerprint (see collation-keys.ts).
   */
  private readonly canonical: CollationCanonicalizer | undefined;

  constructor(readonly spec: IndexSpec, partialFilter?: (doc: Document) => boolean) {
    this.createdBy = undefined;
    this.fields = parseKeyPattern(spec.key);
    this.partialFilter = partialFilter;
    this.collator = isDocument(spec.collation) ? makeCollator(spec.collation) : null;
    this.canonical = this.collator ? new CollationCanonicalizer(this.collator) : undefined;
    const fields = this.fields;
    const collator = this.collator;
    this.tree = new BTree<IndexEntry, true>(undefined, (a, b) => compareKeys(a.key, b.key, fields, collator) || a.rid - b.rid);
  }

  get name(): string {
    return this.spec.name;
  }

  /** The _id index is unique without saying so in its spec, as in mongod. */
  get unique(): boolean {
    return this.spec.unique === true || this.spec.name === '_id_';
  }

  get isMultikey(): boolean {
    return this.multikeyPaths.size > 0;
  }

  /** The keys `doc` has in this index (none when sparse or partial filters it out). */
  keysOf(doc: Document | null): IndexKey[] {
    if (doc === null) return [];
    if (this.partialFilter && !this.partialFilter(doc)) return [];
    const generated = generateKeys(doc, this.fields, this.spec.sparse === true, this.collator);
    if (!generated) return [];
    for (const p of generated.multikeyPaths) this.multikeyPaths.add(p);
    const canonical = this.canonical;
    if (canonical === undefined) return generated.keys;
    return generated.keys.map((key) => key.map((v) => canonical.value(v)));
  }

  /** `key` as a document of the key pattern's paths (duplicate-key errors, validate). */
  keyDocument(key: IndexKey): Document {
    const out: Document = {};
    this.fields.forEach((f, i) => (out[f.path] = key[i]));
    return out;
  }

  hasKey(doc: Document | null, key: IndexKey): boolean {
    return this.keysOf(doc).some((k) => compareKeys(k, key, this.fields, this.collator) === 0);
  }

  /** Every entry whose key equals `key`, in record id order. */
  entriesWithKey(key: IndexKey): IndexEntry[] {
    const out: IndexEntry[] = [];
    this.tree.forRange({ key, rid: -Infinity }, { key, rid: Infinity }, true, (k) => void out.push(k));
    return out;
  }
}

export type CollectionOptions = {
  capped?: boolean;
  size?: number;
  max?: number;
  validator?: Document;
  validationLevel?: 'off' | 'strict' | 'moderate';
  validationAction?: 'error' | 'warn';
  [option: string]: BsonValue;
};

export class Collection {
  readonly records: BTree<RecordId, RecordChain> = new BTree<RecordId, RecordChain>(undefined, (a, b) => a - b);
  readonly indexes = new Map<string, IndexState>();
  private nextRid: RecordId = 1;
  /** Set by the layer above: checks a document against the collection's validator. */
  validate: ((doc: Document) => void) | undefined;
  /** The open multi-document transaction that created this collection: others do not list it until it commits. */
  createdBy: StorageTxn | undefined;

  /** Whether `reader` may see this catalog entry: not while another open transaction is creating it. */
  static visibleTo(entry: { createdBy: StorageTxn | undefined }, reader: StorageTxn | undefined): boolean {
    return !entry.createdBy || !entry.createdBy.isActive || entry.createdBy === reader;
  }

  constructor(
    public db: string,
    public name: string,
    readonly uuid: UUID,
    public options: CollectionOptions,
    readonly createdTs: TsKey,
    readonly hasIdIndex = true,
  ) {}

  get ns(): string {
    return `${this.db}.${this.name}`;
  }

  private defaultCollatorOf: { spec: BsonValue; collator: Collator | null } | undefined;

  /** The collection's default collation (`options.collation`), null for simple. */
  get defaultCollator(): Collator | null {
    const spec = this.options.collation;
    const cached = this.defaultCollatorOf;
    if (cached !== undefined && cached.spec === spec) return cached.collator;
    const collator = isDocument(spec) ? makeCollator(spec) : null;
    this.defaultCollatorOf = { spec, collator };
    return collator;
  }

  allocateRecordId(): RecordId {
    return this.nextRid++;
  }

  /** The id the next record will get. */
  get nextRecordId(): RecordId {
    return this.nextRid;
  }

  /** A record read back at start-up, under the id it had. */
  restoreRecord(rid: RecordId, chain: RecordChain): void {
    this.records.set(rid, chain);
    if (rid >= this.nextRid) this.nextRid = rid + 1;
  }

  get idIndex(): IndexState | undefined {
    return this.indexes.get('_id_');
  }

  /** Adds `key -> rid` entries for `doc` to every index; returns the entries that were new. */
  addIndexEntries(doc: Document, rid: RecordId, onNewKey: (index: IndexState, key: IndexKey) => void): Array<[IndexState, IndexEntry]> {
    const added: Array<[IndexState, IndexEntry]> = [];
    for (const index of this.indexes.values()) {
      for (const key of index.keysOf(doc)) {
        const entry = { key, rid };
        if (index.tree.has(entry)) continue;
        onNewKey(index, key);
        index.tree.set(entry, true);
        added.push([index, entry]);
      }
    }
    return added;
  }

  /**
   * Notes the keys of versions pruned from `chain`; their index entries go once no retained
   * version generates them. The check runs when the stale keys outnumber the retained versions
   * (or the record is gone), so its cost is paid once per pruned version, not once per commit.
   */
  noteDroppedVersions(rid: RecordId, dropped: Array<Document | null>, chain: RecordChain, gone: boolean): void {
    for (const doc of dropped) {
      if (!doc) continue;
      for (const index of this.indexes.values()) {
        for (const key of index.keysOf(doc)) {
          chain.staleKeys ??= new Map();
          let byKey = chain.staleKeys.get(index);
          if (!byKey) chain.staleKeys.set(index, (byKey = new Map()));
          const fp = keyFingerprint(key);
          if (!byKey.has(fp)) {
            byKey.set(fp, key);
            chain.staleKeyCount++;
          }
        }
      }
    }
    if (chain.staleKeyCount === 0) return;
    if (gone || chain.staleKeyCount > chain.versions.length + 1) this.dropStaleIndexEntries(rid, chain, gone);
  }

  private dropStaleIndexEntries(rid: RecordId, chain: RecordChain, gone: boolean): void {
    const retained: Document[] = [];
    if (!gone) {
      for (const v of chain.versions) if (v.doc) retained.push(v.doc);
      if (chain.pending?.doc) retained.push(chain.pending.doc);
    }
    for (const [index, byKey] of chain.staleKeys ?? []) {
      const live = new Set<string>();
      for (const d of retained) for (const k of index.keysOf(d)) live.add(keyFingerprint(k));
      for (const [fp, key] of byKey) if (!live.has(fp)) index.tree.delete({ key, rid });
    }
    chain.staleKeys = undefined;
    chain.staleKeyCount = 0;
  }

  /** Removes the index entries only `dropped` generated (an aborted write's pending version). */
  reconcileIndexEntries(rid: RecordId, dropped: Array<Document | null>, chain: RecordChain | undefined): void {
    const retained: Document[] = [];
    if (chain) {
      for (const v of chain.versions) if (v.doc) retained.push(v.doc);
      if (chain.pending?.doc) retained.push(chain.pending.doc);
    }
    for (const index of this.indexes.values()) {
      const live = new Set<string>();
      let computed = false;
      for (const d of dropped) {
        for (const key of index.keysOf(d)) {
          if (!computed) {
            for (const r of retained) for (const k of index.keysOf(r)) live.add(keyFingerprint(k));
            computed = true;
          }
          if (!live.has(keyFingerprint(key))) index.tree.delete({ key, rid });
        }
      }
    }
  }
}

