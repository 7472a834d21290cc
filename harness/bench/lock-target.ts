/**
 * What the lock benchmark drives: a lock service (a dsync cluster, or etcd for comparison) and
 * its clients. The load runner only knows this interface, so both see the identical load.
 */

/** One benchmark client: a session of its own (etcd: its own lease; dsync: its own client id). */
export interface PairClient {
  /**
   * Acquires `lock` exclusively, waiting in the lock's queue as long as needed, then releases
   * it: one acquire+release pair. Rejects on any error (the runner counts it).
   */
  pair(lock: string): Promise<void>;
  /** Frees the client's resources (its lease, its connections). */
  close(): Promise<void>;
}

/** A running lock service. */
export interface LockTarget {
  /** e.g. `dsync 3 nodes` or `etcd 3 members`. */
  readonly label: string;
  /** Makes client number `i` (0-based). */
  client(i: number): Promise<PairClient>;
  /** The server processes' ids, for their CPU time (empty when not known). */
  pids(): readonly number[];
  /** Stops every process the target started and removes its data. */
  stop(): Promise<void>;
}
