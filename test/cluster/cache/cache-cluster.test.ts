/**
 * The cache on real node processes (127.0.0.1): reads, writes and deletes through any node with
 * the MESI states they leave, the directory sample, validation, peer RPC refused over plain HTTP,
 * a home killed with -9 that comes back with its embedded store, Redis as main memory (a real
 * redis-server), and write-back losing the writes of a killed Modified holder. Every process is
 * killed after each test.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startLocalCluster, type LocalCluster, type NodeProcess } from '../../../cluster/local/node-process.js';
import { startRedisServer, type RedisServer } from '../../../harness/redis-server.js';
import { callJson, type JsonReply } from '../../support/http-json.js';

const call = (node: NodeProcess, method: string, path: string, body?: unknown): Promise<JsonReply> => callJson(node.spec.address, method, path, body, AbortSignal.timeout(10_000));

/** The node that is the home of `key`, from its state sample. */
async function homeOf(cluster: LocalCluster, key: string): Promise<NodeProcess> {
  const s = await call(cluster.nodes[0] as NodeProcess, 'GET', `/cache/${encodeURIComponent(key)}/state`);
  assert.equal(s.status, 200, JSON.stringify(s.body));
  const home = cluster.nodes.find((n) => n.spec.id === s.body['home']);
  assert.ok(home, `home ${String(s.body['home'])}`);
  return home;
}

const lineStates = (s: JsonReply): Record<string, string> => Object.fromEntries((s.body['lines'] as { node: string; state: string }[]).map((l) => [l.node, l.state]));

describe('cluster/cache: three node processes', function () {
  this.timeout(60_000);
  let dir: string;
  let cluster: LocalCluster | undefined;
  let redis: RedisServer | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dsync-cache-'));
  });
  afterEach(async () => {
    await cluster?.destroy();
    cluster = undefined;
    await redis?.stop();
    redis = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes, reads and deletes through any node, leaving the MESI states the protocol says', async () => {
    cluster = await startLocalCluster({ nodes: 3, dir });
    const [a, b, c] = cluster.nodes as [NodeProcess, NodeProcess, NodeProcess];
    assert.equal((await call(a, 'GET', '/cache/k1')).status, 404);
    const put = await call(a, 'PUT', '/cache/k1', { value: { n: 1, s: 'x' } });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.equal(put.body['state'], 'M');
    const rb = await call(b, 'GET', '/cache/k1');
    assert.deepEqual(rb.body, { value: { n: 1, s: 'x' }, state: 'S', hit: false });
    const rb2 = await call(b, 'GET', '/cache/k1');
    assert.equal(rb2.body['hit'], true, 'the second read is a hit');
    let s = await call(c, 'GET', '/cache/k1/state');
    assert.deepEqual(lineStates(s), { [a.spec.id]: 'S', [b.spec.id]: 'S', [c.spec.id]: 'I' });
    assert.equal(s.body['stored'], JSON.stringify({ n: 1, s: 'x' }), 'write-through: in the store');
    assert.equal(s.body['policy'], 'write-through');
    // A write from c invalidates a and b.
    assert.equal((await call(c, 'PUT', '/cache/k1', { value: 2 })).status, 200);
    s = await call(a, 'GET', '/cache/k1/state');
    assert.deepEqual(lineStates(s), { [a.spec.id]: 'I', [b.spec.id]: 'I', [c.spec.id]: 'M' });
    assert.deepEqual((await call(a, 'GET', '/cache/k1')).body, { value: 2, state: 'S', hit: false });
    assert.equal((await call(b, 'DELETE', '/cache/k1')).status, 200);
    for (const n of [a, b, c]) assert.equal((await call(n, 'GET', '/cache/k1')).status, 404, n.spec.id);
    const status = await call(a, 'GET', '/status');
    const cache = (status.body['services'] as Record<string, Record<string, unknown>>)['cache'];
    assert.equal(cache?.['policy'], 'write-through');
    assert.equal((cache?.['store'] as Record<string, unknown>)['kind'], 'embedded');
    const metrics = await fetch(`http://${a.spec.address}/metrics`).then((r) => r.text());
    assert.match(metrics, /^dsync_cache_hits_total\{[^}]*\} \d+/m);
    assert.match(metrics, /^dsync_cache_lines\{state="M"[^}]*\} \d+/m);
  });

  it('refuses bad input with 400 naming the field, and peer RPC over plain HTTP with 403', async () => {
    cluster = await startLocalCluster({ nodes: 3, dir });
    const a = cluster.nodes[0] as NodeProcess;
    const noValue = await call(a, 'PUT', '/cache/k', {});
    assert.equal(noValue.status, 400);
    assert.match(String(noValue.body['message']), /value/);
    const extra = await call(a, 'PUT', '/cache/k', { value: 1, ttl: 5 });
    assert.equal(extra.status, 400);
    const badKey = await call(a, 'GET', '/cache/%E0%A4%A');
    assert.equal(badKey.status, 400);
    assert.equal(badKey.body['field'], 'key');
    const long = await call(a, 'GET', `/cache/${'k'.repeat(257)}`);
    assert.equal(long.status, 400);
    const rpc = await call(a, 'POST', '/internal/cache/invalidate', { key: 'k', inc: 1, version: 9 });
    assert.equal(rpc.status, 403);
  });

  it('a home killed with -9 comes back with its embedded store, and serves after its hold period', async () => {
    cluster = await startLocalCluster({ nodes: 3, dir, extraArgs: ['--cache-lease-ms', '500'] });
    const home = await homeOf(cluster, 'durable');
    const other = cluster.nodes.find((n) => n !== home) as NodeProcess;
    assert.equal((await call(other, 'PUT', '/cache/durable', { value: 'kept' })).status, 200);
    await home.stop('SIGKILL');
    home.start();
    await home.waitHealthy(15_000);
    const r = await call(home, 'GET', '/cache/durable');
    assert.deepEqual(r.body, { value: 'kept', state: 'E', hit: false });
    const st = await call(home, 'GET', '/status');
    const cache = (st.body['services'] as Record<string, Record<string, unknown>>)['cache'];
    assert.ok(Number(cache?.['holdMs']) >= 500, 'the hold period covers a lease');
  });

  it('keeps main memory in a real redis-server with --redis', async () => {
    redis = await startRedisServer({ dir: join(dir, 'redis') });
    cluster = await startLocalCluster({ nodes: 3, dir, extraArgs: ['--redis', redis.url] });
    const [a, b] = cluster.nodes as [NodeProcess, NodeProcess];
    assert.equal((await call(a, 'PUT', '/cache/rk', { value: [1, 2, 3] })).status, 200);
    const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      await client.connect();
      assert.equal(await client.get('dsync:cache:rk'), JSON.stringify([1, 2, 3]));
      await client.set('dsync:cache:seeded', JSON.stringify('from redis'));
    } finally {
      client.disconnect();
    }
    assert.deepEqual((await call(b, 'GET', '/cache/seeded')).body['value'], 'from redis');
    const status = await call(b, 'GET', '/status');
    assert.equal(((status.body['services'] as Record<string, Record<string, unknown>>)['cache']?.['store'] as Record<string, unknown>)['kind'], 'redis');
  });

  it('write-back: a write held Modified by a node killed with -9 is lost (the policy’s price); write-through keeps it', async () => {
    for (const policy of ['write-back', 'write-through'] as const) {
      cluster = await startLocalCluster({ nodes: 3, dir: join(dir, policy), extraArgs: ['--cache-policy', policy, '--cache-lease-ms', '3000'] });
      const home = await homeOf(cluster, 'wb');
      const writer = cluster.nodes.find((n) => n !== home) as NodeProcess;
      const reader = cluster.nodes.find((n) => n !== home && n !== writer) as NodeProcess;
      assert.equal((await call(writer, 'PUT', '/cache/wb', { value: 'v1' })).status, 200);
      assert.equal((await call(writer, 'PUT', '/cache/wb', { value: 'v2' })).status, 200);
      await writer.stop('SIGKILL');
      // (Killed well within half its lease: a dirty line is renewed, and so written back, only then.)
      // The home cannot reach the Modified holder: it waits out its lease (~3 s), then reads the store.
      const r = await call(reader, 'GET', '/cache/wb');
      if (policy === 'write-back') assert.equal(r.status, 404, `the acknowledged writes were lost: ${JSON.stringify(r.body)}`);
      else assert.deepEqual(r.body['value'], 'v2');
      await cluster.destroy();
      cluster = undefined;
    }
  });
});
