/**
 * The queue checker can fail: the planted bug `queue.ack-before-commit` (a group leader that
 * acknowledges enqueues before they are replicated) is found INVALID, with acknowledged messages
 * lost, by a short kill -9 run of the group leader — and the same run without it is valid.
 * `dsync run` runs as the catalogue runs it: a child process with `DSYNC_FAILPOINTS` set.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { dsyncBin } from '../support/paths.js';

const EXPERIMENT = `description: queue + kill -9 of the queue group's leader (short, for a test)
nodes: 3
seed: 7
timeLimitS: 12
finalPhaseS: 8
concurrency: 8
rate: 60
workload: { name: queue, queues: 2, visibilityMs: 2000, crashRate: 0.1 }
nemesis:
  faults: [kill]
  kill: { targets: [group-leader], loseUnsynced: true }
  schedule:
    interval: { faultS: 2, healS: 2 }
`;

interface QueueVerdict {
  valid: unknown;
  checker: { results: { queue: { valid: unknown; lost: { count: number }; summary: string } } };
}

describe('integration: the queue checker catches a planted bug', function () {
  this.timeout(180_000);
  let root: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'dsync-queue-planted-'));
    writeFileSync(join(root, 'queue-kill-short.yaml'), EXPERIMENT);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  const run = async (failpoint: string | null): Promise<{ exitCode: number; results: QueueVerdict; out: string }> => {
    const store = join(root, failpoint ?? 'clean');
    const env: NodeJS.ProcessEnv = { ...process.env, DSYNC_TEST_AIDS: '1' };
    delete env['DSYNC_FAILPOINTS'];
    if (failpoint !== null) env['DSYNC_FAILPOINTS'] = failpoint;
    const r = await execa(process.execPath, [dsyncBin, 'run', join(root, 'queue-kill-short.yaml'), '--store', store, '--quiet'], { env, reject: false, timeout: 150_000 });
    const results = JSON.parse(readFileSync(join(store, 'latest', 'results.json'), 'utf8')) as QueueVerdict;
    return { exitCode: r.exitCode ?? -1, results, out: `${r.stdout}\n${r.stderr}` };
  };

  it('queue.ack-before-commit: INVALID, acknowledged messages lost; without it: valid', async () => {
    const bad = await run('queue.ack-before-commit');
    assert.equal(bad.exitCode, 1, bad.out);
    assert.equal(bad.results.valid, false);
    const q = bad.results.checker.results.queue;
    assert.ok(q.lost.count > 0, q.summary);
    const clean = await run(null);
    assert.equal(clean.exitCode, 0, clean.out);
    assert.equal(clean.results.checker.results.queue.lost.count, 0);
  });
});
