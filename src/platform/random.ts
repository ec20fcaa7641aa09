import { randomBytes, randomInt } from 'node:crypto';

/** Randomness seam (ids, election ids, sampling), replaceable by a seeded source in tests. */
export interface RandomSource {
  bytes(n: number): Uint8Array;
  int(maxExclusive: number): number;
}

export const systemRandom: RandomSource = {
  bytes: (n) => randomBytes(n),
  int: (maxExclusive) => randomInt(maxExclusive),
};
