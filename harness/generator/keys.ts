/**
 * Key distributions: which of `count` keys an op touches. Uniform spreads load evenly, zipfian
 * skews it the way real key popularity does (key 0 the most popular, then 1, ...), and `hot`
 * sends a fixed share of all draws to key 0 (one contended key among quiet ones).
 *
 * Draws are pure: they take and return a {@link Rand} state.
 */
import { nextFloat, type Rand } from './rand.js';

/** How keys are drawn: a discriminated union on `kind`; keys are indices 0..count-1. */
export type KeyDistribution =
  | { readonly kind: 'uniform'; readonly count: number }
  | {
      readonly kind: 'zipfian';
      readonly count: number;
      /** Key i is drawn with weight 1/(i+1)^exponent. @default 1 */
      readonly exponent?: number;
    }
  | {
      readonly kind: 'hot';
      readonly count: number;
      /** Share of draws on key 0; the others are uniform over keys 1..count-1. @default 0.5 */
      readonly hotFraction?: number;
    };

function check(ok: boolean, field: string, expected: string, got: unknown): void {
  if (!ok) throw new RangeError(`${field}: expected ${expected}, got ${String(got)}`);
}

/**
 * Checks a distribution's parameters.
 * @throws RangeError naming the field: `count` (an integer ≥ 1), `exponent` (> 0), `hotFraction`
 * (in [0, 1]), or `kind`.
 */
export function validateKeyDistribution(d: KeyDistribution): void {
  check(Number.isInteger(d.count) && d.count >= 1, 'count', 'an integer ≥ 1', d.count);
  switch (d.kind) {
    case 'uniform':
      return;
    case 'zipfian': {
      const e = d.exponent ?? 1;
      check(Number.isFinite(e) && e > 0, 'exponent', 'a number > 0', d.exponent);
      return;
    }
    case 'hot': {
      const h = d.hotFraction ?? 0.5;
      check(h >= 0 && h <= 1, 'hotFraction', 'a number in [0, 1]', d.hotFraction);
      return;
    }
    default: {
      const never: never = d;
      throw new RangeError(`kind: expected uniform, zipfian or hot, got ${String((never as { kind: unknown }).kind)}`);
    }
  }
}

/** Zipfian CDFs by `count:exponent`; bounded, as a run uses one or two. */
const cdfs = new Map<string, Float64Array>();

function zipfCdf(count: number, exponent: number): Float64Array {
  const id = `${count}:${exponent}`;
  let cdf = cdfs.get(id);
  if (cdf) return cdf;
  cdf = new Float64Array(count);
  let sum = 0;
  for (let i = 0; i < count; i++) cdf[i] = sum += 1 / (i + 1) ** exponent;
  for (let i = 0; i < count; i++) cdf[i] = (cdf[i] as number) / sum;
  cdf[count - 1] = 1;
  if (cdfs.size >= 16) cdfs.clear();
  cdfs.set(id, cdf);
  return cdf;
}

/**
 * Draws a key index in 0..count-1 from `d`, returning it with the next random state.
 * @throws RangeError naming the bad field (see {@link validateKeyDistribution}).
 */
export function sampleKey(d: KeyDistribution, r: Rand): [number, Rand] {
  validateKeyDistribution(d);
  const [u, next] = nextFloat(r);
  switch (d.kind) {
    case 'uniform':
      return [Math.floor(u * d.count), next];
    case 'zipfian': {
      const cdf = zipfCdf(d.count, d.exponent ?? 1);
      let lo = 0;
      let hi = d.count - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if ((cdf[mid] as number) > u) hi = mid;
        else lo = mid + 1;
      }
      return [lo, next];
    }
    case 'hot': {
      const hot = d.hotFraction ?? 0.5;
      if (d.count === 1 || u < hot) return [0, next];
      // Reuse the same draw: (u - hot) / (1 - hot) is uniform in [0, 1) given u ≥ hot.
      return [1 + Math.min(d.count - 2, Math.floor(((u - hot) / (1 - hot)) * (d.count - 1))), next];
    }
  }
}

/**
 * The theoretical probability that {@link sampleKey} draws key `i` from `d` (0 outside
 * 0..count-1): for checking a sample, or for describing a run's skew.
 */
export function keyShare(d: KeyDistribution, i: number): number {
  validateKeyDistribution(d);
  if (!Number.isInteger(i) || i < 0 || i >= d.count) return 0;
  switch (d.kind) {
    case 'uniform':
      return 1 / d.count;
    case 'zipfian': {
      const cdf = zipfCdf(d.count, d.exponent ?? 1);
      return (cdf[i] as number) - (i === 0 ? 0 : (cdf[i - 1] as number));
    }
    case 'hot': {
      const hot = d.hotFraction ?? 0.5;
      if (d.count === 1) return 1;
      return i === 0 ? hot : (1 - hot) / (d.count - 1);
    }
  }
}

/** A key's name: `prefix` and the 1-based index, e.g. `keyName('l', 0)` is `"l1"`. */
export function keyName(prefix: string, i: number): string {
  return `${prefix}${i + 1}`;
}
