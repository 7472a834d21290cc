/**
 * The checker contract (Jepsen's `jepsen.checker`): a checker reads a history and returns data,
 * `{valid: true | false | 'unknown', ...}`. {@link safeCheck} turns a checker that throws into an
 * `unknown` verdict with the error, never a crashed run; {@link composeCheckers} runs several and
 * ranks the verdicts false > unknown > true.
 */
import type { History } from './history/op.js';
import { checkHistory, mergeValidity, type LinearizabilityResult, type Validity } from './linearizable.js';
import { findModel, independent } from './models/index.js';

/** What a checker says. */
export interface CheckerResult {
  readonly valid: Validity;
  /** Why, in words, when not valid. */
  readonly reason?: string;
  readonly [detail: string]: unknown;
}

/** Options every checker gets. */
export interface CheckContext {
  /** Time budget in ms; past it the verdict is `unknown`. */
  readonly timeoutMs: number;
}

/** A checker of histories. */
export interface Checker {
  readonly name: string;
  check(history: History, ctx: CheckContext): CheckerResult;
}

/** Runs `checker`, turning an exception into `unknown` with the error's message. */
export function safeCheck(checker: Checker, history: History, ctx: CheckContext): CheckerResult {
  try {
    return checker.check(history, ctx);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return { valid: 'unknown', reason: `checker ${checker.name} failed: ${message}`, error: message };
  }
}

/** The results of several checkers, by name, with the merged verdict. */
export interface ComposedResult extends CheckerResult {
  readonly results: Readonly<Record<string, CheckerResult>>;
}

/** Runs each checker (safely) and merges the verdicts: false > unknown > true. */
export function composeCheckers(checkers: readonly Checker[]): Checker & { check(history: History, ctx: CheckContext): ComposedResult } {
  return {
    name: 'compose',
    check(history, ctx) {
      const results: Record<string, CheckerResult> = {};
      let valid: Validity = true;
      for (const c of checkers) {
        const r = safeCheck(c, history, ctx);
        results[c.name] = r;
        valid = mergeValidity(valid, r.valid);
      }
      const reasons = Object.entries(results)
        .filter(([, r]) => r.valid !== true && r.reason !== undefined)
        .map(([n, r]) => `${n}: ${r.reason}`);
      return { valid, results, ...(reasons.length > 0 ? { reason: reasons.join('; ') } : {}) };
    },
  };
}

/** Linearizability against a named model (see `checkers/models`), per key with `independent`. */
export function linearizableChecker(modelName: string, o: { independent?: boolean; initial?: unknown } = {}): Checker {
  const base = findModel(modelName);
  if (!base) throw new RangeError(`no model named "${modelName}"`);
  const model = o.independent ? independent(base) : base;
  return {
    name: 'linearizable',
    check(history, ctx): CheckerResult & { readonly linearizability: LinearizabilityResult } {
      const r = checkHistory(history, model, { timeoutMs: ctx.timeoutMs, ...(o.initial !== undefined ? { initial: o.initial } : {}) });
      const bad = r.partitions.filter((p) => p.valid === false).length;
      const reason =
        r.valid === false
          ? `not linearizable with ${r.model}: ${bad} of ${r.partitions.length} ${o.independent ? 'keys' : 'partitions'} have no linearization`
          : r.valid === 'unknown'
            ? r.reason ?? 'search gave up'
            : undefined;
      return { valid: r.valid, model: r.model, independent: o.independent ?? false, ...(reason ? { reason } : {}), linearizability: r };
    },
  };
}
