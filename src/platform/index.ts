export * from './clock.js';
export * from './random.js';
export * from './files.js';
export * from './disk.js';
