/**
 * The dsync side of the cache benchmark: a local cluster of `dsync node` processes with long
 * cache leases and a small LRU, and clients that read and write keys over HTTP with keep-alive
 * (an undici Pool per node, shared by that node's clients). The same HTTP client reads from the
 * trivial node:http server whose speed bounds the hits (`http-ceiling.ts`).
 */
import { Pool } from 'undici';
import { startBenchCluster } from './dsync-bench-cluster.js';
import type { CacheClient, CacheTarget, ReadReply } from './cache-target.js';

/**
 * The nodes' `--cache-lease-ms`: ten minutes, longer than any run. With the default (2 s) a copy
 * is asked for again every lease, so hits would be capped by lease renewals, not by the node.
 */
export const BENCH_LEASE_MS = 600_000;
/** The nodes' `--cache-max-entries`: small, so that the skew cells measure an LRU under pressure. */
export const BENCH_MAX_ENTRIES = 100;
/** Connections of each node's pool: at least the most clients one node gets (`--clients` ≤ 256). */
const POOL_CONNECTIONS = 256;
/** How long a request may wait for the answer's headers, then its body, before it fails (so no cell waits forever). */
const REQUEST_TIMEOUT_MS = 30_000;

/** The options of each keep-alive pool: to a node, or to the trivial server. */
const POOL_OPTIONS: Pool.Options = { connections: POOL_CONNECTIONS, keepAliveTimeout: 30_000, headersTimeout: REQUEST_TIMEOUT_MS, bodyTimeout: REQUEST_TIMEOUT_MS };

/** A new keep-alive pool to `http://address`. */
export const httpPool = (address: string): Pool => new Pool(`http://${address}`, POOL_OPTIONS);

/**
 * A client reading `GET <prefix><key>` and writing `PUT <prefix><key> {"value": ...}` through
 * `pool`: the cache API's shape (200 `{value, state, hit}` or 404 `{hit}`), which the trivial
 * server also answers. `close()` leaves the pool open (it is shared).
 */
export function httpCacheClient(pool: Pool, prefix = '/cache/'): CacheClient {
  return {
    async get(key: string): Promise<ReadReply> {
      const path = prefix + encodeURIComponent(key);
      const res = await pool.request({ method: 'GET', path });
      const text = await res.body.text();
      if (res.statusCode !== 200 && res.statusCode !== 404) throw new Error(`GET ${path}: HTTP ${res.statusCode} ${text.slice(0, 200)}`);
      let body: { value?: unknown; hit?: unknown };
      try {
        body = JSON.parse(text) as { value?: unknown; hit?: unknown };
      } catch {
        throw new Error(`GET ${path}: HTTP ${res.statusCode}, not JSON: ${text.slice(0, 200)}`);
      }
      const found = res.statusCode === 200;
      if (found && body.value === undefined) throw new Error(`GET ${path}: HTTP 200 without a value: ${text.slice(0, 200)}`);
      return typeof body.hit === 'boolean' ? { found, hit: body.hit } : { found };
    },
    async put(key: string, value: string): Promise<void> {
      const path = prefix + encodeURIComponent(key);
      const res = await pool.request({ method: 'PUT', path, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ value }) });
      const text = await res.body.text();
      if (res.statusCode !== 200) throw new Error(`PUT ${path}: HTTP ${res.statusCode} ${text.slice(0, 200)}`);
    },
    async close(): Promise<void> {
      // The pool is shared by the node's clients; the target's stop() closes it.
    },
  };
}

/**
 * Starts a dsync cluster of `nodes` nodes with its data under `dir` (write-through, the embedded
 * store, {@link BENCH_LEASE_MS} leases, an LRU of {@link BENCH_MAX_ENTRIES} lines), and waits
 * until the nodes agree on a leader.
 */
export async function startDsyncCacheCluster(opts: { nodes: number; dir: string; log?: (line: string) => void }): Promise<CacheTarget> {
  const nodeArgs = ['--cache-lease-ms', String(BENCH_LEASE_MS), '--cache-max-entries', String(BENCH_MAX_ENTRIES)];
  const { label, pools, pids, stop } = await startBenchCluster({ ...opts, pool: POOL_OPTIONS, nodeArgs });
  return {
    label,
    nodes: opts.nodes,
    async client(node: number): Promise<CacheClient> {
      const pool = pools[node];
      if (pool === undefined) throw new RangeError(`${label} has no node ${node}`);
      return httpCacheClient(pool);
    },
    pids,
    stop,
  };
}
