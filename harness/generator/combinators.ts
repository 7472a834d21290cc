/**
 * The generator combinators: small pure generators and the wrappers that compose them (Jepsen's
 * `jepsen.generator`). Each is an immutable object; `op` and `update` return new objects.
 *
 * Waiting with state — a convention of these files on top of {@link GenResult}: a plain
 * `'pending'` carries no successor, so a generator that must remember something while it has
 * nothing to emit (when a {@link sleep} or a {@link timeLimit} started, that {@link phases} moved
 * on) answers a *wait* instead: `{op: {f: WAIT_F, value: null, time: until}, gen}` (see
 * {@link wait}). It means "nothing before `until` (ns; `Infinity`: unknown), and `gen` is my
 * state after being asked". The interpreter never dispatches or records it: it adopts `gen`
 * and asks again at `until` or at the next completion, whichever comes first, and in any case
 * at least every `pollNs` (so generators that answer `'pending'` until some time also work).
 * Combinators adopt their children's wait states; a wrapper written elsewhere that passes ops
 * through unchanged keeps the convention too, but one that counts or retimes ops must let
 * waits ({@link isWait}) pass untouched.
 *
 * An op leaving `process` out runs on the lowest free client (the interpreter fills it in), or
 * on the nemesis inside {@link nemesisOnly}.
 */
import { NEMESIS, type Op, type ProcessId } from '../../checkers/index.js';
import type { GenContext, GenResult, Generator, OpSpec } from './generator.js';
import { nextFloat, seedRand, type Rand } from './rand.js';

/** The `f` of a wait (see the file's doc): a pseudo-op that is never dispatched nor recorded. */
export const WAIT_F = 'generator/wait';

/** A wait answer: nothing before `until` (ns since the run started), and `gen` is the state. */
export function wait(until: number, gen: Generator): GenResult {
  return { op: { f: WAIT_F, value: null, time: until }, gen };
}

/** Is this op a wait (see {@link wait}) rather than an operation to dispatch? */
export function isWait(op: OpSpec): boolean {
  return op.f === WAIT_F;
}

/** A child's answer, normalized: an op, a wait (a plain `'pending'` is a wait until `Infinity` in the same state), or done. */
type Answer =
  | { readonly kind: 'op'; readonly op: OpSpec; readonly gen: Generator }
  | { readonly kind: 'wait'; readonly until: number; readonly gen: Generator }
  | { readonly kind: 'done' };

const DONE: Answer = { kind: 'done' };

function ask(gen: Generator, ctx: GenContext): Answer {
  const r = gen.op(ctx);
  if (r === null) return DONE;
  if (r === 'pending') return { kind: 'wait', until: Infinity, gen };
  if (isWait(r.op)) return { kind: 'wait', until: r.op.time ?? Infinity, gen: r.gen };
  return { kind: 'op', op: r.op, gen: r.gen };
}

/** Nothing now: a plain `'pending'` when neither the state changed nor a wake-up time is known. */
function idle(until: number, next: Generator, changed: boolean): GenResult {
  return changed || until !== Infinity ? wait(until, next) : 'pending';
}

function check(ok: boolean, arg: string, expected: string, got: unknown): void {
  if (!ok) throw new RangeError(`${arg}: expected ${expected}, got ${String(got)}`);
}

const nonNegative = (n: number): boolean => Number.isFinite(n) && n >= 0;

// ——— sources ———

class Ops implements Generator {
  constructor(
    readonly specs: readonly OpSpec[],
    readonly i: number,
  ) {}
  op(): GenResult {
    const spec = this.specs[this.i];
    return spec === undefined ? null : { op: spec, gen: new Ops(this.specs, this.i + 1) };
  }
  update(): Generator {
    return this;
  }
}

/** A generator of these ops, in order, then exhausted. */
export function ops(specs: readonly OpSpec[]): Generator {
  return new Ops([...specs], 0);
}

/** A generator of one op, then exhausted. */
export function once(spec: OpSpec): Generator {
  return ops([spec]);
}

class Repeat implements Generator {
  constructor(readonly spec: OpSpec | ((ctx: GenContext) => OpSpec)) {}
  op(ctx: GenContext): GenResult {
    return { op: typeof this.spec === 'function' ? this.spec(ctx) : this.spec, gen: this };
  }
  update(): Generator {
    return this;
  }
}

/** An endless generator of `spec`, or of what the (pure) function makes of each context. */
export function repeat(spec: OpSpec | ((ctx: GenContext) => OpSpec)): Generator {
  return new Repeat(spec);
}

/** The step function of {@link fromFunction}: the op and the next state, `'pending'`, or `null` (exhausted). */
export type GenStep<S> = (ctx: GenContext, state: S) => readonly [OpSpec, S] | 'pending' | null;

class FromFunction<S> implements Generator {
  constructor(
    readonly state: S,
    readonly step: GenStep<S>,
    readonly onEvent: ((ctx: GenContext, state: S, event: Op) => S) | undefined,
  ) {}
  op(ctx: GenContext): GenResult {
    const r = this.step(ctx, this.state);
    if (r === null || r === 'pending') return r;
    return { op: r[0], gen: new FromFunction(r[1], this.step, this.onEvent) };
  }
  update(ctx: GenContext, event: Op): Generator {
    return this.onEvent ? new FromFunction(this.onEvent(ctx, this.state, event), this.step, this.onEvent) : this;
  }
}

/**
 * A stateful pure generator from a state and a step function: the building block of workloads.
 * Keep randomness in the state as a {@link Rand}; `update` (optional) folds events into it.
 */
export function fromFunction<S>(state: S, step: GenStep<S>, update?: (ctx: GenContext, state: S, event: Op) => S): Generator {
  return new FromFunction(state, step, update);
}

class Sleep implements Generator {
  constructor(
    readonly ns: number,
    readonly end: number | undefined,
  ) {}
  op(ctx: GenContext): GenResult {
    const end = this.end ?? ctx.time + this.ns;
    return ctx.time >= end ? null : wait(end, this.end === undefined ? new Sleep(this.ns, end) : this);
  }
  update(): Generator {
    return this;
  }
}

/**
 * A generator that emits nothing and is exhausted `ns` after it is first asked: a pause, e.g.
 * between the phases of a nemesis schedule.
 * @throws RangeError when `ns` is negative.
 */
export function sleep(ns: number): Generator {
  check(nonNegative(ns), 'ns', 'a number ≥ 0', ns);
  return new Sleep(ns, undefined);
}

// ——— limits ———

class Limit implements Generator {
  constructor(
    readonly n: number,
    readonly gen: Generator,
  ) {}
  op(ctx: GenContext): GenResult {
    if (this.n <= 0) return null;
    const a = ask(this.gen, ctx);
    if (a.kind === 'done') return null;
    if (a.kind === 'wait') return idle(a.until, new Limit(this.n, a.gen), a.gen !== this.gen);
    return { op: a.op, gen: new Limit(this.n - 1, a.gen) };
  }
  update(ctx: GenContext, event: Op): Generator {
    return new Limit(this.n, this.gen.update(ctx, event));
  }
}

/**
 * At most `n` ops of `gen`.
 * @throws RangeError when `n` is not an integer ≥ 0.
 */
export function limit(n: number, gen: Generator): Generator {
  check(Number.isInteger(n) && n >= 0, 'n', 'an integer ≥ 0', n);
  return new Limit(n, gen);
}

class TimeLimit implements Generator {
  constructor(
    readonly ns: number,
    readonly gen: Generator,
    readonly deadline: number | undefined,
  ) {}
  op(ctx: GenContext): GenResult {
    const deadline = this.deadline ?? ctx.time + this.ns;
    if (ctx.time >= deadline) return null;
    const a = ask(this.gen, ctx);
    if (a.kind === 'done') return null;
    if (a.kind === 'wait') return wait(Math.min(a.until, deadline), new TimeLimit(this.ns, a.gen, deadline));
    if ((a.op.time ?? ctx.time) >= deadline) return wait(deadline, new TimeLimit(this.ns, this.gen, deadline));
    return { op: a.op, gen: new TimeLimit(this.ns, a.gen, deadline) };
  }
  update(ctx: GenContext, event: Op): Generator {
    return new TimeLimit(this.ns, this.gen.update(ctx, event), this.deadline);
  }
}

/**
 * `gen` for `ns`: the limit starts when it is first asked (Jepsen's behaviour); ops timed at or
 * past the deadline are not emitted, and at the deadline it is exhausted. Put it outside
 * {@link rate}, whose ops lie in the future.
 * @throws RangeError when `ns` is negative.
 */
export function timeLimit(ns: number, gen: Generator): Generator {
  check(nonNegative(ns), 'ns', 'a number ≥ 0', ns);
  return new TimeLimit(ns, gen, undefined);
}

// ——— routing ———

type Side = 'clients' | 'nemesis';

const onSide = (side: Side, p: ProcessId): boolean => (side === 'clients' ? typeof p === 'number' : p === NEMESIS);

function restrict(side: Side, ctx: GenContext): GenContext {
  const keep = (p: ProcessId): boolean => onSide(side, p);
  return { time: ctx.time, free: ctx.free.filter(keep), processes: ctx.processes.filter(keep) };
}

class OnSide implements Generator {
  constructor(
    readonly side: Side,
    readonly gen: Generator,
  ) {}
  op(ctx: GenContext): GenResult {
    const sub = restrict(this.side, ctx);
    if (sub.processes.length === 0) return null;
    const a = ask(this.gen, sub);
    if (a.kind === 'done') return null;
    if (a.kind === 'wait') return idle(a.until, new OnSide(this.side, a.gen), a.gen !== this.gen);
    const named = a.op.process;
    if (named !== undefined && !onSide(this.side, named)) {
      throw new Error(`${this.side}Only: the inner generator asked for process ${JSON.stringify(named)}, which is not ${this.side === 'clients' ? 'a client' : 'the nemesis'}`);
    }
    const process = named ?? sub.free[0];
    if (process === undefined) return 'pending';
    return { op: named === undefined ? { ...a.op, process } : a.op, gen: new OnSide(this.side, a.gen) };
  }
  update(ctx: GenContext, event: Op): Generator {
    return onSide(this.side, event.process) ? new OnSide(this.side, this.gen.update(restrict(this.side, ctx), event)) : this;
  }
}

/**
 * `gen` on client processes only: it sees only them in `ctx.free`/`ctx.processes` and only
 * their events; an op without a process goes to the lowest free client (`'pending'` when none
 * is free). Exhausted when the run has no clients.
 */
export function clientsOnly(gen: Generator): Generator {
  return new OnSide('clients', gen);
}

/**
 * `gen` on the nemesis only: it sees only `"nemesis"` in `ctx.free`/`ctx.processes` and only its
 * events; its ops go to the nemesis (`'pending'` while it is busy). Exhausted when the run has
 * no nemesis.
 */
export function nemesisOnly(gen: Generator): Generator {
  return new OnSide('nemesis', gen);
}

// ——— composition ———

/** One choice of {@link mix}: a sub-generator and its weight (> 0). */
export interface Weighted {
  readonly weight: number;
  readonly gen: Generator;
}

class Mix implements Generator {
  constructor(
    readonly entries: readonly Weighted[],
    readonly rand: Rand,
  ) {}
  op(ctx: GenContext): GenResult {
    const next: (Weighted | undefined)[] = [...this.entries];
    const open = this.entries.map((_, i) => i);
    let rand = this.rand;
    let until = Infinity;
    let changed = false;
    while (open.length > 0) {
      let x: number;
      [x, rand] = nextFloat(rand);
      x *= open.reduce((sum, i) => sum + (this.entries[i] as Weighted).weight, 0);
      let k = 0;
      for (; k < open.length - 1; k++) {
        x -= (this.entries[open[k] as number] as Weighted).weight;
        if (x < 0) break;
      }
      const i = open.splice(k, 1)[0] as number;
      const e = this.entries[i] as Weighted;
      const a = ask(e.gen, ctx);
      if (a.kind === 'done') {
        next[i] = undefined;
        changed = true;
        continue;
      }
      next[i] = { weight: e.weight, gen: a.gen };
      if (a.kind === 'op') return { op: a.op, gen: new Mix(next.filter((w) => w !== undefined), rand) };
      changed ||= a.gen !== e.gen;
      until = Math.min(until, a.until);
    }
    const live = next.filter((w) => w !== undefined);
    return live.length === 0 ? null : idle(until, new Mix(live, rand), changed);
  }
  update(ctx: GenContext, event: Op): Generator {
    return new Mix(this.entries.map((e) => ({ weight: e.weight, gen: e.gen.update(ctx, event) })), this.rand);
  }
}

/**
 * A weighted random choice among sub-generators for each op: a pending or exhausted choice is
 * skipped for another; exhausted when all are. Every event goes to all of them.
 * @throws RangeError when `entries` is empty or a weight is not a finite number > 0.
 */
export function mix(entries: readonly Weighted[], rand: Rand): Generator {
  check(entries.length > 0, 'entries', 'at least one entry', 'none');
  entries.forEach((e, i) => check(Number.isFinite(e.weight) && e.weight > 0, `entries[${i}].weight`, 'a finite number > 0', e.weight));
  return new Mix([...entries], rand);
}

class Any implements Generator {
  constructor(readonly gens: readonly Generator[]) {}
  op(ctx: GenContext): GenResult {
    const next: (Generator | undefined)[] = [...this.gens];
    let best: { i: number; op: OpSpec; gen: Generator; time: number } | undefined;
    let until = Infinity;
    let changed = false;
    this.gens.forEach((g, i) => {
      const a = ask(g, ctx);
      if (a.kind === 'done') {
        next[i] = undefined;
        changed = true;
      } else if (a.kind === 'wait') {
        next[i] = a.gen;
        changed ||= a.gen !== g;
        until = Math.min(until, a.until);
      } else {
        const time = a.op.time ?? ctx.time;
        if (best === undefined || time < best.time) best = { i, op: a.op, gen: a.gen, time };
      }
    });
    if (best !== undefined && best.time <= until) {
      next[best.i] = best.gen;
      return { op: best.op, gen: new Any(next.filter((g) => g !== undefined)) };
    }
    const live = next.filter((g) => g !== undefined);
    // A child waking before the soonest op may emit an earlier one: wait for it instead.
    return live.length === 0 ? null : idle(until, new Any(live), changed);
  }
  update(ctx: GenContext, event: Op): Generator {
    return new Any(this.gens.map((g) => g.update(ctx, event)));
  }
}

/**
 * All of `gens` at once: asks each and emits the op with the soonest time (ties: the first);
 * every event goes to all. Exhausted when all are. E.g. `any(clientsOnly(w), nemesisOnly(n))`.
 */
export function any(...gens: Generator[]): Generator {
  return new Any(gens);
}

class Phases implements Generator {
  /**
   * @param gens the current phase and those after it
   * @param inflight processes running an op this generator emitted
   * @param claim whether the next invoke event is that of the op just emitted
   */
  constructor(
    readonly gens: readonly Generator[],
    readonly inflight: readonly ProcessId[],
    readonly claim: boolean,
  ) {}
  op(ctx: GenContext): GenResult {
    for (let i = 0; i < this.gens.length; i++) {
      const g = this.gens[i] as Generator;
      const a = ask(g, ctx);
      if (a.kind === 'op') return { op: a.op, gen: new Phases([a.gen, ...this.gens.slice(i + 1)], this.inflight, true) };
      if (a.kind === 'wait') return idle(a.until, new Phases([a.gen, ...this.gens.slice(i + 1)], this.inflight, false), i > 0 || a.gen !== g);
      // Only an empty in-flight set lets a phase end; after the first, it is empty.
      if (this.inflight.length > 0) return 'pending';
    }
    return null;
  }
  update(ctx: GenContext, event: Op): Generator {
    const [current, ...rest] = this.gens;
    if (current === undefined) return this;
    let { inflight, claim } = this;
    if (event.type === 'invoke') {
      if (claim) inflight = [...inflight, event.process];
      claim = false;
    } else if (inflight.includes(event.process)) {
      // Any completion ends the op — `info` too: the interpreter records it under the old
      // process id, before retiring that id.
      inflight = inflight.filter((p) => p !== event.process);
    }
    // Later phases see every event too, so they can follow state (which process holds what);
    // their clocks (timeLimit, rate) start at their first op, not at an event.
    return new Phases([current.update(ctx, event), ...rest.map((g) => g.update(ctx, event))], inflight, claim);
  }
}

/**
 * `gens` one after another: each runs until exhausted, and the next starts only once every op
 * the previous ones emitted has completed (Jepsen's `phases`). Every event goes to every phase
 * not yet finished — unlike Jepsen, so that a later phase can follow state from earlier ones (the
 * lock workload's final phase knows who holds which lock); a later phase's time limit and rate
 * still start at its first op.
 */
export function phases(...gens: Generator[]): Generator {
  return new Phases(gens, [], false);
}

class Cycle implements Generator {
  constructor(
    readonly first: Generator,
    readonly current: Generator,
  ) {}
  op(ctx: GenContext): GenResult {
    let a = ask(this.current, ctx);
    let restarted = false;
    if (a.kind === 'done') {
      a = ask(this.first, ctx);
      restarted = true;
    }
    if (a.kind === 'done') return null;
    if (a.kind === 'wait') return idle(a.until, new Cycle(this.first, a.gen), restarted || a.gen !== this.current);
    return { op: a.op, gen: new Cycle(this.first, a.gen) };
  }
  update(ctx: GenContext, event: Op): Generator {
    return new Cycle(this.first, this.current.update(ctx, event));
  }
}

/** `gen` over and over: when exhausted, it starts again as it was given; exhausted only if `gen` emits nothing at all. */
export function cycle(gen: Generator): Generator {
  return new Cycle(gen, gen);
}

// ——— timing ———

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
