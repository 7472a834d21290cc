/**
 * The data of the Raft core: log entries, persistent state, messages between members, and the
 * `Ready` batch through which the core asks its driver to persist, send and apply.
 */

/** One Raft log entry. `data` is any JSON-serializable value: a command, or `null` (a leader's no-op). */
export interface LogEntry {
  readonly index: number;
  readonly term: number;
  readonly data: unknown;
}

/** What must be on disk (fsync'd) before any message that depends on it is sent. */
export interface HardState {
  readonly term: number;
  readonly vote: string | null;
}

/** The last entry a snapshot covers. */
export interface SnapshotMeta {
  readonly index: number;
  readonly term: number;
}

/** A snapshot: the state machine's state after applying every entry up to `meta.index`. */
export interface Snapshot {
  readonly meta: SnapshotMeta;
  readonly data: unknown;
}

/** A member's role. */
export type Role = 'follower' | 'pre-candidate' | 'candidate' | 'leader';

interface Envelope {
  readonly from: string;
  readonly to: string;
  readonly term: number;
}

/** RequestVote (or PreVote, which does not change anyone's term or vote). */
export interface VoteRequest extends Envelope {
  readonly type: 'vote';
  readonly pre: boolean;
  readonly lastIndex: number;
  readonly lastTerm: number;
}

/** The answer to a {@link VoteRequest}. */
export interface VoteResponse extends Envelope {
  readonly type: 'vote-resp';
  readonly pre: boolean;
  readonly granted: boolean;
}

/** AppendEntries; with no entries it is a heartbeat. `read` carries a ReadIndex round, if any. */
export interface AppendRequest extends Envelope {
  readonly type: 'append';
  readonly prevIndex: number;
  readonly prevTerm: number;
  readonly entries: readonly LogEntry[];
  readonly commit: number;
  readonly read?: number;
}

/**
 * The answer to an {@link AppendRequest} or {@link SnapshotRequest}. On success `index` is the
 * last index the follower now has in common with the leader; on rejection it is the follower's
 * last index, a hint where to retry.
 */
export interface AppendResponse extends Envelope {
  readonly type: 'append-resp';
  readonly success: boolean;
  readonly index: number;
  /** On rejection: the `prevIndex` of the append that was rejected (to spot stale rejections). */
  readonly rejected?: number;
  readonly read?: number;
}

/** InstallSnapshot, in one message. */
export interface SnapshotRequest extends Envelope {
  readonly type: 'snapshot';
  readonly snapshot: Snapshot;
}

/** Any message between members. */
export type Message = VoteRequest | VoteResponse | AppendRequest | AppendResponse | SnapshotRequest;

/** A linearizable read that may now be served, once the state machine has applied `index`. */
export interface ReadState {
  readonly id: number;
  readonly index: number;
}

/**
 * What the core asks of its driver, in this order: persist (`snapshot`, then `truncateFrom`,
 * then `hardState`, then `entries`) durably; then send `messages`; then apply `applySnapshot`
 * and `committed` to the state machine; then call `advance()` with this Ready.
 */
export interface Ready {
  readonly hardState?: HardState;
  /** Drop persisted entries with index ≥ this before appending `entries`. */
  readonly truncateFrom?: number;
  readonly entries: readonly LogEntry[];
  /** A snapshot received from the leader, to persist (and to apply: see `applySnapshot`). */
  readonly snapshot?: Snapshot;
  readonly messages: readonly Message[];
  /** Restore the state machine from this snapshot before applying `committed`. */
  readonly applySnapshot?: Snapshot;
  /** Committed entries to apply, in order. */
  readonly committed: readonly LogEntry[];
  /** Reads whose index is now known (ReadIndex). */
  readonly reads: readonly ReadState[];
  /** Reads that cannot be served by this member (it is not, or no longer, the leader). */
  readonly failedReads: readonly number[];
}

/** Configuration of one member. */
export interface RaftConfig {
  /** This member's id. */
  readonly id: string;
  /** Every member's id, this one included. */
  readonly members: readonly string[];
  /** Ticks without hearing from a leader before an election (randomized to [n, 2n)). @default 10 */
  readonly electionTicks?: number;
  /** Ticks between a leader's heartbeats. @default 1 */
  readonly heartbeatTicks?: number;
  /** Most entries in one AppendEntries message. @default 512 */
  readonly maxEntriesPerMessage?: number;
  /** Most unacknowledged AppendEntries messages per follower (pipelining window). @default 32 */
  readonly maxInflight?: number;
  /** Randomness for election timeouts, in [0, 1). Tests pass a seeded one. */
  readonly random: () => number;
}

/** What a member recovered from its disk. */
export interface RaftInitialState {
  readonly hard: HardState;
  readonly snapshot: Snapshot | null;
  readonly entries: readonly LogEntry[];
}

/** A member's view of the cluster, for `/status`. */
export interface RaftStatus {
  readonly id: string;
  readonly role: Role;
  readonly term: number;
  readonly leader: string | null;
  readonly commitIndex: number;
  readonly lastApplied: number;
  readonly lastIndex: number;
  readonly snapshotIndex: number;
}
