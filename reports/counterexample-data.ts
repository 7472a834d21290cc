/**
 * Porcupine's view of a partition without a linearization: the last steps of the longest partial
 * linearization the checker found (with the model state after each), the op it could not take
 * next, and the other ops of the same key running at the same time — each placed on the time
 * axis from the history.
 */
import type { Op } from '../checkers/history/op.js';
import { isNemesis } from '../checkers/history/op.js';
import type { LinearizabilityResult, OpRef, PartitionResult } from '../checkers/linearizable.js';
import { canonical, describeValue } from '../checkers/values.js';
import type { Counterexample, CounterexampleOp, Outcome } from './report-types.js';
import { laneOrder, nsToMs } from './timeline-data.js';

/** Options of {@link counterexamples}. */
export interface CounterexampleOptions {
  /** Most linearized steps shown per counterexample (the last ones). @default 30 */
  readonly maxSteps?: number;
  /** Most concurrent same-key ops shown beside the breaking op. @default 20 */
  readonly maxConcurrent?: number;
  /** Most counterexamples (invalid partitions first). @default 20 */
  readonly maxPartitions?: number;
}

const timeMs = (op: Op | undefined): number | null => (op !== undefined && typeof op.time === 'number' ? nsToMs(op.time) : null);

/** The key of an op on independent keys (`[key value]` tuples), as canonical text. */
const keyOf = (value: unknown): string | undefined => (Array.isArray(value) && value.length === 2 ? canonical(value[0]) : undefined);

/** The value without its key, for independent histories. */
const unwrap = (value: unknown, independent: boolean): unknown => (independent && Array.isArray(value) && value.length === 2 ? value[1] : value);

function isOpRef(x: unknown): x is OpRef {
  const r = x as OpRef | null;
  return typeof r === 'object' && r !== null && typeof r.index === 'number' && typeof r.f === 'string';
}

/** Finds events by their `index` field (positions when a history has none). */
function indexHistory(history: readonly Op[]): Map<number, Op> {
  const byIndex = new Map<number, Op>();
  for (const [i, op] of history.entries()) byIndex.set(typeof op.index === 'number' ? op.index : i, op);
  return byIndex;
}

function fromRef(ref: OpRef, byIndex: Map<number, Op>, step: number | null, stateAfter: string | null, breaking: boolean): CounterexampleOp {
  const startMs = timeMs(byIndex.get(ref.index)) ?? 0;
  return {
    id: ref.index,
    process: String(ref.process),
    f: ref.f,
    outcome: ref.type,
    call: ref.invoke,
    ret: ref.type === 'info' ? '?' : ref.value,
    startMs,
    endMs: ref.completeIndex === undefined ? null : timeMs(byIndex.get(ref.completeIndex)),
    step,
    stateAfter,
    breaking,
  };
}

/**
 * The other completed (ok or info) client ops of the key, not linearized, that overlap
 * `[fromMs, stuck's end]`: the ones the search could have tried instead. The `max` nearest the
 * breaking op are kept.
 */
function concurrentOps(history: readonly Op[], stuck: CounterexampleOp, fromMs: number, key: string, independent: boolean, shown: ReadonlySet<number>, max: number): CounterexampleOp[] {
  const end = stuck.endMs ?? Infinity;
  const open = new Map<string, Op>();
  const found: CounterexampleOp[] = [];
  for (const op of history) {
    if (isNemesis(op)) continue;
    const p = String(op.process);
    if (op.type === 'invoke') {
      open.set(p, op);
      continue;
    }
    const inv = open.get(p);
    open.delete(p);
    if (inv === undefined || op.type === 'fail' || shown.has(inv.index)) continue;
    if (independent && keyOf(inv.value) !== key) continue;
    const s = timeMs(inv);
    const e = timeMs(op);
    if (s === null || e === null || e < fromMs || s > end) continue;
    found.push({
      id: inv.index,
      process: p,
      f: op.f,
      outcome: op.type as Outcome,
      call: describeValue(unwrap(inv.value, independent)),
      ret: op.type === 'info' ? '?' : describeValue(unwrap(op.value, independent)),
      startMs: s,
      endMs: e,
      step: null,
      stateAfter: null,
      breaking: false,
    });
  }
  const distance = (x: CounterexampleOp): number => Math.abs(x.startMs - stuck.startMs);
  return found.sort((a, b) => distance(a) - distance(b)).slice(0, max);
}

function counterexample(p: PartitionResult, model: string, independent: boolean, history: readonly Op[], byIndex: Map<number, Op>, o: Required<CounterexampleOptions>): Counterexample {
  const steps = (p.longest ?? []).filter((s) => isOpRef(s.op));
  const shownFrom = Math.max(0, steps.length - o.maxSteps);
  const ops = steps.slice(shownFrom).map((s, i) => fromRef(s.op, byIndex, shownFrom + i + 1, s.state, false));
  const key = p.key === null || p.key === undefined ? '—' : describeValue(p.key);
  const lastState = steps[steps.length - 1]?.state ?? 'the initial state';
  let summary: string;
  if (isOpRef(p.stuck)) {
    const stuck = fromRef(p.stuck, byIndex, null, null, true);
    ops.push(stuck);
    const shown = new Set(ops.map((x) => x.id));
    const fromMs = Math.min(stuck.startMs, ...ops.map((x) => x.startMs));
    ops.push(...concurrentOps(history, stuck, fromMs, canonical(p.key), independent, shown, o.maxConcurrent));
    summary =
      `${p.ops} ops${p.key === null ? '' : ` on key ${key}`}: the longest linearization takes ${steps.length} step${steps.length === 1 ? '' : 's'}; ` +
      `then ${stuck.f} ${stuck.call} → ${stuck.ret} by process ${stuck.process} cannot be linearized from state "${lastState}"`;
  } else {
    summary = p.reason ?? `no linearization of ${p.ops} ops (the checker kept no counterexample)`;
  }
  if (p.valid === 'unknown') summary = `unknown (${p.reason ?? 'search gave up'}): ${summary}`;
  ops.sort((a, b) => a.startMs - b.startMs || a.id - b.id);
  return { key, model, valid: p.valid, summary, steps: steps.length, omittedSteps: shownFrom, processes: laneOrder(ops.map((x) => x.process)), ops };
}

/** The partitions worth a counterexample: invalid ones, then unknown ones with a partial linearization. */
export function partitionsToShow(result: LinearizabilityResult): PartitionResult[] {
  return result.partitions.filter((p) => p.valid === false).concat(result.partitions.filter((p) => p.valid === 'unknown' && (p.longest?.length ?? 0) > 0));
}

/** One counterexample per partition of {@link partitionsToShow}, up to `maxPartitions`. */
export function counterexamples(lin: { model: string; independent: boolean; result: LinearizabilityResult }, history: readonly Op[], options: CounterexampleOptions = {}): Counterexample[] {
  const o = { maxSteps: 30, maxConcurrent: 20, maxPartitions: 20, ...options };
  const byIndex = indexHistory(history);
  return partitionsToShow(lin.result).slice(0, o.maxPartitions).map((p) => counterexample(p, lin.model, lin.independent, history, byIndex, o));
}
