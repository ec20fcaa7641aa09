export { WireServer } from './server.js';
export { createLogger, type LogLevel } from './logger.js';
