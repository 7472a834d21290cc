/**
 * The local backend's powers on three real node processes: kill -9 and restart from the data dir,
 * pause and resume, per-link faults through the proxies, the leader, and a teardown that leaves
 * no process behind (also with a node paused).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalBackend } from '../../../cluster/local/local-backend.js';
import { hasClockControl, hasLeader, hasLeaderViews, isKillable, isPartitionable, isPausable } from '../../../cluster/backend.js';
import { quorumLeader } from '../../../nemesis/index.js';
import { eventually } from '../../support/eventually.js';
import { alive } from '../../support/processes.js';

const stateOf = (pid: number): string => execFileSync('ps', ['-o', 'stat=', '-p', String(pid)], { encoding: 'utf8' }).trim();

async function health(url: string): Promise<number> {
  try {
    return (await fetch(`${url}/health`, { signal: AbortSignal.timeout(300) })).status;
  } catch {
    return 0;
  }
}

describe('cluster/local: LocalBackend', function () {
  this.timeout(60_000);
  let dir: string;
  let backend: LocalBackend;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dsync-backend-'));
    backend = await LocalBackend.start({ nodes: 3, dir, nodeArgs: ['--tick-ms', '10'] });
  });
  after(async () => {
    await backend?.teardown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('has every power, and its nodes agree on a leader', async () => {
    assert.ok(isKillable(backend) && isPausable(backend) && isPartitionable(backend) && hasLeader(backend));
    assert.ok(!hasClockControl(backend), 'clocks only when started with clockFaults (under libfaketime)');
    assert.deepEqual(backend.nodes, ['n1', 'n2', 'n3']);
    assert.ok(backend.nodes.includes((await backend.leader(10_000)) ?? ''));
    assert.deepEqual([...backend.logFiles().keys()], ['n1', 'n2', 'n3']);
  });

  it('kill -9 stops a node; restart brings it back healthy from its data dir', async () => {
    await backend.kill('n2');
    assert.equal(backend.isRunning('n2'), false);
    assert.equal(await health(backend.endpoint('n2')), 0);
    await backend.restart('n2');
    assert.equal(backend.isRunning('n2'), true);
    assert.equal(await health(backend.endpoint('n2')), 200);
  });

  it('pause stops the process (state T) and resume continues it', async () => {
    await backend.pause('n3');
    assert.equal(backend.isPaused('n3'), true);
    assert.equal(await health(backend.endpoint('n3')), 0, 'a paused node does not answer');
    await backend.resume('n3');
    assert.equal(backend.isPaused('n3'), false);
    await eventually('n3 answers again', async () => (await health(backend.endpoint('n3'))) === 200);
  });

  it('cutting every link of the leader makes the others elect another; healing lets all agree again', async () => {
    const old = await backend.leader(10_000);
    assert.ok(old);
    const links = backend.nodes.filter((n) => n !== old).flatMap((n) => [{ from: old, to: n }, { from: n, to: old }]);
    await backend.setLinkFaults(links, { kind: 'blackhole' });
    const others = backend.nodes.filter((n) => n !== old);
    await eventually('the majority elects a new leader', async () => {
      const r = await fetch(`${backend.endpoint(others[0]!)}/status`).then((x) => x.json() as Promise<{ leader: string | null }>);
      return r.leader !== null && r.leader !== old;
    }, 15_000, 50);
    // Each node's own view: a majority names the new leader, whatever the cut-off one believes.
    assert.ok(hasLeaderViews(backend));
    await eventually('the views name the majority side\'s leader', async () => {
      const views = await backend.leaderViews();
      const q = quorumLeader(views, 3);
      return views.length === 3 && q !== null && q !== old && views.every((v) => typeof v.term === 'number');
    }, 15_000, 50);
    await assert.rejects(backend.setLinkFaults([{ from: 'n1', to: 'n9' }], { kind: 'reset' }), /no link n1 → n9/);
    await backend.healNetwork();
    assert.ok(await backend.leader(10_000));
  });

  it('/status counts snapshots taken, installed and sent', async () => {
    const s = (await fetch(`${backend.endpoint('n1')}/status`).then((x) => x.json())) as { snapshots: Record<string, unknown> };
    assert.deepEqual(Object.keys(s.snapshots).sort(), ['installed', 'sent', 'taken']);
    assert.ok(Object.values(s.snapshots).every((n) => Number.isInteger(n)));
  });

  it('teardown kills every node, a paused one too, and is safe to call twice', async () => {
    await backend.pause('n1');
    const pids = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.includes(dir) && l.includes(' node '))
      .map((l) => Number(l.trim().split(/\s+/)[0]));
    assert.equal(pids.length, 3);
    assert.ok(pids.some((p) => stateOf(p).startsWith('T')), 'one node is stopped');
    await backend.teardown();
    await backend.teardown();
    await eventually('every node process is gone', () => pids.every((p) => !alive(p)));
  });
});
