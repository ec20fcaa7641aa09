export * from './journal.js';
export * from './checkpoint-store.js';
