import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { MAX_ERRORS, messageFor, queueName, runQueueLoad } from '../../../harness/bench/queue-load.js';
import { queueBenchCommand, registerQueueBenchCommand, type QueueBenchOptions, type QueueBenchTargets } from '../../../harness/bench/queue-bench.js';
import type { Delivery, QueueClient, QueueTarget } from '../../../harness/bench/queue-target.js';
import { parseBenchFlags, silent } from '../../support/bench-flags.js';

/** What a fake queue holds for one message. */
interface Item {
  id: string;
  message: string;
}

/**
 * An in-memory queue service: a FIFO per queue, a blocking dequeue (it waits for an enqueue or
 * its timeout), and a lease per dequeued message until it is acked. Its faults are planted by
 * enqueue number (1-based, over the whole run).
 */
class FakeQueues implements QueueTarget {
  readonly label: string;
  readonly #queues = new Map<string, Item[]>();
  readonly #waiters = new Map<string, Array<() => void>>();
  /** Per queue: messages enqueued (or being enqueued) and not yet dequeued; the load keeps it ≤ the queue's consumers. */
  readonly #backlog = new Map<string, number>();
  readonly maxBacklog = new Map<string, number>();
  leased = 0;
  enqueues = 0;
  dequeued = 0;
  acks = 0;
  created = 0;
  closed = 0;
  stopped = 0;

  /** The fake serves from this very process: its CPU is the "server's". */
  pids(): readonly number[] {
    return [process.pid];
  }

  constructor(
    readonly opts: {
      label?: string;
      /** Enqueue number n is acknowledged but never stored. */
      drop?: number;
      /** Enqueue number n is stored twice (delivered twice). */
      twice?: number;
      /** Enqueue number n is stored with its message changed. */
      corrupt?: number;
      /** Enqueue number n rejects (and is not stored). */
      failEnqueue?: (n: number) => boolean;
      /** Dequeue answers null at once instead of waiting. */
      noWait?: boolean;
      /** Dequeue waits at most this long, whatever it is asked. */
      maxWaitMs?: number;
      /** client(i) rejects. */
      failClient?: (i: number) => boolean;
    } = {},
  ) {
    this.label = opts.label ?? 'fake';
  }

  /** Puts a message in `queue` from outside the run (a leftover). */
  seed(queue: string, item: Item): void {
    this.#push(queue, item);
  }

  /** Messages still in the queues (not dequeued). */
  get remaining(): number {
    return [...this.#queues.values()].reduce((n, q) => n + q.length, 0);
  }

  #push(queue: string, item: Item): void {
    const q = this.#queues.get(queue) ?? [];
    this.#queues.set(queue, q);
    q.push(item);
    this.#waiters.get(queue)?.shift()?.();
  }

  #bump(queue: string, by: number): void {
    const b = (this.#backlog.get(queue) ?? 0) + by;
    this.#backlog.set(queue, b);
    this.maxBacklog.set(queue, Math.max(this.maxBacklog.get(queue) ?? 0, b));
  }

  async client(i: number): Promise<QueueClient> {
    if (this.opts.failClient?.(i)) throw new Error(`no client ${i} today`);
    this.created++;
    return {
      enqueue: async (queue, message, id) => {
        const n = ++this.enqueues;
        this.#bump(queue, 1);
        await yieldToLoop(); // the request takes a turn of the loop: other clients run meanwhile
        if (this.opts.failEnqueue?.(n)) {
          this.#bump(queue, -1);
          throw new Error(`enqueue ${n} refused`);
        }
        if (n === this.opts.drop) {
          this.#bump(queue, -1);
          return;
        }
        this.#push(queue, { id, message: n === this.opts.corrupt ? message.toUpperCase() : message });
        if (n === this.opts.twice) this.#push(queue, { id, message });
      },
      dequeue: async (queue, waitMs): Promise<Delivery | null> => {
        let item = this.#queues.get(queue)?.shift();
        if (item === undefined && !this.opts.noWait) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(() => {
              const w = this.#waiters.get(queue) ?? [];
              if (w.includes(wake)) w.splice(w.indexOf(wake), 1);
              resolve();
            }, Math.min(waitMs, this.opts.maxWaitMs ?? Infinity));
            const wake = (): void => {
              clearTimeout(timer);
              resolve();
            };
            this.#waiters.set(queue, [...(this.#waiters.get(queue) ?? []), wake]);
          });
          item = this.#queues.get(queue)?.shift();
        }
        if (item === undefined) return null;
        this.dequeued++;
        this.leased++;
        this.#backlog.set(queue, (this.#backlog.get(queue) ?? 0) - 1);
        const { id, message } = item;
        return {
          id,
          message,
          ack: async () => {
            await yieldToLoop();
            this.leased--;
            this.acks++;
          },
        };
      },
      close: async () => {
        this.closed++;
      },
    };
  }

  async stop(): Promise<void> {
    this.stopped++;
  }
}

describe('runQueueLoad', function () {
  this.timeout(10_000);

  it('moves every message through enqueue → dequeue → ack, keeps the backlog at one per consumer, drains, closes', async () => {
    const target = new FakeQueues();
    const r = await runQueueLoad(target, { clients: 16, durationMs: 300, waitMs: 50 });
    assert.equal(r.errors, 0, r.firstError);
    assert.deepEqual([r.clients, r.queues], [16, 8]);
    assert.ok(r.enqueues > 100 && r.messages > 100, `enqueues ${r.enqueues}, messages ${r.messages}`);
    assert.ok(Math.abs(r.enqueuesPerSec - r.enqueues / 0.3) < 1e-6);
    assert.ok(r.enqueueP50Ms > 0 && r.enqueueP50Ms <= r.enqueueP99Ms, `enqueue p50 ${r.enqueueP50Ms} p99 ${r.enqueueP99Ms}`);
    assert.ok(r.endToEndP50Ms > 0 && r.endToEndP50Ms <= r.endToEndP99Ms && r.endToEndP99Ms <= r.endToEndMaxMs);
    assert.deepEqual([r.lost, r.duplicates, r.unexpected, r.corrupted], [0, 0, 0, 0]);
    assert.equal(r.enqueued, target.enqueues);
    assert.equal(target.remaining, 0, 'drained');
    assert.deepEqual([target.dequeued, target.acks, target.leased], [r.enqueued, r.enqueued, 0]);
    assert.deepEqual([...target.maxBacklog.keys()].sort(), Array.from({ length: 8 }, (_, k) => queueName(k)).sort());
    // 16 consumers over 8 queues: 2 each, so at most 2 messages waiting (or being enqueued) per queue.
    assert.ok([...target.maxBacklog.values()].every((b) => b === 2), `backlogs ${[...target.maxBacklog.values()].join(',')}`);
    assert.deepEqual([target.created, target.closed], [32, 32]);
    // The server (this process) burned CPU in the window: a per-1,000-messages figure, finite.
    assert.ok(r.cpuSPer1000 !== undefined && Number.isFinite(r.cpuSPer1000) && r.cpuSPer1000 >= 0, `cpuSPer1000 ${r.cpuSPer1000}`);
  });

  it('uses as many queues as there are producers, up to 8; one consumer means a backlog of one', async () => {
    const target = new FakeQueues();
    const r = await runQueueLoad(target, { clients: 1, durationMs: 100, waitMs: 50 });
    assert.equal(r.queues, 1);
    assert.ok(r.messages > 10);
    assert.deepEqual([...target.maxBacklog.entries()], [[queueName(0), 1]]);
  });

  it('a message acknowledged but never stored is lost: 1', async () => {
    const target = new FakeQueues({ drop: 5 });
    const r = await runQueueLoad(target, { clients: 4, durationMs: 200, waitMs: 50 });
    assert.equal(r.lost, 1);
    assert.deepEqual([r.duplicates, r.unexpected, r.corrupted, r.errors], [0, 0, 0, 0]);
  });

  it('a message delivered twice is a duplicate: 1', async () => {
    const target = new FakeQueues({ twice: 5 });
    const r = await runQueueLoad(target, { clients: 4, durationMs: 200, waitMs: 50 });
    assert.equal(r.duplicates, 1);
    assert.deepEqual([r.lost, r.unexpected, r.corrupted, r.errors], [0, 0, 0, 0]);
    assert.equal(target.remaining, 0);
  });

  it('counts a leftover of another run as unexpected and a changed message as corrupted', async () => {
    const target = new FakeQueues({ corrupt: 3 });
    target.seed(queueName(1), { id: 'earlier-p0-0', message: messageFor('earlier-p0-0', 100) });
    const r = await runQueueLoad(target, { clients: 2, durationMs: 150, waitMs: 50 });
    assert.deepEqual([r.unexpected, r.corrupted, r.lost, r.duplicates], [1, 1, 0, 0]);
  });

  it('does not count the warmup, stops after maxMessages', async () => {
    const target = new FakeQueues();
    const r = await runQueueLoad(target, { clients: 2, durationMs: 100, warmupMs: 150, waitMs: 50 });
    assert.equal(r.elapsedMs, 100);
    assert.ok(r.enqueued - r.enqueues >= 0.5 * r.enqueues, `enqueued ${r.enqueued}, measured ${r.enqueues}`);
    const t0 = performance.now();
    const s = await runQueueLoad(new FakeQueues(), { clients: 3, durationMs: 5000, maxMessages: 40, waitMs: 50 });
    assert.ok(performance.now() - t0 < 3000);
    assert.equal(s.enqueues, 40);
    assert.ok(s.elapsedMs < 3000);
    assert.equal(s.lost, 0);
  });

  it('counts failed enqueues, and a failed enqueue frees its place in the backlog', async () => {
    const target = new FakeQueues({ failEnqueue: (n) => n % 4 === 0 });
    const r = await runQueueLoad(target, { clients: 2, durationMs: 150, waitMs: 50 });
    assert.ok(r.errors > 5 && r.messages > 5, `errors ${r.errors}, messages ${r.messages}`);
    assert.equal(r.firstError, 'enqueue 4 refused');
    assert.deepEqual([r.lost, r.unexpected], [0, 0]);
  });

  it(`stops after ${MAX_ERRORS} errors and still drains and closes every client`, async () => {
    const target = new FakeQueues({ failEnqueue: () => true });
    const t0 = performance.now();
    const r = await runQueueLoad(target, { clients: 4, durationMs: 5000, waitMs: 50 });
    assert.ok(performance.now() - t0 < 3000);
    assert.ok(r.errors > MAX_ERRORS, `errors ${r.errors}`);
    assert.deepEqual([r.enqueues, r.messages, r.enqueuesPerSec], [0, 0, 0]);
    assert.ok(Number.isNaN(r.endToEndP99Ms));
    assert.deepEqual([target.created, target.closed], [8, 8]);
  });

  it('does not hang on a target whose empty dequeue answers at once', async () => {
    const target = new FakeQueues({ noWait: true });
    const r = await runQueueLoad(target, { clients: 2, durationMs: 100, waitMs: 50 });
    assert.equal(r.elapsedMs, 100);
    assert.ok(r.messages > 0);
    assert.equal(r.lost, 0);
  });

  it('closes the clients already made when one cannot be created; rejects nonsense options', async () => {
    const target = new FakeQueues({ label: 'flaky', failClient: (i) => i === 3 });
    await assert.rejects(runQueueLoad(target, { clients: 2, durationMs: 100, waitMs: 50 }), /flaky: cannot create a client: no client 3 today/);
    assert.deepEqual([target.created, target.closed], [3, 3]);
    const fresh = new FakeQueues();
    await assert.rejects(runQueueLoad(fresh, { clients: 0, durationMs: 100, waitMs: 50 }), RangeError);
    await assert.rejects(runQueueLoad(fresh, { clients: 1, durationMs: 0, waitMs: 50 }), RangeError);
    await assert.rejects(runQueueLoad(fresh, { clients: 1, durationMs: 10, messageBytes: 10 }), /cannot hold a message id/);
    assert.equal(fresh.created, 0);
  });
});

describe('dsync bench queue (with fake targets)', function () {
  this.timeout(20_000);

  const capture = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) } };
  };
  const fakes = (opts: { dsyncFails?: boolean; dsyncDrops?: number } = {}) => {
    const made: FakeQueues[] = [];
    const make = (label: string, o: ConstructorParameters<typeof FakeQueues>[0] = {}): FakeQueues => {
      const t = new FakeQueues({ maxWaitMs: 20, ...o, label });
      made.push(t);
      return t;
    };
    const targets: QueueBenchTargets = {
      dsync: async ({ nodes }) => {
        if (opts.dsyncFails) throw new Error('no queue service yet');
        return make(`dsync ${nodes} nodes`, opts.dsyncDrops === undefined ? {} : { drop: opts.dsyncDrops });
      },
      nats: async ({ servers, queues }) => {
        assert.equal(queues.length, 8);
        return make(`nats ${servers} servers`);
      },
      redis: async () => make('redis'),
      available: async () => true,
    };
    return { made, targets };
  };
  const opts = (o: Partial<QueueBenchOptions> = {}): QueueBenchOptions => ({
    nodes: [1, 3],
    clients: [1, 4],
    durationS: 0.05,
    warmupS: 0,
    compare: 'nats',
    ...o,
    dir: 'dir' in o ? o.dir : mkdtempSync(join(tmpdir(), 'queue-bench-test-')),
  });
  const run = async (o: QueueBenchOptions, targets: QueueBenchTargets, io: ReturnType<typeof capture>['io']): Promise<number> => {
    try {
      return await queueBenchCommand(o, io, targets);
    } finally {
      rmSync(o.dir ?? '', { recursive: true, force: true });
    }
  };

  it('--compare nats: every combination on both systems, every target stopped, tables and ratios', async () => {
    const { made, targets } = fakes();
    const { out, io } = capture();
    assert.equal(await run(opts(), targets, io), 0);
    assert.deepEqual(made.map((t) => t.label), ['dsync 1 nodes', 'nats 1 servers', 'dsync 3 nodes', 'nats 3 servers']);
    assert.ok(made.every((t) => t.stopped === 1 && t.created === t.closed && t.created === 10), 'every target stopped, every client closed');
    const text = out.join('\n');
    assert.match(text, /\*\*NATS JetStream\*\*/);
    // The fakes serve from this process: its CPU per 1,000 messages is a number in both tables.
    assert.match(text, /\| dsync 3 nodes \| 4 \+ 4 \| [\d,]+ \| [\d.]+ ms \| [\d.]+ ms \| [\d,]+ \| [\d.]+ ms \| [\d.]+ ms \| \d+\.\d\d \| 0 \| 0 \| 0 \|/);
    assert.match(text, /\| 3 nodes \| 4 \+ 4 \| ×[\d.]+ \| [\d.]+ ms vs [\d.]+ ms \| ×[\d.]+ \| [\d.]+ ms vs [\d.]+ ms \| \d+\.\d\d vs \d+\.\d\d \|/);
  });

  it('--compare redis: one Redis, beside the 1-node cell only; --json lines', async () => {
    const { made, targets } = fakes();
    const { out, io } = capture();
    assert.equal(await run(opts({ compare: 'redis', clients: [2], json: true }), targets, io), 0);
    assert.deepEqual(made.map((t) => t.label), ['dsync 1 nodes', 'redis', 'dsync 3 nodes']);
    const lines = out.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      lines.map((l) => [l['type'], l['system'] ?? l['against'], l['nodes'], l['clients']]),
      [
        ['result', 'dsync', 1, 2],
        ['result', 'redis', 1, 2],
        ['result', 'dsync', 3, 2],
        ['ratio', 'redis', 1, 2],
      ],
    );
    assert.equal(typeof lines[3]?.['messagesPerSecRatio'], 'number');
  });

  it('a lost message or a target that cannot start fails the run (exit 1); the other system still runs', async () => {
    const lost = fakes({ dsyncDrops: 3 });
    const a = capture();
    assert.equal(await run(opts({ nodes: [1], clients: [2] }), lost.targets, a.io), 1);
    assert.match(a.err.join('\n'), /1 lost/);
    const down = fakes({ dsyncFails: true });
    const b = capture();
    assert.equal(await run(opts({ nodes: [3], clients: [1] }), down.targets, b.io), 1);
    assert.match(b.err.join('\n'), /cannot start dsync \(3 nodes\): no queue service yet/);
    assert.deepEqual(down.made.map((t) => [t.label, t.stopped]), [['nats 3 servers', 1]]);
  });

  it('--compare-only runs the other system alone', async () => {
    const { made, targets } = fakes();
    const { io } = capture();
    assert.equal(await run(opts({ nodes: [1], clients: [1], compareOnly: true }), targets, io), 0);
    assert.deepEqual(made.map((t) => t.label), ['nats 1 servers']);
  });

  it('usage errors: sizes NATS cannot mirror, Redis without the 1-node cell, a missing binary, --compare-only alone', async () => {
    const { targets } = fakes();
    const cases: Array<[Partial<QueueBenchOptions>, RegExp, QueueBenchTargets?]> = [
      [{ nodes: [5] }, /--compare nats runs 1 server or 3 clustered; --nodes 5/],
      [{ nodes: [3], compare: 'redis' }, /--compare redis runs one Redis, compared with the 1-node cell/],
      [{ compareOnly: true, compare: undefined }, /--compare-only needs --compare/],
      [{}, /needs nats-server on PATH; install it with: apt-get install nats-server/, { ...targets, available: async () => false }],
    ];
    for (const [o, message, t] of cases) {
      const c = capture();
      assert.equal(await queueBenchCommand(opts({ ...o, dir: undefined }), c.io, t ?? targets), 3);
      assert.match(c.err.join('\n'), message);
    }
  });

  it('registerQueueBenchCommand parses and validates the flags', async () => {
    const parse = (...args: string[]): Promise<{ error?: string }> => parseBenchFlags((program) => registerQueueBenchCommand(program.command('bench'), () => undefined, silent), 'queue', args);
    assert.deepEqual(await parse(), { nodes: [1, 3], clients: [16, 64], durationS: 5, warmupS: 1 });
    assert.deepEqual(await parse('--nodes', '1', '--clients', '4', '--compare', 'redis', '--compare-only', '--json', '--duration-s', '2'), {
      nodes: [1],
      clients: [4],
      durationS: 2,
      warmupS: 1,
      compare: 'redis',
      compareOnly: true,
      json: true,
    });
    assert.match((await parse('--clients', '0')).error ?? '', /--clients takes a comma-separated list of integers from 1 to 512/);
    assert.match((await parse('--compare', 'kafka')).error ?? '', /Allowed choices are nats, redis/);
  });
});
