/**
 * The dsync side of the lock benchmark: a local cluster of `dsync node` processes, and clients
 * that acquire (waiting in the lock's FIFO queue) and release over HTTP with keep-alive.
 * Clients are spread over the nodes round-robin (client `i` talks to node `i mod n`), as the
 * etcd target does; followers forward to the leader.
 */
import type { Pool } from 'undici';
import { startBenchCluster } from './dsync-bench-cluster.js';
import type { LockTarget, PairClient } from './lock-target.js';

/** How long a benchmark acquire may wait in the queue and hold its lease. */
const WAIT_MS = 60_000;
const TTL_MS = 60_000;

async function post(pool: Pool, path: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await pool.request({ method: 'POST', path, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = (await res.body.json()) as Record<string, unknown>;
  if (res.statusCode !== 200) throw new Error(`${path}: HTTP ${res.statusCode} ${JSON.stringify(json)}`);
  return json;
}

/** Starts a dsync cluster of `nodes` nodes with its data under `dir`, and waits for a leader. */
export async function startDsyncCluster(opts: { nodes: number; dir: string; log?: (line: string) => void }): Promise<LockTarget> {
  const { label, pools, pids, stop } = await startBenchCluster({ ...opts, pool: { connections: 128, keepAliveTimeout: 30_000 } });
  return {
    label,
    async client(i: number): Promise<PairClient> {
      const pool = pools[i % pools.length] as Pool;
      const client = `bench-${i}`;
      return {
        async pair(lock: string): Promise<void> {
          const g = await post(pool, '/lock/acquire', { name: lock, client, mode: 'exclusive', ttlMs: TTL_MS, waitMs: WAIT_MS });
          await post(pool, '/lock/release', { name: lock, client, token: g['token'], secret: g['secret'] });
        },
        async close(): Promise<void> {
          // The pools are shared by all clients; stop() closes them.
        },
      };
    },
    pids,
    stop,
  };
}
