/** Wrappers that confine a generator: to `n` ops, to a span of time, to the clients or to the nemesis. */
import { NEMESIS, type Op, type ProcessId } from '../../checkers/index.js';
import type { GenContext, GenResult, Generator } from './generator.js';
import { ask, check, idle, nonNegative, wait } from './wait.js';

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
