/**
 * What the queue benchmark drives: a queue service (a dsync cluster, or NATS JetStream or Redis
 * for comparison) and its clients. The load runner only knows this interface, so every system
 * sees the identical load.
 */

/** A message a client dequeued: it stays leased to that client until acked. */
export interface Delivery {
  /** The id it was enqueued with. */
  readonly id: string;
  readonly message: string;
  /** Acknowledges the message, so that it is never delivered again; resolves once the service confirmed it. Rejects on any error. */
  ack(): Promise<void>;
}

/** One benchmark client: its own connection(s) to one node of the target. */
export interface QueueClient {
  /**
   * Enqueues `message` on `queue` under the caller's `id` (unique per message; retrying with the
   * same id must not make a second message where the system supports it). Resolves once the
   * service acknowledged it; rejects on any error (the runner counts it).
   */
  enqueue(queue: string, message: string, id: string): Promise<void>;
  /**
   * Takes the next message of `queue`, waiting up to about `waitMs` for one; null when none came.
   * Rejects on any error.
   */
  dequeue(queue: string, waitMs: number): Promise<Delivery | null>;
  /** Frees the client's resources (its connections). */
  close(): Promise<void>;
}

/** A running queue service. */
export interface QueueTarget {
  /** e.g. `dsync 3 nodes`, `JetStream 3 servers, R=3` or `Redis 1 server, AOF always`. */
  readonly label: string;
  /** Makes client number `i` (0-based); targets of several nodes spread clients round-robin (node `i mod n`). */
  client(i: number): Promise<QueueClient>;
  /** The server processes' ids, for their CPU time (empty when not known). */
  pids(): readonly number[];
  /** Stops every process the target started and removes its data. */
  stop(): Promise<void>;
}
