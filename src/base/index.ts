export * from './codes.js';
export * from './errors.js';
export * from './limits.js';
export * from './crc32c.js';
