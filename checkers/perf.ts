/**
 * Performance statistics of a run's history: latency percentiles and outcome counts per
 * function — latency from the scheduled time (open loop, so a stall is not hidden) and service
 * time (invoke → completion) —, throughput per second, the nemesis's fault windows,
 * availability inside and outside them by scheduled time (`availability.ts`), and how long the
 * system took to serve again after the final heal.
 *
 * Unlike `completeHistory` this never throws: events that do not pair up (a completion with
 * no open invocation, or of another function) are skipped, and events without a `time` only count
 * where no time is needed.
 */
import { build } from 'hdr-histogram-js';
import { isNemesis, type History, type ProcessId } from './history/op.js';
import { AVAILABILITY_DEADLINE_MS, availabilityStats, type AvailabilityStats } from './availability.js';
import { faultWindows as findFaultWindows, type FaultWindow } from './fault-windows.js';

export type { FaultWindow } from './fault-windows.js';
export type { Availability, AvailabilityStats, NoOkStretch, WindowAvailability } from './availability.js';
export { AVAILABILITY_DEADLINE_MS } from './availability.js';

/** Latency percentiles of a set of operations, in ms rounded to 0.001 (µs resolution, 3 significant digits). */
export interface LatencySummary {
  readonly count: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  /** Exact, as is the mean; the percentiles are within HDR precision and never above the max. */
  readonly maxMs: number;
  readonly meanMs: number;
}

/** The outcomes and latencies of the client operations of one function (or of all: `f: '*'`). */
export interface OpTypeStats {
  readonly f: string;
  /** Invocations: `ok + fail + info`. */
  readonly count: number;
  readonly ok: number;
  readonly fail: number;
  /** `info` completions, and invocations that never completed. */
  readonly info: number;
  /** From the scheduled time (or the invocation) to the completion, over ok completions. */
  readonly okLatency: LatencySummary | null;
  /** From the scheduled time (or the invocation) to the completion, over all completions. */
  readonly latency: LatencySummary | null;
  /**
   * Service time, from the invocation to the completion, over ok completions (what the system
   * took once asked; the time an op waited for a free client is not in it). Absent in
   * results.json files written before it existed.
   */
  readonly okServiceTime: LatencySummary | null;
  /** Service time over all completions. */
  readonly serviceTime: LatencySummary | null;
}

/** Completions per whole second of the run (second `s` covers `[s, s+1)` s of completion time). */
export interface ThroughputBucket {
  readonly second: number;
  readonly ok: number;
  readonly fail: number;
  readonly info: number;
}

/** What {@link perfStats} measures of a history. */
export interface PerfStats {
  /** Seconds from the first to the last timed event (rounded to 0.001), 0 when none. */
  readonly durationS: number;
  /** Per client f, sorted by f. */
  readonly ops: readonly OpTypeStats[];
  /** All client ops together (f: '*'). */
  readonly total: OpTypeStats;
  /** Every second from 0 to the last event, zeros included; invocations that never completed are not in it. */
  readonly throughput: readonly ThroughputBucket[];
  /** Sorted by start; a window that never closed ends at the last event. */
  readonly faultWindows: readonly FaultWindow[];
  /**
   * Client ops by their *scheduled* time (`scheduledTime`, else the invoke's time): in a fault
   * when inside the union of windows (`start ≤ t < end`, or `start ≤ t` for an unclosed one);
   * `ok` counts those answered ok within `deadlineMs` of that time. Per window in `windows`
   * (same order as `faultWindows`), with the longest stretch without an ok. Results written
   * before this definition counted ops by invoke time, every ok however late, and have neither
   * `deadlineMs` nor `windows`.
   */
  readonly availability: AvailabilityStats;
  /** Completion time of the last `heal` op; null when there is none or it never completed. */
  readonly finalHealNs: number | null;
  /** Invocation time of the first client op after the final heal completed (the final phase's start); null when none. */
  readonly finalPhaseStartNs: number | null;
  /** ms from the final heal's completion to the first client ok completion after it; null when none */
  readonly recoveryMs: number | null;
}

/** One client operation, paired as far as the history allows. */
export interface ClientOp {
  readonly f: string;
  readonly process: ProcessId;
  /** `info` until a completion says otherwise (also for an invocation that never completed). */
  type: 'ok' | 'fail' | 'info';
  /** The invoke event's time (or its `scheduledTime` when it has no time). */
  readonly invokeNs: number | undefined;
  /** Latency is measured from here: `scheduledTime` when present, else the invoke's time. */
  readonly startNs: number | undefined;
  completeNs?: number;
  /** Position of the invocation event in the history. */
  readonly invokeAt: number;
  /** Position of the completion event in the history. */
  completeAt?: number;
}

const NS_PER_MS = 1e6;
const NS_PER_S = 1e9;

const finite = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/**
 * Pairs client invocations with their completions per process, in invocation order, skipping
 * completions that do not pair (no open invocation, or of another f).
 */
export function pairClientOps(history: History): ClientOp[] {
  const outcomes: ClientOp[] = [];
  const open = new Map<ProcessId, ClientOp>();
  for (const [i, op] of history.entries()) {
    if (isNemesis(op)) continue;
    if (op.type === 'invoke') {
      // A second invocation leaves the first one uncompleted: it stays `info`.
      const invokeNs = finite(op.time) ?? finite(op.scheduledTime);
      const o: ClientOp = { f: op.f, process: op.process, type: 'info', invokeNs, startNs: finite(op.scheduledTime) ?? finite(op.time), invokeAt: i };
      outcomes.push(o);
      open.set(op.process, o);
      continue;
    }
    const o = open.get(op.process);
    if (o === undefined || o.f !== op.f || (op.type !== 'ok' && op.type !== 'fail' && op.type !== 'info')) continue;
    open.delete(op.process);
    o.type = op.type;
    o.completeAt = i;
    const t = finite(op.time);
    if (t !== undefined) o.completeNs = t;
  }
  return outcomes;
}

/** An op's service time in ns (from its invocation to its completion), when both are known. */
export function serviceTimeNs(o: ClientOp): number | undefined {
  if (o.invokeNs === undefined || o.completeNs === undefined || o.completeNs < o.invokeNs) return undefined;
  return o.completeNs - o.invokeNs;
}

/** An op's latency in ns (from its scheduled or invoke time to its completion), when both are known. */
export function latencyNs(o: ClientOp): number | undefined {
  if (o.startNs === undefined || o.completeNs === undefined || o.completeNs < o.startNs) return undefined;
  return o.completeNs - o.startNs;
}

/** Percentiles of recorded latencies, in ms; never above the exact max. */
export interface LatencyPercentiles {
  /** The latency at percentile `p` (0..100), ms rounded to 0.001. */
  at(p: number): number;
  readonly maxMs: number;
  readonly meanMs: number;
  readonly count: number;
}

/**
 * Records `latenciesNs` (non-empty, non-negative) into an HdrHistogram (µs, 3 significant
 * digits) and hands `use` its percentiles; the histogram is freed afterwards.
 */
export function withLatencyHistogram<T>(latenciesNs: readonly number[], use: (p: LatencyPercentiles) => T): T {
  const histogram = build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000,
    numberOfSignificantValueDigits: 3,
    autoResize: true,
  });
  try {
    let sum = 0;
    let max = 0;
    for (const ns of latenciesNs) {
      histogram.recordValue(Math.round(ns / 1000));
      sum += ns;
      max = Math.max(max, ns);
    }
    const maxMs = max / NS_PER_MS;
    return use({
      at: (p) => round3(Math.min(histogram.getValueAtPercentile(p) / 1000, maxMs)),
      maxMs: round3(maxMs),
      meanMs: round3(sum / Math.max(1, latenciesNs.length) / NS_PER_MS),
      count: latenciesNs.length,
    });
  } finally {
    histogram.destroy();
  }
}

/** Latency percentiles of `latenciesNs` (non-negative), or null when there are none. */
function summarize(latenciesNs: readonly number[]): LatencySummary | null {
  if (latenciesNs.length === 0) return null;
  return withLatencyHistogram(latenciesNs, (h) => ({ count: h.count, p50Ms: h.at(50), p95Ms: h.at(95), p99Ms: h.at(99), p999Ms: h.at(99.9), maxMs: h.maxMs, meanMs: h.meanMs }));
}

/** Counts and latencies of `outcomes`, under the name `f`. */
function opStats(f: string, outcomes: readonly ClientOp[]): OpTypeStats {
  const counts = { ok: 0, fail: 0, info: 0 };
  const latency = { all: [] as number[], ok: [] as number[] };
  const service = { all: [] as number[], ok: [] as number[] };
  const add = (into: { all: number[]; ok: number[] }, ns: number | undefined, ok: boolean): void => {
    if (ns === undefined) return;
    into.all.push(ns);
    if (ok) into.ok.push(ns);
  };
  for (const o of outcomes) {
    counts[o.type]++;
    add(latency, latencyNs(o), o.type === 'ok');
    add(service, serviceTimeNs(o), o.type === 'ok');
  }
  return {
    f,
    count: outcomes.length,
    ...counts,
    okLatency: summarize(latency.ok),
    latency: summarize(latency.all),
    okServiceTime: summarize(service.ok),
    serviceTime: summarize(service.all),
  };
}

/** Completions per second from 0 to `endNs`. */
function throughput(outcomes: readonly ClientOp[], endNs: number | undefined): ThroughputBucket[] {
  if (endNs === undefined) return [];
  const buckets = Array.from({ length: Math.floor(endNs / NS_PER_S) + 1 }, () => ({ ok: 0, fail: 0, info: 0 }));
  for (const o of outcomes) {
    if (o.completeNs === undefined || o.completeNs < 0) continue;
    const bucket = buckets[Math.floor(o.completeNs / NS_PER_S)];
    if (bucket !== undefined) bucket[o.type]++;
  }
  return buckets.map((b, second) => ({ second, ...b }));
}


/** Options of {@link perfStats}. */
export interface PerfOptions {
  /** An op counts as answered (for availability) when ok within this many ms of its scheduled time. @default AVAILABILITY_DEADLINE_MS (1000) */
  readonly availabilityDeadlineMs?: number;
}

/**
 * Computes the {@link PerfStats} of `history`. Nemesis ops only open and close fault windows;
 * everything else is about client ops. Odd events are skipped, never thrown on.
 * @throws TypeError when `availabilityDeadlineMs` is not a finite number > 0
 */
export function perfStats(history: History, options: PerfOptions = {}): PerfStats {
  const deadlineMs = options.availabilityDeadlineMs ?? AVAILABILITY_DEADLINE_MS;
  if (!Number.isFinite(deadlineMs) || deadlineMs <= 0) throw new TypeError(`availabilityDeadlineMs must be a finite number > 0, got ${String(deadlineMs)}`);
  let firstNs: number | undefined;
  let endNs: number | undefined;
  for (const op of history) {
    const t = finite(op.time);
    if (t === undefined) continue;
    firstNs = Math.min(firstNs ?? t, t);
    endNs = Math.max(endNs ?? t, t);
  }
  const outcomes = pairClientOps(history);
  const ops = [...new Set(outcomes.map((o) => o.f))].sort().map((f) => opStats(f, outcomes.filter((o) => o.f === f)));

  const { windows, finalHeal } = findFaultWindows(history);
  const faultWindows = windows.map((w) => (w.endNs === Infinity ? { ...w, endNs: Math.max(w.startNs, endNs ?? w.startNs) } : w));
  const availability = availabilityStats(outcomes, windows, endNs ?? 0, deadlineMs);

  let recoveryMs: number | null = null;
  let finalPhaseStartNs: number | null = null;
  if (finalHeal !== null) {
    const { ns, at } = finalHeal;
    let first: ClientOp | undefined;
    for (const o of outcomes) {
      if (o.type !== 'ok' || o.completeNs === undefined || o.completeAt === undefined || o.completeAt <= at) continue;
      if (first === undefined || o.completeAt < (first.completeAt as number)) first = o;
    }
    if (first?.completeNs !== undefined) recoveryMs = round3(Math.max(0, first.completeNs - ns) / NS_PER_MS);
    // Invocation order is history order: the first op invoked after the heal opens the final phase.
    finalPhaseStartNs = outcomes.find((o) => o.invokeAt > at && o.invokeNs !== undefined)?.invokeNs ?? null;
  }

  return {
    durationS: firstNs === undefined || endNs === undefined ? 0 : round3((endNs - firstNs) / NS_PER_S),
    ops,
    total: opStats('*', outcomes),
    throughput: throughput(outcomes, endNs),
    faultWindows,
    availability,
    finalHealNs: finalHeal?.ns ?? null,
    finalPhaseStartNs,
    recoveryMs,
  };
}
