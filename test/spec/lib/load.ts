/**
 * Finding and loading unified-format test files. Files are Extended JSON and are parsed in
 * canonical mode so that what a test stores keeps its BSON type: `{"$numberLong": "1"}` stays an
 * int64 and a plain `1` an int32 when sent to the server (relaxed mode would turn both into a JS
 * number, and int64 values beyond 2^53 would lose digits). Matching compares numbers by value, so
 * the wrappers cost nothing there.
 */
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BSON } from 'mongodb';

/** The schema versions this runner implements (schema/schema-1.28.json is the newest shipped). */
export const SUPPORTED_SCHEMA_VERSION = [1, 28, 0] as const;

/** The project's root: the nearest directory up from here whose package.json names dossierdb. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'dossierdb') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the dossierdb package root');
    dir = parent;
  }
}

/** Where the official tests live: $DOSSIER_SPEC_TESTS or ../shared/spec-tests beside the repo. */
export function specTestsDir(): string {
  return process.env.DOSSIER_SPEC_TESTS ?? resolve(repoRoot(), '../shared/spec-tests');
}

export interface SpecFile {
  /** "suite/file.json", the stable part of each test's id. */
  id: string;
  path: string;
  /** The parsed file; untyped because validating its shape is the runner's job. */
  doc: Record<string, unknown>;
}

export function listSuiteFiles(suite: string): string[] {
  const dir = join(specTestsDir(), suite);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => join(dir, f));
}

export function loadSpecFile(suite: string, path: string): SpecFile {
  const name = path.slice(path.lastIndexOf('/') + 1);
  const doc = BSON.EJSON.parse(readFileSync(path, 'utf8'), { relaxed: false }) as Record<string, unknown>;
  return { id: `${suite}/${name}`, path, doc };
}

/** "1.2.3" / "1.2" / "1" → [1, 2, 3]; anything after the patch component is dropped. */
export function parseVersion(v: string): [number, number, number] {
  const m = /^(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(v);
  if (!m) throw new Error(`malformed version string '${v}'`);
  return [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)];
}

export function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < 3; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Compatible when the major versions agree and the file's is not newer than ours. */
export function schemaVersionSupported(v: unknown): boolean {
  if (typeof v !== 'string') return false;
  let parsed: [number, number, number];
  try {
    parsed = parseVersion(v);
  } catch {
    return false;
  }
  return parsed[0] === SUPPORTED_SCHEMA_VERSION[0] && compareVersions(parsed, SUPPORTED_SCHEMA_VERSION) <= 0;
}
