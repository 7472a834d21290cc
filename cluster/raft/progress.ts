/**
 * A Raft leader's view of its followers (as etcd's raft keeps `tracker/progress.go` apart from
 * `raft.go`): how much of the log each follower has, how to send it more (probe, replicate or
 * snapshot), the window of appends in flight, and whether a quorum still answers. Pure
 * bookkeeping: the core decides what to send and asks here whether it may.
 */

/**
 * How a leader replicates to one follower: `probe` sends one append at a time until it finds
 * where their logs agree, `replicate` pipelines appends up to a window, `snapshot` waits for an
 * InstallSnapshot to be answered.
 */
export type ProgressState = 'probe' | 'replicate' | 'snapshot';

/** The leader's replication progress for one follower, with its flow control. */
export class Progress {
  #match: number;
  #next: number;
  #state: ProgressState = 'probe';
  /** probe: an append is out, wait for its answer (or the next heartbeat answer). */
  #paused = false;
  /** replicate: last index of each unacknowledged append, oldest first. */
  #inflight: number[] = [];
  readonly #maxInflight: number;
  /** snapshot: ticks since the snapshot was sent. */
  #waited = 0;
  /** Heard from since the last check-quorum round. */
  active = true;

  /** A follower probed from `next`, known to have nothing; at most `maxInflight` appends unacknowledged. */
  constructor(next: number, maxInflight: number) {
    this.#match = 0;
    this.#next = next;
    this.#maxInflight = maxInflight;
  }

  /** The highest index the follower is known to have in common with the leader. */
  get match(): number {
    return this.#match;
  }

  /** The index of the next entry to send the follower. */
  get next(): number {
    return this.#next;
  }

  /** How the leader replicates to the follower now. */
  get state(): ProgressState {
    return this.#state;
  }

  /** How many appends are unacknowledged (replicate). */
  get inflight(): number {
    return this.#inflight.length;
  }

  /** Probes one append at a time from `next`, forgetting the window. */
  becomeProbe(): void {
    this.#state = 'probe';
    this.#paused = false;
    this.#inflight = [];
  }

  /** Pipelines appends from just after `match`, with an empty window. */
  becomeReplicate(): void {
    this.#state = 'replicate';
    this.#inflight = [];
    this.#next = this.#match + 1;
  }

  /** Waits for the snapshot just sent to be answered (or to time out, see {@link tickSnapshot}). */
  becomeSnapshot(): void {
    this.#state = 'snapshot';
    this.#inflight = [];
    this.#waited = 0;
  }

  /** May nothing more be sent to the follower now? */
  isPaused(): boolean {
    switch (this.#state) {
      case 'probe':
        return this.#paused;
      case 'replicate':
        return this.windowFull();
      case 'snapshot':
        return true;
      default: {
        const never: never = this.#state;
        return never;
      }
    }
  }

  /** Is the window of unacknowledged appends full? */
  windowFull(): boolean {
    return this.#inflight.length >= this.#maxInflight;
  }

  /** Records an append just sent whose last entry is `last` (undefined: it carried none). */
  sentAppend(last: number | undefined): void {
    switch (this.#state) {
      case 'replicate':
        if (last !== undefined) {
          this.#next = last + 1;
          this.#inflight.push(last);
        }
        return;
      case 'probe':
      case 'snapshot': // unreached: nothing is sent while paused
        this.#paused = true;
        return;
      default: {
        const never: never = this.#state;
        throw new TypeError(`raft progress: unknown state ${String(never)}`);
      }
    }
  }

  /**
   * The follower acknowledged having everything up to `index`. Returns whether that is news
   * (`match` grew, and `next` with it); an acknowledgement at or below `match` is stale.
   */
  maybeUpdate(index: number): boolean {
    if (index <= this.#match) return false;
    this.#match = index;
    this.#next = Math.max(this.#next, index + 1);
    return true;
  }

  /** Frees the window's slots of appends ending at or below `index` (acknowledged). */
  freeTo(index: number): void {
    while (this.#inflight.length > 0 && (this.#inflight[0] as number) <= index) this.#inflight.shift();
  }

  /** Frees the oldest slot of the window (its append may have been lost). */
  freeFirstOne(): void {
    this.#inflight.shift();
  }

  /** An answer came back from a probed follower: the next probe may go out. */
  probeAcked(): void {
    this.#paused = false;
  }

  /**
   * The follower rejected the append whose `prevIndex` was `rejected`, its last index being
   * `hint`. Returns false, changing nothing, if the rejection is stale: of an append below
   * `match`, of any probe but the last, or while waiting for a snapshot. Otherwise moves `next`
   * back (to the hint if that is lower, never to `match` or below) and probes from there.
   *
   * A rejection at exactly `match` (a heartbeat's or a probe's prevIndex) means the follower lost
   * entries it had acknowledged — a torn last record cut when it restarted. Ignoring it would
   * leave the follower stuck forever, so nothing is taken as matched any more (`match` 0: the
   * commit index never goes back, and a later acknowledgement sets `match` again) and the
   * follower is probed from its hint.
   */
  maybeDecrTo(rejected: number, hint: number): boolean {
    if (rejected === this.#match && rejected > 0 && this.#state !== 'snapshot' && (this.#state === 'replicate' || rejected === this.#next - 1)) {
      this.#match = 0;
      this.#next = Math.max(1, Math.min(hint, rejected - 1) + 1);
      this.becomeProbe();
      return true;
    }
    switch (this.#state) {
      case 'replicate':
        if (rejected <= this.#match) return false;
        break;
      case 'probe':
        if (rejected <= this.#match || rejected !== this.#next - 1) return false;
        break;
      case 'snapshot':
        return false;
      default: {
        const never: never = this.#state;
        throw new TypeError(`raft progress: unknown state ${String(never)}`);
      }
    }
    this.#next = Math.max(this.#match + 1, Math.min(this.#next - 1, hint + 1));
    this.becomeProbe();
    return true;
  }

  /**
   * Counts a tick of waiting for the snapshot's answer. Past `limit` ticks the snapshot was
   * probably lost: probes again from just after `match`, and returns true.
   */
  tickSnapshot(limit: number): boolean {
    if (this.#state !== 'snapshot' || ++this.#waited <= limit) return false;
    this.becomeProbe();
    this.#next = this.#match + 1;
    return true;
  }
}

/** The progress of every follower of a leader, and what a quorum of the members has. */
export class ProgressTracker {
  readonly #peers: readonly string[];
  readonly #quorum: number;
  readonly #maxInflight: number;
  readonly #progress = new Map<string, Progress>();

  /** For the leader of `peers` plus itself, of which `quorum` decide; `maxInflight` bounds each window. */
  constructor(peers: readonly string[], quorum: number, maxInflight: number) {
    this.#peers = [...peers];
    this.#quorum = quorum;
    this.#maxInflight = maxInflight;
  }

  /** Tracks every peer afresh (a new leader): nothing known matched, probing from `next`. */
  reset(next: number): void {
    this.#progress.clear();
    for (const p of this.#peers) this.#progress.set(p, new Progress(next, this.#maxInflight));
  }

  /** Forgets every peer's progress (leadership lost). */
  clear(): void {
    this.#progress.clear();
  }

  /** The progress of peer `id`, or undefined if it is not tracked. */
  get(id: string): Progress | undefined {
    return this.#progress.get(id);
  }

  /** Counts a tick for every follower waiting for a snapshot (see {@link Progress.tickSnapshot}). */
  tickSnapshots(limit: number): void {
    for (const pr of this.#progress.values()) pr.tickSnapshot(limit);
  }

  /** Has a quorum, this member included, been heard from since {@link resetActive}? */
  quorumActive(): boolean {
    let active = 1;
    for (const pr of this.#progress.values()) if (pr.active) active++;
    return active >= this.#quorum;
  }

  /** Starts a new check-quorum round: no peer heard from yet. */
  resetActive(): void {
    for (const pr of this.#progress.values()) pr.active = false;
  }

  /**
   * The highest index a quorum has: the quorum-th highest `match`, this member's own being
   * `self` (what is durable on its disk).
   */
  quorumMatch(self: number): number {
    const matches = [self];
    for (const p of this.#peers) matches.push(this.#progress.get(p)?.match ?? 0);
    matches.sort((a, b) => b - a);
    return matches[this.#quorum - 1] as number;
  }
}
