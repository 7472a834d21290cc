/**
 * The report's timeline: client ops as bars from invocation to completion, one lane per
 * process, columnar. Big runs are windowed: at most `maxOps` consecutive ops (by invocation)
 * around a focus time, e.g. where the counterexample breaks or the first fault starts.
 */
import type { ClientOp } from '../checkers/perf.js';
import type { Op } from '../checkers/history/op.js';
import { describeValue } from '../checkers/values.js';
import { OUTCOMES, type TimelineData } from './report-types.js';

/** ns → ms rounded to µs. */
export const nsToMs = (ns: number): number => Math.round(ns / 1000) / 1000;

/** Processes in lane order: numbers ascending, then other ids by name. */
export function laneOrder(processes: Iterable<string | number>): string[] {
  const ids = [...new Set([...processes].map(String))];
  const num = (s: string): number => (/^\d+$/.test(s) ? Number(s) : Number.NaN);
  return ids.sort((a, b) => {
    const x = num(a);
    const y = num(b);
    if (!Number.isNaN(x) && !Number.isNaN(y)) return x - y;
    if (!Number.isNaN(x)) return -1;
    if (!Number.isNaN(y)) return 1;
    return a.localeCompare(b);
  });
}

/** A client op in words, as the timeline shows it on hover. */
export function opText(o: ClientOp, history: readonly Op[]): string {
  const invoke = history[o.invokeAt];
  const done = o.completeAt === undefined ? undefined : history[o.completeAt];
  const parts = [`process ${String(o.process)} ${o.f} ${describeValue(invoke?.value ?? null, 80)}`];
  if (done === undefined) parts.push('→ no completion (info)');
  else {
    parts.push(`→ ${o.type} ${describeValue(done.value ?? null, 80)}`);
    if (done.error !== undefined && done.error !== null) parts.push(`(${describeValue(done.error, 60)})`);
    if (typeof done['node'] === 'string') parts.push(`via ${done['node']}`);
  }
  return parts.join(' ');
}

/** Options of {@link timelineData}. */
export interface TimelineOptions {
  /** Most ops in the timeline. @default 20000 */
  readonly maxOps?: number;
  /** Center the window on this time (ms) when the run has more ops. @default 0 */
  readonly focusMs?: number;
}

/** The timeline of `ops` (paired client ops of `history`, invocation order); ops without a time are left out. */
export function timelineData(ops: readonly ClientOp[], history: readonly Op[], durationMs: number, o: TimelineOptions = {}): TimelineData {
  const maxOps = o.maxOps ?? 20_000;
  const timed = ops.filter((op) => op.invokeNs !== undefined);
  let from = 0;
  if (timed.length > maxOps) {
    // The op invoked nearest the focus, centred (invocation order is time order).
    const focusNs = (o.focusMs ?? 0) * 1e6;
    let at = timed.findIndex((op) => (op.invokeNs as number) >= focusNs);
    if (at === -1) at = timed.length - 1;
    from = Math.max(0, Math.min(timed.length - maxOps, at - Math.floor(maxOps / 2)));
  }
  const shown = timed.slice(from, from + maxOps);
  const lanes = laneOrder(shown.map((op) => op.process));
  const fs = [...new Set(shown.map((op) => op.f))].sort();
  const laneOf = new Map(lanes.map((l, i) => [l, i]));
  const fOf = new Map(fs.map((f, i) => [f, i]));
  const t: { lane: number[]; f: number[]; outcome: number[]; startMs: number[]; endMs: number[]; text: string[] } = { lane: [], f: [], outcome: [], startMs: [], endMs: [], text: [] };
  for (const op of shown) {
    const start = nsToMs(op.invokeNs as number);
    t.lane.push(laneOf.get(String(op.process)) as number);
    t.f.push(fOf.get(op.f) as number);
    t.outcome.push(OUTCOMES.indexOf(op.type));
    t.startMs.push(start);
    t.endMs.push(op.completeNs === undefined ? Math.max(start, durationMs) : Math.max(start, nsToMs(op.completeNs)));
    t.text.push(opText(op, history));
  }
  const first = shown[0];
  const last = shown[shown.length - 1];
  const windowStart = from === 0 || first === undefined ? 0 : nsToMs(first.invokeNs as number);
  const windowEnd = from + maxOps >= timed.length || last === undefined ? durationMs : nsToMs(last.invokeNs as number);
  return {
    lanes,
    fs,
    window: { startMs: windowStart, endMs: windowEnd, shown: shown.length, total: timed.length },
    ...t,
  };
}
