/**
 * The linearizability checker as a {@link Checker}: a named model (see `checkers/models`), per key
 * with `independent`, over the engine of `linearizable.ts`. Its result carries the engine's whole
 * result under `linearizability` (the report draws counterexamples from it) and a one-line summary.
 */
import type { CheckContext, Checker, CheckerResult } from './checker.js';
import { checkHistory, checkHistoryAsync, type LinearizabilityResult, type ParallelCheckOptions } from './linearizable.js';
import { findModel, independent } from './models/index.js';

/** What the linearizability checker returns. */
export interface LinearizableCheckerResult extends CheckerResult {
  readonly model: string;
  readonly independent: boolean;
  readonly linearizability: LinearizabilityResult;
}

const plural = (n: number, word: string): string => `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;

/**
 * The one-line summary of a linearizability result: what was checked, and the verdict's reason
 * when it is not valid — "linearizable with fenced-lock: 812 ops in 10 keys, checked in 4.1 ms".
 */
export function linearizabilitySummary(r: LinearizabilityResult, o: { independent: boolean; reason?: string | undefined }): string {
  const what = `${plural(r.ops, 'op')} in ${plural(r.partitions.length, o.independent ? 'key' : 'partition')}, checked in ${r.checkMs.toFixed(1)} ms`;
  return r.valid === true ? `linearizable with ${r.model}: ${what}` : `${o.reason ?? 'not linearizable'} (${what})`;
}

/** Linearizability against a named model (see `checkers/models`), per key with `independent`. */
export function linearizableChecker(modelName: string, o: { independent?: boolean; initial?: unknown } = {}): Checker {
  const base = findModel(modelName);
  if (!base) throw new RangeError(`no model named "${modelName}"`);
  const model = o.independent ? independent(base) : base;
  const perKey = o.independent ?? false;
  const options = (ctx: CheckContext): ParallelCheckOptions => ({
    timeoutMs: ctx.timeoutMs,
    ...(o.initial !== undefined ? { initial: o.initial } : {}),
    ...(ctx.maxMemoryMb !== undefined ? { maxMemoryMb: ctx.maxMemoryMb } : {}),
    ...(ctx.stopAtFirstInvalid !== undefined ? { stopAtFirstInvalid: ctx.stopAtFirstInvalid } : {}),
    ...(ctx.onProgress !== undefined ? { onProgress: ctx.onProgress } : {}),
  });
  const result = (r: LinearizabilityResult): LinearizableCheckerResult => {
    const bad = r.partitions.filter((p) => p.valid === false).length;
    const reason =
      r.valid === false
        ? `not linearizable with ${r.model}: ${bad} of ${r.partitions.length} ${perKey ? 'keys' : 'partitions'} have no linearization${r.note ? ` (${r.note})` : ''}`
        : r.valid === 'unknown'
          ? r.reason ?? 'search gave up'
          : undefined;
    const summary = linearizabilitySummary(r, { independent: perKey, reason });
    return { valid: r.valid, model: r.model, independent: perKey, ...(reason ? { reason } : {}), summary, linearizability: r };
  };
  return {
    name: 'linearizable',
    check: (history, ctx) => result(checkHistory(history, model, options(ctx))),
    checkAsync: async (history, ctx) => result(await checkHistoryAsync(history, model, options(ctx))),
  };
}
