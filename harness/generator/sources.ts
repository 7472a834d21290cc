/** The source generators: fixed ops, repeated ops, a step function, and a pause. */
import type { Op } from '../../checkers/index.js';
import type { GenContext, GenResult, Generator, OpSpec } from './generator.js';
import { check, nonNegative, wait } from './wait.js';

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
