/**
 * For the compatibility table: when DOSSIER_COMMAND_LOG names a file, every command the server
 * answers is recorded there (name, the fields it was given, whether it succeeded), so
 * docs/compatibility.md is measured from what the test suite really exercised.
 */
import type { Document } from '../bson/index.js';
import { appendLineSync, environmentVariable } from '../platform/index.js';

const target = environmentVariable('DOSSIER_COMMAND_LOG');

export function recordCommandUsage(name: string, body: Document, ok: boolean, code: number | undefined): void {
  if (!target) return;
  const fields = Object.keys(body).slice(1).filter((k) => k !== '$db' && k !== 'lsid' && k !== '$clusterTime');
  appendLineSync(target, JSON.stringify({ command: name, fields, ok, code }));
}
