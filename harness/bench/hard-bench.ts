/**
 * `npm run bench:checker -- --hard`: the checker on the hard histories of `hard-histories.ts`
 * — kv with 50 clients on 10 keys (valid, and with one planted stale read), and a fenced lock
 * with 16 timed-out acquires on one key — each in a fresh process so that its peak RSS is its
 * own: check time, configurations explored, peak RSS, and whether the verdict is the one the
 * history was built to have. Exit 1 on a wrong verdict.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { checkHistory, findModel, independent, type Model, type Op, type Validity } from '../../checkers/index.js';
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
  readonly valid: Validity;
  readonly expected: boolean;
  readonly checkMs: number;
  readonly explored: number;
  readonly peakRssMb: number;
}

/** Runs one case in this process. */
export function runHardCase(name: string, timeoutMs: number): HardResult {
  const c = HARD_CASES.find((x) => x.name === name);
  if (c === undefined) throw new RangeError(`no hard case "${name}"; cases: ${HARD_CASES.map((x) => x.name).join(', ')}`);
  const history = c.history();
  const t0 = performance.now();
  const r = checkHistory(history, c.model(), { timeoutMs });
  const checkMs = performance.now() - t0;
  return {
    name: c.name,
    describe: c.describe,
    ops: r.ops,
    valid: r.valid,
    expected: c.expected,
    checkMs,
    explored: r.partitions.reduce((a, p) => a + p.explored, 0),
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  };
}

/** Runs every case, each in a child process of this module; prints a line each. Resolves to the number of wrong verdicts. */
export function runHardBench(timeoutMs: number, print: (line: string) => void): number {
  let wrong = 0;
  for (const c of HARD_CASES) {
    const out = execFileSync(process.execPath, ['--enable-source-maps', fileURLToPath(import.meta.url), c.name, String(timeoutMs)], { encoding: 'utf8' });
    const r = JSON.parse(out.trim().split('\n').at(-1) as string) as HardResult;
    const ok = r.valid === r.expected;
    if (!ok) wrong++;
    print(
      `hard ${r.name.padEnd(14)} ${String(r.ops).padStart(5)} ops  ${r.checkMs.toFixed(1).padStart(8)} ms  ${String(r.explored).padStart(9)} configurations  peak RSS ${r.peakRssMb.toFixed(0).padStart(4)} MB  ${String(r.valid)}${ok ? '' : ` WRONG (built to be ${String(r.expected)})`}  — ${r.describe}`,
    );
  }
  return wrong;
}

// As a child process: `node hard-bench.js CASE TIMEOUT_MS` prints the case's result as JSON.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [name, timeout] = process.argv.slice(2);
  process.stdout.write(`${JSON.stringify(runHardCase(name ?? '', Number(timeout ?? 60_000)))}\n`);
}
