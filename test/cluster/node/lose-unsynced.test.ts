/**
 * A real node process with `DSYNC_LOSE_UNSYNCED=1` (`LazyFileIo`): it says so (a warn line and
 * `/status`), keeps what it acknowledged across kill -9, and, with the failpoint
 * `raft.skip-hard-state-sync`, forgets its term at kill -9 — as a power cut would make it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalCluster, type LocalCluster, type NodeProcess } from '../../../cluster/local/node-process.js';
import { eventually } from '../../support/eventually.js';
import { callJson } from '../../support/http-json.js';

const call = (node: NodeProcess, method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> => callJson(node.spec.address, method, path, body);

/** The log lines of `node` with message `msg`, parsed. */
const logged = (node: NodeProcess, msg: string): Record<string, unknown>[] =>
  readFileSync(node.spec.logFile, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l['msg'] === msg);

describe('cluster/node: DSYNC_LOSE_UNSYNCED', function () {
  this.timeout(60_000);
  let dir: string;
  let cluster: LocalCluster | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dsync-lazy-'));
  });
  afterEach(async () => {
    await cluster?.destroy();
    cluster = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  /** One node: takes a lock, is killed -9 and restarted; what it says and what it recovered. */
  async function killOnce(env: Record<string, string>): Promise<{ status: Record<string, unknown>; warned: boolean; ledTerm: number; recoveredTerm: number; holders: unknown }> {
    cluster = await startLocalCluster({ nodes: 1, dir, extraArgs: ['--tick-ms', '10'], env: () => env, testAids: true });
    const node = cluster.nodes[0] as NodeProcess;
    const status = (await call(node, 'GET', '/status')).body;
    const g = await eventually('a grant', async () => {
      const r = await call(node, 'POST', '/lock/acquire', { name: 'k', client: 'c1', ttlMs: 120_000 });
      return r.status === 200 ? r : undefined;
    });
    assert.equal(typeof g.body['token'], 'number');
    const ledTerm = Math.max(...logged(node, 'raft role').filter((l) => l['role'] === 'leader').map((l) => l['term'] as number));
    await node.stop('SIGKILL');
    node.start();
    await node.waitHealthy();
    // pino writes behind (sonic-boom): wait for the restarted node's line.
    const recovered = await eventually('the second "recovered" line', () => (logged(node, 'recovered').length >= 2 ? logged(node, 'recovered') : undefined));
    const holders = await eventually('the lock table after the restart', async () => {
      const r = await call(node, 'GET', '/lock/k');
      return r.status === 200 ? r.body['holders'] : undefined;
    });
    return {
      status,
      warned: logged(node, `DSYNC_LOSE_UNSYNCED: unsynced writes are kept in memory and lost at a kill -9, as at a power cut (a test aid)`).length === 2,
      ledTerm,
      recoveredTerm: recovered[1]?.['term'] as number,
      holders,
    };
  }

  it('says so (warn line, /status storage.loseUnsynced) and keeps every acknowledged grant across kill -9', async () => {
    const r = await killOnce({ DSYNC_LOSE_UNSYNCED: '1' });
    assert.deepEqual(r.status['storage'], { loseUnsynced: true });
    assert.ok(r.warned);
    assert.ok(r.recoveredTerm >= r.ledTerm, `recovered term ${r.recoveredTerm} < led term ${r.ledTerm}`);
    assert.equal((r.holders as { client: string }[])[0]?.client, 'c1');
  });

  it('with raft.skip-hard-state-sync the node forgets the term it led at kill -9 (it keeps it without DSYNC_LOSE_UNSYNCED)', async () => {
    const lazy = await killOnce({ DSYNC_LOSE_UNSYNCED: '1', DSYNC_FAILPOINTS: 'raft.skip-hard-state-sync' });
    assert.ok(lazy.ledTerm >= 1);
    assert.equal(lazy.recoveredTerm, 0);
    await cluster?.destroy();
    rmSync(dir, { recursive: true, force: true });
    const real = await killOnce({ DSYNC_LOSE_UNSYNCED: '0', DSYNC_FAILPOINTS: 'raft.skip-hard-state-sync' });
    assert.deepEqual(real.status['storage'], { loseUnsynced: false });
    assert.ok(real.recoveredTerm >= real.ledTerm, JSON.stringify(real));
  });
});
