/**
 * `dsync bench cache`: the cache service on 1, 3 or 5 local nodes — hit throughput per node with
 * p50/p99, miss latency, write latency against the number of other nodes sharing the line (0, 1,
 * 2, 4), and the hit rate of a small LRU against key skew; beside them the ceiling of a trivial
 * node:http server on this machine (a hit is one HTTP exchange), and with `--compare redis` the
 * same reads and writes straight against one redis-server over ioredis. Then issue 17's targets,
 * each reported met or not (a missed target never fails the command).
 *
 * Targets run one at a time (the HTTP server, then dsync n nodes for each n, then Redis), so they
 * never compete for the CPU; each is stopped before the next starts, also on error or Ctrl-C.
 */
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import type { Output } from '../check-command.js';
import { benchScratch } from './bench-scratch.js';
import { intList, ms, plural, rate, seconds } from './bench-format.js';
import type { CacheTarget } from './cache-target.js';
import { BENCH_MAX_ENTRIES, startDsyncCacheCluster } from './dsync-cache-target.js';
import { startHttpCeiling } from './http-ceiling.js';
import { startRedisCache } from './redis-cache-target.js';
import { redisAvailable } from '../redis-server.js';
import {
  MISS_CLIENTS_PER_NODE,
  MISS_KEYS_PER_NODE,
  MISS_KINDS,
  SHARER_COUNTS,
  SKEW_CLIENTS_PER_NODE,
  SKEW_EXPONENTS,
  VALUE_BYTES,
  WRITERS,
  prepareHits,
  prepareMisses,
  prepareSkew,
  runHits,
  runMisses,
  runSets,
  runSkew,
  runWrites,
} from './cache-load.js';
import type { LoopResult } from './closed-loop.js';
import { cacheRatios, cacheTargets, formatCacheBench, rowJson, type CacheBenchRow } from './cache-report.js';
import { errorMessage } from '../../cluster/errors.js';

/** The options of `dsync bench cache`. */
export interface CacheBenchOptions {
  /** Cluster sizes to measure. @default [1, 3] */
  nodes: number[];
  /** Closed-loop hit readers per node (for the HTTP ceiling and Redis: in all). @default [16, 64] */
  clients: number[];
  /** Measured seconds per cell (the miss cells end earlier when their keys run out). @default 5 */
  durationS: number;
  /** Unmeasured seconds before each cell (not the miss cells: each key is read once). @default 1 */
  warmupS: number;
  /** Also run the same reads and writes against one Redis. */
  compare?: 'redis';
  /** One JSON object per line instead of markdown tables. */
  json?: boolean;
  /** Where the targets keep their data (default: a fresh folder under the OS temp dir, removed afterwards). */
  dir?: string;
  /** Keys each node reads in a miss cell. @default {@link MISS_KEYS_PER_NODE} */
  missKeysPerNode?: number;
}

/** The defaults of {@link CacheBenchOptions}. */
export const CACHE_BENCH_DEFAULTS: CacheBenchOptions = { nodes: [1, 3], clients: [16, 64], durationS: 5, warmupS: 1 };

/** Exit codes of `dsync bench cache`: every cell measured without errors; a target did not start or a cell had errors; bad usage. */
export const CACHE_BENCH_EXIT = { ok: 0, failed: 1, usage: 3 } as const;

/** How the command starts its targets (replaceable in tests). */
export interface CacheBenchTargets {
  ceiling(opts: { log?: (line: string) => void }): Promise<CacheTarget>;
  dsync(opts: { nodes: number; dir: string; log?: (line: string) => void }): Promise<CacheTarget>;
  redis(opts: { dir: string; log?: (line: string) => void }): Promise<CacheTarget>;
  redisAvailable(): Promise<boolean>;
}

/** The real targets: node:http and dsync child processes, redis-server. */
export const realCacheBenchTargets: CacheBenchTargets = {
  ceiling: (o) => startHttpCeiling({ valueBytes: VALUE_BYTES, ...o }),
  dsync: startDsyncCacheCluster,
  redis: startRedisCache,
  redisAvailable,
};

/** Why `opts` cannot run, or undefined; the message names the flag. */
export function validateCacheBenchOptions(opts: CacheBenchOptions): string | undefined {
  if (opts.nodes.length === 0 || !opts.nodes.every((n) => Number.isInteger(n) && n >= 1 && n <= 9)) return `--nodes: cluster sizes from 1 to 9 expected, got ${opts.nodes.join(',')}`;
  if (opts.clients.length === 0 || !opts.clients.every((n) => Number.isInteger(n) && n >= 1 && n <= 256)) return `--clients: clients per node from 1 to 256 expected, got ${opts.clients.join(',')}`;
  if (!(opts.durationS > 0) || !Number.isFinite(opts.durationS)) return `--duration-s: a positive number of seconds expected, got ${opts.durationS}`;
  if (!(opts.warmupS >= 0) || !Number.isFinite(opts.warmupS)) return `--warmup-s: a number of seconds ≥ 0 expected, got ${opts.warmupS}`;
  if (opts.compare !== undefined && opts.compare !== 'redis') return `--compare: redis expected, got ${String(opts.compare)}`;
  const m = opts.missKeysPerNode;
  if (m !== undefined && !(Number.isInteger(m) && m >= 1)) return `missKeysPerNode: a positive integer expected, got ${m}`;
  return undefined;
}

/** What went wrong in a cell, or undefined when nothing did. */
function problems(r: { errors: number; firstError?: string }): string | undefined {
  return r.errors > 0 ? `${plural(r.errors, 'error')} (the first: ${r.firstError ?? '?'})` : undefined;
}

/** Runs the cache benchmark; resolves to the exit code ({@link CACHE_BENCH_EXIT}). Targets are always stopped, also on SIGINT/SIGTERM. */
export async function cacheBenchCommand(opts: CacheBenchOptions, io: Output, targets: CacheBenchTargets = realCacheBenchTargets): Promise<number> {
  const invalid = validateCacheBenchOptions(opts);
  if (invalid !== undefined) {
    io.err(`dsync bench cache: ${invalid}`);
    return CACHE_BENCH_EXIT.usage;
  }
  if (opts.compare === 'redis' && !(await targets.redisAvailable())) {
    io.err('dsync bench cache: --compare redis needs redis-server on PATH; install it with: apt-get install redis-server');
    return CACHE_BENCH_EXIT.usage;
  }
  const scratch = await benchScratch('cache', opts.dir, io);
  const log = (line: string): void => io.err(`  ${line}`);
  const durationMs = opts.durationS * 1000;
  const warmupMs = opts.warmupS * 1000;
  const rows: CacheBenchRow[] = [];
  let failed = false;
  const emit = (row: CacheBenchRow, summary: string): void => {
    rows.push(row);
    io.err(`${row.target}: ${summary}`);
    const bad = problems(row.result);
    if (bad !== undefined) {
      failed = true;
      io.err(`  ${bad}`);
    }
    if (opts.json) io.out(rowJson(row));
  };
  const loop = (r: LoopResult): string => `p50 ${ms(r.p50Ms)}, p99 ${ms(r.p99Ms)}, load CPU ${Math.round(r.loadCpuPct)} %`;

  /** Starts a target, runs `cells` on it, stops it; false when a signal came. A target that cannot start, or a cell that throws, fails the run. */
  const withTarget = async (what: string, start: () => Promise<CacheTarget>, cells: (t: CacheTarget) => Promise<void>): Promise<boolean> => {
    if (scratch.interrupted) return false;
    io.err(`${what}: starting`);
    let target: CacheTarget;
    try {
      target = await start();
    } catch (e) {
      io.err(`dsync bench cache: cannot start ${what}: ${errorMessage(e)}`);
      failed = true;
      return !scratch.interrupted;
    }
    scratch.active = target;
    try {
      await cells(target);
    } catch (e) {
      if (!scratch.interrupted) {
        io.err(`dsync bench cache: ${target.label}: ${errorMessage(e)}`);
        failed = true;
      }
    } finally {
      scratch.active = undefined;
      await target.stop().catch((e: unknown) => {
        io.err(`dsync bench cache: stopping ${target.label} failed: ${errorMessage(e)}`);
        failed = true;
      });
    }
    return !scratch.interrupted;
  };
  const live = (): void => {
    if (scratch.interrupted) throw new Error('interrupted');
  };

  try {
    const ceilingDone = await withTarget('the trivial node:http server', () => targets.ceiling({ log }), async (t) => {
      for (const clients of opts.clients) {
        live();
        const r = await runHits(t, { clientsPerNode: clients, durationMs, warmupMs });
        emit({ type: 'ceiling', target: t.label, clients, result: r }, `${plural(clients, 'client')}: ${rate(r.opsPerSec)} requests/s, ${loop(r)}`);
      }
    });
    if (!ceilingDone) return 130;

    for (const nodes of opts.nodes) {
      const dir = join(scratch.root, `dsync-${nodes}`);
      const done = await withTarget(`dsync ${plural(nodes, 'node')} in ${dir}`, () => targets.dsync({ nodes, dir, log }), async (t) => {
        await prepareHits(t);
        for (const clientsPerNode of opts.clients) {
          live();
          const r = await runHits(t, { clientsPerNode, durationMs, warmupMs });
          emit({ type: 'hits', nodes, target: t.label, clientsPerNode, result: r }, `${clientsPerNode} clients per node: ${rate(r.opsPerSec)} hits/s, hit share ${(r.hitShare * 100).toFixed(2)} %, ${loop(r)}`);
          if (!(r.hitShare >= 0.99)) io.err(`  odd: only ${(r.hitShare * 100).toFixed(2)} % of the hit cell's reads were hits`);
        }
        const keysPerNode = opts.missKeysPerNode ?? MISS_KEYS_PER_NODE;
        live();
        const t0 = performance.now();
        await prepareMisses(t, { keysPerNode, lruEntries: BENCH_MAX_ENTRIES });
        log(`wrote the miss cells' keys in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
        for (const kind of MISS_KINDS) {
          live();
          const r = await runMisses(t, kind, { keysPerNode, durationMs });
          emit({ type: 'misses', nodes, target: t.label, kind, clientsPerNode: MISS_CLIENTS_PER_NODE, result: r }, `${kind} misses: ${rate(r.ops)} in ${(r.elapsedMs / 1000).toFixed(1)} s, ${loop(r)}`);
          if (r.hits > 0) io.err(`  odd: ${r.hits} of the miss cell's reads were hits`);
        }
        for (const sharers of SHARER_COUNTS.filter((s) => s <= nodes - 1)) {
          live();
          const r = await runWrites(t, { sharers, durationMs, warmupMs });
          emit({ type: 'writes', nodes, target: t.label, result: r }, `writes with ${plural(sharers, 'sharer')}: ${rate(r.writesPerSec)} writes/s, p50 ${ms(r.p50Ms)}, p99 ${ms(r.p99Ms)}`);
          if (r.sharerHits > 0) io.err(`  odd: ${r.sharerHits} sharer reads after a write were hits (the write should have invalidated them)`);
        }
        live();
        await prepareSkew(t);
        for (const exponent of SKEW_EXPONENTS) {
          live();
          const r = await runSkew(t, { exponent, lruEntries: BENCH_MAX_ENTRIES, durationMs, warmupMs });
          emit({ type: 'skew', nodes, target: t.label, clientsPerNode: SKEW_CLIENTS_PER_NODE, result: r }, `zipf ${exponent}: hit rate ${(r.hitShare * 100).toFixed(1)} % (best static ${(r.bestHitRate * 100).toFixed(1)} %), ${rate(r.opsPerSec)} ops/s`);
        }
      });
      if (!done) return 130;
    }

    if (opts.compare === 'redis') {
      const dir = join(scratch.root, 'redis');
      const done = await withTarget(`Redis in ${dir}`, () => targets.redis({ dir, log }), async (t) => {
        await prepareHits(t);
        for (const clients of opts.clients) {
          live();
          const r = await runHits(t, { clientsPerNode: clients, durationMs, warmupMs });
          emit({ type: 'redis', target: t.label, op: 'get', clients, result: r }, `GET, ${plural(clients, 'client')}: ${rate(r.opsPerSec)} ops/s, ${loop(r)}`);
        }
        live();
        const r = await runSets(t, { clients: WRITERS, durationMs, warmupMs });
        emit({ type: 'redis', target: t.label, op: 'set', clients: WRITERS, result: r }, `SET, ${plural(WRITERS, 'client')}: ${rate(r.opsPerSec)} ops/s, ${loop(r)}`);
      });
      if (!done) return 130;
    }
  } finally {
    await scratch.close();
  }

  if (opts.json) {
    for (const r of cacheRatios(rows)) io.out(JSON.stringify({ type: 'ratio', ...r }));
    for (const t of cacheTargets(rows)) io.out(JSON.stringify({ type: 'target', ...t }));
  } else {
    for (const line of formatCacheBench(rows, opts)) io.out(line);
  }
  return failed ? CACHE_BENCH_EXIT.failed : CACHE_BENCH_EXIT.ok;
}

/**
 * Adds the subcommand `cache` to `bench`; the action hands its exit code to `setCode`. Flags:
 * `--nodes 1,3`, `--clients 16,64`, `--duration-s 5`, `--warmup-s 1`, `--compare redis`,
 * `--json`, `--dir DIR`.
 */
export function registerCacheBenchCommand(bench: Command, setCode: (code: number) => void, io: Output): Command {
  return bench
    .command('cache')
    .description('cache hits/s per node with latency, miss and write latency against sharers, hit rate against key skew, the node:http ceiling; optionally against Redis')
    .option('--nodes <list>', 'cluster sizes, comma-separated', intList('--nodes', 1, 9, '1,3,5'), [...CACHE_BENCH_DEFAULTS.nodes])
    .option('--clients <list>', 'closed-loop hit readers per node, comma-separated', intList('--clients', 1, 256, '16,64'), [...CACHE_BENCH_DEFAULTS.clients])
    .option('--duration-s <s>', 'measured seconds per cell', seconds('--duration-s', true, 3600), CACHE_BENCH_DEFAULTS.durationS)
    .option('--warmup-s <s>', 'unmeasured seconds before each cell', seconds('--warmup-s', false, 600), CACHE_BENCH_DEFAULTS.warmupS)
    .addOption(new Option('--compare <system>', 'run the same reads and writes against one Redis (AOF, fsync always) on loopback, over ioredis').choices(['redis']))
    .option('--json', 'print one JSON object per cell (then per ratio and target) instead of markdown tables')
    .option('--dir <dir>', 'where the targets keep their data (default: a fresh temp folder, removed afterwards)')
    .action(async (o: CacheBenchOptions) => {
      setCode(await cacheBenchCommand(o, io));
    });
}
