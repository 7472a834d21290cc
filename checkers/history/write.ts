/**
 * Writes histories as our JSONL and as Jepsen EDN (one map per line, like Jepsen's `history.edn`).
 */
import { Keyword, writeEdn } from './edn.js';
import type { Op } from './op.js';

/** The fields Jepsen writes first, in its order; any others follow. */
const LEADING = ['index', 'type', 'f', 'value', 'process', 'time', 'error'] as const;

function replacer(_key: string, v: unknown): unknown {
  return typeof v === 'bigint' ? (Number.isSafeInteger(Number(v)) ? Number(v) : v.toString()) : v;
}

/** The op's defined fields, Jepsen's first. */
function ordered(op: Op): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of LEADING) if (op[k] !== undefined) out[k] = op[k];
  for (const [k, v] of Object.entries(op)) if (!(k in out) && v !== undefined) out[k] = v;
  return out;
}

/** One op as a JSONL line (no trailing newline). Keywords in values become their names. */
export function opToJson(op: Op): string {
  return JSON.stringify(ordered(op), replacer);
}

/** One op as an EDN map on one line: `type` and `f` as keywords, a named process as a keyword. */
export function opToEdn(op: Op): string {
  const out = ordered(op);
  out.type = Keyword.of(op.type);
  out.f = Keyword.of(op.f);
  if (typeof op.process === 'string') out.process = Keyword.of(op.process);
  return writeEdn(out);
}

/** A whole history as JSONL text. */
export function historyToJsonl(ops: readonly Op[]): string {
  return ops.map((op) => `${opToJson(op)}\n`).join('');
}

/** A whole history as EDN text, one map per line. */
export function historyToEdn(ops: readonly Op[]): string {
  return ops.map((op) => `${opToEdn(op)}\n`).join('');
}
