/**
 * Forwarding through a follower on three in-process nodes: long polls waiting on the leader do
 * not starve short requests — with 140 blocking acquires forwarded (more than the 128 connections
 * for short requests), a read through the same follower is answered at once.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningNode } from '../../../cluster/node/node.js';
import { startInProcessNodes } from '../../support/in-process-nodes.js';
import { eventually } from '../../support/eventually.js';
import { callJson, type JsonReply } from '../../support/http-json.js';

type Reply = JsonReply;

describe('cluster/node: forwarding long polls (three in-process nodes)', function () {
  this.timeout(60_000);
  let dir: string;
  const nodes: RunningNode[] = [];

  const call = (node: RunningNode, method: 'GET' | 'POST', path: string, body?: unknown): Promise<Reply> => callJson(node.address, method, path, body, AbortSignal.timeout(20_000));

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dsync-forwarder-'));
    nodes.push(...(await startInProcessNodes(3, dir)));
  });
  after(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers a short request through a follower while 140 long polls wait through it', async () => {
    const leader = await eventually('one leader', () => {
      const leaders = nodes.filter((n) => n.raft.role === 'leader');
      return leaders.length === 1 && nodes.every((n) => n.raft.leader === leaders[0]?.id) ? leaders[0] : undefined;
    });
    const follower = nodes.find((n) => n !== leader) as RunningNode;
    const held = await call(leader, 'POST', '/lock/acquire', { name: 'busy', client: 'holder', ttlMs: 60_000 });
    assert.equal(held.status, 200, JSON.stringify(held.body));
    const polls = Array.from({ length: 140 }, (_, i) => call(follower, 'POST', '/lock/acquire', { name: 'busy', client: `w${i}`, waitMs: 8000, ttlMs: 1 }).catch((e: unknown) => ({ status: 0, body: { error: String(e) } })));
    // As many as the short pool's 128 connections (today's code queues every other request behind them).
    await eventually("the short pool's worth of waiters (128) forwarded to the leader", async () => {
      const n = ((await call(leader, 'GET', '/lock/busy')).body['waiters'] as unknown[]).length;
      return n >= 128;
    }, 15_000, 50);
    const t0 = performance.now();
    const read = await call(follower, 'GET', '/lock/other');
    const ms = performance.now() - t0;
    assert.equal(read.status, 200, JSON.stringify(read.body));
    console.log(`      a read through the follower with 140 long polls waiting: ${Math.round(ms)} ms`);
    assert.ok(ms < 2000, `a read through the follower took ${Math.round(ms)} ms while long polls waited`);
    assert.equal((await call(leader, 'POST', '/lock/release', { name: 'busy', client: 'holder', token: held.body['token'], secret: held.body['secret'] })).status, 200);
    const answers = await Promise.all(polls);
    assert.ok(answers.every((a) => a.status === 200 || (a.status === 409 && a.body['error'] === 'timeout')), JSON.stringify(answers.find((a) => a.status !== 200 && a.status !== 409)));
  });
});
