/**
 * The closed loop under the cache benchmark's cells: workers, each with a client of its own
 * node, running one operation after the other for a fixed time, bounded in count; latencies into
 * an HdrHistogram, the `hit` of each read counted, the servers' and the load process's CPU over
 * the measured window.
 */
import { histogram, latencies, micros } from './bench-histogram.js';
import { CpuWindow, cpuField } from './process-cpu.js';
import type { CacheClient, CacheTarget } from './cache-target.js';
import { closeAll, createClients } from './bench-clients.js';
import { errorMessage } from '../../cluster/errors.js';

/** How {@link runClosedLoop} runs. */
export interface LoopOptions {
  /** The node each worker's client talks to: worker `i` uses node `nodeOf[i]` (one worker per entry). */
  readonly nodeOf: readonly number[];
  /** Length of the measured window after the warmup, in ms. */
  readonly durationMs: number;
  /** Unmeasured time before the window, in ms. @default 0 */
  readonly warmupMs?: number;
  /** No operation starts after this many measured ones. @default {@link DEFAULT_MAX_OPS} */
  readonly maxOps?: number;
}

/** What one operation did: a read's `hit` (when the target tells), and whether its latency counts. */
export interface Outcome {
  readonly hit?: boolean;
  /** Record its latency (false: counted as an operation, but not timed, e.g. the writes among reads). @default true */
  readonly timed?: boolean;
}

/** One operation of worker `worker` with its `client`; `'done'` when the worker has nothing left to do. Rejects on an error. */
export type LoopOp = (client: CacheClient, worker: number) => Promise<Outcome | 'done'>;

/** What a loop measured. Latencies in ms (NaN when nothing was timed). */
export interface LoopResult {
  workers: number;
  /** Operations completed inside the measured window. */
  ops: number;
  opsPerSec: number;
  /** Operations per second of each node's workers. */
  perNodeOpsPerSec: number[];
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Operations in the window whose outcome told a hit or a miss, and how many were hits. */
  reads: number;
  hits: number;
  /** `hits / reads` (NaN when no outcome told). */
  hitShare: number;
  /** Failed operations, warmup included. */
  errors: number;
  firstError?: string;
  /** Length of the measured window: `durationMs`, or less when it ended early (count reached, or every worker done). */
  elapsedMs: number;
  /** CPU seconds of the target's server processes per 1,000 operations of the window (absent when not known). */
  cpuSPer1000?: number;
  /** The load process's own CPU over the window, in % of one core (it is single-threaded: near 100 % it is the bottleneck). */
  loadCpuPct: number;
}

/** The default of {@link LoopOptions.maxOps}. */
export const DEFAULT_MAX_OPS = 5_000_000;
/** The loop stops early after this many errors. */
export const MAX_ERRORS = 1000;
/** How long operations still in flight after the window are waited for. */
export const DRAIN_MS = 30_000;


/**
 * Runs `op` in `nodeOf.length` closed-loop workers against `target`. The window opens `warmupMs`
 * after the clients exist and lasts `durationMs`; an operation counts (and is timed) when it
 * completes inside it. No operation starts after the window, after `maxOps` measured ones or after
 * {@link MAX_ERRORS} errors; a worker whose `op` says `'done'` stops, and when all have, the window
 * closes there. The clients are closed at the end, also when one could not be made.
 */
export async function runClosedLoop(target: CacheTarget, opts: LoopOptions, op: LoopOp): Promise<LoopResult> {
  const { nodeOf, durationMs } = opts;
  const warmupMs = opts.warmupMs ?? 0;
  const maxOps = opts.maxOps ?? DEFAULT_MAX_OPS;
  if (nodeOf.length === 0 || !nodeOf.every((n) => Number.isInteger(n) && n >= 0 && n < target.nodes)) throw new RangeError(`nodeOf must name nodes 0..${target.nodes - 1}, got [${nodeOf.join(',')}]`);
  if (!(durationMs > 0) || !Number.isFinite(durationMs)) throw new RangeError(`durationMs must be positive, got ${durationMs}`);
  if (!(warmupMs >= 0) || !Number.isFinite(warmupMs)) throw new RangeError(`warmupMs must be ≥ 0, got ${warmupMs}`);
  if (!Number.isInteger(maxOps) || maxOps < 1) throw new RangeError(`maxOps must be a positive integer, got ${maxOps}`);

  const clients = await createClients(target, nodeOf);
  const hist = histogram();
  try {
    let ops = 0;
    let reads = 0;
    let hits = 0;
    let errors = 0;
    let firstError: string | undefined;
    const perNode = new Array<number>(target.nodes).fill(0);
    let stopped = false;
    let stopAt: number | undefined;
    const start = performance.now() + warmupMs;
    const end = start + durationMs;
    const cpu = new CpuWindow(() => target.pids(), warmupMs);
    let loadStart: NodeJS.CpuUsage | undefined;
    let loadUsed: NodeJS.CpuUsage | undefined;
    const loadTimer = setTimeout(() => (loadStart = process.cpuUsage()), warmupMs);
    const stop = (now: number): void => {
      if (stopped) return;
      stopped = true;
      if (now < end) stopAt = Math.max(now, start);
      void cpu.close();
      if (loadStart !== undefined) loadUsed = process.cpuUsage(loadStart);
    };
    const windowTimer = setTimeout(() => stop(end), warmupMs + durationMs);

    const worker = async (client: CacheClient, i: number): Promise<void> => {
      while (!stopped) {
        const t0 = performance.now();
        if (t0 >= end) return;
        let out: Outcome | 'done';
        try {
          out = await op(client, i);
        } catch (e) {
          errors++;
          firstError ??= errorMessage(e);
          if (errors > MAX_ERRORS) stop(performance.now());
          continue;
        }
        if (out === 'done') return;
        const t1 = performance.now();
        if (stopped || t1 < start || t1 > end) continue;
        ops++;
        const node = nodeOf[i] as number;
        perNode[node] = (perNode[node] ?? 0) + 1;
        if (out.hit !== undefined) {
          reads++;
          if (out.hit) hits++;
        }
        if (out.timed !== false) hist.recordValue(micros(t1 - t0));
        if (ops >= maxOps) stop(t1);
      }
    };

    let drainTimer: NodeJS.Timeout | undefined;
    const drained = await Promise.race([
      Promise.all(clients.map((c, i) => worker(c, i))).then(() => true),
      new Promise<false>((resolve) => (drainTimer = setTimeout(() => resolve(false), warmupMs + durationMs + DRAIN_MS))),
    ]);
    clearTimeout(drainTimer);
    clearTimeout(windowTimer);
    stop(performance.now()); // every worker done before the window's end: it ends here
    clearTimeout(loadTimer);
    const cpuS = await cpu.close();
    if (!drained) {
      errors++;
      firstError ??= `operations still pending ${DRAIN_MS} ms after the end of the window`;
    }
    const elapsedMs = stopAt === undefined ? durationMs : stopAt - start;
    const perSec = (count: number): number => (elapsedMs > 0 ? (count * 1000) / elapsedMs : 0);
    const used = loadUsed === undefined ? 0 : (loadUsed.user + loadUsed.system) / 1000;
    const result: LoopResult = {
      workers: nodeOf.length,
      ops,
      opsPerSec: perSec(ops),
      perNodeOpsPerSec: perNode.map(perSec),
      ...latencies(hist),
      reads,
      hits,
      hitShare: reads > 0 ? hits / reads : NaN,
      errors,
      ...(firstError === undefined ? {} : { firstError }),
      elapsedMs,
      ...cpuField(cpuS, ops),
      loadCpuPct: elapsedMs > 0 ? (100 * used) / elapsedMs : 0,
    };
    const closeError = await closeAll(clients).then(() => undefined, (e: unknown) => errorMessage(e));
    if (closeError !== undefined) {
      result.errors++;
      result.firstError ??= closeError;
    }
    return result;
  } catch (e) {
    await closeAll(clients).catch(() => undefined); // the first error is the one to report
    throw e;
  } finally {
    hist.destroy();
  }
}
