export * from './hlc.js';
