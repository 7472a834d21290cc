/**
 * Nodes as child processes on 127.0.0.1 (execa): start one `dsync node`, wait until it answers,
 * kill it (-9 or SIGTERM), restart it from its data dir. Used by the integration tests and the
 * benchmarks; the harness's local backend builds on it.
 */
import { createServer } from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fetchStatus, logTail } from '../node-status.js';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import { LinkProxy } from './link-proxy.js';
import { randomClusterSecret } from '../node/peer-auth.js';
import { TEST_AIDS_ENV } from '../test-aids.js';

/** The `dsync` executable of this checkout. */
export const DSYNC_BIN = fileURLToPath(new URL('../../../bin/dsync.js', import.meta.url));

/** Free TCP ports on 127.0.0.1, below the ephemeral range (bound then released; fine on a test machine). */
export async function freePorts(n: number): Promise<number[]> {
  const ports: number[] = [];
  // Below Linux's ephemeral range (32768–60999 by default): a port the OS picks for port 0 can be
  // taken by any outgoing connection (a node's own, to a peer) before the node binds it.
  for (let tries = 0; ports.length < n; tries++) {
    if (tries >= 1000) throw new Error(`no ${n} free ports found in ${PORT_LOW}–${PORT_HIGH - 1} after 1000 tries`);
    const port = PORT_LOW + Math.floor(Math.random() * (PORT_HIGH - PORT_LOW));
    if (ports.includes(port)) continue;
    const free = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (free) ports.push(port);
  }
  return ports;
}

/** Where {@link freePorts} looks: outside the kernel's ephemeral port range. */
/** Where nodes write CPU profiles (`$DSYNC_PROF_DIR`), if anywhere. */
const PROF_DIR = process.env['DSYNC_PROF_DIR'] || undefined;
const PORT_LOW = 20_000;
const PORT_HIGH = 32_000;

/** How to run one node. */
export interface NodeSpec {
  readonly id: string;
  /** host:port it listens on. */
  readonly address: string;
  /** The `--peers` list it is given. */
  readonly peers: string;
  readonly dataDir: string;
  /** Its stdout+stderr go here (appended across restarts). */
  readonly logFile: string;
  /** The cluster secret's file (`--cluster-secret-file`). */
  readonly secretFile: string;
  /** More flags, e.g. `['--snapshot-every', '50']`. */
  readonly extraArgs?: readonly string[];
  /** More environment variables (e.g. libfaketime's or `{DSYNC_LOSE_UNSYNCED: '1'}`), on top of this process's. */
  readonly env?: Readonly<Record<string, string>>;
}

/** How a node process ended. */
export interface NodeExit {
  readonly code: number | undefined;
  readonly signal: string | undefined;
}

/** One node process, restartable. */
export class NodeProcess {
  readonly spec: NodeSpec;
  #child: ResultPromise | undefined;
  #exited: Promise<NodeExit> | undefined;

  constructor(spec: NodeSpec) {
    this.spec = spec;
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Starts the process (no waiting; see {@link waitHealthy}). */
  start(): void {
    if (this.#child) throw new Error(`${this.spec.id} is already running`);
    const s = this.spec;
    mkdirSync(s.dataDir, { recursive: true });
    // The child inherits this process's environment (execa's default), $DSYNC_FAILPOINTS included:
    // `DSYNC_FAILPOINTS=... dsync run X.yaml` plants those bugs in every node.
    // $DSYNC_PROF_DIR (a developer's aid): each node writes a V8 CPU profile there when it exits.
    const prof = PROF_DIR === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', PROF_DIR];
    const child = execa(process.execPath, [...prof, DSYNC_BIN, 'node', '--id', s.id, '--listen', s.address, '--peers', s.peers, '--data', s.dataDir, '--cluster-secret-file', s.secretFile, '--exit-with-parent', ...(s.extraArgs ?? [])], {
      stdout: { file: s.logFile, append: true },
      stderr: { file: s.logFile, append: true },
      reject: false,
      cleanup: true,
      extendEnv: true,
      ...(s.env ? { env: s.env } : {}),
    });
    this.#child = child;
    this.#exited = child.then((r) => {
      if (this.#child === child) this.#child = undefined;
      return { code: r.exitCode, signal: r.signal };
    });
  }

  /** Resolves once `/health` answers 200; rejects after `timeoutMs` or if the process exits. */
  async waitHealthy(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const exited = this.#exited;
    let done = false;
    void exited?.then(() => (done = true));
    while (Date.now() < deadline) {
      if (done || !this.#child) throw new Error(`${this.spec.id} exited before it was healthy: ${this.logTail(1)} (see ${this.spec.logFile})`);
      try {
        const res = await fetch(`http://${this.spec.address}/health`, { signal: AbortSignal.timeout(500) });
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`${this.spec.id} not healthy within ${timeoutMs} ms; see ${this.spec.logFile}`);
  }

  /** Sends `signal` and waits for the exit. Resolves at once if it is not running. */
  async stop(signal: 'SIGKILL' | 'SIGTERM' = 'SIGTERM', timeoutMs = 10_000): Promise<NodeExit | undefined> {
    const child = this.#child;
    const exited = this.#exited;
    if (!child || !exited) return undefined;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    try {
      return await exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Its `/status` answer, or null when it is not running or does not answer within a second. */
  async status(): Promise<Record<string, unknown> | null> {
    if (!this.running) return null;
    return fetchStatus(`http://${this.spec.address}`);
  }

  /** The last `n` lines of its log, joined with ` | ` (for error messages). */
  logTail(n = 3): string {
    return logTail(this.spec.logFile, n);
  }

  /** SIGSTOP / SIGCONT. */
  pause(): void {
    this.#child?.kill('SIGSTOP');
  }
  resume(): void {
    this.#child?.kill('SIGCONT');
  }
}

/** A local cluster of node processes. */
export interface LocalCluster {
  readonly nodes: readonly NodeProcess[];
  /**
   * With `proxies`: the proxy of each directed link, keyed `from>to` (e.g. `n1>n2` carries the
   * connections n1 opens to n2). Empty otherwise.
   */
  readonly links: ReadonlyMap<string, LinkProxy>;
  /**
   * The leader every running node agrees on (and that is running itself), once they do; throws
   * after `timeoutMs` with each node's last log lines.
   */
  agreedLeader(timeoutMs?: number): Promise<NodeProcess>;
  /** Stops (SIGKILL) every node still running, and the proxies. */
  destroy(): Promise<void>;
}

async function agreedLeader(nodes: readonly NodeProcess[], timeoutMs: number): Promise<NodeProcess> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const running = nodes.filter((n) => n.running);
    const leaders = new Set((await Promise.all(running.map((n) => n.status()))).map((s) => s?.['leader'] ?? null));
    const [id] = leaders;
    const leader = leaders.size === 1 && typeof id === 'string' ? nodes.find((n) => n.spec.id === id && n.running) : undefined;
    if (leader) return leader;
    if (Date.now() > deadline) {
      const tails = nodes.map((n) => `${n.spec.id}: ${n.logTail()}`).join('\n');
      throw new Error(`no leader agreed on by the running nodes within ${timeoutMs} ms; their last log lines:\n${tails}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The file a local cluster keeps its secret in, under its folder. */
export const CLUSTER_SECRET_FILE = 'cluster-secret';

/**
 * Writes a fresh random cluster secret to `<dir>/cluster-secret` (mode 0600, never on a command
 * line) and returns the file's path.
 */
export function writeClusterSecret(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, CLUSTER_SECRET_FILE);
  writeFileSync(file, `${randomClusterSecret()}\n`, { mode: 0o600 });
  return file;
}

/**
 * Starts `n` nodes, waiting until all are healthy. They share a random secret made for this
 * cluster ({@link writeClusterSecret}). With `proxies`, every node reaches every other through a
 * {@link LinkProxy} of its own (one per directed link), so links can be cut one by one; clients
 * still reach each node directly.
 */
export async function startLocalCluster(o: {
  nodes: number;
  dir: string;
  extraArgs?: readonly string[];
  proxies?: boolean;
  /** Each node's extra environment, by id. */
  env?: (id: string) => Readonly<Record<string, string>>;
  /**
   * Let the nodes accept test aids (`DSYNC_TEST_AIDS=1`): failpoints, `--unsafe-grant-without-quorum`,
   * `DSYNC_LOSE_UNSYNCED`. @default false
   */
  testAids?: boolean;
}): Promise<LocalCluster> {
  const secretFile = writeClusterSecret(o.dir);
  const ports = await freePorts(o.nodes);
  const ids = ports.map((_, i) => `n${i + 1}`);
  const own = (i: number): string => `127.0.0.1:${ports[i]}`;
  // Before anything is started, so that a throwing `env` leaves nothing behind.
  const aids: Record<string, string> | undefined = o.testAids ? { [TEST_AIDS_ENV]: '1' } : undefined;
  const envs = ids.map((id) => (o.env || aids ? { ...aids, ...o.env?.(id) } : undefined));
  const links = new Map<string, LinkProxy>();
  const stopLinks = async (): Promise<void> => {
    await Promise.all([...links.values()].map((l) => l.stop()));
  };
  if (o.proxies) {
    try {
      for (const [i, from] of ids.entries()) {
        for (const [j, to] of ids.entries()) if (i !== j) links.set(`${from}>${to}`, await LinkProxy.start({ target: own(j) }));
      }
    } catch (e) {
      await stopLinks();
      throw e;
    }
  }
  const peersOf = (i: number): string =>
    ids.map((id, j) => `${id}=${i === j || !o.proxies ? own(j) : (links.get(`${ids[i]}>${id}`) as LinkProxy).address}`).join(',');
  const nodes = ids.map(
    (id, i) =>
      new NodeProcess({
        id,
        address: own(i),
        peers: peersOf(i),
        dataDir: join(o.dir, id),
        logFile: join(o.dir, `${id}.log`),
        secretFile,
        ...(o.extraArgs ? { extraArgs: o.extraArgs } : {}),
        ...(envs[i] ? { env: envs[i] } : {}),
      }),
  );
  const cluster: LocalCluster = {
    nodes,
    links,
    agreedLeader: (timeoutMs = 10_000) => agreedLeader(nodes, timeoutMs),
    destroy: async () => {
      // A profiled node must exit by itself to write its profile.
      await Promise.all(nodes.map((n) => n.stop(PROF_DIR === undefined ? 'SIGKILL' : 'SIGTERM')));
      await stopLinks();
    },
  };
  try {
    for (const n of nodes) n.start();
    await Promise.all(nodes.map((n) => n.waitHealthy()));
  } catch (e) {
    await cluster.destroy();
    throw e;
  }
  return cluster;
}
