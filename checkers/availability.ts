/**
 * Availability during faults, measured by when client ops were *scheduled* (an open-loop slot)
 * rather than when they were invoked: clients blocked by a fault invoke few ops while it lasts,
 * so counting by invoke time makes an outage look available. An op counts as answered when it
 * completed `ok` within a deadline of its scheduled time. Per fault window, also the longest
 * stretch in which no client op completed `ok` at all.
 */
import type { FaultWindow } from './fault-windows.js';
import { inSpans, windowUnion } from './fault-windows.js';
import type { ClientOp } from './perf.js';

/** How long after its scheduled time an op may take to count as answered, by default (ms). */
export const AVAILABILITY_DEADLINE_MS = 1000;

/** The share of client ops answered `ok` within the deadline. */
export interface Availability {
  /** Ops answered `ok` within the deadline of their scheduled time. */
  readonly ok: number;
  /** Ops scheduled (with a known time). */
  readonly total: number;
  /** ok/total, null when total is 0 */
  readonly ratio: number | null;
}

/** A stretch of time (ns since the run started) with no `ok` completion of any client op. */
export interface NoOkStretch {
  readonly startNs: number;
  readonly endNs: number;
  /** `endNs - startNs` in ms, rounded to 0.001. */
  readonly ms: number;
}

/** A fault window with the availability of the client ops scheduled inside it. */
export interface WindowAvailability extends FaultWindow {
  /** Ops scheduled in `[startNs, endNs)` and how many of them were answered `ok` within the deadline (also when the answer came after the window). */
  readonly ops: Availability;
  /**
   * The longest stretch inside the window with no client `ok` completion (of any op, wherever
   * it was scheduled): from the window's start to the first ok, between two oks, or from the last
   * ok to the window's end; the whole window when no ok completed in it.
   */
  readonly longestNoOk: NoOkStretch;
}

/** Availability inside and outside the nemesis's faults (see {@link availabilityStats}). */
export interface AvailabilityStats {
  /** The deadline used, ms from an op's scheduled time to its `ok` completion. */
  readonly deadlineMs: number;
  /** Ops scheduled inside the union of the fault windows (`start ≤ t < end`; an unclosed window has no end). */
  readonly inFaults: Availability;
  /** Ops scheduled outside every fault window. */
  readonly outsideFaults: Availability;
  /** One per fault window, in the order of `faultWindows`. */
  readonly windows: readonly WindowAvailability[];
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

/** `ok` of `total`, with the ratio. */
export const availability = (ok: number, total: number): Availability => ({ ok, total, ratio: total === 0 ? null : ok / total });

/** The first index of ascending `xs` whose value is ≥ `t` (`xs.length` when none). */
export function lowerBound(xs: readonly number[], t: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((xs[mid] as number) < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The longest gap between `startNs`, the ascending `okNs` inside `[startNs, endNs]`, and `endNs`. */
export function longestNoOk(okNs: readonly number[], startNs: number, endNs: number): NoOkStretch {
  let best = { startNs, endNs: startNs };
  let from = startNs;
  for (let i = lowerBound(okNs, startNs); i <= okNs.length; i++) {
    const to = Math.min(okNs[i] ?? endNs, endNs);
    if (to - from > best.endNs - best.startNs) best = { startNs: from, endNs: to };
    if (to >= endNs) break;
    from = to;
  }
  return { ...best, ms: round3((best.endNs - best.startNs) / 1e6) };
}

/**
 * Availability of `ops` by their scheduled time (`startNs`) against `windows` (from
 * `faultWindows`; an unclosed one has `endNs` Infinity and is clipped to `runEndNs` for the
 * per-window figures). An op is answered when it completed `ok` at most `deadlineMs` after its
 * scheduled time; ops without a time are left out.
 */
export function availabilityStats(ops: readonly ClientOp[], windows: readonly FaultWindow[], runEndNs: number, deadlineMs: number): AvailabilityStats {
  const deadlineNs = deadlineMs * 1e6;
  const timed = ops.filter((o): o is ClientOp & { startNs: number } => o.startNs !== undefined).sort((a, b) => a.startNs - b.startNs);
  const scheduledNs = timed.map((o) => o.startNs);
  const answered = (o: ClientOp & { startNs: number }): boolean => o.type === 'ok' && o.completeNs !== undefined && o.completeNs - o.startNs <= deadlineNs;
  const okNs = ops.flatMap((o) => (o.type === 'ok' && o.completeNs !== undefined ? [o.completeNs] : [])).sort((a, b) => a - b);

  const spans = windowUnion(windows);
  const inside = { ok: 0, total: 0 };
  const outside = { ok: 0, total: 0 };
  for (const o of timed) {
    const side = inSpans(spans, o.startNs) ? inside : outside;
    side.total++;
    if (answered(o)) side.ok++;
  }

  const perWindow = windows.map((w): WindowAvailability => {
    const endNs = w.endNs === Infinity ? Math.max(w.startNs, runEndNs) : w.endNs;
    let total = 0;
    let ok = 0;
    for (let i = lowerBound(scheduledNs, w.startNs); i < timed.length; i++) {
      const o = timed[i] as ClientOp & { startNs: number };
      if (o.startNs >= w.endNs) break;
      total++;
      if (answered(o)) ok++;
    }
    return { ...w, endNs, ops: availability(ok, total), longestNoOk: longestNoOk(okNs, w.startNs, endNs) };
  });

  return { deadlineMs, inFaults: availability(inside.ok, inside.total), outsideFaults: availability(outside.ok, outside.total), windows: perWindow };
}
