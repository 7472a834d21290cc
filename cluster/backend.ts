/**
 * The cluster backend contract: what the harness needs of a running cluster, and the optional
 * powers a nemesis uses (Jepsen's DB protocol with `Kill`, `Pause`, `Partitionable`, `Primary`, and clock control).
 * Backends: `local` (child processes on 127.0.0.1, peer links through TCP proxies) and `docker`
 * (containers, partitions as iptables rules). Check a power with its type guard before using it.
 */

/** A running cluster of nodes. */
export interface ClusterBackend {
  /** The backend's name, e.g. `local`. */
  readonly name: string;
  /** Node ids, e.g. `["n1", "n2", "n3"]`. */
  readonly nodes: readonly string[];
  /** The base URL clients use to reach `node`, e.g. `http://127.0.0.1:7001`. */
  endpoint(node: string): string;
  /** Each node's log file (for the store). */
  logFiles(): ReadonlyMap<string, string>;
  /** Stops every node and releases everything the backend started; safe to call twice. */
  teardown(): Promise<void>;
}

/** kill -9 and restart from the data dir. */
export interface Killable {
  /** Kills `node` at once (SIGKILL); resolves when it is dead. No-op if it is not running. */
  kill(node: string): Promise<void>;
  /** Starts `node` again from its data dir; resolves when it answers `/health`. No-op if running. */
  restart(node: string): Promise<void>;
  /** Whether `node` is running (not killed). */
  isRunning(node: string): boolean;
}

/** Pause and resume (SIGSTOP / SIGCONT). */
export interface Pausable {
  pause(node: string): Promise<void>;
  resume(node: string): Promise<void>;
  isPaused(node: string): boolean;
}

/** A directed link: traffic that `from` sends to `to`. */
export interface Link {
  readonly from: string;
  readonly to: string;
}

/** The fault on one directed peer link. */
export type LinkFault =
  | { readonly kind: 'ok' }
  | { readonly kind: 'blackhole' }
  | { readonly kind: 'reset' }
  | { readonly kind: 'latency'; readonly ms: number; readonly jitterMs?: number };

/** Per-link network faults between nodes (partitions; on the local backend also latency and resets). */
export interface Partitionable {
  /** Puts `fault` on each listed directed link; other links keep theirs. */
  setLinkFaults(links: readonly Link[], fault: LinkFault): Promise<void>;
  /** Every link back to `ok`. */
  healNetwork(): Promise<void>;
  /** Which fault kinds this backend can put on a link. */
  readonly linkFaultKinds: ReadonlySet<LinkFault['kind']>;
}

/** Who leads (Raft). */
export interface HasLeader {
  /** The leader the running nodes agree on, or null if they do not within `timeoutMs`. */
  leader(timeoutMs?: number): Promise<string | null>;
}

/**
 * Per-node wall clocks (the local backend under libfaketime, when started with `clockFaults`).
 * Only the wall clock moves: timers and monotonic clocks keep true time.
 */
export interface ClockControl {
  /** Sets `node`'s wall clock to true time + `offsetS` seconds (negative: behind); takes effect at once, kept across restarts. */
  setClockOffset(node: string, offsetS: number): Promise<void>;
  /** `node`'s offset as last set, seconds (0 at start). */
  clockOffset(node: string): number;
}

/** What one node believes: whom it follows (or leads) in which term. */
export interface LeaderView {
  readonly node: string;
  /** The leader it knows, or null. */
  readonly leader: string | null;
  readonly term: number;
  /** Its Raft role, e.g. `leader`, `follower`, `candidate`. */
  readonly role: string;
  /** How many of the services' own Raft groups (the queue's) it leads, by its own view. @default 0 */
  readonly groupsLed?: number;
}

/** Each node's own view of the leader (its `/status`), to find leaders when the nodes disagree. */
export interface LeaderViews {
  /** The views of the nodes that answer now (neither killed nor paused), in node order. */
  leaderViews(): Promise<LeaderView[]>;
}

const has = (b: object, ...methods: string[]): boolean =>
  methods.every((m) => typeof (b as Record<string, unknown>)[m] === 'function');

export const isKillable = (b: ClusterBackend): b is ClusterBackend & Killable => has(b, 'kill', 'restart', 'isRunning');
export const isPausable = (b: ClusterBackend): b is ClusterBackend & Pausable => has(b, 'pause', 'resume', 'isPaused');
export const isPartitionable = (b: ClusterBackend): b is ClusterBackend & Partitionable => has(b, 'setLinkFaults', 'healNetwork');
export const hasClockControl = (b: ClusterBackend): b is ClusterBackend & ClockControl => has(b, 'setClockOffset', 'clockOffset');
export const hasLeader = (b: ClusterBackend): b is ClusterBackend & HasLeader => has(b, 'leader');
export const hasLeaderViews = (b: ClusterBackend): b is ClusterBackend & LeaderViews => has(b, 'leaderViews');
