/**
 * ReadIndex bookkeeping of a Raft leader (Raft §6.4): a read takes the commit index when it
 * starts and may be served once a majority has answered a heartbeat sent after it started
 * (proving this member was still the leader then). Reads wait until the leader has committed an
 * entry of its own term (before that its commit index may be stale). Pure bookkeeping: the core
 * sends the heartbeats and moves ready reads into its Ready.
 */
import type { ReadState } from './types.js';

interface PendingRead {
  readonly id: number;
  readonly index: number;
  readonly seq: number;
  readonly acks: Set<string>;
}

/** The reads a leader has in flight. */
export class ReadIndexTracker {
  readonly #self: string;
  readonly #quorum: number;
  #pending: PendingRead[] = [];
  /** Reads waiting for the leader's first commit in its term. */
  #deferred: number[] = [];
  #seq = 0;

  constructor(self: string, quorum: number) {
    this.#self = self;
    this.#quorum = quorum;
  }

  /** Holds `id` until {@link commitInTerm}. */
  defer(id: number): void {
    this.#deferred.push(id);
  }

  /** The reads deferred so far, now that the leader committed in its term (start them). */
  takeDeferred(): number[] {
    const d = this.#deferred;
    this.#deferred = [];
    return d;
  }

  /**
   * Starts read `id` at commit index `index`. Returns it as ready at once (a single member is its
   * own quorum), or the sequence number the confirming heartbeats must carry.
   */
  start(id: number, index: number): { ready: ReadState } | { seq: number } {
    if (this.#quorum === 1) return { ready: { id, index } };
    const seq = ++this.#seq;
    this.#pending.push({ id, index, seq, acks: new Set([this.#self]) });
    return { seq };
  }

  /** `from` answered the heartbeat of sequence `seq`: the reads now confirmed, in order. */
  ack(from: string, seq: number): ReadState[] {
    for (const r of this.#pending) {
      if (r.seq > seq) break;
      r.acks.add(from);
    }
    let done = 0;
    while (done < this.#pending.length && (this.#pending[done] as PendingRead).acks.size >= this.#quorum) done++;
    const ready = this.#pending.slice(0, done).map((r) => ({ id: r.id, index: r.index }));
    if (done > 0) this.#pending = this.#pending.slice(done);
    return ready;
  }

  /** Drops every read (leadership lost): their ids, to fail. */
  failAll(): number[] {
    const ids = [...this.#pending.map((r) => r.id), ...this.#deferred];
    this.#pending = [];
    this.#deferred = [];
    return ids;
  }
}
