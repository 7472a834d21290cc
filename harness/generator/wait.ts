/** Waits (the convention described in `combinators.ts`) and the helpers every combinator shares: internal, not re-exported. */
import type { GenContext, GenResult, Generator, OpSpec } from './generator.js';

/** The `f` of a wait (see the doc of `combinators.ts`): a pseudo-op that is never dispatched nor recorded. */
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
export type Answer =
  | { readonly kind: 'op'; readonly op: OpSpec; readonly gen: Generator }
  | { readonly kind: 'wait'; readonly until: number; readonly gen: Generator }
  | { readonly kind: 'done' };

const DONE: Answer = { kind: 'done' };

/** Asks `gen` for an op and normalizes its answer (see {@link Answer}). */
export function ask(gen: Generator, ctx: GenContext): Answer {
  const r = gen.op(ctx);
  if (r === null) return DONE;
  if (r === 'pending') return { kind: 'wait', until: Infinity, gen };
  if (isWait(r.op)) return { kind: 'wait', until: r.op.time ?? Infinity, gen: r.gen };
  return { kind: 'op', op: r.op, gen: r.gen };
}

/** Nothing now: a plain `'pending'` when neither the state changed nor a wake-up time is known. */
export function idle(until: number, next: Generator, changed: boolean): GenResult {
  return changed || until !== Infinity ? wait(until, next) : 'pending';
}

/** Argument check: throws a RangeError naming `arg`, what was `expected` and what it `got`, unless `ok`. */
export function check(ok: boolean, arg: string, expected: string, got: unknown): void {
  if (!ok) throw new RangeError(`${arg}: expected ${expected}, got ${String(got)}`);
}

/** Is `n` a finite number ≥ 0? */
export const nonNegative = (n: number): boolean => Number.isFinite(n) && n >= 0;
