/**
 * The dsync side of the cache benchmark: a local cluster of `dsync node` processes with long
 * cache leases and a small LRU, and clients that read and write keys over HTTP with keep-alive
 * (an undici Pool per node, shared by that node's clients). The same HTTP client reads from the
 * trivial node:http server whose speed bounds the hits (`http-ceiling.ts`).
 */
import { rm } from 'node:fs/promises';
import { Pool } from 'undici';
import { startLocalCluster } from '../../cluster/local/node-process.js';
import { errorMessage } from '../../cluster/errors.js';
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

/** A new keep-alive pool to `http://address`. */
export const httpPool = (address: string): Pool =>
  new Pool(`http://${address}`, { connections: POOL_CONNECTIONS, keepAliveTimeout: 30_000, headersTimeout: REQUEST_TIMEOUT_MS, bodyTimeout: REQUEST_TIMEOUT_MS });

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
  const extraArgs = ['--log-level', 'warn', '--cache-lease-ms', String(BENCH_LEASE_MS), '--cache-max-entries', String(BENCH_MAX_ENTRIES)];
  const cluster = await startLocalCluster({ nodes: opts.nodes, dir: opts.dir, extraArgs });
  const pools = cluster.nodes.map((n) => httpPool(n.spec.address));
  const label = `dsync ${opts.nodes} node${opts.nodes === 1 ? '' : 's'}`;
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      await Promise.all(pools.map((p) => p.destroy().catch(() => undefined)));
      await cluster.destroy();
      await rm(opts.dir, { recursive: true, force: true });
    })());
  try {
    // Every node knows the members (and so the ring of homes) before the first request.
    const leader = await cluster.agreedLeader(15_000);
    opts.log?.(`${label}: leader ${leader.spec.id}`);
  } catch (e) {
    await stop();
    throw new Error(`${label}: ${errorMessage(e)}`);
  }
  return {
    label,
    nodes: opts.nodes,
    async client(node: number): Promise<CacheClient> {
      const pool = pools[node];
      if (pool === undefined) throw new RangeError(`${label} has no node ${node}`);
      return httpCacheClient(pool);
    },
    pids: () => cluster.nodes.flatMap((n) => (n.pid === undefined ? [] : [n.pid])),
    stop,
  };
}
