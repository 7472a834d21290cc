/**
 * The node's HTTP API on a single in-process node: lock semantics end to end (long polls,
 * leases, deadlocks, exactly-once retries), bad input, /status, /metrics, /openapi.json.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { pino } from 'pino';
import { startNode, type RunningNode } from '../../../cluster/node/node.js';
import { eventually } from '../../support/eventually.js';

interface Reply {
  status: number;
  body: Record<string, unknown>;
}

async function call(base: string, method: string, path: string, body?: unknown, raw?: string): Promise<Reply> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(raw !== undefined ? { body: raw } : body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text.length > 0 && text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : { text } };
}

describe('cluster/node: HTTP API (one in-process node)', function () {
  this.timeout(20_000);
  let dir: string;
  let node: RunningNode;
  let base: string;
  const post = (path: string, body: unknown): Promise<Reply> => call(base, 'POST', path, body);
  const get = (path: string): Promise<Reply> => call(base, 'GET', path);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dsync-api-'));
    node = await startNode({ id: 'n1', listen: '127.0.0.1:0', peers: new Map([['n1', '127.0.0.1:0']]), dataDir: dir, log: pino({ level: 'silent' }), tickMs: 10, insecure: true });
    base = `http://${node.address}`;
    await eventually('leader elected', async () => (await get('/status')).body['role'] === 'leader');
  });
  after(async () => {
    await node?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('grants, refuses a conflicting try-acquire, shows the holder, releases', async () => {
    const g = await post('/lock/acquire', { name: 'a', client: 'c1', ttlMs: 60_000 });
    assert.equal(g.status, 200);
    assert.equal(g.body['mode'], 'exclusive');
    assert.ok(typeof g.body['token'] === 'number' && g.body['token'] > 0);
    const c = await post('/lock/acquire', { name: 'a', client: 'c2' });
    assert.equal(c.status, 409);
    assert.equal(c.body['error'], 'conflict');
    const v = await get('/lock/a');
    assert.equal(v.status, 200);
    assert.deepEqual((v.body['holders'] as { client: string }[]).map((h) => h.client), ['c1']);
    assert.equal((await post('/lock/release', { name: 'a', client: 'c1', token: g.body['token'], secret: g.body['secret'] })).status, 200);
    const again = await post('/lock/release', { name: 'a', client: 'c1', token: g.body['token'], secret: g.body['secret'] });
    assert.equal(again.status, 409);
    assert.equal(again.body['error'], 'not-held');
    assert.equal((await get('/lock/a')).body['mode'], null);
  });

  it('answers a waiting acquire (long poll) when the holder releases, with a larger token', async () => {
    const g = await post('/lock/acquire', { name: 'b', client: 'c1', ttlMs: 60_000 });
    const waiting = post('/lock/acquire', { name: 'b', client: 'c2', ttlMs: 60_000, waitMs: 10_000 });
    await eventually('c2 queued', async () => ((await get('/lock/b')).body['waiters'] as unknown[]).length === 1);
    assert.equal((await post('/lock/release', { name: 'b', client: 'c1', token: g.body['token'], secret: g.body['secret'] })).status, 200);
    const w = await waiting;
    assert.equal(w.status, 200);
    assert.ok((w.body['token'] as number) > (g.body['token'] as number));
    assert.equal((await post('/lock/release', { name: 'b', client: 'c2', token: w.body['token'], secret: w.body['secret'] })).status, 200);
  });

  it('fails a waiting acquire with timeout after waitMs (the leader ticks)', async () => {
    const g = await post('/lock/acquire', { name: 'c', client: 'c1', ttlMs: 60_000 });
    const started = Date.now();
    const w = await post('/lock/acquire', { name: 'c', client: 'c2', waitMs: 150 });
    assert.equal(w.status, 409);
    assert.equal(w.body['error'], 'timeout');
    assert.ok(Date.now() - started >= 150, 'not before waitMs');
    await post('/lock/release', { name: 'c', client: 'c1', token: g.body['token'], secret: g.body['secret'] });
  });

  it('expires a lease that is not renewed, and renews one that is', async () => {
    const g = await post('/lock/acquire', { name: 'd', client: 'c1', ttlMs: 100 });
    assert.equal(g.status, 200);
    await eventually('lease expired', async () => (await get('/lock/d')).body['mode'] === null);
    const late = await post('/lock/renew', { name: 'd', client: 'c1', token: g.body['token'], secret: g.body['secret'], ttlMs: 1000 });
    assert.equal(late.status, 409);
    assert.equal(late.body['error'], 'not-held');
    const h = await post('/lock/acquire', { name: 'd', client: 'c2', ttlMs: 5000 });
    assert.equal(h.status, 200);
    assert.ok((h.body['token'] as number) > (g.body['token'] as number));
    const r = await post('/lock/renew', { name: 'd', client: 'c2', token: h.body['token'], secret: h.body['secret'], ttlMs: 60_000 });
    assert.equal(r.status, 200);
    const holders = (await get('/lock/d')).body['holders'] as { expiresAt: number }[];
    assert.ok((holders[0]?.expiresAt ?? 0) > Date.now() + 30_000, 'the renewal moved the expiry');
    assert.equal((await post('/lock/release', { name: 'd', client: 'c2', token: h.body['token'], secret: h.body['secret'] })).status, 200);
  });

  it('shares a shared lock and queues an exclusive request behind it', async () => {
    const s1 = await post('/lock/acquire', { name: 'e', client: 'r1', mode: 'shared', ttlMs: 60_000 });
    const s2 = await post('/lock/acquire', { name: 'e', client: 'r2', mode: 'shared', ttlMs: 60_000 });
    assert.equal(s1.status, 200);
    assert.equal(s2.status, 200);
    const x = post('/lock/acquire', { name: 'e', client: 'w', mode: 'exclusive', ttlMs: 60_000, waitMs: 10_000 });
    await eventually('writer queued', async () => ((await get('/lock/e')).body['waiters'] as unknown[]).length === 1);
    // A later reader does not overtake the waiting writer.
    const s3 = await post('/lock/acquire', { name: 'e', client: 'r3', mode: 'shared' });
    assert.equal(s3.status, 409);
    await post('/lock/release', { name: 'e', client: 'r1', token: s1.body['token'], secret: s1.body['secret'] });
    await post('/lock/release', { name: 'e', client: 'r2', token: s2.body['token'], secret: s2.body['secret'] });
    const w = await x;
    assert.equal(w.status, 200);
    assert.equal(w.body['mode'], 'exclusive');
    await post('/lock/release', { name: 'e', client: 'w', token: w.body['token'], secret: w.body['secret'] });
  });

  it('fails the youngest waiter of a deadlock cycle with 409 deadlock', async () => {
    const a = await post('/lock/acquire', { name: 'f1', client: 'p', ttlMs: 60_000 });
    const b = await post('/lock/acquire', { name: 'f2', client: 'q', ttlMs: 60_000 });
    const pWaits = post('/lock/acquire', { name: 'f2', client: 'p', ttlMs: 60_000, waitMs: 10_000 });
    await eventually('p queued', async () => ((await get('/lock/f2')).body['waiters'] as unknown[]).length === 1);
    const qWaits = await post('/lock/acquire', { name: 'f1', client: 'q', waitMs: 10_000 });
    assert.equal(qWaits.status, 409);
    assert.equal(qWaits.body['error'], 'deadlock');
    await post('/lock/release', { name: 'f2', client: 'q', token: b.body['token'], secret: b.body['secret'] });
    const p = await pWaits;
    assert.equal(p.status, 200);
    await post('/lock/release', { name: 'f2', client: 'p', token: p.body['token'], secret: p.body['secret'] });
    await post('/lock/release', { name: 'f1', client: 'p', token: a.body['token'], secret: a.body['secret'] });
  });

  it('applies a retried request once (session + seq) and refuses an older seq', async () => {
    const req = { name: 'g', client: 'c1', ttlMs: 60_000, session: 's1', seq: 1 };
    const first = await post('/lock/acquire', req);
    assert.equal(first.status, 200);
    assert.equal((await post('/lock/release', { name: 'g', client: 'c1', token: first.body['token'], secret: first.body['secret'], session: 's1', seq: 2 })).status, 200);
    assert.equal((await post('/lock/release', { name: 'g', client: 'c1', token: first.body['token'], secret: first.body['secret'], session: 's1', seq: 2 })).status, 200, 'a retried release gets its recorded result');
    const old = await post('/lock/acquire', req);
    assert.equal(old.status, 409);
    assert.match(String(old.body['message']), /stale request/);
    assert.equal((await get('/lock/g')).body['mode'], null, 'the stale acquire was not applied');
  });

  it('only the acquirer can release or renew: a client that read GET /lock/x gets 403 without the secret or with a wrong one', async () => {
    const g = await post('/lock/acquire', { name: 'own', client: 'owner', ttlMs: 60_000 });
    assert.equal(g.status, 200, JSON.stringify(g.body));
    const secret = g.body['secret'];
    assert.ok(typeof secret === 'string' && secret.length >= 20, `a grant carries its secret: ${JSON.stringify(g.body)}`);
    // What anyone can read: the holder's client id and token, never the secret or its hash.
    const v = await get('/lock/own');
    assert.doesNotMatch(JSON.stringify(v.body), new RegExp(`${secret}|secret`));
    const [holder] = v.body['holders'] as { client: string; token: number }[];
    assert.ok(holder);
    const attempts: [string, string, Record<string, unknown>][] = [
      ['release without a secret', '/lock/release', {}],
      ['release with a wrong secret', '/lock/release', { secret: 'guess' }],
      ['renew without a secret', '/lock/renew', { ttlMs: 1000 }],
      ['renew with a wrong secret', '/lock/renew', { ttlMs: 1000, secret: `${secret}x` }],
      ['release with a wrong secret in a session', '/lock/release', { secret: 'guess', session: 'thief', seq: 1 }],
    ];
    for (const [what, path, extra] of attempts) {
      const r = await post(path, { name: 'own', client: holder.client, token: holder.token, ...extra });
      assert.equal(r.status, 403, `${what}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body['error'], 'forbidden', what);
      assert.match(String(r.body['message']), /secret/, what);
    }
    const still = (await get('/lock/own')).body['holders'] as { token: number; expiresAt: number }[];
    assert.deepEqual(still.map((h) => h.token), [holder.token], 'still held');
    assert.equal(still[0]?.expiresAt, (v.body['holders'] as { expiresAt: number }[])[0]?.expiresAt, 'not renewed');
    assert.equal((await post('/lock/renew', { name: 'own', client: 'owner', token: holder.token, ttlMs: 60_000, secret })).status, 200);
    assert.equal((await post('/lock/release', { name: 'own', client: 'owner', token: holder.token, secret })).status, 200);
  });

  it('a retried acquire (same session and seq) answers with a new secret, which then is the one that works', async () => {
    const req = { name: 'rk', client: 'c1', ttlMs: 60_000, session: 'srk', seq: 1 };
    const first = await post('/lock/acquire', req);
    const retry = await post('/lock/acquire', req);
    assert.equal(retry.status, 200);
    assert.equal(retry.body['token'], first.body['token']);
    assert.notEqual(retry.body['secret'], first.body['secret']);
    assert.equal((await post('/lock/release', { name: 'rk', client: 'c1', token: first.body['token'], secret: first.body['secret'] })).status, 403);
    assert.equal((await post('/lock/release', { name: 'rk', client: 'c1', token: first.body['token'], secret: retry.body['secret'] })).status, 200);
  });

  it('refuses bad input with a 4xx JSON error naming the problem, and keeps serving', async () => {
    const before = (await get('/status')).body;
    const cases: [string, string, string | undefined, number, string, RegExp][] = [
      ['POST', '/lock/acquire', '{"name": "x",', 400, 'bad-request', /not valid JSON/],
      ['POST', '/lock/acquire', '{"client": "c"}', 400, 'bad-request', /name/],
      ['POST', '/lock/acquire', '{"name": 7, "client": "c"}', 400, 'bad-request', /name/],
      ['POST', '/lock/acquire', '{"name": "x", "client": "c", "ttl": 5}', 400, 'bad-request', /ttl: unknown field/],
      ['POST', '/lock/acquire', '{"name": "x", "client": "c", "mode": "both"}', 400, 'bad-request', /mode/],
      ['POST', '/lock/acquire', '{"name": "x", "client": "c", "waitMs": -1}', 400, 'bad-request', /waitMs/],
      ['POST', '/lock/acquire', '{"name": "x", "client": "c", "seq": 3}', 400, 'bad-request', /session and seq/],
      ['POST', '/lock/acquire', '[1, 2]', 400, 'bad-request', /acquire/],
      ['POST', '/lock/release', '{"name": "x", "client": "c", "token": 1.5}', 400, 'bad-request', /token/],
      ['POST', '/lock/acquire', '{"name": "a\\u0000b", "client": "c"}', 400, 'bad-request', /acquire: name: must not contain control characters/],
      ['POST', '/lock/acquire', '{"name": "a", "client": "b\\u0000c"}', 400, 'bad-request', /acquire: client: must not contain control characters/],
      ['POST', '/lock/acquire', '{"name": "a", "client": "b\\nc"}', 400, 'bad-request', /client: must not contain control characters/],
      ['POST', '/lock/acquire', '{"name": "a", "client": "c", "session": "s\\u0007", "seq": 1}', 400, 'bad-request', /session: must not contain control characters/],
      ['POST', '/lock/release', '{"name": "a\\u0085", "client": "c", "token": 1}', 400, 'bad-request', /name: must not contain control characters/],
      ['POST', '/lock/acquire', JSON.stringify({ name: 'n'.repeat(257), client: 'c' }), 400, 'bad-request', /name/],
      ['GET', '/lock/a%00b', undefined, 400, 'bad-request', /name: must not contain control characters/],
      ['POST', '/lock/renew', '{"name": "x", "client": "c", "token": 1}', 400, 'bad-request', /ttlMs/],
      ['POST', '/lock/acquire', JSON.stringify({ name: 'x'.repeat(100_000), client: 'c' }), 413, 'too-large', /limit/],
      ['GET', `/lock/${'y'.repeat(300)}`, undefined, 400, 'bad-request', /name/],
      ['GET', '/lock/%E0%A4%A', undefined, 400, 'bad-request', /percent-encoding/],
      ['GET', '/nowhere', undefined, 404, 'not-found', /nowhere/],
      ['DELETE', '/lock/acquire', undefined, 405, 'method-not-allowed', /POST/],
      // Peer RPC is refused before its body is read when the sender is no other member (this node has none).
      ['POST', '/internal/raft/stream', '{"type": "append", "from": "n2"}\n', 401, 'unauthorized', /x-dsync-from header/],
    ];
    for (const [method, path, raw, status, error, message] of cases) {
      const r = await call(base, method, path, undefined, raw);
      assert.equal(r.status, status, `${method} ${path.slice(0, 40)} ${raw?.slice(0, 40) ?? ''}: ${JSON.stringify(r.body).slice(0, 200)}`);
      assert.equal(r.body['error'], error);
      assert.match(String(r.body['message']), message);
    }
    const after = (await get('/status')).body;
    assert.equal(after['role'], 'leader');
    assert.equal(after['term'], before['term']);
    const g = await post('/lock/acquire', { name: 'x', client: 'c', ttlMs: 60_000 });
    assert.equal(g.status, 200, 'still serving');
    await post('/lock/release', { name: 'x', client: 'c', token: g.body['token'], secret: g.body['secret'] });
  });

  it('answers CONNECT with 405 and a JSON body instead of closing the socket silently', async () => {
    const [host, port] = [node.address.slice(0, node.address.lastIndexOf(':')), Number(node.address.slice(node.address.lastIndexOf(':') + 1))];
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, host, () => socket.write(`CONNECT example.com:443 HTTP/1.1\r\nhost: example.com:443\r\n\r\n`));
      const chunks: Buffer[] = [];
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no reply within 5 s; got ${JSON.stringify(Buffer.concat(chunks).toString())}`));
      }, 5000);
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      socket.on('close', () => {
        clearTimeout(timer);
        resolve(Buffer.concat(chunks).toString());
      });
    });
    assert.match(reply, /^HTTP\/1\.1 405 /);
    const body = JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>;
    assert.equal(body['error'], 'method-not-allowed');
    assert.match(String(body['message']), /CONNECT/);
    assert.equal((await get('/health')).status, 200, 'still serving');
  });

  it('reports /status, /metrics and /openapi.json', async () => {
    const s = (await get('/status')).body;
    for (const k of ['role', 'term', 'leader', 'commitIndex', 'lastApplied']) assert.ok(k in s, k);
    assert.equal(s['leader'], 'n1');
    assert.ok((s['lastApplied'] as number) > 10);
    const lock = (s['services'] as Record<string, Record<string, number>> | undefined)?.['lock'];
    assert.ok(lock && lock['grants'] !== undefined && lock['grants'] >= 10, `/status has the lock service's part: ${JSON.stringify(s['services'])}`);
    assert.equal(lock['deadlocks'], 1);
    const res = await fetch(`${base}/metrics`);
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    const text = await res.text();
    for (const m of ['dsync_raft_elections_total', 'dsync_raft_persist_seconds_bucket', 'dsync_lock_grants_total', 'dsync_lock_conflicts_total', 'dsync_lock_deadlocks_total', 'dsync_raft_entries_applied_total']) {
      assert.match(text, new RegExp(`^${m}\\{`, 'm'), m);
    }
    const grants = Number(/^dsync_lock_grants_total\{[^}]*\} (\d+)/m.exec(text)?.[1]);
    assert.ok(grants >= 10, `grants counted: ${grants}`);
    assert.match(text, /^dsync_lock_deadlocks_total\{[^}]*\} 1$/m);
    const doc = (await get('/openapi.json')).body as { openapi: string; paths: Record<string, { post?: { requestBody: { content: Record<string, { schema: { required: string[] } }> } } }> };
    assert.equal(doc.openapi, '3.1.0');
    assert.deepEqual(doc.paths['/lock/acquire']?.post?.requestBody.content['application/json']?.schema.required, ['name', 'client']);
  });
});
