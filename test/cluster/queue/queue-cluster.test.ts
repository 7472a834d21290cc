/**
 * The queue on real node processes (127.0.0.1): enqueue, dequeue and ack through any node,
 * redelivery after the visibility timeout, long polls, validation, and an acknowledged message
 * that survives kill -9 of its group's leader. Every process is killed after each test.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalCluster, type LocalCluster, type NodeProcess } from '../../../cluster/local/node-process.js';
import { eventually } from '../../support/eventually.js';
import { callJson, type JsonReply } from '../../support/http-json.js';

const call = (node: NodeProcess, method: 'GET' | 'POST', path: string, body?: unknown, timeoutMs = 8000): Promise<JsonReply> => callJson(node.spec.address, method, path, body, AbortSignal.timeout(timeoutMs));

/** The node leading `queue`'s group, once every member agrees on one. */
async function queueLeader(cluster: LocalCluster, queue: string): Promise<NodeProcess> {
  return eventually(`a leader for ${queue}`, async () => {
    const views = await Promise.all(cluster.nodes.filter((n) => n.running).map((n) => call(n, 'GET', `/queue/${queue}/placement`, undefined, 1000).catch(() => null)));
    const leaders = new Set(views.map((v) => v?.body['leader']).filter((l): l is string => typeof l === 'string'));
    if (leaders.size !== 1) return undefined;
    const id = [...leaders][0];
    return cluster.nodes.find((n) => n.spec.id === id && n.running);
  }, 15_000);
}

describe('cluster/queue: three node processes', function () {
  this.timeout(60_000);
  let dir: string;
  let cluster: LocalCluster | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dsync-queue-'));
  });
  afterEach(async () => {
    await cluster?.destroy();
    cluster = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('enqueues, dequeues in FIFO order and acks through any node; an unacked message comes back after its visibility timeout', async () => {
    cluster = await startLocalCluster({ nodes: 3, dir, extraArgs: ['--tick-ms', '10'] });
    await queueLeader(cluster, 'jobs');
    const [a, b, c] = cluster.nodes as [NodeProcess, NodeProcess, NodeProcess];
    for (const [i, node] of [a, b, c].entries()) {
      const r = await call(node, 'POST', '/queue/jobs/enqueue', { message: `m${i}`, id: `id-${i}` });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body['id'], `id-${i}`);
    }
    // A retry with the same id is not enqueued twice.
    const again = await call(c, 'POST', '/queue/jobs/enqueue', { message: 'm0', id: 'id-0' });
    assert.equal(again.status, 200);
    assert.equal(again.body['duplicate'], true);
    const first = await call(b, 'POST', '/queue/jobs/dequeue', { visibilityMs: 300 });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.deepEqual([first.body['id'], first.body['message'], first.body['deliveries']], ['id-0', 'm0', 1]);
    const second = await call(c, 'POST', '/queue/jobs/dequeue', { visibilityMs: 60_000 });
    assert.equal(second.body['id'], 'id-1');
    const ack = await call(a, 'POST', '/queue/jobs/ack', { receipt: second.body['receipt'] });
    assert.equal(ack.status, 200, JSON.stringify(ack.body));
    const ackAgain = await call(a, 'POST', '/queue/jobs/ack', { receipt: second.body['receipt'] });
    assert.equal(ackAgain.status, 409);
    assert.equal(ackAgain.body['error'], 'unknown-receipt');
    // id-0 was never acked: after its 300 ms it is delivered again (id-2 may come first, while id-0 is leased).
    const seen: unknown[] = [];
    const back = await eventually('id-0 delivered again', async () => {
      const r = await call(a, 'POST', '/queue/jobs/dequeue', { visibilityMs: 60_000, waitMs: 2000 });
      if (r.status === 200) seen.push(r.body['id']);
      return r.status === 200 && r.body['id'] === 'id-0' ? r : undefined;
    });
    assert.equal(back.body['deliveries'], 2);
    if (!seen.includes('id-2')) assert.equal((await call(a, 'POST', '/queue/jobs/dequeue', { visibilityMs: 60_000 })).body['id'], 'id-2');
    assert.deepEqual(seen.filter((id) => id !== 'id-2'), ['id-0'], 'nothing but id-2 and id-0 again');
    const empty = await call(b, 'POST', '/queue/jobs/dequeue', {});
    assert.equal(empty.status, 204);
  });

  it('answers a long poll when a message arrives', async () => {
    cluster = await startLocalCluster({ nodes: 3, dir, extraArgs: ['--tick-ms', '10'] });
    await queueLeader(cluster, 'lp');
    const [a, b] = cluster.nodes as [NodeProcess, NodeProcess];
    const started = performance.now();
    const poll = call(a, 'POST', '/queue/lp/dequeue', { waitMs: 5000 });
    const enq = await call(b, 'POST', '/queue/lp/enqueue', { message: 'hello' });
    assert.equal(enq.status, 200);
    const got = await poll;
    assert.equal(got.status, 200, JSON.stringify(got.body));
    assert.equal(got.body['message'], 'hello');
    assert.equal(got.body['id'], enq.body['id']);
    assert.ok(performance.now() - started < 4000, 'answered when the message came, not at the end of the wait');
  });

  it('refuses bad input with a 400 naming the field, and an enqueue past --max-queue-messages with a 429', async () => {
    cluster = await startLocalCluster({ nodes: 1, dir, extraArgs: ['--max-queue-messages', '2'] });
    const [a] = cluster.nodes as [NodeProcess];
    const cases: [string, unknown, string][] = [
      ['/queue/jobs/enqueue', {}, 'message'],
      ['/queue/jobs/enqueue', { message: 1 }, 'message'],
      ['/queue/jobs/enqueue', { message: 'x', id: 'a b' }, 'id'],
      ['/queue/jobs/enqueue', { message: 'x', extra: 1 }, 'extra'],
      ['/queue/jobs/dequeue', { visibilityMs: 0 }, 'visibilityMs'],
      ['/queue/jobs/dequeue', { waitMs: 120_000 }, 'waitMs'],
      ['/queue/jobs/ack', {}, 'receipt'],
      ['/queue/a%20b/enqueue', { message: 'x' }, 'queue'],
      ['/queue/%E0%A4%A/enqueue', { message: 'x' }, 'queue'],
    ];
    for (const [path, body, field] of cases) {
      const r = await call(a, 'POST', path, body);
      assert.equal(r.status, 400, `${path} ${JSON.stringify(body)}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body['field'], field, `${path} ${JSON.stringify(body)}: ${JSON.stringify(r.body)}`);
    }
    for (const m of ['one', 'two']) assert.equal((await call(a, 'POST', '/queue/jobs/enqueue', { message: m })).status, 200);
    const over = await call(a, 'POST', '/queue/other/enqueue', { message: 'three' });
    assert.equal(over.status, 429, JSON.stringify(over.body));
    assert.deepEqual([over.body['error'], over.body['limit'], over.body['max']], ['limit-exceeded', 'max-queue-messages', 2]);
    const d = await call(a, 'POST', '/queue/jobs/dequeue', {});
    assert.equal((await call(a, 'POST', '/queue/jobs/ack', { receipt: d.body['receipt'] })).status, 200);
    assert.equal((await call(a, 'POST', '/queue/other/enqueue', { message: 'three' })).status, 200, 'room again after an ack');
    const ack = await call(a, 'POST', '/queue/jobs/ack', { receipt: 'never-given' });
    assert.equal(ack.status, 409);
    assert.equal(ack.body['error'], 'unknown-receipt');
  });

  it('keeps acknowledged messages through kill -9 of the group leader, and serves them from the new one', async () => {
    cluster = await startLocalCluster({ nodes: 3, dir, extraArgs: ['--tick-ms', '10'] });
    const leader = await queueLeader(cluster, 'durable');
    const other = cluster.nodes.find((n) => n !== leader) as NodeProcess;
    for (let i = 0; i < 20; i++) assert.equal((await call(other, 'POST', '/queue/durable/enqueue', { message: `m${i}`, id: `d${i}` })).status, 200);
    await leader.stop('SIGKILL');
    const next = await queueLeader(cluster, 'durable');
    assert.notEqual(next, leader);
    const got: string[] = [];
    for (;;) {
      const r = await call(other, 'POST', '/queue/durable/dequeue', { visibilityMs: 60_000 });
      if (r.status === 204) break;
      assert.equal(r.status, 200, JSON.stringify(r.body));
      got.push(r.body['id'] as string);
      assert.equal((await call(other, 'POST', '/queue/durable/ack', { receipt: r.body['receipt'] })).status, 200);
    }
    assert.deepEqual(got, Array.from({ length: 20 }, (_, i) => `d${i}`), 'all 20, in order');
  });

  it('on 5 nodes with 3 replicas, serves a queue through nodes outside its group, and places it where /placement says', async () => {
    cluster = await startLocalCluster({ nodes: 5, dir, extraArgs: ['--tick-ms', '10'] });
    const leader = await queueLeader(cluster, 'wide');
    const view = await call(leader, 'GET', '/queue/wide/placement');
    const members = view.body['members'] as string[];
    assert.equal(members.length, 3);
    assert.deepEqual([...(view.body['preferenceList'] as string[])].sort(), members);
    assert.ok(members.includes(leader.spec.id));
    const outside = cluster.nodes.filter((n) => !members.includes(n.spec.id));
    assert.equal(outside.length, 2);
    const [o1, o2] = outside as [NodeProcess, NodeProcess];
    const e = await call(o1, 'POST', '/queue/wide/enqueue', { message: 'far', id: 'w1' });
    assert.equal(e.status, 200, JSON.stringify(e.body));
    const d = await call(o2, 'POST', '/queue/wide/dequeue', { visibilityMs: 60_000 });
    assert.equal(d.status, 200, JSON.stringify(d.body));
    assert.equal(d.body['id'], 'w1');
    assert.equal((await call(o1, 'POST', '/queue/wide/ack', { receipt: d.body['receipt'] })).status, 200);
    // The group's data lives on its members only.
    const status = await call(o1, 'GET', '/status');
    const groups = (status.body['services'] as { queue: { groups: { id: string; member: boolean }[] } }).queue.groups;
    assert.equal(groups.find((g) => g.id === view.body['group'])?.member, false);
    assert.equal(groups.filter((g) => g.member).length, 6, 'each of 5 nodes is in 6 of the 10 groups of 3');
  });
});
