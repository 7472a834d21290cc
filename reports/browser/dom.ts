/**
 * Shared helpers of the report's browser app: the data's types, DOM building, number formatting
 * and colours. Every browser file adds to the `DsyncReport` namespace (one global name).
 */
namespace DsyncReport {
  export type ReportData = import('../report-types.js').ReportData;
  export type Outcome = import('../report-types.js').Outcome;
  export type FaultBand = import('../report-types.js').FaultBand;
  export type PercentileCurve = import('../report-types.js').PercentileCurve;
  export type Counterexample = import('../report-types.js').Counterexample;
  export type CounterexampleOp = import('../report-types.js').CounterexampleOp;

  /** The outcome codes of `TimelineData.outcome` (same order as `OUTCOMES` in report-types.ts). */
  export const OUTCOME_NAMES: readonly Outcome[] = ['ok', 'fail', 'info'];

  /** Jepsen's fills per outcome. */
  export const OUTCOME_FILL: Readonly<Record<Outcome, string>> = { ok: '#6DB6FE', fail: '#FEB5DA', info: '#FFAA26' };

  /** Darker outlines of {@link OUTCOME_FILL}. */
  export const OUTCOME_STROKE: Readonly<Record<Outcome, string>> = { ok: '#2F80C8', fail: '#D9679F', info: '#C77C00' };

  /** Line colours for per-f series (distinct from the outcome colours). */
  export const SERIES_PALETTE: readonly string[] = [
    '#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf', '#ff7f0e',
  ];

  const FAULT_RGB: Readonly<Record<string, readonly [number, number, number]>> = {
    partition: [150, 100, 210],
    kill: [225, 70, 60],
    pause: [40, 160, 140],
    latency: [120, 170, 40],
    clock: [200, 160, 20],
  };
  const OTHER_FAULT_RGB: readonly (readonly [number, number, number])[] = [
    [110, 110, 110], [190, 90, 160], [70, 120, 200], [160, 110, 60],
  ];

  /** How strongly fault bands are shaded. */
  const FAULT_ALPHA = 0.16;

  /**
   * The colour of a fault kind: `band` is translucent (drawn over the plot), `swatch` is the same
   * colour as it looks over white (for legends), `solid` the full colour.
   */
  export function faultColor(kind: string, kinds: readonly string[]): { band: string; swatch: string; solid: string } {
    const known = FAULT_RGB[kind];
    const unknownIndex = kinds.filter((k) => FAULT_RGB[k] === undefined).indexOf(kind);
    const rgb = known ?? OTHER_FAULT_RGB[Math.max(0, unknownIndex) % OTHER_FAULT_RGB.length] ?? [128, 128, 128];
    const mix = (c: number): number => Math.round(255 - (255 - c) * FAULT_ALPHA * 1.6);
    return {
      band: `rgba(${rgb[0]},${rgb[1]},${rgb[2]},${FAULT_ALPHA})`,
      swatch: `rgb(${mix(rgb[0])},${mix(rgb[1])},${mix(rgb[2])})`,
      solid: `rgb(${rgb[0]},${rgb[1]},${rgb[2]})`,
    };
  }

  /** The distinct fault kinds of the run, in order of first appearance. */
  export function faultKinds(data: ReportData): string[] {
    return [...new Set(data.faults.map((b) => b.kind))];
  }

  /** Escapes text for use inside HTML (ECharts tooltips are HTML strings). */
  export function esc(s: string): string {
    return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  }

  /** A child of {@link h} / {@link svg}: nodes and text are added, empty values skipped. */
  export type Child = Node | string | null | undefined | false;

  /**
   * Creates an HTML element with attributes (`class`, `data-*`, ...) and children (text is
   * inserted as text, never parsed).
   */
  export function h<K extends keyof HTMLElementTagNameMap>(
    tag: K,
    attrs: Readonly<Record<string, string>> = {},
    ...children: readonly Child[]
  ): HTMLElementTagNameMap[K] {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    for (const c of children) if (c !== null && c !== undefined && c !== false) e.append(c);
    return e;
  }

  /** Creates an SVG element with attributes and children. */
  export function svg<K extends keyof SVGElementTagNameMap>(
    tag: K,
    attrs: Readonly<Record<string, string | number>> = {},
    ...children: readonly Child[]
  ): SVGElementTagNameMap[K] {
    const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    for (const c of children) if (c !== null && c !== undefined && c !== false) e.append(c);
    return e;
  }

  /** The element with this id; throws when the page skeleton lacks it. */
  export function byId(id: string): HTMLElement {
    const e = document.getElementById(id);
    if (e === null) throw new Error(`the page has no #${id}`);
    return e;
  }

  /** A number with thousands separators. */
  export function fmtInt(n: number): string {
    return Math.round(n).toLocaleString('en-US');
  }

  /** Milliseconds with a sensible number of digits (`—` for null). */
  export function fmtMs(ms: number | null): string {
    if (ms === null || !Number.isFinite(ms)) return '—';
    const a = Math.abs(ms);
    const digits = a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3;
    return ms.toFixed(digits);
  }

  /** A duration given in ms, in ms or s as fits (`12.3 ms`, `4.56 s`). */
  export function fmtDuration(ms: number | null): string {
    if (ms === null || !Number.isFinite(ms)) return '—';
    return Math.abs(ms) >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${fmtMs(ms)} ms`;
  }

  /** A time of the run given in ms, in seconds (`12.345 s`). */
  export function fmtTime(ms: number): string {
    return `${(ms / 1000).toFixed(3)} s`;
  }

  /** A time in seconds with one decimal, for spans (`12.0`). */
  export function fmtSeconds(s: number): string {
    return s.toFixed(1);
  }
}
