/**
 * Atlas Search index management. mongod without a search index management host (every mongod
 * outside Atlas or an Atlas CLI local deployment) refuses it with SearchNotEnabled, and so does
 * Dossier: the commands and $listSearchIndexes parse their input, then stop there.
 */
import { fail } from '../../base/index.js';
import { registerStage } from './pipeline.js';

/** mongod's throwIfNotRunningWithRemoteSearchIndexManagement(), word for word: drivers' tests match on "Atlas". */
export function failSearchNotEnabled(): never {
  return fail(
    'SearchNotEnabled',
    'Using Atlas Search Database Commands and the $listSearchIndexes aggregation stage requires additional configuration. ' +
      'Please connect to Atlas or an AtlasCLI local deployment to enable. For more information on how to connect, see ' +
      'https://dochub.mongodb.org/core/atlas-cli-deploy-local-reqs.',
  );
}

// mongod checks the configuration first thing in the stage's parser, before its position, $facet
// or transaction rules (applied once every stage parsed), so this stage declares none of them.
registerStage({
  name: '$listSearchIndexes',
  parse() {
    return failSearchNotEnabled();
  },
});
