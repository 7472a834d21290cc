/**
 * What `dsync bench compare` makes of its measurements, as pure functions: the offered rates of
 * the curves, each curve's knee, the common rate of the percentile plot, the cost per ok op, the
 * availability and recovery of a fault run, and the sentences of the summary.
 */
import type { CompareService, CostPerOp, CurveRow, Knee, NodeCost, ReferenceFigure } from './compare-results.js';
import type { OpRecords } from './open-loop.js';
import { lowerBound } from '../../checkers/availability.js';

/** A step sustains its rate when at least this share of the offered ops was answered ok. */
export const SUSTAINED_SHARE = 0.95;

/**
 * The figures of the seed reports (the course reports the project grew from), drawn as reference
 * lines: their single-vs-distributed comparisons measured 46–468 requests/s overall, a lock
 * service at 7.7 ops/s, and a p99 of about 100 ms.
 */
export const SEED_REFERENCE: readonly ReferenceFigure[] = [
  { label: 'seed reports: 46 req/s (lowest)', kind: 'throughput', value: 46 },
  { label: 'seed reports: 468 req/s (highest)', kind: 'throughput', value: 468 },
  { label: 'seed reports: lock 7.7 ops/s', kind: 'throughput', value: 7.7, service: 'lock' },
  { label: 'seed reports: p99 ≈ 100 ms', kind: 'p99', value: 100 },
];

/** `x` rounded to two significant digits (at least 1). */
export function roundRate(x: number): number {
  if (!(x > 0)) return 1;
  const scale = 10 ** Math.max(0, Math.floor(Math.log10(x)) - 1);
  return Math.max(1, Math.round(x / scale) * scale);
}

/**
 * `steps` offered rates up to `top` × `saturation` (the most ok ops/s any size reached in the
 * closed-loop probe), evenly spaced, rounded to two significant digits, ascending and distinct.
 */
export function stepRates(saturation: number, steps = 10, top = 1.2): number[] {
  if (!(saturation > 0)) return [];
  const rates = Array.from({ length: steps }, (_, i) => roundRate((saturation * top * (i + 1)) / steps));
  return [...new Set(rates)].sort((a, b) => a - b);
}

/** Whether `row` answered its offered rate (≥ 95 % ok) with p99 within `boundMs`. */
export function sustained(row: CurveRow, boundMs: number): boolean {
  return row.ok >= SUSTAINED_SHARE * row.scheduled && row.latency.p99Ms !== null && row.latency.p99Ms <= boundMs;
}

/** The knee of one curve: its highest offered rate that was {@link sustained}. */
export function kneeOf(service: CompareService, nodes: number, rows: readonly CurveRow[], boundMs: number): Knee {
  const best = rows
    .filter((r) => r.service === service && r.nodes === nodes && sustained(r, boundMs))
    .sort((a, b) => b.offeredPerSec - a.offeredPerSec)[0];
  return best === undefined
    ? { service, nodes, offeredPerSec: null, okPerSec: null, p99Ms: null }
    : { service, nodes, offeredPerSec: best.offeredPerSec, okPerSec: best.okPerSec, p99Ms: best.latency.p99Ms };
}

/**
 * The rate of the percentile plot of `service`: the highest rate every size in `sizes` sustained,
 * else the lowest rate all of them ran; undefined when they share none.
 */
export function commonRate(service: CompareService, sizes: readonly number[], rows: readonly CurveRow[], boundMs: number): number | undefined {
  const of = (n: number): CurveRow[] => rows.filter((r) => r.service === service && r.nodes === n);
  const shared = sizes.length === 0 ? [] : [...new Set(of(sizes[0] as number).map((r) => r.offeredPerSec))].filter((rate) => sizes.every((n) => of(n).some((r) => r.offeredPerSec === rate))).sort((a, b) => a - b);
  const good = shared.filter((rate) => sizes.every((n) => of(n).some((r) => r.offeredPerSec === rate && sustained(r, boundMs))));
  return good.at(-1) ?? shared[0];
}

/** The cost of a window per ok op, from what each node used in it. */
export function costPerOp(perNode: readonly NodeCost[], ok: number): CostPerOp {
  const sum = (f: (c: NodeCost) => number | null): number | null => {
    let total = 0;
    for (const c of perNode) {
      const v = f(c);
      if (v === null) return null;
      total += v;
    }
    return perNode.length === 0 ? null : total;
  };
  const per = (x: number | null): number | null => (x === null || ok <= 0 ? null : x / ok);
  const cpus = perNode.map((c) => c.cpuS);
  const maxCpu = cpus.some((c) => c === null) || cpus.length === 0 ? null : Math.max(...(cpus as number[]));
  const bytes = sum((c) => (c.bytesIn === null || c.bytesOut === null ? null : c.bytesIn + c.bytesOut));
  return { perNode, cpuSPerOk: per(sum((c) => c.cpuS)), maxNodeCpuSPerOk: per(maxCpu), bytesPerOk: per(bytes), fsyncsPerOk: per(sum((c) => c.fsyncs)) };
}

/** Availability and recovery of a fault run. */
export interface FaultMetrics {
  readonly baselineOkPerSec: number;
  readonly availability: number | null;
  readonly firstOkAfterFaultMs: number | null;
  readonly steadyAfterHealMs: number | null;
}

/** The baseline skips the run's first second (connections, JIT). */
const BASELINE_SKIP_MS = 1000;
/** Recovery: the ok answers of a window this long reach {@link STEADY_SHARE} of the baseline. */
const STEADY_WINDOW_MS = 1000;
const STEADY_SHARE = 0.9;
const STEADY_STEP_MS = 50;

/**
 * From each op of a run with a fault at `faultAtMs` healed at `healAtMs` (ms from its start, of
 * `durationMs`): the ok rate before the fault (answer times from 1 s in, by answer time), the share
 * of ops scheduled between fault and heal answered ok within the deadline, the time from the fault
 * to the first ok answer of an op scheduled after it, and the time from the heal until a second of
 * ok answers, starting at or after the first ok answer since the heal, first reaches 90 % of the
 * baseline (null when none does in the run, whose answers may come up to a deadline after its end).
 */
export function faultMetrics(ops: OpRecords, faultAtMs: number, healAtMs: number): FaultMetrics {
  const n = ops.scheduledMs.length;
  const okAnswers: number[] = [];
  let inFault = 0;
  let okInFault = 0;
  let firstOk: number | null = null;
  for (let i = 0; i < n; i++) {
    const s = ops.scheduledMs[i] as number;
    const good = ops.ok[i] === 1;
    const a = ops.answeredMs[i] as number;
    if (good) okAnswers.push(a);
    if (s >= faultAtMs && s < healAtMs) {
      inFault++;
      if (good) okInFault++;
    }
    if (good && s >= faultAtMs && (firstOk === null || a < firstOk)) firstOk = a;
  }
  okAnswers.sort((x, y) => x - y);
  const countIn = (from: number, to: number): number => lowerBound(okAnswers, to) - lowerBound(okAnswers, from);
  const baseSpan = faultAtMs - BASELINE_SKIP_MS;
  const baselineOkPerSec = baseSpan > 0 ? (countIn(BASELINE_SKIP_MS, faultAtMs) * 1000) / baseSpan : 0;
  let steady: number | null = null;
  const last = okAnswers.at(-1) ?? healAtMs;
  // Windows start no earlier than the first ok answer after the heal: a window ending in the
  // burst of a backlog must not count a system that was still down for most of it.
  const firstAfterHeal = okAnswers[lowerBound(okAnswers, healAtMs)];
  if (baselineOkPerSec > 0 && firstAfterHeal !== undefined) {
    const need = (STEADY_SHARE * baselineOkPerSec * STEADY_WINDOW_MS) / 1000;
    for (let t = firstAfterHeal; t + STEADY_WINDOW_MS <= last + STEADY_STEP_MS; t += STEADY_STEP_MS) {
      if (countIn(t, t + STEADY_WINDOW_MS) >= need) {
        steady = t - healAtMs;
        break;
      }
    }
  }
  return {
    baselineOkPerSec,
    availability: inFault === 0 ? null : okInFault / inFault,
    firstOkAfterFaultMs: firstOk === null ? null : firstOk - faultAtMs,
    steadyAfterHealMs: steady,
  };
}


const pct = (x: number): string => `${Math.round(x * 100)} %`;
const times = (x: number): string => `${x >= 10 ? x.toFixed(0) : x.toFixed(1)}×`;
const nodesText = (n: number): string => `${n} node${n === 1 ? '' : 's'}`;

/**
 * The summary's sentences: per service, what each larger size reaches of the smallest's knee
 * throughput, at what multiple of its p99 at the common rate, and at what CPU per op; then each
 * fault run's availability. Sizes without a knee say so.
 */
export function summarize(o: {
  services: readonly CompareService[];
  sizes: readonly number[];
  curves: readonly CurveRow[];
  knees: readonly Knee[];
  commonRate: Readonly<Partial<Record<CompareService, number>>>;
  faults: readonly { service: CompareService; nodes: number; fault: string; availability: number | null; firstOkAfterFaultMs: number | null }[];
}): string[] {
  const lines: string[] = [];
  const sizes = [...o.sizes].sort((a, b) => a - b);
  for (const service of o.services) {
    const base = sizes[0];
    if (base === undefined) continue;
    const knee = (n: number): Knee | undefined => o.knees.find((k) => k.service === service && k.nodes === n);
    const at = o.commonRate[service];
    const row = (n: number): CurveRow | undefined => o.curves.find((r) => r.service === service && r.nodes === n && r.offeredPerSec === at);
    const baseKnee = knee(base);
    for (const n of sizes.slice(1)) {
      const k = knee(n);
      const p99 = row(n)?.latency.p99Ms;
      const baseP99 = row(base)?.latency.p99Ms;
      const cpu = row(n)?.cost.cpuSPerOk;
      const baseCpu = row(base)?.cost.cpuSPerOk;
      const parts: string[] = [];
      if (k?.okPerSec != null && baseKnee?.okPerSec != null && baseKnee.okPerSec > 0) parts.push(`reach ${pct(k.okPerSec / baseKnee.okPerSec)} of ${nodesText(base)}'s knee throughput (${Math.round(k.okPerSec)} vs ${Math.round(baseKnee.okPerSec)} ok/s)`);
      else parts.push(`have no knee to compare (${k?.okPerSec == null ? nodesText(n) : nodesText(base)} sustained none of the rates within the p99 bound)`);
      if (p99 != null && baseP99 != null && baseP99 > 0 && at !== undefined) parts.push(`at ${times(p99 / baseP99)} the p99 at ${at} ops/s (${p99.toFixed(1)} vs ${baseP99.toFixed(1)} ms)`);
      if (cpu != null && baseCpu != null && baseCpu > 0) parts.push(`using ${times(cpu / baseCpu)} the CPU per ok op (${(cpu * 1000).toFixed(2)} vs ${(baseCpu * 1000).toFixed(2)} ms)`);
      lines.push(`${service}: ${nodesText(n)} ${parts.join(', ')}.`);
    }
    if (sizes.length === 1 && baseKnee?.okPerSec != null) lines.push(`${service}: ${nodesText(base)} sustains ${Math.round(baseKnee.okPerSec)} ok/s with p99 ${baseKnee.p99Ms?.toFixed(1) ?? '?'} ms.`);
    const faults = o.faults.filter((f) => f.service === service && f.fault !== 'none');
    if (faults.length > 0) {
      const parts = faults.map((f) => `${nodesText(f.nodes)} ${f.availability === null ? '—' : pct(f.availability)}${f.firstOkAfterFaultMs === null ? ' (no ok after the fault)' : ''}`);
      lines.push(`${service} under ${faults[0]?.fault}: available ${parts.join(', ')} of the ops scheduled during the fault.`);
    }
  }
  return lines;
}
