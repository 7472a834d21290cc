/** Seeded randomness: the one PRNG behind reproducible generators, simulations and tests. */

/**
 * One mulberry32 step from state `a` (a uint32): the uint32 draw and the next state. The pure
 * form behind {@link prng} and the generators' `Rand` values (`generator/rand.ts`).
 */
export function mulberry32(a: number): [number, number] {
  const next = (a + 0x6d2b79f5) >>> 0;
  let t = next;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return [(t ^ (t >>> 14)) >>> 0, next];
}

/** mulberry32: a small, fast, seeded PRNG returning floats in [0, 1); the same seed, the same stream. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    const [u, next] = mulberry32(a);
    a = next;
    return u / 4294967296;
  };
}
