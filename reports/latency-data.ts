/**
 * The report's latency views: a point per op over time (sampled in big runs, keeping the
 * slowest), the HdrHistogram percentile distribution of ok latencies per f, and the table of
 * counts and percentiles. Latency is what `checkers/perf.ts` measures: from the op's scheduled
 * time (open loop) or invocation to its completion; the percentiles and the table also give
 * service time (invocation to completion).
 */
import { latencyNs, serviceTimeNs, withLatencyHistogram, type ClientOp, type LatencySummary, type OpTypeStats, type PerfStats } from '../checkers/perf.js';
import type { LatencyCells, LatencyData, LatencyMeasure, LatencySeries, OpRow, Outcome, PercentileCurve } from './report-types.js';
import { nsToMs } from './timeline-data.js';

/** Options of {@link latencyData}. */
export interface LatencyOptions {
  /** Most points over all series. @default 20000 */
  readonly maxPoints?: number;
}

interface Point {
  readonly f: string;
  readonly outcome: Outcome;
  readonly atS: number;
  readonly ms: number;
}

/**
 * Latency over time, one series per (f, outcome). When there are more than `maxPoints`, a fifth
 * of the budget goes to the slowest ops (the outliers a reader looks for) and the rest to an
 * even stride over time through the others.
 */
export function latencyData(ops: readonly ClientOp[], o: LatencyOptions = {}): LatencyData {
  const maxPoints = o.maxPoints ?? 20_000;
  const points: Point[] = [];
  for (const op of ops) {
    const ns = latencyNs(op);
    if (ns === undefined || op.completeNs === undefined) continue;
    points.push({ f: op.f, outcome: op.type, atS: Math.round(op.completeNs / 1e6) / 1e3, ms: nsToMs(ns) });
  }
  let kept = points;
  if (points.length > maxPoints) {
    const slowest = Math.floor(maxPoints / 5);
    const bySlowness = points.map((_, i) => i).sort((a, b) => (points[b] as Point).ms - (points[a] as Point).ms);
    const keep = new Set(bySlowness.slice(0, slowest));
    const rest = points.length - slowest;
    const stride = rest / (maxPoints - slowest);
    let next = 0;
    let seen = 0;
    for (let i = 0; i < points.length; i++) {
      if (keep.has(i)) continue;
      if (seen >= next) {
        keep.add(i);
        next += stride;
      }
      seen++;
    }
    kept = points.filter((_, i) => keep.has(i));
  }
  const series = new Map<string, { f: string; outcome: Outcome; points: [number, number][] }>();
  for (const p of kept) {
    const id = `${p.f}\u0000${p.outcome}`;
    let s = series.get(id);
    if (s === undefined) series.set(id, (s = { f: p.f, outcome: p.outcome, points: [] }));
    s.points.push([p.atS, p.ms]);
  }
  const order: Outcome[] = ['ok', 'fail', 'info'];
  const sorted: LatencySeries[] = [...series.values()].sort((a, b) => a.f.localeCompare(b.f) || order.indexOf(a.outcome) - order.indexOf(b.outcome));
  return { series: sorted, shown: kept.length, total: points.length };
}

/** Percentiles plotted: 20 per decade of `1/(1-p)`, from 0 to 99.99 %. */
const PLOTTED = Array.from({ length: 81 }, (_, i) => 100 * (1 - 10 ** (-i / 20)));

const MEASURES: readonly (readonly [LatencyMeasure, (op: ClientOp) => number | undefined])[] = [
  ['from-schedule', latencyNs],
  ['service', serviceTimeNs],
];

const okLatencies = (ops: readonly ClientOp[], measure: (op: ClientOp) => number | undefined): number[] =>
  ops.flatMap((op) => (op.type === 'ok' ? (measure(op) ?? []) : []));

const byF = (ops: readonly ClientOp[]): [string, ClientOp[]][] => {
  const groups = new Map<string, ClientOp[]>();
  for (const op of ops) {
    const g = groups.get(op.f);
    if (g === undefined) groups.set(op.f, [op]);
    else g.push(op);
  }
  return [...groups].sort(([a], [b]) => a.localeCompare(b));
};

/**
 * The percentile distribution of ok latencies per f, from the schedule and as service time (in
 * that order per f): points up to 99.99 %, or up to where `count` ops can tell percentiles apart
 * (`1/(1-p) ≤ count`), then the max at the last percentile.
 */
export function percentileCurves(ops: readonly ClientOp[]): PercentileCurve[] {
  const curves: PercentileCurve[] = [];
  for (const [f, group] of byF(ops)) {
    for (const [measure, of] of MEASURES) {
      const curve = percentileCurve(f, measure, okLatencies(group, of));
      if (curve !== null) curves.push(curve);
    }
  }
  return curves;
}

/** The curve of `ns` (null when empty). */
function percentileCurve(f: string, measure: LatencyMeasure, ns: readonly number[]): PercentileCurve | null {
  if (ns.length === 0) return null;
  const points = withLatencyHistogram(ns, (h) => {
    const within = PLOTTED.filter((p) => 1 / (1 - p / 100) <= Math.max(2, h.count));
    const pts: [number, number][] = within.map((p) => [Math.round(p * 1e4) / 1e4, h.at(p)]);
    const last = PLOTTED[Math.min(PLOTTED.length - 1, within.length)] as number;
    if (within.length < PLOTTED.length) pts.push([Math.round(last * 1e4) / 1e4, h.maxMs]);
    return pts;
  });
  return { f, measure, count: ns.length, points };
}

const cells = (l: LatencySummary | null | undefined): LatencyCells =>
  l === null || l === undefined
    ? { p50Ms: null, p95Ms: null, p99Ms: null, p999Ms: null, maxMs: null, meanMs: null }
    : { p50Ms: l.p50Ms, p95Ms: l.p95Ms, p99Ms: l.p99Ms, p999Ms: l.p999Ms, maxMs: l.maxMs, meanMs: l.meanMs };

function row(s: OpTypeStats): OpRow {
  return { f: s.f, count: s.count, ok: s.ok, fail: s.fail, info: s.info, ...cells(s.okLatency), service: cells(s.okServiceTime) };
}

/** The perf statistics' counts and ok-latency percentiles (from the schedule, and service time) per f, then all ops together as `f: '*'`. */
export function opTable(perf: Pick<PerfStats, 'ops' | 'total'>): OpRow[] {
  return [...perf.ops.map(row), row(perf.total)];
}
