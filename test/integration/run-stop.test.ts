/**
 * A run stops on time and says so (issue 14): Ctrl-C mid-fault heals within a second (a `heal` op
 * in the history), abandons the client ops the fault blocked, exits 3 whatever launches it, and
 * is never shown as valid; the final heal ends the last fault window at the end of the main phase,
 * not after the clients it blocked gave up.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadExperiment } from '../../harness/experiment.js';
import { DRAIN_MS, runExperiment } from '../../harness/run.js';
import { ABANDONED_ERROR } from '../../harness/generator/interpreter.js';
import { dsyncBin, repoRoot } from '../support/paths.js';
import { LONG_FAULT_EXPERIMENT } from '../support/experiments.js';

interface HistoryLine {
  readonly type: string;
  readonly f: string;
  readonly process: string | number;
  readonly time: number;
  readonly error?: string;
  readonly value?: unknown;
}

const readHistory = (file: string): HistoryLine[] =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l.endsWith('}'))
        .map((l) => JSON.parse(l) as HistoryLine)
    : [];

/** Node processes whose command line mentions `dir`. */
function processesUnder(dir: string): string[] {
  const out = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.includes(dir) && l.includes('dsync') && !l.includes(' ps '));
}

/** Waits for `cond` every 10 ms, up to `ms`; the time it took, or throws naming `what`. */
async function within(ms: number, what: string, cond: () => boolean): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    if (cond()) return performance.now() - t0;
    if (performance.now() - t0 > ms) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}


describe('integration: a run stops on time', function () {
  this.timeout(120_000);
  let root: string;
  let file: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'dsync-stop-'));
    file = join(root, 'long-fault.yaml');
    writeFileSync(file, LONG_FAULT_EXPERIMENT);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  const launchers: [string, string, string[]][] = [
    ['node bin/dsync.js', process.execPath, [dsyncBin]],
    // npm exec runs it through its script shell and forwards the signal too: still exit 3.
    ['npm exec', 'npm', ['exec', '--', 'node', dsyncBin]],
  ];
  for (const [name, cmd, pre] of launchers) {
    it(`SIGINT mid-fault (${name}): a heal op within 1 s, blocked ops abandoned, exit 3, no process left, never shown valid`, async () => {
      const store = join(root, `store-${name.split(' ')[0]}`);
      // A terminal's Ctrl-C goes to the whole process group: so does this one.
      const child = spawn(cmd, [...pre, 'run', file, '--store', store, '--quiet'], { cwd: repoRoot, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const historyFile = join(store, 'long-fault', 'latest', 'history.jsonl');
      try {
        await within(60_000, `the partition starts (output so far: ${out})`, () => readHistory(historyFile).some((e) => e.f === 'start-partition' && e.type === 'info'));
        // Let the fault block some clients first.
        await within(5_000, 'clients in flight', () => readHistory(historyFile).filter((e) => e.type === 'invoke' && e.process !== 'nemesis').length > readHistory(historyFile).filter((e) => e.type !== 'invoke' && e.process !== 'nemesis').length + 2);
        process.kill(-(child.pid as number), 'SIGINT');
        const healMs = await within(1000, 'a heal op after SIGINT', () => readHistory(historyFile).some((e) => e.f === 'heal' && e.type === 'invoke'));
        assert.ok(healMs < 1000, `heal ${healMs} ms after the signal`);
        const code = await exited;
        assert.equal(code, 3, `exit code (output: ${out})`);
      } finally {
        try {
          process.kill(-(child.pid as number), 'SIGKILL');
        } catch {
          // already gone
        }
      }
      assert.match(out, /long-fault: INCOMPLETE — .* interrupted by SIGINT/);
      const run = join(store, 'long-fault', 'latest');
      const history = readHistory(join(run, 'history.jsonl'));
      assert.deepEqual(history.filter((e) => e.f === 'heal').map((e) => e.type), ['invoke', 'info']);
      assert.ok(history.some((e) => e.error === ABANDONED_ERROR), 'ops the partition blocked are abandoned as info');
      const results = JSON.parse(readFileSync(join(run, 'results.json'), 'utf8')) as { valid: unknown; incomplete: boolean; checker: { valid: unknown } };
      assert.deepEqual([results.valid, results.incomplete], ['incomplete', true]);
      const report = readFileSync(join(run, 'report.html'), 'utf8');
      assert.match(report, /id="overall-verdict" class="pill incomplete"/);
      assert.doesNotMatch(report, /class="verdict valid"/, 'no green banner');
      assert.match(readFileSync(join(store, 'index.html'), 'utf8'), /<tr class="incomplete">[\s\S]*?long-fault\//);
      assert.deepEqual(processesUnder(store), []);
    });
  }

  it('the final heal ends the last fault window within 0.5 s of the main phase end, and the run ends on schedule', async () => {
    const e = { ...loadExperiment(file), timeLimitS: 4, finalPhaseS: 1 };
    const t0 = performance.now();
    const r = await runExperiment({ experiment: e, storeRoot: join(root, 'store-final'), io: { err: () => undefined, errRaw: () => undefined }, quiet: true });
    const wallS = (performance.now() - t0) / 1000;
    assert.equal(r.verdict, true, r.reason);
    const history = readHistory(join(r.store, 'history.jsonl'));
    const heal = history.filter((x) => x.f === 'heal');
    assert.equal(heal.length, 2);
    const healEndS = (heal[1] as HistoryLine).time / 1e9;
    assert.ok(healEndS >= 4 && healEndS <= 4.5, `the last fault window ended at ${healEndS.toFixed(3)} s; the main phase ended at 4 s`);
    const lastS = Math.max(...history.map((x) => x.time)) / 1e9;
    assert.ok(lastS <= 4 + 1 + DRAIN_MS / 1000 + 0.5, `the last event at ${lastS.toFixed(3)} s; the run's phases end at 5 s (+ ${DRAIN_MS} ms to drain)`);
    assert.ok(wallS < 5 + 20, `the whole run took ${wallS.toFixed(1)} s`);
    assert.deepEqual(processesUnder(r.store), []);
  });
});
