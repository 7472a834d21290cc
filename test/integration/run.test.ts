/**
 * `dsync run` end to end on the local backend (real node processes, link proxies, nemesis):
 * a short partition experiment is valid and its stored histories re-check to the same verdict;
 * the same experiment against nodes that grant without a quorum is found INVALID; an aborted
 * run heals, tears down every node and keeps its history. No node process may outlive a run.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyOverrides, loadExperiment, type Experiment } from '../../harness/experiment.js';
import { runExperiment, type RunOutcome } from '../../harness/run.js';
import { main } from '../../harness/cli.js';
import { repoRoot } from '../support/paths.js';

/** Node processes whose command line mentions `dir` (there must be none after a run). */
function processesUnder(dir: string): string[] {
  const out = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.includes(dir) && l.includes('dsync') && !l.includes(' ps '));
}

async function checkCli(file: string): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  const code = await main(['check', file, '--model', 'fenced-lock', '--independent'], { out: (l) => lines.push(l), err: (l) => lines.push(l) });
  return { code, lines };
}

const quietIo = { err: () => undefined, errRaw: () => undefined };

describe('integration: dsync run on the local backend', function () {
  this.timeout(120_000);
  let root: string;
  let partition: Experiment;

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'dsync-run-'));
    // The shipped partition experiment, shortened: windows of 2 s faults / 1 s healed.
    const e = loadExperiment(join(repoRoot, 'experiments', 'lock-partition.yaml'));
    partition = applyOverrides({ ...e, finalPhaseS: 2, nemesis: { ...e.nemesis, schedule: { interval: { faultS: 2, healS: 1 } } } }, { timeLimitS: 7 });
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('the partition experiment is valid, its store holds every file, and both stored histories re-check as valid', async () => {
    const r = await runExperiment({ experiment: partition, storeRoot: root, io: quietIo, quiet: true });
    assert.equal(r.verdict, true, `expected valid, got ${String(r.verdict)}: ${r.reason ?? ''}`);
    assert.equal(r.exitCode, 0);
    assert.ok(r.counts.ok > 50, `too few ok ops: ${JSON.stringify(r.counts)}`);
    assert.ok(r.counts.nemesis >= 3, 'start/stop-partition and the final heal are in the history');
    for (const f of ['config.yaml', 'history.jsonl', 'history.edn', 'results.json', 'run.log', 'report.html', 'nodes/n1.log', 'nodes/n2.log', 'nodes/n3.log']) {
      assert.ok(existsSync(join(r.store, f)), `${f} is in the store`);
    }
    assert.equal(realpathSync(join(root, 'latest')), realpathSync(r.store));
    assert.equal(r.report, join(r.store, 'report.html'));
    assert.match(readFileSync(join(root, 'index.html'), 'utf8'), /<tr class="valid">[\s\S]*?lock-partition\/[^"]+\/report\.html/, 'the store index lists the run');
    const results = JSON.parse(readFileSync(join(r.store, 'results.json'), 'utf8')) as { valid: unknown; perf: { ops: { f: string; okLatency: { p99Ms: number } | null }[]; faultWindows: unknown[]; finalHealNs: number | null } };
    assert.equal(results.valid, true);
    const fs = results.perf.ops.map((o) => o.f);
    for (const f of ['acquire', 'read', 'release']) assert.ok(fs.includes(f), `${f} ops in ${fs.join(', ')}`);
    assert.ok(fs.every((f) => ['acquire', 'acquire-shared', 'read', 'release', 'renew'].includes(f)), fs.join(', '));
    assert.ok(results.perf.faultWindows.length >= 1);
    assert.notEqual(results.perf.finalHealNs, null);
    const history = readFileSync(join(r.store, 'history.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { process: unknown; f: string });
    assert.ok(history.some((op) => op.process === 'nemesis' && op.f === 'start-partition'));
    assert.equal(history.filter((op) => op.process === 'nemesis' && op.f === 'heal').length, 2, 'the final heal: invoke and completion');
    for (const file of ['history.edn', 'history.jsonl']) {
      const c = await checkCli(join(r.store, file));
      assert.equal(c.code, 0, `dsync check ${file}: ${c.lines.join('\n')}`);
    }
    assert.deepEqual(processesUnder(r.store), []);
  });

  it('nodes that grant without a quorum (--unsafe-grant-without-quorum) make the same experiment INVALID, and dsync check agrees', async () => {
    const unsafe = { ...partition, name: 'lock-partition-unsafe', nodeArgs: ['--unsafe-grant-without-quorum'] };
    const r: RunOutcome = await runExperiment({ experiment: unsafe, storeRoot: root, io: quietIo, quiet: true });
    assert.equal(r.verdict, false, `expected invalid, got ${String(r.verdict)}`);
    assert.equal(r.exitCode, 1);
    assert.match(r.reason ?? '', /not linearizable with fenced-lock/);
    const report = readFileSync(join(r.store, 'report.html'), 'utf8');
    const data = JSON.parse(/<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(report)?.[1] ?? '{}') as { counterexamples?: { ops: { breaking: boolean }[] }[] };
    assert.ok((data.counterexamples?.length ?? 0) > 0, 'the report holds a counterexample');
    assert.ok(data.counterexamples?.every((c) => c.ops.some((o) => o.breaking)));
    for (const file of ['history.edn', 'history.jsonl']) {
      const c = await checkCli(join(r.store, file));
      assert.equal(c.code, 1, `dsync check ${file} must find it invalid too: ${c.lines.join('\n')}`);
    }
    assert.deepEqual(processesUnder(r.store), []);
  });

  it('a store folder that cannot be made is exit 3 with the reason, before any node starts', async () => {
    const file = join(root, 'a-file');
    writeFileSync(file, '');
    const r = await runExperiment({ experiment: partition, storeRoot: join(file, 'store'), io: quietIo, quiet: true });
    assert.equal(r.exitCode, 3);
    assert.equal(r.verdict, 'error');
    assert.match(r.reason ?? '', /cannot create the run's folder .*ENOTDIR/);
  });

  it('an aborted run (Ctrl-C) heals, stops every node, keeps and checks its history, and exits 3', async () => {
    const ac = new AbortController();
    const long = applyOverrides({ ...partition, name: 'lock-aborted' }, { timeLimitS: 60 });
    const lines: string[] = [];
    const running = runExperiment({
      experiment: long,
      storeRoot: root,
      io: { err: (l) => lines.push(l), errRaw: () => undefined },
      quiet: true,
      signal: ac.signal,
    });
    // Abort once the run has recorded some history.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const latest = join(root, 'lock-aborted', 'latest', 'history.jsonl');
      if (existsSync(latest) && readFileSync(latest, 'utf8').split('\n').length > 20) break;
      if (Date.now() > deadline) throw new Error('the run recorded no history within 30 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    ac.abort(new Error('interrupted by SIGINT'));
    const r = await running;
    assert.equal(r.exitCode, 3);
    assert.equal(r.verdict, 'incomplete');
    assert.match(r.reason ?? '', /interrupted by SIGINT/);
    assert.equal(r.results?.incomplete, true);
    assert.equal(r.results?.valid, 'incomplete', 'a stopped run is never valid');
    assert.equal(r.results?.checker.valid, true, 'the recorded prefix is still checked');
    assert.ok(existsSync(join(r.store, 'history.edn')));
    assert.match(readFileSync(join(r.store, 'report.html'), 'utf8'), /id="run-incomplete"/, 'an aborted run still gets its report, marked incomplete');
    assert.deepEqual(processesUnder(r.store), []);
  });
});
