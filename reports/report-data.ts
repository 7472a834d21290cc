/**
 * Builds a run's {@link ReportData} from its store folder alone: verdicts and summary from
 * `results.json`, everything over time (timeline, latency, throughput, fault bands, percentiles)
 * recomputed from the history, counterexamples from the checker's longest linearizations placed
 * on the history's time axis.
 */
import { basename } from 'node:path';
import { isNemesis, type Op } from '../checkers/history/op.js';
import { pairClientOps, perfStats, type PerfStats } from '../checkers/perf.js';
import { describeValue } from '../checkers/values.js';
import { counterexamples, partitionsToShow } from './counterexample-data.js';
import { latencyData, opTable, percentileCurves } from './latency-data.js';
import type { Counterexample, FaultBand, NemesisMark, ReportData, VerdictRow } from './report-types.js';
import { linearizability, readRunFolder, type RunFolder } from './run-folder.js';
import type { StoredResults } from '../harness/store-format.js';
import { nsToMs, timelineData } from './timeline-data.js';
import { queueSection } from './queue-data.js';

/** Limits that keep a report small. */
export interface ReportLimits {
  /** Ops in the timeline window. @default 20000 */
  readonly timelineOps?: number;
  /** Points in the latency plot. @default 20000 */
  readonly latencyPoints?: number;
  /** Counterexample views. @default 20 */
  readonly counterexamples?: number;
}

const plural = (n: number, word: string): string => `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;

/** One verdict row per checker the run used, in words: each checker's own summary line. */
export function verdictRows(results: StoredResults): VerdictRow[] {
  const rows: VerdictRow[] = [];
  for (const [name, r] of Object.entries(results.checker.results ?? {})) {
    const summary = r.summary ?? r.reason ?? '';
    const text = summary || (r.valid === true ? 'valid' : String(r.valid));
    // A stopped run's valid checker proves nothing about the run asked for: never shown as valid.
    if (results.incomplete && r.valid === true) rows.push({ checker: name, valid: 'incomplete', summary: `valid on the history recorded before the run stopped — ${text}` });
    else rows.push({ checker: name, valid: r.valid, summary: text });
  }
  if (rows.length === 0) rows.push({ checker: 'run', valid: results.valid, summary: results.reason ?? results.error ?? (results.valid === true ? 'valid' : 'no checker ran') });
  return rows;
}

function nemesisMarks(history: readonly Op[]): NemesisMark[] {
  const marks: NemesisMark[] = [];
  for (const op of history) {
    if (!isNemesis(op) || typeof op.time !== 'number') continue;
    const value = op.value === null || op.value === undefined ? '' : typeof op.value === 'string' ? op.value : describeValue(op.value, 160);
    marks.push({ timeMs: nsToMs(op.time), f: op.f, type: op.type, value });
  }
  return marks;
}

/** The fault windows as bands, each with its label and availability (from `perf.availability.windows`). */
export function faultBands(perf: Pick<PerfStats, 'availability'>): FaultBand[] {
  return perf.availability.windows.map((w) => ({
    kind: w.kind,
    label: w.label,
    startMs: nsToMs(w.startNs),
    endMs: nsToMs(w.endNs),
    scheduled: w.ops.total,
    answered: w.ops.ok,
    availability: w.ops.ratio,
    noOk: { startMs: nsToMs(w.longestNoOk.startNs), endMs: nsToMs(w.longestNoOk.endNs), ms: w.longestNoOk.ms },
  }));
}

/** Where the timeline window of a big run centres: the first counterexample's break, else the first fault. */
function focusMs(examples: readonly Counterexample[], faultStartsMs: readonly number[]): number {
  const breaking = examples[0]?.ops.find((o) => o.breaking);
  return breaking?.startMs ?? faultStartsMs[0] ?? 0;
}

/** The report data of a run folder already read. */
export function reportDataOf(run: RunFolder, limits: ReportLimits = {}, now: Date = new Date()): ReportData {
  const { results, history } = run;
  const ops = pairClientOps(history);
  const perf = perfStats(history);
  let lastNs = 0;
  for (const op of history) if (typeof op.time === 'number' && op.time > lastNs) lastNs = op.time;
  const durationMs = nsToMs(lastNs);

  const lin = linearizability(results);
  const maxExamples = limits.counterexamples ?? 20;
  const examples = lin === undefined ? [] : counterexamples(lin, history, { maxPartitions: maxExamples });
  const faults = faultBands(perf);
  const timeline = timelineData(ops, history, durationMs, {
    maxOps: limits.timelineOps ?? 20_000,
    focusMs: focusMs(examples, faults.map((f) => f.startMs)),
  });
  const latency = latencyData(ops, { maxPoints: limits.latencyPoints ?? 20_000 });

  const notes: string[] = [];
  const { window } = timeline;
  if (window.shown < window.total) {
    notes.push(
      `The timeline shows ${plural(window.shown, 'op')} of ${window.total.toLocaleString('en-US')} (${(window.startMs / 1000).toFixed(1)}–${(window.endMs / 1000).toFixed(1)} s); every other view covers the whole run.`,
    );
  }
  if (latency.shown < latency.total) {
    notes.push(`The latency plot shows ${plural(latency.shown, 'point')} of ${latency.total.toLocaleString('en-US')}: the slowest fifth of the budget, then an even sample over time; the percentiles and the table use every op.`);
  }
  const toShow = lin === undefined ? 0 : partitionsToShow(lin.result).length;
  if (examples.length < toShow) notes.push(`Counterexamples are drawn for ${examples.length} of ${toShow} partitions without a linearization; results.json has them all.`);

  const ratio = (a: { ratio: number | null }): number | null => a.ratio;
  return {
    version: 1,
    generatedAt: now.toISOString(),
    run: {
      experiment: results.experiment,
      description: results.description,
      folder: basename(run.dir),
      startedAt: results.startedAt,
      finishedAt: results.finishedAt,
      valid: results.valid,
      incomplete: results.incomplete,
      error: results.error ?? null,
      reason: results.reason ?? null,
      workload: results.workload,
      nodes: results.nodes,
      counts: results.counts,
      availability: { inFaults: ratio(perf.availability.inFaults), outsideFaults: ratio(perf.availability.outsideFaults), deadlineMs: perf.availability.deadlineMs },
      recoveryMs: perf.recoveryMs,
    },
    verdicts: verdictRows(results),
    config: run.config,
    files: run.files,
    durationMs,
    faults,
    finalHealMs: perf.finalHealNs === null ? null : nsToMs(perf.finalHealNs),
    finalPhaseStartMs: perf.finalPhaseStartNs === null ? null : nsToMs(perf.finalPhaseStartNs),
    nemesis: nemesisMarks(history),
    timeline,
    latency,
    throughput: perf.throughput,
    percentiles: percentileCurves(ops),
    opTable: opTable(perf),
    counterexamples: examples,
    queue: queueSection(results, history),
    notes,
  };
}

/** Reads `runDir` and builds its report data. @throws RunFolderError when it is not a run folder */
export async function buildReportData(runDir: string, limits: ReportLimits = {}): Promise<ReportData> {
  return reportDataOf(await readRunFolder(runDir), limits);
}
