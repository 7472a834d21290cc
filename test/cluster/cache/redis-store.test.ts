import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_KEY_PREFIX, RedisStore, type RedisStoreOptions } from '../../../cluster/cache/redis-store.js';
import { StaleEpochError } from '../../../cluster/cache/home-map.js';
import { freePorts } from '../../../cluster/local/node-process.js';
import { startRedisServer, type RedisServer } from '../../../harness/redis-server.js';

/** How long `p` took to settle, and how; fails naming `what` if it has not settled within `ms` (a hang). */
async function timed(what: string, p: Promise<unknown>, ms: number): Promise<{ ms: number; error: Error | null }> {
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: still pending after ${ms} ms`)), ms)));
  try {
    const error = await Promise.race([p.then(() => null, (e: Error) => e), hang]);
    return { ms: performance.now() - t0, error };
  } finally {
    clearTimeout(timer);
  }
}

// Needs redis-server on PATH: without it `before` fails, naming what to install (CI installs it).
describe('RedisStore', function () {
  this.timeout(30_000);
  let base: string;
  let server: RedisServer | undefined;
  const opened: RedisStore[] = [];
  const lines: string[] = [];
  const connect = async (options: RedisStoreOptions = {}, url = server?.url ?? ''): Promise<RedisStore> => {
    const s = await RedisStore.connect(url, { log: (l) => lines.push(l), ...options });
    opened.push(s);
    return s;
  };

  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'redis-store-'));
    server = await startRedisServer({ dir: join(base, 'server') });
  });
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close();
    lines.length = 0;
  });
  after(async () => {
    await server?.stop();
    await rm(base, { recursive: true, force: true });
  });

  it('put, get and delete round trip, under the default key prefix; the counters follow', async () => {
    const s = await connect();
    const raw = await connect({ keyPrefix: '' });
    assert.equal(s.kind, 'redis');
    assert.equal(await s.get('k'), null);
    const json = JSON.stringify({ v: 1, text: 'ünïcödé 😀', nested: [1, { two: 2 }] });
    await s.put('k', json);
    assert.equal(await s.get('k'), json);
    assert.equal(await raw.get(`${DEFAULT_KEY_PREFIX}k`), json, 'stored as dsync:cache:k');
    await s.put('k', '');
    assert.equal(await s.get('k'), '', 'an empty value is a value');
    const big = 'x'.repeat(1024 * 1024);
    await s.put('k'.repeat(1024), big);
    assert.equal(await s.get('k'.repeat(1024)), big);
    await s.delete('k');
    await s.delete('never-there');
    assert.equal(await s.get('k'), null);
    assert.deepEqual(s.stats(), { gets: 5, puts: 3, deletes: 2, errors: 0, fsyncs: 0 });
  });

  it('stores with different key prefixes do not see each other', async () => {
    const a = await connect({ keyPrefix: 'test-a:' });
    const b = await connect({ keyPrefix: 'test-b:' });
    const d = await connect();
    const raw = await connect({ keyPrefix: '' });
    await a.put('k', 'A');
    await b.put('k', 'B');
    assert.deepEqual([await a.get('k'), await b.get('k'), await d.get('k')], ['A', 'B', null]);
    assert.deepEqual([await raw.get('test-a:k'), await raw.get('test-b:k')], ['A', 'B']);
    await a.delete('k');
    assert.deepEqual([await a.get('k'), await b.get('k')], [null, 'B']);
  });

  it('fencing: the home map is swapped only from the epoch it is at; a call at an older epoch does nothing and names the map', async () => {
    const s = await connect({ keyPrefix: 'fence-test:' });
    const f = s.fencing;
    assert.deepEqual(await f.read(), { epoch: 0, down: [] });
    await f.put(0, 'k', 'v0');
    assert.equal(await f.get(0, 'k'), 'v0');
    assert.equal(await s.get('k'), 'v0', 'the same key as the plain calls');
    assert.deepEqual(await f.swap(0, ['c', 'a']), { epoch: 1, down: ['a', 'c'] });
    assert.equal(await f.swap(0, []), null, 'a swap from an old epoch is refused');
    assert.deepEqual(await f.read(), { epoch: 1, down: ['a', 'c'] });
    for (const call of [() => f.put(0, 'k', 'stale'), () => f.get(0, 'k'), () => f.delete(0, 'k'), () => f.check(0)]) {
      await assert.rejects(call(), (e: Error) => e instanceof StaleEpochError && e.current.epoch === 1 && e.current.down.join() === 'a,c');
    }
    assert.equal(await f.get(1, 'k'), 'v0', 'the fenced put and delete did nothing');
    await f.check(1);
    await f.delete(1, 'k');
    assert.equal(await f.get(1, 'k'), null);
    await assert.rejects(f.put(1, '', 'v'), (e: Error) => e instanceof RangeError && /^put: key must not be empty/.test(e.message));
    // A server that lost its scripts (restarted, SCRIPT FLUSH): loaded again.
    const { Redis } = await import('ioredis');
    const admin = new Redis(server?.url ?? '');
    try {
      await admin.script('FLUSH');
      assert.deepEqual(await f.read(), { epoch: 1, down: ['a', 'c'] });
      // The map is a hash at the prefix itself, beside the values.
      assert.deepEqual(await admin.hgetall('fence-test:'), { epoch: '1', down: '["a","c"]' });
    } finally {
      admin.disconnect();
    }
  });

  it('rejects bad arguments and options, naming the field', async () => {
    const s = await connect({ maxValueBytes: 8 });
    await assert.rejects(s.put('', 'v'), (e: Error) => e instanceof RangeError && /^put: key must not be empty/.test(e.message));
    await assert.rejects(s.get('k'.repeat(1025)), (e: Error) => e instanceof RangeError && /^get: key must be at most 1024 UTF-8 bytes/.test(e.message));
    await assert.rejects(s.put('k', '123456789'), (e: Error) => e instanceof RangeError && /^put: value must be at most 8 UTF-8 bytes \(maxValueBytes\), got 9/.test(e.message));
    await assert.rejects(s.delete(undefined as unknown as string), (e: Error) => e instanceof TypeError && /^delete: key must be a string/.test(e.message));
    assert.equal(s.stats().errors, 4);
    await assert.rejects(RedisStore.connect('http://127.0.0.1:6379'), (e: Error) => e instanceof TypeError && /^url must be a redis:\/\/ or rediss:\/\/ URL, got "http/.test(e.message));
    await assert.rejects(RedisStore.connect('not a url'), TypeError);
    await assert.rejects(RedisStore.connect(server?.url ?? '', { connectTimeoutMs: 0 }), (e: Error) => e instanceof RangeError && /^connectTimeoutMs must be an integer >= 1, got 0/.test(e.message));
  });

  it('connect to a port nobody listens on fails within a few seconds, naming the URL', async () => {
    const [port] = await freePorts(1);
    const url = `redis://127.0.0.1:${port}`;
    const { ms, error } = await timed('connect', RedisStore.connect(url, { connectTimeoutMs: 3000 }), 10_000);
    assert.ok(error !== null, 'connect must fail');
    assert.match(error.message, new RegExp(`^redis store ${url}/?: cannot connect: .*ECONNREFUSED`));
    assert.ok(ms < 4000, `failed after ${Math.round(ms)} ms`);
  });

  it('connect to a server that accepts but never answers fails after connectTimeoutMs, naming the URL (password masked)', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((sock) => sockets.add(sock));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const address = silent.address();
      assert.ok(address !== null && typeof address === 'object');
      const { ms, error } = await timed('connect', RedisStore.connect(`redis://:secret@127.0.0.1:${address.port}`, { connectTimeoutMs: 500 }), 10_000);
      assert.ok(error !== null, 'connect must fail');
      assert.match(error.message, new RegExp(`^redis store redis://:\\*\\*\\*@127\\.0\\.0\\.1:${address.port}/?: cannot connect: no answer to PING within 500 ms`));
      assert.ok(!error.message.includes('secret'));
      assert.ok(ms >= 450 && ms < 3000, `failed after ${Math.round(ms)} ms`);
    } finally {
      for (const sock of sockets) sock.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('a server killed mid-test makes calls reject within the command timeout, not hang; the outage is logged once', async () => {
    const doomed = await startRedisServer({ dir: join(base, 'doomed') });
    try {
      const s = await connect({ commandTimeoutMs: 3000 }, doomed.url);
      await s.put('k', 'v');
      assert.equal(await s.get('k'), 'v');
      await doomed.kill();
      const calls: [string, () => Promise<unknown>][] = [
        ['put', () => s.put('k', 'w')],
        ['get', () => s.get('k')],
        ['delete', () => s.delete('k')],
      ];
      for (const [op, call] of calls) {
        const { ms, error } = await timed(op, call(), 10_000);
        assert.ok(error !== null, `${op} must reject once the server is gone`);
        assert.match(error.message, new RegExp(`^redis store ${doomed.url}/?: ${op} failed: `));
        assert.ok(ms < 3500, `${op} rejected after ${Math.round(ms)} ms`);
      }
      assert.deepEqual(s.stats(), { gets: 1, puts: 1, deletes: 0, errors: 3, fsyncs: 0 });
      assert.equal(lines.filter((l) => l.includes('reconnecting')).length, 1, lines.join('\n'));
      assert.match(lines[0] as string, new RegExp(`^redis store ${doomed.url}/?: .*; reconnecting$`));
      const closing = await timed('close', s.close(), 10_000);
      assert.equal(closing.error, null);
      await assert.rejects(s.get('k'), /get after close/);
    } finally {
      await doomed.stop();
    }
  });
});
