/**
 * Pure seeded randomness carried as a value: the state of a mulberry32 stream is a number that
 * generators keep in their own state, so asking a generator twice draws the same numbers.
 *
 * Every function takes a state and returns the draw with the next state; nothing is mutated.
 * The stream of `seedRand(s)` is the same as `prng(s)` of `../random.ts`.
 */

import { mulberry32 } from '../random.js';

/** A random state: a uint32, the state of a mulberry32 generator. */
export type Rand = number;

const TWO_32 = 4294967296;

/**
 * A random state from a seed.
 * @throws RangeError when `seed` is not a finite number.
 */
export function seedRand(seed: number): Rand {
  if (!Number.isFinite(seed)) throw new RangeError(`seed: expected a finite number, got ${seed}`);
  return seed >>> 0;
}

const step: (r: Rand) => [number, Rand] = mulberry32;

/** murmur3's finalizer: spreads a uint32 over all bits. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A draw in [0, 1) and the next state. */
export function nextFloat(r: Rand): [number, Rand] {
  const [u, next] = step(r);
  return [u / TWO_32, next];
}

/**
 * A draw in 0..n-1 and the next state.
 * @throws RangeError when `n` is not an integer in 1..2^32.
 */
export function nextInt(r: Rand, n: number): [number, Rand] {
  if (!Number.isInteger(n) || n < 1 || n > TWO_32) throw new RangeError(`n: expected an integer in 1..2^32, got ${n}`);
  const [f, next] = nextFloat(r);
  return [Math.floor(f * n), next];
}

/**
 * Two independent states from one, e.g. one for each sub-generator. The parent state should not
 * be used afterwards.
 *
 * Both children start at hashed draws of the parent, i.e. at random places of the same 2^32-long
 * mulberry32 cycle: two streams of a million draws each overlap with odds of about 1 in 2,000.
 */
export function split(r: Rand): [Rand, Rand] {
  const [a, r1] = step(r);
  const [b] = step(r1);
  return [fmix32(a ^ 0x9e3779b9), fmix32(b ^ 0x7f4a7c15)];
}
