import { appendFileSync } from 'node:fs';

/** Appends one line to a file, synchronously (diagnostic logs only; the data path has its own disk seam). */
export function appendLineSync(path: string, line: string): void {
  appendFileSync(path, `${line}\n`);
}

/** An environment variable, read through the platform seam. */
export function environmentVariable(name: string): string | undefined {
  return process.env[name];
}
