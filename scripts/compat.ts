/**
 * Writes docs/compatibility.md from two sources, never by hand:
 *   1. the command registry (every command's metadata and declared options), and
 *   2. the usage log the dispatcher writes when DOSSIER_COMMAND_LOG is set (one JSON line per
 *      command answered: {command, fields, ok, code}), produced by running the test suite.
 *
 * Usage: node dist/scripts/compat.js <usage-log.jsonl> [out.md]   (see `npm run compat`)
 *
 * The only hand-kept part is KNOWN_GAPS below: what Dossier does not do yet, with one reason each.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { codeNameOf } from '../src/base/index.js';
import { allCommands } from '../src/commands/registry.js';
import { isGenericArgument } from '../src/commands/generic.js';
import type { CommandDefinition } from '../src/commands/types.js';

/** Not generated: the features Dossier lacks today, each with why. Keep it short and true. */
export const KNOWN_GAPS: ReadonlyArray<{ feature: string; reason: string }> = [
  { feature: 'Aggregation stages `$geoNear`, `$search`', reason: 'geo and search have no indexes here. Unknown stages answer 40324.' },
  { feature: 'Atlas Search indexes', reason: '`createSearchIndexes`, `updateSearchIndex`, `dropSearchIndex`, `listSearchIndexes` and `$listSearchIndexes` answer SearchNotEnabled (31082), as a mongod outside Atlas does.' },
  { feature: 'Aggregation memory', reason: '`$group`/`$sort` past 100 MB fail with 292, and a `$setWindowFields` partition past 100 MB with 5414201, unless `allowDiskUse: true`; Dossier cannot spill to disk, so with it memory is unbounded (mongod 8.0 spills, and defaults `allowDiskUseByDefault` to true).' },
  { feature: 'Window functions `$percentile`, `$median`, `$minMaxScalar`; Decimal128 in window math', reason: 'not built (unknown window functions answer 9); `$covariance*`, `$integral`, `$linearFill` and range-window bounds compute in doubles, so Decimal128 inputs come back as doubles or lose digits there (mongod keeps Decimal128).' },
  { feature: 'Change streams', reason: "`nsType` (8.1), `$changeStreamSplitLargeEvent` and `showRawUpdateDescription` are not there; a rename with `dropTarget` reports the target's `drop` before the `rename`; a waiting getMore looks for new entries every 10 ms." },
  { feature: 'Catalog changes inside transactions', reason: 'a collection or index created in a transaction is hidden from listings until the commit and dropped on abort, but the catalog is not versioned: naming the collection directly before the commit finds it empty, not missing.' },
  { feature: 'Capped collections', reason: 'size and max are kept by deleting the oldest documents in the inserting write, which scans the collection (fine for small caps, slow for large ones); a tailable cursor that falls behind goes on from the next document left instead of failing with CappedPositionLost; `convertToCapped`/`cloneCollectionAsCapped` are missing.' },
  { feature: 'Views', reason: "`$graphLookup` reads only collections (a view's name reads as an empty collection there; `$lookup` and `$unionWith` resolve views). Creating a view logs mongod's `create` command entry and, beside it, the `system.views` insert that recovery replays; `collMod` and `drop` of a view log only the `system.views` write." },
  { feature: 'Time-series collections', reason: 'measurements are stored as plain documents (no buckets, no `system.buckets.*` collection): listings, inserts and reads answer as mongod, but `expireAfterSeconds` removes each measurement on its own time rather than whole buckets.' },
  { feature: 'Clustered collections', reason: 'records are not ordered by _id: the _id index gives the same answers, and listIndexes/listCollections show the clustered index; `expireAfterSeconds` on a clustered collection is refused.' },
  { feature: 'Collation', reason: "strings compare through Node's built-in ICU (`Intl.Collator`), whose Unicode data is newer than mongod's ICU 57.1, so rare orders differ. Intl cannot set strength 4 (compared as 3), `maxVariable: 'space'`, `backwards` (French accent order) or `normalization`: they are validated and reported in the full collation but do not change the order; strength 5 breaks ties by NFD code points, caseLevel at strength 2 by a case comparison. Duplicate-key messages show the key value, not mongod's `CollationKey(0x…)`; explain shows string bounds as strings. `$graphLookup`, `$bucket` boundaries, `$jsonSchema` and partial-index filters compare by code point." },
  { feature: 'Text, 2d, 2dsphere, hashed and wildcard indexes', reason: 'refused at createIndexes with CannotCreateIndex (67); only ascending/descending single-field and compound keys.' },
  { feature: 'Planner: partial indexes and plan ranking', reason: 'a partial index is maintained and enforced (unique) but never chosen by the planner; one plan is picked by a fixed score, so explain shows no rejectedPlans.' },
  { feature: 'zstd wire compression', reason: 'the npm bindings download binaries at install time and Node 20 has no built-in zstd; zlib and snappy work.' },
  { feature: 'fsync lock', reason: '`fsync` flushes and checkpoints; `lock: true` (fsyncLock for file-copy backups) is refused with CommandNotSupported.' },
  { feature: 'Authentication (SCRAM, x.509)', reason: 'no users yet: `saslStart` fails with AuthenticationFailed and a driver given credentials cannot connect.' },
  { feature: 'Oplog update entries', reason: "a `u` entry's `o` holds the whole new document (replacement form), not mongod 8.0's `$v: 2` diff; the delta change streams report is kept beside it in a `diff` field (absent for replacements)." },
  { feature: 'Field order of integer-like keys', reason: 'the `bson` package decodes documents into JS objects, which put integer-like keys ("0", "12") first, so `{b: 1, "0": 1}` comes back as `{"0": 1, b: 1}`.' },
];

type UsageLine = { command: string; fields: string[]; ok: boolean; code?: number };

interface Usage {
  ok: number;
  failed: number;
  codes: Map<number, number>;
  /** Fields of successful calls. */
  okFields: Set<string>;
}

function readUsage(path: string): Map<string, Usage> {
  const byCommand = new Map<string, Usage>();
  if (!existsSync(path)) return byCommand;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    let u: UsageLine;
    try {
      u = JSON.parse(line) as UsageLine;
    } catch {
      continue; // a line cut short by a crash: skip it rather than fail the table
    }
    let entry = byCommand.get(u.command);
    if (!entry) {
      entry = { ok: 0, failed: 0, codes: new Map(), okFields: new Set() };
      byCommand.set(u.command, entry);
    }
    if (u.ok) {
      entry.ok++;
      for (const f of u.fields ?? []) entry.okFields.add(f);
    } else {
      entry.failed++;
      if (typeof u.code === 'number') entry.codes.set(u.code, (entry.codes.get(u.code) ?? 0) + 1);
    }
  }
  return byCommand;
}

/** Whether a successful test used `option`; a dotted option (`cursor.batchSize`) counts its parent when the log has only top-level fields. */
function optionStatus(option: string, usage: Usage | undefined): 'used' | 'parent' | 'unused' {
  if (!usage) return 'unused';
  if (usage.okFields.has(option)) return 'used';
  const parent = option.split('.')[0]!;
  if (parent !== option && usage.okFields.has(parent)) return 'parent';
  return 'unused';
}

function yesNo(v: boolean | undefined): string {
  return v ? 'yes' : '';
}

function escapeCell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function renderCompatibility(commands: readonly CommandDefinition[], usage: Map<string, Usage>, logName: string, conformance?: Conformance): string {
  const out: string[] = [];
  const exercised = commands.filter((c) => (usage.get(c.name)?.ok ?? 0) > 0);
  const failedOnly = commands.filter((c) => (usage.get(c.name)?.ok ?? 0) === 0 && (usage.get(c.name)?.failed ?? 0) > 0);
  const declaredOptions = commands.reduce((n, c) => n + (c.options?.length ?? 0), 0);
  const usedOptions = commands.reduce((n, c) => n + (c.options ?? []).filter((o) => optionStatus(o, usage.get(c.name)) !== 'unused').length, 0);

  out.push('# Compatibility');
  out.push('');
  out.push('<!-- Generated by scripts/compat.ts (`npm run compat`) from the command registry and the commands the test suite ran. Do not edit: edit the handlers, the tests, or KNOWN_GAPS in scripts/compat.ts. -->');
  out.push('');
  out.push('Dossier answers as a MongoDB 8.0 single-node replica-set primary (wire version 25). This page lists every');
  out.push('command it registers, with the metadata its handler declares, and what the test suite (which talks');
  out.push('to a real Dossier through the official Node driver) actually exercised: whether a test ran the command');
  out.push('successfully, which error codes tests observed from it, and which of its options a successful test used.');
  out.push('');
  out.push(`- Commands registered: **${commands.length}**; run successfully by tests: **${exercised.length}**; only failing calls seen: **${failedOnly.length}**; never run: **${commands.length - exercised.length - failedOnly.length}**.`);
  out.push(`- Declared options used by a successful test: **${usedOptions} of ${declaredOptions}**.`);
  if (usage.size === 0) out.push(`- No usage log was found (${logName}): run \`npm run compat\` to measure.`);
  out.push('');
  out.push('Legend: **Tested** = at least one successful call in the suite (count of ok / failed calls); **Codes seen** = error');
  out.push('codes tests provoked; in the option lists, ✓ = used by a successful test, (✓) = only its parent field was seen');
  out.push('(the log records top-level fields), ✗ = declared but not exercised; **undeclared** = fields of successful calls');
  out.push('that the handler does not list (generic arguments such as `txnNumber` or `writeConcern` are left out; so are');
  out.push('fields only failing calls sent, which are mostly deliberate junk in negative tests).');
  out.push('');
  out.push('## Commands');
  out.push('');
  out.push('| Command | Kind | Admin only | In txn | Retryable | Tested (ok/failed) | Codes seen |');
  out.push('| --- | --- | --- | --- | --- | --- | --- |');
  for (const c of commands) {
    const u = usage.get(c.name);
    const name = `\`${c.name}\`${c.aliases?.length ? ` (${c.aliases.map((a) => `\`${a}\``).join(', ')})` : ''}${c.testOnly ? ' (test only)' : ''}`;
    const tested = !u ? 'no' : `${u.ok > 0 ? 'yes' : 'no'} (${u.ok}/${u.failed})`;
    const codes = u ? [...u.codes.keys()].sort((a, b) => a - b).map((code) => `${code} ${codeNameOf(code)}`).join(', ') : '';
    out.push(`| ${name} | ${c.kind} | ${yesNo(c.adminOnly)} | ${yesNo(c.allowedInTransaction)} | ${yesNo(c.retryable)} | ${tested} | ${codes} |`);
  }
  out.push('');
  out.push('## Options per command');
  out.push('');
  for (const c of commands) {
    const u = usage.get(c.name);
    const declared = c.options ?? [];
    const undeclared = u ? [...u.okFields].filter((f) => !declared.includes(f) && !declared.some((d) => d.startsWith(`${f}.`)) && !isGenericArgument(f)).sort() : [];
    out.push(`### \`${c.name}\``);
    out.push('');
    out.push(escapeCell(c.help));
    out.push('');
    if (declared.length === 0) {
      out.push('Options: none declared.');
    } else {
      const marks = declared.map((o) => {
        const s = optionStatus(o, u);
        return `\`${o}\` ${s === 'used' ? '✓' : s === 'parent' ? '(✓)' : '✗'}`;
      });
      out.push(`Options: ${marks.join(', ')}`);
    }
    if (undeclared.length > 0) out.push(`\nUndeclared fields seen in tests: ${undeclared.map((f) => `\`${f}\``).join(', ')}`);
    out.push('');
  }
  if (conformance) out.push(...renderConformance(conformance));
  out.push('## Known gaps');
  out.push('');
  out.push('Kept by hand in `scripts/compat.ts` (KNOWN_GAPS): what Dossier does not do yet, and why.');
  out.push('');
  for (const g of KNOWN_GAPS) out.push(`- **${g.feature}**: ${g.reason}`);
  out.push('');
  return out.join('\n');
}

/** What `npm run spec -- --json FILE` wrote, and the expected-failure list with its reasons. */
interface Conformance {
  counts: Record<string, { applicable: number; passed: number; expectedFailures: number; failed: number }>;
  expected: Record<string, string>;
}

function renderConformance(c: Conformance): string[] {
  const out: string[] = [];
  out.push('## Driver conformance');
  out.push('');
  out.push("MongoDB's unified driver tests (`../shared/spec-tests`) run through the official Node driver 7 (`npm run spec`;");
  out.push('see [conformance.md](conformance.md) for how the runner works). A test that does not pass is an expected');
  out.push('failure with a one-line reason, listed in `test/spec/expected-failures.json`; one that starts passing fails the run.');
  out.push('');
  out.push('| Suite | Applicable | Passed | Expected failures | Unexpected failures |');
  out.push('| --- | ---: | ---: | ---: | ---: |');
  for (const [suite, n] of Object.entries(c.counts)) out.push(`| ${suite} | ${n.applicable} | ${n.passed} | ${n.expectedFailures} | ${n.failed} |`);
  out.push('');
  const byReason = new Map<string, string[]>();
  for (const [test, reason] of Object.entries(c.expected)) {
    const tests = byReason.get(reason) ?? [];
    tests.push(test);
    byReason.set(reason, tests);
  }
  out.push(`Every expected failure (${Object.keys(c.expected).length}), by reason:`);
  out.push('');
  for (const [reason, tests] of [...byReason].sort((a, b) => b[1].length - a[1].length)) {
    out.push(`- **${escapeCell(reason)}** (${tests.length}): ${tests.map((t) => escapeCell(t)).join('; ')}`);
  }
  out.push('');
  return out;
}

function readConformance(countsPath: string | undefined): Conformance | undefined {
  if (!countsPath || !existsSync(countsPath)) return undefined;
  return {
    counts: JSON.parse(readFileSync(countsPath, 'utf8')) as Conformance['counts'],
    expected: JSON.parse(readFileSync('test/spec/expected-failures.json', 'utf8')) as Record<string, string>,
  };
}

function main(): void {
  const args = process.argv.slice(2);
  const specAt = args.indexOf('--spec');
  const countsPath = specAt >= 0 ? args.splice(specAt, 2)[1] : undefined;
  const logPath = args[0] ?? '.compat-log.jsonl';
  const outPath = args[1] ?? 'docs/compatibility.md';
  const usage = readUsage(logPath);
  writeFileSync(outPath, renderCompatibility(allCommands(), usage, logPath, readConformance(countsPath)));
  const ran = [...usage.values()].filter((u) => u.ok > 0).length;
  process.stdout.write(`wrote ${outPath}: ${allCommands().length} commands, ${ran} run successfully by tests\n`);
}

main();
