/**
 * `dsync bench lock`: acquire+release pairs per second and pair latency (p50/p99) of the lock
 * service for 1, 16 and 64 closed-loop clients, each on a lock of its own (uncontended) and all
 * on one lock (contended), on a 1-node and a 3-node cluster; with `--compare etcd` the identical
 * load against an etcd of the same size, started on loopback, and the ratios of the two.
 *
 * Targets run one at a time (dsync n nodes, then etcd n members, for each n), so they never
 * compete for the CPU. Clients are spread over the nodes round-robin: client `i` talks to node
 * (member) `i mod n`, for etcd here and for dsync in its target.
 */
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { cpuPer1k, intList, ms, plural, ratio, seconds } from './bench-format.js';
import type { Output } from '../check-command.js';
import { benchScratch } from './bench-scratch.js';
import { startDsyncCluster } from './dsync-target.js';
import { etcdAvailable, startEtcd } from './etcd-target.js';
import { runLockLoad, type LoadResult } from './lock-load.js';
import type { LockTarget } from './lock-target.js';
import { errorMessage } from '../../cluster/errors.js';

/** The options of `dsync bench lock`. */
export interface LockBenchOptions {
  /** Cluster sizes to measure (default [1, 3]); with `compare: 'etcd'` each must be 1 or 3. */
  nodes: number[];
  /** Client counts to measure (default [1, 16, 64]). */
  clients: number[];
  /** Measured seconds per combination (default 5). */
  durationS: number;
  /** Unmeasured seconds before each combination (default 1). */
  warmupS: number;
  /** Also run the identical load against etcd and print the ratios. */
  compare?: 'etcd';
  /** Which modes: a lock per client (`no`), one lock for all (`yes`) or both (default). */
  contended: 'both' | 'yes' | 'no';
  /** One JSON object per line instead of markdown tables. */
  json?: boolean;
  /** Where the targets keep their data (default: a fresh folder under the OS temp dir, removed afterwards). */
  dir?: string;
}

/** The defaults of {@link LockBenchOptions}. */
export const LOCK_BENCH_DEFAULTS: LockBenchOptions = { nodes: [1, 3], clients: [1, 16, 64], durationS: 5, warmupS: 1, contended: 'both' };

/** Exit codes of `dsync bench lock`: all measured cleanly; a target or a load failed (or had errors); bad usage. */
export const BENCH_EXIT = { ok: 0, failed: 1, usage: 3 } as const;

/** The systems measured. */
export type BenchSystem = 'dsync' | 'etcd';

/** One measured combination. */
export interface BenchRow {
  system: BenchSystem;
  nodes: number;
  /** The target's label, e.g. `etcd 3 members`. */
  target: string;
  result: LoadResult;
}

/** How the command starts its targets (replaceable in tests). */
export interface BenchTargets {
  dsync(opts: { nodes: number; dir: string; log?: (line: string) => void }): Promise<LockTarget>;
  etcd(opts: { members: 1 | 3; dir: string; log?: (line: string) => void }): Promise<LockTarget>;
  etcdAvailable(): Promise<boolean>;
}

const realTargets: BenchTargets = { dsync: startDsyncCluster, etcd: startEtcd, etcdAvailable };

/** Why `opts` cannot run, or undefined. */
export function validateLockBenchOptions(opts: LockBenchOptions): string | undefined {
  if (opts.nodes.length === 0 || !opts.nodes.every((n) => Number.isInteger(n) && n >= 1)) return `--nodes: positive integers expected, got ${opts.nodes.join(',')}`;
  if (opts.clients.length === 0 || !opts.clients.every((n) => Number.isInteger(n) && n >= 1)) return `--clients: positive integers expected, got ${opts.clients.join(',')}`;
  if (!(opts.durationS > 0) || !Number.isFinite(opts.durationS)) return `--duration-s: a positive number of seconds expected, got ${opts.durationS}`;
  if (!(opts.warmupS >= 0) || !Number.isFinite(opts.warmupS)) return `--warmup-s: a number of seconds ≥ 0 expected, got ${opts.warmupS}`;
  if (!['both', 'yes', 'no'].includes(opts.contended)) return `--contended: both, yes or no expected, got ${opts.contended}`;
  if (opts.compare !== undefined && opts.compare !== 'etcd') return `--compare: only etcd is supported, got ${String(opts.compare)}`;
  if (opts.compare === 'etcd') {
    const odd = opts.nodes.filter((n) => n !== 1 && n !== 3);
    if (odd.length > 0) return `--compare etcd runs 1- or 3-member etcd clusters; --nodes ${odd.join(',')} cannot be compared`;
  }
  return undefined;
}

/** Runs the lock benchmark; resolves to the exit code ({@link BENCH_EXIT}). Targets are always stopped, also on SIGINT/SIGTERM. */
export async function lockBenchCommand(opts: LockBenchOptions, io: Output, targets: BenchTargets = realTargets): Promise<number> {
  const invalid = validateLockBenchOptions(opts);
  if (invalid !== undefined) {
    io.err(`dsync bench lock: ${invalid}`);
    return BENCH_EXIT.usage;
  }
  if (opts.compare === 'etcd' && !(await targets.etcdAvailable())) {
    io.err('dsync bench lock: --compare etcd needs an etcd binary on PATH; install it with: apt-get install etcd-server');
    return BENCH_EXIT.usage;
  }
  const modes = opts.contended === 'both' ? [false, true] : [opts.contended === 'yes'];
  const scratch = await benchScratch('lock', opts.dir, io);
  const root = scratch.root;
  const log = (line: string): void => io.err(`  ${line}`);

  const rows: BenchRow[] = [];
  let failed = false;
  try {
    for (const nodes of opts.nodes) {
      const systems: BenchSystem[] = opts.compare === 'etcd' ? ['dsync', 'etcd'] : ['dsync'];
      for (const system of systems) {
        if (scratch.interrupted) return 130;
        const dir = join(root, `${system}-${nodes}`);
        const name = system === 'dsync' ? `dsync ${plural(nodes, 'node')}` : `etcd ${plural(nodes, 'member')}`;
        io.err(`${name}: starting in ${dir}`);
        let target: LockTarget;
        try {
          target = system === 'dsync' ? await targets.dsync({ nodes, dir, log }) : await targets.etcd({ members: nodes === 1 ? 1 : 3, dir, log });
        } catch (e) {
          io.err(`dsync bench lock: cannot start ${name}: ${errorMessage(e)}`);
          failed = true;
          continue;
        }
        scratch.active = target;
        try {
          if (opts.warmupS > 0) {
            // A fresh cluster runs its first seconds slowly (JIT, caches, connections): warm the
            // target up once, unmeasured, so the first cell is not penalized.
            io.err(`${target.label}: warming up for ${opts.warmupS * 2} s`);
            const w = await runLockLoad(target, { clients: Math.max(...opts.clients), contended: false, durationMs: opts.warmupS * 2000 });
            if (w.errors > 0) io.err(`  warm-up: ${w.errors} failed pairs; the first: ${w.firstError ?? '?'}`);
          }
          for (const contended of modes) {
            for (const clients of opts.clients) {
              if (scratch.interrupted) return 130;
              const what = `${target.label}, ${contended ? 'contended' : 'uncontended'}, ${plural(clients, 'client')}`;
              let result: LoadResult;
              try {
                result = await runLockLoad(target, { clients, contended, durationMs: opts.durationS * 1000, warmupMs: opts.warmupS * 1000 });
              } catch (e) {
                if (scratch.interrupted) return 130;
                io.err(`dsync bench lock: ${what}: ${errorMessage(e)}`);
                failed = true;
                continue;
              }
              if (scratch.interrupted) return 130;
              rows.push({ system, nodes, target: target.label, result });
              io.err(`${what}: ${cell(result)}, max ${ms(result.maxMs)} (${result.pairs.toLocaleString('en-US')} pairs in ${(result.elapsedMs / 1000).toFixed(1)} s)`);
              if (result.errors > 0) {
                failed = true;
                io.err(`  ${result.errors} failed pairs; the first: ${result.firstError ?? '?'}`);
              }
              if (opts.json) io.out(JSON.stringify({ type: 'result', system, nodes, target: target.label, ...result }));
            }
          }
        } finally {
          scratch.active = undefined;
          await target.stop().catch((e: unknown) => {
            io.err(`dsync bench lock: stopping ${target.label} failed: ${errorMessage(e)}`);
            failed = true;
          });
        }
      }
    }
  } finally {
    await scratch.close();
  }

  const lines = opts.json ? ratios(rows).map((r) => JSON.stringify({ type: 'ratio', ...r })) : formatLockBench(rows, opts);
  for (const line of lines) io.out(line);
  return failed ? BENCH_EXIT.failed : BENCH_EXIT.ok;
}

/** One ours/etcd comparison of the same combination. */
export interface BenchRatio {
  nodes: number;
  contended: boolean;
  clients: number;
  /** dsync pairs/s divided by etcd pairs/s. */
  pairsPerSecRatio: number;
  p99Ms: number;
  etcdP99Ms: number;
  /** CPU seconds per 1,000 pairs of each (absent when not known). */
  cpuSPer1000?: number;
  etcdCpuSPer1000?: number;
}

/** The ours/etcd ratio of every combination measured on both. */
export function ratios(rows: readonly BenchRow[]): BenchRatio[] {
  const out: BenchRatio[] = [];
  for (const ours of rows.filter((r) => r.system === 'dsync')) {
    const theirs = rows.find((r) => r.system === 'etcd' && r.nodes === ours.nodes && r.result.contended === ours.result.contended && r.result.clients === ours.result.clients);
    if (theirs === undefined) continue;
    out.push({
      nodes: ours.nodes,
      contended: ours.result.contended,
      clients: ours.result.clients,
      pairsPerSecRatio: theirs.result.pairsPerSec > 0 ? ours.result.pairsPerSec / theirs.result.pairsPerSec : NaN,
      p99Ms: ours.result.p99Ms,
      etcdP99Ms: theirs.result.p99Ms,
      ...(ours.result.cpuSPer1000 === undefined ? {} : { cpuSPer1000: ours.result.cpuSPer1000 }),
      ...(theirs.result.cpuSPer1000 === undefined ? {} : { etcdCpuSPer1000: theirs.result.cpuSPer1000 }),
    });
  }
  return out;
}

/** The markdown tables: one per system (a row per cluster size and mode, a column per client count), then the ratios. */
export function formatLockBench(rows: readonly BenchRow[], opts: Pick<LockBenchOptions, 'clients' | 'durationS' | 'warmupS'>): string[] {
  const header = (first: string): string[] => [
    `| ${first} | ${opts.clients.map((c) => plural(c, 'client')).join(' | ')} |`,
    `|---|${opts.clients.map(() => '---|').join('')}`,
  ];
  const groups = (system: BenchSystem): Map<string, BenchRow[]> => {
    const map = new Map<string, BenchRow[]>();
    for (const row of rows.filter((r) => r.system === system)) {
      const key = `${row.target}, ${mode(row.result.contended)}`;
      map.set(key, [...(map.get(key) ?? []), row]);
    }
    return map;
  };
  const lines: string[] = [];
  for (const system of ['dsync', 'etcd'] as const) {
    const g = groups(system);
    if (g.size === 0) continue;
    if (lines.length > 0) lines.push('');
    lines.push(`**${system}**: acquire+release pairs per second, p50 and p99 latency of a pair, CPU seconds of the server processes per 1,000 pairs (${opts.durationS} s per cell after ${opts.warmupS} s warmup)`, '');
    lines.push(...header('cluster'));
    for (const [key, group] of g) {
      const cells = opts.clients.map((c) => {
        const r = group.find((row) => row.result.clients === c)?.result;
        return r === undefined ? '—' : cell(r);
      });
      lines.push(`| ${key} | ${cells.join(' | ')} |`);
    }
  }
  const rs = ratios(rows);
  if (rs.length > 0) {
    lines.push('', '**dsync / etcd**: pairs per second ratio (above 1: dsync is faster), p99 and CPU per 1,000 pairs dsync vs etcd', '');
    lines.push(...header('cluster'));
    const keys = [...new Set(rs.map((r) => `${plural(r.nodes, 'node')}, ${mode(r.contended)}`))];
    for (const key of keys) {
      const cells = opts.clients.map((c) => {
        const r = rs.find((x) => `${plural(x.nodes, 'node')}, ${mode(x.contended)}` === key && x.clients === c);
        const cpu = r?.cpuSPer1000 !== undefined && r.etcdCpuSPer1000 !== undefined ? ` · CPU ${cpuText(r.cpuSPer1000)} vs ${cpuText(r.etcdCpuSPer1000)}` : '';
        return r === undefined ? '—' : `×${ratio(r.pairsPerSecRatio)} · p99 ${ms(r.p99Ms)} vs ${ms(r.etcdP99Ms)}${cpu}`;
      });
      lines.push(`| ${key} | ${cells.join(' | ')} |`);
    }
  }
  return lines;
}

/** CPU seconds per 1,000 ops, e.g. `1.23 s/1k`. */
const cpuText = (x: number): string => `${cpuPer1k(x)} s/1k`;

/** One table cell, e.g. `812 pairs/s · p50 1.1 ms · p99 3.0 ms · CPU 1.23 s/1k`. */
function cell(r: LoadResult): string {
  const errors = r.errors === 0 ? '' : ` · ${plural(r.errors, 'error')}`;
  const cpu = r.cpuSPer1000 === undefined ? '' : ` · CPU ${cpuText(r.cpuSPer1000)}`;
  return `${Math.round(r.pairsPerSec).toLocaleString('en-US')} pairs/s · p50 ${ms(r.p50Ms)} · p99 ${ms(r.p99Ms)}${cpu}${errors}`;
}

const mode = (contended: boolean): string => (contended ? 'contended' : 'uncontended');

/**
 * Adds `bench` with its subcommand `lock` to `program`; the action hands its exit code to
 * `setCode`. Flags: `--nodes 1,3`, `--clients 1,16,64`, `--duration-s 5`, `--warmup-s 1`,
 * `--contended both|yes|no`, `--compare etcd`, `--json`, `--dir DIR`.
 */
export function registerBenchCommand(program: Command, setCode: (code: number) => void, io: Output): Command {
  const bench = program.command('bench').description('benchmarks of the running system');
  bench
    .command('lock')
    .description('lock acquire+release pairs per second and latency, uncontended and contended, optionally against etcd')
    .option('--nodes <list>', 'cluster sizes, comma-separated', intList('--nodes', 1, 9, '1,3'), [...LOCK_BENCH_DEFAULTS.nodes])
    .option('--clients <list>', 'concurrent clients, comma-separated', intList('--clients', 1, 1024, '1,16,64'), [...LOCK_BENCH_DEFAULTS.clients])
    .option('--duration-s <s>', 'measured seconds per combination', seconds('--duration-s', true, 3600), LOCK_BENCH_DEFAULTS.durationS)
    .option('--warmup-s <s>', 'unmeasured seconds before each combination', seconds('--warmup-s', false, 600), LOCK_BENCH_DEFAULTS.warmupS)
    .addOption(new Option('--contended <mode>', 'a lock per client (no), all clients on one lock (yes), or both').choices(['both', 'yes', 'no']).default('both'))
    .addOption(new Option('--compare <system>', 'run the identical load against a 1- or 3-member etcd on loopback and print ratios').choices(['etcd']))
    .option('--json', 'print one JSON object per result (and ratio) instead of markdown tables')
    .option('--dir <dir>', 'where the clusters keep their data (default: a fresh temp folder, removed afterwards)')
    .action(async (o: LockBenchOptions) => {
      setCode(await lockBenchCommand(o, io));
    });
  return bench;
}
