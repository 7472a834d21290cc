/**
 * The open-loop load of `dsync bench compare`: ops are sent at the times of a seeded Poisson
 * schedule whatever the system answers, and each op's latency is measured from its *scheduled*
 * time — so a system that falls behind is charged for the wait of every op it delays (no
 * coordinated omission). The generator reports on itself too: its CPU and how late it sent
 * each op after its scheduled time, so a run shows when the generator, not the system, was the
 * bottleneck.
 *
 * Bounded in count (the schedule's length, `maxOps`), in concurrency (`maxInFlight`: past it,
 * sending waits and the wait shows as latency) and in time (`deadlineMs`: an op not answered by
 * then is failed, and the run ends at most one deadline after its last scheduled op).
 */
import type { Histogram } from 'hdr-histogram-js';
import { histogram as newHistogram, micros } from './bench-histogram.js';
import { prng } from '../random.js';
import { errorMessage } from '../../cluster/errors.js';
import type { LatencySummary, TimelineBucket, WindowMeasures } from './compare-results.js';

/**
 * One op: `seq` is its number in the schedule (0-based); `expired()` turns true once the run no
 * longer counts it (its deadline passed, or the run ended) — an op that retries stops then.
 * Resolves when the system answered ok; rejects otherwise.
 */
export type OpenLoopOp = (seq: number, expired: () => boolean) => Promise<void>;

/** How {@link runOpenLoop} runs. */
export interface OpenLoopOptions {
  /** Offered rate, ops per second (> 0). */
  readonly ratePerSec: number;
  /** Length of the schedule, ms. */
  readonly durationMs: number;
  /** Seeds the schedule's gaps: the same seed and rate, the same schedule. */
  readonly seed: number;
  /** An op answered later than this after its scheduled time counts as failed. */
  readonly deadlineMs: number;
  /** At most this many ops in flight; more wait to be sent. @default 4096 */
  readonly maxInFlight?: number;
  /** The schedule is cut after this many ops. @default 2,000,000 */
  readonly maxOps?: number;
  /** Width of the timeline's buckets, ms. @default 250 */
  readonly bucketMs?: number;
  /** Called with the time (ms from the start of the schedule) while the run goes, every `bucketMs`: for faults in the middle. */
  readonly onTick?: (elapsedMs: number) => void;
  /** Keep each op's scheduled time, answer time and outcome in the result. @default false */
  readonly keepOps?: boolean;
}

/** Each op of a run, when `keepOps` was set: times in ms from the start of the schedule. */
export interface OpRecords {
  readonly scheduledMs: Float64Array;
  /** When its answer came (NaN: none came). */
  readonly answeredMs: Float64Array;
  /** 1: ok within the deadline; 0: not. */
  readonly ok: Uint8Array;
}

/** What a run measured: the window's measures, its timeline, and each op when asked for. */
export interface OpenLoopResult extends WindowMeasures {
  readonly timeline: readonly TimelineBucket[];
  readonly ops?: OpRecords;
}

/** The default of {@link OpenLoopOptions.maxInFlight}. */
export const DEFAULT_MAX_IN_FLIGHT = 4096;
/** The default of {@link OpenLoopOptions.maxOps}. */
export const DEFAULT_MAX_OPS = 2_000_000;
/** How long after the end of a probe its last ops may still retry. */
export const PROBE_GRACE_MS = 5000;
/** The percentiles a result lists for the percentile plot. */
export const PLOT_PERCENTILES = [0, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.99, 100] as const;

/**
 * The schedule: `count` op times in ms from its start, Poisson arrivals at `ratePerSec`
 * (exponential gaps drawn from `seed`), all before `durationMs`, at most `maxOps`.
 */
export function poissonSchedule(ratePerSec: number, durationMs: number, seed: number, maxOps = DEFAULT_MAX_OPS): Float64Array {
  if (!(ratePerSec > 0) || !Number.isFinite(ratePerSec)) throw new RangeError(`rate must be a positive number of ops/s, got ${ratePerSec}`);
  if (!(durationMs > 0) || !Number.isFinite(durationMs)) throw new RangeError(`duration must be positive, got ${durationMs} ms`);
  const random = prng(seed);
  const meanGapMs = 1000 / ratePerSec;
  const times: number[] = [];
  for (let t = -Math.log(1 - random()) * meanGapMs; t < durationMs && times.length < maxOps; t += -Math.log(1 - random()) * meanGapMs) times.push(t);
  return Float64Array.from(times);
}

/** p50…max of `h` in ms, null when it recorded nothing. */
export function latencySummary(h: Histogram): LatencySummary {
  const at = (p: number): number | null => (h.totalCount > 0 ? h.getValueAtPercentile(p) / 1000 : null);
  return { p50Ms: at(50), p90Ms: at(90), p99Ms: at(99), p999Ms: at(99.9), maxMs: h.totalCount > 0 ? h.maxValue / 1000 : null };
}

/**
 * Runs `op` on the schedule of `opts` and measures it. Every op is started at (or, when the
 * generator or `maxInFlight` holds it up, after) its scheduled time; the run ends when every op
 * was answered or one deadline after the last scheduled time, whichever is first — ops still
 * unanswered then are failed (and told so by `expired()`).
 */
export async function runOpenLoop(op: OpenLoopOp, opts: OpenLoopOptions): Promise<OpenLoopResult> {
  const maxInFlight = opts.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
  const bucketMs = opts.bucketMs ?? 250;
  if (!(opts.deadlineMs > 0)) throw new RangeError(`deadlineMs must be positive, got ${opts.deadlineMs}`);
  if (!Number.isInteger(maxInFlight) || maxInFlight < 1) throw new RangeError(`maxInFlight must be a positive integer, got ${maxInFlight}`);
  const schedule = poissonSchedule(opts.ratePerSec, opts.durationMs, opts.seed, opts.maxOps);
  const n = schedule.length;
  const buckets = Math.max(1, Math.ceil(opts.durationMs / bucketMs));
  const okPerBucket = new Uint32Array(buckets);
  const failedPerBucket = new Uint32Array(buckets);
  const answeredMs = new Float64Array(n).fill(NaN);
  const okFlags = new Uint8Array(n);
  const latency = newHistogram();
  const gap = newHistogram();
  let over = false;

  let sent = 0;
  let inFlight = 0;
  let ok = 0;
  let held = 0;
  // The last time ops were due but the in-flight bound held them back (ms from the start).
  let lastBlockedAt = -Infinity;
  let firstError: string | undefined;
  let wake: (() => void) | undefined;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let ticks = 0;

  const settle = (seq: number, good: boolean, error?: unknown): void => {
    inFlight--;
    if (inFlight === 0 || inFlight === maxInFlight - 1) wake?.();
    if (over) return;
    const at = performance.now() - t0;
    answeredMs[seq] = at;
    const lateMs = at - (schedule[seq] as number);
    const bucket = Math.min(buckets - 1, Math.floor((schedule[seq] as number) / bucketMs));
    if (good && lateMs <= opts.deadlineMs) {
      ok++;
      okFlags[seq] = 1;
      latency.recordValue(micros(lateMs));
      okPerBucket[bucket] = (okPerBucket[bucket] as number) + 1;
    } else {
      failedPerBucket[bucket] = (failedPerBucket[bucket] as number) + 1;
      firstError ??= good ? `answered after the ${opts.deadlineMs} ms deadline` : errorMessage(error);
    }
  };

  const send = (seq: number): void => {
    sent++;
    inFlight++;
    if ((schedule[seq] as number) <= lastBlockedAt) held++;
    else gap.recordValue(micros(Math.max(0, performance.now() - t0 - (schedule[seq] as number))));
    let p: Promise<void>;
    try {
      const due = (schedule[seq] as number) + opts.deadlineMs;
      p = op(seq, () => over || performance.now() - t0 > due);
    } catch (e) {
      p = Promise.reject(e);
    }
    p.then(
      () => settle(seq, true),
      (e: unknown) => settle(seq, false, e),
    );
  };

  // Dispatch: send every op whose time has come (and room in flight), then sleep until the next one.
  const lastDeadline = (n === 0 ? 0 : (schedule[n - 1] as number)) + opts.deadlineMs;
  for (let seq = 0; ; ) {
    const now = performance.now() - t0;
    // (Not `onTick?.(ticks++ …)`: an absent onTick would skip the increment too.)
    for (; ticks * bucketMs <= now && ticks <= buckets; ticks++) opts.onTick?.(ticks * bucketMs);
    while (seq < n && (schedule[seq] as number) <= now && inFlight < maxInFlight) send(seq++);
    if (seq < n && (schedule[seq] as number) <= now) lastBlockedAt = now;
    if ((seq >= n && inFlight === 0) || now >= lastDeadline) break;
    const nextTick = ticks * bucketMs;
    const next = seq < n && inFlight < maxInFlight ? Math.min(schedule[seq] as number, nextTick) : Math.min(nextTick, lastDeadline);
    const delay = next - now;
    await new Promise<void>((resolve) => {
      wake = resolve;
      // Sleep on a timer, never spin: on a machine of few cores a spinning generator takes CPU
      // from the system it measures. Timers have 1 ms steps, so an op may go out up to about a
      // millisecond late (the generator's lateness says how late).
      setTimeout(resolve, Math.max(1, Math.floor(delay)));
    });
    wake = undefined;
  }
  const cpu = process.cpuUsage(cpu0);
  const wallS = (performance.now() - t0) / 1000;
  over = true;
  // What was never answered (or never sent) failed.
  for (let seq = 0; seq < n; seq++) {
    if (!Number.isNaN(answeredMs[seq] as number)) continue;
    const bucket = Math.min(buckets - 1, Math.floor((schedule[seq] as number) / bucketMs));
    failedPerBucket[bucket] = (failedPerBucket[bucket] as number) + 1;
    firstError ??= `no answer within the ${opts.deadlineMs} ms deadline`;
  }
  const gapMs = (p: number): number | null => (gap.totalCount > 0 ? gap.getValueAtPercentile(p) / 1000 : null);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  const result: OpenLoopResult = {
    offeredPerSec: opts.ratePerSec,
    durationS: opts.durationMs / 1000,
    scheduled: n,
    sent,
    ok,
    failed: n - ok,
    okPerSec: ok / (opts.durationMs / 1000),
    latency: latencySummary(latency),
    percentiles: latency.totalCount > 0 ? PLOT_PERCENTILES.map((p) => [p, latency.getValueAtPercentile(p) / 1000] as const) : [],
    generator: { cpuS, cpuShare: wallS > 0 ? cpuS / wallS : 0, sendGapP50Ms: gapMs(50), sendGapP99Ms: gapMs(99), sendGapMaxMs: gap.totalCount > 0 ? gap.maxValue / 1000 : null, heldByBound: held },
    timeline: Array.from({ length: buckets }, (_, i) => ({ tS: (i * bucketMs) / 1000, ok: okPerBucket[i] as number, failed: failedPerBucket[i] as number })),
    ...(firstError === undefined ? {} : { firstError }),
    ...(opts.keepOps ? { ops: { scheduledMs: schedule, answeredMs, ok: okFlags } } : {}),
  };
  latency.destroy();
  gap.destroy();
  return result;
}

/**
 * A closed-loop probe of what `op` can do: `concurrency` workers, each starting the next op when
 * the last one ended, for `durationMs` (at most `maxOps` ops). Resolves to ok ops per second and
 * the errors; places the open-loop steps of the comparison.
 */
export async function probeCapacity(op: OpenLoopOp, o: { concurrency: number; durationMs: number; maxOps?: number }): Promise<{ okPerSec: number; errors: number; firstError?: string }> {
  const maxOps = o.maxOps ?? DEFAULT_MAX_OPS;
  const end = performance.now() + o.durationMs;
  let seq = 0;
  let ok = 0;
  let errors = 0;
  let firstError: string | undefined;
  const worker = async (): Promise<void> => {
    while (performance.now() < end && seq < maxOps && errors < 1000) {
      try {
        // An op started before the end runs to its answer (a lock pair is not left half done);
        // only one stuck retrying past a grace period is told it has expired.
        await op(seq++, () => performance.now() > end + PROBE_GRACE_MS);
        if (performance.now() <= end) ok++;
      } catch (e) {
        errors++;
        firstError ??= errorMessage(e);
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: o.concurrency }, worker));
  const elapsedS = Math.min(o.durationMs, performance.now() - started) / 1000;
  return { okPerSec: ok / elapsedS, errors, ...(firstError === undefined ? {} : { firstError }) };
}
