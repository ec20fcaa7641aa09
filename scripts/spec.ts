/**
 * `npm run spec`: runs MongoDB's unified driver conformance suites against in-process Dossiers and
 * prints, per suite, how many tests apply, pass, fail as expected (listed in
 * test/spec/expected-failures.json) and fail unexpectedly. Exits non-zero on an unexpected failure
 * or on a listed test that now passes (the list may only shrink).
 *
 *   npm run spec                           all suites, table on stdout
 *   npm run spec -- --json FILE            also write { "<suite>": { applicable, passed, expectedFailures, failed } }
 *   npm run spec -- --suite crud           only these suites (repeatable)
 *   npm run spec -- --file insertOne       only files whose name contains this
 *   npm run spec -- --verbose              print every failure with its reason
 *   npm run spec -- --write-expected       rewrite the expected-failures list from today's failures
 */
import { SUITES, SELFTEST_PASS, EXPECTED_FAILURES_PATH, judge, loadExpectedFailures, runSuite, staleExpectedFailures, writeJson, type SuiteCounts, type Verdict } from '../test/spec/lib/suites.js';
import { classifyFailure } from '../test/spec/lib/classify.js';

interface Args {
  json?: string;
  suites: string[];
  file?: string;
  verbose: boolean;
  writeExpected: boolean;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { suites: [], verbose: false, writeExpected: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--json') args.json = next();
    else if (a === '--suite') args.suites.push(next());
    else if (a === '--file') args.file = next();
    else if (a === '--verbose' || a === '-v') args.verbose = true;
    else if (a === '--write-expected') args.writeExpected = true;
    else throw new Error(`unknown argument ${a}`);
  }
  return args;
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  // The runner's own valid-pass files run too, so server gaps they hit are listed like any other.
  const suites = args.suites.length > 0 ? args.suites : [...SUITES, SELFTEST_PASS];
  const expected = loadExpectedFailures();
  const table: Record<string, SuiteCounts> = {};
  const all: Verdict[] = [];
  const started = Date.now();
  for (const suite of suites) {
    const t0 = Date.now();
    const results = await runSuite(suite, args.file ? { fileFilter: args.file } : {});
    const { counts, verdicts } = judge(suite, results, expected);
    table[suite] = counts;
    all.push(...verdicts);
    process.stderr.write(`${suite}: ${counts.passed}/${counts.applicable} passed (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
  }

  const width = Math.max(...Object.keys(table).map((s) => s.length), 5);
  const row = (cells: Array<string | number>): string => cells.map((c, i) => (i === 0 ? String(c).padEnd(width) : String(c).padStart(12))).join(' ');
  console.log(row(['suite', 'applicable', 'passed', 'expected', 'unexpected']));
  for (const [suite, c] of Object.entries(table)) console.log(row([suite, c.applicable, c.passed, c.expectedFailures, c.failed]));
  console.log(`(${((Date.now() - started) / 1000).toFixed(1)} s)`);

  const unexpected = all.filter((v) => v.status === 'failed' && v.expectedFailure === undefined);
  const nowPassing = all.filter((v) => v.unexpectedPass);
  if (args.verbose) {
    for (const v of all.filter((x) => x.status === 'failed')) console.log(`${v.expectedFailure ? 'expected' : 'FAILED  '} ${v.id}\n    ${v.reason ?? ''}`);
  }
  for (const v of unexpected) console.log(`unexpected failure: ${v.id}\n    ${v.reason ?? ''}`);
  for (const v of nowPassing) console.log(`listed as expected failure but passes (remove it from the list): ${v.id}`);
  if (!args.file && args.suites.length === 0) {
    for (const id of staleExpectedFailures(all, expected, suites)) console.log(`listed but not an applicable test any more: ${id}`);
  }

  if (args.json) writeJson(args.json, table);
  if (args.writeExpected) {
    // Keep entries of suites not run this time; replace those of the suites that ran.
    const next: Record<string, string> = {};
    for (const [id, reason] of expected) if (!suites.some((s) => id.startsWith(`${s}/`))) next[id] = reason;
    for (const v of all) if (v.status === 'failed') next[v.id] = v.expectedFailure ?? classifyFailure(v.id, v.reason ?? '');
    const sorted = Object.fromEntries(Object.entries(next).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    writeJson(EXPECTED_FAILURES_PATH(), sorted);
    console.log(`wrote ${Object.keys(sorted).length} expected failures to ${EXPECTED_FAILURES_PATH()}`);
    return 0;
  }
  return unexpected.length > 0 || nowPassing.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e);
    process.exit(2);
  },
);
