/**
 * A waiter whose client went away is cancelled (issue 15): a blocking acquire whose connection
 * closes while it is queued — on the leader, or through a follower — is taken out of the queue by
 * a replicated `cancel`, so the next release does not hand the lock to a client that is gone.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunningNode } from '../../../cluster/node/node.js';
import { startInProcessNodes } from '../../support/in-process-nodes.js';
import { LockTable } from '../../../cluster/lock/lock-table.js';
import { eventually } from '../../support/eventually.js';
import { callJson, type JsonReply } from '../../support/http-json.js';

type Reply = JsonReply;

const HASH_A = 'a'.repeat(64);
const HASH_B = 'b'.repeat(64);

describe('lock table: cancel', () => {
  it('takes the waiter with that secret hash out of the queue, fails its acquire and lets the next one in', () => {
    const t = new LockTable();
    t.apply({ type: 'acquire', name: 'x', client: 'h', mode: 'shared', ttlMs: 1000, waitMs: 0, now: 0 }, 1);
    t.apply({ type: 'acquire', name: 'x', client: 'gone', mode: 'exclusive', ttlMs: 1000, waitMs: 5000, now: 0, secretHash: HASH_A }, 2);
    t.apply({ type: 'acquire', name: 'x', client: 'next', mode: 'shared', ttlMs: 1000, waitMs: 5000, now: 0, secretHash: HASH_B }, 3);
    assert.deepEqual(t.view('x').waiters.map((w) => w.client), ['gone', 'next']);
    // Another acquire's hash cancels nothing.
    assert.deepEqual(t.apply({ type: 'cancel', name: 'x', client: 'gone', secretHash: HASH_B, now: 1 }, 4).events.failed, []);
    const r = t.apply({ type: 'cancel', name: 'x', client: 'gone', secretHash: HASH_A, now: 2 }, 5);
    assert.deepEqual(r.events.failed, [{ name: 'x', client: 'gone', error: 'timeout' }]);
    // The shared waiter behind it joins the shared holder at once.
    assert.deepEqual(r.events.granted.map((g) => g.client), ['next']);
    assert.deepEqual(t.view('x').waiters, []);
    // Cancelling again is harmless.
    assert.deepEqual(t.apply({ type: 'cancel', name: 'x', client: 'gone', secretHash: HASH_A, now: 3 }, 6).result, { status: 'ok' });
  });
});

describe('cluster/node: a waiter whose client went away (three in-process nodes)', function () {
  this.timeout(60_000);
  let dir: string;
  const nodes: RunningNode[] = [];

  const call = (node: RunningNode, method: 'GET' | 'POST', path: string, body?: unknown, signal?: AbortSignal): Promise<Reply> => callJson(node.address, method, path, body, signal ?? AbortSignal.timeout(20_000));

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dsync-cancel-'));
    nodes.push(...(await startInProcessNodes(3, dir)));
  });
  after(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  for (const via of ['the leader', 'a follower'] as const) {
    it(`a queued acquire whose connection closes (sent to ${via}) leaves the queue; the release frees the lock`, async () => {
      const leader = await eventually('one leader', () => {
        const leaders = nodes.filter((n) => n.raft.role === 'leader');
        return leaders.length === 1 && nodes.every((n) => n.raft.leader === leaders[0]?.id) ? leaders[0] : undefined;
      });
      const target = via === 'the leader' ? leader : (nodes.find((n) => n !== leader) as RunningNode);
      const name = `ghost-${via === 'the leader' ? 'l' : 'f'}`;
      const held = await call(leader, 'POST', '/lock/acquire', { name, client: 'holder', ttlMs: 60_000 });
      assert.equal(held.status, 200, JSON.stringify(held.body));
      const gone = new AbortController();
      const poll = call(target, 'POST', '/lock/acquire', { name, client: 'ghost', waitMs: 30_000, ttlMs: 60_000 }, gone.signal).catch(() => null);
      await eventually('the ghost waits in the queue', async () => ((await call(leader, 'GET', `/lock/${name}`)).body['waiters'] as unknown[]).length === 1);
      gone.abort();
      await poll;
      // Well before its 30 s wait ends, the waiter is gone from every replica.
      await eventually(
        'the waiter cancelled on every node',
        async () => {
          const views = await Promise.all(nodes.map((n) => call(n, 'GET', `/lock/${name}`)));
          return views.every((v) => v.status !== 200 || (v.body['waiters'] as unknown[]).length === 0) && views.some((v) => v.status === 200);
        },
        5000,
      );
      const released = await call(leader, 'POST', '/lock/release', { name, client: 'holder', token: held.body['token'], secret: held.body['secret'] });
      assert.equal(released.status, 200, JSON.stringify(released.body));
      const after = await call(leader, 'GET', `/lock/${name}`);
      assert.deepEqual([after.body['mode'], after.body['holders']], [null, []], 'nobody holds the lock: it was not handed to the client that went away');
    });
  }
});
