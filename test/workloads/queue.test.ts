/**
 * The queue workload: its pure generators (acks after deliveries, crashes, the mix, seeds, the
 * drain that ends only once every queue stayed empty past the lease), its load-time checks, and
 * its client against a fake node — a node:http server with an in-memory queue — mapping 200, 204,
 * 409 and 503 to ok / fail / info; then whole runs against the fake node through the harness's
 * interpreter, checked by the queue checker (valid, and a planted message loss caught).
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Op } from '../../checkers/history/op.js';
import { checkQueue } from '../../checkers/queue.js';
import type { GenContext, Generator, OpSpec } from '../../harness/generator/generator.js';
import { clientsOnly, phases, rate, timeLimit } from '../../harness/generator/combinators.js';
import { interpret } from '../../harness/generator/interpreter.js';
import { QueueClient, queueDrainGenerator, queueGenerator, queueWorkload, queueWorkloadDefinition, queueWorkloadSchema, type QueueWorkloadOptions } from '../../workloads/queue.js';
import { workloadDefinition } from '../../workloads/index.js';

const options = (o: Record<string, unknown> = {}): QueueWorkloadOptions => queueWorkloadSchema.parse({ name: 'queue', ...o });
const ctx = (free: (number | string)[], time = 0): GenContext => ({ time, free, processes: free });

let index = 0;
const event = (type: Op['type'], f: string, value: unknown, process: number, time = 0): Op => ({ index: index++, type, f, value, process, time });

/** The answer of a generator that must give an op. */
function opOf(g: Generator, c: GenContext): { op: OpSpec; gen: Generator } {
  const r = g.op(c);
  assert.ok(r !== null && r !== 'pending', `expected an op, got ${String(r)}`);
  return r;
}

/**
 * Draws `n` ops for process 0 from `gen`, completing each as an in-memory queue would (every
 * dequeue delivers the oldest message not yet delivered, or none).
 */
function drive(gen: Generator, n: number): OpSpec[] {
  const out: OpSpec[] = [];
  const ready: { queue: string; message: string }[] = [];
  let g = gen;
  let receipt = 0;
  for (let i = 0; i < n; i++) {
    const { op, gen: next } = opOf(g, ctx([0]));
    out.push(op);
    g = next.update(ctx([]), event('invoke', op.f, op.value, 0));
    const v = op.value as { queue: string; message?: string };
    let done: Op;
    if (op.f === 'enqueue') {
      ready.push({ queue: v.queue, message: v.message as string });
      done = event('ok', 'enqueue', { ...v, id: v.message }, 0);
    } else if (op.f === 'dequeue') {
      const at = ready.findIndex((m) => m.queue === v.queue);
      const m = at < 0 ? undefined : ready.splice(at, 1)[0];
      done = event('ok', 'dequeue', m ? { queue: v.queue, message: m.message, id: m.message, receipt: `r${receipt++}`, deliveries: 1 } : { queue: v.queue, message: null }, 0);
    } else {
      done = event('ok', 'ack', op.value, 0);
    }
    g = g.update(ctx([0]), done);
  }
  return out;
}

describe('workloads/queue: generator', () => {
  it('enqueues unique messages m0, m1, … and dequeues, on queues q0..q3, in the configured mix', () => {
    const ops = drive(queueGenerator(options({ crashRate: 0, enqueueFraction: 0.6 }), 1), 3000);
    const enqueues = ops.filter((o) => o.f === 'enqueue');
    const dequeues = ops.filter((o) => o.f === 'dequeue');
    assert.deepEqual(enqueues.map((o) => (o.value as { message: string }).message), enqueues.map((_o, i) => `m${i}`));
    assert.deepEqual(new Set(ops.map((o) => (o.value as { queue: string }).queue)), new Set(['q0', 'q1', 'q2', 'q3']));
    const share = enqueues.length / (enqueues.length + dequeues.length);
    assert.ok(Math.abs(share - 0.6) < 0.04, `enqueue share ${share}`);
    for (const o of dequeues) assert.deepEqual(Object.keys(o.value as object), ['queue']);
  });

  it('a consumer acks what it got as its next op, with its receipt; with crashRate it leaves that share unacked', () => {
    const check = (crashRate: number): number => {
      const ops = drive(queueGenerator(options({ crashRate, enqueueFraction: 0.5, queues: 1 }), 5), 4000);
      let acked = 0;
      // drive() hands out receipts r0, r1, … in order: each ack must name the delivery just before it.
      let receipt = 0;
      for (let i = 0; i < ops.length; i++) {
        const o = ops[i] as OpSpec;
        if (o.f !== 'ack') continue;
        acked++;
        assert.equal(ops[i - 1]?.f, 'dequeue');
        const v = o.value as { queue: string; message: string; id: string; receipt: string };
        assert.deepEqual(Object.keys(v), ['queue', 'message', 'id', 'receipt']);
        assert.ok(Number(v.receipt.slice(1)) >= receipt);
        receipt = Number(v.receipt.slice(1)) + 1;
      }
      // The share of deliveries (every dequeue while messages wait delivers one) never acked.
      return 1 - acked / countDeliveries(ops);
    };
    assert.equal(check(0), 0);
    const crashed = check(0.3);
    assert.ok(Math.abs(crashed - 0.3) < 0.05, `crashed share ${crashed}`);
  });

  it('the same seed gives the same ops, another seed others; pending without a free client', () => {
    const a = drive(queueGenerator(options(), 7), 500);
    assert.deepEqual(drive(queueGenerator(options(), 7), 500), a);
    assert.notDeepEqual(drive(queueGenerator(options(), 8), 500), a);
    assert.equal(queueGenerator(options(), 1).op(ctx(['nemesis'])), 'pending');
  });

  it('a free process holding a delivery goes first, even if a lower one is free', () => {
    let g = queueGenerator(options({ crashRate: 0 }), 1);
    g = g.update(ctx([0, 3]), event('invoke', 'dequeue', { queue: 'q1' }, 3));
    g = g.update(ctx([0, 3]), event('ok', 'dequeue', { queue: 'q1', message: 'm9', id: 'm9', receipt: 'rx', deliveries: 2 }, 3));
    const { op } = opOf(g, ctx([0, 3]));
    assert.deepEqual(op, { f: 'ack', value: { queue: 'q1', message: 'm9', id: 'm9', receipt: 'rx' }, process: 3 });
  });
});

/** Deliveries among `ops` as drive() answers them: replays its in-memory queue. */
function countDeliveries(ops: readonly OpSpec[]): number {
  const waiting = new Map<string, number>();
  let n = 0;
  for (const o of ops) {
    const q = (o.value as { queue: string }).queue;
    if (o.f === 'enqueue') waiting.set(q, (waiting.get(q) ?? 0) + 1);
    if (o.f === 'dequeue' && (waiting.get(q) ?? 0) > 0) {
      waiting.set(q, (waiting.get(q) as number) - 1);
      n++;
    }
  }
  return n;
}

describe('workloads/queue: drain generator', () => {
  const ms = 1e6;

  it('acks deliveries held from the main phase, dequeues every queue in turn, and ends once each answered empty past the lease', () => {
    let g = queueDrainGenerator(options({ queues: 2, visibilityMs: 1000 }));
    // Main phase: process 4 got m1 from q1 at 100 ms and never acked (it held it when the phase ended).
    g = g.update(ctx([]), event('invoke', 'dequeue', { queue: 'q1' }, 4, 90 * ms));
    g = g.update(ctx([4]), event('ok', 'dequeue', { queue: 'q1', message: 'm1', id: 'm1', receipt: 'r1', deliveries: 1 }, 4, 100 * ms));
    const first = opOf(g, ctx([0, 4], 200 * ms));
    assert.deepEqual(first.op, { f: 'ack', value: { queue: 'q1', message: 'm1', id: 'm1', receipt: 'r1' }, process: 4 });
    g = first.gen.update(ctx([0]), event('invoke', 'ack', first.op.value, 4, 200 * ms));
    g = g.update(ctx([0, 4]), event('ok', 'ack', first.op.value, 4, 210 * ms));

    /** Dequeues once at `t` ms with process 0 and answers empty at t + 5 ms; returns the queue asked. */
    const emptyAt = (t: number): string => {
      const r = opOf(g, ctx([0], t * ms));
      assert.equal(r.op.f, 'dequeue');
      const q = (r.op.value as { queue: string }).queue;
      g = r.gen.update(ctx([]), event('invoke', 'dequeue', r.op.value, 0, t * ms));
      g = g.update(ctx([0]), event('ok', 'dequeue', { queue: q, message: null }, 0, (t + 5) * ms));
      return q;
    };
    // Round robin; q0 never leased anything: drained at its first empty answer.
    assert.equal(emptyAt(300), 'q0');
    assert.equal(emptyAt(310), 'q1');
    // Only q1 is left: empty answers before 100 + 1000 + 250 ms do not drain it.
    assert.equal(emptyAt(900), 'q1');
    assert.equal(emptyAt(1340), 'q1');
    assert.notEqual(g.op(ctx([0], 1350 * ms)), null);
    assert.equal(emptyAt(1360), 'q1');
    assert.equal(g.op(ctx([0], 1400 * ms)), null, 'every queue drained: the phase ends');
  });

  it('a delivery or an unknown dequeue restarts the wait; a dequeue in flight on the queue holds it open', () => {
    let g = queueDrainGenerator(options({ queues: 1, visibilityMs: 400 }));
    // Process 1's dequeue is in flight from 0 ms; process 0 gets an empty answer late enough.
    g = g.update(ctx([0]), event('invoke', 'dequeue', { queue: 'q0' }, 1, 0));
    g = g.update(ctx([0]), event('invoke', 'dequeue', { queue: 'q0' }, 0, 10 * ms));
    g = g.update(ctx([0]), event('ok', 'dequeue', { queue: 'q0', message: null }, 0, 20 * ms));
    assert.notEqual(g.op(ctx([0], 30 * ms)), null, 'not drained while a dequeue is in flight on it');
    // It ends info at 50 ms (it may have leased a message): wait 400 + 250 ms from then.
    g = g.update(ctx([0, 1]), event('info', 'dequeue', { queue: 'q0' }, 1, 50 * ms));
    g = g.update(ctx([1]), event('invoke', 'dequeue', { queue: 'q0' }, 0, 600 * ms));
    g = g.update(ctx([0, 1]), event('ok', 'dequeue', { queue: 'q0', message: null }, 0, 610 * ms));
    assert.notEqual(g.op(ctx([0], 620 * ms)), null);
    g = g.update(ctx([1]), event('invoke', 'dequeue', { queue: 'q0' }, 0, 701 * ms));
    g = g.update(ctx([0, 1]), event('ok', 'dequeue', { queue: 'q0', message: null }, 0, 710 * ms));
    assert.equal(g.op(ctx([0], 720 * ms)), null);
  });
});

describe('workloads/queue: load-time checks', () => {
  const facts = (finalPhaseS: number) => ({ runS: 60, finalPhaseS, nodes: 3, seed: 1 });

  it('refuses a final phase too short to drain leases of visibilityMs', () => {
    assert.deepEqual(queueWorkloadDefinition.validate({ name: 'queue' }, facts(7)), []);
    const issues = queueWorkloadDefinition.validate({ name: 'queue', visibilityMs: 3000 }, facts(8));
    assert.equal(issues.length, 1);
    assert.deepEqual(issues[0]?.path, ['visibilityMs']);
    assert.match(issues[0]?.message ?? '', /^leases of 3000 ms need a final phase of at least 9 s to drain the queues \(finalPhaseS is 8\)/);
  });

  it('refuses exactly-once with crashing consumers, which could only fail', () => {
    const issues = queueWorkloadDefinition.validate({ name: 'queue', contract: 'exactly-once' }, facts(10));
    assert.deepEqual(issues.map((i) => i.path), [['crashRate']]);
    assert.deepEqual(queueWorkloadDefinition.validate({ name: 'queue', contract: 'exactly-once', crashRate: 0 }, facts(10)), []);
  });

  it('is registered as queue, with defaults; bad fields are refused by the schema', () => {
    assert.equal(workloadDefinition('queue'), queueWorkloadDefinition);
    const o = options();
    assert.deepEqual([o.queues, o.visibilityMs, o.crashRate, o.contract], [4, 2000, 0.1, 'at-least-once']);
    assert.throws(() => options({ contract: 'at-most-once' }));
    assert.throws(() => options({ crashRate: 1.5 }));
    assert.throws(() => options({ queue: 3 }), /queue/);
  });
});

/** The in-memory queue of the fake node. */
interface Stored {
  readonly id: string;
  readonly message: string;
  deliveries: number;
  leasedUntil: number;
  receipt: string | null;
}

/** A reply the test scripts instead of the fake queue's, or null to let the queue answer. */
type Script = (path: string, body: Record<string, unknown>, n: number) => { status: number; body?: unknown } | null;

describe('workloads/queue: client against a fake node', function () {
  this.timeout(30_000);
  let server: Server;
  let base = '';
  const queues = new Map<string, Stored[]>();
  const ids = new Set<string>();
  let receipts = 0;
  let script: Script = () => null;
  /** PLANTED BUG when > 0: every n-th enqueue is answered ok but dropped. */
  let dropEvery = 0;
  let enqueued = 0;
  let seen: { path: string; body: Record<string, unknown> }[] = [];

  /** The fake queue's own answer. */
  function answer(queue: string, action: string, body: Record<string, unknown>): { status: number; body?: unknown } {
    const list = queues.get(queue) ?? [];
    queues.set(queue, list);
    const now = Date.now();
    if (action === 'enqueue') {
      const id = String(body['id']);
      if (!ids.has(id)) {
        ids.add(id);
        if (dropEvery === 0 || ++enqueued % dropEvery !== 0) list.push({ id, message: String(body['message']), deliveries: 0, leasedUntil: 0, receipt: null });
      }
      return { status: 200, body: { id } };
    }
    if (action === 'dequeue') {
      const m = list.find((s) => s.leasedUntil <= now);
      if (m === undefined) return { status: 204 };
      m.deliveries++;
      m.leasedUntil = now + Number(body['visibilityMs'] ?? 30_000);
      m.receipt = `rc${receipts++}`;
      return { status: 200, body: { id: m.id, message: m.message, receipt: m.receipt, deliveries: m.deliveries } };
    }
    const at = list.findIndex((s) => s.receipt === body['receipt'] && s.leasedUntil > now);
    if (at < 0) return { status: 409, body: { error: 'unknown-receipt', message: 'no such lease' } };
    const [m] = list.splice(at, 1);
    return { status: 200, body: { id: m?.id } };
  }

  before(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        const body = (raw === '' ? {} : JSON.parse(raw)) as Record<string, unknown>;
        const path = req.url ?? '';
        seen.push({ path, body });
        const m = /^\/queue\/([^/]+)\/(enqueue|dequeue|ack)$/.exec(path);
        const r = script(path, body, seen.length) ?? (m ? answer(decodeURIComponent(m[1] as string), m[2] as string, body) : { status: 404, body: { error: 'not-found' } });
        if (r.body === undefined) res.writeHead(r.status).end();
        else res.writeHead(r.status, { 'content-type': 'application/json' }).end(JSON.stringify(r.body));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  beforeEach(() => {
    seen = [];
    queues.clear();
    ids.clear();
    script = () => null;
    dropEvery = 0;
    enqueued = 0;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const client = (o: Record<string, unknown> = {}) => new QueueClient(new Map([['n1', base], ['n2', base]]), options({ opTimeoutMs: 800, attemptTimeoutMs: 200, visibilityMs: 300, waitMs: 0, ...o }), 1);
  const invoke = (c: QueueClient, f: string, value: unknown) => c.invoke({ index: 0, type: 'invoke', f, value, process: 1, time: 0 });

  it('200s are ok: an enqueue carries the message as its id; a dequeue gets the message and its receipt; an ack echoes its value', async () => {
    const c = client();
    try {
      const e = await invoke(c, 'enqueue', { queue: 'q0', message: 'm1' });
      assert.deepEqual([e.type, e.value], ['ok', { queue: 'q0', message: 'm1', id: 'm1' }]);
      assert.deepEqual(seen[0], { path: '/queue/q0/enqueue', body: { message: 'm1', id: 'm1' } });
      const d = await invoke(c, 'dequeue', { queue: 'q0' });
      assert.deepEqual([d.type, d.value], ['ok', { queue: 'q0', message: 'm1', id: 'm1', receipt: 'rc0', deliveries: 1 }]);
      assert.deepEqual(seen[1], { path: '/queue/q0/dequeue', body: { visibilityMs: 300, waitMs: 0 } });
      const value = { queue: 'q0', message: 'm1', id: 'm1', receipt: 'rc0' };
      const a = await invoke(c, 'ack', value);
      assert.deepEqual([a.type, a.value], ['ok', value]);
      assert.deepEqual(seen[2], { path: '/queue/q0/ack', body: { receipt: 'rc0' } });
    } finally {
      await c.close();
    }
  });

  it('a 204 is an ok dequeue of nothing (message null)', async () => {
    const c = client();
    try {
      const d = await invoke(c, 'dequeue', { queue: 'q2' });
      assert.deepEqual([d.type, d.value], ['ok', { queue: 'q2', message: null }]);
    } finally {
      await c.close();
    }
  });

  it('a 409 unknown-receipt is a definite fail of the ack, keeping its value', async () => {
    const c = client();
    try {
      const value = { queue: 'q0', message: 'm1', id: 'm1', receipt: 'nope' };
      const a = await invoke(c, 'ack', value);
      assert.deepEqual([a.type, a.value, a.error], ['fail', value, 'unknown-receipt']);
    } finally {
      await c.close();
    }
  });

  it('503s: definite on every attempt is fail unavailable, otherwise info; an enqueue retried after one is enqueued once', async () => {
    const c = client();
    try {
      script = () => ({ status: 503, body: { error: 'unavailable', definite: true } });
      const f = await invoke(c, 'enqueue', { queue: 'q0', message: 'm1' });
      assert.deepEqual([f.type, f.value, f.error], ['fail', { queue: 'q0', message: 'm1' }, 'unavailable']);
      script = () => ({ status: 503, body: { error: 'unavailable', definite: false } });
      const i = await invoke(c, 'dequeue', { queue: 'q0' });
      assert.deepEqual([i.type, i.value, i.error], ['info', { queue: 'q0' }, 'indeterminate: unavailable']);
      // The first attempt reaches the queue but its answer is lost (a 503 after the fact): the retry is idempotent.
      seen = [];
      script = (path, body, n) => {
        if (n !== 1) return null;
        answer('q1', 'enqueue', body);
        return { status: 503, body: { error: 'unavailable', definite: false } };
      };
      const e = await invoke(c, 'enqueue', { queue: 'q1', message: 'm2' });
      assert.equal(e.type, 'ok');
      assert.equal(seen.length, 2);
      assert.deepEqual(queues.get('q1')?.map((s) => s.message), ['m2']);
    } finally {
      await c.close();
    }
  });

  it('an ack refused after an attempt that may have acked is info, not fail', async () => {
    const c = client();
    try {
      await invoke(c, 'enqueue', { queue: 'q0', message: 'm1' });
      const { deliveries: _n, ...value } = (await invoke(c, 'dequeue', { queue: 'q0' })).value as Record<string, unknown>;
      // The first ack attempt acks, but its answer is a 503 not definite; the retry is refused.
      script = (path, body, n) => {
        if (!path.endsWith('/ack') || n !== 3) return null;
        answer('q0', 'ack', body);
        return { status: 503, body: { error: 'unavailable', definite: false } };
      };
      const a = await invoke(c, 'ack', value);
      assert.equal(a.type, 'info');
      assert.match(String(a.error), /^indeterminate: unknown-receipt after an attempt that may have acked/);
    } finally {
      await c.close();
    }
  });

  it('refuses ops it cannot send: a message that is not a valid id, a malformed dequeue reply, an unknown f', async () => {
    const c = client();
    try {
      await assert.rejects(invoke(c, 'enqueue', { queue: 'q0', message: 'has space' }), /must be a valid id/);
      await assert.rejects(invoke(c, 'frobnicate', { queue: 'q0' }), /unknown op f "frobnicate"/);
      script = () => ({ status: 200, body: { id: 'x' } });
      await assert.rejects(invoke(c, 'dequeue', { queue: 'q0' }), /malformed message/);
    } finally {
      await c.close();
    }
  });

  /** A whole run against the fake node: 1.5 s of the main generator, then the drain, checked. */
  async function run(seed: number): Promise<{ history: Op[]; drainMs: number }> {
    const o = options({ visibilityMs: 300, waitMs: 0, crashRate: 0.2, opTimeoutMs: 1000, attemptTimeoutMs: 300 });
    const w = queueWorkload(o, { endpoints: new Map([['n1', base], ['n2', base]]), runS: 60, seed });
    const ns = (s: number): number => s * 1e9;
    let drainStart = 0;
    const drain = w.finalGenerator as Generator;
    try {
      const r = await interpret({
        gen: phases(timeLimit(ns(1.5), clientsOnly(rate(300, w.generator))), timeLimit(ns(15), clientsOnly(rate(300, drain)))),
        concurrency: 6,
        client: (op) => w.client.invoke(op),
        onEvent: (e) => {
          if (drainStart === 0 && typeof e.time === 'number' && e.time > ns(1.5)) drainStart = e.time;
        },
      });
      const last = r.history.at(-1)?.time ?? 0;
      return { history: r.history, drainMs: (last - drainStart) / 1e6 };
    } finally {
      await w.client.close();
    }
  }

  it('a run: the generators against the fake node give a history the checker finds valid, drained before the phase limit', async () => {
    const { history, drainMs } = await run(3);
    const r = checkQueue(history);
    assert.equal(r.valid, true, r.reason);
    assert.ok(r.messages.enqueued > 50, `${r.messages.enqueued} enqueued`);
    assert.ok(r.duplicated.count > 0, 'crashed consumers\' messages came back');
    assert.equal(r.duplicated.unexplained, 0);
    assert.ok(drainMs < 10_000, `the drain ended on its own after ${drainMs} ms`);
    for (const q of queues.values()) assert.equal(q.length, 0, 'every queue is empty after the drain');
  });

  it('a run against a node that drops every 7th message: the checker finds them lost', async () => {
    dropEvery = 7;
    const { history } = await run(4);
    const r = checkQueue(history);
    assert.equal(r.valid, false);
    assert.ok(r.lost.count >= Math.floor(r.messages.enqueued / 7) - 1, `${r.lost.count} lost of ${r.messages.enqueued}`);
  });
});
