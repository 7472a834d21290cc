/**
 * `npm run bench:checker`: times the linearizability checker on every Jepsen history in
 * ../shared/data/knossos/, on a generated 100,000-op, 10-key, 20-process register history, and
 * the parallel checker on 10 keys of equal difficulty: on one worker vs a pool sized to the cores.
 * With `--hard`, on the hard histories of `hard-histories.ts` instead (see `hard-bench.ts`).
 */
import { availableParallelism, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { checkHistory, checkHistoryAsync, createSearchPool, findModel, independent, readHistory, type LinearizabilityResult, type Model, type Op, type SearchPool } from '../../checkers/index.js';
import { knossosFiles, knossosModelFor } from './knossos-models.js';
import { equalKeysHistory, syntheticRegisterHistory } from './synthetic-history.js';
import { runHardBench } from './hard-bench.js';

const { values: args } = parseArgs({
  options: {
    data: { type: 'string', default: '../shared/data/knossos' },
    ops: { type: 'string', default: '100000' },
    keys: { type: 'string', default: '10' },
    processes: { type: 'string', default: '20' },
    seed: { type: 'string', default: '1' },
    quiet: { type: 'boolean', default: false },
    /** The hard histories (hard-bench.ts) instead of the Knossos and synthetic ones. */
    hard: { type: 'boolean', default: false },
    'timeout-ms': { type: 'string', default: '60000' },
    'parallel-keys': { type: 'string', default: '10' },
    'parallel-key-ops': { type: 'string', default: '3000' },
    'parallel-key-processes': { type: 'string', default: '12' },
    'parallel-rounds': { type: 'string', default: '5' },
    only: { type: 'string' },
  },
});

const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MB`;
const ms = (x: number): string => `${x.toFixed(2)} ms`;

async function benchKnossos(dir: string): Promise<void> {
  const files = knossosFiles(dir);
  if (files.length === 0) throw new Error(`no .edn histories under ${dir}`);
  for (const pass of ['cold', 'warm'] as const) {
    let checkTotal = 0;
    let parseTotal = 0;
    let ops = 0;
    let slowest = { file: '', ms: 0 };
    const wrong: string[] = [];
    for (const rel of files) {
      const file = join(dir, rel);
      const known = knossosModelFor(rel);
      if (known === undefined) continue;
      const t0 = performance.now();
      const parsed = await readHistory(file);
      const t1 = performance.now();
      const result = checkHistory(parsed.ops, known.model, known.initial === undefined ? {} : { initial: known.initial });
      const t2 = performance.now();
      parseTotal += t1 - t0;
      checkTotal += t2 - t1;
      ops += result.ops;
      if (t2 - t1 > slowest.ms) slowest = { file: rel, ms: t2 - t1 };
      if (result.valid !== known.expected) wrong.push(`${rel}: expected ${known.expected}, got ${result.valid}`);
      if (pass === 'cold' && !args.quiet) {
        console.log(`${rel.padEnd(52)} ${known.model.name.padEnd(14)} ${String(result.ops).padStart(5)} ops  ${ms(t2 - t1).padStart(10)}  ${String(result.valid)}`);
      }
    }
    console.log(
      `knossos (${pass}): ${files.length} histories, ${ops} ops: check ${ms(checkTotal)} total, parse ${ms(parseTotal)}; slowest ${slowest.file} ${ms(slowest.ms)}; wrong verdicts: ${wrong.length}`,
    );
    for (const w of wrong) console.log(`  WRONG ${w}`);
    if (wrong.length > 0) process.exitCode = 1;
  }
}

function benchSynthetic(): void {
  const ops = Number(args.ops);
  const keys = Number(args.keys);
  const processes = Number(args.processes);
  const seed = Number(args.seed);
  const t0 = performance.now();
  const history = syntheticRegisterHistory({ ops, keys, processes, seed });
  const t1 = performance.now();
  const model: Model = independent(findModel('register') as Model);
  const result = checkHistory(history, model);
  const t2 = performance.now();
  const explored = result.partitions.reduce((a, p) => a + p.explored, 0);
  console.log(
    `generated register history: ${ops} ops, ${keys} keys, ${processes} processes (seed ${seed}, ${history.length} events, generated in ${ms(t1 - t0)}): ${String(result.valid)} in ${ms(t2 - t1)}; ${explored} configurations explored; peak RSS ${mb(process.resourceUsage().maxRSS * 1024)}`,
  );
  if (result.valid !== true) process.exitCode = 1;
}

/** How long `f` takes, in ms, and its result. */
async function timed<T>(f: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const t0 = performance.now();
  const result = await f();
  return { ms: performance.now() - t0, result };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

async function benchParallel(): Promise<void> {
  const keys = Number(args['parallel-keys']);
  const keyOps = Number(args['parallel-key-ops']);
  const processes = Number(args['parallel-key-processes']);
  const rounds = Number(args['parallel-rounds']);
  const cores = availableParallelism();
  const history: Op[] = equalKeysHistory(keys, { ops: keyOps, processes, seed: 5 });
  const model: Model = independent(findModel('register') as Model);
  const one: SearchPool = createSearchPool({ size: 1 });
  const all: SearchPool = createSearchPool({ size: cores });
  try {
    const onPool = (pool: SearchPool) => () => checkHistoryAsync(history, model, { pool });
    // Start every worker once, so that the timings are of checking, not of starting threads.
    await onPool(one)();
    await onPool(all)();
    // The three modes run back to back in each round, so that the ratio of one round compares
    // timings taken under the same load from other tenants (which drifts by tens of per cent
    // over a minute on a shared machine); every timing is a whole check.
    const ratios: number[] = [];
    let inline = { ms: Infinity, result: undefined as unknown as LinearizabilityResult };
    let single = inline;
    let pooled = inline;
    for (let i = 0; i < rounds; i++) {
      const a = await timed(async () => checkHistory(history, model));
      const b = await timed(onPool(one));
      const c = await timed(onPool(all));
      ratios.push(b.ms / c.ms);
      if (a.ms < inline.ms) inline = a;
      if (b.ms < single.ms) single = b;
      if (c.ms < pooled.ms) pooled = c;
    }
    const perKey = inline.result.partitions.reduce((a, p) => a + p.checkMs, 0) / keys;
    const verdicts = [inline, single, pooled].map((r) => String(r.result.valid)).join('/');
    console.log(
      `parallel: ${keys} equal keys × ${keyOps} ops, ${processes} processes (${history.length} events; ~${ms(perKey)} per key; verdicts ${verdicts}); ${rounds} rounds, best of each:`,
    );
    const keyMs = (r: LinearizabilityResult): string => ms(r.partitions.reduce((a, p) => a + p.checkMs, 0) / keys);
    console.log(`  main thread ${ms(inline.ms)}; 1 worker ${ms(single.ms)}; pool of ${cores} workers ${ms(pooled.ms)}`);
    console.log(`  mean time per key (fastest round): main thread ${keyMs(inline.result)}, 1 worker ${keyMs(single.result)}, pool ${keyMs(pooled.result)} (a rise on the pool is contention for the cores)`);
    console.log(
      `  pool vs 1 worker: ${(single.ms / pooled.ms).toFixed(2)}× faster (best vs best) on ${cores} cores; per round ${ratios.map((r) => r.toFixed(2)).join(', ')} (median ${median(ratios).toFixed(2)}×); ideal ${Math.min(cores, keys)}×; load average ${(loadavg()[0] ?? 0).toFixed(2)}: other processes share the cores`,
    );
    if ([inline, single, pooled].some((r) => r.result.valid !== true)) process.exitCode = 1;
  } finally {
    await Promise.all([one.close(), all.close()]);
  }
}

const only = args.only;
if (args.hard) {
  if (runHardBench(Number(args['timeout-ms']), (line) => console.log(line)) > 0) process.exitCode = 1;
} else {
  if (only === undefined || only === 'knossos') await benchKnossos(resolve(args.data));
  if (only === undefined || only === 'synthetic') benchSynthetic();
  if (only === undefined || only === 'parallel') await benchParallel();
}
