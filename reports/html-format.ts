/** Escaping and number formatting shared by the server-rendered HTML of the report pages (report.html, compare.html). */

/** Escapes text for HTML content and (quoted) attribute values. */
export function escapeHtml(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** A number with thousands separators. */
export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Milliseconds with a sensible number of digits (`—` for null). */
export function fmtMs(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '—';
  const a = Math.abs(ms);
  return ms.toFixed(a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3);
}

/** A duration in ms or s as fits. */
export function fmtDuration(ms: number): string {
  return Math.abs(ms) >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${fmtMs(ms)} ms`;
}

/** A share 0..1 as a percentage (`—` for null). */
export function fmtShare(x: number | null): string {
  return x === null ? '—' : `${(x * 100).toFixed(1)} %`;
}

/** A deadline or other round duration given in ms: `1 s`, `250 ms`, `1.5 s`. */
export function fmtRoundDuration(ms: number): string {
  return ms >= 1000 ? `${Number((ms / 1000).toFixed(3))} s` : `${Number(ms.toFixed(3))} ms`;
}

/**
 * A measured number with about three significant digits: `0.352`, `12.4`, `1,234` (`—` for null).
 * For figures of no fixed unit scale (CPU seconds per op, bytes per op, fsyncs per op).
 */
export function fmtNumber(x: number | null): string {
  if (x === null || !Number.isFinite(x)) return '—';
  if (x === 0) return '0';
  if (Math.abs(x) >= 1000) return fmtInt(x);
  return String(Number(x.toPrecision(3)));
}

/** An ISO time as `2026-11-21 08:05:24 UTC` (other text as is). */
export function fmtDate(iso: string): string {
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.\d+)?Z$/.exec(iso);
  return m === null ? iso : `${m[1]} ${m[2]} UTC`;
}

/** JSON safe inside a `<script>` element: no `<` (so no `</script>` or `<!--`), no U+2028/2029. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** Code safe inside a `<script>` element (`</script` cannot end it early). */
export function scriptText(code: string): string {
  return code.replace(/<\/script/gi, '<\\/script');
}
