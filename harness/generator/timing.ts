/** Wrappers that time a generator's ops: an open-loop rate and a random stagger. */
import type { Op } from '../../checkers/index.js';
import type { GenContext, GenResult, Generator } from './generator.js';
import { nextFloat, seedRand, type Rand } from './rand.js';
import { ask, check, idle, nonNegative } from './wait.js';

/** Options of {@link rate}. */
export interface RateOptions {
  /**
   * The gaps between slots: `none` (exactly 1/rate), `uniform` (in [0, 2/rate)), or
   * `exponential` (mean 1/rate: Poisson arrivals). @default 'none'
   */
  readonly jitter?: 'none' | 'uniform' | 'exponential';
  /** The random state of the jitter. @default seedRand(0) */
  readonly rand?: Rand;
}

class Rate implements Generator {
  constructor(
    readonly gapNs: number,
    readonly jitter: NonNullable<RateOptions['jitter']>,
    readonly gen: Generator,
    readonly rand: Rand,
    readonly start: number | undefined,
    readonly k: number,
    readonly slot: number | undefined,
  ) {}
  op(ctx: GenContext): GenResult {
    const start = this.start ?? ctx.time;
    const slot = this.slot ?? start;
    const a = ask(this.gen, ctx);
    if (a.kind === 'done') return null;
    if (a.kind === 'wait') {
      const next = new Rate(this.gapNs, this.jitter, a.gen, this.rand, start, this.k, slot);
      return idle(a.until, next, this.start === undefined || a.gen !== this.gen);
    }
    const time = Math.max(slot, a.op.time ?? slot);
    let [u, rand] = [0, this.rand];
    if (this.jitter !== 'none') [u, rand] = nextFloat(rand);
    const following =
      this.jitter === 'none' ? start + (this.k + 1) * this.gapNs : slot + (this.jitter === 'uniform' ? 2 * u : -Math.log(1 - u)) * this.gapNs;
    return { op: { ...a.op, time, scheduledTime: time }, gen: new Rate(this.gapNs, this.jitter, a.gen, rand, start, this.k + 1, following) };
  }
  update(ctx: GenContext, event: Op): Generator {
    return new Rate(this.gapNs, this.jitter, this.gen.update(ctx, event), this.rand, this.start, this.k, this.slot);
  }
}

/**
 * `gen` at `opsPerSecond`, open loop: slot k lies at `start + k/rate` (with jitter: the gaps
 * vary), from when it is first asked. Each op gets `time` = its slot (or the inner op's later
 * time) and the same `scheduledTime`. Slots follow the clock, not the replies: when every
 * process is busy at a slot, its op goes out as soon as one frees, still carrying its
 * `scheduledTime`, so queueing shows as latency (no coordinated omission).
 * @throws RangeError when `opsPerSecond` is not a finite number > 0 or `jitter` is unknown.
 */
export function rate(opsPerSecond: number, gen: Generator, o: RateOptions = {}): Generator {
  check(Number.isFinite(opsPerSecond) && opsPerSecond > 0, 'opsPerSecond', 'a finite number > 0', opsPerSecond);
  const jitter = o.jitter ?? 'none';
  check(['none', 'uniform', 'exponential'].includes(jitter), 'jitter', 'none, uniform or exponential', jitter);
  return new Rate(1e9 / opsPerSecond, jitter, gen, o.rand ?? seedRand(0), undefined, 0, undefined);
}

class Stagger implements Generator {
  constructor(
    readonly meanNs: number,
    readonly gen: Generator,
    readonly rand: Rand,
    readonly next: number | undefined,
  ) {}
  op(ctx: GenContext): GenResult {
    const a = ask(this.gen, ctx);
    if (a.kind === 'done') return null;
    if (a.kind === 'wait') return idle(a.until, new Stagger(this.meanNs, a.gen, this.rand, this.next), a.gen !== this.gen);
    const time = Math.max(a.op.time ?? ctx.time, this.next ?? ctx.time);
    const [u, rand] = nextFloat(this.rand);
    return { op: { ...a.op, time }, gen: new Stagger(this.meanNs, a.gen, rand, time + u * 2 * this.meanNs) };
  }
  update(ctx: GenContext, event: Op): Generator {
    return new Stagger(this.meanNs, this.gen.update(ctx, event), this.rand, this.next);
  }
}

/**
 * `gen` with each op timed at least a uniform random [0, 2·meanNs) after the previous one's
 * time (Jepsen's `stagger`): a closed-ish loop with no `scheduledTime`.
 * @throws RangeError when `meanNs` is negative.
 */
export function stagger(meanNs: number, gen: Generator, rand: Rand): Generator {
  check(nonNegative(meanNs), 'meanNs', 'a number ≥ 0', meanNs);
  return new Stagger(meanNs, gen, rand, undefined);
}
