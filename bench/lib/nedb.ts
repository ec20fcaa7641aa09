/**
 * NeDB's class, typed. The package's .d.ts declares an ES default export while index.js does
 * `module.exports = Datastore`, so under NodeNext the default import is the class at run time
 * but the module (with the class under `.default`) to the type checker; this module reconciles
 * the two in one place.
 */
import runtime from '@seald-io/nedb';

type DatastoreClass = typeof runtime.default;
export type Datastore<Schema> = InstanceType<typeof runtime.default<Schema>>;
export const Datastore = runtime as unknown as DatastoreClass;
