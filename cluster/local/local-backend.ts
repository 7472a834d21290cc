/**
 * The `local` cluster backend: every node a child process on 127.0.0.1 with its own data dir,
 * every peer link through a harness-owned TCP proxy (so partitions, latency and resets need
 * neither root nor Docker), kill -9 and restart from the data dir, pause with SIGSTOP/SIGCONT;
 * started with `clockFaults`, every node runs under libfaketime with a clock offset of its own.
 * The nodes share a random secret made for the run (`<dir>/cluster-secret`, mode 0600) and run
 * with `DSYNC_TEST_AIDS=1`, so that experiments may plant bugs in them.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startLocalCluster, type LocalCluster, type NodeProcess } from './node-process.js';
import { faketimeEnv, findLibfaketime, writeClockOffset } from './faketime.js';
import { leaderViewOf } from '../node-status.js';
import type { ClockControl, ClusterBackend, HasLeader, Killable, LeaderView, LeaderViews, Link, LinkFault, Partitionable, Pausable } from '../backend.js';

/** How to start a {@link LocalBackend}. */
export interface LocalBackendOptions {
  /** Number of nodes (1, 3 or 5 usually). */
  readonly nodes: number;
  /** Folder for the nodes' data dirs and logs (`n1/`, `n1.log`, ...). */
  readonly dir: string;
  /** Extra `dsync node` flags for every node, e.g. `['--tick-ms', '10']`. */
  readonly nodeArgs?: readonly string[];
  /**
   * Run every node under libfaketime with its clock offset in `<dir>/<id>.clock` (a
   * {@link ClockControl}); throws before starting anything when libfaketime is not installed.
   * @default false
   */
  readonly clockFaults?: boolean;
  /** More environment variables for every node. */
  readonly nodeEnv?: Readonly<Record<string, string>>;
}

/** A running local cluster with every nemesis power. */
export class LocalBackend implements ClusterBackend, Killable, Pausable, Partitionable, HasLeader, LeaderViews {
  readonly name = 'local';
  readonly nodes: readonly string[];
  readonly linkFaultKinds: ReadonlySet<LinkFault['kind']> = new Set(['ok', 'blackhole', 'reset', 'latency']);
  readonly #cluster: LocalCluster;
  readonly #byId: ReadonlyMap<string, NodeProcess>;
  readonly #paused = new Set<string>();
  #torndown: Promise<void> | undefined;

  protected constructor(cluster: LocalCluster) {
    this.#cluster = cluster;
    this.nodes = cluster.nodes.map((n) => n.spec.id);
    this.#byId = new Map(cluster.nodes.map((n) => [n.spec.id, n]));
  }

  /** Starts the nodes (through their link proxies) and waits until each answers `/health`. */
  static async start(o: LocalBackendOptions): Promise<LocalBackend> {
    if (!Number.isInteger(o.nodes) || o.nodes < 1) throw new RangeError(`local backend: nodes must be a positive integer, got ${o.nodes}`);
    const library = o.clockFaults ? findLibfaketime() : null;
    const clockFile = (id: string): string => join(o.dir, `${id}.clock`);
    const env = library === null && !o.nodeEnv ? undefined : (id: string): Record<string, string> => {
      if (library === null) return { ...o.nodeEnv };
      mkdirSync(o.dir, { recursive: true });
      writeClockOffset(clockFile(id), 0);
      return { ...o.nodeEnv, ...faketimeEnv(library, clockFile(id)) };
    };
    // A test harness's nodes: they accept test aids (failpoints, --unsafe-grant-without-quorum).
    const cluster = await startLocalCluster({ nodes: o.nodes, dir: o.dir, proxies: true, testAids: true, ...(o.nodeArgs ? { extraArgs: o.nodeArgs } : {}), ...(env ? { env } : {}) });
    return library === null ? new LocalBackend(cluster) : new FaketimeLocalBackend(cluster, clockFile);
  }

  protected node(id: string): NodeProcess {
    return this.#node(id);
  }

  #node(id: string): NodeProcess {
    const n = this.#byId.get(id);
    if (!n) throw new RangeError(`local backend: no node "${id}" (nodes: ${this.nodes.join(', ')})`);
    return n;
  }

  endpoint(node: string): string {
    return `http://${this.#node(node).spec.address}`;
  }

  logFiles(): ReadonlyMap<string, string> {
    return new Map(this.#cluster.nodes.map((n) => [n.spec.id, n.spec.logFile]));
  }

  async kill(node: string): Promise<void> {
    await this.#node(node).stop('SIGKILL');
    this.#paused.delete(node);
  }

  async restart(node: string): Promise<void> {
    const n = this.#node(node);
    if (n.running) return;
    n.start();
    await n.waitHealthy(15_000);
  }

  isRunning(node: string): boolean {
    return this.#node(node).running;
  }

  async pause(node: string): Promise<void> {
    const n = this.#node(node);
    if (!n.running) return;
    n.pause();
    this.#paused.add(node);
  }

  async resume(node: string): Promise<void> {
    this.#node(node).resume();
    this.#paused.delete(node);
  }

  isPaused(node: string): boolean {
    return this.#paused.has(node);
  }

  async setLinkFaults(links: readonly Link[], fault: LinkFault): Promise<void> {
    for (const l of links) {
      const proxy = this.#cluster.links.get(`${l.from}>${l.to}`);
      if (!proxy) throw new RangeError(`local backend: no link ${l.from} → ${l.to}`);
      proxy.setFault(fault);
    }
  }

  async healNetwork(): Promise<void> {
    for (const proxy of this.#cluster.links.values()) proxy.setFault({ kind: 'ok' });
  }

  async leader(timeoutMs = 2000): Promise<string | null> {
    try {
      return (await this.#cluster.agreedLeader(timeoutMs)).spec.id;
    } catch {
      return null;
    }
  }

  async leaderViews(): Promise<LeaderView[]> {
    // A paused node would not answer; asking it would only cost the status timeout.
    const asked = this.#cluster.nodes.filter((n) => n.running && !this.#paused.has(n.spec.id));
    const statuses = await Promise.all(asked.map((n) => n.status()));
    return asked.flatMap((n, i): LeaderView[] => {
      const view = leaderViewOf(n.spec.id, statuses[i] ?? null);
      return view ? [view] : [];
    });
  }

  /** Resumes paused nodes (a stopped process ignores SIGKILL's cleanup otherwise), kills all, stops the proxies. */
  teardown(): Promise<void> {
    return (this.#torndown ??= (async () => {
      for (const id of this.#paused) this.#node(id).resume();
      this.#paused.clear();
      await this.#cluster.destroy();
    })());
  }
}

/** The local backend whose nodes run under libfaketime: clock faults by rewriting each node's offset file. */
class FaketimeLocalBackend extends LocalBackend implements ClockControl {
  readonly #file: (id: string) => string;
  readonly #offsets = new Map<string, number>();

  constructor(cluster: LocalCluster, file: (id: string) => string) {
    super(cluster);
    this.#file = file;
  }

  async setClockOffset(node: string, offsetS: number): Promise<void> {
    this.node(node);
    writeClockOffset(this.#file(node), offsetS);
    this.#offsets.set(node, offsetS);
  }

  clockOffset(node: string): number {
    this.node(node);
    return this.#offsets.get(node) ?? 0;
  }
}
