/**
 * The closed-loop load of the lock benchmark: `clients` clients, each acquiring and releasing a
 * lock as fast as it can, one pair after the other, for a fixed time. It only knows the
 * {@link LockTarget} interface, so a dsync cluster and etcd get the identical load.
 */
import { CpuWindow, cpuField } from './process-cpu.js';
import { histogram as newHistogram, micros } from './bench-histogram.js';
import type { LockTarget, PairClient } from './lock-target.js';
import { closeAll, createClients, upTo } from './bench-clients.js';
import { errorMessage } from '../../cluster/errors.js';

/** How {@link runLockLoad} loads the target. */
export interface LockLoadOptions {
  /** Concurrent clients (≥ 1), each with a session of its own. */
  clients: number;
  /** All clients on the one lock `bench-contended` (true), or a lock per client `bench-<i>` (false). */
  contended: boolean;
  /** Length of the measured window after the warmup, in ms. */
  durationMs: number;
  /** Unmeasured time before the window, in ms (default 0). */
  warmupMs?: number;
  /** Stops after this many measured pairs even if time is left (default 1,000,000). */
  maxPairs?: number;
}

/** What one load measured. Latencies are of one acquire+release pair, in ms (NaN when no pair was measured). */
export interface LoadResult {
  clients: number;
  contended: boolean;
  /** Pairs completed inside the measured window. */
  pairs: number;
  /** Failed pairs, warmup included. */
  errors: number;
  /** The message of the first failed pair. */
  firstError?: string;
  /** Length of the measured window: `durationMs`, or less when the run stopped early. */
  elapsedMs: number;
  pairsPerSec: number;
  /** CPU seconds the target's server processes used per 1,000 measured pairs (absent when not known). */
  cpuSPer1000?: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** The lock every client uses in contended mode. */
export const CONTENDED_LOCK = 'bench-contended';
/** The default of {@link LockLoadOptions.maxPairs}. */
export const DEFAULT_MAX_PAIRS = 1_000_000;
/** The run stops early after this many failed pairs. */
export const MAX_ERRORS = 1000;
/** How long pairs still in flight at the end of the window are waited for before the clients are closed anyway. */
export const DRAIN_MS = 30_000;

/**
 * Runs the load against `target` and measures it.
 *
 * The window starts `warmupMs` after all clients exist and lasts `durationMs`; a pair counts (and
 * its latency is recorded, at microsecond resolution) when it completes inside the window, so
 * pairs that straddle either edge are not lost to the throughput. No new pair starts after the
 * window, after `maxPairs` measured pairs, or after {@link MAX_ERRORS} errors; pairs still in
 * flight are awaited (at most {@link DRAIN_MS}) and then every client is closed, also when a
 * client could not be created or a pair threw. A failed pair is counted, its client goes on.
 */
export async function runLockLoad(target: LockTarget, opts: LockLoadOptions): Promise<LoadResult> {
  const { clients: n, contended, durationMs } = opts;
  const warmupMs = opts.warmupMs ?? 0;
  const maxPairs = opts.maxPairs ?? DEFAULT_MAX_PAIRS;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`clients must be a positive integer, got ${n}`);
  if (!(durationMs > 0) || !Number.isFinite(durationMs)) throw new RangeError(`durationMs must be positive, got ${durationMs}`);
  if (!(warmupMs >= 0) || !Number.isFinite(warmupMs)) throw new RangeError(`warmupMs must be ≥ 0, got ${warmupMs}`);
  if (!Number.isInteger(maxPairs) || maxPairs < 1) throw new RangeError(`maxPairs must be a positive integer, got ${maxPairs}`);

  const clients = await createClients(target, upTo(n));
  const histogram = newHistogram();
  let result: LoadResult;
  try {
    let pairs = 0;
    let errors = 0;
    let firstError: string | undefined;
    let stopped = false; // no new pairs
    let finished = false; // the result is taken: record nothing more
    let stopAt: number | undefined; // when the window closed early
    const start = performance.now() + warmupMs;
    const end = start + durationMs;
    // The servers' CPU over the same window as the pairs (closed early with it).
    const cpu = new CpuWindow(() => target.pids(), warmupMs);
    const closeTimer = setTimeout(() => void cpu.close(), warmupMs + durationMs);
    const stop = (now: number): void => {
      if (stopped) return;
      stopped = true;
      if (now < end) {
        stopAt = Math.max(now, start);
        void cpu.close();
      }
    };

    const worker = async (client: PairClient, lock: string): Promise<void> => {
      while (!stopped && !finished) {
        const t0 = performance.now();
        if (t0 >= end) break;
        try {
          await client.pair(lock);
        } catch (e) {
          if (finished) return;
          errors++;
          firstError ??= errorMessage(e);
          if (errors > MAX_ERRORS) stop(performance.now());
          continue;
        }
        const t1 = performance.now();
        if (finished || t1 < start || t1 > end || pairs >= maxPairs) continue;
        histogram.recordValue(micros(t1 - t0));
        if (++pairs >= maxPairs) stop(t1);
      }
    };

    const workers = clients.map((c, i) => worker(c, contended ? CONTENDED_LOCK : `bench-${i}`));
    let drainTimer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      Promise.all(workers).then(() => true),
      new Promise<false>((resolve) => {
        drainTimer = setTimeout(() => resolve(false), Math.max(0, end - performance.now()) + DRAIN_MS);
      }),
    ]);
    clearTimeout(drainTimer);
    clearTimeout(closeTimer);
    // The workers end as the window does, maybe before its timer fires.
    const cpuS = await cpu.close();
    finished = true;
    if (!drained) {
      errors++;
      firstError ??= `pairs still pending ${DRAIN_MS} ms after the end of the run`;
    }

    const elapsedMs = stopAt === undefined ? durationMs : stopAt - start;
    const ms = (us: number): number => (pairs === 0 ? NaN : us / 1000);
    result = {
      clients: n,
      contended,
      pairs,
      errors,
      ...(firstError === undefined ? {} : { firstError }),
      elapsedMs,
      pairsPerSec: elapsedMs > 0 ? (pairs * 1000) / elapsedMs : 0,
      ...cpuField(cpuS, pairs),
      p50Ms: ms(histogram.getValueAtPercentile(50)),
      p99Ms: ms(histogram.getValueAtPercentile(99)),
      maxMs: ms(histogram.maxValue),
    };
  } catch (e) {
    await closeAll(clients).catch(() => undefined); // the first error is the one to report
    throw e;
  } finally {
    histogram.destroy();
  }
  // A client that cannot close (e.g. its lease cannot be revoked) is an error of the run, not a lost result.
  const closeError = await closeAll(clients).then(() => undefined, (e: unknown) => errorMessage(e));
  if (closeError !== undefined) {
    result.errors++;
    result.firstError ??= closeError;
  }
  return result;
}
