/**
 * The store's format, defined once for its writer (`dsync run`, harness/store.ts) and its readers
 * (reports/run-folder.ts, reports/index-page.ts, other tools): the file names of a run folder and
 * of the store root, and the schema of `results.json`.
 */
import { z } from 'zod';
import type { PerfStats } from '../checkers/index.js';

/** The file names inside a run folder (`store/<experiment>/<time>/`). */
export const RUN_FILES = {
  config: 'config.yaml',
  historyJsonl: 'history.jsonl',
  historyEdn: 'history.edn',
  results: 'results.json',
  log: 'run.log',
  /** The folder of the nodes' logs (`<id>.log`) and data dirs. */
  nodes: 'nodes',
  report: 'report.html',
} as const;

/** The names in the store root and in each experiment's folder. */
export const STORE_FILES = {
  /** The list of every run (store root). */
  index: 'index.html',
  /** The symlink to the newest run (store root, and each experiment's folder). */
  latest: 'latest',
} as const;

/**
 * `dsync bench compare`'s folder in the store root (`<root>/bench-compare/<time>/`, one per
 * comparison, never a run) and the files each comparison's folder holds.
 */
export const COMPARE_FILES = {
  folder: 'bench-compare',
  /** The comparison's results (`CompareResults`, harness/bench/compare-results.ts). */
  results: 'results.json',
  /** Its offline page (reports/compare-html.ts). */
  page: 'compare.html',
} as const;

const validity = z.union([z.boolean(), z.literal('unknown')]);

/**
 * A run's verdict: the checkers' merged validity, or `incomplete` when the run did not complete
 * (interrupted, or a harness error) and the history it recorded was not found invalid — a prefix
 * that checks out proves nothing about the run that was asked for, so it is never `true`.
 */
const runVerdict = z.union([z.boolean(), z.literal('unknown'), z.literal('incomplete')]);



/** One checker's result as stored: its verdict, and whatever else it returned. */
const checkerResultSchema = z.looseObject({
  valid: validity,
  reason: z.string().optional(),
  summary: z.string().optional(),
});

/** Op counts of a run: completions by type, and nemesis ops. */
const countsSchema = z.object({ ok: z.number(), fail: z.number(), info: z.number(), nemesis: z.number() });

/**
 * `results.json`: the run's verdict (the checkers' merged validity), what each checker returned,
 * perf statistics, and what ran. Readers accept files without the fields that have defaults.
 */
export const runResultsSchema = z.looseObject({
  experiment: z.string(),
  description: z.string().prefault(''),
  /** ISO times. */
  startedAt: z.string(),
  finishedAt: z.string(),
  /**
   * The verdict: the checkers' merged validity, except that a run that did not complete is
   * `incomplete` unless its history was found invalid (`checker.valid` keeps what the checkers
   * said of the history recorded).
   */
  valid: runVerdict,
  /** The run did not complete (interrupted or a harness error); the checkers saw the history up to where it stopped. */
  incomplete: z.boolean().prefault(false),
  /** Why the run itself failed. */
  error: z.string().optional(),
  /** Why the verdict is not valid. */
  reason: z.string().optional(),
  counts: countsSchema,
  /** The composed checkers' result: merged verdict, and each checker's result by name. */
  checker: checkerResultSchema.extend({ results: z.record(z.string(), checkerResultSchema).optional() }),
  perf: z.custom<PerfStats>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), 'expected the perf statistics object'),
  /** The workload's one-line description. */
  workload: z.string().prefault(''),
  nodes: z.array(z.string()).prefault([]),
});

/** What a run writes to `results.json`. */
export type RunResults = z.input<typeof runResultsSchema>;

/** `results.json` as read back, defaults filled in. */
export type StoredResults = z.output<typeof runResultsSchema>;

/** `results.json`'s content validated; the problems (at most three) otherwise. */
export function validateResults(value: unknown): { ok: true; results: StoredResults } | { ok: false; problems: string[] } {
  const r = runResultsSchema.safeParse(value);
  // Files written before the `incomplete` verdict said `valid: true` for runs that stopped early.
  if (r.success) return { ok: true, results: r.data.incomplete && r.data.valid === true ? { ...r.data, valid: 'incomplete' } : r.data };
  return { ok: false, problems: r.error.issues.slice(0, 3).map((i) => `${i.path.length > 0 ? i.path.join('.') : '(top level)'}: ${i.message}`) };
}
