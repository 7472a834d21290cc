/** Combinators that compose generators: a weighted mix, all at once, one after another, over and over. */
import { NEMESIS, type Op, type ProcessId } from '../../checkers/index.js';
import type { GenContext, GenResult, Generator, OpSpec } from './generator.js';
import { nextFloat, type Rand } from './rand.js';
import { ask, check, idle } from './wait.js';

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
   * @param awaits which processes' in-flight ops hold the next phase back
   */
  constructor(
    readonly gens: readonly Generator[],
    readonly inflight: readonly ProcessId[],
    readonly claim: boolean,
    readonly awaits: (p: ProcessId) => boolean = () => true,
  ) {}
  op(ctx: GenContext): GenResult {
    for (let i = 0; i < this.gens.length; i++) {
      const g = this.gens[i] as Generator;
      const a = ask(g, ctx);
      if (a.kind === 'op') return { op: a.op, gen: new Phases([a.gen, ...this.gens.slice(i + 1)], this.inflight, true, this.awaits) };
      if (a.kind === 'wait') return idle(a.until, new Phases([a.gen, ...this.gens.slice(i + 1)], this.inflight, false, this.awaits), i > 0 || a.gen !== g);
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
      if (claim && this.awaits(event.process)) inflight = [...inflight, event.process];
      claim = false;
    } else if (inflight.includes(event.process)) {
      // Any completion ends the op — `info` too: the interpreter records it under the old
      // process id, before retiring that id.
      inflight = inflight.filter((p) => p !== event.process);
    }
    // Later phases see every event too, so they can follow state (which process holds what);
    // their clocks (timeLimit, rate) start at their first op, not at an event.
    return new Phases([current.update(ctx, event), ...rest.map((g) => g.update(ctx, event))], inflight, claim, this.awaits);
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

/**
 * Like {@link phases}, but a phase waits only for the nemesis's op of the previous one: client
 * ops still in flight carry on into the next phase. This is how a run moves from its main phase
 * to the final heal and the final phase on schedule — the heal must not wait for clients that the
 * fault it heals keeps blocked (they complete, or are abandoned, on their own deadline).
 */
export function phasesAwaitingNemesis(...gens: Generator[]): Generator {
  return new Phases(gens, [], false, (p) => p === NEMESIS);
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
