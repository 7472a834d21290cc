/**
 * `results.json` of `dsync bench compare` (`store/bench-compare/<time>/`): the whole comparison
 * of one run — for each service and cluster size, the open-loop curve (one row per offered
 * rate), its knee, the cost per ok op, and the run with one fault in the middle — read by
 * `compare.html` and the store index. Numbers that were not measured are `null` (JSON has no NaN).
 */

/** The services a comparison can cover. */
export const COMPARE_SERVICES = ['lock', 'queue', 'cache'] as const;
export type CompareService = (typeof COMPARE_SERVICES)[number];

/** The single fault of the fault runs. */
export const COMPARE_FAULTS = ['kill-leader', 'partition', 'none'] as const;
export type CompareFault = (typeof COMPARE_FAULTS)[number];

/** Latency percentiles of ok ops, in ms, measured from each op's scheduled time (null: no ok op). */
export interface LatencySummary {
  readonly p50Ms: number | null;
  readonly p90Ms: number | null;
  readonly p99Ms: number | null;
  readonly p999Ms: number | null;
  readonly maxMs: number | null;
}

/** What one node used during one measured window. Null: not readable (the process was gone). */
export interface NodeCost {
  /** e.g. `n1`. */
  readonly node: string;
  /** User + system CPU seconds of the node's process (`/proc/<pid>/stat`). */
  readonly cpuS: number | null;
  /** TCP bytes the node's process read and wrote, clients and peers (its `/metrics`). */
  readonly bytesIn: number | null;
  readonly bytesOut: number | null;
  /** fsync + fdatasync calls of the node's process (its `/metrics`). */
  readonly fsyncs: number | null;
}

/** The cost of one measured window, per ok op. */
export interface CostPerOp {
  readonly perNode: readonly NodeCost[];
  /** CPU seconds of all nodes together per ok op, and of the busiest node. */
  readonly cpuSPerOk: number | null;
  readonly maxNodeCpuSPerOk: number | null;
  /** Bytes in + out of all nodes together per ok op (a byte between two nodes counts at both ends). */
  readonly bytesPerOk: number | null;
  /** fsync calls of all nodes together per ok op. */
  readonly fsyncsPerOk: number | null;
}

/** What the load generator itself did in one window: it must not be the bottleneck. */
export interface GeneratorStats {
  /** CPU seconds of the generator's process (user + system) during the window. */
  readonly cpuS: number;
  /** That as a share of the window's wall time (1 = one core busy). */
  readonly cpuShare: number;
  /**
   * How late ops were sent after their scheduled time, ms — of the ops the in-flight bound did
   * not hold back (those are counted in {@link heldByBound}; their wait shows in their latency).
   */
  readonly sendGapP50Ms: number | null;
  readonly sendGapP99Ms: number | null;
  readonly sendGapMaxMs: number | null;
  /** Ops whose sending waited because the most ops allowed in flight were: the system was behind, not the generator. */
  readonly heldByBound: number;
}

/** What one open-loop window measured (`harness/bench/open-loop.ts`). */
export interface WindowMeasures {
  /** The offered (scheduled) rate, ops/s. */
  readonly offeredPerSec: number;
  readonly durationS: number;
  /** Ops the schedule held, ops sent, and how they ended. */
  readonly scheduled: number;
  readonly sent: number;
  /** Answered ok within the op deadline. */
  readonly ok: number;
  /** Answered with an error, or not within the deadline. */
  readonly failed: number;
  /** ok ops per second of the window. */
  readonly okPerSec: number;
  readonly latency: LatencySummary;
  /** [percentile, ms] pairs of the ok ops' latency (for the percentile plot), percentiles ascending. */
  readonly percentiles: readonly (readonly [number, number])[];
  readonly generator: GeneratorStats;
  /** The first error's message, when an op failed. */
  readonly firstError?: string;
}

/** One service × cluster size × offered rate: one point of a throughput–latency curve. */
export interface CurveRow extends WindowMeasures {
  readonly service: CompareService;
  readonly nodes: number;
  readonly cost: CostPerOp;
}

/** The knee of one curve: the highest offered rate answered at ≥ 95 % of itself with p99 under the bound. */
export interface Knee {
  readonly service: CompareService;
  readonly nodes: number;
  /** null: no rate qualified. */
  readonly offeredPerSec: number | null;
  readonly okPerSec: number | null;
  readonly p99Ms: number | null;
}

/** Ok and failed ops per time bucket of a fault run, by scheduled time. */
export interface TimelineBucket {
  /** Start of the bucket, seconds from the start of the run. */
  readonly tS: number;
  readonly ok: number;
  readonly failed: number;
}

/** One run per service × size at a fixed rate with one fault in its middle. */
export interface FaultRow {
  readonly service: CompareService;
  readonly nodes: number;
  readonly fault: CompareFault;
  /** The node the fault hit (the leader when it began), or null for `none`. */
  readonly target: string | null;
  readonly offeredPerSec: number;
  readonly durationS: number;
  /** When the fault began and was healed (node restarted, network healed), s from the start. */
  readonly faultAtS: number;
  readonly healAtS: number;
  /** Ok ops per second over the time before the fault. */
  readonly baselineOkPerSec: number;
  /** Share of the ops scheduled between fault and heal that were answered ok within the deadline. */
  readonly availability: number | null;
  /** From the fault to the first ok answer of an op scheduled after it, ms (null: none came). */
  readonly firstOkAfterFaultMs: number | null;
  /** From the heal until the ok rate holds ≥ 90 % of the baseline for a second, ms (null: it never did). */
  readonly steadyAfterHealMs: number | null;
  readonly latency: LatencySummary;
  readonly timeline: readonly TimelineBucket[];
  readonly firstError?: string;
}

/** A figure from the seed reports, drawn as a reference line. */
export interface ReferenceFigure {
  readonly label: string;
  /** `throughput` (ops/s, a vertical line on the curves) or `p99` (ms, a horizontal one). */
  readonly kind: 'throughput' | 'p99';
  readonly value: number;
  /** The service it is about, or absent when it was about the system as a whole. */
  readonly service?: CompareService;
}

/** The whole `results.json`. */
export interface CompareResults {
  readonly kind: 'bench-compare';
  readonly version: 1;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly machine: { readonly cpus: number; readonly cpuModel: string; readonly node: string; readonly platform: string };
  readonly options: {
    readonly services: readonly CompareService[];
    readonly nodes: readonly number[];
    /** The offered rates asked for, or `auto`. */
    readonly rates: readonly number[] | 'auto';
    readonly durationS: number;
    readonly fault: CompareFault;
    readonly p99BoundMs: number;
    readonly deadlineMs: number;
    readonly seed: number;
  };
  /** Services asked for but not measured, and why. */
  readonly missing: readonly { readonly service: CompareService; readonly why: string }[];
  /** The closed-loop probe that placed the steps: ok ops/s each size reached. */
  readonly saturation: readonly { readonly service: CompareService; readonly nodes: number; readonly okPerSec: number }[];
  /** Per service: the offered rates every size was run at. */
  readonly steps: Readonly<Partial<Record<CompareService, readonly number[]>>>;
  /** Per service: the rate of the percentile plot (the highest step every size sustained). */
  readonly commonRate: Readonly<Partial<Record<CompareService, number>>>;
  readonly curves: readonly CurveRow[];
  readonly knees: readonly Knee[];
  readonly faults: readonly FaultRow[];
  readonly reference: readonly ReferenceFigure[];
  /** Plain sentences, the page's summary ("3 nodes reach X % of one node's throughput at Y× the p99"). */
  readonly summary: readonly string[];
  /** Errors that ended a part of the run early (a cluster that did not start, …). */
  readonly errors: readonly string[];
}
