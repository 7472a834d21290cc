/**
 * `dsync bench cache`: its loads on an in-process coherent cache, the command's orchestration,
 * tables, JSON, targets and flags with fake targets, and two tiny runs on real processes (one
 * node, then with --compare redis), each checked for leaving no process or folder behind.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import {
  cacheBenchCommand,
  realCacheBenchTargets,
  registerCacheBenchCommand,
  validateCacheBenchOptions,
  type CacheBenchOptions,
  type CacheBenchTargets,
} from '../../../harness/bench/cache-bench.js';
import { bestHitRate, prepareHits, runHits, runMisses, runSkew, runWrites, skewDistribution, prepareMisses } from '../../../harness/bench/cache-load.js';
import { cacheTargets, type CacheBenchRow } from '../../../harness/bench/cache-report.js';
import type { LoopResult } from '../../../harness/bench/closed-loop.js';
import type { CacheClient, CacheTarget, ReadReply } from '../../../harness/bench/cache-target.js';
import { redisAvailable } from '../../../harness/redis-server.js';
import { alive, processesUsing } from '../../support/processes.js';
import { parseBenchFlags, silent } from '../../support/bench-flags.js';

/**
 * An in-process coherent cache of `nodes` nodes: a value per key, and per node the keys it holds
 * (a read holds the key from then on, a hit if it did already), at most `lru` of them, least
 * recently used out first; a write drops every other node's copy unless `invalidate` is off.
 * With `everything`, every key has a value (as the trivial HTTP server answers). No leases.
 */
class FakeCache implements CacheTarget {
  readonly values = new Map<string, string>();
  readonly held: Set<string>[];
  clientsMade = 0;
  clientsClosed = 0;
  stopped = 0;
  constructor(
    readonly label: string,
    readonly nodes: number,
    readonly opts: { invalidate?: boolean; failGet?: (key: string) => boolean; lru?: number; everything?: boolean } = {},
  ) {
    this.held = Array.from({ length: nodes }, () => new Set<string>());
  }
  async client(node: number): Promise<CacheClient> {
    this.clientsMade++;
    const held = this.held[node] as Set<string>;
    const hold = (key: string): void => {
      held.delete(key);
      held.add(key);
      if (held.size > (this.opts.lru ?? Infinity)) held.delete(held.values().next().value as string);
    };
    return {
      get: async (key: string): Promise<ReadReply> => {
        await yieldToLoop();
        if (this.opts.failGet?.(key)) throw new Error(`planted failure reading ${key}`);
        const hit = held.has(key);
        hold(key);
        return { found: this.opts.everything === true || this.values.has(key), hit };
      },
      put: async (key: string, value: string): Promise<void> => {
        await yieldToLoop();
        this.values.set(key, value);
        if (this.opts.invalidate !== false) for (const h of this.held) h.delete(key);
        hold(key);
      },
      close: async () => {
        this.clientsClosed++;
      },
    };
  }
  pids(): readonly number[] {
    return [process.pid];
  }
  async stop(): Promise<void> {
    this.stopped++;
  }
}

const capture = () => {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) } };
};

describe('cache benchmark loads (on an in-process cache)', function () {
  this.timeout(20_000);

  it('hits: every read a hit after prepareHits, spread over the nodes; every client closed', async () => {
    const t = new FakeCache('fake', 3);
    await prepareHits(t, 8);
    const r = await runHits(t, { clientsPerNode: 2, durationMs: 150, keys: 8 });
    assert.equal(r.workers, 6);
    assert.equal(r.errors, 0, r.firstError);
    assert.ok(r.ops > 0 && r.opsPerSec > 0);
    assert.equal(r.hitShare, 1);
    assert.equal(r.perNodeOpsPerSec.length, 3);
    assert.ok(r.perNodeOpsPerSec.every((x) => x > 0));
    assert.ok(r.p50Ms > 0 && r.p99Ms >= r.p50Ms && typeof r.cpuSPer1000 === 'number');
    assert.equal(t.clientsMade, t.clientsClosed);
  });

  it('misses: each key read once, cold ones found and absent ones not; the cell ends when the keys run out', async () => {
    const t = new FakeCache('fake', 2);
    await prepareMisses(t, { keysPerNode: 30, lruEntries: 5 });
    assert.equal(t.values.size, 2 * (30 + 10));
    for (const kind of ['cold', 'absent'] as const) {
      const r = await runMisses(t, kind, { keysPerNode: 30, durationMs: 10_000 });
      assert.equal(r.errors, 0, r.firstError);
      assert.equal(r.ops, 60);
      assert.equal(r.hits, 0);
      assert.ok(r.elapsedMs < 5000, `ended after ${r.elapsedMs} ms, when its keys ran out`);
    }
  });

  it('writes: sharers read, then the timed write; a write that does not invalidate shows as sharer hits', async () => {
    const t = new FakeCache('fake', 3);
    const r = await runWrites(t, { sharers: 2, durationMs: 150 });
    assert.equal(r.errors, 0, r.firstError);
    assert.ok(r.writes > 0 && r.p50Ms > 0);
    assert.equal(r.sharerHits, 0);
    const broken = await runWrites(new FakeCache('broken', 3, { invalidate: false }), { sharers: 1, durationMs: 150 });
    assert.ok(broken.sharerHits > 0);
    await assert.rejects(runWrites(t, { sharers: 3, durationMs: 10 }), /sharers must be 0\.\.2 on 3 nodes/);
  });

  it('skew: the best static hit rate of an LRU, and a seeded zipfian load with a few writes', async () => {
    assert.ok(Math.abs(bestHitRate(skewDistribution(0), 100) - 0.1) < 1e-9);
    assert.ok(bestHitRate(skewDistribution(1.2), 100) > bestHitRate(skewDistribution(0.8), 100));
    const t = new FakeCache('fake', 2);
    for (let i = 0; i < 1000; i++) t.values.set(`z${i}`, 'x');
    const r = await runSkew(t, { exponent: 1, lruEntries: 100, durationMs: 150, warmupMs: 50 });
    assert.equal(r.errors, 0, r.firstError);
    assert.ok(r.reads > 0 && r.reads < r.ops, 'some operations were writes');
    assert.ok(r.hitShare > 0 && r.hitShare < 1);
  });
});

describe('dsync bench cache: flags and orchestration (fake targets)', function () {
  this.timeout(20_000);

  const fakes = (o: { dsyncFails?: boolean; failGet?: (key: string) => boolean } = {}) => {
    const made: FakeCache[] = [];
    const make = (label: string, nodes: number): FakeCache => {
      const t = new FakeCache(label, nodes, { lru: 100, everything: label === 'ceiling', ...(o.failGet ? { failGet: o.failGet } : {}) });
      made.push(t);
      return t;
    };
    const targets: CacheBenchTargets = {
      ceiling: async () => make('ceiling', 1),
      dsync: async ({ nodes }) => {
        if (o.dsyncFails) throw new Error('no cache yet');
        return make(`dsync ${nodes} nodes`, nodes);
      },
      redis: async () => make('redis', 1),
      redisAvailable: async () => true,
    };
    return { made, targets };
  };
  const opts = (o: Partial<CacheBenchOptions> = {}): CacheBenchOptions => ({ nodes: [1, 3], clients: [2], durationS: 0.05, warmupS: 0, missKeysPerNode: 10, ...o });
  const run = async (o: CacheBenchOptions, targets: CacheBenchTargets, io: ReturnType<typeof capture>['io']): Promise<number> => {
    const dir = mkdtempSync(join(tmpdir(), 'cache-bench-test-'));
    try {
      return await cacheBenchCommand({ ...o, dir }, io, targets);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it('runs the ceiling, every cluster size and Redis one after the other, stops each, prints tables and targets', async () => {
    const { made, targets } = fakes();
    const { out, io } = capture();
    assert.equal(await run(opts({ compare: 'redis' }), targets, io), 0);
    assert.deepEqual(made.map((t) => [t.label, t.stopped, t.clientsMade === t.clientsClosed]), [
      ['ceiling', 1, true],
      ['dsync 1 nodes', 1, true],
      ['dsync 3 nodes', 1, true],
      ['redis', 1, true],
    ]);
    const text = out.join('\n');
    for (const title of ['HTTP ceiling', 'Hits', 'Misses', 'Writes against sharers', 'Hit rate against key skew', 'Redis', 'dsync / Redis', 'Targets']) assert.match(text, new RegExp(`\\*\\*${title}\\*\\*`));
    assert.match(text, /\| dsync 3 nodes \| 2 \| [\d,]+ \([\d,]+–[\d,]+\) \| [\d,]+ \| [\d.]+ ms \| [\d.]+ ms \| 100\.0 % \|/);
    assert.match(text, /\| dsync 3 nodes \| 2 \| [\d,]+ \| [\d,]+ \| [\d.]+ ms \| [\d.]+ ms \| ×[\d.]+ \| 0 \| 0 \|/, 'the write with 2 sharers, against the unshared one');
    const writes = text.slice(text.indexOf('**Writes against sharers**'), text.indexOf('**Hit rate against key skew**'));
    assert.deepEqual([...writes.matchAll(/^\| (dsync \d nodes) \| (\d) \|/gm)].map((m) => `${m[1]}, ${m[2]} sharers`), ['dsync 1 nodes, 0 sharers', 'dsync 3 nodes, 0 sharers', 'dsync 3 nodes, 1 sharers', 'dsync 3 nodes, 2 sharers']);
    assert.match(text, /- not measured — hit p99 < 2 ms at 16 clients per node: needs 16 in --clients/);
    assert.match(text, /- \*\*(not )?met\*\* — a write to a line shared by 2 other nodes < 3× an unshared write \(p50\): 3 nodes: p50/);
  });

  it('--json: one line per cell, then the ratios and the targets', async () => {
    const { targets } = fakes();
    const { out, io } = capture();
    assert.equal(await run(opts({ nodes: [1], compare: 'redis', json: true }), targets, io), 0);
    const lines = out.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      lines.map((l) => [l['type'], l['kind'] ?? l['sharers'] ?? l['exponent'] ?? l['op'] ?? null]),
      [
        ['ceiling', null],
        ['hits', null],
        ['misses', 'cold'],
        ['misses', 'absent'],
        ['writes', 0],
        ['skew', 0],
        ['skew', 0.8],
        ['skew', 1],
        ['skew', 1.2],
        ['redis', 'get'],
        ['redis', 'set'],
        ['ratio', null],
        ['ratio', null],
        ['target', null],
        ['target', null],
        ['target', null],
        ['target', null],
      ],
    );
    assert.equal(lines[1]?.['hitShare'], 1);
    assert.equal(typeof lines[1]?.['opsPerSec'], 'number');
  });

  it('a target that cannot start or a cell with errors fails the run (exit 1); the rest still runs', async () => {
    const down = fakes({ dsyncFails: true });
    const a = capture();
    assert.equal(await run(opts({ nodes: [3] }), down.targets, a.io), 1);
    assert.match(a.err.join('\n'), /cannot start dsync 3 nodes in .*: no cache yet/);
    const failing = fakes({ failGet: (key) => key === 'a0-3' });
    const b = capture();
    assert.equal(await run(opts({ nodes: [1] }), failing.targets, b.io), 1);
    assert.match(b.err.join('\n'), /1 error \(the first: planted failure reading a0-3\)/);
    assert.ok(failing.made.every((t) => t.stopped === 1));
  });

  it('usage errors name the flag; --compare redis without redis-server says how to install it', async () => {
    const { targets } = fakes();
    const cases: Array<[Partial<CacheBenchOptions>, RegExp]> = [
      [{ nodes: [] }, /--nodes: cluster sizes from 1 to 9/],
      [{ nodes: [0] }, /--nodes/],
      [{ clients: [300] }, /--clients: clients per node from 1 to 256 expected, got 300/],
      [{ durationS: 0 }, /--duration-s: a positive number/],
      [{ warmupS: -1 }, /--warmup-s/],
      [{ compare: 'nats' as 'redis' }, /--compare: redis expected, got nats/],
    ];
    for (const [o, message] of cases) {
      assert.match(validateCacheBenchOptions(opts(o)) ?? '', message);
      const c = capture();
      assert.equal(await cacheBenchCommand(opts(o), c.io, targets), 3);
      assert.match(c.err.join('\n'), message);
    }
    const c = capture();
    assert.equal(await cacheBenchCommand(opts({ compare: 'redis' }), c.io, { ...targets, redisAvailable: async () => false }), 3);
    assert.match(c.err.join('\n'), /--compare redis needs redis-server on PATH; install it with: apt-get install redis-server/);
  });

  it('registerCacheBenchCommand parses and validates the flags', async () => {
    const parse = (...args: string[]): Promise<Record<string, unknown>> => parseBenchFlags((program) => registerCacheBenchCommand(program.command('bench'), () => undefined, silent), 'cache', args);
    assert.deepEqual(await parse(), { nodes: [1, 3], clients: [16, 64], durationS: 5, warmupS: 1 });
    assert.deepEqual(await parse('--nodes', '1,3,5', '--clients', '4', '--compare', 'redis', '--json', '--duration-s', '2', '--warmup-s', '0', '--dir', '/tmp/x'), {
      nodes: [1, 3, 5],
      clients: [4],
      durationS: 2,
      warmupS: 0,
      compare: 'redis',
      json: true,
      dir: '/tmp/x',
    });
    assert.match(String((await parse('--nodes', '0')).error), /--nodes takes a comma-separated list of integers from 1 to 9/);
    assert.match(String((await parse('--clients', '16,x')).error), /--clients takes a comma-separated list of integers from 1 to 256/);
    assert.match(String((await parse('--duration-s', '0')).error), /--duration-s takes a number of seconds > 0/);
    assert.match(String((await parse('--warmup-s', 'soon')).error), /--warmup-s takes a number of seconds ≥ 0/);
    assert.match(String((await parse('--compare', 'nats')).error), /Allowed choices are redis/);
  });

  it('the targets: met, missed, not measured', () => {
    const loop = (o: Partial<LoopResult>): LoopResult => ({
      workers: 1, ops: 1, opsPerSec: 0, perNodeOpsPerSec: [], p50Ms: 1, p99Ms: 1, maxMs: 1, reads: 0, hits: 0, hitShare: NaN, errors: 0, elapsedMs: 1, loadCpuPct: 0, ...o,
    });
    const write = (sharers: number, p50Ms: number): CacheBenchRow => ({
      type: 'writes', nodes: 3, target: 'dsync 3 nodes', result: { sharers, writers: 4, writes: 1, writesPerSec: 1, p50Ms, p99Ms: p50Ms, maxMs: p50Ms, sharerHits: 0, errors: 0, elapsedMs: 1 },
    });
    const rows: CacheBenchRow[] = [
      { type: 'ceiling', target: 'http', clients: 16, result: loop({ opsPerSec: 10_000 }) },
      { type: 'hits', nodes: 1, target: 'dsync 1 node', clientsPerNode: 16, result: loop({ opsPerSec: 6000, p99Ms: 1.5 }) },
      { type: 'hits', nodes: 3, target: 'dsync 3 nodes', clientsPerNode: 16, result: loop({ opsPerSec: 9000, p99Ms: 2.5 }) },
      write(0, 2),
      write(2, 7),
    ];
    assert.deepEqual(
      cacheTargets(rows).map((t) => [t.met, t.text]),
      [
        [true, '1 node: 6,000 hits/s = 60 % of 10,000 requests/s'],
        [true, '1 node: p99 1.5 ms'],
        [false, '3 nodes: p99 2.5 ms'],
        [false, '3 nodes: p50 7.0 ms vs 2.0 ms = ×3.50'],
        [null, 'needs 3 in --nodes, 64 in --clients and --compare redis'],
      ],
    );
  });
});

describe('dsync bench cache, real processes', function () {
  this.timeout(60_000);

  /** The real targets, remembering every server process they started. */
  const recording = (): { pids: number[]; targets: CacheBenchTargets } => {
    const pids: number[] = [];
    const note = async (t: Promise<CacheTarget>): Promise<CacheTarget> => {
      const target = await t;
      pids.push(...target.pids());
      return target;
    };
    const real = realCacheBenchTargets;
    return {
      pids,
      targets: { ...real, ceiling: (o) => note(real.ceiling(o)), dsync: (o) => note(real.dsync(o)), redis: (o) => note(real.redis(o)) },
    };
  };

  const tinyRun = async (compare: boolean): Promise<Record<string, unknown>[]> => {
    const root = mkdtempSync(join(tmpdir(), 'cache-bench-real-'));
    const { pids, targets } = recording();
    const { out, err, io } = capture();
    try {
      const code = await cacheBenchCommand(
        { nodes: [1], clients: [2], durationS: 0.5, warmupS: 0.2, missKeysPerNode: 50, json: true, dir: root, ...(compare ? { compare: 'redis' as const } : {}) },
        io,
        targets,
      );
      assert.equal(code, 0, err.join('\n'));
      assert.equal(pids.length, compare ? 3 : 2, 'the node:http server, the node (and redis-server)');
      assert.deepEqual(pids.filter(alive), [], 'every server process is gone');
      assert.deepEqual(processesUsing(root), []);
      assert.deepEqual(readdirSync(root), [], "the targets' folders are removed");
      return out.map((l) => JSON.parse(l) as Record<string, unknown>);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  };
  const cells = (lines: Record<string, unknown>[], type: string): Record<string, unknown>[] => lines.filter((l) => l['type'] === type);

  it('one node, 2 clients, 0.5 s cells: positive throughput everywhere, hits are hits, nothing left running', async () => {
    const lines = await tinyRun(false);
    for (const type of ['ceiling', 'hits', 'misses', 'writes', 'skew']) {
      assert.ok(cells(lines, type).length > 0, type);
      for (const c of cells(lines, type)) {
        assert.equal(c['errors'], 0, String(c['firstError']));
        assert.ok(((c['opsPerSec'] ?? c['writesPerSec']) as number) > 0, `${type}: ${JSON.stringify(c)}`);
      }
    }
    const [hits] = cells(lines, 'hits');
    assert.ok((hits?.['hitShare'] as number) > 0.9, `hit share ${String(hits?.['hitShare'])}`);
    for (const m of cells(lines, 'misses')) assert.equal(m['hits'], 0, `${String(m['kind'])} misses are misses`);
    assert.equal(cells(lines, 'target').length, 4);
  });

  it('--compare redis: the same GETs and SETs against redis-server over ioredis', async function () {
    assert.ok(await redisAvailable(), 'redis-server is not on PATH, and this test needs it: apt-get install redis-server');
    const lines = await tinyRun(true);
    const redis = cells(lines, 'redis');
    assert.deepEqual(redis.map((r) => [r['op'], r['clients']]), [['get', 2], ['set', 4]]);
    for (const r of redis) assert.ok((r['opsPerSec'] as number) > 0 && r['errors'] === 0, JSON.stringify(r));
    assert.equal(cells(lines, 'ratio').length, 2);
  });
});
