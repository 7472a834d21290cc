/**
 * Three real node processes on 127.0.0.1: a grant survives kill -9 of the leader, a restarted
 * node catches up (through a snapshot when the log was compacted), a minority cannot grant, and
 * SIGTERM shuts a node down cleanly. Every process is killed after each test, also on failure.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalCluster, type LocalCluster, type NodeProcess } from '../../../cluster/local/node-process.js';
import { eventually } from '../../support/eventually.js';
import { scanRecords } from '../../../cluster/raft/record-file.js';
import { callJson, type JsonReply } from '../../support/http-json.js';

type Reply = JsonReply;

const call = (node: NodeProcess, method: 'GET' | 'POST', path: string, body?: unknown, timeoutMs = 8000): Promise<Reply> => callJson(node.spec.address, method, path, body, AbortSignal.timeout(timeoutMs));

describe('cluster/node: three node processes', function () {
  this.timeout(60_000);
  let dir: string;
  let cluster: LocalCluster | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dsync-cluster-'));
  });
  afterEach(async () => {
    await cluster?.destroy();
    cluster = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps a lock granted before the leader is killed -9 after re-election', async () => {
    cluster = await startLocalCluster({ nodes: 3, dir, extraArgs: ['--tick-ms', '10'] });
    const leader = await cluster.agreedLeader();
    const follower = cluster.nodes.find((n) => n !== leader) as NodeProcess;
    // Through a follower: it forwards to the leader.
    const g = await call(follower, 'POST', '/lock/acquire', { name: 'k', client: 'c1', ttlMs: 120_000 });
    assert.equal(g.status, 200, JSON.stringify(g.body));
    const exit = await leader.stop('SIGKILL');
    assert.equal(exit?.signal, 'SIGKILL');
    const next = await cluster.agreedLeader();
    assert.notEqual(next, leader);
    const v = await call(next, 'GET', '/lock/k');
    assert.equal(v.status, 200);
    assert.deepEqual(v.body['holders'], [{ client: 'c1', token: g.body['token'], expiresAt: (v.body['holders'] as { expiresAt: number }[])[0]?.expiresAt }]);
    const other = await call(next, 'POST', '/lock/acquire', { name: 'k', client: 'c2' });
    assert.equal(other.status, 409);
    assert.equal(other.body['error'], 'conflict');
    // The old leader comes back from its data dir as a follower and learns the lock too.
    leader.start();
    await leader.waitHealthy();
    const back = await call(leader, 'GET', '/lock/k');
    assert.equal((back.body['holders'] as { token: number }[])[0]?.token, g.body['token']);
    const r = await call(leader, 'POST', '/lock/release', { name: 'k', client: 'c1', token: g.body['token'], secret: g.body['secret'] });
    assert.equal(r.status, 200, JSON.stringify(r.body));
  });

  it('catches up a follower whose torn last record was cut on restart (it lost an entry it had acknowledged)', async () => {
    cluster = await startLocalCluster({ nodes: 3, dir, extraArgs: ['--tick-ms', '10'] });
    const leader = await cluster.agreedLeader();
    const follower = cluster.nodes.find((n) => n !== leader) as NodeProcess;
    for (let i = 0; i < 5; i++) assert.equal((await call(leader, 'POST', '/lock/acquire', { name: `t${i}`, client: 'c', ttlMs: 120_000 })).status, 200);
    const applied = async (n: NodeProcess): Promise<number> => ((await n.status())?.['lastApplied'] as number | undefined) ?? -1;
    const target = (await leader.status())?.['commitIndex'] as number;
    await eventually('the follower applied everything', async () => (await applied(follower)) >= target, 10_000);
    await follower.stop('SIGKILL');
    // Cut 3 bytes off its last record, as a torn write would leave it.
    const logFile = join(follower.spec.dataDir, 'raft.log');
    const bytes = readFileSync(logFile);
    const last = scanRecords(bytes).records.at(-1);
    assert.ok(last);
    truncateSync(logFile, last.offset + 8 + last.payload.length - 3);
    follower.start();
    await follower.waitHealthy();
    assert.match(readFileSync(follower.spec.logFile, 'utf8'), /torn record/, 'repaired on open, with a warning');
    const g = await call(leader, 'POST', '/lock/acquire', { name: 'after', client: 'c', ttlMs: 120_000 });
    assert.equal(g.status, 200, JSON.stringify(g.body));
    const now = (await leader.status())?.['commitIndex'] as number;
    await eventually(`the follower catches up to ${now}`, async () => (await applied(follower)) >= now, 10_000);
  });

  it('restarts a node at once after kill -9, again and again (its data-dir lock does not hold it back)', async () => {
    cluster = await startLocalCluster({ nodes: 3, dir, extraArgs: ['--tick-ms', '10'] });
    const node = cluster.nodes[0] as NodeProcess;
    for (let round = 0; round < 2; round++) {
      await node.stop('SIGKILL');
      node.start();
      await node.waitHealthy();
    }
    assert.doesNotMatch(readFileSync(node.spec.logFile, 'utf8'), /in use by process/);
  });

  it('catches a restarted node up through a snapshot after the log was compacted', async () => {
    cluster = await startLocalCluster({ nodes: 3, dir, extraArgs: ['--tick-ms', '10', '--snapshot-every', '40'] });
    const leader = await cluster.agreedLeader();
    const lagging = cluster.nodes.find((n) => n !== leader) as NodeProcess;
    await lagging.stop('SIGKILL');
    let lastToken = 0;
    for (let i = 0; i < 60; i++) {
      const g = await call(leader, 'POST', '/lock/acquire', { name: `s${i % 5}`, client: 'c', ttlMs: 120_000 });
      assert.equal(g.status, 200, JSON.stringify(g.body));
      lastToken = g.body['token'] as number;
      if (i < 55) assert.equal((await call(leader, 'POST', '/lock/release', { name: `s${i % 5}`, client: 'c', token: lastToken, secret: g.body['secret'] })).status, 200);
    }
    const ls = await leader.status();
    assert.ok((ls?.['snapshotIndex'] as number) > 40, `the leader compacted: ${JSON.stringify(ls)}`);
    lagging.start();
    await lagging.waitHealthy();
    const commit = ls?.['commitIndex'] as number;
    await eventually('the restarted node applied everything', async () => {
      const s = await lagging.status();
      return s !== null && (s['lastApplied'] as number) >= commit ? true : undefined;
    });
    const metrics = await (await fetch(`http://${lagging.spec.address}/metrics`)).text();
    assert.match(metrics, /^dsync_raft_snapshots_installed_total\{[^}]*\} [1-9]/m, 'caught up through InstallSnapshot');
    assert.match(readFileSync(lagging.spec.logFile, 'utf8'), /snapshot installed from the leader/);
    // The caught-up node can serve as leader with the same locks: kill the other two in turn.
    const third = cluster.nodes.find((n) => n !== leader && n !== lagging) as NodeProcess;
    await leader.stop('SIGKILL');
    const next = await cluster.agreedLeader();
    const v = await call(next, 'GET', '/lock/s4');
    assert.equal((v.body['holders'] as { token: number }[])[0]?.token, lastToken);
    assert.ok([lagging, third].includes(next));
  });

  it('does not grant in a minority; the majority, once back, serves again', async () => {
    cluster = await startLocalCluster({ nodes: 3, dir, extraArgs: ['--tick-ms', '10', '--request-timeout-ms', '1000'] });
    const leader = await cluster.agreedLeader();
    const [a, b] = cluster.nodes.filter((n) => n !== leader) as [NodeProcess, NodeProcess];
    await Promise.all([a.stop('SIGKILL'), b.stop('SIGKILL')]);
    for (const body of [
      { name: 'm', client: 'c1', ttlMs: 60_000 },
      { name: 'm2', client: 'c1', ttlMs: 60_000, waitMs: 200 },
    ]) {
      const r = await call(leader, 'POST', '/lock/acquire', body);
      assert.equal(r.status, 503, JSON.stringify(r.body));
      assert.equal(r.body['error'], 'unavailable');
    }
    const read = await call(leader, 'GET', '/lock/m');
    assert.equal(read.status, 503, 'no linearizable read without a quorum');
    // The lone node steps down (check-quorum) and says there is no leader.
    await eventually('the minority leader steps down', async () => ((await leader.status())?.['role'] !== 'leader' ? true : undefined));
    a.start();
    await a.waitHealthy();
    const again = await cluster.agreedLeader();
    const g = await call(again, 'POST', '/lock/acquire', { name: 'm3', client: 'c1', ttlMs: 60_000 });
    assert.equal(g.status, 200, JSON.stringify(g.body));
  });

  it('survives a partition that isolates the leader (links blackholed through the proxies), and heals', async () => {
    cluster = await startLocalCluster({ nodes: 3, dir, proxies: true, extraArgs: ['--tick-ms', '10', '--request-timeout-ms', '1000'] });
    const old = await cluster.agreedLeader();
    const g = await call(old, 'POST', '/lock/acquire', { name: 'p', client: 'c1', ttlMs: 120_000 });
    assert.equal(g.status, 200);
    const cut = [...cluster.links].filter(([k]) => k.startsWith(`${old.spec.id}>`) || k.endsWith(`>${old.spec.id}`));
    assert.equal(cut.length, 4);
    for (const [, link] of cut) link.setFault({ kind: 'blackhole' });
    const majority = cluster.nodes.filter((n) => n !== old);
    const next = await eventually('the majority elects a new leader', async () => {
      const st = await Promise.all(majority.map((n) => n.status()));
      const l = st[0]?.['leader'];
      return typeof l === 'string' && l !== old.spec.id && st.every((x) => x?.['leader'] === l && x?.['term'] === st[0]?.['term']) ? (cluster?.nodes.find((n) => n.spec.id === l) as NodeProcess) : undefined;
    });
    const h = await call(next, 'POST', '/lock/acquire', { name: 'q', client: 'c2', ttlMs: 120_000 });
    assert.equal(h.status, 200, JSON.stringify(h.body));
    assert.ok((h.body['token'] as number) > (g.body['token'] as number));
    const lonely = await call(old, 'POST', '/lock/acquire', { name: 'r', client: 'c3', ttlMs: 120_000 });
    assert.equal(lonely.status, 503, `the isolated old leader cannot grant: ${JSON.stringify(lonely.body)}`);
    for (const [, link] of cut) link.setFault({ kind: 'ok' });
    await eventually('the old leader rejoins and follows the new one', async () => ((await old.status())?.['leader'] === next.spec.id ? true : undefined));
    const seen = await call(old, 'GET', '/lock/q');
    assert.equal((seen.body['holders'] as { token: number }[])[0]?.token, h.body['token']);
    const r = await call(old, 'GET', '/lock/r');
    assert.deepEqual(r.body['holders'], [], 'the refused acquire never took effect');
  });

  it('shuts down cleanly on SIGTERM (exit 0) and restarts from its data dir', async () => {
    cluster = await startLocalCluster({ nodes: 3, dir, extraArgs: ['--tick-ms', '10'] });
    const leader = await cluster.agreedLeader();
    const g = await call(leader, 'POST', '/lock/acquire', { name: 't', client: 'c1', ttlMs: 120_000 });
    assert.equal(g.status, 200);
    const exit = await leader.stop('SIGTERM');
    assert.deepEqual(exit, { code: 0, signal: undefined });
    assert.match(readFileSync(leader.spec.logFile, 'utf8'), /"msg":"stopped"/);
    leader.start();
    await leader.waitHealthy();
    const next = await cluster.agreedLeader();
    const v = await call(next, 'GET', '/lock/t');
    assert.equal((v.body['holders'] as { token: number }[])[0]?.token, g.body['token']);
  });
});
