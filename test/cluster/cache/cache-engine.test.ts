import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { CacheFailure } from '../../../cluster/cache/cache-engine.js';
import { setFailpointsForTest } from '../../../cluster/failpoints.js';
import { sampleViolations, findLostWrites, withoutOps } from '../../../checkers/cache.js';
import { linearizableChecker, type Op } from '../../../checkers/index.js';
import { CacheSim, MemoryStore } from './cache-sim.js';

const members = ['a', 'b', 'c'];
/** The home of `h:k` is `h` (tests pick homes by name). */
const homeOf = (key: string): string => key.split(':')[0] as string;
const v = (x: unknown): string => JSON.stringify(x);

/** Awaits `p` and returns the CacheFailure it rejects with (fails if it resolves). */
async function failure(p: Promise<unknown>): Promise<CacheFailure> {
  try {
    await p;
  } catch (e) {
    if (e instanceof CacheFailure) return e;
    throw e;
  }
  assert.fail('expected a CacheFailure');
}

describe('cluster/cache/cache-engine', () => {
  let sim: CacheSim;
  afterEach(async () => {
    setFailpointsForTest([]);
    await sim.close();
  });

  it('read miss → Exclusive from the store; a read elsewhere downgrades it: both Shared; then hits', async () => {
    sim = new CacheSim(members, homeOf);
    await sim.store.put('c:k', v(1));
    const first = await sim.node('a').read('c:k');
    assert.deepEqual(first, { value: v(1), state: 'E', hit: false });
    assert.deepEqual(await sim.node('a').read('c:k'), { value: v(1), state: 'E', hit: true });
    assert.deepEqual(await sim.node('b').read('c:k'), { value: v(1), state: 'S', hit: false });
    assert.equal(sim.node('a').lines.peek('c:k')?.state, 'S', 'the exclusive holder was downgraded');
    assert.deepEqual(await sim.node('a').read('c:k'), { value: v(1), state: 'S', hit: true });
    const s = await sim.node('b').sample('c:k');
    assert.deepEqual(s.directory.map((d) => [d.node, d.state]).sort(), [['a', 'S'], ['b', 'S']]);
    assert.deepEqual(s.lines.map((l) => [l.node, l.state]), [['a', 'S'], ['b', 'S'], ['c', 'I']]);
    assert.equal(s.stored, v(1));
    assert.equal(sim.node('c').counters.downgrades, 1);
    assert.equal(sim.node('a').counters.hits, 2);
  });

  it('a write invalidates every other copy before the writer holds it Modified; write-through reaches the store first', async () => {
    sim = new CacheSim(members, homeOf);
    await sim.store.put('a:k', v('old'));
    for (const n of members) await sim.node(n).read('a:k');
    await sim.node('b').write('a:k', v('new'));
    assert.equal(await sim.store.get('a:k'), v('new'));
    assert.equal(sim.node('a').lines.peek('a:k'), undefined);
    assert.equal(sim.node('c').lines.peek('a:k'), undefined);
    assert.equal(sim.node('b').lines.peek('a:k')?.state, 'M');
    assert.equal(sim.node('a').counters.invalidationsSent, 2);
    assert.deepEqual(await sim.node('c').read('a:k'), { value: v('new'), state: 'S', hit: false });
    assert.equal(sim.node('b').lines.peek('a:k')?.state, 'S');
  });

  it('delete invalidates everywhere and removes the value from the store', async () => {
    sim = new CacheSim(members, homeOf);
    await sim.node('a').write('b:k', v(7));
    await sim.node('c').read('b:k');
    await sim.node('c').delete('b:k');
    assert.equal(await sim.store.get('b:k'), null);
    for (const n of members) assert.equal(sim.node(n).lines.peek('b:k'), undefined, n);
    assert.deepEqual(await sim.node('a').read('b:k'), { value: null, state: 'E', hit: false });
  });

  it('write-back: a write to an Exclusive line is done in place; the store gets it when another node reads (downgrade)', async () => {
    const store = new MemoryStore();
    sim = new CacheSim(members, homeOf, { policy: 'write-back', store, leaseMs: 5000 });
    await sim.node('a').write('c:k', v(1));
    assert.equal(await store.get('c:k'), null, 'write-back: not in the store yet');
    const before = sim.calls.length;
    await sim.node('a').write('c:k', v(2));
    assert.equal(sim.calls.length, before, 'a write to a Modified line sends nothing');
    assert.equal(sim.node('a').counters.localWrites, 1);
    assert.deepEqual(await sim.node('b').read('c:k'), { value: v(2), state: 'S', hit: false });
    assert.equal(await store.get('c:k'), v(2), 'the dirty value was written back by the downgrade');
    assert.equal(sim.node('c').counters.writebacks, 1);
  });

  it('write-back loses what a crashed Modified holder had not written back (the policy’s price)', async () => {
    const store = new MemoryStore();
    sim = new CacheSim(members, homeOf, { policy: 'write-back', store, leaseMs: 200 });
    await sim.node('a').write('c:k', v(1)); // acknowledged, only in a's line
    sim.start('a', members, homeOf, { policy: 'write-back', leaseMs: 200 }); // kill -9 and restart: lines gone
    // (a answers that it holds no line: it stays listed, Shared, until its lease is over — a grant could be on its way.)
    assert.deepEqual(await sim.node('b').read('c:k'), { value: null, state: 'S', hit: false });
  });

  it('write-back: an evicted Modified line is written back', async () => {
    sim = new CacheSim(members, homeOf, { policy: 'write-back', maxEntries: 2, leaseMs: 5000 });
    await sim.node('a').write('b:1', v(1));
    await sim.node('a').write('b:2', v(2));
    await sim.node('a').write('b:3', v(3)); // evicts b:1
    const deadline = performance.now() + 2000;
    while ((await sim.store.get('b:1')) === null && performance.now() < deadline) await new Promise((r) => setImmediate(r));
    assert.equal(await sim.store.get('b:1'), v(1));
    assert.equal(sim.node('a').counters.evictions, 1);
    assert.deepEqual((await sim.node('c').sample('b:1')).directory, [], 'the home no longer lists a holder');
  });

  it('write-back: a dirty line whose lease is running out is written back and renewed, not lost', async () => {
    sim = new CacheSim(members, homeOf, { policy: 'write-back', leaseMs: 100 });
    await sim.node('a').write('b:k', v(1));
    const deadline = performance.now() + 3000;
    while ((await sim.store.get('b:k')) === null && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(await sim.store.get('b:k'), v(1));
    const line = sim.node('a').lines.peek('b:k');
    assert.equal(line?.dirty, false);
    assert.equal(line?.state, 'E');
  });

  it('a home that cannot reach a holder waits until its lease is surely over; the holder stops serving by then', async () => {
    sim = new CacheSim(members, homeOf, { leaseMs: 300 });
    await sim.store.put('c:k', v('old'));
    await sim.node('a').read('c:k');
    const aLine = sim.node('a').lines.peek('c:k');
    assert.ok(aLine);
    sim.isolate('a', 'drop');
    await sim.node('b').write('c:k', v('new'));
    const written = performance.now();
    assert.ok(written >= aLine.leaseUntil, `the write finished ${Math.round(aLine.leaseUntil - written)} ms before a's lease ended`);
    assert.equal(sim.node('c').counters.leaseWaits, 1);
    // a's lease is over: it does not serve the old value; its home is out of reach.
    const f = await failure(sim.node('a').read('c:k'));
    assert.equal(f.reply.status, 503);
    assert.equal(sim.node('a').counters.leaseExpiries, 1);
    sim.heal();
    // (b's Modified lease ran out while a's read waited for its timeout: a gets it Exclusive.)
    assert.deepEqual(await sim.node('a').read('c:k'), { value: v('new'), state: 'E', hit: false });
  });

  it('FAILPOINT cache.skip-invalidation-acks: a cut-off holder serves the old value after the write was acknowledged', async () => {
    sim = new CacheSim(members, homeOf, { leaseMs: 2000 });
    await sim.store.put('c:k', v('old'));
    await sim.node('a').read('c:k');
    sim.isolate('a', 'drop');
    setFailpointsForTest(['cache.skip-invalidation-acks']);
    const t0 = performance.now();
    await sim.node('b').write('c:k', v('new'));
    assert.ok(performance.now() - t0 < 1000, 'the write did not wait for the holder');
    assert.deepEqual(await sim.node('a').read('c:k'), { value: v('old'), state: 'E', hit: true }, 'a stale read: the bug is observable');
  });

  it('FAILPOINT cache.serve-after-lease: a cut-off holder keeps serving its copy after its lease', async () => {
    sim = new CacheSim(members, homeOf, { leaseMs: 100 });
    await sim.store.put('c:k', v('old'));
    await sim.node('a').read('c:k');
    sim.isolate('a', 'refuse');
    await sim.node('b').write('c:k', v('new'));
    assert.ok(performance.now() >= (sim.node('a').lines.peek('c:k')?.leaseUntil ?? 0));
    setFailpointsForTest(['cache.serve-after-lease']);
    assert.deepEqual(await sim.node('a').read('c:k'), { value: v('old'), state: 'E', hit: true }, 'stale: the bug is observable');
    setFailpointsForTest([]);
    await failure(sim.node('a').read('c:k'));
  });

  it('a read grant overtaken by the invalidation of a later write is not installed', async () => {
    sim = new CacheSim(members, homeOf, { leaseMs: 5000 });
    await sim.store.put('c:k', v('old'));
    const held = sim.hold('a', 'c', 'read');
    const reading = sim.node('a').read('c:k');
    await held.reached; // the home granted a copy to a; the grant is on its way
    await sim.node('b').write('c:k', v('new')); // invalidates a (which has no line yet)
    held.release();
    assert.deepEqual(await reading, { value: v('old'), state: 'E', hit: false }, 'concurrent with the write: the old value is fine');
    assert.equal(sim.node('a').lines.peek('c:k'), undefined, 'but the stale copy is not kept');
    assert.deepEqual(await sim.node('a').read('c:k'), { value: v('new'), state: 'S', hit: false });
  });

  it('a write whose answer was lost leaves no old copy on the writer', async () => {
    sim = new CacheSim(members, homeOf, { leaseMs: 5000 });
    await sim.store.put('c:k', v('old'));
    await sim.node('a').read('c:k');
    const held = sim.hold('a', 'c', 'write');
    const writing = sim.node('a').write('c:k', v('new'));
    await held.reached;
    assert.equal(sim.node('a').lines.peek('c:k'), undefined, 'dropped before the write left');
    assert.deepEqual(await sim.node('b').read('c:k'), { value: v('new'), state: 'S', hit: false }, 'the home applied it: b reads it');
    held.release();
    await writing;
  });

  it('writes of one key from one node go one at a time (their grants must come back in the home’s order); its reads wait for them', async () => {
    sim = new CacheSim(members, homeOf, { leaseMs: 5000 });
    const held = sim.holdRequest('a', 'c', 'write');
    const first = sim.node('a').write('c:k', v(1));
    await held.reached;
    const second = sim.node('a').write('c:k', v(2));
    const reading = sim.node('a').read('c:k');
    await new Promise((r) => setImmediate(r));
    assert.equal(sim.calls.filter((c) => c === 'a>c:write').length, 1, 'the second write waits for the first');
    held.release();
    await Promise.all([first, second]);
    assert.deepEqual(await reading, { value: v(2), state: 'M', hit: true }, 'the read waited for both and hits the last');
    assert.deepEqual(await sim.node('b').read('c:k'), { value: v(2), state: 'S', hit: false });
  });

  it('a restarted home serves nothing for one hold period; a fresh one at once', async () => {
    sim = new CacheSim(members, homeOf, { leaseMs: 200 });
    const fresh = performance.now();
    await sim.node('a').read('c:k');
    assert.ok(performance.now() - fresh < 150, 'a fresh home answers at once');
    const t0 = performance.now();
    const c = sim.start('c', members, homeOf, { leaseMs: 200, restarted: true });
    await sim.node('b').read('c:k');
    assert.ok(performance.now() - t0 >= c.holdMs - 2, `answered after ${Math.round(performance.now() - t0)} ms; hold period ${c.holdMs} ms`);
  });

  it('refuses an RPC for a key it is not the home of', async () => {
    sim = new CacheSim(members, homeOf);
    const f = await failure(sim.node('a').serve('read', 'b', { key: 'c:k' }));
    assert.equal(f.reply.status, 409);
    assert.equal(f.reply.body['error'], 'not-home');
  });

  it('holds lines within its bounds (entries and bytes), least recently used out first', async () => {
    sim = new CacheSim(members, homeOf, { maxEntries: 3, maxBytes: 1_000_000 });
    for (let i = 0; i < 5; i++) await sim.node('a').read(`b:${i}`);
    assert.equal(sim.node('a').lines.size, 3);
    assert.equal(sim.node('a').counters.evictions, 2);
    assert.equal(sim.node('a').lines.peek('b:0'), undefined);
    await sim.close();
    sim = new CacheSim(members, homeOf, { maxEntries: 100, maxBytes: 2000 });
    for (let i = 0; i < 10; i++) await sim.node('a').write(`b:${i}`, v('x'.repeat(300)));
    assert.ok(sim.node('a').lines.bytes <= 2000, `${sim.node('a').lines.bytes} bytes held`);
    assert.ok(sim.node('a').lines.size < 10);
  });

  for (const policy of ['write-through', 'write-back'] as const) {
    it(`${policy}: 10 clients × 150 random ops on 2 keys from 3 nodes — every sample keeps the MESI invariants, the history is linearizable`, async () => {
      sim = new CacheSim(members, () => 'b', { policy, leaseMs: 2000, onEvent: (e, f) => { if (process.env.CACHE_DEBUG) console.log(e, JSON.stringify(f)); } });
      sim.jitterMs = 3; // messages overtake each other between links
      const history: Op[] = [];
      const record = (o: { type: Op['type']; f: string; value: unknown; process: number; node?: string; hit?: boolean }): void => void history.push({ ...o, index: history.length });
      let next = 1;
      let seed = 7;
      const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
      const violations: string[] = [];
      const client = async (p: number): Promise<void> => {
        for (let i = 0; i < 150; i++) {
          const id = members[Math.floor(rnd() * 3)] as string;
          const node = sim.node(id);
          const key = rnd() < 0.7 ? 'b:hot' : 'b:cold';
          const r = rnd();
          if (r < 0.5) {
            record({ type: 'invoke', f: 'read', value: [key, null], process: p });
            const got = await node.read(key);
            record({ type: 'ok', f: 'read', value: [key, got.value === null ? null : JSON.parse(got.value)], process: p, node: id, hit: got.hit });
          } else if (r < 0.95) {
            const v = r < 0.9 ? next++ : null;
            record({ type: 'invoke', f: 'write', value: [key, v], process: p });
            if (v === null) await node.delete(key);
            else await node.write(key, JSON.stringify(v));
            record({ type: 'ok', f: 'write', value: [key, v], process: p, node: id });
          } else {
            const s = await node.sample(key);
            violations.push(...sampleViolations({ ...s, policy }));
          }
          if (i % 5 === 0) await new Promise((res) => setImmediate(res));
        }
      };
      await Promise.all(Array.from({ length: 10 }, (_, p) => client(p)));
      assert.deepEqual(violations, []);
      assert.ok(history.length > 2000);
      if (process.env.CACHE_DEBUG) writeFileSync(`/tmp/cache-${policy}.jsonl`, history.map((o) => JSON.stringify(o)).join('\n') + '\n');
      const lin = withoutOps(linearizableChecker('register', { independent: true }), ['state']).check(history, { timeoutMs: 30_000 });
      assert.equal(lin.valid, true, String(lin.reason));
      assert.deepEqual(findLostWrites(history), []);
      const c = sim.node('a').counters;
      assert.ok(c.hits > 0 && c.misses > 0, JSON.stringify(c));
    });
  }
});

describe('cluster/cache/cache-engine: a dead home fails over (shared store)', () => {
  let sim: CacheSim;
  afterEach(async () => {
    setFailpointsForTest([]);
    await sim.close();
  });

  /** Waits until `cond` holds, polling every 5 ms; fails naming `what` after `ms`. */
  async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
    const deadline = performance.now() + ms;
    while (!cond()) {
      if (performance.now() > deadline) assert.fail(`${what}: not within ${ms} ms`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  // c is the home of c:k; its preference list is c, a, b.
  const failover = { afterMs: 150, probeMs: 20 };

  it("the next node takes over a cut-off home's keys after one hold period; the old home, back, takes them again", async () => {
    const store = new MemoryStore({ shared: true });
    sim = new CacheSim(members, homeOf, { store, leaseMs: 300, failover });
    await store.put('c:k', v('old'));
    assert.deepEqual(await sim.node('b').read('c:k'), { value: v('old'), state: 'E', hit: false });
    const bLease = sim.node('b').lines.peek('c:k')?.leaseUntil ?? 0;
    sim.isolate('c', 'drop');
    await until('c marked down, a and b know', () => store.map.down.includes('c') && ['a', 'b'].every((n) => sim.node(n).router.view.epoch === store.map.epoch));
    assert.equal(sim.node('a').homeOf('c:k'), 'a');
    await sim.node('a').write('c:k', v('new'));
    assert.ok(performance.now() >= bLease, "a, the new home, wrote only once b's copy from c had run out");
    assert.equal(await store.get('c:k'), v('new'));
    assert.deepEqual(await sim.node('b').read('c:k'), { value: v('new'), state: 'S', hit: false });
    // The cut-off home knows it is down (it reads the map) and cannot reach the new home: no value, no stale one.
    const f = await failure(sim.node('c').read('c:k'));
    assert.equal(f.reply.status, 503);
    assert.equal((sim.node('a').failover?.changes ?? 0) + (sim.node('b').failover?.changes ?? 0), 1, 'one node made the change');
    sim.heal();
    await until('c back up', () => store.map.down.length === 0);
    assert.equal(store.map.epoch, 2);
    assert.equal(sim.node('c').failover?.changes, 1, 'c marked itself up');
    await until('every node knows c is back', () => members.every((n) => sim.node(n).router.view.epoch === 2));
    assert.deepEqual(await sim.node('b').read('c:k'), { value: v('new'), state: 'E', hit: false }, 'c serves it again, from the store');
    assert.equal(sim.node('b').homeOf('c:k'), 'c');
  });

  it('a home that comes back takes the directory over from the node that stood in: it serves at once and invalidates the copies that node granted', async () => {
    const store = new MemoryStore({ shared: true });
    sim = new CacheSim(members, homeOf, { store, leaseMs: 3000, failover });
    await store.put('c:k', v('old'));
    sim.isolate('c', 'refuse');
    await until('c marked down, a and b know', () => store.map.down.includes('c') && ['a', 'b'].every((n) => sim.node(n).router.view.epoch === store.map.epoch));
    assert.deepEqual(await sim.node('b').read('c:k'), { value: v('old'), state: 'E', hit: false }, 'granted by a, standing in for c (after its hold period)');
    sim.heal();
    await until('c back up', () => store.map.down.length === 0 && sim.node('c').router.view.epoch === 2);
    await until('a handed its entries to c', () => sim.calls.includes('c>a:handoff') && sim.node('c').router.graceLeft('c:k') === 0, 2000);
    const t0 = performance.now();
    await sim.node('c').write('c:k', v('new'));
    assert.ok(performance.now() - t0 < sim.node('c').holdMs / 2, `c wrote after ${Math.round(performance.now() - t0)} ms: it did not wait a hold period`);
    assert.equal(sim.node('b').lines.peek('c:k'), undefined, "the copy a granted was invalidated by c, which listed it");
    assert.deepEqual(await sim.node('b').read('c:k'), { value: v('new'), state: 'S', hit: false });
  });

  it('a replaced home that has not heard of the change is fenced: it neither writes nor grants', async () => {
    const store = new MemoryStore({ shared: true });
    sim = new CacheSim(members, homeOf, { store, leaseMs: 300, failover });
    // c without a failure detector: it never reads the map by itself.
    await sim.node('c').close();
    sim.start('c', members, homeOf, { store, leaseMs: 300 });
    await store.put('c:k', v('old'));
    sim.isolate('c', 'drop');
    await until('c marked down, a and b know', () => store.map.down.includes('c') && ['a', 'b'].every((n) => sim.node(n).router.view.epoch === store.map.epoch));
    assert.equal(sim.node('c').router.view.epoch, 0, 'c has not heard');
    const w = await failure(sim.node('c').write('c:k', v('lost')));
    assert.equal(w.reply.status, 503);
    assert.equal(await store.get('c:k'), v('old'), 'the fenced write did nothing');
    assert.equal(sim.node('c').router.view.epoch, 1, 'the refusal told c the map');
    await failure(sim.node('c').read('c:k'));
    assert.equal(sim.node('c').lines.peek('c:k'), undefined, 'nor did it grant itself a copy');
  });

  it('FAILPOINT cache.failover-no-grace: the new home writes while a copy the old one granted is still served — a stale read', async () => {
    const store = new MemoryStore({ shared: true });
    sim = new CacheSim(members, homeOf, { store, leaseMs: 3000, failover });
    await store.put('c:k', v('old'));
    await sim.node('b').read('c:k');
    sim.isolate('c', 'drop');
    await until('c marked down, a and b know', () => store.map.down.includes('c') && ['a', 'b'].every((n) => sim.node(n).router.view.epoch === store.map.epoch));
    setFailpointsForTest(['cache.failover-no-grace']);
    const t0 = performance.now();
    await sim.node('a').write('c:k', v('new'));
    assert.ok(performance.now() - t0 < 1000, 'the new home did not wait');
    assert.deepEqual(await sim.node('b').read('c:k'), { value: v('old'), state: 'E', hit: true }, 'stale: the bug is observable');
  });

  /**
   * 8 clients × 120 random ops on three keys (one homed on each node), write-through, while each
   * node in turn is cut off until it is marked down, then healed until it is back up. Leases of
   * 600 ms outlast the 150 ms it takes to mark a home down: a new home that did not wait would
   * write while the old home's copies are still served. (Write-back is left out: a cut-off or
   * replaced Modified holder loses its writes, the policy's price.)
   */
  async function failoverRun(): Promise<{ history: Op[]; epoch: number }> {
    const store = new MemoryStore({ shared: true });
    sim = new CacheSim(members, homeOf, { store, leaseMs: 600, failover, requestTimeoutMs: 300 });
    sim.jitterMs = 2;
    const history: Op[] = [];
    const record = (o: { type: Op['type']; f: string; value: unknown; process: number }): void => void history.push({ ...o, index: history.length });
    let next = 1;
    let seed = 11;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const keys = ['a:x', 'b:x', 'c:x'];
    let running = true;
    const nemesis = (async () => {
      for (let round = 0; running && round < 30; round++) {
        const victim = members[round % 3] as string;
        sim.isolate(victim, 'drop');
        await until(`${victim} marked down`, () => store.map.down.includes(victim) || !running, 5000);
        await new Promise((r) => setTimeout(r, 100));
        sim.heal();
        await until('everyone up', () => store.map.down.length === 0 || !running, 5000);
      }
    })();
    const client = async (p: number): Promise<void> => {
      for (let i = 0; i < 120; i++) {
        const node = sim.node(members[Math.floor(rnd() * 3)] as string);
        const key = keys[Math.floor(rnd() * 3)] as string;
        const f = rnd() < 0.6 ? 'read' : 'write';
        const value = f === 'write' ? next++ : null;
        record({ type: 'invoke', f, value: [key, value], process: p });
        try {
          if (f === 'read') {
            const got = await node.read(key);
            record({ type: 'ok', f, value: [key, got.value === null ? null : JSON.parse(got.value)], process: p });
          } else {
            await node.write(key, JSON.stringify(value));
            record({ type: 'ok', f, value: [key, value], process: p });
          }
        } catch (e) {
          if (!(e instanceof CacheFailure)) throw e;
          const definite = f === 'read' || e.reply.body['definite'] === true;
          record({ type: definite ? 'fail' : 'info', f, value: [key, value], process: p });
        }
        await new Promise((res) => setTimeout(res, rnd() * 10));
      }
    };
    await Promise.all(Array.from({ length: 8 }, (_, p) => client(p)));
    running = false;
    await nemesis;
    return { history, epoch: store.map.epoch };
  }

  it('8 clients × 120 ops while each node in turn is cut off and its keys fail over and back — linearizable, nothing lost', async () => {
    const { history, epoch } = await failoverRun();
    assert.ok(epoch >= 4, `the homes failed over and back at least twice (epoch ${epoch})`);
    const oks = history.filter((o) => o.type === 'ok').length;
    assert.ok(oks > 400, `${oks} ops ok`);
    const lin = linearizableChecker('register', { independent: true }).check(history, { timeoutMs: 30_000 });
    assert.equal(lin.valid, true, String(lin.reason));
    assert.deepEqual(findLostWrites(history), []);
  });

  it('FAILPOINT cache.failover-no-grace: the same run is not linearizable', async () => {
    setFailpointsForTest(['cache.failover-no-grace']);
    const { history } = await failoverRun();
    const lin = linearizableChecker('register', { independent: true }).check(history, { timeoutMs: 30_000 });
    assert.equal(lin.valid, false, 'the planted bug went unseen');
  });
});
