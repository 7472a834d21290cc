/**
 * The cluster under one size of `dsync bench compare`: `dsync node` processes on loopback (with a
 * link proxy per directed peer link when a partition is to be cut), a keep-alive pool per node,
 * the nodes' counters for the cost per op (CPU from `/proc`, TCP bytes and fsyncs from each
 * node's `/metrics`), and the two faults: kill -9 of the leader (then restart), and the leader cut
 * off from every other node (then healed).
 */
import type { Pool } from 'undici';
import type { LocalCluster, NodeProcess } from '../../cluster/local/node-process.js';
import { startBenchCluster, type BenchCluster } from './dsync-bench-cluster.js';
import { cpuSeconds } from './process-cpu.js';
import type { NodeCost } from './compare-results.js';

/** The counters of one node at one instant (null: not readable). */
export interface NodeCounters {
  readonly node: string;
  readonly cpuS: number | null;
  readonly bytesIn: number | null;
  readonly bytesOut: number | null;
  readonly fsyncs: number | null;
}

/** How long the nodes may take to agree on a leader, and a restarted node to answer `/health`. */
const LEADER_TIMEOUT_MS = 20_000;
/** The keep-alive pool of each node (and of the load generator's scale check, so that it measures the same client). */
export const COMPARE_POOL_OPTIONS: Pool.Options = { connections: 128, keepAliveTimeout: 30_000, headersTimeout: 10_000, bodyTimeout: 10_000 };

/** The value of the unlabelled-or-labelled counter `name` among the lines of Prometheus text, or null. */
function metricValue(lines: readonly string[], name: string): number | null {
  const line = lines.find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  if (line === undefined) return null;
  const value = Number(line.slice(line.lastIndexOf(' ') + 1));
  return Number.isFinite(value) ? value : null;
}

/** The difference of two readings of a node, per field (null when either is). */
export function counterDelta(before: NodeCounters, after: NodeCounters): NodeCost {
  const d = (a: number | null, b: number | null): number | null => (a === null || b === null ? null : b - a);
  return { node: after.node, cpuS: d(before.cpuS, after.cpuS), bytesIn: d(before.bytesIn, after.bytesIn), bytesOut: d(before.bytesOut, after.bytesOut), fsyncs: d(before.fsyncs, after.fsyncs) };
}

/** A running cluster of the comparison. */
export class CompareCluster {
  readonly #bench: BenchCluster;
  readonly #cluster: LocalCluster;

  private constructor(bench: BenchCluster) {
    this.#bench = bench;
    this.#cluster = bench.cluster;
  }

  /**
   * Starts `nodes` nodes with their data under `dir` (removed by {@link stop}), through link
   * proxies when `proxies`, and waits until they agree on a leader.
   * @throws Error naming the size when they do not (everything started is stopped first)
   */
  static async start(o: { nodes: number; dir: string; proxies: boolean }): Promise<CompareCluster> {
    return new CompareCluster(await startBenchCluster({ ...o, pool: COMPARE_POOL_OPTIONS }));
  }

  /** One pool per node, in node order. */
  get pools(): readonly Pool[] {
    return this.#bench.pools;
  }

  /** Node ids, in order. */
  get ids(): readonly string[] {
    return this.#cluster.nodes.map((n) => n.spec.id);
  }

  /** The leader the running nodes agree on. */
  async leader(): Promise<string> {
    return (await this.#cluster.agreedLeader(LEADER_TIMEOUT_MS)).spec.id;
  }

  /** Each node's counters now, in node order. */
  async counters(): Promise<NodeCounters[]> {
    return Promise.all(this.#cluster.nodes.map((n, i) => nodeCounters(n, this.pools[i] as Pool)));
  }

  #node(id: string): NodeProcess {
    const node = this.#cluster.nodes.find((n) => n.spec.id === id);
    if (node === undefined) throw new RangeError(`no node ${id}`);
    return node;
  }

  /** kill -9 of `id`; resolves when it is dead. */
  async kill(id: string): Promise<void> {
    await this.#node(id).stop('SIGKILL');
  }

  /** Starts `id` again from its data dir; resolves when it answers `/health`. */
  async restart(id: string): Promise<void> {
    const node = this.#node(id);
    node.start();
    await node.waitHealthy(LEADER_TIMEOUT_MS);
  }

  /** Cuts `id` off from every other node, both ways (packets dropped, not refused). */
  async isolate(id: string): Promise<void> {
    for (const [key, link] of this.#cluster.links) if (key.split('>').includes(id)) link.setFault({ kind: 'blackhole' });
  }

  /** Every link back to ok. */
  async heal(): Promise<void> {
    for (const link of this.#cluster.links.values()) link.setFault({ kind: 'ok' });
  }

  /** Closes the pools, kills the nodes and the proxies, removes the folder; a second call returns the first one's promise. */
  stop(): Promise<void> {
    return this.#bench.stop();
  }
}

/** One node's counters: its process's CPU, and its `/metrics` TCP bytes and fsyncs. */
async function nodeCounters(node: NodeProcess, pool: Pool): Promise<NodeCounters> {
  const cpuS = node.pid === undefined ? null : ((await cpuSeconds([node.pid])) ?? null);
  let text = '';
  try {
    const res = await pool.request({ method: 'GET', path: '/metrics', signal: AbortSignal.timeout(5000) });
    text = await res.body.text();
    if (res.statusCode !== 200) text = '';
  } catch {
    text = '';
  }
  const lines = text.split('\n');
  return {
    node: node.spec.id,
    cpuS,
    bytesIn: metricValue(lines, 'dsync_socket_bytes_read_total'),
    bytesOut: metricValue(lines, 'dsync_socket_bytes_written_total'),
    fsyncs: metricValue(lines, 'dsync_fsyncs_total'),
  };
}
