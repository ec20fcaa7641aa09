/**
 * MongoDB's driver conformance suites against Dossier (issue 8). Fails on any failure that is not
 * in test/spec/expected-failures.json and on any listed test that now passes, so the list can only
 * shrink. `npm run spec` prints the same results as a table.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SUITES, judge, loadExpectedFailures, runSuite } from './lib/suites.js';

describe('driver conformance (unified spec tests)', () => {
  const expected = loadExpectedFailures();
  for (const suite of SUITES) {
    it(suite, { timeout: 600_000 }, async () => {
      const { counts, verdicts } = judge(suite, await runSuite(suite), expected);
      const unexpected = verdicts.filter((v) => v.status === 'failed' && v.expectedFailure === undefined).map((v) => `${v.id}\n    ${v.reason ?? ''}`);
      const nowPassing = verdicts.filter((v) => v.unexpectedPass).map((v) => v.id);
      assert.deepEqual(unexpected, [], `${suite}: ${counts.failed} unexpected failure(s)`);
      assert.deepEqual(nowPassing, [], `${suite}: listed as expected failures but passing — remove them from the list`);
    });
  }
});
