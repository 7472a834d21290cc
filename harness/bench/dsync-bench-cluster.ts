/**
 * The local dsync cluster under each dsync benchmark target (lock, queue, cache): `dsync node`
 * processes logging warnings only, a keep-alive undici Pool per node shared by that node's
 * clients, and a leader every node agrees on before the first request; stopped with its pools,
 * its processes and its folder.
 */
import { rm } from 'node:fs/promises';
import { Pool } from 'undici';
import { startLocalCluster, type LocalCluster } from '../../cluster/local/node-process.js';
import { errorMessage } from '../../cluster/errors.js';

/** How {@link startBenchCluster} starts the cluster. */
export interface BenchClusterOptions {
  /** Nodes (≥ 1). */
  readonly nodes: number;
  /** The cluster's own folder: holds the nodes' data, removed by `stop()`. */
  readonly dir: string;
  /** The options of each node's pool (its `connections`: at least the most clients one node gets at once). */
  readonly pool: Pool.Options;
  /** Each node's flags besides `--log-level warn`. @default [] */
  readonly nodeArgs?: readonly string[];
  /** Peer links through a proxy each, so that they can be cut (`LocalCluster.links`). @default false */
  readonly proxies?: boolean;
  /** Receives the leader the nodes agreed on. */
  readonly log?: (line: string) => void;
}

/** A running benchmark cluster. */
export interface BenchCluster {
  /** `dsync 1 node`, `dsync 3 nodes`, …: the target's label. */
  readonly label: string;
  /** A pool per node, in the nodes' order. */
  readonly pools: readonly Pool[];
  /** The node processes (and link proxies), for faults. */
  readonly cluster: LocalCluster;
  /** The node processes' ids, for their CPU time. */
  pids(): readonly number[];
  /** Closes the pools, kills the nodes and removes the folder; a second call returns the first one's promise. */
  stop(): Promise<void>;
}

/** How long the nodes may take to agree on a leader. */
const LEADER_TIMEOUT_MS = 15_000;

/**
 * Starts a dsync cluster of `nodes` nodes with its data under `dir`, opens a pool to each node,
 * and waits until the nodes agree on a leader.
 * @throws Error `<label>: …` when they do not within 15 s (the cluster is stopped first)
 */
export async function startBenchCluster(opts: BenchClusterOptions): Promise<BenchCluster> {
  const cluster = await startLocalCluster({ nodes: opts.nodes, dir: opts.dir, proxies: opts.proxies ?? false, extraArgs: ['--log-level', 'warn', ...(opts.nodeArgs ?? [])] });
  const pools = cluster.nodes.map((n) => new Pool(`http://${n.spec.address}`, opts.pool));
  const label = `dsync ${opts.nodes} node${opts.nodes === 1 ? '' : 's'}`;
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      await Promise.all(pools.map((p) => p.destroy().catch(() => undefined)));
      await cluster.destroy();
      await rm(opts.dir, { recursive: true, force: true });
    })());
  try {
    // Every node knows the leader, and so the members (the ring of queue owners and cache homes),
    // before the first request: the first operations measure no election.
    const leader = await cluster.agreedLeader(LEADER_TIMEOUT_MS);
    opts.log?.(`${label}: leader ${leader.spec.id}`);
  } catch (e) {
    await stop();
    throw new Error(`${label}: ${errorMessage(e)}`);
  }
  return {
    label,
    pools,
    cluster,
    pids: () => cluster.nodes.flatMap((n) => (n.pid === undefined ? [] : [n.pid])),
    stop,
  };
}
