/**
 * The `docker` cluster backend: one container per node on a private bridge network of the run,
 * made from the node image of this machine's Node.js (no registry), with real kernel-level faults —
 * partitions as iptables DROP rules in the receiving containers' network namespaces, kill -9
 * through the engine and start again from the same data dir, pause with the freezer cgroup.
 * Every container and the network carry the run's label (`dsync.run=<id>`); teardown removes all
 * of them, whatever happened. In the remote mode (`engine-mode.ts`: an engine on another machine,
 * or `DSYNC_DOCKER_MODE=remote`) the project is in the image, the data dirs are volumes, clients
 * reach the nodes on the engine's host and the rules are applied inside the containers through
 * the engine's exec API; the volumes carry the run's label too. No link latency (there is no tc netem here) and no clock faults:
 * experiments asking for them are refused when they are loaded (`dockerCannot`).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import type Docker from 'dockerode';
import type { ClusterBackend, HasLeader, Killable, LeaderView, LeaderViews, Link, LinkFault, Partitionable, Pausable } from '../backend.js';
import type { BackendLog, BackendStartOptions } from '../backends.js';
import { agreedLeaderOf, leaderViewOf } from '../node-status.js';
import { DSYNC_BIN, freePorts, writeClusterSecret } from '../local/node-process.js';
import { TEST_AIDS_ENV } from '../test-aids.js';
import { errorMessage } from '../errors.js';
import { DIR_LABEL, OWNER_LABEL, openEngine, RUN_LABEL } from './engine.js';
import { ownerOf } from './owner.js';
import { ensureImage, ensureNodeImage } from './image.js';
import { dockerMode, type DockerMode } from './engine-mode.js';
import { IMAGE_DSYNC_BIN, remoteImageRecipe } from './remote-image.js';
import { execShell } from './exec-shell.js';
import { createRunNetwork, type RunNetwork } from './bridge-network.js';
import { NODE_PORT, NodeContainer, type NodePlacement } from './node-container.js';
import { dropCounts, nsenterShell, setDropRules, type DropCount, type RuleShell } from './link-rules.js';
import { removeRun } from './leftovers.js';
import { dockerCannot, REMOTE_REDIS_REFUSAL } from './docker-support.js';
import { startReaper, type Reaper } from './reaper.js';
import { relayLoopbackServers } from './host-relay.js';
import type { LinkProxy } from '../local/link-proxy.js';

/** How long a node has to answer `/health` after its container starts, ms. */
const HEALTHY_MS = 30_000;

/** The host paths the containers mount read-only: the project, and its node_modules when that is a link out of it. */
function readOnlyMounts(projectRoot: string): string[] {
  const mounts = [projectRoot];
  const modules = join(projectRoot, 'node_modules');
  if (existsSync(modules) && lstatSync(modules).isSymbolicLink()) {
    const target = realpathSync(modules);
    const rel = relative(projectRoot, target);
    if (rel.startsWith('..') || isAbsolute(rel)) mounts.push(target);
  }
  return mounts;
}

/** Where a volume is mounted in the remote mode: the node's data dir. */
const VOLUME_DATA_DIR = '/data';

/** A port below the kernel's ephemeral range for an engine on another machine (none there can be checked from here). */
const remotePort = (): number => 20_000 + Math.floor(Math.random() * 12_000);

/** Ports that are all different, for an engine on another machine. */
function remotePorts(n: number): number[] {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(remotePort());
  return [...ports];
}

/** The `DSYNC_*` variables of this process (failpoints, log level, ...), which local nodes inherit and containers are given. */
function dsyncEnv(): Record<string, string> {
  return Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[0].startsWith('DSYNC_') && e[1] !== undefined && e[0] !== 'DSYNC_PROF_DIR'));
}

/** A running cluster of containers with every nemesis power but latency and clocks. */
export class DockerBackend implements ClusterBackend, Killable, Pausable, Partitionable, HasLeader, LeaderViews {
  readonly name = 'docker';
  readonly nodes: readonly string[];
  readonly linkFaultKinds: ReadonlySet<LinkFault['kind']> = new Set(['ok', 'blackhole']);
  /** The run's id, the value of its `dsync.run` label. */
  readonly runId: string;
  readonly network: RunNetwork;
  /** How this run uses its engine. */
  readonly mode: DockerMode;
  readonly #docker: Docker;
  readonly #byId: ReadonlyMap<string, NodeContainer>;
  readonly #log: BackendLog;
  readonly #reaper: Reaper;
  readonly #running = new Set<string>();
  readonly #paused = new Set<string>();
  /** Cut links, `from>to`. */
  readonly #cut = new Set<string>();
  /** Each node's start (its count of starts) that our chain was installed for. */
  readonly #chained = new Map<string, number>();
  /** Relays of this machine's loopback servers (the cache's redis-server) on the network's gateway. */
  #relays: readonly LinkProxy[] = [];
  #torndown: Promise<void> | undefined;

  private constructor(docker: Docker, mode: DockerMode, runId: string, network: RunNetwork, containers: readonly NodeContainer[], log: BackendLog, reaper: Reaper) {
    this.#docker = docker;
    this.mode = mode;
    this.#reaper = reaper;
    this.runId = runId;
    this.network = network;
    this.nodes = containers.map((c) => c.spec.id);
    this.#byId = new Map(containers.map((c) => [c.spec.id, c]));
    this.#log = log;
  }

  /**
   * Connects to the engine, makes (or reuses) the node image, creates the run's network and one
   * container per node, starts them and waits until each answers `/health`. Removes everything
   * it made if any step fails.
   * @throws DockerUnavailableError when no engine answers; Error naming the step that failed
   */
  static async start(options: BackendStartOptions): Promise<DockerBackend> {
    // Bind mounts take absolute paths only.
    const o = { ...options, dir: resolve(options.dir) };
    if (!Number.isInteger(o.nodes) || o.nodes < 1) throw new RangeError(`docker backend: nodes must be a positive integer, got ${o.nodes}`);
    const refused = o.clockFaults ? dockerCannot({ kind: 'clock-faults' }) : null;
    if (refused !== null) throw new Error(`docker backend: ${refused}`);
    const log: BackendLog = o.log ?? (() => undefined);
    const t0 = performance.now();
    if (dockerMode().mode === 'remote' && o.nodeArgs.includes('--redis')) throw new Error(`docker backend: cluster.cache.redis: ${REMOTE_REDIS_REFUSAL}`);
    const { docker, mode } = await openEngine();
    const remote = mode.mode === 'remote';
    log(`docker: ${mode.mode} mode (${mode.why})${remote ? `: clients reach the nodes on ${mode.engineHost}` : ''}`, { mode: mode.mode, engineHost: mode.engineHost });
    const projectRoot = dirname(dirname(DSYNC_BIN));
    const image = remote ? await ensureImage(docker, await remoteImageRecipe(projectRoot)) : await ensureNodeImage(docker);
    log(`docker: node image ${image.tag} ${image.built ? 'imported' : 'reused'}`, { image: image.tag, built: image.built, ms: Math.round(image.ms) });

    const runId = randomBytes(4).toString('hex');
    // Should this process die without tearing down (kill -9, a second Ctrl-C), the reaper does.
    const reaper = startReaper(runId);
    const labels = { [RUN_LABEL]: runId, [DIR_LABEL]: o.dir, [OWNER_LABEL]: ownerOf() };
    const ids = Array.from({ length: o.nodes }, (_, i) => `n${i + 1}`);
    const containers: NodeContainer[] = [];
    let relays: LinkProxy[] = [];
    try {
      const lap = ((last) => (): number => {
        const now = performance.now();
        const ms = Math.round(now - last);
        last = now;
        return ms;
      })(performance.now());
      const net = await createRunNetwork(docker, `dsync-${runId}`, labels);
      // The cache's redis-server on this machine's loopback: reached through the gateway.
      const relayed = remote ? { args: [...o.nodeArgs], relays: [] } : await relayLoopbackServers(o.nodeArgs, net.gateway);
      relays = relayed.relays;
      const networkMs = lap();
      const secretFile = writeClusterSecret(o.dir);
      // An engine on this machine: ports checked free here; elsewhere: chosen blind, another tried when taken.
      const ports = mode.engineIsLocal ? await freePorts(o.nodes) : remotePorts(o.nodes);
      const peers = ids.map((id, i) => `${id}=${net.address(i)}:${NODE_PORT}`).join(',');
      const placement = (id: string): NodePlacement =>
        remote
          ? { kind: 'volume', volume: `dsync-${runId}-${id}`, dataDir: VOLUME_DATA_DIR, secret: readFileSync(secretFile, 'utf8').trim(), dsyncBin: IMAGE_DSYNC_BIN }
          : { kind: 'bind', dataDir: join(o.dir, id), secretFile, dsyncBin: DSYNC_BIN, readOnly: readOnlyMounts(projectRoot) };
      const env = { ...dsyncEnv(), [TEST_AIDS_ENV]: '1', ...o.nodeEnv };
      for (const [i, id] of ids.entries()) {
        containers.push(
          await NodeContainer.create(docker, {
            id,
            name: `dsync-${runId}-${id}`,
            image: image.tag,
            network: net.name,
            address: net.address(i),
            hostPort: ports[i] as number,
            clientHost: mode.engineHost,
            peers,
            logFile: join(o.dir, `${id}.log`),
            placement: placement(id),
            ...(mode.engineIsLocal ? {} : { otherPort: remotePort }),
            extraArgs: relayed.args,
            env,
            labels,
          }),
        );
      }
      const createMs = lap();
      const backend = new DockerBackend(docker, mode, runId, net, containers, log, reaper);
      backend.#relays = relays;
      if (relays.length > 0) log(`docker: ${relays.map((r) => r.address).join(', ')} relays this machine's loopback servers to the containers`, { relays: relays.map((r) => r.address) });
      await Promise.all(ids.map((id) => backend.#startNode(id)));
      const ms = Math.round(performance.now() - t0);
      log(`docker: ${o.nodes} containers healthy in ${ms} ms`, { run: runId, network: net.name, subnet: net.subnet, ms, imageMs: Math.round(image.ms), imageBuilt: image.built, networkMs, createMs, startMs: lap() });
      return backend;
    } catch (e) {
      await Promise.allSettled([...containers.map((c) => c.remove()), ...relays.map((r) => r.stop())]);
      const swept = await removeRun(docker, runId).catch(() => ({ left: ['?'] }));
      if (swept.left.length === 0) reaper.release();
      throw e;
    }
  }

  #node(id: string): NodeContainer {
    const n = this.#byId.get(id);
    if (!n) throw new RangeError(`docker backend: no node "${id}" (nodes: ${this.nodes.join(', ')})`);
    return n;
  }

  /** Starts `id`'s container, installs our chain in its new namespace with the cuts into it, and waits for `/health`. */
  async #startNode(id: string): Promise<void> {
    const c = this.#node(id);
    await c.start();
    this.#running.add(id);
    await this.#applyRules(id);
    await c.waitHealthy(HEALTHY_MS);
  }

  /** `http://<engine host>:<port>`: 127.0.0.1 for an engine on this machine. */
  endpoint(node: string): string {
    return this.#node(node).url;
  }

  logFiles(): ReadonlyMap<string, string> {
    return new Map([...this.#byId.values()].map((c) => [c.spec.id, c.spec.logFile]));
  }

  /** `node`'s address on the run's network (what its peers reach it at). */
  address(node: string): string {
    return this.#node(node).spec.address;
  }

  /** The pid of `node`'s main process on the engine's machine (0 when it is not running): in the local mode, `nsenter -t <pid> -n` enters its network namespace. */
  pid(node: string): number {
    return this.#node(node).pid;
  }

  /** `node`'s engine container id. */
  containerId(node: string): string {
    return this.#node(node).containerId;
  }

  async kill(node: string): Promise<void> {
    const c = this.#node(node);
    if (!this.#running.has(node)) return;
    // A paused one too: the engine sends SIGKILL, then thaws the cgroup so that it dies without
    // running another instruction (as SIGKILL does to a SIGSTOPped process).
    await c.kill();
    this.#paused.delete(node);
    this.#running.delete(node);
    // Its network namespace is gone with it, rules and all; a start makes a new one.
    this.#chained.delete(node);
  }

  async restart(node: string): Promise<void> {
    if (this.#running.has(node)) return;
    await this.#startNode(node);
  }

  isRunning(node: string): boolean {
    this.#node(node);
    return this.#running.has(node);
  }

  async pause(node: string): Promise<void> {
    const c = this.#node(node);
    if (!this.#running.has(node) || this.#paused.has(node)) return;
    await c.pause();
    this.#paused.add(node);
  }

  async resume(node: string): Promise<void> {
    const c = this.#node(node);
    if (!this.#paused.has(node)) return;
    await c.unpause();
    this.#paused.delete(node);
  }

  isPaused(node: string): boolean {
    this.#node(node);
    return this.#paused.has(node);
  }

  async setLinkFaults(links: readonly Link[], fault: LinkFault): Promise<void> {
    if (!this.linkFaultKinds.has(fault.kind)) throw new RangeError(`docker backend: cannot put ${fault.kind} on a link (only blackhole and ok: iptables DROP rules)`);
    const receivers = new Set<string>();
    for (const l of links) {
      this.#node(l.from);
      this.#node(l.to);
      if (l.from === l.to) throw new RangeError(`docker backend: no link from ${l.from} to itself`);
      if (fault.kind === 'blackhole') this.#cut.add(`${l.from}>${l.to}`);
      else this.#cut.delete(`${l.from}>${l.to}`);
      receivers.add(l.to);
    }
    await Promise.all([...receivers].map((to) => this.#applyRules(to)));
    this.#log(`docker: links ${fault.kind}`, { fault: fault.kind, links: links.map((l) => `${l.from}>${l.to}`), cut: [...this.#cut] });
  }

  async healNetwork(): Promise<void> {
    // Only the nodes that receive a cut hold rules; with none, there is nothing to flush.
    const receivers = new Set([...this.#cut].map((link) => link.slice(link.indexOf('>') + 1)));
    if (receivers.size === 0) return;
    // Proof in the run log that the cuts were real: what each rule dropped.
    const counts = await this.dropCounts().catch((e: unknown) => ({ error: errorMessage(e) }));
    this.#log('docker: dropped by the cuts before the heal', { dropped: counts });
    this.#cut.clear();
    await Promise.all([...receivers].map((n) => this.#applyRules(n)));
    this.#log('docker: network healed (every DSYNC chain flushed)');
  }

  /** Every running node's DROP rules and their packet counters, by node (the sender named by node id). */
  async dropCounts(): Promise<Record<string, (DropCount & { from: string })[]>> {
    const byAddress = new Map(this.nodes.map((n) => [this.address(n), n]));
    const out: Record<string, (DropCount & { from: string })[]> = {};
    for (const n of this.nodes) {
      if (!this.#chained.has(n) || !this.#running.has(n)) continue;
      out[n] = (await dropCounts(this.ruleShell(n))).map((c) => ({ ...c, from: byAddress.get(c.source) ?? c.source }));
    }
    return out;
  }

  /** Where `node`'s rules are applied: nsenter into its namespace (local mode), or exec in its container (remote mode). */
  ruleShell(node: string): RuleShell {
    const c = this.#node(node);
    return this.mode.mode === 'remote' ? execShell(this.#docker, c.containerId) : nsenterShell(c.pid);
  }

  /** Makes `to`'s chain hold exactly the cuts into it (installing the chain in a new namespace); a node not running gets them when it starts. */
  async #applyRules(to: string): Promise<void> {
    const c = this.#node(to);
    if (!this.#running.has(to) || c.starts === 0) return;
    const sources = this.nodes.filter((from) => this.#cut.has(`${from}>${to}`)).map((from) => ({ source: this.address(from) }));
    await setDropRules(this.ruleShell(to), NODE_PORT, sources, this.#chained.get(to) !== c.starts);
    this.#chained.set(to, c.starts);
  }

  async leader(timeoutMs = 2000): Promise<string | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const leader = agreedLeaderOf(await this.leaderViews(), [...this.#running].filter((n) => !this.#paused.has(n)));
      if (leader !== null || Date.now() > deadline) return leader;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async leaderViews(): Promise<LeaderView[]> {
    // A paused node would not answer; asking it would only cost the status timeout.
    const asked = this.nodes.filter((n) => this.#running.has(n) && !this.#paused.has(n));
    const statuses = await Promise.all(asked.map((n) => this.#node(n).status()));
    return asked.flatMap((n, i): LeaderView[] => {
      const view = leaderViewOf(n, statuses[i] ?? null);
      return view ? [view] : [];
    });
  }

  /** Removes every container and the network of the run (also any the engine lists with its label). Safe to call twice. */
  teardown(): Promise<void> {
    return (this.#torndown ??= (async () => {
      const t0 = performance.now();
      const results = await Promise.allSettled([...this.#byId.values()].map((c) => c.remove()));
      await Promise.allSettled(this.#relays.map((r) => r.stop()));
      this.#running.clear();
      this.#paused.clear();
      const removed = await removeRun(this.#docker, this.runId);
      const failed = results.flatMap((r) => (r.status === 'rejected' ? [errorMessage(r.reason)] : []));
      const containers = [...this.#byId.values()].filter((_, i) => results[i]?.status === 'fulfilled').map((c) => `container ${c.spec.name}`);
      this.#log('docker: torn down', { run: this.runId, ms: Math.round(performance.now() - t0), removed: [...containers, ...removed.removed], left: removed.left, ...(failed.length > 0 ? { failed } : {}) });
      // What is left, the reaper tries again when this process exits.
      if (removed.left.length === 0) this.#reaper.release();
      if (removed.left.length > 0) throw new Error(`docker backend: teardown left ${removed.left.join(', ')}${failed.length > 0 ? `: ${failed.join('; ')}` : ''}; \`dsync clean\` removes them`);
    })());
  }
}
