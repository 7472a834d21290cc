/**
 * `dsync bench queue`: enqueues per second and end-to-end messages per second (enqueue →
 * dequeue → ack), with p50/p99 of each, of the queue service for 16 and 64 closed-loop producers
 * (and as many consumers) over 8 queues, on a 1-node and a 3-node cluster; each run ends with a
 * drain that counts lost and duplicated messages. With `--compare nats` the identical load
 * against NATS JetStream of the same size, with `--compare redis` against one Redis (compared
 * with the 1-node cell only), and the ratios of the two.
 *
 * Targets run one at a time (dsync n nodes, then the other system, for each n), so they never
 * compete for the CPU. Clients are spread over the nodes round-robin in every target.
 */
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import type { Output } from '../check-command.js';
import { benchScratch } from './bench-scratch.js';
import { cpuPer1k, intList, ms, plural, rate, ratio, seconds } from './bench-format.js';
import { startDsyncQueueCluster } from './dsync-queue-target.js';
import { natsAvailable, startJetStream } from './jetstream-target.js';
import { queueNames, runQueueLoad, type QueueLoadResult } from './queue-load.js';
import type { QueueTarget } from './queue-target.js';
import { redisAvailable, startRedis } from './redis-target.js';
import { errorMessage } from '../../cluster/errors.js';

/** The systems `--compare` can run. */
export type QueueCompare = 'nats' | 'redis';
/** The systems measured. */
export type QueueSystem = 'dsync' | QueueCompare;

/** The options of `dsync bench queue`. */
export interface QueueBenchOptions {
  /** Cluster sizes to measure (default [1, 3]); with `compare: 'nats'` each must be 1 or 3, with `'redis'` it must include 1. */
  nodes: number[];
  /** Producer counts to measure, each with as many consumers (default [16, 64]). */
  clients: number[];
  /** Measured seconds per combination (default 5). */
  durationS: number;
  /** Unmeasured seconds before each combination (default 1). */
  warmupS: number;
  /** Also run the identical load against NATS JetStream or Redis and print the ratios. */
  compare?: QueueCompare;
  /** Run only the `compare` system, not dsync. */
  compareOnly?: boolean;
  /** One JSON object per line instead of markdown tables. */
  json?: boolean;
  /** Where the targets keep their data (default: a fresh folder under the OS temp dir, removed afterwards). */
  dir?: string;
}

/** The defaults of {@link QueueBenchOptions}. */
export const QUEUE_BENCH_DEFAULTS: QueueBenchOptions = { nodes: [1, 3], clients: [16, 64], durationS: 5, warmupS: 1 };

/** Exit codes of `dsync bench queue`: all measured cleanly; a target or a load failed (errors, lost or corrupted messages); bad usage. */
export const QUEUE_BENCH_EXIT = { ok: 0, failed: 1, usage: 3 } as const;

/** One measured combination. */
export interface QueueBenchRow {
  system: QueueSystem;
  nodes: number;
  /** The target's label, e.g. `JetStream 3 servers, R=3`. */
  target: string;
  result: QueueLoadResult;
}

/** How the command starts its targets (replaceable in tests). */
export interface QueueBenchTargets {
  dsync(opts: { nodes: number; dir: string; log?: (line: string) => void }): Promise<QueueTarget>;
  nats(opts: { servers: 1 | 3; dir: string; queues: readonly string[]; log?: (line: string) => void }): Promise<QueueTarget>;
  redis(opts: { dir: string; log?: (line: string) => void }): Promise<QueueTarget>;
  available(system: QueueCompare): Promise<boolean>;
}

const realTargets: QueueBenchTargets = {
  dsync: startDsyncQueueCluster,
  nats: startJetStream,
  redis: startRedis,
  available: (system) => (system === 'nats' ? natsAvailable() : redisAvailable()),
};

const INSTALL: Record<QueueCompare, string> = { nats: 'apt-get install nats-server', redis: 'apt-get install redis-server' };

/** Why `opts` cannot run, or undefined. */
export function validateQueueBenchOptions(opts: QueueBenchOptions): string | undefined {
  if (opts.nodes.length === 0 || !opts.nodes.every((n) => Number.isInteger(n) && n >= 1)) return `--nodes: positive integers expected, got ${opts.nodes.join(',')}`;
  if (opts.clients.length === 0 || !opts.clients.every((n) => Number.isInteger(n) && n >= 1)) return `--clients: positive integers expected, got ${opts.clients.join(',')}`;
  if (!(opts.durationS > 0) || !Number.isFinite(opts.durationS)) return `--duration-s: a positive number of seconds expected, got ${opts.durationS}`;
  if (!(opts.warmupS >= 0) || !Number.isFinite(opts.warmupS)) return `--warmup-s: a number of seconds ≥ 0 expected, got ${opts.warmupS}`;
  if (opts.compare !== undefined && opts.compare !== 'nats' && opts.compare !== 'redis') return `--compare: nats or redis expected, got ${String(opts.compare)}`;
  if (opts.compareOnly && opts.compare === undefined) return '--compare-only needs --compare nats|redis';
  if (opts.compare === 'nats') {
    const odd = opts.nodes.filter((n) => n !== 1 && n !== 3);
    if (odd.length > 0) return `--compare nats runs 1 server or 3 clustered; --nodes ${odd.join(',')} cannot be compared`;
  }
  if (opts.compare === 'redis' && !opts.nodes.includes(1)) return '--compare redis runs one Redis, compared with the 1-node cell: include 1 in --nodes';
  return undefined;
}

/** What runs for a cluster size, in order. */
function systemsFor(nodes: number, opts: QueueBenchOptions): QueueSystem[] {
  const out: QueueSystem[] = opts.compareOnly ? [] : ['dsync'];
  if (opts.compare === 'nats') out.push('nats');
  if (opts.compare === 'redis' && nodes === 1) out.push('redis');
  return out;
}

/** A result the command counts as a failure: errors, or messages lost, unexpected or corrupted (duplicates are allowed: at-least-once). */
const unclean = (r: QueueLoadResult): boolean => r.errors > 0 || r.lost > 0 || r.unexpected > 0 || r.corrupted > 0;

/** Runs the queue benchmark; resolves to the exit code ({@link QUEUE_BENCH_EXIT}). Targets are always stopped, also on SIGINT/SIGTERM. */
export async function queueBenchCommand(opts: QueueBenchOptions, io: Output, targets: QueueBenchTargets = realTargets): Promise<number> {
  const invalid = validateQueueBenchOptions(opts);
  if (invalid !== undefined) {
    io.err(`dsync bench queue: ${invalid}`);
    return QUEUE_BENCH_EXIT.usage;
  }
  if (opts.compare !== undefined && !(await targets.available(opts.compare))) {
    io.err(`dsync bench queue: --compare ${opts.compare} needs ${opts.compare === 'nats' ? 'nats-server' : 'redis-server'} on PATH; install it with: ${INSTALL[opts.compare]}`);
    return QUEUE_BENCH_EXIT.usage;
  }
  const scratch = await benchScratch('queue', opts.dir, io);
  const root = scratch.root;
  const log = (line: string): void => io.err(`  ${line}`);

  const start = (system: QueueSystem, nodes: number, dir: string): Promise<QueueTarget> => {
    switch (system) {
      case 'dsync':
        return targets.dsync({ nodes, dir, log });
      case 'nats':
        return targets.nats({ servers: nodes === 1 ? 1 : 3, dir, queues: queueNames(), log });
      case 'redis':
        return targets.redis({ dir, log });
      default: {
        const never: never = system;
        throw new Error(`unknown system ${String(never)}`);
      }
    }
  };

  const rows: QueueBenchRow[] = [];
  let failed = false;
  try {
    for (const nodes of opts.nodes) {
      for (const system of systemsFor(nodes, opts)) {
        if (scratch.interrupted) return 130;
        const dir = join(root, `${system}-${nodes}`);
        io.err(`${system} ${plural(nodes, 'node')}: starting in ${dir}`);
        let target: QueueTarget;
        try {
          target = await start(system, nodes, dir);
        } catch (e) {
          io.err(`dsync bench queue: cannot start ${system} (${plural(nodes, 'node')}): ${errorMessage(e)}`);
          failed = true;
          continue;
        }
        scratch.active = target;
        try {
          if (opts.warmupS > 0) {
            io.err(`${target.label}: warming up for ${opts.warmupS * 2} s`);
            const w = await runQueueLoad(target, { clients: Math.max(...opts.clients), durationMs: opts.warmupS * 2000 });
            if (unclean(w)) io.err(`  warm-up: ${problems(w)}`);
          }
          for (const clients of opts.clients) {
            if (scratch.interrupted) return 130;
            const what = `${target.label}, ${clients} producers + ${clients} consumers`;
            let result: QueueLoadResult;
            try {
              result = await runQueueLoad(target, { clients, durationMs: opts.durationS * 1000, warmupMs: opts.warmupS * 1000 });
            } catch (e) {
              if (scratch.interrupted) return 130;
              io.err(`dsync bench queue: ${what}: ${errorMessage(e)}`);
              failed = true;
              continue;
            }
            if (scratch.interrupted) return 130;
            rows.push({ system, nodes, target: target.label, result });
            io.err(
              `${what}: ${rate(result.enqueuesPerSec)} enqueues/s (p99 ${ms(result.enqueueP99Ms)}), ${rate(result.messagesPerSec)} messages/s end to end ` +
                `(p99 ${ms(result.endToEndP99Ms)}); ${result.enqueued.toLocaleString('en-US')} enqueued, drained in ${(result.drainMs / 1000).toFixed(1)} s: ` +
                `${result.lost} lost, ${result.duplicates} duplicates`,
            );
            if (unclean(result)) {
              failed = true;
              io.err(`  ${problems(result)}`);
            }
            if (opts.json) io.out(JSON.stringify({ type: 'result', system, nodes, target: target.label, ...result }));
          }
        } finally {
          scratch.active = undefined;
          await target.stop().catch((e: unknown) => {
            io.err(`dsync bench queue: stopping ${target.label} failed: ${errorMessage(e)}`);
            failed = true;
          });
        }
      }
    }
  } finally {
    await scratch.close();
  }

  const lines = opts.json ? queueRatios(rows).map((r) => JSON.stringify({ type: 'ratio', ...r })) : formatQueueBench(rows, opts);
  for (const line of lines) io.out(line);
  return failed ? QUEUE_BENCH_EXIT.failed : QUEUE_BENCH_EXIT.ok;
}

/** What went wrong in a load, e.g. `3 errors (the first: ...), 2 lost`. */
function problems(r: QueueLoadResult): string {
  const parts = [];
  if (r.errors > 0) parts.push(`${plural(r.errors, 'error')} (the first: ${r.firstError ?? '?'})`);
  if (r.lost > 0) parts.push(`${r.lost} lost`);
  if (r.unexpected > 0) parts.push(`${r.unexpected} unexpected`);
  if (r.corrupted > 0) parts.push(`${r.corrupted} corrupted`);
  return parts.join(', ');
}

/** One dsync/other comparison of the same combination. */
export interface QueueBenchRatio {
  /** dsync's cluster size (the other system's too, except Redis: always one server). */
  nodes: number;
  clients: number;
  against: QueueCompare;
  /** dsync's enqueues/s divided by the other's. */
  enqueuesPerSecRatio: number;
  /** dsync's end-to-end messages/s divided by the other's. */
  messagesPerSecRatio: number;
  enqueueP99Ms: number;
  otherEnqueueP99Ms: number;
  endToEndP99Ms: number;
  otherEndToEndP99Ms: number;
  /** CPU seconds of the server processes per 1,000 messages, of each (absent when not known). */
  cpuSPer1000?: number;
  otherCpuSPer1000?: number;
}

/** The dsync/other ratio of every combination measured on both (Redis only against dsync's 1-node rows). */
export function queueRatios(rows: readonly QueueBenchRow[]): QueueBenchRatio[] {
  const out: QueueBenchRatio[] = [];
  const per = (a: number, b: number): number => (b > 0 ? a / b : NaN);
  for (const ours of rows.filter((r) => r.system === 'dsync')) {
    for (const theirs of rows.filter((r) => r.system !== 'dsync' && r.nodes === ours.nodes && r.result.clients === ours.result.clients)) {
      const o = ours.result;
      const t = theirs.result;
      out.push({
        nodes: ours.nodes,
        clients: o.clients,
        against: theirs.system as QueueCompare,
        enqueuesPerSecRatio: per(o.enqueuesPerSec, t.enqueuesPerSec),
        messagesPerSecRatio: per(o.messagesPerSec, t.messagesPerSec),
        enqueueP99Ms: o.enqueueP99Ms,
        otherEnqueueP99Ms: t.enqueueP99Ms,
        endToEndP99Ms: o.endToEndP99Ms,
        otherEndToEndP99Ms: t.endToEndP99Ms,
        ...(o.cpuSPer1000 === undefined ? {} : { cpuSPer1000: o.cpuSPer1000 }),
        ...(t.cpuSPer1000 === undefined ? {} : { otherCpuSPer1000: t.cpuSPer1000 }),
      });
    }
  }
  return out;
}

const NAMES: Record<QueueSystem, string> = { dsync: 'dsync', nats: 'NATS JetStream', redis: 'Redis' };

/** The markdown tables: one per system (a row per cluster size and client count), then the ratios. */
export function formatQueueBench(rows: readonly QueueBenchRow[], opts: Pick<QueueBenchOptions, 'durationS' | 'warmupS'>): string[] {
  const lines: string[] = [];
  for (const system of ['dsync', 'nats', 'redis'] as const) {
    const mine = rows.filter((r) => r.system === system);
    if (mine.length === 0) continue;
    if (lines.length > 0) lines.push('');
    lines.push(
      `**${NAMES[system]}**: enqueues per second and end-to-end (enqueue → dequeue → ack) messages per second, p50/p99 of each, lost and duplicated messages after the drain, CPU seconds of the server processes per 1,000 messages (${opts.durationS} s per cell after ${opts.warmupS} s warmup)`,
      '',
      '| cluster | producers + consumers | enqueues/s | enqueue p50 | enqueue p99 | messages/s | end-to-end p50 | end-to-end p99 | CPU s / 1k messages | lost | duplicates | errors |',
      '|---|---|---|---|---|---|---|---|---|---|---|---|',
    );
    for (const { target, result: r } of mine) {
      lines.push(
        `| ${target} | ${r.clients} + ${r.clients} | ${rate(r.enqueuesPerSec)} | ${ms(r.enqueueP50Ms)} | ${ms(r.enqueueP99Ms)} | ${rate(r.messagesPerSec)} | ${ms(r.endToEndP50Ms)} | ${ms(r.endToEndP99Ms)} | ${cpuPer1k(r.cpuSPer1000)} | ${r.lost} | ${r.duplicates} | ${r.errors} |`,
      );
    }
  }
  for (const against of ['nats', 'redis'] as const) {
    const rs = queueRatios(rows).filter((r) => r.against === against);
    if (rs.length === 0) continue;
    lines.push(
      '',
      `**dsync / ${NAMES[against]}**: throughput ratios (above 1: dsync is faster), p99 dsync vs ${NAMES[against]}${against === 'redis' ? ' (one Redis against dsync\'s 1-node cluster)' : ''}`,
      '',
      '| cluster | producers + consumers | enqueues/s | enqueue p99 | messages/s | end-to-end p99 | CPU s / 1k messages |',
      '|---|---|---|---|---|---|---|',
    );
    for (const r of rs) {
      lines.push(
        `| ${plural(r.nodes, 'node')} | ${r.clients} + ${r.clients} | ×${ratio(r.enqueuesPerSecRatio)} | ${ms(r.enqueueP99Ms)} vs ${ms(r.otherEnqueueP99Ms)} | ×${ratio(r.messagesPerSecRatio)} | ${ms(r.endToEndP99Ms)} vs ${ms(r.otherEndToEndP99Ms)} | ${cpuPer1k(r.cpuSPer1000)} vs ${cpuPer1k(r.otherCpuSPer1000)} |`,
      );
    }
  }
  return lines;
}

/**
 * Adds the subcommand `queue` to `bench`; the action hands its exit code to `setCode`. Flags:
 * `--nodes 1,3`, `--clients 16,64`, `--duration-s 5`, `--warmup-s 1`, `--compare nats|redis`,
 * `--compare-only`, `--json`, `--dir DIR`.
 */
export function registerQueueBenchCommand(bench: Command, setCode: (code: number) => void, io: Output): Command {
  return bench
    .command('queue')
    .description('queue enqueues/s and end-to-end messages/s with latency, lost and duplicated messages, optionally against NATS JetStream or Redis')
    .option('--nodes <list>', 'cluster sizes, comma-separated', intList('--nodes', 1, 9, '1,3'), [...QUEUE_BENCH_DEFAULTS.nodes])
    .option('--clients <list>', 'producers (and as many consumers), comma-separated', intList('--clients', 1, 512, '16,64'), [...QUEUE_BENCH_DEFAULTS.clients])
    .option('--duration-s <s>', 'measured seconds per combination', seconds('--duration-s', true, 3600), QUEUE_BENCH_DEFAULTS.durationS)
    .option('--warmup-s <s>', 'unmeasured seconds before each combination', seconds('--warmup-s', false, 600), QUEUE_BENCH_DEFAULTS.warmupS)
    .addOption(
      new Option('--compare <system>', 'run the identical load against NATS JetStream (1 or 3 servers) or one Redis (AOF, fsync always) on loopback and print ratios').choices(['nats', 'redis']),
    )
    .option('--compare-only', 'run only the --compare system, not dsync')
    .option('--json', 'print one JSON object per result (and ratio) instead of markdown tables')
    .option('--dir <dir>', 'where the targets keep their data (default: a fresh temp folder, removed afterwards)')
    .action(async (o: QueueBenchOptions) => {
      setCode(await queueBenchCommand(o, io));
    });
}
