/**
 * What the cache benchmark drives: a key-value service (a dsync cluster's cache, Redis, or a
 * trivial node:http server that answers every GET alike) and its clients. The loads only know
 * this interface, so every system sees the identical requests.
 */
import type { Stoppable } from './bench-scratch.js';

/** What a read found. */
export interface ReadReply {
  /** The key had a value (HTTP 200; Redis: not nil). */
  readonly found: boolean;
  /** dsync only: the node answered from its own valid copy (the reply's `hit` field). */
  readonly hit?: boolean;
}

/** One benchmark client, bound to one node of the target. */
export interface CacheClient {
  /** Reads `key`; rejects on any error (the load counts it). */
  get(key: string): Promise<ReadReply>;
  /** Writes `value` (a string) under `key`; resolves once the service acknowledged it. */
  put(key: string, value: string): Promise<void>;
  /** Frees what the client holds of its own (a connection); shared pools are closed by the target. */
  close(): Promise<void>;
}

/** A running key-value service. */
export interface CacheTarget extends Stoppable {
  /** e.g. `dsync 3 nodes` or `Redis 1 server, AOF fsync always`. */
  readonly label: string;
  /** Its nodes (1 for Redis and the HTTP server); clients name one by index 0..nodes-1. */
  readonly nodes: number;
  /** A client of node `node`. */
  client(node: number): Promise<CacheClient>;
  /** The server processes' ids, for their CPU time (empty when not known). */
  pids(): readonly number[];
  /** Stops every process the target started and removes its data. */
  stop(): Promise<void>;
}
