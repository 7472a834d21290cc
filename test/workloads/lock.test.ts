/**
 * The lock workload: its pure generator (release after one's own grant, shared share, seeds) and
 * its client against a scripted HTTP server (ok / fail / info, exactly-once retries).
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Op } from '../../checkers/history/op.js';
import type { GenContext, Generator } from '../../harness/generator/generator.js';
import { LockClient, lockGenerator, lockWorkload, lockWorkloadDefinition, lockWorkloadSchema, resolveLockTtl } from '../../workloads/lock.js';

const options = (o: Record<string, unknown> = {}) => lockWorkloadSchema.parse({ name: 'lock', ...o });
/** Options without reads and renewals: acquire, release, acquire, ... */
const plain = (o: Record<string, unknown> = {}) => options({ readFraction: 0, renewFraction: 0, ...o });
const ctx = (free: (number | string)[], time = 0): GenContext => ({ time, free, processes: free });

let index = 0;
const event = (type: Op['type'], f: string, value: unknown, process: number): Op => ({ index: index++, type, f, value, process, time: 0 });

/** Draws `n` ops from a generator for process 0, completing each as `complete` says. */
function drive(gen: Generator, n: number, complete: (op: { f: string; value: unknown }) => Op): { f: string; value: unknown }[] {
  const out: { f: string; value: unknown }[] = [];
  let g = gen;
  for (let i = 0; i < n; i++) {
    const r = g.op(ctx([0]));
    assert.ok(r !== null && r !== 'pending');
    out.push({ f: r.op.f, value: r.op.value });
    g = r.gen.update(ctx([]), event('invoke', r.op.f, r.op.value, 0));
    g = g.update(ctx([0]), complete(r.op));
  }
  return out;
}

describe('workloads/lock: generator', () => {
  it('a process that got a grant releases that lock with its token next; a failed acquire is not followed by a release', () => {
    let token = 10;
    const ops = drive(lockGenerator(plain(), 1), 40, (op) => {
      const [k] = op.value as [string];
      if (op.f === 'release') return event('ok', 'release', op.value, 0);
      // Every other acquire is refused.
      return token++ % 2 === 0 ? event('ok', op.f, [k, token], 0) : event('fail', op.f, [k, null], 0);
    });
    for (let i = 0; i + 1 < ops.length; i++) {
      const op = ops[i]!;
      const next = ops[i + 1]!;
      if (op.f === 'release') continue;
      assert.match(op.f, /^acquire/);
      assert.equal((op.value as unknown[])[1], null, 'acquires carry no token');
    }
    const releases = ops.filter((o) => o.f === 'release');
    assert.ok(releases.length >= 10, `expected releases, got ${releases.length}`);
    // Each release names the key and token of the grant just before it.
    for (let i = 1; i < ops.length; i++) {
      if (ops[i]!.f !== 'release') continue;
      assert.match(ops[i - 1]!.f, /^acquire/);
      assert.equal((ops[i]!.value as unknown[])[0], (ops[i - 1]!.value as unknown[])[0]);
    }
  });

  it('an info retires the process: its successor acquires instead of releasing', () => {
    let g = lockGenerator(plain(), 2);
    const r = g.op(ctx([0]));
    assert.ok(r && r !== 'pending');
    g = r.gen.update(ctx([]), event('ok', 'acquire', ['l1', 5], 0));
    const before = g.op(ctx([0]));
    assert.ok(before && before !== 'pending');
    assert.equal(before.op.f, 'release');
    g = g.update(ctx([]), event('info', 'acquire', ['l1', null], 0));
    const after = g.op(ctx([0]));
    assert.ok(after && after !== 'pending');
    assert.match(after.op.f, /^acquire/);
  });

  it('sharedFraction sets the share of acquire-shared; the same seed gives the same ops, another seed others', () => {
    const fail = (op: { f: string; value: unknown }): Op => event('fail', op.f, op.value, 0);
    const a = drive(lockGenerator(plain({ sharedFraction: 0.3, keys: { count: 20 } }), 7), 2000, fail);
    const shared = a.filter((o) => o.f === 'acquire-shared').length / a.length;
    assert.ok(Math.abs(shared - 0.3) < 0.04, `shared share ${shared}`);
    const b = drive(lockGenerator(plain({ sharedFraction: 0.3, keys: { count: 20 } }), 7), 2000, fail);
    assert.deepEqual(a, b);
    const c = drive(lockGenerator(plain({ sharedFraction: 0.3, keys: { count: 20 } }), 8), 2000, fail);
    assert.notDeepEqual(a, c);
    assert.equal(new Set(a.map((o) => (o.value as unknown[])[0])).size, 20);
  });

  it('readFraction of ops are reads of random keys; a holder renews (renewFraction) with its token or releases', () => {
    let token = 100;
    const ops = drive(lockGenerator(options({ readFraction: 0.25, renewFraction: 0.3, keys: { count: 5 } }), 3), 4000, (op) => {
      const [k] = op.value as [string];
      if (op.f === 'read') return event('ok', 'read', [k, []], 0);
      if (op.f === 'release' || op.f === 'renew') return event('ok', op.f, op.value, 0);
      return event('ok', op.f, [k, ++token], 0);
    });
    const share = (f: string) => ops.filter((o) => o.f === f).length / ops.length;
    assert.ok(Math.abs(share('read') - 0.25) < 0.03, `read share ${share('read')}`);
    assert.ok(ops.filter((o) => o.f === 'read').every((o) => (o.value as unknown[])[1] === null), 'reads carry no value');
    // Among a holder's non-read ops, about 30 % renew; each names the grant's key and token.
    const holderOps = ops.filter((o) => o.f === 'renew' || o.f === 'release');
    const renews = holderOps.filter((o) => o.f === 'renew').length / holderOps.length;
    assert.ok(Math.abs(renews - 0.3) < 0.04, `renew share ${renews}`);
    let held: unknown;
    for (const o of ops) {
      if (o.f.startsWith('acquire')) held = (o.value as unknown[])[0];
      if (o.f === 'renew' || o.f === 'release') assert.equal((o.value as unknown[])[0], held, `${o.f} of a lock not held`);
      if (o.f === 'release') held = undefined;
    }
  });

  it('is pending without a free client process (the nemesis thread does not count)', () => {
    assert.equal(lockGenerator(options(), 1).op(ctx(['nemesis'])), 'pending');
  });
});

describe('workloads/lock: lease TTL', () => {
  it('defaults to longer than the run, and refuses a TTL that could expire during it', () => {
    assert.equal(resolveLockTtl(options(), 25), 85_000);
    assert.equal(resolveLockTtl(options({ ttlMs: 100_000 }), 25), 100_000);
    assert.throws(() => resolveLockTtl(options({ ttlMs: 5000 }), 25), /workload\.ttlMs: 5000 ms would let leases expire/);
  });

  it('the registry entry refuses the same TTL at load time, as an issue on the ttlMs field', () => {
    const facts = { runS: 25, finalPhaseS: 5, nodes: 3, seed: 1 };
    assert.deepEqual(lockWorkloadDefinition.validate({ name: 'lock', ttlMs: 85_000 }, facts), []);
    assert.deepEqual(lockWorkloadDefinition.validate({ name: 'lock' }, facts), []);
    assert.deepEqual(lockWorkloadDefinition.validate({ name: 'lock', ttlMs: 1500, leases: {} }, facts), []);
    const issues = lockWorkloadDefinition.validate({ name: 'lock', ttlMs: 84_999 }, facts);
    assert.equal(issues.length, 1);
    assert.deepEqual(issues[0]?.path, ['ttlMs']);
    assert.match(issues[0]?.message ?? '', /^84999 ms would let leases expire during the run \(it lasts up to 25 s; at least 85000 ms is needed\)/);
  });

  it('with leases, may be short (default 2000 ms), and the history is checked with lease-lock', () => {
    assert.equal(resolveLockTtl(options({ ttlMs: 1500, leases: {} }), 25), 1500);
    assert.equal(resolveLockTtl(options({ leases: {} }), 25), 2000);
    const w = lockWorkload(options({ ttlMs: 1500, leases: { driftBound: 0.05 } }), { endpoints: new Map([['n1', 'http://127.0.0.1:1']]), runS: 25, seed: 1 });
    try {
      assert.match(w.describe, /leases of 1500 ms that expire, checked with lease-lock \(drift 0\.05, no upper bound on expiry\); 20 % of holders keep the lock 3000 ms/);
      // An early conflicting grant (250 ms into a 1500 ms lease) is invalid; one after the lease is not.
      const at = (second: number): Op[] => [
        { index: 0, type: 'invoke', f: 'acquire', value: ['l1', null], process: 0, time: 0 },
        { index: 1, type: 'ok', f: 'acquire', value: ['l1', 1], process: 0, time: 10e6 },
        { index: 2, type: 'invoke', f: 'acquire', value: ['l1', null], process: 1, time: second * 1e9 },
        { index: 3, type: 'ok', f: 'acquire', value: ['l1', 2], process: 1, time: second * 1e9 + 10e6 },
      ];
      assert.equal(w.checker.check(at(0.25), { timeoutMs: 10_000 }).valid, false);
      assert.equal(w.checker.check(at(1.5), { timeoutMs: 10_000 }).valid, true);
    } finally {
      void w.client.close();
    }
    assert.throws(() => options({ leases: { driftBound: 0.9 } }), /driftBound/);
  });
});

describe('workloads/lock: generator with leases', () => {
  it('a holder chosen to keep its lock is not asked to release before holdMs has passed', () => {
    let g = lockGenerator(options({ ttlMs: 1000, leases: { holdFraction: 1, holdMs: 2500 } }), 3);
    const r = g.op(ctx([0], 0));
    assert.ok(r && r !== 'pending');
    g = r.gen.update(ctx([], 1e9), event('ok', r.op.f, ['l1', 5], 0));
    assert.equal(g.op(ctx([0], 3.4e9)), 'pending');
    // Another process goes on meanwhile.
    const other = g.op(ctx([0, 1], 3.4e9));
    assert.ok(other && other !== 'pending');
    assert.equal(other.op.process, 1);
    const late = g.op(ctx([0], 3.5e9));
    assert.ok(late && late !== 'pending');
    assert.deepEqual([late.op.f, late.op.value], ['release', ['l1', 5]]);
  });

  it('with holdFraction 0 releases on the next op, as without leases', () => {
    let g = lockGenerator(plain({ leases: { holdFraction: 0 } }), 3);
    const r = g.op(ctx([0]));
    assert.ok(r && r !== 'pending');
    g = r.gen.update(ctx([]), event('ok', r.op.f, ['l1', 5], 0));
    const next = g.op(ctx([0]));
    assert.ok(next && next !== 'pending');
    assert.equal(next.op.f, 'release');
  });
});

type Script = (body: Record<string, unknown>, n: number) => { status: number; body: unknown } | 'hang';

describe('workloads/lock: client', function () {
  this.timeout(10_000);
  let server: Server;
  let base: string;
  let script: Script;
  let seen: Record<string, unknown>[];
  const hung = new Set<ServerResponse>();

  before(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        const body = (raw === '' ? {} : JSON.parse(raw)) as Record<string, unknown>;
        seen.push({ ...body, path: req.url });
        const r = script(body, seen.length);
        if (r === 'hang') {
          hung.add(res);
          return;
        }
        res.writeHead(r.status, { 'content-type': 'application/json' }).end(JSON.stringify(r.body));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  beforeEach(() => (seen = []));
  after(async () => {
    for (const res of hung) res.destroy();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const client = (o: Record<string, unknown> = {}) => new LockClient(new Map([['n1', base], ['n2', base]]), options({ opTimeoutMs: 600, attemptTimeoutMs: 150, ...o }), 60_000, 1);
  const invoke = (c: LockClient, f: string, value: unknown, process = 3) => c.invoke({ index: 0, type: 'invoke', f, value, process, time: 0 });

  it('a grant is ok with its token; the request carries mode, TTL and the process\'s session', async () => {
    script = () => ({ status: 200, body: { name: 'l1', mode: 'shared', token: 17 } });
    const c = client();
    const r = await invoke(c, 'acquire-shared', ['l1', null]);
    assert.deepEqual({ type: r.type, value: r.value }, { type: 'ok', value: ['l1', 17] });
    assert.equal(seen[0]!['mode'], 'shared');
    assert.equal(seen[0]!['ttlMs'], 60_000);
    assert.equal(seen[0]!['client'], 'p3');
    assert.equal(seen[0]!['session'], 'p3');
    assert.equal(seen[0]!['seq'], 1);
    await c.close();
  });

  it('a 409 is a definite fail naming the error; a release sends its token', async () => {
    script = () => ({ status: 409, body: { error: 'not-held', message: 'x' } });
    const c = client();
    const r = await invoke(c, 'release', ['l2', 9]);
    assert.deepEqual({ type: r.type, value: r.value, error: r.error }, { type: 'fail', value: ['l2', 9], error: 'not-held' });
    assert.equal(seen[0]!['path'], '/lock/release');
    assert.equal(seen[0]!['token'], 9);
    await c.close();
  });

  it('retries a non-definite 503 with the same session and seq, and takes the later answer', async () => {
    script = (_b, n) => (n < 3 ? { status: 503, body: { error: 'unavailable', definite: false } } : { status: 200, body: { token: 4 } });
    const c = client();
    const r = await invoke(c, 'acquire', ['l1', null]);
    assert.equal(r.type, 'ok');
    assert.equal(seen.length, 3);
    assert.deepEqual(new Set(seen.map((s) => `${s['session']}/${s['seq']}`)), new Set(['p3/1']));
    // The next op of the process has the next seq.
    await invoke(c, 'release', ['l1', 4]);
    assert.equal(seen.at(-1)!['seq'], 2);
    await c.close();
  });

  it('a read is a GET of the lock; its holders become sorted [process token] pairs', async () => {
    script = () => ({ status: 200, body: { name: 'l 1', mode: 'shared', holders: [{ client: 'p12', token: 9, expiresAt: 1 }, { client: 'p3', token: 11, expiresAt: 2 }, { client: 'x', token: 4, expiresAt: 2 }], waiters: [] } });
    const c = client();
    const r = await invoke(c, 'read', ['l 1', null]);
    assert.deepEqual({ type: r.type, value: r.value }, { type: 'ok', value: ['l 1', [[3, 11], [12, 9], ['x', 4]]] });
    assert.equal(seen[0]!['path'], '/lock/l%201');
    assert.equal(seen[0]!['session'], undefined, 'reads need no session');
    script = () => ({ status: 200, body: { name: 'l1', mode: null, holders: [], waiters: [] } });
    assert.deepEqual((await invoke(c, 'read', ['l1', null])).value, ['l1', []]);
    await c.close();
  });

  it('release and renew send the secret their grant was answered with; the history never holds it', async () => {
    script = (b) => (b['token'] === undefined ? { status: 200, body: { name: 'l1', mode: 'exclusive', token: 21, secret: 's3cr3t' } } : { status: 200, body: { ok: true } });
    const c = client();
    const g = await invoke(c, 'acquire', ['l1', null]);
    assert.deepEqual(g.value, ['l1', 21]);
    assert.doesNotMatch(JSON.stringify(g), /s3cr3t/);
    await invoke(c, 'renew', ['l1', 21]);
    await invoke(c, 'release', ['l1', 21]);
    assert.deepEqual(seen.map((x) => [x['path'], x['secret']]), [['/lock/acquire', undefined], ['/lock/renew', 's3cr3t'], ['/lock/release', 's3cr3t']]);
    await invoke(c, 'release', ['l1', 21]);
    assert.equal(seen.at(-1)!['secret'], undefined, 'forgotten once released');
    await c.close();
  });

  it('a renewal sends the token and TTL in the session; ok keeps the token', async () => {
    script = () => ({ status: 200, body: {} });
    const c = client();
    const r = await invoke(c, 'renew', ['l1', 7]);
    assert.deepEqual({ type: r.type, value: r.value }, { type: 'ok', value: ['l1', 7] });
    assert.deepEqual([seen[0]!['path'], seen[0]!['token'], seen[0]!['ttlMs'], seen[0]!['session']], ['/lock/renew', 7, 60_000, 'p3']);
    await c.close();
  });

  it('only definite 503s until the deadline → fail; a timed-out attempt makes it info', async () => {
    script = () => ({ status: 503, body: { error: 'unavailable', definite: true } });
    const c = client();
    const definite = await invoke(c, 'acquire', ['l1', null]);
    assert.equal(definite.type, 'fail');
    assert.ok(seen.length > 1, 'retried');
    script = (_b, n) => (n === 1 ? 'hang' : { status: 503, body: { error: 'unavailable', definite: true } });
    seen = [];
    const unknown = await invoke(c, 'acquire', ['l1', null], 4);
    assert.equal(unknown.type, 'info');
    assert.match(String(unknown.error), /^indeterminate/);
    await c.close();
  });
});
