/** Logging through pino: JSON lines on stdout, as mongod writes structured logs. */
import { pino, type Logger as PinoLogger } from 'pino';
import type { Logger } from '../commands/index.js';

export type LogLevel = 'silent' | 'error' | 'warn' | 'info' | 'debug';

export function createLogger(level: LogLevel): Logger & { pino: PinoLogger } {
  const p = pino({ level, base: { s: 'dossier' }, timestamp: pino.stdTimeFunctions.isoTime });
  return {
    pino: p,
    info: (o, m) => p.info(o, m),
    warn: (o, m) => p.warn(o, m),
    error: (o, m) => p.error(o, m),
    debug: (o, m) => p.debug(o, m),
  };
}
