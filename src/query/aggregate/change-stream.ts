/**
 * `$changeStream`: the oplog turned into change events, as mongod 8.0 produces them
 * (document_source_change_stream*.cpp, change_stream_event_transform.cpp).
 *
 * A `ChangeStream` holds its place in the oplog across batches. Each pass (`events`) reads the
 * oplog from that place up to what is visible, turns each entry (each operation of a
 * transaction's applyOps) into an event, keeps those in the stream's scope, and stops when it has
 * caught up; the command layer starts another pass on the next getMore. The user's stages (only
 * the 1:1 ones mongod allows) run over each pass, so every document that reaches the client was
 * made from the event the source emitted last, which is how a modified `_id` is caught.
 *
 * The stream never holds a storage snapshot: entries are read as they are appended, and
 * `updateLookup` and pre-images are read at the newest state, as mongod does.
 */
import { dossierError, fail, failLocation } from '../../base/index.js';
import { formatDocument, isDocument, typeNameOf, type Timestamp, type BsonValue, type Document, type UUID } from '../../bson/index.js';
import { loadDiff, timestampOf, tsKeyOf, type OplogRead, type RecordId } from '../../storage/index.js';
import { PAUSE, registerStage, type Flow, type RunContext } from './pipeline.js';
import { decodeResumeToken, encodeResumeToken, highWaterMark, isTokenDocument, resumeTokenDocument, TokenType, type ResumeTokenData } from './resume-token.js';

export type FullDocumentMode = 'default' | 'updateLookup' | 'whenAvailable' | 'required';
export type FullDocumentBeforeChangeMode = 'off' | 'whenAvailable' | 'required';

export interface ChangeStreamSpec {
  fullDocument: FullDocumentMode;
  fullDocumentBeforeChange: FullDocumentBeforeChangeMode;
  resumeAfter: ResumeTokenData | undefined;
  startAfter: ResumeTokenData | undefined;
  startAtOperationTime: Timestamp | undefined;
  showExpandedEvents: boolean;
  allChangesForCluster: boolean;
}

/** What a stream watches: one collection, one database, or every database but admin, config and local. */
export type ChangeStreamScope = { kind: 'collection'; db: string; coll: string } | { kind: 'database'; db: string } | { kind: 'cluster' };

/** The stages mongod allows after $changeStream (those that keep one output per event, or drop it). */
export const STAGES_ALLOWED_IN_CHANGE_STREAM: ReadonlySet<string> = new Set([
  '$match', '$project', '$addFields', '$set', '$unset', '$replaceRoot', '$replaceWith', '$redact',
]);

/** Databases whose changes no stream reports (mongod's internal databases). */
const INTERNAL_DATABASES: ReadonlySet<string> = new Set(['admin', 'config', 'local']);

const SPEC_FIELDS = [
  'resumeAfter', 'startAfter', 'startAtOperationTime', 'fullDocument', 'fullDocumentBeforeChange', 'allChangesForCluster',
  'showExpandedEvents', 'showMigrationEvents', 'showSystemEvents', 'showRawUpdateDescription', 'allowToRunOnConfigDB', 'allowToRunOnSystemNS',
] as const;

const FULL_DOCUMENT_MODES: readonly FullDocumentMode[] = ['default', 'updateLookup', 'whenAvailable', 'required'];
const BEFORE_CHANGE_MODES: readonly FullDocumentBeforeChangeMode[] = ['off', 'whenAvailable', 'required'];
/** Events only a stream with showExpandedEvents sees. */
const EXPANDED_EVENTS: ReadonlySet<string> = new Set(['create', 'createIndexes', 'dropIndexes', 'modify']);

function boolOption(spec: Document, name: string): boolean {
  const v = spec[name];
  if (v === undefined) return false;
  if (typeof v !== 'boolean') fail('TypeMismatch', `BSON field '$changeStream.${name}' is the wrong type '${typeNameOf(v)}', expected type 'bool'`);
  return v;
}

function enumOption<T extends string>(spec: Document, name: string, allowed: readonly T[], dflt: T): T {
  const v = spec[name];
  if (v === undefined) return dflt;
  if (typeof v !== 'string') fail('TypeMismatch', `BSON field '$changeStream.${name}' is the wrong type '${typeNameOf(v)}', expected type 'string'`);
  if (!(allowed as readonly string[]).includes(v)) fail('BadValue', `Enumeration value '${v}' for field '$changeStream.${name}' is not a valid value.`);
  return v as T;
}

/** Parses the $changeStream stage's document with mongod's errors. */
export function parseChangeStreamSpec(raw: BsonValue): ChangeStreamSpec {
  if (!isDocument(raw)) failLocation(50808, `$changeStream stage expects a document as argument`);
  for (const k of Object.keys(raw)) {
    if (!(SPEC_FIELDS as readonly string[]).includes(k)) fail('IDLUnknownField', `BSON field '$changeStream.${k}' is an unknown field.`);
  }
  const resumeAfter = raw.resumeAfter === undefined ? undefined : decodeResumeToken(raw.resumeAfter, 'resumeAfter');
  const startAfter = raw.startAfter === undefined ? undefined : decodeResumeToken(raw.startAfter, 'startAfter');
  let startAtOperationTime: Timestamp | undefined;
  if (raw.startAtOperationTime !== undefined) {
    if (typeNameOf(raw.startAtOperationTime) !== 'timestamp') {
      fail('TypeMismatch', `BSON field '$changeStream.startAtOperationTime' is the wrong type '${typeNameOf(raw.startAtOperationTime)}', expected type 'timestamp'`);
    }
    startAtOperationTime = raw.startAtOperationTime as Timestamp;
  }
  if (resumeAfter && startAfter) failLocation(50865, 'Do not specify both \'resumeAfter\' and \'startAfter\' in a $changeStream stage');
  if (startAtOperationTime && (resumeAfter || startAfter)) {
    failLocation(40674, `Only one type of resume option is allowed, but multiple were found.`);
  }
  if (resumeAfter?.fromInvalidate) {
    fail('InvalidResumeToken', "Attempting to resume a change stream using 'resumeAfter' is not allowed from an invalidate notification.");
  }
  return {
    fullDocument: enumOption(raw, 'fullDocument', FULL_DOCUMENT_MODES, 'default'),
    fullDocumentBeforeChange: enumOption(raw, 'fullDocumentBeforeChange', BEFORE_CHANGE_MODES, 'off'),
    resumeAfter,
    startAfter,
    startAtOperationTime,
    showExpandedEvents: boolOption(raw, 'showExpandedEvents'),
    allChangesForCluster: boolOption(raw, 'allChangesForCluster'),
  };
}

/** The namespace an aggregate with $changeStream watches, checked as mongod checks it. */
export function changeStreamScope(spec: ChangeStreamSpec, db: string, collection: string | undefined): ChangeStreamScope {
  if (spec.allChangesForCluster) {
    if (db !== 'admin' || collection !== undefined) {
      fail('InvalidOptions', "A $changeStream with 'allChangesForCluster:true' may only be opened on the 'admin' database, and with no collection name");
    }
    return { kind: 'cluster' };
  }
  if (INTERNAL_DATABASES.has(db)) fail('InvalidNamespace', `$changeStream may not be opened on the internal ${db} database`);
  if (collection === undefined) return { kind: 'database', db };
  if (collection.startsWith('system.')) fail('InvalidNamespace', `Invalid namespace: '${db}.${collection}': $changeStream may not be opened on a system collection`);
  return { kind: 'collection', db, coll: collection };
}

/** What a stream reads from the server around it (given by the command layer). */
export interface ChangeStreamHost {
  /** Oplog entries from a record id on, up to a timestamp. */
  readOplog(from: RecordId, upTo: number): Iterable<OplogRead>;
  /** One oplog entry by record id (a large transaction's earlier parts). */
  oplogAt(rid: RecordId): OplogRead | undefined;
  oplogRidAtOrAfter(ts: number): RecordId;
  oldestOplogTs(): number;
  /** The newest timestamp a change stream may report (what is majority committed). */
  visibleTs(): number;
  /** updateLookup: the document with this key now, if the collection is still the one with `uuid`. */
  lookupDocument(db: string, coll: string, uuid: UUID | undefined, documentKey: Document): Document | null;
  /** A kept pre-image (config.system.preimages). */
  preImage(uuid: UUID, ts: number, applyOpsIndex: number): Document | undefined;
}

/** One operation of the oplog as an event source sees it: a plain entry, or one operation of a transaction. */
interface OplogOp {
  op: Document;
  ts: number;
  wall: BsonValue;
  txnOpIndex: number;
  /** A transaction's operation: its events carry lsid and txnNumber. */
  txn: { lsid: BsonValue; txnNumber: BsonValue } | undefined;
}


function splitNs(ns: string): { db: string; coll: string } {
  const dot = ns.indexOf('.');
  return dot < 0 ? { db: ns, coll: '' } : { db: ns.slice(0, dot), coll: ns.slice(dot + 1) };
}

function without(doc: Document, ...fields: string[]): Document {
  const out: Document = {};
  for (const k of Object.keys(doc)) if (!fields.includes(k) && doc[k] !== undefined) out[k] = doc[k];
  return out;
}

export class ChangeStream {
  /** The next oplog record to read. */
  private nextRid: RecordId;
  /** Events at or before this token are not reported (the resume point). */
  private readonly skipThrough: string;
  /** resumeAfter/startAfter an event: that event must still be found, else the stream cannot resume. */
  private mustFind: string | undefined;
  /** The newest oplog timestamp read so far (for the high-water mark). */
  private scannedTs: number;
  /** Entries of one timestamp share it: each event's place among them goes into its token. */
  private groupTs = -1;
  private groupIndex = 0;
  /** The token of the event the source emitted last (the pipeline's outputs come from it). */
  lastEmitted: string | undefined;
  /** The resume token reported to the client last (postBatchResumeToken never moves back). */
  private reported: string;
  invalidated = false;

  constructor(
    readonly spec: ChangeStreamSpec,
    readonly scope: ChangeStreamScope,
    private readonly host: ChangeStreamHost,
    /** Where a stream with no resume option starts: just after everything committed so far. */
    startTs: number,
  ) {
    const token = spec.resumeAfter ?? spec.startAfter;
    let start: ResumeTokenData;
    if (token) start = token;
    else if (spec.startAtOperationTime) start = highWaterMark(spec.startAtOperationTime);
    else start = highWaterMark(timestampOf(startTs));
    const startKey = tsKeyOf(start.clusterTime);
    // mongod refuses to resume from a point the oplog no longer holds: events may have been lost.
    if ((token || spec.startAtOperationTime) && startKey < host.oldestOplogTs()) {
      fail('ChangeStreamHistoryLost', 'Resume of change stream was not possible, as the resume point may no longer be in the oplog.');
    }
    this.skipThrough = encodeResumeToken(start);
    this.mustFind = token && token.tokenType === TokenType.Event ? encodeResumeToken({ ...token, fromInvalidate: false }) : undefined;
    this.nextRid = host.oplogRidAtOrAfter(startKey);
    this.scannedTs = Math.max(0, startKey - 1);
    this.reported = this.skipThrough;
  }

  /**
   * The cursor's postBatchResumeToken after a batch: the last returned event's token, or, when
   * the stream has caught up with the oplog, a high-water mark at the newest entry read, so a
   * client resuming from it skips what this stream already looked at.
   */
  postBatchResumeToken(lastReturned: Document | undefined, caughtUp: boolean): Document {
    let token = this.reported;
    const last = lastReturned && isDocument(lastReturned._id) ? lastReturned._id._data : undefined;
    if (typeof last === 'string' && last > token) token = last;
    if (caughtUp) {
      const hwm = encodeResumeToken(highWaterMark(timestampOf(this.scannedTs)));
      if (hwm > token) token = hwm;
    }
    this.reported = token;
    return { _data: token };
  }

  /** Checks that a document leaving the pipeline still carries its event's resume token. */
  checkResumeToken(doc: Document): void {
    if (this.lastEmitted !== undefined && isTokenDocument(doc._id, this.lastEmitted)) return;
    throw dossierError(
      'ChangeStreamFatalError',
      'Encountered an event whose _id field, which contains the resume token, was modified by the pipeline. Modifying the _id field of an event makes it ' +
        'impossible to resume the stream from that point. Only transformations that retain the unmodified _id field are allowed. ' +
        `Expected: ${formatDocument({ _id: { _data: this.lastEmitted ?? '' } })} but found: ${formatDocument({ _id: doc._id === undefined ? null : doc._id })}`,
    );
  }

  /** One pass over the oplog from where the stream is, until it has caught up (or is invalidated). */
  *events(ctx: RunContext): Flow {
    if (this.invalidated) return;
    const upTo = this.host.visibleTs();
    for (const read of this.host.readOplog(this.nextRid, upTo)) {
      if (ctx.tick()) yield PAUSE;
      for (const op of this.operationsOf(read)) {
        const events = this.eventsOf(op);
        for (const ev of events) {
          this.lastEmitted = (ev._id as Document)._data as string;
          yield ev;
          if (ev.operationType === 'invalidate') {
            this.invalidated = true;
            return;
          }
        }
      }
      this.nextRid = read.rid + 1;
      this.scannedTs = Math.max(this.scannedTs, read.ts);
    }
    // Nothing newer is visible: the stream has seen everything up to the visible point.
    this.scannedTs = Math.max(this.scannedTs, upTo);
  }

  /** The operations one oplog entry stands for, each with its place in its commit. */
  private operationsOf(read: OplogRead): OplogOp[] {
    const e = read.entry;
    if (read.ts !== this.groupTs) {
      this.groupTs = read.ts;
      this.groupIndex = 0;
    }
    const o = e.o as Document | undefined;
    if (e.op === 'c' && o && Array.isArray(o.applyOps)) {
      // A large transaction's earlier parts are read when its commit (the entry without partialTxn) comes.
      if (o.partialTxn === true) return [];
      const ops = o.count !== undefined ? this.transactionOps(read) : (o.applyOps as Document[]);
      const txn = e.lsid !== undefined ? { lsid: e.lsid, txnNumber: e.txnNumber } : undefined;
      return ops.map((op, i) => ({ op, ts: read.ts, wall: e.wall, txnOpIndex: i, txn }));
    }
    return [{ op: e, ts: read.ts, wall: e.wall, txnOpIndex: this.groupIndex++, txn: undefined }];
  }

  /** All operations of a transaction written as a chain of partialTxn entries ending at `commit`. */
  private transactionOps(commit: OplogRead): Document[] {
    const parts: Document[][] = [(commit.entry.o as Document).applyOps as Document[]];
    const same = (e: Document): boolean => formatDocument({ l: e.lsid ?? null, t: e.txnNumber ?? null }) === formatDocument({ l: commit.entry.lsid ?? null, t: commit.entry.txnNumber ?? null });
    for (let rid = commit.rid - 1; ; rid--) {
      const r = this.host.oplogAt(rid);
      if (!r) break;
      const o = r.entry.o as Document | undefined;
      if (r.entry.op !== 'c' || !o || o.partialTxn !== true || !same(r.entry)) continue;
      parts.unshift(o.applyOps as Document[]);
      if (parts.reduce((n, p) => n + p.length, 0) >= Number((commit.entry.o as Document).count)) break;
    }
    return parts.flat();
  }

  private inScope(db: string, coll: string | undefined): boolean {
    if (INTERNAL_DATABASES.has(db) && this.scope.kind !== 'collection') return false;
    if (coll !== undefined && coll.startsWith('system.')) return false;
    switch (this.scope.kind) {
      case 'cluster':
        return true;
      case 'database':
        return db === this.scope.db;
      case 'collection':
        return db === this.scope.db && coll === this.scope.coll;
    }
  }

  /** The events of one operation (none when out of scope or before the resume point; a drop may add an invalidate). */
  private eventsOf(src: OplogOp): Document[] {
    const built = this.build(src);
    if (!built) return [];
    const { event, token, invalidates } = built;
    const out: Document[] = [];
    const tokenHex = encodeResumeToken(token);
    if (this.mustFind !== undefined && tokenHex >= this.mustFind) {
      if (tokenHex !== this.mustFind) {
        fail('ChangeStreamFatalError', `cannot resume stream; the resume token was not found. ${formatDocument({ _data: this.mustFind })}`);
      }
      this.mustFind = undefined;
    }
    if (event && tokenHex > this.skipThrough) out.push(event);
    if (invalidates) {
      const invalidateToken = { ...token, fromInvalidate: true };
      const hex = encodeResumeToken(invalidateToken);
      if (hex > this.skipThrough) {
        out.push({ _id: resumeTokenDocument(invalidateToken), operationType: 'invalidate', clusterTime: timestampOf(src.ts), wallTime: src.wall });
      }
    }
    return out;
  }

  /** Turns one operation into an event (undefined when the stream does not report it). */
  private build(src: OplogOp): { event: Document | undefined; token: ResumeTokenData; invalidates: boolean } | undefined {
    const e = src.op;
    const ns = typeof e.ns === 'string' ? e.ns : '';
    const uuid = e.ui as UUID | undefined;
    const o = (isDocument(e.o) ? e.o : {}) as Document;
    let { db, coll } = splitNs(ns);
    let operationType: string;
    let fullDocument: BsonValue;
    let documentKey: Document | undefined;
    let updateDescription: Document | undefined;
    let operationDescription: Document | undefined;
    let stateBeforeChange: Document | undefined;
    let to: Document | undefined;
    let invalidates = false;
    switch (e.op) {
      case 'i':
        operationType = 'insert';
        fullDocument = o;
        documentKey = isDocument(e.o2) ? e.o2 : { _id: o._id };
        break;
      case 'd':
        operationType = 'delete';
        documentKey = o;
        break;
      case 'u':
        documentKey = isDocument(e.o2) ? e.o2 : { _id: o._id };
        if (isDocument(e.diff)) {
          operationType = 'update';
          const d = loadDiff(e.diff);
          updateDescription = { updatedFields: d.updatedFields, removedFields: d.removedFields, truncatedArrays: d.truncatedArrays };
          if (this.spec.showExpandedEvents) updateDescription.disambiguatedPaths = d.disambiguatedPaths;
        } else {
          operationType = 'replace';
          fullDocument = o;
        }
        break;
      case 'c': {
        if (typeof o.drop === 'string') {
          operationType = 'drop';
          coll = o.drop;
          invalidates = this.scope.kind === 'collection';
        } else if (typeof o.renameCollection === 'string') {
          operationType = 'rename';
          ({ db, coll } = splitNs(o.renameCollection));
          to = typeof o.to === 'string' ? splitNs(o.to) : undefined;
          operationDescription = { ...without(o, 'renameCollection', 'stayTemp'), to };
          invalidates = this.scope.kind === 'collection';
        } else if (o.dropDatabase !== undefined) {
          operationType = 'dropDatabase';
          coll = '';
          if (this.scope.kind === 'collection') {
            // The collection's own drop came first and ended the stream; this only ends one whose collection did not exist.
            if (!this.inScope(db, this.scope.coll)) return undefined;
            return { event: undefined, token: this.tokenFor(src, undefined), invalidates: true };
          }
          invalidates = this.scope.kind === 'database';
        } else if (typeof o.create === 'string') {
          operationType = 'create';
          coll = o.create;
          operationDescription = without(o, 'create');
        } else if (typeof o.createIndexes === 'string') {
          operationType = 'createIndexes';
          coll = o.createIndexes;
          operationDescription = { indexes: [without(o, 'createIndexes')] };
        } else if (typeof o.dropIndexes === 'string') {
          operationType = 'dropIndexes';
          coll = o.dropIndexes;
          operationDescription = { indexes: [without(isDocument(e.o2) ? e.o2 : { name: o.index }, 'dropIndexes')] };
        } else if (typeof o.collMod === 'string') {
          operationType = 'modify';
          coll = o.collMod;
          operationDescription = without(o, 'collMod');
          const o2 = isDocument(e.o2) ? e.o2 : {};
          stateBeforeChange = without({ collectionOptions: o2.collectionOptions_old, indexOptions: o2.indexOptions_old });
        } else return undefined;
        break;
      }
      default:
        return undefined;
    }
    if (!this.inScope(db, operationType === 'dropDatabase' ? undefined : coll)) return undefined;
    if (EXPANDED_EVENTS.has(operationType) && !this.spec.showExpandedEvents) return undefined;
    const token = this.tokenFor(src, operationType === 'dropDatabase' ? undefined : uuid);
    const tokenHex = encodeResumeToken(token);
    // Events before the resume point cost no lookups: only their token is needed.
    if (tokenHex <= this.skipThrough) return { event: undefined, token, invalidates };

    const ev: Document = {};
    if (src.txn) {
      ev.txnNumber = src.txn.txnNumber;
      ev.lsid = src.txn.lsid;
    }
    if (to) ev.to = to;
    ev._id = { _data: tokenHex };
    ev.operationType = operationType;
    ev.clusterTime = timestampOf(src.ts);
    if (this.spec.showExpandedEvents && uuid !== undefined && operationType !== 'dropDatabase') ev.collectionUUID = uuid;
    ev.wallTime = src.wall;
    const preImageWanted = (operationType === 'update' || operationType === 'replace' || operationType === 'delete') && this.spec.fullDocumentBeforeChange !== 'off';
    const postImageWanted = operationType === 'update' && (this.spec.fullDocument === 'whenAvailable' || this.spec.fullDocument === 'required');
    const preImage = (preImageWanted || postImageWanted) && uuid ? this.host.preImage(uuid, src.ts, src.txnOpIndex) : undefined;
    if (operationType === 'update') {
      if (this.spec.fullDocument === 'updateLookup') fullDocument = this.host.lookupDocument(db, coll, uuid, documentKey!);
      else if (postImageWanted) {
        // The entry holds the whole new document; it is reported only when mongod could build it (from the kept pre-image).
        if (preImage) fullDocument = o;
        else if (this.spec.fullDocument === 'required') {
          fail('NoMatchingDocument', `Change stream was configured to require a post-image for all update, delete and replace events, but the post-image was not found for event: ${formatDocument({ _data: tokenHex })}`);
        } else fullDocument = null;
      }
    }
    if (fullDocument !== undefined) ev.fullDocument = fullDocument;
    ev.ns = coll === '' ? { db } : { db, coll };
    if (documentKey) ev.documentKey = documentKey;
    if (this.spec.showExpandedEvents && operationDescription) ev.operationDescription = operationDescription;
    if (updateDescription) ev.updateDescription = updateDescription;
    if (stateBeforeChange) ev.stateBeforeChange = stateBeforeChange;
    if (preImageWanted) {
      if (preImage) ev.fullDocumentBeforeChange = preImage;
      else if (this.spec.fullDocumentBeforeChange === 'required') {
        fail('NoMatchingDocument', `Change stream was configured to require a pre-image for all update, delete and replace events, but the pre-image was not found for event: ${formatDocument({ _data: tokenHex })}`);
      } else ev.fullDocumentBeforeChange = null;
    }
    return { event: ev, token, invalidates };
  }

  private tokenFor(src: OplogOp, uuid: UUID | undefined): ResumeTokenData {
    return { clusterTime: timestampOf(src.ts), tokenType: TokenType.Event, txnOpIndex: src.txnOpIndex, fromInvalidate: false, uuid };
  }
}

registerStage({
  name: '$changeStream',
  firstOnly: true,
  collectionless: true,
  forbiddenInTransaction: true,
  notInFacet: true,
  notInLookup: true,
  parse(spec) {
    parseChangeStreamSpec(spec);
    return {
      name: '$changeStream',
      spec: { $changeStream: spec },
      run() {
        // The aggregate command runs change streams itself (they outlive one batch); reaching
        // here means a $changeStream inside a sub-pipeline the nesting checks did not catch.
        fail('IllegalOperation', '$changeStream is only valid as the first stage in a pipeline');
      },
    };
  },
});

