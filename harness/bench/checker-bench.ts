/**
 * `npm run bench:checker`: times the linearizability checker on every Jepsen history in
 * ../shared/data/knossos/ and on a generated 100,000-op, 10-key, 20-process register history;
 * with `--hard`, on the hard histories of `hard-histories.ts` instead (see `hard-bench.ts`).
 */
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { checkHistory, findModel, independent, readHistory, type Model } from '../../checkers/index.js';
import { knossosFiles, knossosModelFor } from './knossos-models.js';
import { syntheticRegisterHistory } from './synthetic-history.js';
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

if (args.hard) {
  if (runHardBench(Number(args['timeout-ms']), (line) => console.log(line)) > 0) process.exitCode = 1;
} else {
  await benchKnossos(resolve(args.data));
  benchSynthetic();
}
