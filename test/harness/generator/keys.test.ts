import assert from 'node:assert/strict';
import { keyName, keyShare, sampleKey, type KeyDistribution } from '../../../harness/generator/keys.js';
import { seedRand } from '../../../harness/generator/rand.js';

const DRAWS = 20_000;

/** The share of each key over DRAWS draws from seed `seed`. */
function shares(d: KeyDistribution, seed = 1): number[] {
  const counts = new Array<number>(d.count).fill(0);
  let r = seedRand(seed);
  for (let i = 0; i < DRAWS; i++) {
    let k: number;
    [k, r] = sampleKey(d, r);
    assert.ok(Number.isInteger(k) && k >= 0 && k < d.count, `key ${k} out of range`);
    counts[k] = (counts[k] as number) + 1;
  }
  return counts.map((c) => c / DRAWS);
}

function keys(d: KeyDistribution, seed: number, n = 30): number[] {
  let r = seedRand(seed);
  return Array.from({ length: n }, () => {
    let k: number;
    [k, r] = sampleKey(d, r);
    return k;
  });
}

describe('keys: key distributions', () => {
  it('uniform is flat: every key within ±1 pp of 1/count', () => {
    const s = shares({ kind: 'uniform', count: 10 });
    for (const x of s) assert.ok(Math.abs(x - 0.1) < 0.01, `shares ${s.join(' ')}`);
  });

  it('zipfian draws key 0 at its theoretical share 1/H(n,s) (±2 pp), more popular keys more often', () => {
    for (const exponent of [1, 1.5]) {
      const d: KeyDistribution = { kind: 'zipfian', count: 20, exponent };
      let h = 0;
      for (let i = 1; i <= 20; i++) h += 1 / i ** exponent;
      assert.ok(Math.abs(keyShare(d, 0) - 1 / h) < 1e-12);
      const s = shares(d);
      assert.ok(Math.abs((s[0] as number) - 1 / h) < 0.02, `exponent ${exponent}: key 0 share ${s[0]} vs ${1 / h}`);
      assert.ok((s[0] as number) > (s[1] as number) && (s[1] as number) > (s[4] as number) && (s[4] as number) > (s[19] as number));
    }
  });

  it('zipfian defaults to exponent 1', () => {
    assert.deepEqual(keys({ kind: 'zipfian', count: 50 }, 4), keys({ kind: 'zipfian', count: 50, exponent: 1 }, 4));
    assert.notDeepEqual(keys({ kind: 'zipfian', count: 50 }, 4), keys({ kind: 'zipfian', count: 50, exponent: 2 }, 4));
  });

  it('hot sends hotFraction of the draws to key 0 (±2 pp) and spreads the rest evenly', () => {
    for (const hotFraction of [0.5, 0.9, 0]) {
      const s = shares({ kind: 'hot', count: 5, hotFraction });
      assert.ok(Math.abs((s[0] as number) - hotFraction) < 0.02, `hot ${hotFraction}: ${s.join(' ')}`);
      for (const x of s.slice(1)) assert.ok(Math.abs(x - (1 - hotFraction) / 4) < 0.02, `hot ${hotFraction}: ${s.join(' ')}`);
    }
    const dflt = shares({ kind: 'hot', count: 5 });
    assert.ok(Math.abs((dflt[0] as number) - 0.5) < 0.02);
    assert.ok(Math.abs(keyShare({ kind: 'hot', count: 5, hotFraction: 0.9 }, 3) - 0.025) < 1e-12);
  });

  it('a single key is always key 0', () => {
    for (const d of [{ kind: 'uniform', count: 1 }, { kind: 'zipfian', count: 1 }, { kind: 'hot', count: 1, hotFraction: 0 }] as const) {
      assert.deepEqual(keys(d, 3, 10), new Array(10).fill(0));
      assert.equal(keyShare(d, 0), 1);
    }
  });

  it('same seed → same keys; different seeds → different keys', () => {
    for (const d of [{ kind: 'uniform', count: 100 }, { kind: 'zipfian', count: 100 }, { kind: 'hot', count: 100 }] as const) {
      assert.deepEqual(keys(d, 11), keys(d, 11));
      assert.notDeepEqual(keys(d, 11), keys(d, 12));
    }
  });

  it('rejects bad parameters with a RangeError naming the field', () => {
    const cases: [KeyDistribution, string][] = [
      [{ kind: 'uniform', count: 0 }, 'count'],
      [{ kind: 'uniform', count: 2.5 }, 'count'],
      [{ kind: 'zipfian', count: NaN }, 'count'],
      [{ kind: 'zipfian', count: 3, exponent: 0 }, 'exponent'],
      [{ kind: 'zipfian', count: 3, exponent: -1 }, 'exponent'],
      [{ kind: 'hot', count: 3, hotFraction: 1.5 }, 'hotFraction'],
      [{ kind: 'hot', count: 3, hotFraction: -0.1 }, 'hotFraction'],
      [{ kind: 'hot', count: 3, hotFraction: NaN }, 'hotFraction'],
      [{ kind: 'pareto', count: 3 } as unknown as KeyDistribution, 'kind'],
    ];
    for (const [d, field] of cases) {
      assert.throws(() => sampleKey(d, seedRand(1)), (e: unknown) => e instanceof RangeError && e.message.startsWith(`${field}:`), JSON.stringify(d));
    }
  });

  it('names keys with a prefix and a 1-based index', () => {
    assert.equal(keyName('l', 0), 'l1');
    assert.equal(keyName('key-', 41), 'key-42');
  });
});
