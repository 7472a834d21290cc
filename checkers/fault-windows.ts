/**
 * The nemesis's fault windows in a history: when each fault was in effect, what it hit (a
 * partition's topology, the nodes killed or paused, ...), and the final heal. A window opens at
 * the completion of a `start-<kind>` op and closes at the completion of the matching
 * `stop-<kind>` op or of a `heal`; a failed op changes nothing. Never throws on odd histories.
 */
import { isNemesis, type History } from './history/op.js';
import { describeValue } from './values.js';

/** A span of time, in ns since the run started, during which a fault of `kind` (e.g. `partition`) was in effect. */
export interface FaultWindow {
  readonly kind: string;
  /**
   * What the fault hit, from the `start-<kind>` op's completion value: a partition's topology
   * (`majorities-ring`), the nodes killed or paused (`n1 n3`), the number of links slowed, a
   * clock fault's kind and target; empty when the value says nothing. Absent in results.json
   * files written before it existed.
   */
  readonly label: string;
  readonly startNs: number;
  readonly endNs: number;
}

/** The completion of the last `heal` op: its time and position in the history. */
export interface FinalHeal {
  readonly ns: number;
  readonly at: number;
}

const finite = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A value's words: strings as they are, arrays joined by spaces, anything else as EDN. */
const words = (v: unknown): string =>
  typeof v === 'string' ? v : Array.isArray(v) ? v.map(words).join(' ') : v === null || v === undefined ? '' : describeValue(v, 60);

/**
 * The label of a fault of `kind` whose `start-<kind>` op completed with `value` (see the op table
 * at the top of `nemesis/nemesis.ts`).
 */
export function faultLabel(kind: string, value: unknown): string {
  if (kind === 'partition' && isRecord(value) && typeof value['topology'] === 'string') return value['topology'];
  if ((kind === 'kill' || kind === 'pause') && Array.isArray(value)) return value.map(words).join(' ');
  if (kind === 'latency' && Array.isArray(value)) return `${value.length} link${value.length === 1 ? '' : 's'}`;
  if (kind === 'clock' && isRecord(value)) return [words(value['kind']), words(value['target'])].filter((w) => w !== '').join(' ');
  return words(value);
}

/** A window still open while the history is read. */
interface Opening {
  readonly startNs: number;
  readonly label: string;
}

/**
 * The windows opened and closed by the nemesis's completed ops, sorted by start (a window still
 * open at the end has `endNs` Infinity: the caller clips it), and the final heal (null when the
 * last heal never completed or there is none).
 */
export function faultWindows(history: History): { windows: FaultWindow[]; finalHeal: FinalHeal | null } {
  const windows: FaultWindow[] = [];
  const openWindows = new Map<string, Opening>();
  const pending = new Map<string, number>(); // nemesis invocations not yet completed, per f
  let finalHeal: FinalHeal | null = null;
  const close = (kind: string, w: Opening, t: number): void => {
    windows.push({ kind, label: w.label, startNs: w.startNs, endNs: Math.max(w.startNs, t) });
    openWindows.delete(kind);
  };
  for (const [i, op] of history.entries()) {
    if (!isNemesis(op)) continue;
    const inFlight = pending.get(op.f) ?? 0;
    if (op.type === 'invoke') {
      pending.set(op.f, inFlight + 1);
      if (op.f === 'heal') finalHeal = null;
      continue;
    }
    if (inFlight === 0) continue;
    pending.set(op.f, inFlight - 1);
    const t = finite(op.time);
    if (op.type === 'fail' || t === undefined) continue; // the fault (or the heal) did not surely happen
    if (op.f === 'heal') {
      for (const [kind, w] of openWindows) close(kind, w, t);
      finalHeal = { ns: t, at: i };
    } else if (op.f.startsWith('start-')) {
      const kind = op.f.slice('start-'.length);
      if (!openWindows.has(kind)) openWindows.set(kind, { startNs: t, label: faultLabel(kind, op.value) });
    } else if (op.f.startsWith('stop-')) {
      const kind = op.f.slice('stop-'.length);
      const w = openWindows.get(kind);
      if (w !== undefined) close(kind, w, t);
    }
  }
  for (const [kind, w] of openWindows) close(kind, w, Infinity);
  windows.sort((a, b) => a.startNs - b.startNs || a.endNs - b.endNs || (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0));
  return { windows, finalHeal };
}

/** The union of `windows` (sorted by start) as disjoint `[start, end)` spans. */
export function windowUnion(windows: readonly FaultWindow[]): [number, number][] {
  const spans: [number, number][] = [];
  for (const w of windows) {
    const last = spans[spans.length - 1];
    if (last !== undefined && w.startNs <= last[1]) last[1] = Math.max(last[1], w.endNs);
    else spans.push([w.startNs, w.endNs]);
  }
  return spans;
}

/** Is `t` inside one of the disjoint sorted `spans` (`start ≤ t < end`)? */
export function inSpans(spans: readonly [number, number][], t: number): boolean {
  let lo = 0;
  let hi = spans.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [start, end] = spans[mid] as [number, number];
    if (t < start) hi = mid - 1;
    else if (t >= end) lo = mid + 1;
    else return true;
  }
  return false;
}
