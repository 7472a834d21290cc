/**
 * The Raft core: a deterministic state machine with no I/O of its own. Messages, clock ticks
 * and proposals go in; a {@link Ready} comes out, asking the driver to persist, send and apply.
 *
 * Raft as in the paper (Ongaro & Ousterhout), with what production implementations add: pre-vote
 * (a member cut off by a partition does not depose a healthy leader when it comes back), leader
 * stickiness (members that heard from a leader within an election timeout ignore vote requests),
 * check-quorum (a leader that has not heard from a majority for an election timeout steps down),
 * batched and pipelined replication with flow control (tracked per follower in progress.ts),
 * snapshots with InstallSnapshot, and ReadIndex for linearizable reads. A leader commits only by
 * counting entries of its own term.
 *
 * Driver contract: call `tick`, `step`, `propose`, `readIndex` as events arrive; whenever
 * `hasReady()`, take `ready()`, do what it says in order (persist durably, send, apply), then
 * call `advance(ready)` — with no other call to the core in between.
 */
import { RaftLog } from './log.js';
import { ProgressTracker } from './progress.js';
import type { Progress } from './progress.js';
import { ReadIndexTracker } from './read-index.js';
import { followerAppend, followerSnapshot } from './follower.js';
import { FP } from '../failpoints.js';
import type {
  AppendRequest,
  AppendResponse,
  LogEntry,
  Message,
  RaftConfig,
  RaftInitialState,
  RaftStatus,
  ReadState,
  Ready,
  Role,
  Snapshot,
  SnapshotRequest,
  VoteRequest,
  VoteResponse,
} from './types.js';

export type { RaftConfig, RaftInitialState, RaftStatus } from './types.js';

/** The Raft core of one member. */
export class RaftCore {
  readonly id: string;
  readonly #members: readonly string[];
  readonly #peers: readonly string[];
  readonly #quorum: number;
  readonly #electionTicks: number;
  readonly #heartbeatTicks: number;
  readonly #maxEntries: number;
  readonly #random: () => number;
  readonly #log: RaftLog;

  #term: number;
  #vote: string | null;
  #role: Role = 'follower';
  #leader: string | null = null;
  #electionElapsed = 0;
  #heartbeatElapsed = 0;
  #timeout: number;
  #votes = new Map<string, boolean>();
  readonly #progress: ProgressTracker;

  // What the next Ready carries.
  #hardDirty = false;
  #truncateFrom: number | undefined;
  #msgs: Message[] = [];
  #receivedSnapshot: Snapshot | undefined;
  #broadcast = false;
  #reads: ReadState[] = [];
  #failedReads: number[] = [];
  readonly #readIndex: ReadIndexTracker;

  constructor(config: RaftConfig, initial: RaftInitialState) {
    if (!config.members.includes(config.id)) throw new TypeError(`raft: member list ${config.members.join(',')} lacks this member ${config.id}`);
    this.id = config.id;
    this.#members = [...config.members];
    this.#peers = config.members.filter((m) => m !== config.id);
    this.#quorum = Math.floor(config.members.length / 2) + 1;
    this.#readIndex = new ReadIndexTracker(config.id, this.#quorum);
    this.#electionTicks = config.electionTicks ?? 10;
    this.#heartbeatTicks = config.heartbeatTicks ?? 1;
    this.#maxEntries = config.maxEntriesPerMessage ?? 512;
    this.#progress = new ProgressTracker(this.#peers, this.#quorum, config.maxInflight ?? 32);
    this.#random = config.random;
    this.#term = initial.hard.term;
    this.#vote = initial.hard.vote;
    this.#log = new RaftLog(initial.snapshot, initial.entries);
    this.#timeout = this.#randomTimeout();
  }

  // ---- public surface -------------------------------------------------------------------

  get role(): Role {
    return this.#role;
  }
  get term(): number {
    return this.#term;
  }
  get leader(): string | null {
    return this.#leader;
  }

  status(): RaftStatus {
    return {
      id: this.id,
      role: this.#role,
      term: this.#term,
      leader: this.#leader,
      commitIndex: this.#log.commit,
      lastApplied: this.#log.applied,
      lastIndex: this.#log.lastIndex(),
      snapshotIndex: this.#log.snapshotMeta.index,
    };
  }

  /** Advances the logical clock by one tick. */
  tick(): void {
    if (this.#role === 'leader') {
      this.#heartbeatElapsed++;
      this.#electionElapsed++;
      if (this.#electionElapsed >= this.#electionTicks) {
        this.#electionElapsed = 0;
        const quorumActive = this.#progress.quorumActive();
        this.#progress.resetActive();
        if (!quorumActive) {
          this.#becomeFollower(this.#term, null);
          return;
        }
      }
      if (this.#heartbeatElapsed >= this.#heartbeatTicks) {
        this.#heartbeatElapsed = 0;
        this.#sendHeartbeats(undefined);
      }
      // A snapshot unacknowledged for an election timeout was probably lost: probe again.
      this.#progress.tickSnapshots(this.#electionTicks);
      return;
    }
    this.#electionElapsed++;
    if (this.#electionElapsed >= this.#timeout) {
      this.#electionElapsed = 0;
      this.#campaign(true);
    }
  }

  /** Proposes `data` for the log. Returns where it will be if committed, or null if not the leader. */
  propose(data: unknown): { index: number; term: number } | null {
    if (this.#role !== 'leader') return null;
    const entry: LogEntry = { index: this.#log.lastIndex() + 1, term: this.#term, data };
    this.#log.append(entry);
    this.#broadcast = true;
    return { index: entry.index, term: entry.term };
  }

  /**
   * Starts a linearizable read (ReadIndex). Its {@link ReadState} comes in a later Ready once a
   * majority has confirmed this member is still the leader; serve it once `index` is applied.
   * If this member is not the leader, the id comes back in `failedReads`.
   */
  readIndex(id: number): void {
    if (this.#role !== 'leader') {
      this.#failedReads.push(id);
      return;
    }
    if (this.#log.term(this.#log.commit) !== this.#term) {
      this.#readIndex.defer(id); // the no-op of this term is not committed yet
      return;
    }
    this.#startRead(id);
  }

  /** Handles a message from another member. Messages not addressed to this member are ignored. */
  step(m: Message): void {
    if (m.to !== this.id || m.from === this.id || !this.#members.includes(m.from)) return;
    if (m.term > this.#term) {
      if (m.type === 'vote') {
        // Leader stickiness: a member that hears from a leader ignores disruptive candidates.
        if (this.#leader !== null && this.#electionElapsed < this.#electionTicks) {
          if (m.pre) this.#send({ type: 'vote-resp', from: this.id, to: m.from, term: this.#term, pre: true, granted: false });
          return;
        }
        if (!m.pre) this.#becomeFollower(m.term, null);
      } else if (m.type === 'vote-resp' && m.pre && m.granted) {
        // A granted pre-vote carries the term the candidate asked for; no term change.
      } else {
        this.#becomeFollower(m.term, m.type === 'append' || m.type === 'snapshot' ? m.from : null);
      }
    } else if (m.term < this.#term) {
      if (m.type === 'append' || m.type === 'snapshot') {
        // Tell a deposed leader about the newer term.
        this.#send({ type: 'append-resp', from: this.id, to: m.from, term: this.#term, success: false, index: this.#log.lastIndex() });
      } else if (m.type === 'vote' && m.pre) {
        this.#send({ type: 'vote-resp', from: this.id, to: m.from, term: this.#term, pre: true, granted: false });
      }
      return;
    }
    switch (m.type) {
      case 'vote':
        this.#handleVote(m);
        return;
      case 'vote-resp':
        this.#handleVoteResponse(m);
        return;
      case 'append':
      case 'snapshot':
        // The leader of our term: follow it.
        if (this.#role !== 'follower') this.#becomeFollower(this.#term, m.from);
        this.#leader = m.from;
        this.#electionElapsed = 0;
        if (m.type === 'append') this.#handleAppend(m);
        else this.#handleSnapshot(m);
        return;
      case 'append-resp':
        if (this.#role === 'leader') this.#handleAppendResponse(m);
        return;
      default: {
        const never: never = m;
        throw new TypeError(`raft: unknown message ${JSON.stringify(never)}`);
      }
    }
  }

  /** Is there anything for the driver to do? */
  hasReady(): boolean {
    if (this.#broadcast && this.#role === 'leader') return true;
    return (
      this.#hardDirty ||
      this.#truncateFrom !== undefined ||
      this.#msgs.length > 0 ||
      this.#receivedSnapshot !== undefined ||
      this.#reads.length > 0 ||
      this.#failedReads.length > 0 ||
      Math.max(this.#log.stable, this.#log.handedOut) < this.#log.lastIndex() ||
      this.#log.hasToApply()
    );
  }

  /** The work to do now; see the module doc for the order. Follow it with {@link advance}. */
  ready(): Ready {
    if (this.#broadcast && this.#role === 'leader') {
      for (const p of this.#peers) this.#sendAppend(p, false);
    }
    this.#broadcast = false;
    const snapshot = this.#receivedSnapshot;
    const rd: Ready = {
      ...(this.#hardDirty ? { hardState: { term: this.#term, vote: this.#vote } } : {}),
      ...(this.#truncateFrom !== undefined ? { truncateFrom: this.#truncateFrom } : {}),
      entries: this.#log.unstable(),
      ...(snapshot ? { snapshot, applySnapshot: snapshot } : {}),
      messages: this.#msgs,
      committed: this.#log.toApply(),
      reads: this.#reads,
      failedReads: this.#failedReads,
    };
    this.#hardDirty = false;
    this.#truncateFrom = undefined;
    this.#receivedSnapshot = undefined;
    this.#msgs = [];
    this.#reads = [];
    this.#failedReads = [];
    const last = rd.entries[rd.entries.length - 1];
    if (last) this.#log.handedOut = Math.max(this.#log.handedOut, last.index);
    return rd;
  }

  /**
   * Records that `rd` was persisted, sent and applied. A leader may instead advance a Ready whose
   * only durable state is `entries` (no hard state, snapshot or truncation) before those are on
   * its disk, with `entriesPersisted` false — sending, applying and going on while its write runs
   * (Raft §10.2.1) — and report the write with {@link persisted} when it is done: until then it
   * does not count itself toward committing them.
   */
  advance(rd: Ready, entriesPersisted = true): void {
    const lastPersisted = rd.entries[rd.entries.length - 1];
    if (entriesPersisted && lastPersisted && this.#log.term(lastPersisted.index) === lastPersisted.term) {
      this.#log.stable = Math.max(this.#log.stable, lastPersisted.index);
    }
    const lastApplied = rd.committed[rd.committed.length - 1];
    if (lastApplied) this.#log.applied = Math.max(this.#log.applied, lastApplied.index);
    if (this.#role === 'leader' && this.#maybeCommit()) this.#broadcast = true;
  }

  /**
   * Reports that the entries handed out up to `index` (whose term is `term`) are durable, after an
   * `advance(rd, false)`. Ignored if the entry at `index` has been replaced meanwhile.
   */
  persisted(index: number, term: number): void {
    if (index <= this.#log.stable || index > this.#log.handedOut || this.#log.term(index) !== term) return;
    this.#log.stable = index;
    if (this.#role === 'leader' && this.#maybeCommit()) this.#broadcast = true;
  }

  /**
   * Compacts the log: the state machine's `data` covers every entry up to `index`, which must be
   * applied. The driver persists the snapshot itself (it is what a lagging follower is sent).
   */
  compact(index: number, data: unknown): void {
    if (index > this.#log.applied) throw new RangeError(`raft: cannot compact to ${index}, only ${this.#log.applied} applied`);
    const term = this.#log.term(index);
    if (term === undefined) return; // already compacted past it
    this.#log.compact({ index, term }, data);
  }

  /** The term of the entry at `index` in this member's log, or undefined (compacted or absent). */
  logTerm(index: number): number | undefined {
    return this.#log.term(index);
  }

  /** The index of this member's last log entry. */
  lastIndex(): number {
    return this.#log.lastIndex();
  }

  /** The current snapshot (index 0 when there is none). */
  snapshot(): Snapshot {
    return this.#log.snapshot;
  }

  // ---- roles ------------------------------------------------------------------------------

  #randomTimeout(): number {
    return this.#electionTicks + Math.floor(this.#random() * this.#electionTicks);
  }

  #setHard(term: number, vote: string | null): void {
    if (term !== this.#term || vote !== this.#vote) {
      this.#term = term;
      this.#vote = vote;
      this.#hardDirty = true;
    }
  }

  #becomeFollower(term: number, leader: string | null): void {
    const wasLeader = this.#role === 'leader';
    this.#setHard(term, term === this.#term ? this.#vote : null);
    this.#role = 'follower';
    this.#leader = leader;
    this.#electionElapsed = 0;
    this.#timeout = this.#randomTimeout();
    this.#votes.clear();
    if (wasLeader) {
      this.#progress.clear();
      this.#failAllReads();
    }
  }

  #failAllReads(): void {
    this.#failedReads.push(...this.#readIndex.failAll());
  }

  #campaign(pre: boolean): void {
    if (pre) {
      this.#role = 'pre-candidate';
      this.#leader = null;
    } else {
      this.#role = 'candidate';
      this.#leader = null;
      this.#setHard(this.#term + 1, this.id);
    }
    this.#votes = new Map([[this.id, true]]);
    this.#timeout = this.#randomTimeout();
    if (this.#votes.size >= this.#quorum) {
      if (pre) this.#campaign(false);
      else this.#becomeLeader();
      return;
    }
    const term = pre ? this.#term + 1 : this.#term;
    for (const p of this.#peers) {
      this.#send({ type: 'vote', from: this.id, to: p, term, pre, lastIndex: this.#log.lastIndex(), lastTerm: this.#log.lastTerm() });
    }
  }

  #becomeLeader(): void {
    this.#role = 'leader';
    this.#leader = this.id;
    this.#electionElapsed = 0;
    this.#heartbeatElapsed = 0;
    this.#progress.reset(this.#log.lastIndex() + 1);
    // A no-op of the new term lets the leader commit (and serve reads) without waiting for a client.
    this.propose(null);
  }

  // ---- elections --------------------------------------------------------------------------

  #handleVote(m: VoteRequest): void {
    // FAILPOINT raft.vote-ignores-log: any candidate's log counts as up to date.
    const upToDate = FP['raft.vote-ignores-log'] || this.#log.isUpToDate(m.lastIndex, m.lastTerm);
    if (m.pre) {
      // m.term is the term the candidate would campaign in; ours is lower or equal.
      const granted = upToDate && m.term > this.#term;
      this.#send({ type: 'vote-resp', from: this.id, to: m.from, term: granted ? m.term : this.#term, pre: true, granted });
      return;
    }
    const canVote = this.#vote === m.from || (this.#vote === null && this.#leader === null);
    const granted = canVote && upToDate;
    if (granted) {
      this.#setHard(this.#term, m.from);
      this.#electionElapsed = 0;
    }
    this.#send({ type: 'vote-resp', from: this.id, to: m.from, term: this.#term, pre: false, granted });
  }

  #handleVoteResponse(m: VoteResponse): void {
    if (m.pre ? this.#role !== 'pre-candidate' : this.#role !== 'candidate') return;
    if (m.pre && m.term !== this.#term + 1 && m.granted) return; // stale pre-vote
    this.#votes.set(m.from, m.granted);
    let yes = 0;
    let no = 0;
    for (const v of this.#votes.values()) v ? yes++ : no++;
    if (yes >= this.#quorum) {
      if (m.pre) this.#campaign(false);
      else this.#becomeLeader();
    } else if (no >= this.#quorum) {
      this.#becomeFollower(this.#term, null);
    }
  }

  // ---- replication: follower side ---------------------------------------------------------

  #respond(to: string, success: boolean, index: number, read: number | undefined, rejected?: number): void {
    this.#send({
      type: 'append-resp',
      from: this.id,
      to,
      term: this.#term,
      success,
      index,
      ...(read !== undefined ? { read } : {}),
      ...(rejected !== undefined ? { rejected } : {}),
    });
  }

  #handleAppend(m: AppendRequest): void {
    const o = followerAppend(this.#log, m);
    if (o.truncateFrom !== undefined) this.#truncateFrom = Math.min(this.#truncateFrom ?? Infinity, o.truncateFrom);
    // A rejection names the prevIndex it refused, so the leader can tell a lost tail from a stale answer.
    this.#respond(m.from, o.success, o.index, m.read, o.success ? undefined : m.prevIndex);
  }

  #handleSnapshot(m: SnapshotRequest): void {
    const o = followerSnapshot(this.#log, m);
    if (o.truncateFrom !== undefined) this.#truncateFrom = o.truncateFrom;
    if (o.snapshot !== undefined) this.#receivedSnapshot = o.snapshot;
    this.#respond(m.from, true, o.index, undefined);
  }

  // ---- replication: leader side -----------------------------------------------------------

  #send(m: Message): void {
    this.#msgs.push(m);
  }

  /** Sends `to` what it is missing, if flow control allows. Returns whether anything was sent. */
  #sendAppend(to: string, sendIfEmpty: boolean): boolean {
    const pr = this.#progress.get(to);
    if (!pr || pr.isPaused()) return false;
    const log = this.#log;
    const prevIndex = pr.next - 1;
    const prevTerm = log.term(prevIndex);
    if (prevTerm === undefined) {
      // What the follower needs was compacted away: send the snapshot.
      pr.becomeSnapshot();
      this.#send({ type: 'snapshot', from: this.id, to, term: this.#term, snapshot: log.snapshot });
      return true;
    }
    const entries = log.slice(pr.next, log.lastIndex(), this.#maxEntries);
    if (entries.length === 0 && !sendIfEmpty) return false;
    this.#send({ type: 'append', from: this.id, to, term: this.#term, prevIndex, prevTerm, entries, commit: log.commit });
    pr.sentAppend(entries[entries.length - 1]?.index);
    return true;
  }

  #sendHeartbeats(read: number | undefined): void {
    const log = this.#log;
    for (const p of this.#peers) {
      const pr = this.#progress.get(p) as Progress;
      // A heartbeat checks the prefix the follower is known to have, so it never truncates.
      const prevIndex = Math.max(pr.match, log.snapshotMeta.index);
      const prevTerm = log.term(prevIndex) as number;
      this.#send({
        type: 'append',
        from: this.id,
        to: p,
        term: this.#term,
        prevIndex,
        prevTerm,
        entries: [],
        commit: Math.min(log.commit, prevIndex),
        ...(read !== undefined ? { read } : {}),
      });
    }
  }

  #handleAppendResponse(m: AppendResponse): void {
    const pr = this.#progress.get(m.from);
    if (!pr) return;
    pr.active = true;
    if (m.read !== undefined) this.#reads.push(...this.#readIndex.ack(m.from, m.read));
    if (pr.state === 'snapshot') {
      // Wait for the snapshot's acknowledgement (or its timeout, see tick()); then go on as
      // after a probe.
      if (!m.success || m.index < this.#log.snapshotMeta.index) return;
      pr.becomeProbe();
    }
    if (!m.success) {
      if (m.rejected === undefined) return; // a term answer, handled in step()
      if (!pr.maybeDecrTo(m.rejected, m.index)) {
        // Stale, but any answer lets a probe go out again, so that a lost probe does not stall
        // the follower.
        if (pr.state === 'probe') {
          pr.probeAcked();
          this.#sendAppend(m.from, false);
        }
        return;
      }
      this.#sendAppend(m.from, true);
      return;
    }
    if (pr.maybeUpdate(m.index)) {
      if (pr.state !== 'replicate') pr.becomeReplicate();
      pr.freeTo(m.index);
      // A new commit index reaches followers with the next append or heartbeat.
      this.#maybeCommit();
    } else if (pr.state === 'probe') {
      pr.probeAcked();
    } else if (pr.windowFull()) {
      // A heartbeat answer while the window is full: appends may have been lost. Free a slot so
      // the next append goes out; a gap makes the follower reject it and we probe from there.
      pr.freeFirstOne();
    }
    while (this.#sendAppend(m.from, false)) {
      if (pr.state !== 'replicate') break;
    }
  }

  /** Advances the commit index to what a majority has, if that entry is of this term. */
  #maybeCommit(): boolean {
    const log = this.#log;
    // FAILPOINT raft.commit-without-quorum: what is on this leader's own disk counts as committed.
    const n = FP['raft.commit-without-quorum'] ? log.stable : this.#progress.quorumMatch(log.stable);
    // FAILPOINT raft.commit-earlier-term: an entry of an earlier term commits by counting (Figure 8).
    if (n > log.commit && (log.term(n) === this.#term || FP['raft.commit-earlier-term'])) {
      log.commit = n;
      for (const id of this.#readIndex.takeDeferred()) this.#startRead(id);
      return true;
    }
    return false;
  }

  // ---- ReadIndex --------------------------------------------------------------------------

  #startRead(id: number): void {
    const started = this.#readIndex.start(id, this.#log.commit);
    if ('ready' in started) this.#reads.push(started.ready);
    else this.#sendHeartbeats(started.seq);
  }
}
