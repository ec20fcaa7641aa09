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
  [/'viewOn' option|views\)/, 'views not implemented yet'],
  [/Unrecognized pipeline stage name: '\$changeStream'/, 'change streams not implemented yet'],
  [/unsupported operation 'mapReduce'/, 'the Node driver 7 has no mapReduce helper (driver, not Dossier)'],
  [/writeConcern: unexpected field\(s\) wtimeout/, 'Node driver 7 adds wtimeout: 10000 to the commitTransaction/abortTransaction write concern (driver deviation)'],
  [/insertedIds: unexpected field/, 'Node driver 7 lists insertedIds of inserts that never happened in BulkWriteResult (driver deviation)'],
  [/assert(Collection|Index)NotExists: .* exists/, 'a collection or index created inside a transaction is visible before the commit'],
  [/Server selection timed out/, "needs a secondary: the driver's first connection selects a server with the client's readPreference secondary, which a single-member replica set (Dossier, or a one-node mongod) does not have"],
  [/no such command: '(\w+)'/, 'command not implemented yet: $1'],
];

/** Failures that depend on which file the test is in, not just on the message. */
const BY_ID: Array<[RegExp, RegExp, string]> = [
  [/^crud\/create-null-ids\.json/, /countDocuments result: expected/, 'Node driver 7 replaces a null _id with a generated ObjectId before sending the insert (driver deviation)'],
  [/client-bulkWrite-partialResults\.json: partialResult is unset/, /expectResult .*expected no such field/, 'Node driver 7 sets partialResult on MongoClientBulkWriteError when no write succeeded, which the bulk write spec forbids (driver deviation)'],
  [/client-bulkWrite\.json: client bulkWrite with writeConcern in a transaction/, /expected an error, got result/, "Node driver 7 drops a writeConcern given inside a transaction instead of raising the client error 'Cannot set write concern after starting a transaction' (driver deviation)"],
  [/./, /commandStartedEvent\(aggregate\)/, 'aggregate not implemented yet'],
  [/^retryable-reads\/gridfs-/, /filter\._id: expected/, 'Node driver 7 sends {_id: {$eq: id}} in GridFS reads where the test expects {_id: id} (driver deviation)'],
  [/bypassDocumentValidation/, /bypassDocumentValidation: missing/, 'Node driver 7 omits bypassDocumentValidation: false from commands (driver deviation)'],
  [/^change-streams\//, /./, 'change streams not implemented yet'],
];

export function classifyFailure(id: string, reason: string): string {
  for (const [idRe, reasonRe, text] of BY_ID) if (idRe.test(id) && reasonRe.test(reason)) return text;
  for (const [re, text] of RULES) {
    const m = re.exec(reason);
    if (m) return text.replace('$1', m[1] ?? '');
  }
  return `fails today: ${reason.replace(/\s+/g, ' ').slice(0, 160)}`;
}
