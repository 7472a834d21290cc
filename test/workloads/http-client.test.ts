/**
 * The workloads' HTTP client against a scripted HTTP server: how replies and transport errors
 * become ok / fail / info, exactly-once retries (the same session and seq on every attempt), node
 * choice, and bodies that are empty or not JSON.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpClient, type HttpClientOptions } from '../../workloads/http-client.js';
import { eventually } from '../support/eventually.js';

/** A request as the server saw it; `node` is the base URL's path prefix (`/n1/…` → `n1`). */
interface Seen {
  readonly method: string;
  readonly node: string;
  readonly path: string;
  readonly contentType: string | undefined;
  readonly raw: string;
  readonly body: Record<string, unknown> | null;
}

/** The reply to the `n`-th request (1-based): JSON, raw text, or none ever. */
type Reply = { readonly status: number; readonly json?: unknown; readonly text?: string } | 'hang';
type Script = (req: Seen, n: number) => Reply;

/** A port nothing listens on: one a server just gave back. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('workloads/http-client', function () {
  this.timeout(10_000);
  let server: Server | undefined;
  let base = '';
  let script: Script = () => ({ status: 500 });
  let seen: Seen[] = [];
  const hung = new Set<ServerResponse>();
  const clients: HttpClient[] = [];

  before(async () => {
    const s = createServer((req: IncomingMessage, res: ServerResponse) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        const m = /^\/([^/]+)(\/.*)$/.exec(req.url ?? '');
        const r: Seen = {
          method: req.method ?? '',
          node: m?.[1] ?? '',
          path: m?.[2] ?? (req.url as string),
          contentType: req.headers['content-type'],
          raw,
          body: raw === '' ? null : (JSON.parse(raw) as Record<string, unknown>),
        };
        seen.push(r);
        const reply = script(r, seen.length);
        if (reply === 'hang') {
          hung.add(res);
          return;
        }
        if (reply.text !== undefined) res.writeHead(reply.status, { 'content-type': 'text/html' }).end(reply.text);
        else if (reply.json !== undefined) res.writeHead(reply.status, { 'content-type': 'application/json' }).end(JSON.stringify(reply.json));
        else res.writeHead(reply.status).end();
      });
    });
    server = s;
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  });
  beforeEach(() => (seen = []));
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    for (const res of hung) res.destroy();
    hung.clear();
  });
  after(async () => {
    for (const res of hung) res.destroy();
    if (!server) return;
    const s = server;
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  });

  /** A client of nodes n1 and n2 (both this server), or of the endpoints given. */
  const client = (o: Partial<HttpClientOptions> = {}, endpoints?: Map<string, string>): HttpClient => {
    const c = new HttpClient(endpoints ?? new Map([['n1', `${base}/n1`], ['n2', `${base}/n2`]]), { seed: 1, timeoutMs: 500, attemptTimeoutMs: 150, ...o });
    clients.push(c);
    return c;
  };

  it('a 200 is ok with the parsed body and the node; the request carries its method, path and JSON body', async () => {
    script = () => ({ status: 200, json: { token: 17, holders: [] } });
    const r = await client().request({ method: 'POST', path: '/lock/acquire', body: { name: 'l1' } });
    assert.deepEqual(r, { outcome: 'ok', status: 200, body: { token: 17, holders: [] }, node: seen[0]!.node, attempts: 1 });
    assert.equal(seen.length, 1);
    assert.deepEqual({ method: seen[0]!.method, path: seen[0]!.path, ct: seen[0]!.contentType, body: seen[0]!.body }, { method: 'POST', path: '/lock/acquire', ct: 'application/json', body: { name: 'l1' } });
  });

  it('a 409 is a fail at once naming the error code, never retried', async () => {
    script = () => ({ status: 409, json: { error: 'not-held', message: 'x' } });
    const r = await client().request({ method: 'POST', path: '/lock/release', body: {}, session: 'p1' });
    assert.deepEqual(r, { outcome: 'fail', error: 'not-held', status: 409, node: seen[0]!.node, attempts: 1 });
    assert.equal(seen.length, 1);
  });

  it('a 409 after an attempt that may have taken effect is flagged earlierMayHaveApplied; after definite 503s it is not', async () => {
    script = (_r, n) => (n === 1 ? { status: 503, json: { error: 'unavailable', definite: false } } : { status: 409, json: { error: 'unknown-receipt' } });
    const r = await client({ timeoutMs: 2000 }).request({ method: 'POST', path: '/queue/q0/ack', body: { receipt: 'r1' } });
    assert.deepEqual([r.outcome, r.outcome === 'fail' && r.error, r.outcome === 'fail' && r.earlierMayHaveApplied, r.attempts], ['fail', 'unknown-receipt', true, 2]);
    seen = [];
    script = (_r, n) => (n === 1 ? { status: 503, json: { error: 'unavailable', definite: true } } : { status: 409, json: { error: 'unknown-receipt' } });
    const d = await client({ timeoutMs: 2000 }).request({ method: 'POST', path: '/queue/q0/ack', body: { receipt: 'r1' } });
    assert.deepEqual([d.outcome, d.outcome === 'fail' && 'earlierMayHaveApplied' in d, d.attempts], ['fail', false, 2]);
  });

  it('any other 4xx is a fail at once too: its code, or http-<status> without one', async () => {
    script = () => ({ status: 400, json: { error: 'bad-request', message: 'name: required', field: 'name' } });
    const c = client();
    const bad = await c.request({ method: 'POST', path: '/lock/acquire', body: {} });
    assert.deepEqual([bad.outcome, bad.outcome === 'fail' && bad.error, bad.attempts], ['fail', 'bad-request', 1]);
    script = () => ({ status: 404, json: { message: 'no error code' } });
    const missing = await c.request({ method: 'GET', path: '/cache/k1' });
    assert.deepEqual([missing.outcome, missing.outcome === 'fail' && missing.error, missing.attempts], ['fail', 'http-404', 1]);
    assert.equal(seen.length, 2);
  });

  it('503 definite: true from every node until the deadline is a fail unavailable, after retries on both nodes', async () => {
    script = () => ({ status: 503, json: { error: 'unavailable', leader: null, definite: true } });
    const r = await client({ timeoutMs: 600 }).request({ method: 'POST', path: '/lock/acquire', body: {} });
    assert.equal(r.outcome, 'fail');
    assert.equal(r.outcome === 'fail' && r.error, 'unavailable');
    assert.equal(r.outcome === 'fail' && r.status, 503);
    assert.ok(r.attempts > 2, `attempts ${r.attempts}`);
    assert.equal(seen.length, r.attempts);
    assert.deepEqual(new Set(seen.map((s) => s.node)), new Set(['n1', 'n2']));
  });

  it('503 definite: false (or any 5xx without a definite answer) ends as info', async () => {
    script = () => ({ status: 503, json: { error: 'unavailable', leader: 'n2', definite: false } });
    const c = client();
    const r = await c.request({ method: 'POST', path: '/lock/acquire', body: {} });
    assert.deepEqual([r.outcome, r.outcome === 'info' && r.error], ['info', 'indeterminate: unavailable']);
    assert.ok(r.attempts > 1);
    // One ambiguous attempt among definite ones is enough.
    script = (_r, n) => (n === 1 ? { status: 500, json: { error: 'internal' } } : { status: 503, json: { error: 'unavailable', definite: true } });
    seen = [];
    const mixed = await c.request({ method: 'POST', path: '/lock/acquire', body: {} });
    assert.deepEqual([mixed.outcome, mixed.outcome === 'info' && mixed.error], ['info', 'indeterminate: unavailable']);
    assert.ok(mixed.attempts > 1);
  });

  it('retryIndefinite: false — info after the first attempt that may have taken effect; surely failed attempts are still retried', async () => {
    script = () => 'hang';
    const hung = await client({ timeoutMs: 2000, attemptTimeoutMs: 100 }).request({ method: 'PUT', path: '/cache/k1', body: { value: 1 }, retryIndefinite: false });
    assert.deepEqual([hung.outcome, hung.attempts], ['info', 1]);
    seen = [];
    script = (_r, n) => (n === 1 ? { status: 503, json: { error: 'unavailable', definite: true } } : n === 2 ? { status: 503, json: { error: 'unavailable', definite: false } } : { status: 200, json: { state: 'M' } });
    const r = await client({ timeoutMs: 2000 }).request({ method: 'PUT', path: '/cache/k1', body: { value: 1 }, retryIndefinite: false });
    assert.deepEqual([r.outcome, r.outcome === 'info' && r.error, r.attempts], ['info', 'indeterminate: unavailable', 2]);
  });

  it('a request that hangs past the attempt timeout is retried, and info at the end', async () => {
    script = () => 'hang';
    const r = await client({ timeoutMs: 500, attemptTimeoutMs: 100 }).request({ method: 'POST', path: '/queue/q1/enqueue', body: { value: 1 } });
    assert.equal(r.outcome, 'info');
    assert.match(r.outcome === 'info' ? r.error : '', /^indeterminate: .*timeout/i);
    assert.ok(r.attempts > 1, `attempts ${r.attempts}`);
    await eventually('every attempt reached the server', () => seen.length === r.attempts);
  });

  it('a refused connection surely sent nothing: refused on every attempt (or else a definite 503) is a fail unavailable; with an ambiguous 503, info', async () => {
    const dead = `http://127.0.0.1:${await closedPort()}`;
    const r = await client({ timeoutMs: 300 }, new Map([['d1', dead], ['d2', dead]])).request({ method: 'POST', path: '/lock/acquire', body: {}, session: 'p1' });
    assert.equal(r.outcome, 'fail');
    assert.equal(r.outcome === 'fail' && r.error, 'unavailable');
    assert.equal(r.outcome === 'fail' && r.status, undefined, 'no reply, no status');
    assert.ok(r.attempts > 1, `retried: ${r.attempts}`);
    const halfDead = new Map([['d1', dead], ['n1', `${base}/n1`]]);
    script = () => ({ status: 503, json: { error: 'unavailable', definite: true } });
    const definite = await client({ timeoutMs: 600 }, halfDead).request({ method: 'POST', path: '/lock/acquire', body: {} });
    assert.deepEqual([definite.outcome, definite.outcome === 'fail' && definite.error], ['fail', 'unavailable']);
    assert.ok(seen.length > 0 && seen.length < definite.attempts, `${definite.attempts} attempts, ${seen.length} reached n1`);
    seen = [];
    script = () => ({ status: 503, json: { error: 'unavailable', definite: false } });
    const mixed = await client({ timeoutMs: 600 }, halfDead).request({ method: 'POST', path: '/lock/acquire', body: {} });
    assert.equal(mixed.outcome, 'info');
    assert.ok(seen.length > 0 && seen.length < mixed.attempts, `${mixed.attempts} attempts, ${seen.length} reached n1`);
  });

  it('every attempt of an op carries the same session and seq; the next op of the session gets seq + 1', async () => {
    script = (_r, n) => (n < 4 ? { status: 503, json: { error: 'unavailable', definite: false } } : { status: 200, json: { token: 4 } });
    const c = client({ timeoutMs: 2000 });
    const r = await c.request({ method: 'POST', path: '/lock/acquire', body: { name: 'l1', client: 'p3' }, session: 'p3' });
    assert.equal(r.outcome, 'ok');
    assert.equal(r.attempts, 4);
    assert.equal(seen.length, 4);
    for (const s of seen) assert.deepEqual(s.body, { name: 'l1', client: 'p3', session: 'p3', seq: 1 });
    await c.request({ method: 'POST', path: '/lock/release', body: { name: 'l1' }, session: 'p3' });
    assert.equal(seen.at(-1)!.body!['seq'], 2);
    // Sessions are numbered apart; a session without a body sends just the pair.
    await c.request({ method: 'DELETE', path: '/cache/k1', session: 'p4' });
    assert.deepEqual(seen.at(-1)!.body, { session: 'p4', seq: 1 });
  });

  it('a body that is not JSON: a 2xx is info at once, a 4xx a fail bad-gateway, a 5xx retried as not definite', async () => {
    script = () => ({ status: 200, text: '<html>oops</html>' });
    const c = client();
    const ok = await c.request({ method: 'GET', path: '/cache/k1' });
    assert.equal(ok.outcome, 'info');
    assert.match(ok.outcome === 'info' ? ok.error : '', /^indeterminate: node n[12] answered HTTP 200 with a body that is not JSON$/);
    assert.equal(ok.attempts, 1);
    script = () => ({ status: 400, text: 'bad' });
    const four = await c.request({ method: 'GET', path: '/cache/k1' });
    assert.deepEqual([four.outcome, four.outcome === 'fail' && four.error], ['fail', 'bad-gateway']);
    script = () => ({ status: 502, text: 'proxy error' });
    const five = await c.request({ method: 'GET', path: '/cache/k1' });
    assert.deepEqual([five.outcome, five.outcome === 'info' && five.error], ['info', 'indeterminate: bad-gateway']);
    assert.ok(five.attempts > 1);
  });

  it('an empty 2xx body (204) is ok with body null; JSON that is not an object is wrapped as {value}', async () => {
    script = () => ({ status: 204 });
    const c = client();
    const empty = await c.request({ method: 'POST', path: '/queue/q1/dequeue', body: {}, session: 'p1' });
    assert.deepEqual(empty, { outcome: 'ok', status: 204, body: null, node: seen[0]!.node, attempts: 1 });
    script = () => ({ status: 200, json: [1, 2] });
    const list = await c.request({ method: 'GET', path: '/cache/k1' });
    assert.deepEqual(list.outcome === 'ok' && list.body, { value: [1, 2] });
  });

  it('GET, PUT and DELETE go out as such (a GET without a body); a chosen node gets every attempt', async () => {
    script = (r, n) => (r.method === 'PUT' && n < 3 ? { status: 503, json: { error: 'unavailable', definite: false } } : { status: 200, json: { ok: true } });
    const c = client({ timeoutMs: 2000 });
    const put = await c.request({ method: 'PUT', path: '/cache/k%2F1', body: { value: 'v' }, node: 'n2' });
    assert.deepEqual([put.outcome, put.node, put.attempts], ['ok', 'n2', 3]);
    assert.deepEqual(seen.map((s) => `${s.method} ${s.node} ${s.path}`), ['PUT n2 /cache/k%2F1', 'PUT n2 /cache/k%2F1', 'PUT n2 /cache/k%2F1']);
    await c.request({ method: 'GET', path: '/cache/k1', node: 'n1' });
    await c.request({ method: 'DELETE', path: '/cache/k1', node: 'n1' });
    assert.deepEqual(seen.slice(3).map((s) => [s.method, s.node, s.raw, s.contentType]), [
      ['GET', 'n1', '', undefined],
      ['DELETE', 'n1', '', undefined],
    ]);
    await assert.rejects(c.request({ method: 'GET', path: '/x', node: 'n9' }), /unknown node "n9"/);
    await assert.rejects(c.request({ method: 'GET', path: '/x', body: {} }), /GET \/x takes no body/);
  });

  it('picks nodes with the seeded PRNG: the same seed, the same nodes', async () => {
    script = () => ({ status: 200, json: {} });
    const nodes = async (seed: number): Promise<string[]> => {
      const c = client({ seed }, new Map(['n1', 'n2', 'n3'].map((n) => [n, `${base}/${n}`])));
      const out: string[] = [];
      for (let i = 0; i < 30; i++) out.push((await c.request({ method: 'GET', path: '/health' })).node ?? '');
      return out;
    };
    const a = await nodes(5);
    assert.deepEqual(await nodes(5), a);
    assert.deepEqual(new Set(a), new Set(['n1', 'n2', 'n3']));
    assert.notDeepEqual(await nodes(6), a);
  });

  it('starts no attempt with less than 50 ms left: a shorter op is a fail unavailable without a request', async () => {
    script = () => ({ status: 200, json: {} });
    const r = await client().request({ method: 'POST', path: '/lock/acquire', body: {}, timeoutMs: 40 });
    assert.deepEqual(r, { outcome: 'fail', error: 'unavailable', node: null, attempts: 0 });
    assert.equal(seen.length, 0);
  });

  it('close() ends the client: it takes no more requests', async () => {
    script = () => ({ status: 200, json: {} });
    const c = client();
    assert.equal((await c.request({ method: 'GET', path: '/health' })).outcome, 'ok');
    await c.close();
    await assert.rejects(c.request({ method: 'GET', path: '/health' }), /closed/);
    await c.close();
  });
});
