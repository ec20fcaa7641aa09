/**
 * The crud workload's data and the lean client's frames for it, shared by the workload (over TCP)
 * and dispatch-child (the same frames in-process), so both measure the same documents and commands.
 */
import { FrameTemplate } from './wire.js';

/** Documents loaded before the reads and updates; ids and k both run 0..SEED_DOCS-1. */
export const SEED_DOCS = 10_000;
/** Brings a document to ~200 BSON bytes with its _id, k and n fields. */
export const PAD = 'x'.repeat(162);
export const DB = 'bench';
export const COLL = 'docs';

export interface CrudDoc {
  _id: number;
  k: number;
  n: number;
  pad: string;
}

export function crudDoc(i: number): CrudDoc {
  return { _id: i, k: i, n: 0, pad: PAD };
}

/** The lean client's OP_MSG templates for each crud operation (slots: the int32 fields). */
export function crudFrames(): {
  insert: FrameTemplate;
  findById: FrameTemplate;
  incById: FrameTemplate;
  findByK: FrameTemplate;
} {
  return {
    insert: new FrameTemplate(['int32', 'int32'], ([id, k]) => ({ insert: COLL, documents: [{ _id: id, k, n: 0, pad: PAD }], ordered: true, $db: DB })),
    findById: new FrameTemplate(['int32'], ([id]) => ({ find: COLL, filter: { _id: id }, limit: 1, singleBatch: true, $db: DB })),
    incById: new FrameTemplate(['int32'], ([id]) => ({ update: COLL, updates: [{ q: { _id: id }, u: { $inc: { n: 1 } } }], ordered: true, $db: DB })),
    findByK: new FrameTemplate(['int32'], ([k]) => ({ find: COLL, filter: { k }, $db: DB })),
  };
}
