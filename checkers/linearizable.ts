/**
 * Linearizability checking — the public entry points of our port of Porcupine's algorithm.
 *
 * A history is first paired into completed operations (`fail` ones dropped, `info` ones open to
 * the end), then split into independent partitions by the model (P-compositionality: a history
 * is linearizable iff every partition is), and each partition is searched (see `search.ts`).
 * The result is data: `valid` is `true`, `false`, or `'unknown'` when the time budget or the
 * memory bound ran out first; for each partition that is not linearizable, the longest partial
 * linearization found and the operation at which it gets stuck.
 */
import { mergeValidity, type Validity } from './checker.js';
import { completeHistory, type CompletedOp } from './history/complete.js';
import type { Op, ProcessId } from './history/op.js';
import { ModelConfigError, type Model, type Partition } from './model.js';
import { search, type SearchOp } from './search.js';
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
  /** The clock in milliseconds (tests inject one). @default performance.now */
  readonly now?: () => number;
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

function checkPartition<S, I>(
  model: Model<S, I>,
  part: Partition,
  values: ValueTable,
  deadline: number,
  now: () => number,
  maxCacheEntries: number,
  initial: unknown,
): PartitionResult {
  const start = now();
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
  if (now() > deadline) {
    return { key: part.key, valid: 'unknown', ops: ops.length, explored: 0, checkMs: now() - start, reason: 'time budget ran out before this partition was checked' };
  }
  const out = search(model, ops, model.init(values, initial), { deadline, now, maxCacheEntries });
  const checkMs = now() - start;
  const base = { key: part.key, valid: out.valid, ops: ops.length, explored: out.explored, checkMs };
  if (out.valid === true) return base;
  const describe = (s: S): string => (model.describeState ? model.describeState(s, values) : describeValue(s));
  return {
    ...base,
    ...(out.reason === 'timeout'
      ? { reason: 'time budget ran out during the search' }
      : out.reason === 'cache-limit'
        ? { reason: `the search explored more than ${maxCacheEntries} configurations (memory bound)` }
        : {}),
    longest: out.longest.map((i, k) => ({ op: opRef(kept[i] as CompletedOp), state: describe(out.statesAfter[k] as S) })),
    ...(out.stuck >= 0 ? { stuck: opRef(kept[out.stuck] as CompletedOp) } : {}),
  };
}

/** Checks already paired operations (see {@link completeHistory}) against `model`. */
export function checkOperations<S, I>(ops: readonly CompletedOp[], model: Model<S, I>, options: CheckOptions = {}): LinearizabilityResult {
  const now = options.now ?? (() => performance.now());
  const start = now();
  const deadline = start + (options.timeoutMs ?? Infinity);
  const maxCacheEntries = options.maxCacheEntries ?? 20_000_000;
  if (options.initial !== undefined && model.initialValue === undefined) {
    throw new ModelConfigError(`model ${model.name} takes no initial value`);
  }
  const parts = model.partition ? model.partition(ops) : [{ key: null, ops }];
  const values = new ValueTable();
  const partitions: PartitionResult[] = [];
  let valid: Validity = true;
  for (const part of parts) {
    const r = checkPartition(model, part, values, deadline, now, maxCacheEntries, options.initial);
    partitions.push(r);
    valid = mergeValidity(valid, r.valid);
  }
  const unknown = partitions.find((p) => p.valid === 'unknown');
  return {
    valid,
    model: model.name,
    ops: ops.length,
    checkMs: now() - start,
    partitions,
    ...(valid === 'unknown' && unknown?.reason ? { reason: unknown.reason } : {}),
  };
}

/**
 * Checks a history (events in real-time order) for linearizability against `model`.
 * @throws PairingError if invocations and completions do not pair up;
 * ModelInputError if an op is not one the model understands; ModelConfigError for a bad `initial`.
 */
export function checkHistory<S, I>(history: readonly Op[], model: Model<S, I>, options: CheckOptions = {}): LinearizabilityResult {
  return checkOperations(completeHistory(history), model, options);
}
