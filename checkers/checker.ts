/**
 * The checker contract (Jepsen's `jepsen.checker`): a checker reads a history and returns data,
 * `{valid: true | false | 'unknown', summary, ...}`. {@link safeCheck} turns a checker that throws
 * into an `unknown` verdict with the error, never a crashed run; {@link composeCheckers} runs
 * several and ranks the verdicts false > unknown > true. The verdict type and the exit codes of
 * `dsync run` and `dsync check` live here, once.
 */
import type { History } from './history/op.js';

/** The three verdicts, as Jepsen's `:valid?`. */
export type Validity = true | false | 'unknown';

/**
 * A run's verdict (results.json's `valid`): the checkers' validity, or `incomplete` for a run
 * that stopped early and whose history was not found invalid — never shown as valid.
 */
export type RunVerdict = Validity | 'incomplete';

/** Ranks verdicts: false > unknown > true (Jepsen's `merge-valid`). */
export function mergeValidity(a: Validity, b: Validity): Validity {
  if (a === false || b === false) return false;
  if (a === 'unknown' || b === 'unknown') return 'unknown';
  return true;
}

/** The exit codes of `dsync run`, `dsync suite` and `dsync check`. */
export const EXIT_CODES = {
  valid: 0,
  invalid: 1,
  unknown: 2,
  /** The run or the check itself failed (bad input, the cluster did not start, interrupted). */
  error: 3,
} as const;

/** One of {@link EXIT_CODES}. */
export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

/** The exit code of a verdict: 0 valid, 1 invalid, 2 unknown. */
export function exitCode(v: Validity): ExitCode {
  return v === true ? EXIT_CODES.valid : v === false ? EXIT_CODES.invalid : EXIT_CODES.unknown;
}

/** The worse of two exit codes, for a suite of runs: error > invalid > unknown > valid. */
export function worseExitCode(a: ExitCode, b: ExitCode): ExitCode {
  const rank = (c: ExitCode): number => [EXIT_CODES.valid, EXIT_CODES.unknown, EXIT_CODES.invalid, EXIT_CODES.error].indexOf(c);
  return rank(b) > rank(a) ? b : a;
}

/** What a checker says. */
export interface CheckerResult {
  readonly valid: Validity;
  /** Why, in words, when not valid. */
  readonly reason?: string;
  /**
   * One line on what was checked and what was found, for reports (e.g. "linearizable with
   * fenced-lock: 812 ops in 10 keys, checked in 4.1 ms"). Absent in results stored before it.
   */
  readonly summary?: string;
  readonly [detail: string]: unknown;
}

/** How far a long check has got, for progress lines. */
export interface CheckProgress {
  /** Partitions (e.g. keys) whose verdict is known. */
  readonly done: number;
  readonly total: number;
  /** The partitions being searched now, as keys in EDN text (`null` for a whole history). */
  readonly current: readonly string[];
  /** Configurations explored so far, over every partition. */
  readonly explored: number;
  /** Milliseconds since the check started. */
  readonly elapsedMs: number;
}

/** Options every checker gets. */
export interface CheckContext {
  /** Time budget in ms; past it the verdict is `unknown`. */
  readonly timeoutMs: number;
  /** Memory budget in MB of the checker's searches; past it the verdict is `unknown`. @default the checker's own */
  readonly maxMemoryMb?: number;
  /** Stop at the first invalid partition, leaving the rest `unknown` (not checked). @default false */
  readonly stopAtFirstInvalid?: boolean;
  /** Called now and then during a long check (by {@link Checker.checkAsync}). */
  readonly onProgress?: (p: CheckProgress) => void;
}

/** A checker of histories. */
export interface Checker {
  readonly name: string;
  check(history: History, ctx: CheckContext): CheckerResult;
  /**
   * The same check, asynchronous: free to run on worker threads and report progress. Optional;
   * {@link safeCheckAsync} falls back to `check`.
   */
  checkAsync?(history: History, ctx: CheckContext): Promise<CheckerResult>;
}

/** Runs `checker`, turning an exception into `unknown` with the error's message. */
export function safeCheck(checker: Checker, history: History, ctx: CheckContext): CheckerResult {
  try {
    return checker.check(history, ctx);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const reason = `checker ${checker.name} failed: ${message}`;
    return { valid: 'unknown', reason, summary: reason, error: message };
  }
}

/** Runs `checker` asynchronously (`checkAsync`, or else `check`), turning an exception into `unknown`. */
export async function safeCheckAsync(checker: Checker, history: History, ctx: CheckContext): Promise<CheckerResult> {
  try {
    return checker.checkAsync ? await checker.checkAsync(history, ctx) : checker.check(history, ctx);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const reason = `checker ${checker.name} failed: ${message}`;
    return { valid: 'unknown', reason, summary: reason, error: message };
  }
}

/** The results of several checkers, by name, with the merged verdict. */
export interface ComposedResult extends CheckerResult {
  readonly results: Readonly<Record<string, CheckerResult>>;
}

/** The merged verdict of several checkers' results. */
function compose(results: Record<string, CheckerResult>): ComposedResult {
  let valid: Validity = true;
  for (const r of Object.values(results)) valid = mergeValidity(valid, r.valid);
  const reasons = Object.entries(results)
    .filter(([, r]) => r.valid !== true && r.reason !== undefined)
    .map(([n, r]) => `${n}: ${r.reason}`);
  const summary = Object.entries(results)
    .map(([n, r]) => `${n}: ${r.summary ?? String(r.valid)}`)
    .join('; ');
  return { valid, results, summary, ...(reasons.length > 0 ? { reason: reasons.join('; ') } : {}) };
}

/** Runs each checker (safely) and merges the verdicts: false > unknown > true. */
export function composeCheckers(checkers: readonly Checker[]): Checker & {
  check(history: History, ctx: CheckContext): ComposedResult;
  checkAsync(history: History, ctx: CheckContext): Promise<ComposedResult>;
} {
  return {
    name: 'compose',
    check(history, ctx) {
      const results: Record<string, CheckerResult> = {};
      for (const c of checkers) results[c.name] = safeCheck(c, history, ctx);
      return compose(results);
    },
    async checkAsync(history, ctx) {
      const results: Record<string, CheckerResult> = {};
      for (const c of checkers) results[c.name] = await safeCheckAsync(c, history, ctx);
      return compose(results);
    },
  };
}
