/**
 * The Raft driver of one node: wires the deterministic {@link RaftCore} to a real clock, the
 * disk ({@link RaftStorage}), the network (a {@link RaftTransport}) and a state machine.
 *
 * The core's contract is: take a Ready, persist it, send its messages, apply it, advance — with
 * no other call into the core in between. Persisting is asynchronous (an fdatasync), so while a
 * Ready is on its way to disk, everything else that arrives (peer messages, ticks, proposals,
 * reads) waits in an inbox and is handed to the core right after `advance`. The next Ready then
 * carries every entry proposed in the meantime: one fsync for all of them (group commit).
 * A leader in its steady state goes further and does not wait for its own disk at all: its
 * entries are written behind (batched the same way) while it replicates and applies.
 */
import type { RaftStorage } from './storage.js';
import { RaftCore, type RaftStatus } from './core.js';
import type { LogEntry, Message, Ready, Role, Snapshot } from './types.js';
import { asError } from '../errors.js';

/** Starts timing; the function returned gives the seconds since. */
function stopwatch(): () => number {
  const start = process.hrtime.bigint();
  return () => Number(process.hrtime.bigint() - start) / 1e9;
}

/** Sends messages to peers. Fire and forget: Raft copes with any message being lost. */
export interface RaftTransport {
  send(messages: readonly Message[]): void;
}

/** The replicated state machine. */
export interface StateMachine {
  /** Applies one committed entry (`data` null is a leader's no-op); returns its result for the proposer. */
  apply(entry: LogEntry): unknown;
  /** Replaces the whole state with a snapshot's data. */
  restore(data: unknown, index: number): void;
  /** The state as JSON-serializable data (for snapshots). */
  snapshot(): unknown;
  /** Throws if `data` is not a snapshot `restore` accepts; checked before a received one is saved. */
  checkSnapshot?(data: unknown): void;
  /**
   * Throws if `data` is not an entry `apply` accepts (`null`, a no-op, always is); checked for
   * every entry a leader sends before it is saved, so that a malformed one is never persisted.
   */
  checkEntry?(data: unknown): void;
}

/** Something the node measures; all optional. */
export interface RaftObserver {
  /** A persist step's duration (one or more storage calls, ending in an fsync). */
  persisted?(seconds: number, entries: number): void;
  roleChanged?(role: Role, term: number, leader: string | null): void;
  applied?(entries: number): void;
  snapshotTaken?(index: number, seconds: number): void;
  /** A snapshot from the leader replaced the state (this node had fallen behind a compaction). */
  snapshotInstalled?(index: number): void;
  /**
   * The state machine's whole state right after applying entry `index` of `term`, every
   * `auditEvery` entries (see {@link RaftNodeOptions.auditEvery}); every replica must report the
   * same term and state for the same index (Raft's State Machine Safety).
   */
  audited?(index: number, term: number, state: unknown): void;
  /** A failure that stops the node (the disk refused a write). */
  fatal?(error: Error): void;
  /** A peer message the core refused (malformed beyond what the transport checks); dropped. */
  rejected?(error: Error, message: Message): void;
  /**
   * Applying a committed entry threw: the entry is skipped (as on every replica, since apply is
   * deterministic) and the node goes on; its proposer learns `unknown`.
   */
  applyFailed?(error: Error, entry: LogEntry): void;
}

/** Options of a {@link RaftNode}. */
export interface RaftNodeOptions {
  readonly id: string;
  readonly members: readonly string[];
  readonly storage: RaftStorage;
  readonly recovered: { hard: { term: number; vote: string | null }; snapshot: Snapshot | null; entries: readonly LogEntry[] };
  readonly transport: RaftTransport;
  readonly machine: StateMachine;
  /** Milliseconds per core tick. @default 20 */
  readonly tickMs?: number;
  /** Ticks before an election (randomized to [n, 2n)). @default 10 */
  readonly electionTicks?: number;
  /** Ticks between heartbeats. @default 2 */
  readonly heartbeatTicks?: number;
  /** Take a snapshot (and compact the log) after this many applied entries. @default 10000 */
  readonly snapshotEvery?: number;
  /** Most entries in one AppendEntries message. @default 512 */
  readonly maxEntriesPerMessage?: number;
  /** Most AppendEntries messages in flight, unacknowledged, to one follower. @default 32 */
  readonly maxInflight?: number;
  /** Report the state to `observer.audited` after every entry whose index is a multiple of this; 0 = never. @default 0 */
  readonly auditEvery?: number;
  readonly observer?: RaftObserver;
  readonly random?: () => number;
}

/** How many snapshots a member took, installed from its leader, and sent to followers, since it started. */
export interface SnapshotCounts {
  readonly taken: number;
  readonly installed: number;
  readonly sent: number;
}

/** A member's `/status` view: the core's, with its snapshot counters. */
export interface RaftNodeStatus extends RaftStatus {
  readonly snapshots: SnapshotCounts;
}

/** Why a proposal or read did not go through; none of these is definite about proposals. */
export class NotLeaderError extends Error {
  constructor(readonly leader: string | null) {
    super(leader === null ? 'no leader is known' : `not the leader; the leader is ${leader}`);
    this.name = 'NotLeaderError';
  }
}

/** The node was stopped, or its disk failed. */
export class StoppedError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'StoppedError';
  }
}

/** What became of a proposal. */
export type ProposalOutcome =
  /** Committed and applied at `index`; `result` is what the state machine's `apply` returned. */
  | { readonly status: 'applied'; readonly index: number; readonly result: unknown }
  /** Another entry took its place in the log: it never will be applied. */
  | { readonly status: 'lost'; readonly index: number }
  /** A snapshot from the leader replaced the log up to past `index`: applied or not, unknown here. */
  | { readonly status: 'unknown'; readonly index: number };

interface Waiter {
  readonly term: number;
  readonly resolve: (o: ProposalOutcome) => void;
  readonly reject: (e: Error) => void;
}

interface ReadWaiter {
  readonly resolve: (index: number) => void;
  readonly reject: (e: Error) => void;
}

/** One Raft member with its disk, clock and network. */
export class RaftNode {
  readonly id: string;
  readonly #core: RaftCore;
  readonly #storage: RaftStorage;
  readonly #transport: RaftTransport;
  readonly #machine: StateMachine;
  readonly #observer: RaftObserver;
  readonly #snapshotEvery: number;
  readonly #auditEvery: number;
  readonly #timer: NodeJS.Timeout;

  /** Inputs that arrived while a Ready was being handled; run in order after `advance`. */
  #inbox: { fn: () => void; onStopped: ((e: Error) => void) | undefined }[] = [];
  #busy = false;
  #stopped: Error | null = null;
  #waiters = new Map<number, Waiter>();
  #reads = new Map<number, ReadWaiter>();
  /** Reads whose index is known, waiting for the state machine to apply that far. */
  #readyReads: { index: number; waiter: ReadWaiter }[] = [];
  #readSeq = 0;
  #applied: number;
  #snapshotIndex: number;
  #role: Role;
  #leader: string | null;
  #term: number;
  #leaderWatchers = new Set<() => void>();
  /** A leader's entries waiting to be written, and the write loop while it runs. */
  #writeBuffer: LogEntry[] = [];
  #writing: Promise<void> | null = null;
  #snapshots = { taken: 0, installed: 0, sent: 0 };

  constructor(o: RaftNodeOptions) {
    this.id = o.id;
    this.#storage = o.storage;
    this.#transport = o.transport;
    this.#machine = o.machine;
    this.#observer = o.observer ?? {};
    this.#snapshotEvery = o.snapshotEvery ?? 10_000;
    if (!Number.isSafeInteger(this.#snapshotEvery) || this.#snapshotEvery < 1) throw new RangeError(`snapshotEvery must be a positive integer, got ${this.#snapshotEvery}`);
    this.#auditEvery = o.auditEvery ?? 0;
    if (!Number.isSafeInteger(this.#auditEvery) || this.#auditEvery < 0) throw new RangeError(`auditEvery must be a non-negative integer, got ${this.#auditEvery}`);
    this.#core = new RaftCore(
      {
        id: o.id,
        members: o.members,
        electionTicks: o.electionTicks ?? 10,
        heartbeatTicks: o.heartbeatTicks ?? 2,
        ...(o.maxEntriesPerMessage !== undefined ? { maxEntriesPerMessage: o.maxEntriesPerMessage } : {}),
        ...(o.maxInflight !== undefined ? { maxInflight: o.maxInflight } : {}),
        random: o.random ?? Math.random,
      },
      { hard: o.recovered.hard, snapshot: o.recovered.snapshot, entries: o.recovered.entries },
    );
    const snap = o.recovered.snapshot;
    if (snap) o.machine.restore(snap.data, snap.meta.index);
    this.#applied = snap?.meta.index ?? 0;
    this.#snapshotIndex = this.#applied;
    this.#role = this.#core.role;
    this.#leader = this.#core.leader;
    this.#term = this.#core.term;
    this.#timer = setInterval(() => this.#input(() => this.#core.tick()), o.tickMs ?? 20);
    this.#timer.unref();
    // A single-member cluster elects itself on its first timeout; nothing else to start.
  }

  get role(): Role {
    return this.#role;
  }
  get leader(): string | null {
    return this.#leader;
  }
  get term(): number {
    return this.#term;
  }
  /** The index of the last entry applied to the state machine. */
  get applied(): number {
    return this.#applied;
  }

  status(): RaftNodeStatus {
    return { ...this.#core.status(), lastApplied: this.#applied, snapshots: { ...this.#snapshots } };
  }

  /** Sends a Ready's messages, counting the snapshots among them. */
  #send(messages: readonly Message[]): void {
    for (const m of messages) if (m.type === 'snapshot') this.#snapshots.sent++;
    this.#transport.send(messages);
  }

  /** Handles a message from a peer (as it arrives from the transport). A bad one is dropped, never fatal. */
  step(m: Message): void {
    this.#input(() => {
      try {
        if (m.type === 'snapshot') this.#machine.checkSnapshot?.(m.snapshot.data);
        if (m.type === 'append' && this.#machine.checkEntry) {
          for (const e of m.entries) {
            if (e.data === null) continue;
            try {
              this.#machine.checkEntry(e.data);
            } catch (err) {
              throw new TypeError(`entry ${e.index}: ${asError(err).message}`);
            }
          }
        }
        this.#core.step(m);
      } catch (e) {
        this.#observer.rejected?.(asError(e), m);
      }
    });
  }

  /**
   * Proposes `data`. Resolves once it is applied (or known lost); rejects with
   * {@link NotLeaderError} if this node is not the leader when the proposal reaches the core
   * (nothing was proposed), or {@link StoppedError} if the node stops first (outcome unknown).
   * A proposal may stay pending for ever if the cluster never commits again: callers bound it
   * with their own deadline.
   */
  propose(data: unknown): Promise<ProposalOutcome> {
    return new Promise((resolve, reject) => {
      this.#input(() => {
        const at = this.#core.propose(data);
        if (at === null) {
          reject(new NotLeaderError(this.#core.leader));
          return;
        }
        // A proposal still waiting at this index lost its entry with a snapshot install; whether
        // some leader still commits it there is unknown.
        this.#waiters.get(at.index)?.resolve({ status: 'unknown', index: at.index });
        this.#waiters.set(at.index, { term: at.term, resolve, reject });
      }, reject);
    });
  }

  /**
   * A linearizable read point (ReadIndex): resolves with an index once this node has confirmed
   * with a majority that it is still the leader and has applied that far; read the state machine
   * right then. Rejects with {@link NotLeaderError} on a follower.
   */
  readIndex(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#input(() => {
        const id = ++this.#readSeq;
        this.#reads.set(id, { resolve, reject });
        this.#core.readIndex(id);
      }, reject);
    });
  }

  /** Resolves when a leader is known (possibly this node), or after `ms`. */
  waitForLeader(ms: number): Promise<string | null> {
    if (this.#leader !== null || this.#stopped) return Promise.resolve(this.#leader);
    return new Promise((resolve) => {
      const done = (): void => {
        if (this.#leader === null && !this.#stopped) return;
        clearTimeout(timer);
        this.#leaderWatchers.delete(done);
        resolve(this.#leader);
      };
      const timer = setTimeout(() => {
        this.#leaderWatchers.delete(done);
        resolve(this.#leader);
      }, ms);
      this.#leaderWatchers.add(done);
    });
  }

  /** Stops ticking and processing, waits for the Ready in progress, closes the storage. */
  async stop(): Promise<void> {
    if (!this.#stopped) this.#fail(new StoppedError('the node is shutting down'));
    clearInterval(this.#timer);
    await this.#idle();
    await this.#drainWrites();
    await this.#storage.close();
  }

  // ---- the loop ----------------------------------------------------------------------------

  #input(fn: () => void, onStopped?: (e: Error) => void): void {
    if (this.#stopped) {
      onStopped?.(this.#stopped);
      return;
    }
    // Inputs wait for the end of this turn of the event loop, so that what arrives in one turn
    // (the proposals of many requests, the messages of a peer's batch) makes one Ready: one
    // append per follower and one write to disk instead of one per proposal.
    this.#inbox.push({ fn, onStopped });
    this.#schedulePump();
  }

  #pumpScheduled = false;
  #schedulePump(): void {
    if (this.#busy || this.#pumpScheduled) return;
    this.#pumpScheduled = true;
    setImmediate(() => {
      this.#pumpScheduled = false;
      this.#pump();
    });
  }

  #idleWaiters: (() => void)[] = [];
  #idle(): Promise<void> {
    if (!this.#busy) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Handles Readies until the core has nothing more; awaits only the disk. */
  #pump(): void {
    if (this.#busy || this.#stopped) return;
    this.#busy = true;
    void this.#loop().finally(() => {
      this.#busy = false;
      for (const w of this.#idleWaiters.splice(0)) w();
      // An input that arrived between the loop's last look at the inbox and now.
      if (this.#inbox.length > 0) this.#schedulePump();
    });
  }

  async #loop(): Promise<void> {
    try {
      for (;;) {
        for (let item = this.#inbox.shift(); item; item = this.#inbox.shift()) item.fn();
        if (this.#stopped) return;
        if (!this.#core.hasReady()) {
          this.#noteRole();
          if (await this.#maybeSnapshot()) continue;
          if (this.#inbox.length === 0) return;
          continue;
        }
        const rd = this.#core.ready();
        if (this.#core.role === 'leader' && rd.hardState === undefined && rd.truncateFrom === undefined && rd.snapshot === undefined) {
          // A leader in its steady state does not wait for its own disk (Raft §10.2.1): its
          // appends go out at once and its entries are written behind (group commit); it counts
          // itself toward a commit, and applies its own entries, only once they are durable
          // (`persisted`); followers acknowledge only what they have persisted.
          this.#send(rd.messages);
          if (rd.entries.length > 0) this.#queueWrite(rd.entries);
          this.#apply(rd);
          this.#core.advance(rd, false);
          this.#noteRole();
          continue;
        }
        // Everything else persists first, after the leader writes still running (disk order).
        await this.#drainWrites();
        if (this.#stopped) return;
        await this.#persist(rd);
        if (this.#stopped) return;
        this.#send(rd.messages);
        this.#apply(rd);
        this.#core.advance(rd);
        this.#noteRole();
      }
    } catch (e) {
      const err = asError(e);
      this.#fail(err);
      this.#observer.fatal?.(err);
    }
  }

  /** Writes a leader's entries behind its back; whatever queues during one write goes in the next (one fsync). */
  #queueWrite(entries: readonly LogEntry[]): void {
    for (const e of entries) this.#writeBuffer.push(e);
    this.#writing ??= this.#writeLoop();
  }

  async #writeLoop(): Promise<void> {
    try {
      while (this.#writeBuffer.length > 0 && !this.#stopped) {
        const batch = this.#writeBuffer;
        this.#writeBuffer = [];
        const elapsed = stopwatch();
        await this.#storage.append(batch);
        this.#observer.persisted?.(elapsed(), batch.length);
        const last = batch[batch.length - 1] as LogEntry;
        this.#input(() => this.#core.persisted(last.index, last.term));
      }
    } catch (e) {
      const err = asError(e);
      if (!this.#stopped) this.#observer.fatal?.(err);
      this.#fail(err);
    } finally {
      this.#writing = null;
    }
  }

  /** Resolves once no leader write is queued or running. */
  async #drainWrites(): Promise<void> {
    while (this.#writing) await this.#writing;
  }

  async #persist(rd: Ready): Promise<void> {
    const s = this.#storage;
    const pending: Promise<void>[] = [];
    if (rd.snapshot) pending.push(s.saveSnapshot(rd.snapshot.meta, rd.snapshot.data));
    if (rd.truncateFrom !== undefined) pending.push(s.truncateFrom(rd.truncateFrom));
    // The term before entries of that term: a crash in between never leaves a log ahead of its term.
    if (rd.hardState) pending.push(s.saveHardState(rd.hardState));
    if (rd.entries.length > 0) pending.push(s.append(rd.entries));
    if (pending.length === 0) return;
    const elapsed = stopwatch();
    await Promise.all(pending);
    this.#observer.persisted?.(elapsed(), rd.entries.length);
  }

  #apply(rd: Ready): void {
    if (rd.applySnapshot) {
      const { meta, data } = rd.applySnapshot;
      this.#machine.restore(data, meta.index);
      this.#applied = meta.index;
      this.#snapshotIndex = Math.max(this.#snapshotIndex, meta.index);
      this.#snapshots.installed++;
      this.#observer.snapshotInstalled?.(meta.index);
      // Proposals at or below the snapshot: their fate is in the snapshot, not known here.
      for (const [index, w] of this.#waiters) {
        if (index <= meta.index) {
          this.#waiters.delete(index);
          w.resolve({ status: 'unknown', index });
        }
      }
    }
    for (const e of rd.committed) {
      let outcome: ProposalOutcome;
      try {
        outcome = { status: 'applied', index: e.index, result: this.#machine.apply(e) };
      } catch (err) {
        // An entry that cannot be applied (written before entries were checked, or a bug) must
        // not stop the node, or it would stop again at every restart: skip it, loudly.
        this.#observer.applyFailed?.(asError(err), e);
        outcome = { status: 'unknown', index: e.index };
      }
      this.#applied = e.index;
      if (this.#auditEvery > 0 && e.index % this.#auditEvery === 0) this.#observer.audited?.(e.index, e.term, this.#machine.snapshot());
      const w = this.#waiters.get(e.index);
      if (w) {
        this.#waiters.delete(e.index);
        w.resolve(w.term === e.term ? outcome : { status: 'lost', index: e.index });
      }
    }
    if (rd.committed.length > 0) this.#observer.applied?.(rd.committed.length);
    for (const r of rd.reads) {
      const w = this.#reads.get(r.id);
      if (!w) continue;
      this.#reads.delete(r.id);
      this.#readyReads.push({ index: r.index, waiter: w });
    }
    for (const id of rd.failedReads) {
      const w = this.#reads.get(id);
      if (!w) continue;
      this.#reads.delete(id);
      w.reject(new NotLeaderError(this.#core.leader));
    }
    if (this.#readyReads.length > 0) {
      const still: { index: number; waiter: ReadWaiter }[] = [];
      for (const r of this.#readyReads) {
        if (r.index <= this.#applied) r.waiter.resolve(r.index);
        else still.push(r);
      }
      this.#readyReads = still;
    }
  }

  /** Takes a snapshot when enough entries were applied since the last one. True if it did. */
  async #maybeSnapshot(): Promise<boolean> {
    const index = this.#applied;
    if (index - this.#snapshotIndex < this.#snapshotEvery) return false;
    const term = this.#core.logTerm(index);
    if (term === undefined) return false;
    const elapsed = stopwatch();
    const data = this.#machine.snapshot();
    await this.#storage.saveSnapshot({ index, term }, data);
    this.#core.compact(index, data);
    this.#snapshotIndex = index;
    this.#snapshots.taken++;
    this.#observer.snapshotTaken?.(index, elapsed());
    return true;
  }

  #noteRole(): void {
    const { role, leader, term } = this.#core;
    if (role === this.#role && leader === this.#leader && term === this.#term) return;
    this.#role = role;
    this.#leader = leader;
    this.#term = term;
    this.#observer.roleChanged?.(role, term, leader);
    // (Reads in flight on a deposed leader come back in the next Ready's failedReads.)
    for (const w of [...this.#leaderWatchers]) w();
  }

  #fail(e: Error): void {
    if (this.#stopped) return;
    this.#stopped = e;
    this.#role = 'follower';
    this.#leader = null;
    clearInterval(this.#timer);
    for (const item of this.#inbox.splice(0)) item.onStopped?.(e);
    for (const r of this.#reads.values()) r.reject(e);
    this.#reads.clear();
    for (const r of this.#readyReads) r.waiter.reject(e);
    this.#readyReads = [];
    for (const w of this.#waiters.values()) w.reject(e);
    this.#waiters.clear();
    for (const w of [...this.#leaderWatchers]) w();
  }
}
