/**
 * `dsync bench compare`: single node against clusters, per service. For each service and cluster
 * size the same seeded open-loop schedules at stepped offered rates (placed from a closed-loop
 * probe of every size, up to 1.2× the most any size reached), latency from each op's scheduled
 * time, the knee of each curve, the cost per ok op (CPU from /proc, TCP bytes and fsyncs from the
 * nodes' metrics), the generator's own CPU and lateness; then per size one run at a fixed rate
 * with one fault in its middle — availability, time to the first ok, time back to steady
 * throughput. Writes `results.json` and the offline `compare.html` into
 * `store/bench-compare/<time>/` (or `--out`), and lists it in the store's index.
 *
 * One cluster runs at a time; each is stopped before the next starts, also on error or Ctrl-C.
 */
import { cpus } from 'node:os';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { Output } from '../check-command.js';
import { benchScratch, type BenchScratch } from './bench-scratch.js';
import { intList, plural, positiveNumber, seconds } from './bench-format.js';
import { CompareCluster, counterDelta } from './compare-cluster.js';
import { serviceOp } from './compare-ops.js';
import { probeCapacity, runOpenLoop, type OpenLoopResult } from './open-loop.js';
import { COMPARE_FAULTS, COMPARE_SERVICES, type CompareFault, type CompareResults, type CompareService, type CurveRow, type FaultRow } from './compare-results.js';
import { commonRate, costPerOp, faultMetrics, kneeOf, roundRate, SEED_REFERENCE, stepRates, summarize } from './compare-analysis.js';
import { COMPARE_FILES } from '../store-format.js';
import { storeTime } from '../store.js';
import { writeCompareHtml } from '../../reports/compare-html.js';
import { renderIndex } from '../../reports/render.js';
import { writeAtomically } from '../../reports/atomic-write.js';
import { errorMessage } from '../../cluster/errors.js';

/** The options of `dsync bench compare`. */
export interface CompareBenchOptions {
  services: CompareService[];
  nodes: number[];
  /** Offered rates (ops/s) for every size; absent: placed from the probe. */
  rates?: number[];
  /** Measured seconds per rate. */
  durationS: number;
  fault: CompareFault;
  /** Seconds of the fault run (fault at a third, heal at two thirds); default 3 × duration, at least 9. */
  faultDurationS?: number;
  /** A step counts toward the knee when its p99 is within this bound. */
  p99BoundMs: number;
  /** An op not answered ok within this many ms of its scheduled time failed. */
  deadlineMs: number;
  /** Closed-loop seconds per size to place the steps (after the warm-up). */
  probeS: number;
  /** Unmeasured closed-loop seconds after each cluster starts. */
  warmupS: number;
  seed: number;
  /** Where results.json and compare.html go (default: `<store>/bench-compare/<time>/`). */
  out?: string;
  /** The store root (default `store`). */
  store: string;
  /** Where the clusters keep their data (default: a fresh temp folder, removed afterwards). */
  dir?: string;
}

export const COMPARE_DEFAULTS: CompareBenchOptions = {
  services: [...COMPARE_SERVICES],
  nodes: [1, 3, 5],
  durationS: 5,
  fault: 'kill-leader',
  p99BoundMs: 100,
  deadlineMs: 2000,
  probeS: 3,
  warmupS: 2,
  seed: 1,
  store: 'store',
};

/** Exit codes: all measured; a part failed (results still written); bad usage; interrupted. */
export const COMPARE_EXIT = { ok: 0, failed: 1, usage: 3, interrupted: 130 } as const;

/** Closed-loop workers of the warm-up and the probe. */
const PROBE_CONCURRENCY = 64;
/** The fault runs' rate: this share of the smallest saturation any size reached in the probe. */
const FAULT_RATE_SHARE = 0.4;

/** Why `o` cannot run, or undefined. */
export function validateCompareOptions(o: CompareBenchOptions): string | undefined {
  if (o.services.length === 0 || !o.services.every((s) => (COMPARE_SERVICES as readonly string[]).includes(s))) return `--services: a comma-separated list of ${COMPARE_SERVICES.join(', ')} expected, got ${o.services.join(',')}`;
  if (new Set(o.services).size !== o.services.length) return `--services: ${o.services.join(',')} names a service twice`;
  if (o.nodes.length === 0 || !o.nodes.every((n) => Number.isInteger(n) && n >= 1 && n <= 9)) return `--nodes: cluster sizes 1..9 expected, got ${o.nodes.join(',')}`;
  if (new Set(o.nodes).size !== o.nodes.length) return `--nodes: ${o.nodes.join(',')} names a size twice`;
  if (o.rates !== undefined && (o.rates.length === 0 || !o.rates.every((r) => Number.isFinite(r) && r > 0))) return `--rates: positive ops/s expected, got ${o.rates.join(',')}`;
  if (!(o.durationS > 0)) return `--duration-s: a positive number of seconds expected, got ${o.durationS}`;
  if (!(COMPARE_FAULTS as readonly string[]).includes(o.fault)) return `--fault: one of ${COMPARE_FAULTS.join(', ')} expected, got ${o.fault}`;
  if (o.faultDurationS !== undefined && !(o.faultDurationS >= 3)) return `--fault-duration-s: at least 3 seconds expected, got ${o.faultDurationS}`;
  if (!(o.p99BoundMs > 0)) return `--p99-bound-ms: a positive number of ms expected, got ${o.p99BoundMs}`;
  if (!(o.deadlineMs >= 100)) return `--deadline-ms: at least 100 ms expected, got ${o.deadlineMs}`;
  if (!(o.probeS > 0)) return `--probe-s: a positive number of seconds expected, got ${o.probeS}`;
  if (!Number.isInteger(o.seed) || o.seed < 0) return `--seed: a non-negative integer expected, got ${o.seed}`;
  return undefined;
}

const nodesText = (n: number): string => plural(n, 'node');
const fmt = (x: number | null | undefined, digits = 1): string => (x === null || x === undefined ? '—' : x.toFixed(digits));

/** One line of progress for a measured rate. */
function cellLine(service: string, nodes: number, r: OpenLoopResult): string {
  const g = r.generator;
  return `${service}, ${nodesText(nodes)} @ ${r.offeredPerSec} ops/s: ok ${Math.round(r.okPerSec)}/s (${r.ok}/${r.scheduled}), p50 ${fmt(r.latency.p50Ms)} ms, p99 ${fmt(r.latency.p99Ms)} ms · generator CPU ${Math.round(g.cpuShare * 100)} %, sent late p99 ${fmt(g.sendGapP99Ms, 2)} ms${r.firstError === undefined ? '' : ` · first error: ${r.firstError}`}`;
}

/** The context every phase of a run shares. */
interface Ctx {
  readonly o: CompareBenchOptions;
  readonly io: Output;
  readonly scratch: BenchScratch;
  readonly run: string;
  readonly errors: string[];
}

/** Starts a cluster of `nodes` for `service`, registered with the scratch for Ctrl-C; runs `body`; always stops it. */
async function withCluster<T>(ctx: Ctx, service: CompareService, nodes: number, proxies: boolean, what: string, body: (c: CompareCluster) => Promise<T>): Promise<T | undefined> {
  const dir = join(ctx.scratch.root, `${service}-${nodes}-${what}`);
  let cluster: CompareCluster;
  try {
    cluster = await CompareCluster.start({ nodes, dir, proxies });
  } catch (e) {
    ctx.errors.push(`${service}, ${nodesText(nodes)} (${what}): cannot start: ${errorMessage(e)}`);
    ctx.io.err(`dsync bench compare: ${ctx.errors.at(-1)}`);
    return undefined;
  }
  ctx.scratch.active = { label: `${service} on ${nodesText(nodes)}`, stop: () => cluster.stop() };
  try {
    return await body(cluster);
  } catch (e) {
    ctx.errors.push(`${service}, ${nodesText(nodes)} (${what}): ${errorMessage(e)}`);
    ctx.io.err(`dsync bench compare: ${ctx.errors.at(-1)}`);
    return undefined;
  } finally {
    ctx.scratch.active = undefined;
    await cluster.stop().catch((e: unknown) => ctx.errors.push(`${service}, ${nodesText(nodes)}: stopping failed: ${errorMessage(e)}`));
  }
}

/** Warms a fresh cluster up, unmeasured (JIT, connections, the first election's leftovers). */
async function warmUp(ctx: Ctx, service: CompareService, cluster: CompareCluster): Promise<void> {
  if (ctx.o.warmupS <= 0) return;
  const w = await probeCapacity(serviceOp(service, cluster.pools, `${ctx.run}w`, ctx.o.seed), { concurrency: PROBE_CONCURRENCY, durationMs: ctx.o.warmupS * 1000 });
  if (w.errors > 0) ctx.io.err(`  warm-up: ${w.errors} failed ops; the first: ${w.firstError ?? '?'}`);
}

/** Measures one offered rate on `cluster`: the open-loop run and what each node spent on it. */
async function measureRate(ctx: Ctx, service: CompareService, nodes: number, cluster: CompareCluster, rate: number, index: number): Promise<CurveRow> {
  const op = serviceOp(service, cluster.pools, `${ctx.run}r${index}`, ctx.o.seed + index);
  const before = await cluster.counters();
  const r = await runOpenLoop(op, { ratePerSec: rate, durationMs: ctx.o.durationS * 1000, seed: ctx.o.seed + index, deadlineMs: ctx.o.deadlineMs });
  const after = await cluster.counters();
  const perNode = after.map((a, i) => counterDelta(before[i] ?? a, a));
  ctx.io.err(`  ${cellLine(service, nodes, r)}`);
  const { timeline: _timeline, ops: _ops, ...measures } = r;
  return { service, nodes, ...measures, cost: costPerOp(perNode, r.ok) };
}

/** The fault run of one size: `rate` for the fault run's length, the fault from a third to two thirds of it. */
async function faultRun(ctx: Ctx, service: CompareService, nodes: number, cluster: CompareCluster, rate: number): Promise<FaultRow> {
  const { fault } = ctx.o;
  const durationS = ctx.o.faultDurationS ?? Math.max(9, 3 * ctx.o.durationS);
  const faultAtMs = (durationS * 1000) / 3;
  const healAtMs = (durationS * 2000) / 3;
  const target = fault === 'none' ? null : await cluster.leader();
  const actions: Promise<void>[] = [];
  let faulted = false;
  let healed = false;
  const act = (what: string, p: Promise<void>): void => {
    actions.push(p.catch((e: unknown) => void ctx.errors.push(`${service}, ${nodesText(nodes)}: ${what} of ${target ?? '?'} failed: ${errorMessage(e)}`)));
  };
  const onTick = (t: number): void => {
    if (target === null) return;
    if (!faulted && t >= faultAtMs) {
      faulted = true;
      act(fault, fault === 'kill-leader' ? cluster.kill(target) : cluster.isolate(target));
    } else if (faulted && !healed && t >= healAtMs) {
      healed = true;
      act('heal', fault === 'kill-leader' ? cluster.restart(target) : cluster.heal());
    }
  };
  const op = serviceOp(service, cluster.pools, `${ctx.run}f`, ctx.o.seed);
  const r = await runOpenLoop(op, { ratePerSec: rate, durationMs: durationS * 1000, seed: ctx.o.seed, deadlineMs: ctx.o.deadlineMs, keepOps: true, bucketMs: 250, onTick });
  await Promise.all(actions);
  const m = faultMetrics(r.ops as NonNullable<OpenLoopResult['ops']>, faultAtMs, healAtMs);
  ctx.io.err(
    `  ${service}, ${nodesText(nodes)}, ${fault}${target === null ? '' : ` of ${target}`} @ ${rate} ops/s: available ${m.availability === null ? '—' : `${Math.round(m.availability * 100)} %`} during the fault, first ok ${fmt(m.firstOkAfterFaultMs, 0)} ms after it, steady ${fmt(m.steadyAfterHealMs, 0)} ms after the heal`,
  );
  return {
    service,
    nodes,
    fault,
    target,
    offeredPerSec: rate,
    durationS,
    faultAtS: faultAtMs / 1000,
    healAtS: healAtMs / 1000,
    ...m,
    latency: r.latency,
    timeline: r.timeline,
    ...(r.firstError === undefined ? {} : { firstError: r.firstError }),
  };
}

/** Runs the comparison; resolves to the exit code ({@link COMPARE_EXIT}). */
export async function compareBenchCommand(o: CompareBenchOptions, io: Output): Promise<number> {
  const invalid = validateCompareOptions(o);
  if (invalid !== undefined) {
    io.err(`dsync bench compare: ${invalid}`);
    return COMPARE_EXIT.usage;
  }
  const startedAt = new Date();
  const outDir = o.out ?? join(o.store, COMPARE_FILES.folder, storeTime(startedAt));
  try {
    mkdirSync(outDir, { recursive: true });
  } catch (e) {
    io.err(`dsync bench compare: cannot make ${outDir}: ${errorMessage(e)}`);
    return COMPARE_EXIT.usage;
  }
  const scratch = await benchScratch('compare', o.dir, io);
  const ctx: Ctx = { o, io, scratch, run: storeTime(startedAt).replace(/\W/g, ''), errors: [] };
  const sizes = [...o.nodes].sort((a, b) => a - b);
  const curves: CurveRow[] = [];
  const faults: FaultRow[] = [];
  const saturation: { service: CompareService; nodes: number; okPerSec: number }[] = [];
  const steps: Partial<Record<CompareService, number[]>> = {};
  io.err(`dsync bench compare: ${o.services.join(', ')} on ${sizes.map(nodesText).join(', ')}; ${o.durationS} s per rate, fault ${o.fault}; results in ${outDir}`);
  try {
    for (const service of o.services) {
      // 1. Probe every size, so that every size runs the same rates.
      if (o.rates === undefined) {
        for (const nodes of sizes) {
          if (scratch.interrupted) return COMPARE_EXIT.interrupted;
          io.err(`${service}, ${nodesText(nodes)}: probing capacity (${PROBE_CONCURRENCY} closed-loop clients, ${o.probeS} s)`);
          const probe = await withCluster(ctx, service, nodes, false, 'probe', async (cluster) => {
            await warmUp(ctx, service, cluster);
            return probeCapacity(serviceOp(service, cluster.pools, `${ctx.run}p`, o.seed), { concurrency: PROBE_CONCURRENCY, durationMs: o.probeS * 1000 });
          });
          if (probe === undefined) continue;
          io.err(`  ${Math.round(probe.okPerSec)} ok ops/s${probe.errors > 0 ? `, ${probe.errors} errors; the first: ${probe.firstError ?? '?'}` : ''}`);
          saturation.push({ service, nodes, okPerSec: probe.okPerSec });
        }
      }
      const reached = saturation.filter((s) => s.service === service).map((s) => s.okPerSec);
      const rates = o.rates ?? stepRates(Math.max(0, ...reached));
      if (rates.length === 0) {
        ctx.errors.push(`${service}: no size answered the probe: no rates to run`);
        continue;
      }
      steps[service] = rates;
      const faultRate = roundRate(FAULT_RATE_SHARE * (reached.length > 0 ? Math.min(...reached) : (rates[Math.floor(rates.length / 2)] as number)));
      // 2. The curve of every size, then its fault run (on a fresh cluster with link proxies for a partition).
      for (const nodes of sizes) {
        if (scratch.interrupted) return COMPARE_EXIT.interrupted;
        io.err(`${service}, ${nodesText(nodes)}: ${rates.length} rates, ${rates.join(', ')} ops/s`);
        const proxiesNeeded = o.fault === 'partition';
        await withCluster(ctx, service, nodes, false, 'curve', async (cluster) => {
          await warmUp(ctx, service, cluster);
          for (const [i, rate] of rates.entries()) {
            if (scratch.interrupted) return;
            curves.push(await measureRate(ctx, service, nodes, cluster, rate, i));
          }
          if (!proxiesNeeded && !scratch.interrupted) faults.push(await faultRun(ctx, service, nodes, cluster, faultRate));
        });
        if (proxiesNeeded && !scratch.interrupted) {
          await withCluster(ctx, service, nodes, true, 'fault', async (cluster) => {
            await warmUp(ctx, service, cluster);
            faults.push(await faultRun(ctx, service, nodes, cluster, faultRate));
          });
        }
      }
    }
  } finally {
    await scratch.close();
  }
  if (scratch.interrupted) return COMPARE_EXIT.interrupted;

  const measured = o.services.filter((s) => curves.some((r) => r.service === s));
  const knees = measured.flatMap((service) => sizes.map((nodes) => kneeOf(service, nodes, curves, o.p99BoundMs)));
  const common: Partial<Record<CompareService, number>> = {};
  for (const service of measured) {
    const rate = commonRate(service, sizes.filter((n) => curves.some((r) => r.service === service && r.nodes === n)), curves, o.p99BoundMs);
    if (rate !== undefined) common[service] = rate;
  }
  const results: CompareResults = {
    kind: 'bench-compare',
    version: 1,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version, platform: `${process.platform} ${process.arch}` },
    options: { services: o.services, nodes: sizes, rates: o.rates ?? 'auto', durationS: o.durationS, fault: o.fault, p99BoundMs: o.p99BoundMs, deadlineMs: o.deadlineMs, seed: o.seed },
    missing: o.services.filter((s) => !measured.includes(s)).map((service) => ({ service, why: ctx.errors.find((e) => e.startsWith(`${service}`)) ?? 'not measured' })),
    saturation,
    steps,
    commonRate: common,
    curves,
    knees,
    faults,
    reference: SEED_REFERENCE,
    summary: summarize({ services: measured, sizes, curves, knees, commonRate: common, faults }),
    errors: ctx.errors,
  };
  const resultsFile = join(outDir, COMPARE_FILES.results);
  writeAtomically(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
  const page = writeCompareHtml(outDir, results);
  if (o.out === undefined) {
    try {
      renderIndex(o.store);
    } catch (e) {
      io.err(`dsync bench compare: the store's index could not be written: ${errorMessage(e)}`);
    }
  }
  for (const line of formatCompare(results)) io.out(line);
  io.out('');
  io.out(`results: ${resultsFile}`);
  io.out(`page: ${page}`);
  if (ctx.errors.length > 0) {
    io.err(`dsync bench compare: ${plural(ctx.errors.length, 'part')} failed; the first: ${ctx.errors[0]}`);
    return COMPARE_EXIT.failed;
  }
  return COMPARE_EXIT.ok;
}

/** The markdown the command prints: the summary, the knees, the cost at the common rate, the fault runs. */
export function formatCompare(r: CompareResults): string[] {
  const lines: string[] = ['**Summary**', '', ...r.summary.map((s) => `- ${s}`), ''];
  lines.push(`**Knees** (highest offered rate answered ≥ 95 % ok with p99 ≤ ${r.options.p99BoundMs} ms) and cost at the common rate`, '');
  lines.push('| service | nodes | knee ops/s | ok/s | p99 ms | common rate | p50 / p99 ms there | CPU ms per ok op (busiest node) | bytes per ok op | fsyncs per ok op |');
  lines.push('|---|---|---|---|---|---|---|---|---|---|');
  for (const k of r.knees) {
    const at = r.commonRate[k.service];
    const row = r.curves.find((c) => c.service === k.service && c.nodes === k.nodes && c.offeredPerSec === at);
    const ms = (x: number | null | undefined): string => (x === null || x === undefined ? '—' : (x * 1000).toFixed(2));
    lines.push(
      `| ${k.service} | ${k.nodes} | ${k.offeredPerSec ?? '—'} | ${k.okPerSec === null ? '—' : Math.round(k.okPerSec)} | ${fmt(k.p99Ms)} | ${at ?? '—'} | ${fmt(row?.latency.p50Ms)} / ${fmt(row?.latency.p99Ms)} | ${ms(row?.cost.cpuSPerOk)} (${ms(row?.cost.maxNodeCpuSPerOk)}) | ${row?.cost.bytesPerOk == null ? '—' : Math.round(row.cost.bytesPerOk)} | ${fmt(row?.cost.fsyncsPerOk, 2)} |`,
    );
  }
  if (r.faults.length > 0) {
    lines.push('', `**Fault runs** (${r.options.fault}; availability: ops scheduled during the fault answered ok within ${r.options.deadlineMs} ms)`, '');
    lines.push('| service | nodes | target | ops/s | baseline ok/s | availability | first ok after fault | steady after heal |');
    lines.push('|---|---|---|---|---|---|---|---|');
    for (const f of r.faults) {
      lines.push(
        `| ${f.service} | ${f.nodes} | ${f.target ?? '—'} | ${f.offeredPerSec} | ${Math.round(f.baselineOkPerSec)} | ${f.availability === null ? '—' : `${(f.availability * 100).toFixed(1)} %`} | ${f.firstOkAfterFaultMs === null ? 'never' : `${Math.round(f.firstOkAfterFaultMs)} ms`} | ${f.steadyAfterHealMs === null ? 'never' : `${Math.round(f.steadyAfterHealMs)} ms`} |`,
      );
    }
  }
  const worst = Math.max(0, ...r.curves.map((c) => c.generator.sendGapP99Ms ?? 0));
  const busiest = Math.max(0, ...r.curves.map((c) => c.generator.cpuShare));
  const held = r.curves.filter((c) => c.generator.heldByBound > 0);
  lines.push(
    '',
    `Load generator: at most ${Math.round(busiest * 100)} % of a core; ops sent at most ${worst.toFixed(2)} ms after their scheduled time (the worst p99 of a rate)${held.length === 0 ? '' : `, not counting ops the in-flight bound held back at ${plural(held.length, 'rate')} a system could not keep up with (their wait is in their latency)`}.`,
  );
  return lines;
}

/** A comma-separated list of services. */
function serviceList(value: string): CompareService[] {
  const list = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const bad = list.filter((s) => !(COMPARE_SERVICES as readonly string[]).includes(s));
  if (bad.length > 0 || list.length === 0) throw new InvalidArgumentError(`--services: ${bad.join(', ') || '(empty)'}: expected a comma-separated list of ${COMPARE_SERVICES.join(', ')}`);
  return list as CompareService[];
}

/** A seed: an integer from 0 to 2³¹. */
function seedArg(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n > 2 ** 31) throw new InvalidArgumentError(`--seed takes an integer from 0 to ${2 ** 31}, got '${value}'`);
  return n;
}

/** A comma-separated list of positive rates. */
function rateList(value: string): number[] {
  const list = value.split(',').map((s) => Number(s.trim()));
  if (list.length === 0 || !list.every((x) => Number.isFinite(x) && x > 0 && x <= 1_000_000)) throw new InvalidArgumentError(`--rates: expected comma-separated ops/s in (0, 1000000], e.g. 100,200,400, got ${value}`);
  return [...new Set(list)].sort((a, b) => a - b);
}


/** Adds the subcommand `compare` to `bench`; the action hands its exit code to `setCode`. */
export function registerCompareBenchCommand(bench: Command, setCode: (code: number) => void, io: Output): Command {
  const d = COMPARE_DEFAULTS;
  return bench
    .command('compare')
    .description('single node vs clusters per service: open-loop throughput–latency curves, knees, cost per op, availability under one fault; writes results.json and compare.html')
    .option('--services <list>', 'services, comma-separated', serviceList, [...d.services])
    .option('--nodes <list>', 'cluster sizes, comma-separated', intList('--nodes', 1, 9, '1,3,5'), [...d.nodes])
    .option('--rates <list>', 'offered ops/s for every size (default: 10 steps up to 1.2× the most a closed-loop probe reached)', rateList)
    .option('--duration-s <s>', 'measured seconds per rate', seconds('--duration-s', true, 3600), d.durationS)
    .addOption(new Option('--fault <fault>', 'the fault in the middle of each fault run').choices([...COMPARE_FAULTS]).default(d.fault))
    .option('--fault-duration-s <s>', 'seconds of each fault run (default: 3 × duration, at least 9)', seconds('--fault-duration-s', true, 3600))
    .option('--p99-bound-ms <ms>', 'the p99 a rate must stay within to count toward the knee', positiveNumber('--p99-bound-ms'), d.p99BoundMs)
    .option('--deadline-ms <ms>', 'an op not answered ok within this long after its scheduled time failed', positiveNumber('--deadline-ms'), d.deadlineMs)
    .option('--probe-s <s>', 'closed-loop seconds per size that place the rates', seconds('--probe-s', true, 600), d.probeS)
    .option('--warmup-s <s>', 'unmeasured seconds after each cluster starts', seconds('--warmup-s', false, 600), d.warmupS)
    .option('--seed <n>', 'seeds the schedules and the keys', seedArg, d.seed)
    .option('--out <dir>', 'write results.json and compare.html here instead of <store>/bench-compare/<time>/')
    .option('--store <dir>', 'the store root', d.store)
    .option('--dir <dir>', 'where the clusters keep their data (default: a fresh temp folder, removed afterwards)')
    .action(async (opts: CompareBenchOptions) => {
      setCode(await compareBenchCommand(opts, io));
    });
}
