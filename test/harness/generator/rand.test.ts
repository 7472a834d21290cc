import assert from 'node:assert/strict';
import { nextFloat, nextInt, seedRand, split, type Rand } from '../../../harness/generator/rand.js';
import { prng } from '../../../harness/random.js';

/** `n` floats drawn from `r`. */
function floats(r: Rand, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let x: number;
    [x, r] = nextFloat(r);
    out.push(x);
  }
  return out;
}

describe('rand: seeded randomness as a value', () => {
  it('draws the same stream as prng() of harness/random.ts', () => {
    const p = prng(42);
    assert.deepEqual(floats(seedRand(42), 100), Array.from({ length: 100 }, () => p()));
  });

  it('same seed → same draws; different seeds → different draws', () => {
    assert.deepEqual(floats(seedRand(7), 50), floats(seedRand(7), 50));
    assert.notDeepEqual(floats(seedRand(7), 50), floats(seedRand(8), 50));
  });

  it('is pure: drawing from a state twice gives the same draw and next state', () => {
    const r = seedRand(3);
    assert.deepEqual(nextFloat(r), nextFloat(r));
    assert.notEqual(nextFloat(r)[1], r);
  });

  it('floats lie in [0, 1) with mean ≈ 0.5', () => {
    const xs = floats(seedRand(1), 20_000);
    assert.ok(xs.every((x) => x >= 0 && x < 1));
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    assert.ok(Math.abs(mean - 0.5) < 0.01, `mean ${mean}`);
  });

  it('nextInt covers 0..n-1 about evenly', () => {
    const counts = new Array<number>(6).fill(0);
    let r = seedRand(9);
    for (let i = 0; i < 12_000; i++) {
      let k: number;
      [k, r] = nextInt(r, 6);
      counts[k] = (counts[k] as number) + 1;
    }
    assert.equal(counts.length, 6);
    for (const c of counts) assert.ok(Math.abs(c - 2000) < 150, `counts ${counts.join(' ')}`);
  });

  it('nextInt rejects a bad bound, naming it', () => {
    for (const n of [0, -1, 1.5, NaN]) assert.throws(() => nextInt(seedRand(1), n), (e: unknown) => e instanceof RangeError && /^n: /.test(e.message));
    assert.throws(() => seedRand(Infinity), /seed/);
  });

  it('split gives two different, reproducible streams, unlike the parent continuation', () => {
    const parent = seedRand(5);
    const [a, b] = split(parent);
    assert.deepEqual(split(parent), [a, b]);
    const sa = floats(a, 20);
    const sb = floats(b, 20);
    const sp = floats(nextFloat(parent)[1], 20);
    assert.notDeepEqual(sa, sb);
    for (const x of sa) assert.ok(!sb.includes(x) && !sp.includes(x));
    assert.notDeepEqual(split(seedRand(6)), [a, b]);
  });
});
