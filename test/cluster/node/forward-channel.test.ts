/**
 * Forwarding over peer streams (`forward-channel.ts`): against a stand-in peer that records the
 * frames it is sent, what a caller gets back in every case (an answer, no answer in time, a peer
 * that is not there, a client that goes away), what the serving side answers, and that frames are
 * validated; then on three in-process nodes, that queue requests through followers really travel
 * over the channel and get the leader's answers.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ForwardChannel, FORWARD_STREAM_PATH, type FindServe } from '../../../cluster/node/forward-channel.js';
import { HttpError } from '../../../cluster/node/http-util.js';
import type { RunningNode } from '../../../cluster/node/node.js';
import { freePorts } from '../../../cluster/local/node-process.js';
import { startInProcessNodes } from '../../support/in-process-nodes.js';
import { eventually } from '../../support/eventually.js';
import { callJson } from '../../support/http-json.js';

type Frame = Record<string, unknown>;

/** A stand-in peer: takes forwarding streams and records every frame on them. */
async function recordingPeer(): Promise<{ server: Server; address: string; frames: Frame[]; from: string[] }> {
  const frames: Frame[] = [];
  const from: string[] = [];
  const server = createServer((req, res) => {
    if (req.url !== FORWARD_STREAM_PATH) {
      res.writeHead(404).end();
      return;
    }
    from.push(String(req.headers['x-dsync-from']));
    req.setEncoding('utf8');
    let partial = '';
    req.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) if (l !== '') frames.push(JSON.parse(l) as Frame);
    });
    req.on('end', () => res.writeHead(204).end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  assert.ok(typeof addr === 'object' && addr !== null);
  return { server, address: `127.0.0.1:${addr.port}`, frames, from };
}

describe('cluster/node: forwarding over peer streams', function () {
  this.timeout(30_000);

  describe('against a stand-in peer', () => {
    let peer: Awaited<ReturnType<typeof recordingPeer>>;
    let channel: ForwardChannel;
    let deadPort: number;

    beforeEach(async () => {
      peer = await recordingPeer();
      [deadPort] = (await freePorts(1)) as [number];
      const addresses = new Map([
        ['me', '127.0.0.1:1'],
        ['p', peer.address],
        ['q', '127.0.0.1:2'],
        ['dead', `127.0.0.1:${deadPort}`],
      ]);
      channel = new ForwardChannel({ addresses, self: 'me', secret: null, bodyLimit: 1024 });
    });
    afterEach(async () => {
      await channel.close();
      peer.server.closeAllConnections();
      await new Promise((r) => peer.server.close(r));
    });

    const request = async (): Promise<Frame> => eventually('the request frame at the peer', () => peer.frames.find((f) => f['t'] === 'req'));

    it('sends the method, path and body, and resolves with the answer the peer sends back', async () => {
      const answer = channel.call('p', 'POST', '/queue/a/enqueue', Buffer.from('{"message":"x"}'), 5000, false);
      const req = await request();
      assert.deepEqual({ m: req['m'], p: req['p'], b: req['b'], lp: req['lp'] }, { m: 'POST', p: '/queue/a/enqueue', b: '{"message":"x"}', lp: undefined });
      assert.deepEqual(peer.from, ['me']);
      channel.sink('p').message({ t: 'rep', id: req['id'], s: 200, b: { id: 'm1' } });
      assert.deepEqual(await answer, { status: 200, body: { id: 'm1' } });
      assert.deepEqual({ sent: channel.stats.sent, answered: channel.stats.answered, unanswered: channel.stats.unanswered }, { sent: 1, answered: 1, unanswered: 0 });
    });

    it('takes an answer only from the peer the request went to; without one in time it is a 503 that may have been applied', async () => {
      const t0 = performance.now();
      const answer = channel.call('p', 'POST', '/queue/a/ack', Buffer.from('{}'), 300, false);
      const req = await request();
      channel.sink('q').message({ t: 'rep', id: req['id'], s: 200, b: { forged: true } });
      const r = await answer;
      assert.equal(r.status, 503);
      assert.equal(r.body['definite'], false, JSON.stringify(r.body));
      assert.match(String(r.body['message']), /did not answer within 300 ms/);
      assert.ok(performance.now() - t0 >= 290, 'answered before its deadline');
    });

    it('a peer nothing listens on: a 503 that surely had no effect, long before the deadline', async () => {
      const t0 = performance.now();
      const r = await channel.call('dead', 'POST', '/queue/a/enqueue', Buffer.from('{}'), 10_000, false);
      assert.equal(r.status, 503);
      assert.equal(r.body['definite'], true, JSON.stringify(r.body));
      assert.ok(performance.now() - t0 < 5000, `took ${Math.round(performance.now() - t0)} ms`);
    });

    it('a long poll whose client goes away is answered here and cancelled on the peer', async () => {
      const gone = new AbortController();
      const answer = channel.call('p', 'POST', '/queue/a/dequeue', Buffer.from('{"waitMs":10000}'), 15_000, true, gone.signal);
      const req = await request();
      assert.equal(req['lp'], true);
      gone.abort();
      const r = await answer;
      assert.equal(r.status, 503);
      assert.match(String(r.body['message']), /client went away/);
      await eventually('the cancel frame at the peer', () => peer.frames.some((f) => f['t'] === 'cancel' && f['id'] === req['id']));
    });

    it('serves a peer’s request by its route and writes the answer back: the reply, a 404 for no route, the 4xx of an HttpError, a 413 over the body limit', async () => {
      const find: FindServe = (method, path) => {
        if (method !== 'POST' || !path.startsWith('/echo/')) return undefined;
        return {
          param: path.slice('/echo/'.length),
          serve: async (param, body) => {
            if (param === 'bad') throw new HttpError(400, 'bad-request', 'message: required', { field: 'message' });
            return { status: 200, body: { param, body: body.toString('utf8') } };
          },
        };
      };
      channel.setRoutes(find);
      const sink = channel.sink('p');
      sink.message({ t: 'req', id: 7, m: 'POST', p: '/echo/x', b: 'hello' });
      sink.message({ t: 'req', id: 8, m: 'POST', p: '/nowhere', b: '' });
      sink.message({ t: 'req', id: 9, m: 'POST', p: '/echo/bad', b: '{}' });
      sink.message({ t: 'req', id: 10, m: 'POST', p: '/echo/big', b: 'x'.repeat(1025) });
      const replies = await eventually('four answers at the peer', () => {
        const reps = peer.frames.filter((f) => f['t'] === 'rep');
        return reps.length === 4 ? new Map(reps.map((f) => [f['id'], f])) : undefined;
      });
      assert.deepEqual(replies.get(7), { t: 'rep', id: 7, s: 200, b: { param: 'x', body: 'hello' } });
      assert.equal(replies.get(8)?.['s'], 404);
      assert.deepEqual(replies.get(9), { t: 'rep', id: 9, s: 400, b: { error: 'bad-request', message: 'message: required', field: 'message' } });
      assert.equal(replies.get(10)?.['s'], 413);
      assert.equal(channel.stats.served, 4);
    });

    it('a stream that ends cancels the long polls it brought, not those of a newer stream from the same peer', async () => {
      const aborted: number[] = [];
      channel.setRoutes((method, path) =>
        method === 'POST' && path === '/wait'
          ? {
              param: undefined,
              serve: (_param, body, gone) =>
                new Promise((resolve) => {
                  gone?.addEventListener('abort', () => {
                    aborted.push(Number(body.toString('utf8')));
                    resolve({ status: 204, body: {} });
                  });
                }),
            }
          : undefined,
      );
      const old = channel.sink('p');
      const newer = channel.sink('p');
      old.message({ t: 'req', id: 1, m: 'POST', p: '/wait', b: '1', lp: true });
      newer.message({ t: 'req', id: 2, m: 'POST', p: '/wait', b: '2', lp: true });
      old.end?.();
      await eventually('the old stream’s long poll ended', () => aborted.includes(1));
      assert.deepEqual(aborted, [1]);
      newer.message({ t: 'cancel', id: 2 });
      await eventually('the newer one cancelled by its own stream', () => aborted.includes(2));
    });

    it('refuses a malformed frame with a 400 naming the field', () => {
      const sink = channel.sink('p');
      const refused = (frame: unknown, field: RegExp): void =>
        assert.throws(
          () => sink.message(frame),
          (e: unknown) => e instanceof HttpError && e.status === 400 && field.test(e.message),
        );
      refused({ t: 'rep', id: 1, s: 'ok', b: {} }, /\bs\b/);
      refused({ t: 'rep', id: -1, s: 200, b: {} }, /\bid\b/);
      refused({ t: 'req', id: 1, m: 'PATCH', p: '/x', b: '' }, /\bm\b/);
      refused({ t: 'req', id: 1, m: 'POST', p: '/x', b: '', extra: 1 }, /extra/);
      refused({ t: 'hello' }, /\bt\b/);
    });
  });

  describe('on three in-process nodes', () => {
    let dir: string;
    const nodes: RunningNode[] = [];
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'dsync-forward-channel-'));
      nodes.push(...(await startInProcessNodes(3, dir)));
    });
    after(async () => {
      await Promise.all(nodes.map((n) => n.stop()));
      rmSync(dir, { recursive: true, force: true });
    });

    const counter = async (node: RunningNode, name: string): Promise<number> => {
      const res = await fetch(`http://${node.address}/metrics`);
      const m = new RegExp(`^${name}\\{[^}]*\\} (\\d+)`, 'm').exec(await res.text());
      return m ? Number(m[1]) : 0;
    };

    it('queue requests through a follower travel over the channel and get the leader’s answers', async () => {
      // The first enqueue opens the queue's group; then its leader is known.
      assert.equal((await callJson(nodes[0]!.address, 'POST', '/queue/fw/enqueue', { message: 'm0', id: 'id0' })).status, 200);
      const leaderId = await eventually('the group leader', async () => {
        const p = await callJson(nodes[0]!.address, 'GET', '/queue/fw/placement');
        return typeof p.body['leader'] === 'string' ? (p.body['leader'] as string) : undefined;
      });
      const follower = nodes.find((n) => n.id !== leaderId) as RunningNode;
      const leader = nodes.find((n) => n.id === leaderId) as RunningNode;
      const sentBefore = await counter(follower, 'dsync_forwarded_requests_total');
      const servedBefore = await counter(leader, 'dsync_forwarded_served_total');
      for (let i = 1; i <= 5; i++) assert.equal((await callJson(follower.address, 'POST', '/queue/fw/enqueue', { message: `m${i}`, id: `id${i}` })).status, 200);
      const got: string[] = [];
      for (let i = 0; i <= 5; i++) {
        const d = await callJson(follower.address, 'POST', '/queue/fw/dequeue', { visibilityMs: 30_000 });
        assert.equal(d.status, 200, JSON.stringify(d.body));
        got.push(String(d.body['message']));
        assert.equal((await callJson(follower.address, 'POST', '/queue/fw/ack', { receipt: d.body['receipt'] })).status, 200);
      }
      assert.deepEqual(got, ['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
      // 5 enqueues, 6 dequeues and 6 acks through the follower.
      assert.equal((await counter(follower, 'dsync_forwarded_requests_total')) - sentBefore, 17);
      assert.equal((await counter(leader, 'dsync_forwarded_served_total')) - servedBefore, 17);
      // A bad body is refused where it arrives, naming the field, and never forwarded.
      const bad = await callJson(follower.address, 'POST', '/queue/fw/ack', { receipt: 7 });
      assert.equal(bad.status, 400);
      assert.equal(bad.body['field'], 'receipt');
      assert.equal((await counter(follower, 'dsync_forwarded_requests_total')) - sentBefore, 17);
    });

    it('refuses a forwarding stream from no member (401) and a malformed frame on it (400)', async () => {
      const node = nodes[0]!;
      const anon = await fetch(`http://${node.address}${FORWARD_STREAM_PATH}`, { method: 'POST', body: '{"t":"cancel","id":1}\n' });
      assert.equal(anon.status, 401, await anon.text());
      const bad = await fetch(`http://${node.address}${FORWARD_STREAM_PATH}`, { method: 'POST', headers: { 'x-dsync-from': 'n2' }, body: '{"t":"rep","id":"one","s":200,"b":{}}\n' });
      assert.equal(bad.status, 400);
      assert.match(String(((await bad.json()) as Record<string, unknown>)['message']), /forwarded frame: id/);
    });
  });
});
