/**
 * Linearizability checking — the public entry points of our port of Porcupine's algorithm.
 *
 * A history is first paired into completed operations (`fail` ones dropped, `info` ones open to
 * the end), then split into independent partitions by the model (P-compositionality: a history
 * is linearizable iff every partition is), and each partition is searched (see `search.ts`).
 * The result is data: `valid` is `true`, `false`, or `'unknown'` when the time budget or the
 * memory bound ran out first; for each partition that is not linearizable, the longest partial
 * linearization found and the operation at which it gets stuck.
 *
 * {@link checkHistory} searches the partitions one after another on the calling thread;
 * {@link checkHistoryAsync} searches them on a pool of worker threads (see `search-pool.ts`),
 * after preparing every partition's model inputs here (the value table is shared). Small
 * histories, models outside the registry and injected clocks stay on the calling thread.
 */
import { availableParallelism } from 'node:os';
import { mergeValidity, type CheckProgress, type Validity } from './checker.js';
import { completeHistory, type CompletedOp } from './history/complete.js';
import type { Op, ProcessId } from './history/op.js';
import { ModelConfigError, type Model, type Partition } from './model.js';
import { ProgressTracker } from './progress-tracker.js';
import { sharedSearchPool, type SearchPool } from './search-pool.js';
import { searchableInWorker, type SearchTask } from './search-task.js';
import { search, type SearchOp, type SearchOutcome } from './search.js';
import { describeValue, ValueTable } from './values.js';

/** Options of a check. */
export interface CheckOptions {
  /**
   * Time budget for the whole history, in milliseconds; when it runs out (checked inside the
   * search) the result is `unknown`.
   * @default Infinity
   */
  readonly timeoutMs?: number;
  /**
   * The most configurations one partition's search may remember before it gives up with
   * `unknown`; bounds memory (each costs a few dozen bytes).
   * @default 20_000_000
   */
  readonly maxCacheEntries?: number;
  /**
   * The model's initial value (see `Model.initialValue`), e.g. a register's first value.
   * @default the model's own
   */
  readonly initial?: unknown;
  /**
   * Memory budget of the whole check, in MB: the searches running at once share it (each gets
   * its part, measured as the bytes of its cache); a search past its part gives up with
   * `unknown`. On worker threads, each worker's heap is also limited to its part (at least
   * 64 MB), so that even a runaway dies alone and leaves its partition `unknown`.
   * @default 2048
   */
  readonly maxMemoryMb?: number;
  /**
   * Stop at the first invalid partition: the partitions not yet checked (or, on workers, still
   * being checked) are `unknown` with reason "not checked: partition K was already invalid", and
   * the result carries a `note`. On workers "first" means first to finish.
   * @default false
   */
  readonly stopAtFirstInvalid?: boolean;
  /** Called with the check's progress at most every `progressEveryMs` while it runs. */
  readonly onProgress?: (p: CheckProgress) => void;
  /** How often `onProgress` is called, in milliseconds. @default 1000 */
  readonly progressEveryMs?: number;
  /** The clock in milliseconds (tests inject one; the check then stays on the calling thread). @default performance.now */
  readonly now?: () => number;
}

/** Options of {@link checkHistoryAsync}. */
export interface ParallelCheckOptions extends CheckOptions {
  /**
   * Histories with fewer completed ops than this are checked on the calling thread, without
   * starting workers.
   * @default 2000
   */
  readonly inlineBelowOps?: number;
  /** The most partitions searched at once (the shared pool's size). @default os.availableParallelism() */
  readonly workers?: number;
  /** The pool to search on (tests and benchmarks bring their own). @default a shared pool, created on first use */
  readonly pool?: SearchPool;
}

/** An operation of a counterexample, pointing back into the history. */
export interface OpRef {
  /** The `index` of the invocation event. */
  readonly index: number;
  /** The `index` of the completion event, if there was one. */
  readonly completeIndex?: number;
  readonly process: ProcessId;
  readonly type: 'ok' | 'info';
  readonly f: string;
  /** The invocation's value, in EDN text. */
  readonly invoke: string;
  /** The result (ok) or the argument (info), in EDN text. */
  readonly value: string;
}

/** One step of a partial linearization: the op, and the model state after it. */
export interface LinearizationStep {
  readonly op: OpRef;
  readonly state: string;
}

/** The verdict on one independent partition. */
export interface PartitionResult {
  /** The partition's key (for independent keys), or `null`. */
  readonly key: unknown;
  readonly valid: Validity;
  /** Operations checked (after dropping those that constrain nothing). */
  readonly ops: number;
  /** Configurations the search explored. */
  readonly explored: number;
  readonly checkMs: number;
  /** Why the verdict is `unknown`. */
  readonly reason?: string;
  /**
   * Which bound made the verdict `unknown`: the time budget, the cache entries, the memory
   * budget, a search worker that died, or a stop at the first invalid partition.
   */
  readonly limit?: 'time' | 'cache' | 'memory' | 'worker' | 'stopped';
  /** The longest partial linearization found (for invalid and unknown partitions). */
  readonly longest?: LinearizationStep[];
  /** The op the longest linearization could not get past: it cannot be linearized next. */
  readonly stuck?: OpRef;
}

/** The verdict on a history. */
export interface LinearizabilityResult {
  readonly valid: Validity;
  readonly model: string;
  /** Completed operations (`ok` and `info`) in the history. */
  readonly ops: number;
  readonly checkMs: number;
  /** Every partition's verdict, in order of first appearance. */
  readonly partitions: PartitionResult[];
  /** Why the verdict is `unknown`, in words. */
  readonly reason?: string;
  /** Anything else to know, e.g. that the check stopped at the first invalid partition. */
  readonly note?: string;
}

function opRef(op: CompletedOp): OpRef {
  return {
    index: op.invoke.index,
    ...(op.complete ? { completeIndex: op.complete.index } : {}),
    process: op.process,
    type: op.type,
    f: op.f,
    invoke: describeValue(op.invokeValue),
    value: describeValue(op.value),
  };
}

/** One partition with its model inputs, ready to search. */
interface PreparedPartition<S, I> {
  readonly key: unknown;
  /** The ops kept, parallel to `ops`. */
  readonly kept: CompletedOp[];
  readonly ops: SearchOp<I>[];
  readonly initial: S;
}

/** The defaults of {@link CheckOptions}. */
const DEFAULTS = { maxCacheEntries: 20_000_000, maxMemoryMb: 2048, progressEveryMs: 1000, inlineBelowOps: 2000 } as const;

function preparePartition<S, I>(model: Model<S, I>, part: Partition, values: ValueTable, initial: unknown): PreparedPartition<S, I> {
  let kept: CompletedOp[] = [];
  let ops: SearchOp<I>[] = [];
  for (const op of part.ops) {
    const input = model.prepare(op, values);
    if (input === null) continue;
    kept.push(op);
    ops.push({ call: op.call, ret: op.ret, input });
  }
  if (model.prune) {
    const keep = model.prune(
      ops.map((o) => o.input),
      ops.map((o) => o.ret === Infinity),
    );
    kept = kept.filter((_, i) => keep[i]);
    ops = ops.filter((_, i) => keep[i]);
  }
  return { key: part.key, kept, ops, initial: model.init(values, initial) };
}

/** A partition's key in EDN text, for reasons and progress. */
const keyText = (key: unknown): string => describeValue(key, 60);

/** The verdict `unknown` on a partition whose search did not run to its end. */
function unsearched(prep: PreparedPartition<unknown, unknown>, checkMs: number, limit: NonNullable<PartitionResult['limit']>, reason: string): PartitionResult {
  return { key: prep.key, valid: 'unknown', ops: prep.ops.length, explored: 0, checkMs, reason, limit };
}

/** The verdict on a partition from its search's outcome. */
function describeOutcome<S, I>(
  model: Model<S, I>,
  prep: PreparedPartition<S, I>,
  out: SearchOutcome<S>,
  values: ValueTable,
  checkMs: number,
  bounds: { maxCacheEntries: number; maxBytes: number },
): PartitionResult {
  const base = { key: prep.key, valid: out.valid, ops: prep.ops.length, explored: out.explored, checkMs };
  if (out.valid === true) return base;
  const describe = (s: S): string => (model.describeState ? model.describeState(s, values) : describeValue(s));
  const { kept } = prep;
  return {
    ...base,
    ...(out.reason === 'timeout'
      ? { reason: 'time budget ran out during the search', limit: 'time' as const }
      : out.reason === 'cache-limit'
        ? { reason: `the search explored more than ${bounds.maxCacheEntries} configurations (memory bound)`, limit: 'cache' as const }
        : out.reason === 'memory-limit'
          ? { reason: `the search's cache outgrew its memory budget of ${(bounds.maxBytes / 2 ** 20).toFixed(1)} MB`, limit: 'memory' as const }
          : {}),
    longest: out.longest.map((i, k) => ({ op: opRef(kept[i] as CompletedOp), state: describe(out.statesAfter[k] as S) })),
    ...(out.stuck >= 0 ? { stuck: opRef(kept[out.stuck] as CompletedOp) } : {}),
  };
}

/** The whole history's verdict from its partitions'. */
function verdict(model: Model<unknown, unknown>, ops: number, checkMs: number, partitions: PartitionResult[], stoppedAt: PartitionResult | undefined): LinearizabilityResult {
  let valid: Validity = true;
  for (const p of partitions) valid = mergeValidity(valid, p.valid);
  const unknown = partitions.find((p) => p.valid === 'unknown');
  const skipped = partitions.filter((p) => p.limit === 'stopped').length;
  return {
    valid,
    model: model.name,
    ops,
    checkMs,
    partitions,
    ...(valid === 'unknown' && unknown?.reason ? { reason: unknown.reason } : {}),
    ...(stoppedAt !== undefined && skipped > 0
      ? { note: `stopped at the first invalid partition (${keyText(stoppedAt.key)}): ${skipped} partition${skipped === 1 ? '' : 's'} not checked` }
      : {}),
  };
}

const notCheckedReason = (invalid: PartitionResult): string => `not checked: partition ${keyText(invalid.key)} was already invalid`;

function checkInline<S, I>(ops: readonly CompletedOp[], model: Model<S, I>, options: CheckOptions): LinearizabilityResult {
  const now = options.now ?? (() => performance.now());
  const start = now();
  const deadline = start + (options.timeoutMs ?? Infinity);
  const maxCacheEntries = options.maxCacheEntries ?? DEFAULTS.maxCacheEntries;
  const maxBytes = (options.maxMemoryMb ?? DEFAULTS.maxMemoryMb) * 2 ** 20;
  const parts = model.partition ? model.partition(ops) : [{ key: null, ops }];
  const values = new ValueTable();
  const progress = new ProgressTracker({ total: parts.length, report: options.onProgress, everyMs: options.progressEveryMs ?? DEFAULTS.progressEveryMs, now });
  const partitions: PartitionResult[] = [];
  let stoppedAt: PartitionResult | undefined;
  for (const [i, part] of parts.entries()) {
    const t0 = now();
    const prep = preparePartition(model, part, values, options.initial);
    let r: PartitionResult;
    if (stoppedAt !== undefined) {
      r = unsearched(prep, 0, 'stopped', notCheckedReason(stoppedAt));
    } else if (now() > deadline) {
      r = unsearched(prep, now() - t0, 'time', 'time budget ran out before this partition was checked');
    } else {
      if (progress.active) progress.started(i, keyText(part.key));
      const out = search(model, prep.ops, prep.initial, {
        deadline,
        now,
        maxCacheEntries,
        maxBytes,
        ...(progress.active ? { progress: (explored: number) => progress.explored(i, explored) } : {}),
      });
      r = describeOutcome(model, prep, out, values, now() - t0, { maxCacheEntries, maxBytes });
      if (r.valid === false && options.stopAtFirstInvalid) stoppedAt = r;
    }
    if (progress.active) progress.finished(i, r.explored);
    partitions.push(r);
  }
  return verdict(model as Model<unknown, unknown>, ops.length, now() - start, partitions, stoppedAt);
}

/** Throws ModelConfigError if `model` takes no initial value and one is given. */
function checkInitial(model: Model<unknown, unknown>, options: CheckOptions): void {
  if (options.initial !== undefined && model.initialValue === undefined) {
    throw new ModelConfigError(`model ${model.name} takes no initial value`);
  }
}

/** Checks already paired operations (see {@link completeHistory}) against `model`, on this thread. */
export function checkOperations<S, I>(ops: readonly CompletedOp[], model: Model<S, I>, options: CheckOptions = {}): LinearizabilityResult {
  checkInitial(model as Model<unknown, unknown>, options);
  return checkInline(ops, model, options);
}

/**
 * Checks already paired operations against `model`, searching the partitions on worker threads
 * (see {@link checkHistoryAsync}).
 */
export async function checkOperationsAsync<S, I>(ops: readonly CompletedOp[], model: Model<S, I>, options: ParallelCheckOptions = {}): Promise<LinearizabilityResult> {
  const m = model as Model<unknown, unknown>;
  checkInitial(m, options);
  if (options.now !== undefined || ops.length < (options.inlineBelowOps ?? DEFAULTS.inlineBelowOps) || !searchableInWorker(m)) {
    return checkInline(ops, model, options);
  }
  const now = (): number => performance.now();
  const start = now();
  const timeoutMs = options.timeoutMs ?? Infinity;
  const deadline = start + timeoutMs;
  const maxCacheEntries = options.maxCacheEntries ?? DEFAULTS.maxCacheEntries;
  const maxMemoryMb = options.maxMemoryMb ?? DEFAULTS.maxMemoryMb;
  const parts = m.partition ? m.partition(ops) : [{ key: null, ops }];
  const values = new ValueTable();
  const size = options.pool?.size ?? options.workers ?? availableParallelism();
  const shareMb = maxMemoryMb / Math.max(1, Math.min(size, parts.length));
  const pool = options.pool ?? sharedSearchPool(size, Math.max(64, Math.ceil(maxMemoryMb / size)));
  const maxBytes = shareMb * 2 ** 20;
  const progressEveryMs = options.progressEveryMs ?? DEFAULTS.progressEveryMs;
  const progress = new ProgressTracker({ total: parts.length, report: options.onProgress, everyMs: progressEveryMs, now });
  const ticker = progress.active ? setInterval(() => progress.maybeReport(), progressEveryMs) : undefined;
  ticker?.unref();
  const stop = new AbortController();
  let stoppedAt: PartitionResult | undefined;
  try {
    const search = async (prep: PreparedPartition<unknown, unknown>, i: number): Promise<PartitionResult> => {
      let t0 = now();
      if (now() > deadline) return unsearched(prep, 0, 'time', 'time budget ran out before this partition was checked');
      const task: SearchTask = {
        model: m.name,
        ops: prep.ops,
        initial: prep.initial,
        deadline: performance.timeOrigin + deadline,
        maxCacheEntries,
        maxBytes,
        progressEveryMs: Math.max(50, progressEveryMs / 2),
      };
      const run = await pool.run(task, {
        signal: stop.signal,
        onStart: () => {
          t0 = now();
          if (progress.active) progress.started(i, keyText(prep.key));
        },
        onEvent: (explored) => progress.explored(i, explored),
      });
      let r: PartitionResult;
      if (run.kind === 'done') {
        r = describeOutcome(m, prep, run.result, values, now() - t0, { maxCacheEntries, maxBytes });
        if (r.valid === false && options.stopAtFirstInvalid && stoppedAt === undefined) {
          stoppedAt = r;
          stop.abort();
        }
      } else if (run.kind === 'cancelled') {
        return unsearched(prep, 0, 'stopped', notCheckedReason(stoppedAt as PartitionResult));
      } else {
        r = unsearched(prep, now() - t0, 'worker', `the search ${run.died ? 'worker died' : 'failed'}: ${run.reason}`);
      }
      if (progress.active) progress.finished(i, r.explored);
      return r;
    };
    // Each partition goes to the pool as soon as it is prepared, so that the workers search while
    // this thread prepares the rest. Prepared in order, as the sequential check does, so that
    // interned values are the same.
    const runs: Promise<PartitionResult>[] = [];
    for (let i = 0; i < parts.length; i++) runs.push(search(preparePartition(m, parts[i] as Partition, values, options.initial), i));
    const partitions = await Promise.all(runs);
    return verdict(m, ops.length, now() - start, partitions, stoppedAt);
  } finally {
    clearInterval(ticker);
  }
}

/**
 * Checks a history (events in real-time order) for linearizability against `model`, searching
 * the partitions one after another on this thread.
 * @throws PairingError if invocations and completions do not pair up;
 * ModelInputError if an op is not one the model understands; ModelConfigError for a bad `initial`.
 */
export function checkHistory<S, I>(history: readonly Op[], model: Model<S, I>, options: CheckOptions = {}): LinearizabilityResult {
  return checkOperations(completeHistory(history), model, options);
}

/**
 * Checks a history for linearizability against `model`, searching independent partitions (e.g.
 * keys) on a pool of worker threads sized to the cores — the same verdicts, partitions (in the
 * same order), longest linearizations and stuck ops as {@link checkHistory}. Histories below
 * `inlineBelowOps` ops, models not in the registry (`findModel`) and injected clocks are checked
 * on this thread. A worker that dies (e.g. past its heap limit) leaves its partition `unknown`
 * with the reason; the pool replaces it.
 * @throws as {@link checkHistory}
 */
export async function checkHistoryAsync<S, I>(history: readonly Op[], model: Model<S, I>, options: ParallelCheckOptions = {}): Promise<LinearizabilityResult> {
  return checkOperationsAsync(completeHistory(history), model, options);
}
