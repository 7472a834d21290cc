/** Escaping and number formatting shared by the report's server-rendered HTML parts. */

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
