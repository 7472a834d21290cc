/**
 * `npm run bench:checker -- --hard`: the checker on the hard histories of `hard-histories.ts`
 * — kv with 50 clients on 10 keys (valid, and with one planted stale read), and a fenced lock
 * with 16 timed-out acquires on one key — each in a fresh process so that its peak RSS is its
 * own: check time on one thread and on the worker pool (`dsync check`'s path; for an invalid
 * history also with `--stop-at-first-invalid`, `dsync run`'s), configurations explored, peak RSS,
 * and whether the verdicts are the one the history was built to have. Exit 1 on a wrong verdict.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { checkHistory, checkHistoryAsync, createSearchPool, findModel, independent, type Model, type Op, type Validity } from '../../checkers/index.js';
import { kvHistory, lockHistory } from './hard-histories.js';

/** One hard case: how to make its history, the model, and the verdict it was built to have. */
interface HardCase {
  readonly name: string;
  readonly describe: string;
  readonly history: () => Op[];
  readonly model: () => Model;
  readonly expected: boolean;
}

const kv = (): Model => findModel('kv') as Model;
const fencedLock = (): Model => independent(findModel('fenced-lock') as Model);

/** The hard cases, by name. */
export const HARD_CASES: readonly HardCase[] = [
  { name: 'kv-valid', describe: 'kv, 2,000 ops, 50 clients, 10 keys, appends and gets', history: () => kvHistory({ seed: 1 }), model: kv, expected: true },
  { name: 'kv-stale-read', describe: 'the same with one planted stale read', history: () => kvHistory({ seed: 1, staleRead: true }), model: kv, expected: false },
  { name: 'lock-16-info', describe: 'fenced-lock, 600 ops, 10 clients, 1 lock, 16 timed-out acquires', history: () => lockHistory({ seed: 1 }), model: fencedLock, expected: true },
];

/** What one case measured. */
export interface HardResult {
  readonly name: string;
  readonly describe: string;
  readonly ops: number;
  /** The verdict on one thread. */
  readonly valid: Validity;
  readonly expected: boolean;
  readonly checkMs: number;
  readonly explored: number;
  /** On the worker pool (every partition). */
  readonly poolMs: number;
  readonly poolValid: Validity;
  /** On the worker pool, stopping at the first invalid partition (invalid cases only). */
  readonly stopMs: number | null;
  readonly stopValid: Validity | null;
  readonly peakRssMb: number;
}

/** Runs one case in this process. */
export async function runHardCase(name: string, timeoutMs: number): Promise<HardResult> {
  const c = HARD_CASES.find((x) => x.name === name);
  if (c === undefined) throw new RangeError(`no hard case "${name}"; cases: ${HARD_CASES.map((x) => x.name).join(', ')}`);
  const history = c.history();
  const t0 = performance.now();
  const r = checkHistory(history, c.model(), { timeoutMs });
  const checkMs = performance.now() - t0;
  const pool = createSearchPool();
  try {
    await checkHistoryAsync(history, c.model(), { timeoutMs, pool, inlineBelowOps: 0 }); // start the workers
    const t1 = performance.now();
    const p = await checkHistoryAsync(history, c.model(), { timeoutMs, pool, inlineBelowOps: 0 });
    const poolMs = performance.now() - t1;
    let stopMs: number | null = null;
    let stopValid: Validity | null = null;
    if (!c.expected) {
      const t2 = performance.now();
      stopValid = (await checkHistoryAsync(history, c.model(), { timeoutMs, pool, inlineBelowOps: 0, stopAtFirstInvalid: true })).valid;
      stopMs = performance.now() - t2;
    }
    return {
      name: c.name,
      describe: c.describe,
      ops: r.ops,
      valid: r.valid,
      expected: c.expected,
      checkMs,
      explored: r.partitions.reduce((a, x) => a + x.explored, 0),
      poolMs,
      poolValid: p.valid,
      stopMs,
      stopValid,
      peakRssMb: process.resourceUsage().maxRSS / 1024,
    };
  } finally {
    await pool.close();
  }
}

/** Runs every case, each in a child process of this module; prints a line each. Resolves to the number of wrong verdicts. */
export function runHardBench(timeoutMs: number, print: (line: string) => void): number {
  let wrong = 0;
  for (const c of HARD_CASES) {
    const out = execFileSync(process.execPath, ['--enable-source-maps', fileURLToPath(import.meta.url), c.name, String(timeoutMs)], { encoding: 'utf8' });
    const r = JSON.parse(out.trim().split('\n').at(-1) as string) as HardResult;
    const ok = [r.valid, r.poolValid, r.stopValid ?? r.expected].every((v) => v === r.expected);
    if (!ok) wrong++;
    const stop = r.stopMs === null ? '' : `, first invalid ${r.stopMs.toFixed(1)} ms`;
    print(
      `hard ${r.name.padEnd(14)} ${String(r.ops).padStart(5)} ops  one thread ${r.checkMs.toFixed(1).padStart(7)} ms, pool ${r.poolMs.toFixed(1)} ms${stop}  ${String(r.explored).padStart(7)} configurations  peak RSS ${r.peakRssMb.toFixed(0)} MB  ${String(r.valid)}${ok ? '' : ` WRONG (built to be ${String(r.expected)}; pool ${String(r.poolValid)}, stop ${String(r.stopValid)})`}  — ${r.describe}`,
    );
  }
  return wrong;
}

// As a child process: `node hard-bench.js CASE TIMEOUT_MS` prints the case's result as JSON.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [name, timeout] = process.argv.slice(2);
  process.stdout.write(`${JSON.stringify(await runHardCase(name ?? '', Number(timeout ?? 60_000)))}\n`);
}
