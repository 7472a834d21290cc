/**
 * The closed-loop load of the queue benchmark: `clients` producers and as many consumers over
 * {@link QUEUE_COUNT} queues, for a fixed time, then a drain that checks every message came out.
 * It only knows the {@link QueueTarget} interface, so dsync, JetStream and Redis get the
 * identical load.
 *
 * Producer `i` and consumer `i` work on queue `i mod queues`. A producer may only enqueue while
 * its queue holds fewer messages enqueued-but-not-yet-dequeued (in flight included) than the
 * queue has consumers: the backlog is one message per consumer, so the end-to-end latency is the
 * service time of enqueue → dequeue → ack, not time spent waiting in a long queue.
 */
import { CpuWindow, cpuField } from './process-cpu.js';
import { randomBytes } from 'node:crypto';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Histogram } from 'hdr-histogram-js';
import { histogram, micros } from './bench-histogram.js';
import type { QueueClient, QueueTarget } from './queue-target.js';
import { closeAll, createClients, upTo } from './bench-clients.js';
import { errorMessage } from '../../cluster/errors.js';

/** How {@link runQueueLoad} loads the target. */
export interface QueueLoadOptions {
  /** Producers, and as many consumers (≥ 1); each is a client of its own. */
  clients: number;
  /** Length of the measured window after the warmup, in ms. */
  durationMs: number;
  /** Unmeasured time before the window, in ms. @default 0 */
  warmupMs?: number;
  /** Queues the clients are spread over. @default {@link QUEUE_COUNT} */
  queues?: number;
  /** Bytes of each message (its id, a colon, then padding). @default {@link MESSAGE_BYTES} */
  messageBytes?: number;
  /** No new enqueue starts after this many measured ones, even if time is left. @default 1,000,000 */
  maxMessages?: number;
  /** How long one dequeue waits for a message before it comes back empty, in ms. @default {@link DEQUEUE_WAIT_MS} */
  waitMs?: number;
  /** How long the drain may take after the last enqueue, in ms. @default {@link DRAIN_MS} */
  drainMs?: number;
}

/** What one load measured. Latencies in ms (NaN when nothing was measured). */
export interface QueueLoadResult {
  /** Producers (and consumers). */
  clients: number;
  /** Queues in use: `min(clients, queues)`. */
  queues: number;
  /** Enqueues acknowledged inside the measured window. */
  enqueues: number;
  enqueuesPerSec: number;
  /** Latency of one enqueue request. */
  enqueueP50Ms: number;
  enqueueP99Ms: number;
  /** Messages whose first ack completed inside the measured window. */
  messages: number;
  messagesPerSec: number;
  /** From the start of a message's enqueue to the completion of its first ack (enqueue → dequeue → ack). */
  endToEndP50Ms: number;
  endToEndP99Ms: number;
  endToEndMaxMs: number;
  /** Enqueues acknowledged over the whole run (warmup and window). */
  enqueued: number;
  /** Acknowledged enqueues never dequeued, after the drain. */
  lost: number;
  /** Deliveries beyond the first of a message. */
  duplicates: number;
  /** Deliveries of ids this run never enqueued. */
  unexpected: number;
  /** Deliveries whose message is not the one enqueued under their id. */
  corrupted: number;
  /** Failed requests (enqueue, dequeue or ack), warmup and drain included, plus a drain that ran out of time. */
  errors: number;
  /** The message of the first error. */
  firstError?: string;
  /** Length of the measured window: `durationMs`, or less when the run stopped early. */
  elapsedMs: number;
  /** From the end of the producers to the end of the drain. */
  drainMs: number;
  /** CPU seconds the target's server processes used per 1,000 messages acked in the window (absent when not known). */
  cpuSPer1000?: number;
}

/** The number of queues of the benchmark. */
export const QUEUE_COUNT = 8;
/** The size of each message. */
export const MESSAGE_BYTES = 100;
/** The default of {@link QueueLoadOptions.waitMs}. */
export const DEQUEUE_WAIT_MS = 1000;
/** The default of {@link QueueLoadOptions.maxMessages}. */
export const DEFAULT_MAX_MESSAGES = 1_000_000;
/** Producers stop after this many failed requests; consumers stop once the producers have. */
export const MAX_ERRORS = 1000;
/** The default of {@link QueueLoadOptions.drainMs}. */
export const DRAIN_MS = 30_000;

/** The name of queue `k` (0-based). */
export const queueName = (k: number): string => `bench-q${k}`;
/** The names of the first `n` queues. */
export const queueNames = (n: number = QUEUE_COUNT): string[] => Array.from({ length: n }, (_, k) => queueName(k));

/** The message enqueued under `id`: the id, a colon, and dots up to `bytes` (so a delivery shows whether it is intact). */
export const messageFor = (id: string, bytes: number): string => `${id}:`.padEnd(bytes, '.');

/** What the run knows of one message it enqueued. */
interface Sent {
  readonly queue: number;
  /** When its enqueue started. */
  readonly t0: number;
  state: 'sending' | 'ok' | 'failed';
  deliveries: number;
  /** It still holds a place in its queue's backlog (released by its first delivery or a failed enqueue). */
  inBacklog: boolean;
  acked: boolean;
}

/**
 * Runs the load against `target` and measures it.
 *
 * The window starts `warmupMs` after all clients exist and lasts `durationMs`; an enqueue counts
 * when its acknowledgement arrives inside the window, a message when its first ack completes
 * inside it. No enqueue starts after the window, after `maxMessages` measured ones or after
 * {@link MAX_ERRORS} errors. Then the drain: the consumers go on until a dequeue that started
 * after the last enqueue finished comes back empty (for at most `drainMs`), and every message
 * enqueued is looked up among those dequeued: lost, duplicated, unexpected, corrupted. Every
 * client is closed at the end, also when one could not be created.
 */
export async function runQueueLoad(target: QueueTarget, opts: QueueLoadOptions): Promise<QueueLoadResult> {
  const { clients: n, durationMs } = opts;
  const warmupMs = opts.warmupMs ?? 0;
  const queueCount = opts.queues ?? QUEUE_COUNT;
  const bytes = opts.messageBytes ?? MESSAGE_BYTES;
  const maxMessages = opts.maxMessages ?? DEFAULT_MAX_MESSAGES;
  const waitMs = opts.waitMs ?? DEQUEUE_WAIT_MS;
  const drainMs = opts.drainMs ?? DRAIN_MS;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`clients must be a positive integer, got ${n}`);
  if (!(durationMs > 0) || !Number.isFinite(durationMs)) throw new RangeError(`durationMs must be positive, got ${durationMs}`);
  if (!(warmupMs >= 0) || !Number.isFinite(warmupMs)) throw new RangeError(`warmupMs must be ≥ 0, got ${warmupMs}`);
  if (!Number.isInteger(queueCount) || queueCount < 1) throw new RangeError(`queues must be a positive integer, got ${queueCount}`);
  if (!Number.isInteger(maxMessages) || maxMessages < 1) throw new RangeError(`maxMessages must be a positive integer, got ${maxMessages}`);
  if (!(waitMs > 0) || !(drainMs > 0)) throw new RangeError(`waitMs and drainMs must be positive, got ${waitMs} and ${drainMs}`);
  const tag = randomBytes(4).toString('hex'); // tells this run's ids from any left over by an earlier one
  if (messageFor(`${tag}-p${n}-${Number.MAX_SAFE_INTEGER}`, bytes).length > bytes) throw new RangeError(`messageBytes ${bytes} cannot hold a message id`);

  // Producers are clients 0..n-1, consumers n..2n-1: both spread round-robin over the nodes.
  const clients = await createClients(target, upTo(2 * n));
  const producers = clients.slice(0, n);
  const consumers = clients.slice(n);
  const used = Math.min(n, queueCount);
  const limit = Array.from({ length: used }, (_, q) => consumers.filter((_, i) => i % queueCount === q).length);
  const backlog = new Array<number>(used).fill(0);
  const waiting = Array.from({ length: used }, () => [] as Array<() => void>);
  const sent = new Map<string, Sent>();
  const enqueueHist = histogram();
  const endToEndHist = histogram();
  let result: QueueLoadResult;
  try {
    let enqueues = 0;
    let messages = 0;
    let enqueued = 0;
    let duplicates = 0;
    let unexpected = 0;
    let corrupted = 0;
    let errors = 0;
    let firstError: string | undefined;
    const fail = (e: unknown): void => {
      errors++;
      firstError ??= errorMessage(e);
    };
    let stopped = false; // no new enqueues
    let producersDone = false; // every enqueue has finished: a dequeue started now that finds nothing means drained
    let finished = false; // the result is taken: record nothing more
    let stopAt: number | undefined; // when the window closed early
    const start = performance.now() + warmupMs;
    const end = start + durationMs;
    const inWindow = (t: number): boolean => !finished && t >= start && t <= end;

    const release = (q: number): void => {
      backlog[q] = (backlog[q] ?? 0) - 1;
      waiting[q]?.shift()?.();
    };
    // The servers' CPU over the same window as the counts (closed early with it).
    const cpu = new CpuWindow(() => target.pids(), start - performance.now());
    const stop = (now: number): void => {
      if (stopped) return;
      stopped = true;
      void cpu.close();
      if (now < end) stopAt = Math.max(now, start);
      for (const w of waiting) for (const wake of w.splice(0)) wake();
    };
    const windowTimer = setTimeout(() => stop(end), Math.max(0, end - performance.now())); // the window's end, however early the timer fires

    const produce = async (client: QueueClient, i: number): Promise<void> => {
      const q = i % queueCount;
      const queue = queueName(q);
      for (let seq = 0; !stopped; seq++) {
        while (!stopped && (backlog[q] ?? 0) >= (limit[q] ?? 0)) await new Promise<void>((wake) => waiting[q]?.push(wake));
        const t0 = performance.now();
        if (stopped || t0 >= end) break;
        const id = `${tag}-p${i}-${seq}`;
        const rec: Sent = { queue: q, t0, state: 'sending', deliveries: 0, inBacklog: true, acked: false };
        sent.set(id, rec);
        backlog[q] = (backlog[q] ?? 0) + 1;
        try {
          await client.enqueue(queue, messageFor(id, bytes), id);
        } catch (e) {
          rec.state = 'failed';
          if (rec.inBacklog) {
            rec.inBacklog = false;
            release(q);
          }
          if (finished) return;
          fail(e);
          if (errors > MAX_ERRORS) stop(performance.now());
          continue;
        }
        rec.state = 'ok';
        enqueued++;
        const t1 = performance.now();
        if (!inWindow(t1) || enqueues >= maxMessages) continue;
        enqueueHist.recordValue(micros(t1 - t0));
        if (++enqueues >= maxMessages) stop(t1);
      }
    };

    const consume = async (client: QueueClient, i: number): Promise<void> => {
      const q = i % queueCount;
      const queue = queueName(q);
      while (!finished) {
        const drainedIfEmpty = producersDone;
        let d;
        try {
          d = await client.dequeue(queue, waitMs);
        } catch (e) {
          if (finished) return;
          fail(e);
          if (errors > MAX_ERRORS && producersDone) return; // the drain cannot succeed: give up
          await yieldToLoop();
          continue;
        }
        if (d === null) {
          if (drainedIfEmpty) return;
          await yieldToLoop(); // a target that answers "empty" at once must not starve the timers
          continue;
        }
        const rec = sent.get(d.id);
        if (rec === undefined) unexpected++;
        else {
          if (++rec.deliveries > 1) duplicates++;
          if (rec.inBacklog) {
            rec.inBacklog = false;
            release(rec.queue);
          }
        }
        if (d.message !== messageFor(d.id, bytes)) corrupted++;
        try {
          await d.ack();
        } catch (e) {
          if (finished) return;
          fail(e);
          continue;
        }
        const t1 = performance.now();
        if (rec === undefined || rec.acked) continue;
        rec.acked = true;
        if (!inWindow(t1)) continue;
        endToEndHist.recordValue(micros(t1 - rec.t0));
        messages++;
      }
    };

    const consuming = Promise.all(consumers.map((c, i) => consume(c, i)));
    const producing = Promise.all(producers.map((c, i) => produce(c, i)));
    const producersFinished = await within(producing, Math.max(0, end - performance.now()) + drainMs);
    clearTimeout(windowTimer);
    stop(performance.now());
    const cpuS = await cpu.close();
    producersDone = true;
    if (!producersFinished) fail(new Error(`enqueues still pending ${drainMs} ms after the end of the run`));
    const drainStart = performance.now();
    const drained = await within(consuming, drainMs);
    const drainEnd = performance.now();
    finished = true;
    if (!drained) fail(new Error(`the drain did not finish within ${drainMs} ms`));

    let lost = 0;
    for (const rec of sent.values()) if (rec.state === 'ok' && rec.deliveries === 0) lost++;
    const elapsedMs = stopAt === undefined ? durationMs : stopAt - start;
    const perSec = (count: number): number => (elapsedMs > 0 ? (count * 1000) / elapsedMs : 0);
    const ms = (h: Histogram, count: number, p: number | 'max'): number => (count === 0 ? NaN : (p === 'max' ? h.maxValue : h.getValueAtPercentile(p)) / 1000);
    result = {
      clients: n,
      queues: used,
      enqueues,
      enqueuesPerSec: perSec(enqueues),
      enqueueP50Ms: ms(enqueueHist, enqueues, 50),
      enqueueP99Ms: ms(enqueueHist, enqueues, 99),
      messages,
      messagesPerSec: perSec(messages),
      endToEndP50Ms: ms(endToEndHist, messages, 50),
      endToEndP99Ms: ms(endToEndHist, messages, 99),
      endToEndMaxMs: ms(endToEndHist, messages, 'max'),
      enqueued,
      lost,
      duplicates,
      unexpected,
      corrupted,
      errors,
      ...(firstError === undefined ? {} : { firstError }),
      elapsedMs,
      drainMs: drainEnd - drainStart,
      ...cpuField(cpuS, messages),
    };
  } catch (e) {
    await closeAll(clients).catch(() => undefined); // the first error is the one to report
    throw e;
  } finally {
    enqueueHist.destroy();
    endToEndHist.destroy();
  }
  const closeError = await closeAll(clients).then(() => undefined, (e: unknown) => errorMessage(e));
  if (closeError !== undefined) {
    result.errors++;
    result.firstError ??= closeError;
  }
  return result;
}


/** Whether `p` settles within `ms`. */
async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p.then(() => true), new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
