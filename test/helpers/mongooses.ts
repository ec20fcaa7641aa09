/**
 * The two mongoose majors the project checks against: 9 (the `mongoose` dependency) and 8 (the
 * `mongoose8` alias). The alias ships typings TypeScript cannot load under its alias name; its
 * runtime API is the one mongoose 9's types describe.
 */
import mongoose9 from 'mongoose';

const MONGOOSE8 = 'mongoose8';
const mongoose8 = ((await import(MONGOOSE8)) as { default: typeof mongoose9 }).default;

export const MONGOOSES: ReadonlyArray<readonly [label: string, mongoose: typeof mongoose9]> = [
  ['mongoose 9', mongoose9],
  ['mongoose 8', mongoose8],
];
