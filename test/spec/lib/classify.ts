/**
 * One-line reasons for the expected-failures list, derived from how a test failed today. The list
 * is regenerated from the current state (`npm run spec -- --write-expected`), so the reasons group
 * tests by the missing feature; a failure nothing here recognises keeps its own message.
 */
const RULES: Array<[RegExp, string]> = [
  [/does not support retryable writes|Multi-document transactions are not supported|Transaction numbers are only allowed/i, 'transactions not implemented yet'],
  [/no such command: 'aggregate'/, 'aggregate not implemented yet'],
  [/no such command: 'bulkWrite'/, 'bulkWrite command (MongoClient.bulkWrite) not implemented yet'],
  [/Pipeline-style updates/, 'pipeline-style updates not implemented yet'],
  [/collations other than/, 'collation not implemented yet'],
  [/\$expr is not supported/, '$expr not implemented yet'],
  [/'capped' option/, 'capped collections not implemented yet'],
  [/'viewOn' option|views\)/, 'views not implemented yet'],
  [/'timeseries' option|time-series|timeseries/i, 'time-series collections not implemented yet'],
  [/'clusteredIndex' option|clustered/i, 'clustered collections not implemented yet'],
  [/changeStreamPreAndPostImages/, 'change stream pre/post images not implemented yet'],
  [/unsupported operation 'mapReduce'/, 'the Node driver 7 has no mapReduce helper (driver, not Dossier)'],
  [/expected the message to contain 'Atlas'/, "search index commands missing: mongod answers them with 'only supported with Atlas'"],
  [/writeConcern: unexpected field\(s\) wtimeout/, 'Node driver 7 adds wtimeout: 10000 to the commitTransaction/abortTransaction write concern (driver deviation)'],
  [/insertedIds: unexpected field/, 'Node driver 7 lists insertedIds of inserts that never happened in BulkWriteResult (driver deviation)'],
  [/assert(Collection|Index)NotExists: .* exists/, 'a collection or index created inside a transaction is visible before the commit'],
  [/converting indexes to unique/, 'collMod unique/prepareUnique conversion not implemented yet'],
  [/Server selection timed out/, 'needs a secondary or a second member: Dossier runs a single-member replica set'],
  [/no such command: '(\w+)'/, 'command not implemented yet: $1'],
];

/** Failures that depend on which file the test is in, not just on the message. */
const BY_ID: Array<[RegExp, RegExp, string]> = [
  [/client-bulkWrite/, /expected error code \d+, got undefined \(error: MongoClientBulkWriteError/, "the Node driver 7 wraps bulkWrite's top-level errors in MongoClientBulkWriteError; the runner does not unwrap them yet (runner)"],
  [/client-bulkWrite/, /didUpsert/, 'Node driver 7 adds didUpsert to client bulkWrite update results (driver deviation)'],
  [/./, /commandStartedEvent\(aggregate\)/, 'aggregate not implemented yet'],
  [/^retryable-reads\/gridfs-/, /filter\._id: expected/, 'Node driver 7 sends {_id: {$eq: id}} in GridFS reads where the test expects {_id: id} (driver deviation)'],
  [/bypassDocumentValidation/, /bypassDocumentValidation: missing/, 'Node driver 7 omits bypassDocumentValidation: false from commands (driver deviation)'],
  [/^change-streams\//, /./, 'change streams not implemented yet'],
  [/^sessions\/snapshot-/, /snapshotTime/, "the runner does not pass the sessions' snapshotTime option to the driver yet"],
];

export function classifyFailure(id: string, reason: string): string {
  for (const [idRe, reasonRe, text] of BY_ID) if (idRe.test(id) && reasonRe.test(reason)) return text;
  for (const [re, text] of RULES) {
    const m = re.exec(reason);
    if (m) return text.replace('$1', m[1] ?? '');
  }
  return `fails today: ${reason.replace(/\s+/g, ' ').slice(0, 160)}`;
}
