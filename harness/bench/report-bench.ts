/**
 * `npm run bench:report`: the report of a 100,000-op run — how big `report.html` is (limit 10 MB)
 * and how long headless Chromium takes from navigation to a fully drawn page (target < 3 s).
 *
 * The run is synthesized so the benchmark needs no cluster: a register history on independent
 * keys (linearizable but for one corrupt read, so the counterexample view is drawn too), spread
 * over ~100 s with a partition every 10 s, stored as `dsync run` stores runs, checked by the real
 * checker. `--from DIR` measures an existing run folder instead.
 *
 * Exit 1 when the size limit or the load-time target is missed or the page has a problem;
 * `--time-target-warns` makes a missed load-time target a printed warning only (CI: the time
 * depends on the machine and its load; the number is printed either way).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { composeCheckers, linearizableChecker } from '../../checkers/index.js';
import type { Op } from '../../checkers/history/op.js';
import { perfStats } from '../../checkers/perf.js';
import { launchChromium, openReport } from '../../reports/chromium.js';
import { renderRunReport } from '../../reports/render.js';
import type { RunResults } from '../store-format.js';
import { countEvent } from '../progress.js';
import { RunStore } from '../store.js';
import { RUN_FILES } from '../store-format.js';
import { syntheticRegisterHistory } from './synthetic-history.js';

const { values: args } = parseArgs({
  options: {
    ops: { type: 'string', default: '100000' },
    from: { type: 'string' },
    store: { type: 'string' },
    loads: { type: 'string', default: '3' },
    valid: { type: 'boolean', default: false },
    'time-target-warns': { type: 'boolean', default: false },
  },
});

const SIZE_LIMIT = 10 * 2 ** 20;
const LOAD_TARGET_MS = 3000;
/** The synthetic history's µs-scale times are stretched by this much (~1,000 ops/s with 20 processes). */
const TIME_SCALE = 30;
const S = 1e9;

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(2)} MiB`;
const secs = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

/** Client history stretched to run length, with a partition every 10 s (5 s long) and a final heal. */
function runLikeHistory(ops: number, corrupt: boolean): Op[] {
  const clients = syntheticRegisterHistory({ ops, keys: 10, processes: 20, seed: 7, ...(corrupt ? { corruptAt: 0.6 } : {}) }).map((op) => ({ ...op, time: (op.time ?? 0) * TIME_SCALE }));
  const end = clients[clients.length - 1]?.time ?? 0;
  const nemesis: Op[] = [];
  const add = (f: string, time: number, value: unknown): void => {
    nemesis.push({ index: 0, type: 'invoke', f, value: null, process: 'nemesis', time });
    nemesis.push({ index: 0, type: 'info', f, value, process: 'nemesis', time: time + 1e6 });
  };
  for (let t = 5 * S; t + 5 * S < end; t += 10 * S) {
    add('start-partition', t, 'cut n1 off from n2, n3');
    add('stop-partition', t + 5 * S, 'healed');
  }
  add('heal', end - 2 * S, 'all healed');
  return [...clients, ...nemesis].sort((a, b) => (a.time as number) - (b.time as number)).map((op, index) => ({ ...op, index }));
}

/** Stores a synthetic run as `dsync run` would; returns its folder. */
async function storeSyntheticRun(root: string, ops: number, corrupt: boolean): Promise<{ dir: string; checkMs: number; valid: unknown }> {
  const history = runLikeHistory(ops, corrupt);
  const store = RunStore.create(root, `report-bench-${ops}`);
  const startedAt = new Date();
  store.writeText(RUN_FILES.config, `# synthetic: ${ops} register ops on 10 independent keys, 20 processes, a partition every 10 s${corrupt ? ', one corrupt read' : ''}\nworkload: register\n`);
  for (const op of history) store.appendEvent(op);
  await store.finishHistory(history);
  const t0 = performance.now();
  const checker = composeCheckers([linearizableChecker('register', { independent: true })]).check(history, { timeoutMs: 120_000 });
  const checkMs = performance.now() - t0;
  const counts = { ok: 0, fail: 0, info: 0, nemesis: 0 };
  for (const op of history) countEvent(counts, op);
  const results: RunResults = {
    experiment: `report-bench-${ops}`,
    description: `synthetic ${ops}-op register run for the report benchmark`,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    valid: checker.valid,
    incomplete: false,
    ...(checker.reason !== undefined ? { reason: checker.reason } : {}),
    counts,
    checker,
    perf: perfStats(history),
    workload: 'synthetic register (independent keys)',
    nodes: ['n1', 'n2', 'n3'],
  };
  store.writeJson(RUN_FILES.results, results);
  return { dir: store.dir, checkMs, valid: checker.valid };
}

async function main(): Promise<void> {
  const ops = Number(args.ops);
  const loads = Number(args.loads);
  if (!Number.isSafeInteger(ops) || ops < 1) throw new Error(`--ops must be a positive integer, got "${args.ops}"`);
  if (!Number.isSafeInteger(loads) || loads < 1) throw new Error(`--loads must be a positive integer, got "${args.loads}"`);
  const root = args.store ?? mkdtempSync(join(tmpdir(), 'dsync-report-bench-'));
  try {
    let dir: string;
    if (args.from !== undefined) {
      dir = resolve(args.from);
      console.log(`report bench: run folder ${dir}`);
    } else {
      const stored = await storeSyntheticRun(root, ops, !args.valid);
      dir = stored.dir;
      console.log(`report bench: synthetic run of ${ops.toLocaleString('en-US')} ops in ${dir}; check ${secs(stored.checkMs)} (valid: ${String(stored.valid)})`);
    }
    const r0 = performance.now();
    const written = await renderRunReport(dir);
    const renderMs = performance.now() - r0;
    const sizeOk = written.bytes < SIZE_LIMIT;
    console.log(`render: ${secs(renderMs)}; report.html ${mib(written.bytes)} (limit 10 MiB: ${sizeOk ? 'met' : 'NOT met'})`);

    const browser = await launchChromium();
    const times: number[] = [];
    const problems: string[] = [];
    try {
      for (let i = 0; i < loads; i++) {
        const opened = await openReport(browser, written.file, { timeoutMs: 60_000 });
        times.push(opened.loadMs);
        problems.push(...opened.errors, ...opened.networkRequests.map((u) => `network request: ${u}`));
        const state = await opened.page.evaluate(() => document.body.dataset['ready']);
        if (state !== 'true') problems.push(`load ${i + 1}: the page says data-ready=${String(state)}`);
        if (i === 0 && args.store !== undefined) await opened.page.screenshot({ path: join(dir, 'report.png'), fullPage: true });
        await opened.page.context().close();
      }
    } finally {
      await browser.close();
    }
    const median = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)] as number;
    const loadOk = median < LOAD_TARGET_MS;
    console.log(`chromium, navigation → drawn: ${times.map(secs).join(', ')} (median ${secs(median)}; target < 3 s: ${loadOk ? 'met' : 'NOT met'})`);
    for (const p of problems) console.log(`  PROBLEM ${p}`);
    if (!loadOk && args['time-target-warns']) console.log('  WARNING the load-time target is missed on this machine (--time-target-warns: not a failure)');
    if (!sizeOk || (!loadOk && !args['time-target-warns']) || problems.length > 0) process.exitCode = 1;
  } finally {
    if (args.store === undefined) rmSync(root, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(`bench:report: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 3;
});
