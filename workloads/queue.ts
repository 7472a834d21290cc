/**
 * The queue workload: producers enqueue unique messages on a few queues, consumers dequeue them
 * (leasing each for `visibilityMs`) and acknowledge what they got as their next op — unless they
 * "crash" first (a share `crashRate` of deliveries is never acked, so it must come back). The
 * final phase drains every queue; the history is checked with the queue checker
 * (`checkers/queue.ts`: lost, unexpected, duplicated, recovered, acked-lost, FIFO order).
 *
 * RPCs: `POST /queue/{q}/enqueue {message, id}` → 200 `{id}`; `POST /queue/{q}/dequeue
 * {visibilityMs, waitMs}` → 200 `{id, message, receipt, deliveries}` | 204 (empty);
 * `POST /queue/{q}/ack {receipt}` → 200 | 409 `unknown-receipt`; 503 `unavailable` (with
 * `definite`) when the queue's group cannot serve. Each enqueue carries an explicit id (the
 * message itself), so the HTTP client's retries on other nodes enqueue it at most once.
 *
 * Ops (the queue checker reads exactly these):
 * - `enqueue`: invoke `{queue, message}` → ok `{queue, message, id}`; fail/info keep the invoke value;
 * - `dequeue`: invoke `{queue}` → ok `{queue, message, id, receipt, deliveries}`, or ok
 *   `{queue, message: null}` when the queue was empty (204); fail/info keep the invoke value;
 * - `ack`: invoke `{queue, message, id, receipt}` → ok/fail/info with the same value. An ack
 *   refused (`unknown-receipt`) after an earlier attempt that may have taken effect is `info`:
 *   the refusal may answer that attempt's own effect.
 *
 * Final phase (drain): consumers ack what they hold and dequeue every queue in turn; a queue is
 * drained once a dequeue invoked more than `visibilityMs` (plus a margin) after its last lease,
 * unknown dequeue or enqueue completed answered empty with nothing else in flight on it — so any
 * message leased and never acked has come back and been drained. When every queue is drained,
 * the phase ends early.
 */
import { z } from 'zod';
import { QUEUE_CONTRACTS, queueChecker, type Op, type ProcessId } from '../checkers/index.js';
import { nextFloat, nextInt, seedRand } from '../harness/index.js';
import type { Completion, GenContext, GenResult, Generator, Rand } from '../harness/index.js';
import { HttpClient } from './http-client.js';
import { defineWorkload, type Client, type Workload, type WorkloadContext, type WorkloadFacts, type WorkloadIssue } from './workload.js';

/** The `workload:` section of an experiment for `name: queue`. */
export const queueWorkloadSchema = z
  .object({
    name: z.literal('queue'),
    /** How many queues (`q0` … `q<N-1>`); each op picks one uniformly. */
    queues: z.number().int().min(1).max(1000).default(4),
    /** Share of a free process's ops that enqueue (the rest dequeue), acks aside. */
    enqueueFraction: z.number().min(0).max(1).default(0.5),
    /** How long a dequeued message is leased before it is delivered again, ms. */
    visibilityMs: z.number().int().min(100).max(600_000).default(2000),
    /** How long a dequeue may long-poll an empty queue, ms. */
    waitMs: z.number().int().min(0).max(10_000).default(100),
    /** Share of deliveries whose consumer "crashes" before acking them (they must be redelivered). */
    crashRate: z.number().min(0).max(1).default(0.1),
    /** What the queue promises: duplicates allowed (`at-least-once`) or a failure (`exactly-once`). */
    contract: z.enum(QUEUE_CONTRACTS as ['at-least-once', 'exactly-once']).default('at-least-once'),
    /** An op's deadline over all its attempts (a dequeue's is longer by waitMs). */
    opTimeoutMs: z.number().int().min(100).max(120_000).default(5000),
    /** One HTTP attempt's deadline (a dequeue's is longer by waitMs). */
    attemptTimeoutMs: z.number().int().min(50).max(120_000).default(2000),
  })
  .strict();

/** The queue workload's options, defaults filled in. */
export type QueueWorkloadOptions = z.output<typeof queueWorkloadSchema>;

/** Queue and message ids the node accepts. */
const ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;

/** The name of queue `i`. */
export const queueName = (i: number): string => `q${i}`;

/** The least final phase, s, that can drain queues with leases of `visibilityMs`: two leases and 3 s. */
export const minFinalPhaseS = (visibilityMs: number): number => (2 * visibilityMs + 3000) / 1000;

/** The queue section's problems with the rest of the experiment, found before any node starts. */
export function queueWorkloadIssues(o: QueueWorkloadOptions, facts: WorkloadFacts): WorkloadIssue[] {
  const issues: WorkloadIssue[] = [];
  const need = minFinalPhaseS(o.visibilityMs);
  if (facts.finalPhaseS < need) {
    issues.push({
      path: ['visibilityMs'],
      message: `leases of ${o.visibilityMs} ms need a final phase of at least ${need} s to drain the queues (finalPhaseS is ${facts.finalPhaseS}): messages leased and never acked come back only after ${o.visibilityMs} ms, and would be reported lost`,
    });
  }
  if (o.contract === 'exactly-once' && o.crashRate > 0) {
    issues.push({ path: ['crashRate'], message: `${o.crashRate} under contract exactly-once: every crashed consumer's message is delivered again, so the run could only fail (set crashRate: 0)` });
  }
  return issues;
}

// ——— the generators ———

/** A delivery its consumer is to ack next. */
interface Held {
  readonly queue: string;
  readonly message: string;
  readonly id: string;
  readonly receipt: string;
}

/** A field of an op value. */
const field = (v: unknown, k: string): unknown => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[k] : undefined);

/** The delivery an ok dequeue event carries, if it delivered one. */
function deliveryOf(e: Op): Held | null {
  if (e.type !== 'ok' || e.f !== 'dequeue') return null;
  const [queue, message, id, receipt] = ['queue', 'message', 'id', 'receipt'].map((k) => field(e.value, k));
  return typeof queue === 'string' && typeof message === 'string' && typeof id === 'string' && typeof receipt === 'string' ? { queue, message, id, receipt } : null;
}

/** The ack op of a delivery. */
const ackOp = (process: ProcessId, h: Held) => ({ f: 'ack', value: { queue: h.queue, message: h.message, id: h.id, receipt: h.receipt }, process });

/** The free client process to go next: one that holds a delivery to ack, else the lowest. */
const freeClient = (ctx: GenContext, held: ReadonlyMap<ProcessId, Held>): ProcessId | undefined =>
  ctx.free.find((p) => held.has(p)) ?? ctx.free.find((p) => typeof p === 'number');

/** `m` without `key` (`m` itself when it lacks it). */
function without<K, V>(m: ReadonlyMap<K, V>, key: K): ReadonlyMap<K, V> {
  if (!m.has(key)) return m;
  const copy = new Map(m);
  copy.delete(key);
  return copy;
}

interface MainState {
  readonly rand: Rand;
  readonly queues: number;
  readonly enqueueFraction: number;
  readonly crashRate: number;
  /** The next message's number. */
  readonly next: number;
  /** Deliveries each process acks as its next op. */
  readonly held: ReadonlyMap<ProcessId, Held>;
}

function mainGen(s: MainState): Generator {
  return {
    op(ctx: GenContext): GenResult {
      const process = freeClient(ctx, s.held);
      if (process === undefined) return 'pending';
      const held = s.held.get(process);
      if (held) return { op: ackOp(process, held), gen: this };
      const [w, r0] = nextFloat(s.rand);
      const [q, r1] = nextInt(r0, s.queues);
      const queue = queueName(q);
      if (w < s.enqueueFraction) return { op: { f: 'enqueue', value: { queue, message: `m${s.next}` }, process }, gen: mainGen({ ...s, rand: r1, next: s.next + 1 }) };
      return { op: { f: 'dequeue', value: { queue }, process }, gen: mainGen({ ...s, rand: r1 }) };
    },
    update(_ctx: GenContext, e: Op): Generator {
      if (typeof e.process !== 'number') return this;
      if (e.type === 'invoke') {
        // Whatever the process does next, it no longer holds a delivery to ack (the ack itself, too).
        return s.held.has(e.process) ? mainGen({ ...s, held: without(s.held, e.process) }) : this;
      }
      const d = deliveryOf(e);
      if (d === null) return this;
      const [x, rand] = nextFloat(s.rand);
      // The consumer crashes before its ack: the message stays leased until visibilityMs passes.
      if (x < s.crashRate) return mainGen({ ...s, rand });
      return mainGen({ ...s, rand, held: new Map(s.held).set(e.process, d) });
    },
  };
}

/**
 * The queue op generator of the main phase: endless, pure. A free process that holds a delivery
 * acks it; any other enqueues a new message (`enqueueFraction`) or dequeues, on a random queue. A
 * share `crashRate` of deliveries is never acked. Messages are `m0`, `m1`, … in generation order.
 */
export function queueGenerator(o: Pick<QueueWorkloadOptions, 'queues' | 'enqueueFraction' | 'crashRate'>, seed: number): Generator {
  return mainGen({ rand: seedRand(seed), queues: o.queues, enqueueFraction: o.enqueueFraction, crashRate: o.crashRate, next: 0, held: new Map() });
}

interface DrainState {
  readonly queues: readonly string[];
  /** How long after its last lease a queue must still answer empty, ns. */
  readonly quietNs: number;
  readonly held: ReadonlyMap<ProcessId, Held>;
  /** Client ops in flight: their queue and invocation time. */
  readonly inflight: ReadonlyMap<ProcessId, { readonly queue: string; readonly at: number }>;
  /** Per queue: the last completion that may have leased or added a message, ns. */
  readonly lastActivity: ReadonlyMap<string, number>;
  readonly drained: ReadonlySet<string>;
  /** Round robin over the queues not drained yet. */
  readonly turn: number;
}

function drainGen(s: DrainState): Generator {
  return {
    op(ctx: GenContext): GenResult {
      const process = freeClient(ctx, s.held);
      if (process !== undefined && s.held.has(process)) return { op: ackOp(process, s.held.get(process) as Held), gen: this };
      const left = s.queues.filter((q) => !s.drained.has(q));
      if (left.length === 0 && s.held.size === 0) return null;
      if (process === undefined || left.length === 0) return 'pending';
      const queue = left[s.turn % left.length] as string;
      return { op: { f: 'dequeue', value: { queue }, process }, gen: drainGen({ ...s, turn: s.turn + 1 }) };
    },
    update(ctx: GenContext, e: Op): Generator {
      if (typeof e.process !== 'number') return this;
      const queue = field(e.value, 'queue');
      const time = e.time ?? ctx.time;
      if (e.type === 'invoke') {
        const held = without(s.held, e.process);
        const inflight = typeof queue === 'string' && e.f !== 'ack' ? new Map(s.inflight).set(e.process, { queue, at: time }) : s.inflight;
        return held === s.held && inflight === s.inflight ? this : drainGen({ ...s, held, inflight });
      }
      const started = s.inflight.get(e.process);
      const inflight = without(s.inflight, e.process);
      if (typeof queue !== 'string' || (e.f !== 'enqueue' && e.f !== 'dequeue') || e.type === 'fail') return drainGen({ ...s, inflight });
      const d = deliveryOf(e);
      const empty = e.type === 'ok' && e.f === 'dequeue' && d === null;
      if (!empty) {
        // A delivery, an unknown dequeue, an enqueue that (may have) happened: the queue is busy again.
        const drained = new Set(s.drained);
        drained.delete(queue);
        return drainGen({
          ...s,
          inflight,
          drained,
          lastActivity: new Map(s.lastActivity).set(queue, time),
          held: d === null ? s.held : new Map(s.held).set(e.process, d),
        });
      }
      const quiet = started !== undefined && started.at > (s.lastActivity.get(queue) ?? -Infinity) + s.quietNs;
      const busy = [...inflight.values()].some((o) => o.queue === queue);
      if (!quiet || busy || s.drained.has(queue)) return drainGen({ ...s, inflight });
      return drainGen({ ...s, inflight, drained: new Set(s.drained).add(queue) });
    },
  };
}

/**
 * The final phase's generator: acks what consumers hold and dequeues every queue in turn until
 * each is drained (see the module doc), then ends. It follows the main phase's events (leases,
 * enqueues and deliveries still held), which every later phase is given.
 */
export function queueDrainGenerator(o: Pick<QueueWorkloadOptions, 'queues' | 'visibilityMs'>): Generator {
  const marginMs = Math.max(250, o.visibilityMs / 4);
  return drainGen({
    queues: Array.from({ length: o.queues }, (_, i) => queueName(i)),
    quietNs: (o.visibilityMs + marginMs) * 1e6,
    held: new Map(),
    inflight: new Map(),
    lastActivity: new Map(),
    drained: new Set(),
    turn: 0,
  });
}

// ——— the client ———

/** The queue client of every process: one {@link HttpClient} over all nodes. */
export class QueueClient implements Client {
  readonly #o: QueueWorkloadOptions;
  readonly #http: HttpClient;

  /** `endpoints`: node id → base URL. */
  constructor(endpoints: ReadonlyMap<string, string>, o: QueueWorkloadOptions, seed: number) {
    if (endpoints.size === 0) throw new RangeError('queue client: no endpoints');
    this.#o = o;
    this.#http = new HttpClient(endpoints, { seed, timeoutMs: o.opTimeoutMs, attemptTimeoutMs: o.attemptTimeoutMs });
  }

  async invoke(op: Op): Promise<Completion> {
    const queue = field(op.value, 'queue');
    if (typeof queue !== 'string' || !ID_RE.test(queue)) throw new TypeError(`queue client: op ${op.index} has no valid queue: ${JSON.stringify(op.value)}`);
    const path = (action: string): string => `/queue/${encodeURIComponent(queue)}/${action}`;
    switch (op.f) {
      case 'enqueue': {
        const message = field(op.value, 'message');
        if (typeof message !== 'string' || !ID_RE.test(message)) throw new TypeError(`queue client: op ${op.index}: the message must be a valid id (it is the enqueue's id): ${JSON.stringify(op.value)}`);
        // The message is its own id: a retry on another node enqueues it at most once.
        const r = await this.#http.request({ method: 'POST', path: path('enqueue'), body: { message, id: message } });
        const node = r.node ?? '';
        if (r.outcome !== 'ok') return { type: r.outcome, value: op.value, error: r.error, node };
        const id = r.body?.['id'];
        if (typeof id !== 'string') throw new TypeError(`queue client: ${node} answered an enqueue on ${queue} without an id: ${JSON.stringify(r.body)}`);
        return { type: 'ok', value: { queue, message, id }, node };
      }
      case 'dequeue': {
        const { visibilityMs, waitMs } = this.#o;
        const r = await this.#http.request({
          method: 'POST',
          path: path('dequeue'),
          body: { visibilityMs, waitMs },
          timeoutMs: this.#o.opTimeoutMs + waitMs,
          attemptTimeoutMs: this.#o.attemptTimeoutMs + waitMs,
        });
        const node = r.node ?? '';
        if (r.outcome !== 'ok') return { type: r.outcome, value: op.value, error: r.error, node };
        if (r.body === null) return { type: 'ok', value: { queue, message: null }, node };
        const { id, message, receipt, deliveries } = r.body;
        if (typeof id !== 'string' || typeof message !== 'string' || typeof receipt !== 'string' || typeof deliveries !== 'number') {
          throw new TypeError(`queue client: ${node} answered a dequeue of ${queue} with a malformed message: ${JSON.stringify(r.body)}`);
        }
        return { type: 'ok', value: { queue, message, id, receipt, deliveries }, node };
      }
      case 'ack': {
        const receipt = field(op.value, 'receipt');
        if (typeof receipt !== 'string') throw new TypeError(`queue client: op ${op.index}: an ack needs a receipt: ${JSON.stringify(op.value)}`);
        const r = await this.#http.request({ method: 'POST', path: path('ack'), body: { receipt } });
        const node = r.node ?? '';
        if (r.outcome === 'fail' && r.earlierMayHaveApplied) return { type: 'info', value: op.value, error: `indeterminate: ${r.error} after an attempt that may have acked`, node };
        return r.outcome === 'ok' ? { type: 'ok', value: op.value, node } : { type: r.outcome, value: op.value, error: r.error, node };
      }
      default:
        throw new TypeError(`queue client: unknown op f "${op.f}"`);
    }
  }

  async close(): Promise<void> {
    await this.#http.close();
  }
}

/** The queue workload over nodes reachable at `endpoints`. */
export function queueWorkload(o: QueueWorkloadOptions, ctx: WorkloadContext): Workload {
  return {
    name: 'queue',
    client: new QueueClient(ctx.endpoints, o, ctx.seed),
    generator: queueGenerator(o, ctx.seed),
    finalGenerator: queueDrainGenerator(o),
    checker: queueChecker(o.contract),
    describe:
      `queue: ${o.queues} queues, ${Math.round(o.enqueueFraction * 100)} % enqueues, leases of ${o.visibilityMs} ms, long polls of ${o.waitMs} ms, ` +
      `${Math.round(o.crashRate * 100)} % of deliveries never acked (consumer crash), then a drain of every queue; checked ${o.contract}`,
  };
}

/** The queue workload's entry in the registry (`workloads/index.ts`). */
export const queueWorkloadDefinition = defineWorkload(queueWorkloadSchema, queueWorkload, queueWorkloadIssues);
