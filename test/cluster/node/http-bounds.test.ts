/**
 * The node's HTTP bounds on one in-process node with small limits: slow headers, a body that
 * never ends and a silent connection are closed in time, a long poll longer than every timeout
 * is still answered, the connection cap answers 503, and the lock caps answer 429 naming the limit.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startNode, type RunningNode } from '../../../cluster/node/node.js';
import { parseHostPort } from '../../../cluster/node/node.js';
import { eventually } from '../../support/eventually.js';
import { callJson, type JsonReply } from '../../support/http-json.js';

type Reply = JsonReply;

/** A raw connection: what it received and when it closed (ms after it opened). */
interface Raw {
  readonly socket: Socket;
  data: string;
  closedAfterMs: number | undefined;
}

function open(address: string): Promise<Raw> {
  const { host, port } = parseHostPort(address);
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const socket = connect(port, host);
    const raw: Raw = { socket, data: '', closedAfterMs: undefined };
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (raw.data += d));
    socket.on('error', () => undefined);
    socket.on('close', () => (raw.closedAfterMs = performance.now() - t0));
    socket.once('connect', () => resolve(raw));
    socket.once('error', reject);
  });
}

const closed = (raw: Raw, what: string, ms: number): Promise<number> => eventually(what, () => raw.closedAfterMs, ms);

describe('cluster/node: HTTP bounds (one in-process node, small limits)', function () {
  this.timeout(30_000);
  let dir: string;
  let node: RunningNode;
  const raws: Raw[] = [];

  const call = (method: string, path: string, body?: unknown): Promise<Reply> => callJson(node.address, method, path, body, AbortSignal.timeout(10_000));
  const rawOpen = async (): Promise<Raw> => {
    const r = await open(node.address);
    raws.push(r);
    return r;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dsync-bounds-'));
    node = await startNode({
      id: 'n1',
      listen: '127.0.0.1:0',
      peers: new Map([['n1', '127.0.0.1:0']]),
      dataDir: dir,
      log: pino({ level: 'silent' }),
      tickMs: 10,
      insecure: true,
      headerTimeoutMs: 600,
      bodyTimeoutMs: 800,
      idleTimeoutMs: 1500,
      maxConnections: 12,
      maxLocks: 3,
      maxWaitersPerLock: 2,
    });
    await eventually('leader elected', async () => (await call('GET', '/status')).body['role'] === 'leader');
  });
  afterEach(() => {
    for (const r of raws.splice(0)) r.socket.destroy();
  });
  after(async () => {
    await node?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('closes a connection whose headers come a byte at a time (header timeout)', async () => {
    const r = await rawOpen();
    const line = 'GET /health HTTP/1.1\r\nhost: x\r\nx-slow: ' + 'a'.repeat(100);
    let i = 0;
    const drip = setInterval(() => {
      if (i < line.length && r.socket.writable) r.socket.write(line[i++] as string);
    }, 100);
    try {
      const ms = await closed(r, 'slow headers cut', 6000);
      assert.ok(ms < 5000, `closed after ${Math.round(ms)} ms`);
    } finally {
      clearInterval(drip);
    }
  });

  it('answers 408 with a JSON body and closes a request whose chunked body never ends (body timeout)', async () => {
    const r = await rawOpen();
    r.socket.write('POST /lock/acquire HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n1\r\n{\r\n');
    const drip = setInterval(() => r.socket.writable && r.socket.write('1\r\n \r\n'), 100);
    try {
      const ms = await closed(r, 'endless body cut', 6000);
      assert.ok(ms < 5000, `closed after ${Math.round(ms)} ms`);
      assert.match(r.data, /^HTTP\/1\.1 408/);
      assert.match(r.data, /"error":"request-timeout"/);
    } finally {
      clearInterval(drip);
    }
  });

  it('closes a connection that sends nothing (header or idle timeout)', async () => {
    const r = await rawOpen();
    const ms = await closed(r, 'silent connection cut', 6000);
    assert.ok(ms < 5000, `closed after ${Math.round(ms)} ms`);
  });

  it('answers CONNECT with 405 and a JSON body instead of closing the socket without a word', async () => {
    const r = await rawOpen();
    r.socket.write('CONNECT evil.example:443 HTTP/1.1\r\nhost: evil.example:443\r\n\r\n');
    await closed(r, 'CONNECT answered and closed', 5000);
    assert.match(r.data, /^HTTP\/1\.1 405/);
    assert.match(r.data, /"error":"method-not-allowed"/);
  });

  it('answers a long poll that waits longer than every timeout', async () => {
    const g = await call('POST', '/lock/acquire', { name: 'lp', client: 'h', ttlMs: 60_000 });
    assert.equal(g.status, 200);
    const t0 = performance.now();
    const w = await call('POST', '/lock/acquire', { name: 'lp', client: 'w', waitMs: 2500 });
    assert.equal(w.status, 409, JSON.stringify(w.body));
    assert.equal(w.body['error'], 'timeout');
    assert.ok(performance.now() - t0 >= 2400);
    assert.equal((await call('POST', '/lock/release', { name: 'lp', client: 'h', token: g.body['token'], secret: g.body['secret'] })).status, 200);
  });

  it('answers 503 with a JSON body past the connection cap, and serves again when connections close', async () => {
    for (let i = 0; i < 14; i++) await rawOpen();
    const refused = await eventually('a connection refused', () => raws.find((r) => r.data.startsWith('HTTP/1.1 503')), 5000);
    const body = JSON.parse(refused.data.slice(refused.data.indexOf('\r\n\r\n') + 4)) as Record<string, unknown>;
    assert.equal(body['error'], 'unavailable');
    assert.match(String(body['message']), /too many open connections \(the limit is 12/);
    for (const r of raws.splice(0)) r.socket.destroy();
    await eventually('served again', async () => (await call('GET', '/health').catch(() => ({ status: 0 }))).status === 200, 5000);
  });

  it('answers 429 naming the limit past --max-locks and --max-waiters-per-lock', async () => {
    const tokens = new Map<string, [unknown, unknown]>();
    for (const name of ['m1', 'm2', 'm3']) {
      const g = await call('POST', '/lock/acquire', { name, client: 'h', ttlMs: 60_000 });
      assert.equal(g.status, 200, JSON.stringify(g.body));
      tokens.set(name, [g.body['token'], g.body['secret']]);
    }
    const over = await call('POST', '/lock/acquire', { name: 'm4', client: 'h' });
    assert.equal(over.status, 429);
    assert.equal(over.body['error'], 'limit-exceeded');
    assert.equal(over.body['limit'], 'max-locks');
    assert.equal(over.body['max'], 3);
    // An existing lock is no new one: the usual conflict.
    assert.equal((await call('POST', '/lock/acquire', { name: 'm1', client: 'x' })).status, 409);
    const waiting = [call('POST', '/lock/acquire', { name: 'm1', client: 'w1', waitMs: 5000 }), call('POST', '/lock/acquire', { name: 'm1', client: 'w2', waitMs: 5000 })];
    await eventually('two waiters queued', async () => ((await call('GET', '/lock/m1')).body['waiters'] as unknown[]).length === 2);
    const third = await call('POST', '/lock/acquire', { name: 'm1', client: 'w3', waitMs: 5000 });
    assert.equal(third.status, 429);
    assert.equal(third.body['limit'], 'max-waiters-per-lock');
    assert.match(String(third.body['message']), /--max-waiters-per-lock/);
    for (const [name, [token, secret]] of tokens) assert.equal((await call('POST', '/lock/release', { name, client: 'h', token, secret })).status, 200);
    // The first waiter gets m1; the second waits behind it until its waitMs ends.
    const [first] = await Promise.all(waiting);
    assert.equal(first?.status, 200, JSON.stringify(first?.body));
  });
});
