/**
 * The generator interpreter: the one place where generators meet I/O (Jepsen's
 * `jepsen.generator.interpreter`). It asks the generator for ops, invokes the client or the
 * nemesis on free threads, records every invocation and completion, and feeds each back to the
 * generator.
 *
 * Threads: client threads 0..concurrency-1 start as processes 0..concurrency-1; when a client op
 * completes with `info` its outcome is unknown, so the thread takes a fresh process
 * (`process + concurrency`) and the old one never issues another op. The nemesis thread, present
 * only when a nemesis is given, is always `"nemesis"`.
 */
import { NEMESIS, type Op, type ProcessId } from '../../checkers/index.js';
import { isWait } from './combinators.js';
import { errorMessage } from '../../cluster/errors.js';
import type { Completion, GenContext, Generator } from './generator.js';

/** Time as the interpreter sees it: real for runs, virtual for tests. */
export interface Clock {
  /** ns since the run started */
  now(): number;
  /** resolves after ns, or early (without throwing) when signal aborts */
  sleep(ns: number, signal?: AbortSignal): Promise<void>;
}

/** The real clock: monotonic ns since `startNs` (`process.hrtime.bigint()` at run start, default now). */
export function realClock(startNs: bigint = process.hrtime.bigint()): Clock {
  return {
    now: () => Number(process.hrtime.bigint() - startNs),
    sleep: (ns, signal) =>
      new Promise<void>((resolve) => {
        if (signal?.aborted || !(ns > 0)) return resolve();
        const done = (): void => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, Math.ceil(ns / 1e6));
        signal?.addEventListener('abort', done, { once: true });
      }),
  };
}

/** Options of {@link interpret}. */
export interface InterpretOptions {
  readonly gen: Generator;
  /** Client threads 0..n-1; thread t starts as process t. An integer ≥ 0. */
  readonly concurrency: number;
  /** Performs a client op, called with its invoke event. A rejection becomes an `info` completion. */
  readonly client: (op: Op) => Promise<Completion>;
  /** Performs a nemesis op; the `"nemesis"` thread exists only when given. */
  readonly nemesis?: (op: Op) => Promise<Completion>;
  /** @default realClock() */
  readonly clock?: Clock;
  /** Called with every event as recorded (for progress lines and streaming to disk). */
  readonly onEvent?: (event: Op) => void;
  /**
   * Stop: ask for no new op; invoke {@link stopOp} on the nemesis (as soon as its thread is free),
   * give the client ops in flight {@link drainNs} to complete, then return.
   */
  readonly signal?: AbortSignal;
  /**
   * The nemesis op that undoes every fault when the signal stops the run (e.g. `{f: 'heal'}`):
   * invoked at once, or as soon as the nemesis's op in flight completes, and recorded like any
   * op. Absent: nothing is undone here.
   */
  readonly stopOp?: { readonly f: string; readonly value: unknown };
  /**
   * How long client ops still in flight when the run ends (the generator is exhausted, or the
   * signal stopped it) may take to complete, in ns; past it each is recorded as an `info`
   * completion — abandoned, its outcome unknown — and its thread retires the process. Nemesis ops
   * are always awaited. @default Infinity (wait for every op)
   */
  readonly drainNs?: number;
  /** Events are appended here (indices continue from its length). @default [] */
  readonly history?: Op[];
  /** The longest wait before the generator is asked again while it has nothing to emit, in ns. @default 10 ms */
  readonly pollNs?: number;
}

/** The outcome of {@link interpret}. */
export interface InterpretResult {
  readonly history: Op[];
  /** Whether the signal stopped the run before the generator was exhausted. */
  readonly aborted: boolean;
  /** Client ops recorded as `info` because they were still in flight {@link InterpretOptions.drainNs} after the end. */
  readonly abandoned: number;
}

/** The `error` of an op abandoned at the end of a run. */
export const ABANDONED_ERROR = 'abandoned: the run ended before the op completed (outcome unknown)';

/** Waits ending in the past allowed in a row before the generator is declared stuck. */
const MAX_IMMEDIATE_WAITS = 10_000;

interface Thread {
  process: ProcessId;
  busy: boolean;
  f: string;
  /** The value of the op in flight (an abandoned op's `info` carries it). */
  value: unknown;
  /** Counts the ops this thread started; a completion of an older one (abandoned) is dropped. */
  started: number;
}

/** Fields of a completion event the interpreter sets itself; a client's are dropped. */
const RESERVED: ReadonlySet<string> = new Set(['index', 'type', 'f', 'process', 'time']);

/** The completion a client returned, or an `info` saying what was wrong with it. */
function asCompletion(c: unknown, invoke: Op): Completion {
  if (c !== null && typeof c === 'object' && ['ok', 'fail', 'info'].includes((c as Completion).type)) return c as Completion;
  let got: string;
  try {
    got = JSON.stringify(c) ?? String(c);
  } catch {
    got = String(c);
  }
  return { type: 'info', value: invoke.value, error: `invalid completion from the client: ${got}` };
}

/**
 * Runs `gen` to exhaustion (or until `signal` aborts) against the client and the nemesis, and
 * returns the history. Ops are invoked when their process is free and their time has come; a
 * client that throws yields an `info` completion with the error's message, never a crash.
 * @throws RangeError on bad options; Error when the generator names a busy or unknown process.
 */
export async function interpret(o: InterpretOptions): Promise<InterpretResult> {
  if (!Number.isInteger(o.concurrency) || o.concurrency < 0) throw new RangeError(`concurrency: expected an integer ≥ 0, got ${o.concurrency}`);
  const pollNs = o.pollNs ?? 10_000_000;
  if (!(pollNs > 0) || !Number.isFinite(pollNs)) throw new RangeError(`pollNs: expected a finite number > 0, got ${pollNs}`);
  const clock = o.clock ?? realClock();
  const history = o.history ?? [];
  const drainNs = o.drainNs ?? Infinity;
  if (!(drainNs >= 0)) throw new RangeError(`drainNs: expected a number ≥ 0, got ${drainNs}`);
  const threads: Thread[] = Array.from({ length: o.concurrency }, (_, t) => ({ process: t, busy: false, f: '', value: null, started: 0 }));
  if (o.nemesis) threads.push({ process: NEMESIS, busy: false, f: '', value: null, started: 0 });
  const byProcess = new Map<ProcessId, number>(threads.map((th, t) => [th.process, t]));

  const settled: { thread: number; started: number; completion: Completion }[] = [];
  let wake: (() => void) | undefined;
  let inFlight = 0;
  let gen = o.gen;

  const record = (event: Op): void => {
    history.push(event);
    o.onEvent?.(event);
  };

  const context = (): GenContext => {
    const free: number[] = [];
    const processes: ProcessId[] = [];
    for (const th of threads) {
      if (th.process === NEMESIS) continue;
      processes.push(th.process);
      if (!th.busy) free.push(th.process as number);
    }
    free.sort((a, b) => a - b);
    const nemesis = o.nemesis ? threads[threads.length - 1] : undefined;
    if (nemesis) processes.push(NEMESIS);
    return { time: clock.now(), free: nemesis && !nemesis.busy ? [...free, NEMESIS] : free, processes };
  };

  /** Records the completions that arrived, in order, and feeds them to the generator. */
  const drain = (): void => {
    for (const { thread, started, completion } of settled.splice(0)) {
      const th = threads[thread] as Thread;
      if (started !== th.started || !th.busy) continue; // an abandoned op's late completion
      complete(thread, completion);
    }
  };

  /** Records the completion of `thread`'s op in flight and frees the thread. */
  const complete = (thread: number, completion: Completion): void => {
    const th = threads[thread] as Thread;
    const { type, value, error, ...rest } = completion;
    const extra = Object.fromEntries(Object.entries(rest).filter(([k]) => !RESERVED.has(k)));
    const event: Op = { index: history.length, type, f: th.f, value: value === undefined ? null : value, process: th.process, time: clock.now(), ...(error === undefined ? {} : { error }), ...extra };
    record(event);
    th.busy = false;
    inFlight--;
    if (type === 'info' && typeof th.process === 'number') {
      byProcess.delete(th.process);
      th.process += o.concurrency;
      byProcess.set(th.process, thread);
    }
    gen = gen.update(context(), event);
  };

  let onAbort: (() => void) | undefined;
  const aborted = o.signal
    ? new Promise<void>((resolve) => {
        onAbort = () => resolve();
        if (o.signal?.aborted) resolve();
        else o.signal?.addEventListener('abort', onAbort, { once: true });
      })
    : undefined;

  /** Waits for the next completion, `ns` (if finite), or (when `watchAbort`) the abort. */
  const waitFor = async (ns: number, watchAbort: boolean): Promise<void> => {
    if (settled.length > 0) return;
    const timer = new AbortController();
    const races = [new Promise<void>((r) => (wake = r))];
    if (Number.isFinite(ns)) races.push(clock.sleep(ns, timer.signal));
    if (watchAbort && aborted) races.push(aborted);
    await Promise.race(races);
    timer.abort();
    wake = undefined;
  };

  const start = (thread: number, invoke: Op): void => {
    const th = threads[thread] as Thread;
    const started = ++th.started;
    const call = invoke.process === NEMESIS ? (o.nemesis as NonNullable<typeof o.nemesis>) : o.client;
    let p: Promise<Completion>;
    try {
      p = Promise.resolve(call(invoke));
    } catch (e) {
      p = Promise.reject(e);
    }
    p.then(
      (c) => asCompletion(c, invoke),
      (e: unknown): Completion => ({ type: 'info', value: invoke.value, error: errorMessage(e) }),
    ).then((completion) => {
      settled.push({ thread, started, completion });
      wake?.();
    });
  };

  /** Records the invoke of `op` on `thread` (now) and starts it. */
  const dispatch = (thread: number, op: { readonly f: string; readonly value?: unknown; readonly scheduledTime?: number }, now: number): void => {
    const th = threads[thread] as Thread;
    const invoke: Op = {
      index: history.length,
      type: 'invoke',
      f: op.f,
      value: op.value === undefined ? null : op.value,
      process: th.process,
      time: now,
      ...(op.scheduledTime === undefined ? {} : { scheduledTime: op.scheduledTime }),
    };
    record(invoke);
    th.busy = true;
    th.f = op.f;
    th.value = invoke.value;
    inFlight++;
    gen = gen.update(context(), invoke);
    start(thread, invoke);
  };

  let stoppedByAbort = false;
  let immediateWaits = 0;
  try {
    for (;;) {
      drain();
      if (o.signal?.aborted) {
        stoppedByAbort = true;
        break;
      }
      const ctx = context();
      const now = ctx.time;
      const r = gen.op(ctx);
      if (r === null) break;
      if (r === 'pending') {
        await waitFor(pollNs, true);
        continue;
      }
      const { op } = r;
      const time = op.time ?? now;
      if (isWait(op)) {
        gen = r.gen;
        if (time > now) {
          immediateWaits = 0;
          await waitFor(Math.min(time - now, pollNs), true);
        } else if (++immediateWaits > MAX_IMMEDIATE_WAITS) {
          throw new Error(`generator bug: ${MAX_IMMEDIATE_WAITS} waits in a row ended in the past; it makes no progress`);
        }
        continue;
      }
      immediateWaits = 0;
      if (time > now) {
        await waitFor(Math.min(time - now, pollNs), true);
        continue;
      }
      const process = op.process ?? ctx.free.find((p) => typeof p === 'number');
      if (process === undefined) {
        await waitFor(pollNs, true);
        continue;
      }
      const thread = byProcess.get(process);
      if (thread === undefined) throw new Error(`generator bug: op ${op.f} names process ${JSON.stringify(process)}, which no thread runs (unknown or retired)`);
      const th = threads[thread] as Thread;
      if (th.busy) throw new Error(`generator bug: op ${op.f} names process ${JSON.stringify(process)}, which is busy`);
      gen = r.gen;
      dispatch(thread, op, now);
    }
  } catch (e) {
    if (onAbort) o.signal?.removeEventListener('abort', onAbort);
    throw e;
  }
  // The end: the stopOp if the signal stopped the run (now or while ops are still in flight),
  // then the client ops in flight get drainNs from the end (or the stop) before they are abandoned.
  const endedAt = clock.now();
  const nemesisThread = o.nemesis ? threads.length - 1 : -1;
  const canStop = o.stopOp !== undefined && nemesisThread >= 0;
  let stopOpDue = false;
  let stopOpSent = false;
  let abandoned = 0;
  try {
    for (;;) {
      drain();
      if (canStop && !stopOpDue && !stopOpSent && o.signal?.aborted) {
        stopOpDue = true;
      }
      if (stopOpDue && !(threads[nemesisThread] as Thread).busy) {
        stopOpDue = false;
        stopOpSent = true;
        dispatch(nemesisThread, o.stopOp as NonNullable<typeof o.stopOp>, clock.now());
        continue;
      }
      if (inFlight === 0 && !stopOpDue) break;
      const clientsLeft = threads.some((th) => th.busy && th.process !== NEMESIS);
      const left = endedAt + drainNs - clock.now();
      if (clientsLeft && left <= 0) {
        for (const [t, th] of threads.entries()) {
          if (!th.busy || th.process === NEMESIS) continue;
          abandoned++;
          complete(t, { type: 'info', value: th.value, error: ABANDONED_ERROR });
        }
        continue;
      }
      await waitFor(clientsLeft ? left : Infinity, canStop && !stopOpDue && !stopOpSent);
    }
  } finally {
    if (onAbort) o.signal?.removeEventListener('abort', onAbort);
  }
  return { history, aborted: stoppedByAbort, abandoned };
}
