/**
 * Running whole suites against in-process Dossiers and judging the results against the
 * expected-failures list. Each test file gets a fresh Dossier (they start in milliseconds), so a
 * server-side leftover of one file can never decide another file's outcome.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Dossier } from '../../../src/index.js';
import { listSuiteFiles, loadSpecFile, repoRoot } from './load.js';
import { SpecRunner, type TestResult } from './runner.js';

/** The suites Dossier is measured by (issue 8), in the order they are reported. */
export const SUITES = [
  'transactions', 'transactions-convenient-api', 'sessions', 'retryable-writes', 'retryable-reads', 'causal-consistency', 'crud',
  'read-write-concern', 'run-command', 'collection-management', 'index-management', 'change-streams',
] as const;

/** The format's own acceptance files: every applicable test must pass... */
export const SELFTEST_PASS = 'unified-runner-selftest';
/** ...and every test here must be reported as failed. */
export const SELFTEST_FAIL = 'unified-runner-selftest-valid-fail';

export interface SuiteCounts {
  applicable: number;
  passed: number;
  expectedFailures: number;
  failed: number;
}

export interface Verdict extends TestResult {
  suite: string;
  /** The reason given in the expected-failures list, if the test is listed. */
  expectedFailure?: string;
  /** A listed test that passed: the list must shrink, so this fails the run too. */
  unexpectedPass?: boolean;
}

export const EXPECTED_FAILURES_PATH = (): string => join(repoRoot(), 'test/spec/expected-failures.json');

/** test id → one-line reason. */
export function loadExpectedFailures(path = EXPECTED_FAILURES_PATH()): Map<string, string> {
  const raw = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  const map = new Map<string, string>();
  for (const [k, v] of Object.entries(raw)) if (!k.startsWith('$')) map.set(k, String(v));
  return map;
}

export interface RunSuiteOptions {
  /** Only files whose name contains this. */
  fileFilter?: string;
  testTimeoutMs?: number;
  onFile?: (file: string, results: TestResult[]) => void;
}

/** Runs every file of one suite, each against its own fresh Dossier. */
export async function runSuite(suite: string, options: RunSuiteOptions = {}): Promise<TestResult[]> {
  const results: TestResult[] = [];
  for (const path of listSuiteFiles(suite)) {
    if (options.fileFilter && !path.includes(options.fileFilter)) continue;
    const file = loadSpecFile(suite, path);
    const dossier = await Dossier.create();
    const runner = new SpecRunner({ uri: dossier.uri, testTimeoutMs: options.testTimeoutMs ?? 30_000 });
    let fileResults: TestResult[];
    try {
      await runner.start();
      fileResults = await runner.runFile(file);
    } finally {
      await runner.stop().catch(() => undefined);
      await dossier.stop();
    }
    options.onFile?.(file.id, fileResults);
    results.push(...fileResults);
  }
  return results;
}

export function judge(suite: string, results: TestResult[], expected: Map<string, string>): { counts: SuiteCounts; verdicts: Verdict[] } {
  const counts: SuiteCounts = { applicable: 0, passed: 0, expectedFailures: 0, failed: 0 };
  const verdicts: Verdict[] = [];
  for (const r of results) {
    const listed = expected.get(r.id);
    const v: Verdict = { ...r, suite, ...(listed !== undefined ? { expectedFailure: listed } : {}) };
    if (r.status !== 'not-applicable') {
      counts.applicable++;
      if (r.status === 'passed') {
        counts.passed++;
        if (listed !== undefined) v.unexpectedPass = true;
      } else if (listed !== undefined) counts.expectedFailures++;
      else counts.failed++;
    }
    verdicts.push(v);
  }
  return { counts, verdicts };
}

/** Ids in the list that no longer name an applicable test: a stale list hides nothing, so they are reported. */
export function staleExpectedFailures(verdicts: Verdict[], expected: Map<string, string>, suites: readonly string[]): string[] {
  const seen = new Set(verdicts.filter((v) => v.status !== 'not-applicable').map((v) => v.id));
  return [...expected.keys()].filter((id) => suites.some((s) => id.startsWith(`${s}/`)) && !seen.has(id));
}

export function writeJson(path: string, data: unknown): void {
  writeFileSync(path, `${JSON.stringify(data, null, 2)}\n`);
}
