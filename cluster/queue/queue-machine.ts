/**
 * The replicated state of the queues of one replica group: the state machine its Raft log
 * drives. Per queue, the messages enqueued and not yet acknowledged, in log order (FIFO), and
 * the ids of the latest acknowledged ones (so that a retried enqueue or ack with the same id is
 * applied once). Deterministic: every replica applies the same entries to the same state.
 *
 * Leases (who is working on which message, until when) are not here: they are the leader's
 * own (`queue-service.ts`); a new leader starts with none, so messages in flight at a failover
 * are delivered again — at-least-once, never lost.
 */
import { z } from 'zod';
import type { LogEntry } from '../raft/types.js';
import type { StateMachine } from '../raft/raft-node.js';

/**
 * Acknowledged ids a replica group remembers, over all its queues, for de-duplication (a retried
 * enqueue of an acked id among them is not enqueued again); older ones are forgotten, so memory
 * and snapshots stay bounded however many queues and messages pass through.
 */
export const ACKED_WINDOW = 100_000;

/** Longest queue name, message id, in characters. */
export const MAX_NAME_LENGTH = 128;
/** Queue names and message ids: printable, path-safe. */
export const NAME_PATTERN = /^[A-Za-z0-9._:-]+$/;

const name = z.string().min(1).max(MAX_NAME_LENGTH).regex(NAME_PATTERN);
/** A message body; its size is bounded by the node's body limit at the API, and by the peer line limit here. */
const message = z.string().max(16 * 1024 * 1024);

/** The log entries of the queue (validated on every replica before they are persisted). */
export const queueCommand = z.discriminatedUnion('t', [
  z.strictObject({ t: z.literal('enq'), q: name, id: name, m: message }),
  z.strictObject({ t: z.literal('ack'), q: name, id: name }),
]);
export type QueueCommand = z.output<typeof queueCommand>;

/** What applying an entry answers its proposer. */
export type QueueResult =
  | { readonly t: 'enq'; readonly id: string; /** The id was already there (pending or acked): nothing was added. */ readonly duplicate: boolean }
  | { readonly t: 'ack'; readonly id: string; /** false: no such pending message (already acked, or never enqueued). */ readonly acked: boolean };

const snapshotSchema = z.strictObject({
  queues: z.array(z.tuple([name, z.strictObject({ pending: z.array(z.tuple([name, message])), enqueued: z.number().int().min(0), ackedTotal: z.number().int().min(0) })])),
  /** The remembered acked ids, oldest first, as [queue, id]. */
  acked: z.array(z.tuple([name, name])).max(ACKED_WINDOW),
});

/** One queue's replicated state. */
export class QueueState {
  /** id → message, in enqueue order. */
  readonly pending = new Map<string, string>();
  enqueued = 0;
  ackedTotal = 0;
}

/** Hooks for the leader's service: what was just applied. */
export interface QueueMachineEvents {
  /** A message was added to `queue`. */
  enqueued?(queue: string, id: string): void;
  /** A message of `queue` was acknowledged (removed). */
  acked?(queue: string, id: string): void;
  /** The state was replaced by a snapshot. */
  restored?(): void;
}

/** The queues of one replica group. */
export class QueueMachine implements StateMachine {
  readonly queues = new Map<string, QueueState>();
  /** Messages pending over all queues. */
  pendingTotal = 0;
  /** The latest {@link ACKED_WINDOW} acknowledged messages, oldest first, keyed `queue\nid`. */
  readonly acked = new Set<string>();
  events: QueueMachineEvents = {};

  /** The state of `queue` (created empty on first use). */
  queue(queue: string): QueueState {
    let s = this.queues.get(queue);
    if (!s) this.queues.set(queue, (s = new QueueState()));
    return s;
  }

  apply(entry: LogEntry): QueueResult | null {
    if (entry.data === null) return null;
    const c = queueCommand.parse(entry.data);
    const s = this.queue(c.q);
    if (c.t === 'enq') {
      if (s.pending.has(c.id) || this.acked.has(`${c.q}\n${c.id}`)) return { t: 'enq', id: c.id, duplicate: true };
      s.pending.set(c.id, c.m);
      s.enqueued++;
      this.pendingTotal++;
      this.events.enqueued?.(c.q, c.id);
      return { t: 'enq', id: c.id, duplicate: false };
    }
    if (!s.pending.delete(c.id)) return { t: 'ack', id: c.id, acked: false };
    this.pendingTotal--;
    this.acked.add(`${c.q}\n${c.id}`);
    s.ackedTotal++;
    if (this.acked.size > ACKED_WINDOW) this.acked.delete(this.acked.values().next().value as string);
    this.events.acked?.(c.q, c.id);
    return { t: 'ack', id: c.id, acked: true };
  }

  checkEntry(data: unknown): void {
    const r = queueCommand.safeParse(data);
    if (!r.success) throw new TypeError(`not a queue command: ${r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }

  snapshot(): z.output<typeof snapshotSchema> {
    return {
      queues: [...this.queues].map(([q, s]) => [q, { pending: [...s.pending], enqueued: s.enqueued, ackedTotal: s.ackedTotal }]),
      acked: [...this.acked].map((key) => key.split('\n') as [string, string]),
    };
  }

  checkSnapshot(data: unknown): void {
    const r = snapshotSchema.safeParse(data);
    if (!r.success) throw new TypeError(`not a queue snapshot: ${r.error.issues[0]?.message ?? 'invalid'}`);
  }

  restore(data: unknown): void {
    const snap = snapshotSchema.parse(data);
    this.queues.clear();
    this.acked.clear();
    this.pendingTotal = 0;
    for (const [q, id] of snap.acked) this.acked.add(`${q}\n${id}`);
    for (const [q, v] of snap.queues) {
      const s = this.queue(q);
      for (const [id, m] of v.pending) s.pending.set(id, m);
      this.pendingTotal += s.pending.size;
      s.enqueued = v.enqueued;
      s.ackedTotal = v.ackedTotal;
    }
    this.events.restored?.();
  }
}
