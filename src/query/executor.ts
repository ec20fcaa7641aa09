/**
 * Runs a planned query against a storage transaction: reads candidates in plan order, keeps those
 * the filter matches (remembering the array position for the positional `$` operator), sorts when
 * the plan does not already give the order, then applies skip and limit. Lazy: a cursor pulls
 * documents as it needs them, except a blocking sort, which must see everything first.
 */
import { fail } from '../base/index.js';
import { documentSize, type Document } from '../bson/index.js';
import type { Collection, RecordId, StorageTxn } from '../storage/index.js';
import { matches, type FilterNode, type MatchDetails } from './filter/index.js';
import type { PlannedQuery } from './planner.js';
import { compareForSort, type SortSpec } from './sort.js';

export interface Candidate {
  rid: RecordId;
  doc: Document;
  /** The array index that made the filter match (mongod's elemMatchKey), for positional `$`. */
  positional: string | undefined;
}

export interface ExecutionStats {
  keysExamined: number;
  docsExamined: number;
  nReturned: number;
}

export interface QueryOptions {
  sort?: SortSpec;
  skip?: number;
  /** 0 or absent: no limit. */
  limit?: number;
  /** internalQueryMaxBlockingSortMemoryUsageBytes. */
  sortMemoryLimitBytes: number;
  allowDiskUse?: boolean;
}

export function newStats(): ExecutionStats {
  return { keysExamined: 0, docsExamined: 0, nReturned: 0 };
}

function* scanCandidates(txn: StorageTxn, coll: Collection, planned: PlannedQuery, stats: ExecutionStats): Generator<{ rid: RecordId; doc: Document }> {
  const plan = planned.plan;
  switch (plan.stage) {
    case 'EOF':
      return;
    case 'IDHACK': {
      stats.keysExamined++;
      const found = txn.findById(coll, plan.id);
      if (found) yield found;
      return;
    }
    case 'COLLSCAN':
      yield* txn.scan(coll, { reverse: plan.direction === -1 });
      return;
    case 'IXSCAN':
      for (const r of txn.indexScan(coll, plan.index, plan.bounds, plan.direction === -1)) {
        stats.keysExamined++;
        yield r;
      }
  }
}

function* matching(txn: StorageTxn, coll: Collection, planned: PlannedQuery, filter: FilterNode, stats: ExecutionStats): Generator<Candidate> {
  for (const { rid, doc } of scanCandidates(txn, coll, planned, stats)) {
    stats.docsExamined++;
    const details: MatchDetails = {};
    if (!matches(filter, doc, details)) continue;
    yield { rid, doc, positional: details.elemMatchKey };
  }
}

export function* runQuery(
  txn: StorageTxn,
  coll: Collection | undefined,
  planned: PlannedQuery,
  filter: FilterNode,
  options: QueryOptions,
  stats: ExecutionStats = newStats(),
): Generator<Candidate> {
  if (!coll) return;
  let source: Iterable<Candidate> = matching(txn, coll, planned, filter, stats);
  if (options.sort && options.sort.length > 0 && !planned.sortProvided) source = blockingSort(source, options);
  let skip = options.skip ?? 0;
  let remaining = options.limit && options.limit > 0 ? options.limit : Infinity;
  if (remaining === 0) return;
  for (const c of source) {
    if (skip > 0) {
      skip--;
      continue;
    }
    stats.nReturned++;
    yield c;
    if (--remaining <= 0) return;
  }
}

function blockingSort(source: Iterable<Candidate>, options: QueryOptions): Candidate[] {
  const all: Candidate[] = [];
  let bytes = 0;
  // Only skip+limit documents are ever needed; keep the memory check honest on what is held.
  const keep = options.limit && options.limit > 0 ? (options.skip ?? 0) + options.limit : Infinity;
  const compare = compareForSort(options.sort!);
  const cmp = (a: Candidate, b: Candidate): number => compare(a.doc, b.doc);
  for (const c of source) {
    all.push(c);
    bytes += documentSize(c.doc);
    if (all.length > keep * 2 && keep !== Infinity) {
      all.sort(cmp);
      all.length = keep;
      bytes = all.reduce((n, x) => n + documentSize(x.doc), 0);
    }
    if (bytes > options.sortMemoryLimitBytes && !options.allowDiskUse) {
      fail(
        'QueryExceededMemoryLimitNoDiskUseAllowed',
        `Executor error during find command :: caused by :: Sort exceeded memory limit of ${options.sortMemoryLimitBytes} bytes, but did not opt in to external sorting.`,
      );
    }
  }
  all.sort(cmp);
  return keep === Infinity ? all : all.slice(0, keep);
}
