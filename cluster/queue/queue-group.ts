/**
 * The queue API of one replica group, served by the group's Raft leader:
 *
 * - **enqueue** proposes `enq` and answers once it is applied — committed, i.e. fsynced on a
 *   majority of the group (the whole log is, before the leader counts a member in);
 * - **dequeue** confirms leadership with a ReadIndex (so a deposed leader never hands out a
 *   message that the new one has seen acknowledged), then leases the oldest message that is not
 *   leased for `visibilityMs` and answers it with a fresh random **receipt**; with `waitMs` it
 *   waits for a message (an enqueue applied, a lease running out);
 * - **ack** takes a receipt this leader gave for the message's current lease, proposes `ack`,
 *   and answers once it is applied; an unknown or superseded receipt is 409 `unknown-receipt`.
 *
 * Leases, receipts and delivery counts are the leader's own: a lease that runs out makes the
 * message deliverable again with its count raised; a new leader starts with none (messages in
 * flight are delivered again: at-least-once).
 */
import { randomUUID } from 'node:crypto';
import { type ProposalOutcome, type RaftNode } from '../raft/raft-node.js';
import type { QueueCommand, QueueMachine, QueueResult } from './queue-machine.js';
import { unavailable, type ServiceReply } from '../node/reply.js';
import { raftFailure, settledBy } from '../node/raft-reply.js';
import { FP } from '../failpoints.js';

/** A message's lease, on the leader. */
interface Lease {
  readonly receipt: string;
  /** `performance.now()` when it runs out. */
  readonly until: number;
}

/** The leader's view of one queue: leases, receipts, delivery counts, long polls waiting. */
class LeaderQueue {
  /** id → its current lease (the message is in flight until `until`). */
  readonly leases = new Map<string, Lease>();
  /** receipt → id, for the current lease of each leased message. */
  readonly receipts = new Map<string, string>();
  /** id → how often it was delivered by this leader. */
  readonly deliveries = new Map<string, number>();
  /** Long polls to wake when something may have become deliverable. */
  readonly waiters = new Set<() => void>();
  /** FAILPOINT queue.expired-lease-drops: messages whose lease ran out, never delivered again. */
  readonly dropped = new Set<string>();
}

/** Counters of a group's leader since this node started. */
export interface QueueCounters {
  enqueued: number;
  delivered: number;
  redelivered: number;
  acked: number;
  failovers: number;
}

/** Options of a {@link QueueGroup}. */
export interface QueueGroupOptions {
  /** How long a request may wait for a commit or a ReadIndex, ms. */
  readonly requestTimeoutMs: number;
  /** Most messages pending in the group (all its queues); an enqueue past it is 429. @default DEFAULT_MAX_QUEUE_MESSAGES */
  readonly maxMessages?: number;
}

/** The default of {@link QueueGroupOptions.maxMessages}. */
export const DEFAULT_MAX_QUEUE_MESSAGES = 1_000_000;

/** A receipt: a random (v4) UUID, 122 random bits — from a cached pool of randomness, so cheap per call. */
const newReceipt = (): string => randomUUID();

/** The queues of one replica group on this node. */
export class QueueGroup {
  readonly name: string;
  readonly members: readonly string[];
  readonly raft: RaftNode;
  readonly machine: QueueMachine;
  readonly counters: QueueCounters = { enqueued: 0, delivered: 0, redelivered: 0, acked: 0, failovers: 0 };
  readonly #timeoutMs: number;
  readonly #maxMessages: number;
  #queues = new Map<string, LeaderQueue>();
  #closed = false;
  /** FAILPOINT queue.ack-before-commit: enqueues answered but not yet proposed. */
  #writeBehind: QueueCommand[] = [];
  #writeBehindTimer: NodeJS.Timeout | undefined;
  /** The ReadIndex in flight, and the one queued behind it (see #confirmLeadership). */
  #readInFlight: Promise<number> | null = null;
  #nextRead: Promise<number> | null = null;
  #startNext: (() => void) | null = null;

  constructor(name: string, members: readonly string[], raft: RaftNode, machine: QueueMachine, o: QueueGroupOptions) {
    this.name = name;
    this.members = members;
    this.raft = raft;
    this.machine = machine;
    this.#timeoutMs = o.requestTimeoutMs;
    this.#maxMessages = o.maxMessages ?? DEFAULT_MAX_QUEUE_MESSAGES;
    machine.events = {
      enqueued: (q) => this.#wake(q),
      acked: (q, id) => {
        const lq = this.#queues.get(q);
        if (!lq) return;
        const lease = lq.leases.get(id);
        if (lease) lq.receipts.delete(lease.receipt);
        lq.leases.delete(id);
        lq.deliveries.delete(id);
      },
      restored: () => this.#forget(),
    };
  }

  get requestTimeoutMs(): number {
    return this.#timeoutMs;
  }

  /** Raft leadership of the group moved: leases were this leader's, and go with it. */
  leadershipChanged(role: string): void {
    if (role === 'leader') this.counters.failovers++;
    this.#forget();
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#writeBehindTimer);
    this.#forget();
  }

  /** Drops the leader state and wakes every long poll (it re-checks the role). */
  #forget(): void {
    const queues = this.#queues;
    this.#queues = new Map();
    for (const lq of queues.values()) for (const wake of lq.waiters) wake();
  }

  #leaderQueue(q: string): LeaderQueue {
    let lq = this.#queues.get(q);
    if (!lq) this.#queues.set(q, (lq = new LeaderQueue()));
    return lq;
  }

  #wake(q: string): void {
    const lq = this.#queues.get(q);
    if (lq) for (const wake of lq.waiters) wake();
  }

  /** Enqueues `message` as `id`; answers once a majority of the group has it. */
  async enqueue(q: string, id: string, message: string): Promise<ServiceReply> {
    // Checked on the leader before proposing: enqueues in flight at once may pass it by their number.
    if (this.machine.pendingTotal >= this.#maxMessages) {
      return { status: 429, body: { error: 'limit-exceeded', limit: 'max-queue-messages', max: this.#maxMessages, definite: true, message: `queue group ${this.name} holds the most messages it may (${this.#maxMessages}, --max-queue-messages); ack some first` } };
    }
    const command: QueueCommand = { t: 'enq', q, id, m: message };
    if (FP['queue.ack-before-commit']) return this.#enqueueWriteBehind(command);
    const out = await this.#commit(command);
    if ('status' in out) return out;
    if (out.t !== 'enq') return { status: 500, body: { error: 'internal', message: `an enqueue applied as ${out.t}` } };
    if (!out.duplicate) this.counters.enqueued++;
    return { status: 200, body: { id: out.id, ...(out.duplicate ? { duplicate: true } : {}) } };
  }

  /**
   * FAILPOINT queue.ack-before-commit: answers at once and proposes the buffered enqueues every
   * 500 ms (write-behind) — a crash or an isolated leader loses what it acknowledged.
   */
  #enqueueWriteBehind(command: QueueCommand): ServiceReply {
    if (this.raft.role !== 'leader') return unavailable(`${this.raft.id} is not the leader of queue group ${this.name}`, this.raft.leader, true);
    this.#writeBehind.push(command);
    this.#writeBehindTimer ??= setInterval(() => {
      const batch = this.#writeBehind;
      this.#writeBehind = [];
      for (const c of batch) this.raft.propose(c).catch(() => undefined);
    }, 500);
    this.counters.enqueued++;
    return { status: 200, body: { id: command.id } };
  }

  /**
   * Leases the oldest deliverable message of `q` for `visibilityMs`; with `waitMs` > 0 waits that
   * long for one. 204 when there is none.
   */
  async dequeue(q: string, visibilityMs: number, waitMs: number, clientGone?: AbortSignal): Promise<ServiceReply> {
    const waitEnd = performance.now() + waitMs;
    for (;;) {
      if (this.#closed) return unavailable('the node is shutting down', null, true);
      if (this.raft.role !== 'leader') return unavailable(`${this.raft.id} is not the leader of queue group ${this.name}`, this.raft.leader, true);
      try {
        const confirmed = await settledBy(performance.now() + this.#timeoutMs, this.#confirmLeadership());
        if (!confirmed) return unavailable(`could not confirm leadership of queue group ${this.name} with a quorum in time`, this.raft.leader, true);
      } catch (e) {
        return raftFailure(e, true);
      }
      if (this.raft.role !== 'leader') continue;
      const got = this.#lease(q, visibilityMs);
      if (got) return got;
      const left = waitEnd - performance.now();
      if (left <= 0 || clientGone?.aborted) return { status: 204, body: {} };
      await this.#waitForMessage(q, left, clientGone);
    }
  }

  /**
   * A ReadIndex started after this call: resolves once a majority confirmed this node still
   * leads and the state is applied that far. Dequeues that arrive while one is in flight share
   * the next one (etcd's read loop): one heartbeat round per batch, not per dequeue.
   */
  #confirmLeadership(): Promise<number> {
    // A group of one has no one to lose its leadership to, and applies each entry before it is
    // answered: its state is current whenever it is the leader.
    if (this.members.length === 1) return Promise.resolve(this.raft.applied);
    if (this.#nextRead) return this.#nextRead;
    const start = (): Promise<number> => {
      const p = this.raft.readIndex();
      this.#readInFlight = p;
      const done = (): void => {
        this.#readInFlight = null;
        const startNext = this.#startNext;
        this.#nextRead = null;
        this.#startNext = null;
        startNext?.();
      };
      p.then(done, done);
      return p;
    };
    if (this.#readInFlight === null) return start();
    // One is in flight (it started before this call): queue behind it.
    this.#nextRead = new Promise<number>((resolve, reject) => {
      this.#startNext = () => start().then(resolve, reject);
    });
    return this.#nextRead;
  }

  /** Takes the oldest deliverable message of `q` (not leased, or its lease ran out) and leases it. */
  #lease(q: string, visibilityMs: number): ServiceReply | null {
    const s = this.machine.queues.get(q);
    if (!s || s.pending.size === 0) return null;
    const lq = this.#leaderQueue(q);
    const now = performance.now();
    for (const [id, message] of s.pending) {
      const lease = lq.leases.get(id);
      if (lease && lease.until > now) continue;
      if (FP['queue.expired-lease-drops'] && (lease !== undefined || lq.dropped.has(id))) {
        // FAILPOINT queue.expired-lease-drops: a lease that ran out is taken for an ack.
        lq.dropped.add(id);
        continue;
      }
      if (lease) lq.receipts.delete(lease.receipt);
      const receipt = newReceipt();
      lq.leases.set(id, { receipt, until: now + visibilityMs });
      lq.receipts.set(receipt, id);
      const deliveries = (lq.deliveries.get(id) ?? 0) + 1;
      lq.deliveries.set(id, deliveries);
      this.counters.delivered++;
      if (deliveries > 1) this.counters.redelivered++;
      return { status: 200, body: { id, message, receipt, deliveries } };
    }
    return null;
  }

  /** Waits until `q` may have a deliverable message (an enqueue, a lease running out), `ms`, a role change, or the client going. */
  async #waitForMessage(q: string, ms: number, clientGone?: AbortSignal): Promise<void> {
    const lq = this.#leaderQueue(q);
    let soonest = ms;
    const now = performance.now();
    for (const lease of lq.leases.values()) soonest = Math.min(soonest, Math.max(1, lease.until - now + 1));
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        lq.waiters.delete(done);
        // A poll of a queue with nothing leased leaves nothing behind (any name may be polled).
        if (lq.waiters.size === 0 && lq.leases.size === 0 && lq.dropped.size === 0 && this.#queues.get(q) === lq) this.#queues.delete(q);
        clientGone?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, soonest);
      lq.waiters.add(done);
      clientGone?.addEventListener('abort', done);
    });
  }

  /** Acknowledges the message of `receipt` in `q`; 409 `unknown-receipt` if it is not a current lease's. */
  async ack(q: string, receipt: string): Promise<ServiceReply> {
    if (this.raft.role !== 'leader') return unavailable(`${this.raft.id} is not the leader of queue group ${this.name}`, this.raft.leader, true);
    const lq = this.#queues.get(q);
    const id = lq?.receipts.get(receipt);
    if (lq === undefined || id === undefined) {
      return { status: 409, body: { error: 'unknown-receipt', message: `no message of "${q}" is leased with this receipt here (acknowledged already, leased again since, or leased by an earlier leader)` } };
    }
    if (FP['queue.ack-on-leader-only']) {
      // FAILPOINT queue.ack-on-leader-only: the leader forgets the message itself; nothing is replicated.
      this.machine.queues.get(q)?.pending.delete(id);
      lq.receipts.delete(receipt);
      lq.leases.delete(id);
      this.counters.acked++;
      return { status: 200, body: { id } };
    }
    const out = await this.#commit({ t: 'ack', q, id });
    if ('status' in out) return out;
    if (out.t === 'ack' && out.acked) this.counters.acked++;
    return { status: 200, body: { id } };
  }

  /** Proposes and waits until applied: the state machine's result, or the reply on failure. */
  async #commit(command: QueueCommand): Promise<ServiceReply | QueueResult> {
    let outcome: ProposalOutcome | undefined;
    try {
      const p = this.raft.propose(command);
      const ok = await settledBy(performance.now() + this.#timeoutMs, p.then((o) => void (outcome = o)));
      if (!ok || outcome === undefined) return unavailable(`proposed to queue group ${this.name} but not committed in time (no quorum?)`, this.raft.leader, false);
    } catch (e) {
      return raftFailure(e, false);
    }
    switch (outcome.status) {
      case 'applied':
        return outcome.result as QueueResult;
      case 'lost':
        return unavailable('leadership changed before the command committed; it was not applied', this.raft.leader, true);
      case 'unknown':
        return unavailable('leadership changed; whether the command was applied is unknown', this.raft.leader, false);
      default: {
        const never: never = outcome;
        throw new TypeError(`unknown outcome ${JSON.stringify(never)}`);
      }
    }
  }

  /** Per queue: depth (pending), in flight (leased now), total enqueued and acked. */
  depths(): Record<string, { depth: number; inFlight: number; enqueued: number; acked: number }> {
    const now = performance.now();
    const out: Record<string, { depth: number; inFlight: number; enqueued: number; acked: number }> = {};
    for (const [q, s] of this.machine.queues) {
      let inFlight = 0;
      for (const lease of this.#queues.get(q)?.leases.values() ?? []) if (lease.until > now) inFlight++;
      out[q] = { depth: s.pending.size, inFlight, enqueued: s.enqueued, acked: s.ackedTotal };
    }
    return out;
  }
}
