/**
 * The dsync side of the queue benchmark: a local cluster of `dsync node` processes, and clients
 * that enqueue, dequeue (long-polling with `waitMs`) and ack over HTTP with keep-alive (an undici
 * Pool per node, shared by that node's clients). Clients are spread over the nodes round-robin
 * (client `i` talks to node `i mod n`); a node that does not own a queue forwards to its owner.
 */
import type { Pool } from 'undici';
import { startBenchCluster } from './dsync-bench-cluster.js';
import type { Delivery, QueueClient, QueueTarget } from './queue-target.js';

/** How long a dequeued message stays leased before dsync redelivers it. */
const VISIBILITY_MS = 30_000;

/** POSTs `body` as JSON; resolves to the status and the JSON answer (undefined for an empty body). */
async function post(pool: Pool, path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> | undefined }> {
  const res = await pool.request({ method: 'POST', path, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.body.text();
  if (text === '') return { status: res.statusCode, json: undefined };
  try {
    return { status: res.statusCode, json: JSON.parse(text) as Record<string, unknown> };
  } catch {
    throw new Error(`${path}: HTTP ${res.statusCode}, not JSON: ${text.slice(0, 200)}`);
  }
}

const failure = (path: string, r: { status: number; json: unknown }): Error => new Error(`${path}: HTTP ${r.status} ${JSON.stringify(r.json) ?? ''}`);

/** Starts a dsync cluster of `nodes` nodes with its data under `dir`, and waits until the nodes agree on a leader. */
export async function startDsyncQueueCluster(opts: { nodes: number; dir: string; log?: (line: string) => void }): Promise<QueueTarget> {
  // Twice 64 clients on one node, long polls included, each needs a connection of its own.
  const { label, pools, pids, stop } = await startBenchCluster({ ...opts, pool: { connections: 256, keepAliveTimeout: 30_000 } });
  return {
    label,
    async client(i: number): Promise<QueueClient> {
      const pool = pools[i % pools.length] as Pool;
      const at = (queue: string, op: string): string => `/queue/${encodeURIComponent(queue)}/${op}`;
      return {
        async enqueue(queue: string, message: string, id: string): Promise<void> {
          const path = at(queue, 'enqueue');
          const r = await post(pool, path, { message, id });
          if (r.status !== 200) throw failure(path, r);
        },
        async dequeue(queue: string, waitMs: number): Promise<Delivery | null> {
          const path = at(queue, 'dequeue');
          const r = await post(pool, path, { visibilityMs: VISIBILITY_MS, waitMs });
          if (r.status === 204) return null;
          const { id, message, receipt } = r.json ?? {};
          if (r.status !== 200 || typeof id !== 'string' || typeof message !== 'string' || receipt === undefined) throw failure(path, r);
          return {
            id,
            message,
            async ack(): Promise<void> {
              const ackPath = at(queue, 'ack');
              const a = await post(pool, ackPath, { receipt });
              if (a.status !== 200) throw failure(ackPath, a);
            },
          };
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
