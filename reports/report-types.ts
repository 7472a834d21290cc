/**
 * The data a run's `report.html` embeds (as JSON) and its browser app (`reports/browser/`) draws.
 * Built from the run's store folder alone by `reports/report-data.ts`. Times are ms since the run
 * started (the history's `time`, ns, divided by 1e6) unless named otherwise.
 *
 * Bounded: the timeline holds at most a window of ops and the latency plot a sample of points
 * (both say how many of how many); verdicts, tables and counterexamples are never cut.
 */

import type { RunVerdict, Validity } from '../checkers/checker.js';

/** A completed client op's outcome. */
export type Outcome = 'ok' | 'fail' | 'info';

/** Everything a report shows. */
export interface ReportData {
  readonly version: 1;
  /** When the report was rendered (ISO). */
  readonly generatedAt: string;
  readonly run: RunSummary;
  /** One row per checker (the composed verdict is `run.valid`). */
  readonly verdicts: readonly VerdictRow[];
  /** The run's resolved `config.yaml`, as stored. */
  readonly config: string;
  /** The run folder's files, linked relative to the report. */
  readonly files: readonly FileLink[];
  /** Time of the last event. */
  readonly durationMs: number;
  /** Nemesis fault windows (shaded and labelled on every time axis, and tabled with their availability). */
  readonly faults: readonly FaultBand[];
  /** Completion of the final heal (marked on every time axis); null when none. */
  readonly finalHealMs: number | null;
  /** The first client invocation after the final heal: the final phase's start (marked too); null when none. */
  readonly finalPhaseStartMs: number | null;
  /** Every nemesis event (invocations and completions), in history order. */
  readonly nemesis: readonly NemesisMark[];
  readonly timeline: TimelineData;
  readonly latency: LatencyData;
  /** Completions per second of the run. */
  readonly throughput: readonly ThroughputPoint[];
  /** Percentile distribution of ok latencies per f (HdrHistogram): from the schedule, then service time. */
  readonly percentiles: readonly PercentileCurve[];
  /** Counts and latency percentiles (both measures) per f, then all ops together (`f: '*'`). */
  readonly opTable: readonly OpRow[];
  /** One per invalid (or unknown, when a partial linearization exists) linearizability partition. */
  readonly counterexamples: readonly Counterexample[];
  /** The queue checker's findings; null when the run did not use it. */
  readonly queue: QueueSection | null;
  /** Sentences about what was cut to keep the report small (empty when nothing was). */
  readonly notes: readonly string[];
}

export interface RunSummary {
  readonly experiment: string;
  readonly description: string;
  /** The run folder's name (its start time). */
  readonly folder: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  /** `incomplete` for a run that stopped early (never shown as valid). */
  readonly valid: RunVerdict;
  /** The run did not complete (aborted or a harness error). */
  readonly incomplete: boolean;
  /** The harness error, if any. */
  readonly error: string | null;
  /** Why the verdict is not valid, in words. */
  readonly reason: string | null;
  readonly workload: string;
  readonly nodes: readonly string[];
  readonly counts: { readonly ok: number; readonly fail: number; readonly info: number; readonly nemesis: number };
  /**
   * Share of client ops answered ok within `deadlineMs` of their scheduled time, for ops
   * scheduled inside / outside fault windows (null: none).
   */
  readonly availability: { readonly inFaults: number | null; readonly outsideFaults: number | null; readonly deadlineMs: number };
  /** From the final heal to the first ok completion after it (null: none). */
  readonly recoveryMs: number | null;
}

export interface VerdictRow {
  /** The checker's name, e.g. `linearizable`. */
  readonly checker: string;
  /** `incomplete`: valid on the history of a run that stopped early. */
  readonly valid: RunVerdict;
  /** The verdict in words (also for valid ones, e.g. what was checked). */
  readonly summary: string;
}

export interface FileLink {
  readonly label: string;
  /** Relative to the run folder, e.g. `nodes/n1.log`. */
  readonly href: string;
  readonly bytes: number;
}

/** A fault window, with what it hit and how available the system was during it. */
export interface FaultBand {
  /** e.g. `partition`, `kill`, `pause`, `latency`. */
  readonly kind: string;
  /** What it hit: a partition's topology, the nodes killed or paused, ... (may be empty). */
  readonly label: string;
  readonly startMs: number;
  readonly endMs: number;
  /** Client ops scheduled in the window, and how many were answered ok within the deadline. */
  readonly scheduled: number;
  readonly answered: number;
  /** answered/scheduled, null when none was scheduled. */
  readonly availability: number | null;
  /** The longest stretch inside the window without a client ok completion. */
  readonly noOk: { readonly startMs: number; readonly endMs: number; readonly ms: number };
}

export interface NemesisMark {
  readonly timeMs: number;
  readonly f: string;
  readonly type: 'invoke' | Outcome;
  /** The op's value in words (e.g. the links cut), possibly empty. */
  readonly value: string;
}

/**
 * Client ops as bars from invocation to completion, one lane per process. Columnar: op `i` is
 * `lane[i]`, `f[i]`, ..., in invocation order (so `startMs` ascends). An op that never completed
 * ends at `durationMs` with outcome `info`.
 */
export interface TimelineData {
  /** Process ids in lane order (numbers as text). */
  readonly lanes: readonly string[];
  /** The fs named by `f[i]`. */
  readonly fs: readonly string[];
  /** The span of the run the ops below cover, and how many of the run's ops they are. */
  readonly window: { readonly startMs: number; readonly endMs: number; readonly shown: number; readonly total: number };
  readonly lane: readonly number[];
  readonly f: readonly number[];
  /** 0 ok, 1 fail, 2 info (see {@link OUTCOMES}). */
  readonly outcome: readonly number[];
  readonly startMs: readonly number[];
  readonly endMs: readonly number[];
  /** The op in words, shown on hover. */
  readonly text: readonly string[];
}

/** The outcome codes of {@link TimelineData.outcome}. */
export const OUTCOMES: readonly Outcome[] = ['ok', 'fail', 'info'];

/** Latency over time: one point per completed op (a sample of them in big runs). */
export interface LatencyData {
  readonly series: readonly LatencySeries[];
  /** Points in the series / completed client ops with a latency. */
  readonly shown: number;
  readonly total: number;
}

export interface LatencySeries {
  readonly f: string;
  readonly outcome: Outcome;
  /** `[completion time in s, latency in ms]`. */
  readonly points: readonly (readonly [number, number])[];
}

export interface ThroughputPoint {
  /** Second `s` covers completions in `[s, s+1)` s. */
  readonly second: number;
  readonly ok: number;
  readonly fail: number;
  readonly info: number;
}

/** How a latency is measured: from the op's scheduled time (open loop; the default view) or from its invocation (service time). */
export type LatencyMeasure = 'from-schedule' | 'service';

export interface PercentileCurve {
  readonly f: string;
  readonly measure: LatencyMeasure;
  readonly count: number;
  /** `[percentile 0..100, latency ms]`, ascending, up to 99.99 % (or where the data ends). */
  readonly points: readonly (readonly [number, number])[];
}

/** Latency percentiles in ms over ok completions (null when no op of the row was ok). */
export interface LatencyCells {
  readonly p50Ms: number | null;
  readonly p95Ms: number | null;
  readonly p99Ms: number | null;
  readonly p999Ms: number | null;
  readonly maxMs: number | null;
  readonly meanMs: number | null;
}

/** Counts of a row, its latency from the scheduled time (the cells themselves) and its service time. */
export interface OpRow extends LatencyCells {
  readonly f: string;
  readonly count: number;
  readonly ok: number;
  readonly fail: number;
  readonly info: number;
  /** From invocation to completion. */
  readonly service: LatencyCells;
}

/** Porcupine's view of one partition without a linearization. */
export interface Counterexample {
  /** The partition's key (EDN-ish text), or `—` for a whole history. */
  readonly key: string;
  readonly model: string;
  readonly valid: Validity;
  /** Why, in words: how far the longest linearization got and which op it could not take. */
  readonly summary: string;
  /** Steps of the longest partial linearization (all of them; `ops` may show only the last ones). */
  readonly steps: number;
  /** Steps left out of `ops` (the earliest ones) to keep the view small. */
  readonly omittedSteps: number;
  /** The processes of `ops`, in row order. */
  readonly processes: readonly string[];
  /** Linearized ops (last ones), the breaking op, and same-key ops concurrent with it, by start time. */
  readonly ops: readonly CounterexampleOp[];
}

export interface CounterexampleOp {
  /** History index of the invocation. */
  readonly id: number;
  readonly process: string;
  readonly f: string;
  readonly outcome: Outcome;
  /** The invocation's value and the result, in EDN text. */
  readonly call: string;
  readonly ret: string;
  readonly startMs: number;
  /** null: never completed. */
  readonly endMs: number | null;
  /** 1-based position in the longest linearization; null when not linearized. */
  readonly step: number | null;
  /** The model state after this step (null when not linearized). */
  readonly stateAfter: string | null;
  /** The op the longest linearization could not take next. */
  readonly breaking: boolean;
}

/** Completions of one f by outcome. */
export interface OutcomeCountRow {
  readonly ok: number;
  readonly fail: number;
  readonly info: number;
}

/**
 * The queue checker's findings (`checkers/queue.ts`), when the run used it: counts, the listed
 * anomalies with the enqueue op of each message, and the delivery-count histogram.
 */
export interface QueueSection {
  /** The checker's name in the results, e.g. `queue`. */
  readonly checker: string;
  readonly contract: string;
  readonly valid: Validity;
  readonly summary: string;
  readonly counts: {
    readonly enqueue: OutcomeCountRow;
    /** `ok` = `delivered` + `empty`. */
    readonly dequeue: OutcomeCountRow & { readonly delivered: number; readonly empty: number };
    readonly ack: OutcomeCountRow;
  };
  readonly messages: { readonly attempted: number; readonly enqueued: number; readonly delivered: number };
  /** How many of each anomaly there are (the lists below hold at most the checker's first 50). */
  readonly totals: {
    readonly lost: number;
    /** Delivered, never acknowledged, never delivered again. */
    readonly unacked: number;
    readonly unexpected: number;
    readonly duplicated: number;
    readonly redeliveries: number;
    readonly unexplained: number;
    readonly recovered: number;
    readonly ackedLost: number;
    readonly fifoInversions: number;
  };
  readonly lost: readonly QueueMessageRow[];
  readonly unacked: readonly QueueMessageRow[];
  readonly unexpected: readonly QueueMessageRow[];
  readonly ackedLost: readonly QueueMessageRow[];
  /** Messages by how many ok dequeues delivered them (0: lost), ascending. */
  readonly histogram: readonly { readonly deliveries: number; readonly messages: number }[];
}

/** A message the queue checker named, with its enqueue op in words. */
export interface QueueMessageRow {
  readonly queue: string;
  readonly message: string;
  /** History index of the enqueue's invocation; null: never enqueued. */
  readonly enqueueIndex: number | null;
  /** The enqueue op: process, outcome, times, e.g. `process 3: enqueue ok, 1.204–1.219 s`; null: none. */
  readonly enqueue: string | null;
  /** What else the checker says of it (why unexpected, which ack and dequeue), possibly empty. */
  readonly detail: string;
}
