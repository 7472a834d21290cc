/**
 * A plausible `dsync bench compare` results object for the compare.html and index tests, made
 * from a small queueing model rather than written out by hand: per service a saturation rate per
 * cluster size (the lock and the queue slow down with more nodes, the cache scales out), ten
 * offered rates shared by every size, latencies that climb as the offered rate nears saturation,
 * costs per ok op, the knees, and one kill-leader run per service and size.
 */
import type {
  CompareResults,
  CompareService,
  CurveRow,
  FaultRow,
  Knee,
  LatencySummary,
  NodeCost,
  TimelineBucket,
} from '../../harness/bench/compare-results.js';
import { prng } from '../../harness/random.js';

/** Ok ops/s each size saturates at, per service and node count. */
const CAPACITY: Readonly<Record<CompareService, Readonly<Record<number, number>>>> = {
  lock: { 1: 3200, 3: 2100, 5: 1700 },
  queue: { 1: 2600, 3: 1600, 5: 1300 },
  cache: { 1: 7000, 3: 9500, 5: 11000 },
};

/** The p50 (ms) of an idle cluster, per service and node count. */
const BASE_P50_MS: Readonly<Record<CompareService, Readonly<Record<number, number>>>> = {
  lock: { 1: 0.8, 3: 2.0, 5: 2.6 },
  queue: { 1: 1.1, 3: 2.6, 5: 3.2 },
  cache: { 1: 0.4, 3: 0.6, 5: 0.7 },
};

const DURATION_S = 10;
const DEADLINE_MS = 1000;
const P99_BOUND_MS = 50;
const RATES_PER_SERVICE = 10;

/** Options of {@link compareFixture}. */
export interface CompareFixtureOptions {
  /** @default ['lock', 'queue', 'cache'] */
  readonly services?: readonly CompareService[];
  /** @default [1, 3, 5] */
  readonly nodes?: readonly number[];
}

/** The capacity of `nodes` nodes (sizes not in the table scale from the nearest one). */
function capacity(service: CompareService, nodes: number): number {
  return CAPACITY[service][nodes] ?? (CAPACITY[service][1] as number) * (service === 'cache' ? Math.sqrt(nodes) : 1 / Math.sqrt(nodes));
}

function baseP50(service: CompareService, nodes: number): number {
  return BASE_P50_MS[service][nodes] ?? (BASE_P50_MS[service][1] as number) * Math.sqrt(nodes);
}

/** `x` rounded to `digits` significant digits. */
function round(x: number, digits = 3): number {
  return Number(x.toPrecision(digits));
}

/** The ten offered rates of a service: from a tenth to 1.2× the largest capacity, in steps of 50. */
function steps(service: CompareService, sizes: readonly number[]): number[] {
  const top = Math.max(...sizes.map((n) => capacity(service, n))) * 1.2;
  return Array.from({ length: RATES_PER_SERVICE }, (_, i) => Math.round((top * (i + 1)) / RATES_PER_SERVICE / 50) * 50);
}

/** Latencies at load `rho` (offered / capacity): M/M/1-like growth below 1, the deadline's reach above. */
function latencyAt(p50Idle: number, rho: number, jitter: number): LatencySummary {
  if (rho >= 1) {
    const p50 = round(Math.min(DEADLINE_MS * 0.6, 120 + 400 * (rho - 1)) * jitter);
    return { p50Ms: p50, p90Ms: round(Math.min(DEADLINE_MS, p50 * 1.5)), p99Ms: round(Math.min(DEADLINE_MS, p50 * 1.7)), p999Ms: round(Math.min(DEADLINE_MS, p50 * 1.75)), maxMs: DEADLINE_MS };
  }
  const q = 1 / (1 - Math.min(rho, 0.97));
  const p50 = p50Idle * (1 + 0.25 * (q - 1)) * jitter;
  const p99 = p50 * (3 + 0.6 * q);
  return { p50Ms: round(p50), p90Ms: round(p50 * 1.9), p99Ms: round(p99), p999Ms: round(p99 * 1.6), maxMs: round(p99 * 2.4) };
}

/** [percentile, ms] pairs from a latency summary (percentiles in 0–100, ascending). */
function percentilePairs(l: LatencySummary): [number, number][] {
  const p50 = l.p50Ms ?? 0;
  return [
    [0, round(p50 * 0.35)],
    [25, round(p50 * 0.7)],
    [50, p50],
    [75, round(p50 * 1.35)],
    [90, l.p90Ms ?? p50],
    [99, l.p99Ms ?? p50],
    [99.9, l.p999Ms ?? p50],
    [99.99, round((l.maxMs ?? p50) * 0.97)],
    [100, l.maxMs ?? p50],
  ];
}

/** One point of a curve. */
function curveRow(service: CompareService, nodes: number, offered: number, rand: () => number): CurveRow {
  const cap = capacity(service, nodes);
  const rho = offered / cap;
  const scheduled = offered * DURATION_S;
  const okPerSec = round(Math.min(offered * (0.999 - rand() * 0.002), cap * (0.97 + rand() * 0.02)), 4);
  const ok = Math.round(okPerSec * DURATION_S);
  const latency = latencyAt(baseP50(service, nodes), rho, 0.95 + rand() * 0.1);
  // Group commit: the busier the log, the fewer fsyncs per op (the cache keeps nothing on disk).
  const fsyncsPerOk = service === 'cache' ? 0 : round(nodes * (0.3 + 0.7 / (1 + offered / 400)));
  const cpuPerOkPerNode = (service === 'cache' ? 60e-6 : 110e-6) * (1 + 0.4 * (nodes - 1) / nodes);
  const perNode: NodeCost[] = Array.from({ length: nodes }, (_, i) => {
    const share = nodes === 1 ? 1 : i === 0 ? 1.8 / (nodes + 0.8) : 1 / (nodes + 0.8);
    return {
      node: `n${i + 1}`,
      cpuS: round(cpuPerOkPerNode * nodes * share * ok),
      bytesIn: Math.round(ok * (nodes === 1 ? 180 : 180 + 260 * share * nodes)),
      bytesOut: Math.round(ok * (nodes === 1 ? 220 : 220 + 240 * share * nodes)),
      fsyncs: service === 'cache' ? 0 : Math.round(fsyncsPerOk * ok * (nodes === 1 ? 1 : 1 / nodes)),
    };
  });
  const cpuTotal = perNode.reduce((s, n) => s + (n.cpuS ?? 0), 0);
  const bytes = perNode.reduce((s, n) => s + (n.bytesIn ?? 0) + (n.bytesOut ?? 0), 0);
  const row: CurveRow = {
    service,
    nodes,
    offeredPerSec: offered,
    durationS: DURATION_S,
    scheduled,
    sent: scheduled,
    ok,
    failed: scheduled - ok,
    okPerSec,
    latency,
    percentiles: percentilePairs(latency),
    cost: {
      perNode,
      cpuSPerOk: ok === 0 ? null : round(cpuTotal / ok),
      maxNodeCpuSPerOk: ok === 0 ? null : round(Math.max(...perNode.map((n) => n.cpuS ?? 0)) / ok),
      bytesPerOk: ok === 0 ? null : round(bytes / ok),
      fsyncsPerOk: service === 'cache' ? 0 : fsyncsPerOk,
    },
    generator: {
      cpuS: round((0.04 + offered / 25000) * DURATION_S),
      cpuShare: round(0.04 + offered / 25000),
      sendGapP50Ms: round(0.05 + offered / 200000),
      sendGapP99Ms: round(0.3 + offered / 8000),
      sendGapMaxMs: round(2 + offered / 1000),
      heldByBound: 0,
    },
  };
  return scheduled - ok > 0.02 * scheduled ? { ...row, firstError: `timeout: no answer within ${DEADLINE_MS} ms` } : row;
}

/** The knee of a curve: the highest offered rate answered at ≥ 95 % with p99 within the bound. */
function kneeOf(service: CompareService, nodes: number, rows: readonly CurveRow[]): Knee {
  const good = rows.filter((r) => r.okPerSec >= 0.95 * r.offeredPerSec && r.latency.p99Ms !== null && r.latency.p99Ms <= P99_BOUND_MS);
  const best = good.at(-1);
  return { service, nodes, offeredPerSec: best?.offeredPerSec ?? null, okPerSec: best?.okPerSec ?? null, p99Ms: best?.latency.p99Ms ?? null };
}

/** The kill-leader run of one size: 30 s at `offered`, the fault from 10 s to 20 s. */
function faultRow(service: CompareService, nodes: number, offered: number): FaultRow {
  const faultAtS = 10;
  const healAtS = 20;
  // One node: nothing answers until it is back. More: a new leader after an election.
  const outageS = nodes === 1 ? healAtS - faultAtS + 0.4 : service === 'cache' ? 0.6 : 1.2 + 0.1 * nodes;
  const timeline: TimelineBucket[] = Array.from({ length: 30 }, (_, tS) => {
    const down = Math.max(0, Math.min(tS + 1, faultAtS + outageS) - Math.max(tS, faultAtS));
    const okShare = tS >= healAtS && tS < healAtS + 1 && nodes > 1 ? 0.93 : 1 - down;
    const ok = Math.round(offered * okShare);
    return { tS, ok, failed: offered - ok };
  });
  const inFault = timeline.filter((b) => b.tS >= faultAtS && b.tS < healAtS);
  const availability = round(inFault.reduce((s, b) => s + b.ok, 0) / (offered * (healAtS - faultAtS)), 4);
  const latency = latencyAt(baseP50(service, nodes), 0.5, 1);
  return {
    service,
    nodes,
    fault: 'kill-leader',
    target: 'n1',
    offeredPerSec: offered,
    durationS: 30,
    faultAtS,
    healAtS,
    baselineOkPerSec: offered,
    availability,
    firstOkAfterFaultMs: Math.round(outageS * 1000),
    steadyAfterHealMs: nodes === 1 ? 1400 : 1000 + 50 * nodes,
    latency: { ...latency, p99Ms: DEADLINE_MS, p999Ms: DEADLINE_MS, maxMs: DEADLINE_MS },
    timeline,
    firstError: nodes === 1 ? 'ECONNREFUSED 127.0.0.1:7101' : 'not the leader (503)',
  };
}

/** "3 nodes reach 66 % of one node's throughput at 2.5× the p99" sentences, from the knees. */
function summaryOf(services: readonly CompareService[], knees: readonly Knee[]): string[] {
  const out: string[] = [];
  for (const service of services) {
    const of = knees.filter((k) => k.service === service);
    const first = of[0];
    if (first?.okPerSec == null || first.p99Ms === null) continue;
    const parts = of.slice(1).flatMap((k) =>
      k.okPerSec === null || k.p99Ms === null
        ? []
        : [`${k.nodes} nodes reach ${Math.round((100 * k.okPerSec) / (first.okPerSec as number))} % of ${first.nodes === 1 ? 'one node' : `${first.nodes} nodes`}'s throughput at ${(k.p99Ms / (first.p99Ms as number)).toFixed(1)}× the p99`],
    );
    if (parts.length > 0) out.push(`${service}: ${parts.join('; ')}.`);
  }
  return out;
}

/** A full, plausible comparison (deterministic). */
export function compareFixture(o: CompareFixtureOptions = {}): CompareResults {
  const services = o.services ?? ['lock', 'queue', 'cache'];
  const sizes = o.nodes ?? [1, 3, 5];
  const rand = prng(7);
  const curves: CurveRow[] = [];
  const knees: Knee[] = [];
  const faults: FaultRow[] = [];
  const stepsOf: Partial<Record<CompareService, number[]>> = {};
  const commonRate: Partial<Record<CompareService, number>> = {};
  for (const service of services) {
    const rates = steps(service, sizes);
    stepsOf[service] = rates;
    for (const nodes of sizes) {
      const rows = rates.map((r) => curveRow(service, nodes, r, rand));
      curves.push(...rows);
      knees.push(kneeOf(service, nodes, rows));
    }
    const sustained = rates.filter((r) => curves.filter((c) => c.service === service && c.offeredPerSec === r).every((c) => c.okPerSec >= 0.95 * r));
    const common = sustained.at(-1);
    if (common !== undefined) commonRate[service] = common;
    const faultRate = Math.round((Math.min(...sizes.map((n) => capacity(service, n))) * 0.5) / 50) * 50;
    for (const nodes of sizes) faults.push(faultRow(service, nodes, faultRate));
  }
  return {
    kind: 'bench-compare',
    version: 1,
    startedAt: '2026-12-03T18:40:05.120Z',
    finishedAt: '2026-12-03T19:02:41.877Z',
    machine: { cpus: 2, cpuModel: 'AMD EPYC 7B13', node: 'v20.19.5', platform: 'linux' },
    options: { services, nodes: sizes, rates: 'auto', durationS: DURATION_S, fault: 'kill-leader', p99BoundMs: P99_BOUND_MS, deadlineMs: DEADLINE_MS, seed: 42 },
    missing: [],
    saturation: services.flatMap((service) => sizes.map((nodes) => ({ service, nodes, okPerSec: round(capacity(service, nodes), 4) }))),
    steps: stepsOf,
    commonRate,
    curves,
    knees,
    faults,
    reference: [
      { label: 'seed report: one lock node, 3,000 acquires/s', kind: 'throughput', value: 3000, service: 'lock' },
      { label: 'seed report: cache reads, 10,000 ops/s', kind: 'throughput', value: 10000, service: 'cache' },
      { label: 'seed report: p99 target 20 ms', kind: 'p99', value: 20 },
    ],
    summary: summaryOf(services, knees),
    errors: [],
  };
}
