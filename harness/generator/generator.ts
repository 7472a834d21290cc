/**
 * The generator contract: generators are pure values, and one interpreter
 * ({@link ../interpreter.ts}) does all the I/O — Jepsen's `jepsen.generator` in TypeScript.
 *
 * `op(ctx)` asks for the next operation given the context (time, free processes). It returns
 * the op and the generator that follows it, `'pending'` (nothing now; ask again after the next
 * event or when time passes), or `null` (this generator is exhausted). Calling `op` has no side
 * effect, so the interpreter may ask, decide not to use the answer (e.g. the op lies in the
 * future and a completion arrives first), and ask again: randomness is therefore carried in the
 * generator value itself (see `rand.ts`), never drawn from a shared stream.
 *
 * `update(ctx, event)` returns the generator after an event happened (an invocation the
 * interpreter dispatched, or a completion); generators that do not care return themselves.
 *
 * `'pending'` carries no new state, so a generator that must remember something while it has
 * nothing to emit (when a sleep started) answers a *wait* instead: an op whose `f` is
 * `WAIT_F` of `combinators.ts`, never dispatched or recorded (see that file). While anything
 * is pending, the interpreter asks again at least every `pollNs` (10 ms by default).
 */
import type { Op, ProcessId } from '../../checkers/index.js';

/** An operation a generator asks for; the interpreter makes it an `invoke` event. */
export interface OpSpec {
  /** The function, e.g. `acquire` or `start-partition`. */
  readonly f: string;
  readonly value: unknown;
  /**
   * The process to run it: one of `ctx.free`. Absent: the lowest free client process (or the
   * nemesis, inside {@link nemesisOnly}).
   */
  readonly process?: ProcessId;
  /** When to invoke it, in ns since the run started; absent or past: now. */
  readonly time?: number;
  /**
   * Open loop: the time slot (ns) the op was scheduled for by a rate. The interpreter records it
   * on the invoke event as `scheduledTime`, and latency is measured from it, so that a stall
   * (every process busy, slots piling up) shows as latency instead of being hidden.
   */
  readonly scheduledTime?: number;
}

/** What a generator sees when asked for an op. */
export interface GenContext {
  /** Now, in ns since the run started. */
  readonly time: number;
  /** Processes whose threads are idle: client processes ascending, then `"nemesis"` if idle. */
  readonly free: readonly ProcessId[];
  /** Every thread's current process (busy or not), client threads ascending, then `"nemesis"`. */
  readonly processes: readonly ProcessId[];
}

/** The answer of {@link Generator.op}. */
export type GenResult = { readonly op: OpSpec; readonly gen: Generator } | 'pending' | null;

/** A pure generator of operations. */
export interface Generator {
  op(ctx: GenContext): GenResult;
  update(ctx: GenContext, event: Op): Generator;
}

/** What a client or the nemesis returns for an op; extra fields (e.g. `node`) are recorded. */
export interface Completion {
  readonly type: 'ok' | 'fail' | 'info';
  readonly value: unknown;
  readonly error?: unknown;
  readonly [extra: string]: unknown;
}
