/**
 * The nemesis: injects faults into a cluster through its backend's powers (Jepsen's
 * `jepsen.nemesis` with `nemesis.combined`). A {@link NemesisPackage} bundles the nemesis with
 * the generator that schedules its fault windows and the final generator that heals.
 *
 * Ops (`f`, on the process `"nemesis"`), with their invoke value → completion value:
 *
 * | f                            | invoke value                                | completion value                         |
 * | ---------------------------- | ------------------------------------------- | ---------------------------------------- |
 * | `start-partition`            | a topology, or null: one of the config's    | `{topology, cuts: [from, to][], components?}` |
 * | `stop-partition`             | null                                        | `{topology, cuts}` healed, or null       |
 * | `start-kill` / `start-pause` | a target (`one`, `minority`, `majority`, `all`, `leader`, `majority-leader`, `minority-leader`, `new-leader`), or null: one of the config's | the node ids killed / paused |
 * | `stop-kill` / `stop-pause`   | null                                        | the node ids restarted / resumed         |
 * | `start-latency`              | `{ms, jitterMs}`, or null: the config's     | the links given latency, `[from, to][]`  |
 * | `stop-latency`               | null                                        | the links restored, `[from, to][]`       |
 * | `start-clock`                | `{kind?, target?, offsetS?}`, or null: the config chooses | `{kind, target, offsets \| rates}` (see `clock.ts`) |
 * | `stop-clock`                 | null                                        | the node ids whose clocks were reset     |
 * | `heal`                       | null                                        | what was active, as {@link Nemesis.active} lists it |
 *
 * Completions are `info` (Jepsen's convention for the nemesis), with `error` when a backend call
 * failed; `fail` (with `error`) only when nothing changed: an unknown op or value, a power the
 * backend lacks, `no leader` agreed within 2 s for a `leader` target or `isolate-leader` (no
 * majority leader / minority leader in the nodes' views within 2 s for those targets), or no
 * node left up to hit. A start of a kind already active first stops it (latency is replaced); the
 * interval schedule never overlaps a kind, a timeline may. Kills and pauses pick only nodes
 * neither killed nor paused. Partition and latency share the links: the blackholed cuts win, and
 * stopping one restores the other's faults.
 */
import { hasClockControl, hasLeader, hasLeaderViews, isKillable, isPartitionable, isPausable, type ClusterBackend, type Link, type Partitionable } from '../cluster/backend.js';
import { errorMessage } from '../cluster/errors.js';
import type { Op } from '../checkers/index.js';
import { prng, type Generator } from '../harness/index.js';
import { NEMESIS_FS, NEMESIS_TARGETS, parseNemesisConfig, type NemesisConfig, type NemesisF, type NemesisTarget } from './config.js';
import { ClockFaults } from './clock.js';
import { healGenerator, scheduleGenerator } from './schedule.js';
import { minorityLeader, quorumLeader } from './leaders.js';
import { PACKAGE_FAULTS } from './packages.js';
import { minimumNodes, partitionFor, PARTITION_TOPOLOGIES, shuffle, type NetworkPartition, type TopologyName } from './topology.js';

/**
 * The completion of a nemesis op. A type alias rather than an interface so that it is assignable
 * to the interpreter's open `Completion` record.
 */
export type NemesisCompletion = {
  readonly type: 'info' | 'fail';
  readonly value: unknown;
  readonly error?: string;
};

/** Injects and undoes faults (Jepsen's Nemesis protocol). */
export interface Nemesis {
  /** Performs one nemesis op (an invoke event with process "nemesis"); never throws: problems → `{ type: 'info', error }`. */
  invoke(op: Op): Promise<NemesisCompletion>;
  /** Undoes every active fault (restart killed nodes, resume paused ones, heal every link). Used by the final heal and by teardown after errors; safe to call twice; never throws. */
  healAll(): Promise<void>;
  /** Faults active now, for the progress line, e.g. `["partition majorities-ring", "kill n2"]`. */
  active(): readonly string[];
}

/** A nemesis with its fault schedule and its healing final generator (Jepsen's nemesis package). */
export interface NemesisPackage {
  readonly nemesis: Nemesis;
  readonly generator: Generator;
  readonly finalGenerator: Generator;
  /** The op that undoes every fault when a run is stopped early (`heal`), or null when no fault is configured. */
  readonly stopOp: { readonly f: 'heal'; readonly value: null } | null;
}

/** Options of {@link nemesisPackage}. */
export interface NemesisOptions {
  /** Seeds every random choice (kinds, topologies, targets, victims). */
  readonly seed: number;
  /** Called once per completed op and per healing problem. */
  readonly log?: (msg: string, fields?: Record<string, unknown>) => void;
}

/** How long a `leader` target or `isolate-leader` waits for the nodes to agree on a leader. */
const LEADER_TIMEOUT_MS = 2000;

/** How often `majority-leader` and `minority-leader` ask the nodes again while they look. */
const VIEWS_POLL_MS = 50;

/** How long a `new-leader` target waits for an election, and how often it asks the nodes meanwhile. */
const NEW_LEADER_TIMEOUT_MS = 5000;
const NEW_LEADER_POLL_MS = 5;

const oneOf = <T extends string>(list: readonly T[], v: unknown): v is T => typeof v === 'string' && (list as readonly string[]).includes(v);
const pairs = (links: readonly Link[]): [string, string][] => links.map((l) => [l.from, l.to]);
const info = (value: unknown, errors: readonly string[] = []): NemesisCompletion =>
  errors.length === 0 ? { type: 'info', value } : { type: 'info', value, error: errors.join('; ') };
const fail = (error: string): NemesisCompletion => ({ type: 'fail', value: null, error });
const rejections = (results: readonly PromiseSettledResult<unknown>[], nodes: readonly string[]): string[] =>
  results.flatMap((r, i) => (r.status === 'rejected' ? [`${nodes[i]}: ${errorMessage(r.reason)}`] : []));

type NodeFault = 'kill' | 'pause';

/** The nemesis over a backend; state is recorded before each backend call so a failed call is still undone. */
class BackendNemesis implements Nemesis {
  readonly #backend: ClusterBackend;
  readonly #config: NemesisConfig;
  readonly #random: () => number;
  readonly #log: NemesisOptions['log'];
  #partition: NetworkPartition | null = null;
  #latency: { ms: number; jitterMs: number } | null = null;
  readonly #down: Record<NodeFault, string[]> = { kill: [], pause: [] };
  #queue: Promise<unknown> = Promise.resolve();
  readonly #clock: ClockFaults;

  constructor(config: NemesisConfig, backend: ClusterBackend, o: NemesisOptions) {
    this.#config = config;
    this.#backend = backend;
    this.#random = prng(o.seed);
    this.#log = o.log;
    this.#clock = new ClockFaults(hasClockControl(backend) ? backend : null, config.clock, {
      random: this.#random,
      leader: () => this.#leader(),
      ...(o.log ? { log: o.log } : {}),
    });
  }

  invoke(op: Op): Promise<NemesisCompletion> {
    return this.#serial(async () => {
      let done: NemesisCompletion;
      try {
        done = oneOf(NEMESIS_FS, op.f) ? await this.#perform(op.f, op.value ?? null) : fail(`unknown nemesis op "${op.f}"`);
      } catch (e) {
        done = { type: 'info', value: null, error: errorMessage(e) };
      }
      this.#log?.(`nemesis ${op.f}`, { ...done });
      return done;
    });
  }

  healAll(): Promise<void> {
    return this.#serial(async () => {
      const errors = await this.#undoAll();
      if (errors.length > 0) this.#log?.('nemesis heal incomplete', { errors });
    });
  }

  active(): readonly string[] {
    const l = this.#latency;
    return [
      ...(this.#partition ? [`partition ${this.#partition.topology}`] : []),
      ...(this.#down.kill.length > 0 ? [`kill ${this.#down.kill.join(' ')}`] : []),
      ...(this.#down.pause.length > 0 ? [`pause ${this.#down.pause.join(' ')}`] : []),
      ...(l ? [`latency ${l.ms}±${l.jitterMs}ms`] : []),
      ...this.#clock.active(),
    ];
  }

  /** Runs tasks one at a time, in call order, whatever the previous one did. */
  #serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #perform(f: NemesisF, value: unknown): Promise<NemesisCompletion> {
    switch (f) {
      case 'start-partition':
        return this.#startPartition(value);
      case 'stop-partition':
        return this.#stopPartition();
      case 'start-kill':
        return this.#startNodes('kill', value);
      case 'stop-kill':
        return this.#stopNodes('kill');
      case 'start-pause':
        return this.#startNodes('pause', value);
      case 'stop-pause':
        return this.#stopNodes('pause');
      case 'start-latency':
        return this.#startLatency(value);
      case 'stop-latency':
        return this.#stopLatency();
      case 'start-clock':
        return this.#clock.start(value);
      case 'stop-clock':
        return this.#clock.stop();
      case 'heal': {
        const undone = this.active();
        return info(undone, await this.#undoAll());
      }
      default: {
        const never: never = f;
        return fail(`unknown nemesis op "${String(never)}"`);
      }
    }
  }

  #links(): (ClusterBackend & Partitionable) | null {
    return isPartitionable(this.#backend) ? this.#backend : null;
  }

  /** The leader the nodes agree on within {@link LEADER_TIMEOUT_MS}, or null. */
  async #leader(): Promise<string | null> {
    return hasLeader(this.#backend) ? this.#backend.leader(LEADER_TIMEOUT_MS) : null;
  }

  /**
   * The quorum leader (`majority`) or a minority leader from the nodes' own views, asking again
   * until one shows within {@link LEADER_TIMEOUT_MS}; null if none does (or the backend has no views).
   */
  async #viewLeader(side: 'majority' | 'minority'): Promise<string | null> {
    const b = this.#backend;
    if (!hasLeaderViews(b)) return null;
    const deadline = Date.now() + LEADER_TIMEOUT_MS;
    for (;;) {
      const views = await b.leaderViews();
      const found = side === 'majority' ? quorumLeader(views, b.nodes.length) : minorityLeader(views, b.nodes.length);
      if (found !== null || Date.now() >= deadline) return found;
      await new Promise((r) => setTimeout(r, VIEWS_POLL_MS));
    }
  }

  /**
   * The node leading the most service groups (the queue's) by its own view — random among ties —
   * asking again until one shows within {@link LEADER_TIMEOUT_MS}; null if none does.
   */
  async #groupLeader(): Promise<string | null> {
    const b = this.#backend;
    if (!hasLeaderViews(b)) return null;
    const deadline = Date.now() + LEADER_TIMEOUT_MS;
    for (;;) {
      const views = await b.leaderViews();
      const most = Math.max(0, ...views.map((v) => v.groupsLed ?? 0));
      if (most > 0) return this.#pick(views.filter((v) => (v.groupsLed ?? 0) === most).map((v) => v.node));
      if (Date.now() >= deadline) return null;
      await new Promise((r) => setTimeout(r, VIEWS_POLL_MS));
    }
  }

  /**
   * The next leader: the first node that names itself leader in a term above every term the
   * nodes report when the search starts, asked for every {@link NEW_LEADER_POLL_MS} so that it
   * is hit before its first appends land (with link latency, at least); null if none within
   * {@link NEW_LEADER_TIMEOUT_MS}.
   */
  async #newLeader(): Promise<string | null> {
    const b = this.#backend;
    if (!hasLeaderViews(b)) return null;
    const deadline = Date.now() + NEW_LEADER_TIMEOUT_MS;
    let above = -1;
    for (let first = true; ; first = false) {
      const views = await b.leaderViews();
      if (first) above = Math.max(-1, ...views.map((v) => v.term));
      else {
        const found = views.filter((v) => v.leader === v.node && v.term > above).sort((x, y) => y.term - x.term)[0];
        if (found) return found.node;
      }
      if (Date.now() >= deadline) return null;
      await new Promise((r) => setTimeout(r, NEW_LEADER_POLL_MS));
    }
  }

  /** How to start and to undo a node fault on this backend, or null if it cannot. */
  #nodePower(kind: NodeFault): { act: (n: string) => Promise<void>; undo: (n: string) => Promise<void> } | null {
    const b = this.#backend;
    if (kind === 'kill') return isKillable(b) ? { act: (n) => b.kill(n), undo: (n) => b.restart(n) } : null;
    return isPausable(b) ? { act: (n) => b.pause(n), undo: (n) => b.resume(n) } : null;
  }

  #pick<T>(from: readonly T[]): T {
    return from[Math.floor(this.#random() * from.length)] as T;
  }

  /** Every directed link that no partition cut blackholes. */
  #uncut(): Link[] {
    const cut = new Set(this.#partition?.cuts.map((l) => `${l.from}>${l.to}`));
    const nodes = this.#backend.nodes;
    return nodes.flatMap((from) => nodes.filter((to) => to !== from && !cut.has(`${from}>${to}`)).map((to) => ({ from, to })));
  }

  async #startPartition(value: unknown): Promise<NemesisCompletion> {
    const links = this.#links();
    if (!links) return fail(`backend "${this.#backend.name}" cannot partition`);
    const name: unknown = value ?? this.#pick(this.#config.partition.topologies);
    if (!oneOf<TopologyName>(PARTITION_TOPOLOGIES, name)) return fail(`unknown topology ${JSON.stringify(name)}`);
    let leader: string | undefined;
    if (name === 'isolate-leader' || name === 'leader-minority') {
      const l = await this.#leader();
      if (l === null) return fail('no leader');
      leader = l;
    }
    // A star's center is the node the current partition cuts off alone, if there is one.
    const center = name === 'star' ? this.#partition?.components?.find((c) => c.length === 1)?.[0] : undefined;
    let p: NetworkPartition;
    try {
      p = partitionFor(name, this.#backend.nodes, this.#random, leader, center);
    } catch (e) {
      return fail(errorMessage(e));
    }
    if (this.#partition) await this.#stopPartition();
    this.#partition = p;
    await links.setLinkFaults(p.cuts, { kind: 'blackhole' });
    return info({ topology: p.topology, cuts: pairs(p.cuts), ...(p.components ? { components: p.components } : {}) });
  }

  async #stopPartition(): Promise<NemesisCompletion> {
    const links = this.#links();
    const p = this.#partition;
    if (!links || !p) return info(null);
    if (this.#latency) await links.setLinkFaults(p.cuts, { kind: 'latency', ...this.#latency });
    else await links.healNetwork();
    this.#partition = null;
    return info({ topology: p.topology, cuts: pairs(p.cuts) });
  }

  async #startLatency(value: unknown): Promise<NemesisCompletion> {
    const links = this.#links();
    if (!links?.linkFaultKinds.has('latency')) return fail(`backend "${this.#backend.name}" cannot delay links`);
    const v = (value ?? this.#config.latency) as { ms?: unknown; jitterMs?: unknown };
    const jitterMs = v.jitterMs ?? 0;
    if (typeof v.ms !== 'number' || !(v.ms >= 0) || typeof jitterMs !== 'number' || !(jitterMs >= 0)) {
      return fail(`start-latency wants {ms, jitterMs} ≥ 0, got ${JSON.stringify(value)}`);
    }
    this.#latency = { ms: v.ms, jitterMs };
    const affected = this.#uncut();
    await links.setLinkFaults(affected, { kind: 'latency', ...this.#latency });
    return info(pairs(affected));
  }

  async #stopLatency(): Promise<NemesisCompletion> {
    const links = this.#links();
    if (!links || !this.#latency) return info([]);
    const restored = this.#uncut();
    if (this.#partition) await links.setLinkFaults(restored, { kind: 'ok' });
    else await links.healNetwork();
    this.#latency = null;
    return info(pairs(restored));
  }

  async #startNodes(kind: NodeFault, value: unknown): Promise<NemesisCompletion> {
    const act = this.#nodePower(kind)?.act;
    if (!act) return fail(`backend "${this.#backend.name}" cannot ${kind} nodes`);
    const target: unknown = value ?? this.#pick(this.#config[kind].targets);
    if (!oneOf<NemesisTarget>(NEMESIS_TARGETS, target)) return fail(`unknown target ${JSON.stringify(target)}`);
    const undone = this.#down[kind].length > 0 ? await this.#stopNodes(kind) : null;
    const victims = await this.#victims(target);
    // Having undone the previous window, the op did something even when it finds no victim.
    if (typeof victims === 'string') return undone ? { type: 'info', value: [], error: victims } : fail(victims);
    this.#down[kind] = victims;
    return info(victims, rejections(await Promise.allSettled(victims.map(act)), victims));
  }

  async #stopNodes(kind: NodeFault): Promise<NemesisCompletion> {
    const undo = this.#nodePower(kind)?.undo;
    const nodes = this.#down[kind];
    if (!undo || nodes.length === 0) return info([]);
    const results = await Promise.allSettled(nodes.map(undo));
    this.#down[kind] = nodes.filter((_, i) => results[i]?.status === 'rejected');
    return info(nodes, rejections(results, nodes));
  }

  /** The nodes a target hits, in node order, among those neither killed nor paused; or why none. */
  async #victims(target: NemesisTarget): Promise<string[] | string> {
    const nodes = this.#backend.nodes;
    const down = new Set([...this.#down.kill, ...this.#down.pause]);
    const up = nodes.filter((n) => !down.has(n));
    if (up.length === 0) return 'no node left up';
    switch (target) {
      case 'one':
        return [this.#pick(up)];
      case 'minority': {
        const chosen = new Set(shuffle(up, this.#random).slice(0, Math.max(1, Math.floor((nodes.length - 1) / 2))));
        return up.filter((n) => chosen.has(n));
      }
      case 'majority': {
        const chosen = new Set(shuffle(up, this.#random).slice(0, Math.floor(nodes.length / 2) + 1));
        return up.filter((n) => chosen.has(n));
      }
      case 'all':
        return up;
      case 'leader':
      case 'majority-leader':
      case 'minority-leader': {
        const leader = target === 'leader' ? await this.#leader() : await this.#viewLeader(target === 'majority-leader' ? 'majority' : 'minority');
        if (leader === null) return target === 'leader' ? 'no leader' : `no ${target.replace('-', ' ')}`;
        return up.includes(leader) ? [leader] : `leader ${leader} is already down`;
      }
      case 'group-leader': {
        const leader = await this.#groupLeader();
        if (leader === null) return 'no node leads a service group';
        return up.includes(leader) ? [leader] : `group leader ${leader} is already down`;
      }
      case 'new-leader': {
        const leader = await this.#newLeader();
        if (leader === null) return `no new leader within ${NEW_LEADER_TIMEOUT_MS / 1000} s`;
        return up.includes(leader) ? [leader] : `leader ${leader} is already down`;
      }
      default: {
        const never: never = target;
        return `unknown target ${String(never)}`;
      }
    }
  }

  /** Heals the links, resumes and restarts; what could not be undone stays recorded (and is retried). */
  async #undoAll(): Promise<string[]> {
    const errors: string[] = [];
    const links = this.#links();
    if (links && (this.#partition || this.#latency)) {
      try {
        await links.healNetwork();
        this.#partition = null;
        this.#latency = null;
      } catch (e) {
        errors.push(`heal network: ${errorMessage(e)}`);
      }
    }
    for (const kind of ['pause', 'kill'] as const) {
      const r = await this.#stopNodes(kind);
      if (r.error !== undefined) errors.push(`${kind === 'kill' ? 'restart' : 'resume'} ${r.error}`);
    }
    const clock = await this.#clock.stop();
    if (clock.error !== undefined) errors.push(`reset clocks ${clock.error}`);
    return errors;
  }
}

/** Throws unless the backend has every power the configured faults need. */
function checkPowers(config: NemesisConfig, backend: ClusterBackend): void {
  const lacks = (fault: string, power: string): never => {
    throw new Error(`nemesis: fault "${fault}" needs ${power}, which backend "${backend.name}" lacks`);
  };
  const timeline = 'timeline' in config.schedule ? config.schedule.timeline : null;
  for (const p of config.packages) {
    if (PACKAGE_FAULTS[p].includes('partition') && !(isPartitionable(backend) && backend.linkFaultKinds.has('blackhole'))) lacks(`package ${p}`, 'blackholed links (Partitionable)');
    if (PACKAGE_FAULTS[p].includes('kill') && !isKillable(backend)) lacks(`package ${p}`, 'killable nodes (Killable)');
    if (PACKAGE_FAULTS[p].includes('pause') && !isPausable(backend)) lacks(`package ${p}`, 'pausable nodes (Pausable)');
    if (p !== 'restart-all' && !(hasLeader(backend) && hasLeaderViews(backend))) lacks(`package ${p}`, "a leader and each node's view of it (HasLeader, LeaderViews)");
  }
  /** The choices a kind may make: the config's list where a start can leave it open, plus the timeline's values. */
  const used = <T>(f: NemesisF, list: readonly T[]): Set<T> => {
    if (!timeline) return new Set(list);
    const starts = timeline.filter((e) => e.f === f).map((e) => ('value' in e ? e.value : undefined));
    return new Set(starts.flatMap((v) => (v === undefined ? list : [v as T])));
  };
  for (const kind of config.faults) {
    switch (kind) {
      case 'partition': {
        if (!isPartitionable(backend) || !backend.linkFaultKinds.has('blackhole')) lacks(kind, 'blackholed links (Partitionable)');
        const topologies = used<TopologyName>('start-partition', config.partition.topologies);
        if (topologies.has('isolate-leader') && !hasLeader(backend)) lacks('partition isolate-leader', 'a leader (HasLeader)');
        if (topologies.has('leader-minority') && !hasLeader(backend)) lacks('partition leader-minority', 'a leader (HasLeader)');
        for (const t of topologies) {
          if (backend.nodes.length < minimumNodes(t)) {
            throw new Error(`nemesis: topology ${t} needs at least ${minimumNodes(t)} nodes, backend "${backend.name}" has ${backend.nodes.length}`);
          }
        }
        break;
      }
      case 'kill':
      case 'pause':
        if (!(kind === 'kill' ? isKillable(backend) : isPausable(backend))) lacks(kind, kind === 'kill' ? 'killable nodes (Killable)' : 'pausable nodes (Pausable)');
        for (const t of used<NemesisTarget>(`start-${kind}`, config[kind].targets)) {
          if (t === 'leader' && !hasLeader(backend)) lacks(`${kind} leader`, 'a leader (HasLeader)');
          if ((t === 'majority-leader' || t === 'minority-leader' || t === 'new-leader' || t === 'group-leader') && !hasLeaderViews(backend)) lacks(`${kind} ${t}`, "each node's view of the leader (LeaderViews)");
        }
        break;
      case 'latency':
        if (!isPartitionable(backend) || !backend.linkFaultKinds.has('latency')) lacks(kind, 'link latency (Partitionable with latency)');
        break;
      case 'clock': {
        if (!hasClockControl(backend)) lacks(kind, 'per-node clocks (ClockControl: the local backend, with libfaketime installed — Debian package libfaketime)');
        const targets = timeline ? new Set(timeline.flatMap((e) => (e.f === 'start-clock' ? [e.value?.target] : [])).flatMap((t) => (t === undefined ? config.clock.targets : [t]))) : new Set(config.clock.targets);
        if ((targets.has('leader') || targets.has('followers')) && !hasLeader(backend)) lacks('clock leader/followers', 'a leader (HasLeader)');
        break;
      }
      default: {
        const never: never = kind;
        throw new Error(`nemesis: unknown fault ${String(never)}`);
      }
    }
  }
}

/**
 * Builds the nemesis package for `config` over `backend`: the nemesis, the generator of its fault
 * windows, and a final generator that heals everything. The config is resolved again (a resolved
 * config is unchanged), so one built by hand or by zod's unparsed `.default()` gets its defaults.
 * @throws Error naming the fault and the backend when a configured fault needs a power the
 *   backend lacks (or a topology needs more nodes than it has); NemesisConfigError for a bad config.
 */
export function nemesisPackage(given: NemesisConfig, backend: ClusterBackend, o: NemesisOptions): NemesisPackage {
  const config = parseNemesisConfig(given);
  checkPowers(config, backend);
  return {
    nemesis: new BackendNemesis(config, backend, o),
    generator: scheduleGenerator(config, o.seed),
    finalGenerator: healGenerator(config),
    stopOp: config.faults.length > 0 || config.packages.length > 0 ? { f: 'heal', value: null } : null,
  };
}
