import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Command } from 'commander';
import { etcdAvailable, startEtcd } from '../../../harness/bench/etcd-target.js';
import { lockBenchCommand, registerBenchCommand, type BenchTargets, type LockBenchOptions } from '../../../harness/bench/lock-bench.js';
import { CONTENDED_LOCK, MAX_ERRORS, runLockLoad } from '../../../harness/bench/lock-load.js';
import type { LockTarget, PairClient } from '../../../harness/bench/lock-target.js';
import { processesUsing } from '../../support/processes.js';
import { parseBenchFlags, silent } from '../../support/bench-flags.js';

/** An in-memory lock service: one FIFO mutex per lock name, holding each lock across a turn of the event loop. */
class FakeLocks implements LockTarget {
  readonly label: string;
  readonly #held = new Set<string>();
  readonly #waiters = new Map<string, Array<() => void>>();
  /** Holders per lock right now; a mutex never has more than one. */
  readonly #holders = new Map<string, number>();
  /** Locks held at once, over all names. */
  #heldNow = 0;
  maxHeldAtOnce = 0;
  maxWaiters = 0;
  violations = 0;
  calls = 0;
  completed = 0;
  created = 0;
  closed = 0;
  stopped = 0;
  readonly locksUsed = new Set<string>();

  constructor(
    readonly opts: {
      label?: string;
      /** pair() call number n (1-based) rejects when `fail(n)`. */
      fail?: (n: number) => boolean;
      /** client(i) rejects when `failClient(i)`. */
      failClient?: (i: number) => boolean;
      /** close() rejects. */
      failClose?: boolean;
      /** pids() knows no process. */
      noPids?: boolean;
    } = {},
  ) {
    this.label = opts.label ?? 'fake';
  }

  async #acquire(lock: string): Promise<void> {
    if (!this.#held.has(lock)) {
      this.#held.add(lock);
      return;
    }
    const queue = this.#waiters.get(lock) ?? [];
    this.#waiters.set(lock, queue);
    await new Promise<void>((resolve) => {
      queue.push(resolve);
      this.maxWaiters = Math.max(this.maxWaiters, queue.length);
    });
  }

  /** The fake serves from this very process: its CPU is the "server's". */
  pids(): readonly number[] {
    return this.opts.noPids ? [] : [process.pid];
  }

  #release(lock: string): void {
    const next = this.#waiters.get(lock)?.shift();
    if (next === undefined) this.#held.delete(lock);
    else next(); // hand over: the lock stays held
  }

  async client(i: number): Promise<PairClient> {
    if (this.opts.failClient?.(i)) throw new Error(`no client ${i} today`);
    this.created++;
    return {
      pair: async (lock: string) => {
        const n = ++this.calls;
        this.locksUsed.add(lock);
        if (this.opts.fail?.(n)) {
          await yieldToLoop();
          throw new Error(`boom (call ${n})`);
        }
        await this.#acquire(lock);
        const holders = (this.#holders.get(lock) ?? 0) + 1;
        this.#holders.set(lock, holders);
        if (holders > 1) this.violations++;
        this.maxHeldAtOnce = Math.max(this.maxHeldAtOnce, ++this.#heldNow);
        await yieldToLoop(); // the critical section spans a turn of the loop: others really run meanwhile
        this.#heldNow--;
        this.#holders.set(lock, holders - 1);
        this.#release(lock);
        this.completed++;
      },
      close: async () => {
        this.closed++;
        if (this.opts.failClose) throw new Error('cannot close');
      },
    };
  }

  async stop(): Promise<void> {
    this.stopped++;
  }
}

describe('runLockLoad', function () {
  this.timeout(10_000);

  it('counts the pairs of every client, each on a lock of its own, and closes them', async () => {
    const target = new FakeLocks();
    const r = await runLockLoad(target, { clients: 4, contended: false, durationMs: 200 });
    assert.equal(r.clients, 4);
    assert.equal(r.contended, false);
    assert.equal(r.errors, 0);
    assert.equal(r.firstError, undefined);
    assert.ok(r.pairs > 100, `pairs: ${r.pairs}`);
    assert.ok(r.pairs <= target.completed);
    assert.equal(r.elapsedMs, 200);
    assert.ok(Math.abs(r.pairsPerSec - r.pairs / 0.2) < 1e-6);
    assert.ok(r.p50Ms > 0 && r.p50Ms <= r.p99Ms && r.p99Ms <= r.maxMs, `p50 ${r.p50Ms} p99 ${r.p99Ms} max ${r.maxMs}`);
    assert.deepEqual([...target.locksUsed].sort(), ['bench-0', 'bench-1', 'bench-2', 'bench-3']);
    assert.ok(target.maxHeldAtOnce > 1, 'uncontended locks are held at the same time');
    assert.equal(target.violations, 0);
    assert.equal(target.maxWaiters, 0, 'nobody waits for a lock of its own');
    assert.deepEqual([target.created, target.closed], [4, 4]);
    // The server (this process) burned CPU in the window: a per-1,000-pairs figure, finite.
    assert.ok(r.cpuSPer1000 !== undefined && Number.isFinite(r.cpuSPer1000) && r.cpuSPer1000 >= 0, `cpuSPer1000 ${r.cpuSPer1000}`);
  });

  it('reports no CPU figure when the target knows no server process', async () => {
    const r = await runLockLoad(new FakeLocks({ noPids: true }), { clients: 2, contended: false, durationMs: 100 });
    assert.ok(r.pairs > 0);
    assert.equal(r.cpuSPer1000, undefined);
  });

  it('contended: all clients queue on one lock, never two holders at once', async () => {
    const target = new FakeLocks();
    const r = await runLockLoad(target, { clients: 8, contended: true, durationMs: 200 });
    assert.equal(r.errors, 0);
    assert.ok(r.pairs > 50, `pairs: ${r.pairs}`);
    assert.deepEqual([...target.locksUsed], [CONTENDED_LOCK]);
    assert.equal(target.violations, 0);
    assert.equal(target.maxHeldAtOnce, 1);
    assert.ok(target.maxWaiters >= 4, `clients really queued (at most ${target.maxWaiters} waiting)`);
    assert.deepEqual([target.created, target.closed], [8, 8]);
  });

  it('does not count the warmup', async () => {
    const target = new FakeLocks();
    const r = await runLockLoad(target, { clients: 2, contended: false, durationMs: 100, warmupMs: 150 });
    assert.equal(r.elapsedMs, 100);
    assert.ok(r.pairs > 0);
    // ~1.5 times as many pairs ran during the warmup as in the window.
    assert.ok(target.completed - r.pairs >= 0.5 * r.pairs, `completed ${target.completed}, measured ${r.pairs}`);
  });

  it('stops after maxPairs, long before the duration', async () => {
    const target = new FakeLocks();
    const t0 = performance.now();
    const r = await runLockLoad(target, { clients: 3, contended: true, durationMs: 5000, maxPairs: 50 });
    assert.ok(performance.now() - t0 < 2000);
    assert.equal(r.pairs, 50);
    assert.ok(r.elapsedMs < 2000, `elapsed ${r.elapsedMs}`);
    assert.ok(target.completed <= 50 + 3, 'at most the pairs in flight finish after the limit');
    assert.equal(target.closed, 3);
  });

  it('counts failed pairs, remembers the first message and keeps going', async () => {
    const target = new FakeLocks({ fail: (n) => n % 3 === 0 });
    const r = await runLockLoad(target, { clients: 1, contended: false, durationMs: 150 });
    assert.equal(r.firstError, 'boom (call 3)');
    assert.ok(r.errors > 10, `errors: ${r.errors}`);
    assert.ok(r.pairs > 10, `pairs: ${r.pairs}`);
    assert.equal(target.closed, 1);
  });

  it(`stops early after ${MAX_ERRORS} errors and still closes every client`, async () => {
    const target = new FakeLocks({ fail: () => true });
    const r = await runLockLoad(target, { clients: 4, contended: true, durationMs: 5000 });
    assert.ok(r.errors > MAX_ERRORS && r.errors <= MAX_ERRORS + 4, `errors: ${r.errors}`);
    assert.equal(r.pairs, 0);
    assert.ok(r.elapsedMs < 2000, `elapsed ${r.elapsedMs}`);
    assert.ok(Number.isNaN(r.p99Ms));
    assert.equal(r.pairsPerSec, 0);
    assert.deepEqual([target.created, target.closed], [4, 4]);
  });

  it('closes the clients already made when one cannot be created', async () => {
    const target = new FakeLocks({ label: 'flaky', failClient: (i) => i === 2 });
    await assert.rejects(runLockLoad(target, { clients: 4, contended: false, durationMs: 100 }), /flaky: cannot create a client: no client 2 today/);
    assert.deepEqual([target.created, target.closed], [3, 3]);
    assert.equal(target.calls, 0);
  });

  it('counts a client that cannot close as an error of the run', async () => {
    const target = new FakeLocks({ failClose: true });
    const r = await runLockLoad(target, { clients: 2, contended: false, durationMs: 50 });
    assert.ok(r.pairs > 0);
    assert.equal(r.errors, 1);
    assert.match(r.firstError ?? '', /cannot close/);
    assert.equal(target.closed, 2);
  });

  it('rejects nonsense options', async () => {
    const target = new FakeLocks();
    await assert.rejects(runLockLoad(target, { clients: 0, contended: false, durationMs: 100 }), RangeError);
    await assert.rejects(runLockLoad(target, { clients: 1, contended: false, durationMs: 0 }), RangeError);
    await assert.rejects(runLockLoad(target, { clients: 1, contended: false, durationMs: 10, maxPairs: 0 }), RangeError);
    assert.equal(target.created, 0);
  });
});

describe('dsync bench lock (with fake targets)', function () {
  this.timeout(10_000);

  const capture = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) } };
  };
  const fakes = (dsyncFails = false) => {
    const made: FakeLocks[] = [];
    const targets: BenchTargets = {
      dsync: async ({ nodes }) => {
        if (dsyncFails) throw new Error('dsync target not written yet');
        const t = new FakeLocks({ label: `dsync ${nodes} nodes` });
        made.push(t);
        return t;
      },
      etcd: async ({ members }) => {
        const t = new FakeLocks({ label: `etcd ${members} members` });
        made.push(t);
        return t;
      },
      etcdAvailable: async () => true,
    };
    return { made, targets };
  };
  /** The options of a short run; a fresh data folder unless `o` names one (or `dir: undefined`). */
  const opts = (o: Partial<LockBenchOptions> = {}): LockBenchOptions => ({
    nodes: [1, 3],
    clients: [1, 4],
    durationS: 0.03,
    warmupS: 0,
    contended: 'both',
    compare: 'etcd',
    ...o,
    dir: 'dir' in o ? o.dir : mkdtempSync(join(tmpdir(), 'lock-bench-test-')),
  });

  it('measures every combination on both systems, stops every target, prints the tables and ratios', async () => {
    const { made, targets } = fakes();
    const { out, io } = capture();
    const o = opts();
    try {
      assert.equal(await lockBenchCommand(o, io, targets), 0);
    } finally {
      rmSync(o.dir ?? '', { recursive: true, force: true });
    }
    assert.deepEqual(made.map((t) => t.label), ['dsync 1 nodes', 'etcd 1 members', 'dsync 3 nodes', 'etcd 3 members']);
    assert.ok(made.every((t) => t.stopped === 1 && t.created === t.closed && t.created === 10), 'every target stopped, every client closed');
    const text = out.join('\n');
    assert.match(text, /\| cluster \| 1 client \| 4 clients \|/);
    // The fakes serve from this process: every cell has its CPU per 1,000 pairs.
    assert.match(text, /\| dsync 3 nodes, contended \| [\d,]+ pairs\/s · p50 [\d.]+ ms · p99 [\d.]+ ms · CPU \d+\.\d\d s\/1k \| /);
    assert.match(text, /\| etcd 1 members, uncontended \| /);
    assert.match(text, /\| 3 nodes, contended \| ×[\d.]+ · p99 [\d.]+ ms vs [\d.]+ ms · CPU \d+\.\d\d s\/1k vs \d+\.\d\d s\/1k \| /);
    assert.equal((text.match(/pairs\/s · p50 [\d.]+ ms · p99 [\d.]+ ms · CPU/g) ?? []).length, 16, 'a CPU figure in each of the 16 cells');
  });

  it('--json: a JSON object per result and ratio', async () => {
    const { targets } = fakes();
    const { out, io } = capture();
    const o = opts({ nodes: [1], clients: [2], contended: 'yes', json: true });
    try {
      assert.equal(await lockBenchCommand(o, io, targets), 0);
    } finally {
      rmSync(o.dir ?? '', { recursive: true, force: true });
    }
    const lines = out.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      lines.map((l) => [l['type'], l['system'], l['contended'], l['clients']]),
      [
        ['result', 'dsync', true, 2],
        ['result', 'etcd', true, 2],
        ['ratio', undefined, true, 2],
      ],
    );
  });

  it('goes on with etcd when dsync cannot start, and says so in the exit code', async () => {
    const { made, targets } = fakes(true);
    const { out, err, io } = capture();
    const o = opts({ nodes: [3], clients: [1] });
    try {
      assert.equal(await lockBenchCommand(o, io, targets), 1);
    } finally {
      rmSync(o.dir ?? '', { recursive: true, force: true });
    }
    assert.match(err.join('\n'), /cannot start dsync 3 nodes: dsync target not written yet/);
    assert.deepEqual(made.map((t) => [t.label, t.stopped]), [['etcd 3 members', 1]]);
    assert.match(out.join('\n'), /\| etcd 3 members, uncontended \| /);
  });

  it('usage errors: etcd missing, cluster sizes etcd cannot mirror', async () => {
    const { targets } = fakes();
    const a = capture();
    assert.equal(await lockBenchCommand(opts({ nodes: [5], dir: undefined }), a.io, targets), 3);
    assert.match(a.err.join('\n'), /--compare etcd runs 1- or 3-member etcd clusters; --nodes 5/);
    const b = capture();
    assert.equal(await lockBenchCommand(opts({ dir: undefined }), b.io, { ...targets, etcdAvailable: async () => false }), 3);
    assert.match(b.err.join('\n'), /apt-get install etcd-server/);
  });

  it('registerBenchCommand parses and validates the flags', async () => {
    const parse = (...args: string[]): Promise<{ error?: string }> => parseBenchFlags((program) => registerBenchCommand(program, () => undefined, silent).commands.find((c) => c.name() === 'lock') as Command, 'lock', args);
    assert.deepEqual(await parse(), { nodes: [1, 3], clients: [1, 16, 64], durationS: 5, warmupS: 1, contended: 'both' });
    assert.deepEqual(await parse('--nodes', '3', '--clients', '1,16', '--duration-s', '0.5', '--compare', 'etcd', '--contended', 'yes', '--json'), {
      nodes: [3],
      clients: [1, 16],
      durationS: 0.5,
      warmupS: 1,
      contended: 'yes',
      compare: 'etcd',
      json: true,
    });
    assert.match((await parse('--clients', '0,16')).error ?? '', /--clients takes a comma-separated list of integers from 1 to 1024/);
    assert.match((await parse('--nodes', 'three')).error ?? '', /--nodes takes a comma-separated list/);
    assert.match((await parse('--duration-s', '-1')).error ?? '', /--duration-s takes a number of seconds > 0/);
    assert.match((await parse('--contended', 'maybe')).error ?? '', /Allowed choices are both, yes, no/);
    assert.match((await parse('--compare', 'zookeeper')).error ?? '', /Allowed choices are etcd/);
  });
});

describe('etcd target', function () {
  this.timeout(60_000);


  it('runs a 1-client load against a 1-member etcd and leaves nothing behind', async function () {
    if (!(await etcdAvailable())) this.skip();
    const root = mkdtempSync(join(tmpdir(), 'etcd-target-test-'));
    const dir = join(root, 'etcd');
    try {
      const target = await startEtcd({ members: 1, dir, basePort: 40000 + (process.pid % 5000) * 2 });
      let r;
      try {
        assert.equal(target.label, 'etcd 1 member');
        r = await runLockLoad(target, { clients: 1, contended: false, durationMs: 300 });
      } finally {
        await target.stop();
      }
      assert.equal(r.errors, 0, r.firstError);
      assert.ok(r.pairs > 0);
      assert.equal(existsSync(dir), false, 'the data dir is removed');
      assert.deepEqual(processesUsing(dir), []);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
