/**
 * Partition topologies: which directed links to cut between nodes (Jepsen's `jepsen.nemesis`
 * grudges). Pure functions of the node list and a random source, so a seeded source reproduces
 * them.
 *
 * Most topologies are components (every node in exactly one; every link between two different
 * components is cut, both ways). `majorities-ring`, `bridge` and `one-way` are not
 * component-shaped and are given by their cut links alone.
 */
import type { Link } from '../cluster/backend.js';

/** The names of the partition topologies, as written in configs and in `start-partition` ops. */
export const PARTITION_TOPOLOGIES = ['random-halves', 'isolate-one', 'isolate-leader', 'leader-minority', 'majorities-ring', 'bridge', 'one-way', 'star'] as const;

/** The topologies a partition picks from when the config lists none (all but `star` and `leader-minority`, which are for packages). */
export const DEFAULT_TOPOLOGIES = ['random-halves', 'isolate-one', 'isolate-leader', 'majorities-ring', 'bridge', 'one-way'] as const satisfies readonly TopologyName[];

/** A partition topology's name. */
export type TopologyName = (typeof PARTITION_TOPOLOGIES)[number];

/** A computed partition: the directed links to cut, and the components when it has them. */
export interface NetworkPartition {
  readonly topology: TopologyName;
  /** Directed links to cut (`from` can no longer send to `to`), in node order. */
  readonly cuts: Link[];
  /** The groups that still talk among themselves, for component-shaped topologies. */
  readonly components?: string[][];
  /** One line for logs, e.g. `n1 n4 | n2 n3 n5`. */
  readonly description: string;
}

const MIN_NODES: Readonly<Record<TopologyName, number>> = {
  'random-halves': 2,
  'isolate-one': 2,
  'isolate-leader': 2,
  'leader-minority': 2,
  'majorities-ring': 3,
  bridge: 3,
  'one-way': 2,
  star: 3,
};

/** The fewest nodes `topology` can be computed for. */
export function minimumNodes(topology: TopologyName): number {
  return MIN_NODES[topology];
}

function check(topology: TopologyName, nodes: readonly string[]): void {
  const min = MIN_NODES[topology];
  if (nodes.length < min) throw new RangeError(`${topology} needs at least ${min} nodes, got ${nodes.length}`);
}

/** A shuffled copy of `nodes` (Fisher–Yates with the given source). */
export function shuffle(nodes: readonly string[], random: () => number): string[] {
  const a = [...nodes];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [a[i], a[j]] = [a[j] as string, a[i] as string];
  }
  return a;
}

/** Jepsen's `bisect`: cuts a list in two, the smaller half first. */
function bisect(nodes: readonly string[]): [string[], string[]] {
  const k = Math.floor(nodes.length / 2);
  return [nodes.slice(0, k), nodes.slice(k)];
}

/** The cuts `cut(from, to)` says yes to, in node order. */
function cutsWhere(nodes: readonly string[], cut: (from: string, to: string) => boolean): Link[] {
  const links: Link[] = [];
  for (const from of nodes) for (const to of nodes) if (from !== to && cut(from, to)) links.push({ from, to });
  return links;
}

function fromComponents(topology: TopologyName, nodes: readonly string[], components: string[][]): NetworkPartition {
  const order = new Map(nodes.map((n, i) => [n, i]));
  const sorted = components.map((c) => [...c].sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0)));
  const group = new Map<string, number>();
  sorted.forEach((c, i) => c.forEach((n) => group.set(n, i)));
  return {
    topology,
    cuts: cutsWhere(nodes, (a, b) => group.get(a) !== group.get(b)),
    components: sorted,
    description: sorted.map((c) => c.join(' ')).join(' | '),
  };
}

/** Shuffles the nodes and splits them into a smaller and a larger half (sizes differ by at most one). */
export function randomHalves(nodes: readonly string[], random: () => number): NetworkPartition {
  check('random-halves', nodes);
  return fromComponents('random-halves', nodes, bisect(shuffle(nodes, random)));
}

/** Cuts one random node off from all the others, both ways. */
export function isolateOne(nodes: readonly string[], random: () => number): NetworkPartition {
  check('isolate-one', nodes);
  const loner = nodes[Math.floor(random() * nodes.length)] as string;
  return fromComponents('isolate-one', nodes, [[loner], nodes.filter((n) => n !== loner)]);
}

/** Cuts the leader off from all the others, both ways. */
export function isolateLeader(nodes: readonly string[], leader: string): NetworkPartition {
  check('isolate-leader', nodes);
  if (!nodes.includes(leader)) throw new RangeError(`isolate-leader: leader "${leader}" is not one of ${nodes.join(', ')}`);
  return fromComponents('isolate-leader', nodes, [[leader], nodes.filter((n) => n !== leader)]);
}

/**
 * The leader and as many random others as still make a minority (⌊(n-1)/2⌋ nodes in all: the
 * leader and one more of 5) against the rest, both ways. What the leader appends next reaches a
 * minority only — and once the majority has elected and lost a leader of its own, only the
 * minority's nodes have logs up to date enough to win an election after the heal.
 */
export function leaderMinority(nodes: readonly string[], leader: string, random: () => number): NetworkPartition {
  check('leader-minority', nodes);
  if (!nodes.includes(leader)) throw new RangeError(`leader-minority: leader "${leader}" is not one of ${nodes.join(', ')}`);
  const others = shuffle(nodes.filter((n) => n !== leader), random);
  const side = [leader, ...others.slice(0, Math.max(0, Math.floor((nodes.length - 1) / 2) - 1))];
  return fromComponents('leader-minority', nodes, [side, nodes.filter((n) => !side.includes(n))]);
}

/**
 * Jepsen's majorities ring: every node sees a majority, but no two nodes see the same one. The
 * nodes are shuffled into a ring; each run of `m = ⌊n/2⌋+1` consecutive nodes is the majority of
 * its middle node (index ⌊m/2⌋), which stops receiving from everyone outside it. "Sees" is
 * therefore "receives from" (itself included).
 *
 * When `m` is odd (4, 5, 8, 9 nodes) the runs are centred and the cuts symmetric; when it is even
 * they lean one way and some cuts are one-directional — with 3 nodes every node ignores its
 * successor, a directed ring. Jepsen uses this exact ring up to 5 nodes and a randomized graph
 * above; we keep the ring for every size, which still gives each node a distinct majority.
 */
export function majoritiesRing(nodes: readonly string[], random: () => number): NetworkPartition {
  check('majorities-ring', nodes);
  const ring = shuffle(nodes, random);
  const n = ring.length;
  const m = Math.floor(n / 2) + 1;
  const sees = new Map<string, Set<string>>();
  for (let i = 0; i < n; i++) {
    const run = Array.from({ length: m }, (_, k) => ring[(i + k) % n] as string);
    sees.set(run[Math.floor(m / 2)] as string, new Set(run));
  }
  return {
    topology: 'majorities-ring',
    cuts: cutsWhere(nodes, (from, to) => !(sees.get(to)?.has(from) ?? false)),
    description: `ring ${ring.join(' ')}: each node hears only the ${m} around it`,
  };
}

/**
 * Two halves joined by one node: the nodes are shuffled and bisected, and the first node of the
 * larger half keeps every link; all links between the rest of the two halves are cut.
 */
export function bridge(nodes: readonly string[], random: () => number): NetworkPartition {
  check('bridge', nodes);
  const [small, large] = bisect(shuffle(nodes, random));
  const [hub, ...rest] = large as [string, ...string[]];
  const side = new Map<string, number>([...small.map((n): [string, number] => [n, 0]), ...rest.map((n): [string, number] => [n, 1])]);
  return {
    topology: 'bridge',
    cuts: cutsWhere(nodes, (a, b) => a !== hub && b !== hub && side.get(a) !== side.get(b)),
    description: `${small.join(' ')} | ${hub} (bridge) | ${rest.join(' ')}`,
  };
}

/** An asymmetric partition: one random node can no longer send to anyone, but still receives. */
export function oneWay(nodes: readonly string[], random: () => number): NetworkPartition {
  check('one-way', nodes);
  const victim = nodes[Math.floor(random() * nodes.length)] as string;
  return {
    topology: 'one-way',
    cuts: cutsWhere(nodes, (from) => from === victim),
    description: `${victim} cannot send (still receives)`,
  };
}

/**
 * A star around `center`: every link between two other nodes is cut, so they hear only the
 * center (and it hears them all). Not component-shaped. Used after isolating a node, it makes a
 * node whose log fell behind the only one that can gather votes.
 */
export function star(nodes: readonly string[], center: string): NetworkPartition {
  check('star', nodes);
  if (!nodes.includes(center)) throw new RangeError(`star: center "${center}" is not one of ${nodes.join(', ')}`);
  return {
    topology: 'star',
    cuts: cutsWhere(nodes, (a, b) => a !== center && b !== center),
    description: `star around ${center}: the others hear only it`,
  };
}

/**
 * Computes the partition named `topology`; `leader` is needed only by `isolate-leader` and `leader-minority`; `center` is the
 * center of a `star` (a random node if not given).
 * @throws RangeError when there are too few nodes, or `isolate-leader` has no valid leader.
 */
export function partitionFor(topology: TopologyName, nodes: readonly string[], random: () => number, leader?: string, center?: string): NetworkPartition {
  switch (topology) {
    case 'random-halves':
      return randomHalves(nodes, random);
    case 'isolate-one':
      return isolateOne(nodes, random);
    case 'isolate-leader':
      if (leader === undefined) throw new RangeError('isolate-leader: no leader given');
      return isolateLeader(nodes, leader);
    case 'leader-minority':
      if (leader === undefined) throw new RangeError('leader-minority: no leader given');
      return leaderMinority(nodes, leader, random);
    case 'majorities-ring':
      return majoritiesRing(nodes, random);
    case 'bridge':
      return bridge(nodes, random);
    case 'one-way':
      return oneWay(nodes, random);
    case 'star':
      return star(nodes, center ?? (nodes[Math.floor(random() * nodes.length)] as string));
    default: {
      const never: never = topology;
      throw new RangeError(`unknown topology ${String(never)}`);
    }
  }
}
