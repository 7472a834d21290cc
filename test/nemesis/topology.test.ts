import assert from 'node:assert/strict';
import type { Link } from '../../cluster/backend.js';
import { prng } from '../../harness/random.js';
import {
  bridge,
  isolateLeader,
  isolateOne,
  leaderMinority,
  majoritiesRing,
  oneWay,
  partitionFor,
  PARTITION_TOPOLOGIES,
  randomHalves,
  star,
  type NetworkPartition,
} from '../../nemesis/index.js';

const nodesOf = (n: number): string[] => Array.from({ length: n }, (_, i) => `n${i + 1}`);
const SEEDS = Array.from({ length: 200 }, (_, i) => i + 1);
const SIZES = [2, 3, 4, 5, 6, 7, 9];

/** Whether `from` can still send to `to` under the partition. */
function sender(p: NetworkPartition): (from: string, to: string) => boolean {
  const cut = new Set(p.cuts.map((l: Link) => `${l.from}>${l.to}`));
  return (from, to) => from === to || !cut.has(`${from}>${to}`);
}

/** Every (seed, size) pair with at least `min` nodes. */
function* cases(min: number): Generator<{ seed: number; nodes: string[] }> {
  for (const n of SIZES.filter((s) => s >= min)) for (const seed of SEEDS) yield { seed, nodes: nodesOf(n) };
}

describe('nemesis/topology', () => {
  it('random-halves: sizes differ by at most one; every link across is cut, every link inside survives', () => {
    for (const { seed, nodes } of cases(2)) {
      const p = randomHalves(nodes, prng(seed));
      const [a, b] = p.components as [string[], string[]];
      assert.equal(p.components?.length, 2);
      assert.ok(b.length - a.length >= 0 && b.length - a.length <= 1, `${a} | ${b}`);
      assert.deepEqual([...a, ...b].sort(), [...nodes].sort());
      const can = sender(p);
      for (const x of nodes) {
        for (const y of nodes) assert.equal(can(x, y), a.includes(x) === a.includes(y), `${x}→${y} in ${p.description}`);
      }
      assert.equal(p.cuts.length, 2 * a.length * b.length);
    }
  });

  it('isolate-one: exactly one node is cut off, both ways, and nothing else', () => {
    for (const { seed, nodes } of cases(2)) {
      const p = isolateOne(nodes, prng(seed));
      const loner = p.components?.[0]?.[0] as string;
      const can = sender(p);
      for (const x of nodes) for (const y of nodes) assert.equal(can(x, y), x === y || (x !== loner && y !== loner));
      assert.equal(p.cuts.length, 2 * (nodes.length - 1));
    }
  });

  it('isolate-leader: cuts off the given leader, and rejects a leader that is not a node', () => {
    const p = isolateLeader(nodesOf(5), 'n3');
    assert.deepEqual(p.components, [['n3'], ['n1', 'n2', 'n4', 'n5']]);
    assert.ok(p.cuts.every((l) => l.from === 'n3' || l.to === 'n3'));
    assert.equal(p.cuts.length, 8);
    assert.throws(() => isolateLeader(nodesOf(3), 'n9'), /isolate-leader.*n9/);
  });

  it('leader-minority: the leader and others as a minority, against the rest', () => {
    for (const seed of [1, 2, 3]) {
      const p = leaderMinority(nodesOf(5), 'n3', prng(seed));
      const [side, rest] = p.components ?? [];
      assert.equal(side?.length, 2);
      assert.ok(side?.includes('n3'));
      assert.equal(rest?.length, 3);
      assert.equal(p.cuts.length, 2 * 2 * 3);
    }
    assert.deepEqual(leaderMinority(nodesOf(3), 'n2', prng(1)).components, [['n2'], ['n1', 'n3']], 'with 3 nodes: the leader alone');
    assert.deepEqual(leaderMinority(nodesOf(7), 'n1', prng(1)).components?.map((c) => c.length), [3, 4]);
    assert.throws(() => leaderMinority(nodesOf(3), 'n9', prng(1)), /leader-minority.*n9/);
  });

  it('majorities-ring (5 nodes): each node reaches and hears a majority including itself, no two the same', () => {
    for (const seed of SEEDS) {
      const nodes = nodesOf(5);
      const p = majoritiesRing(nodes, prng(seed));
      const can = sender(p);
      const hears = nodes.map((x) => nodes.filter((y) => can(y, x)).join(' '));
      const reaches = nodes.map((x) => nodes.filter((y) => can(x, y)).join(' '));
      for (const [i, x] of nodes.entries()) {
        assert.equal(hears[i]?.split(' ').length, 3, `${x} hears ${hears[i]}`);
        assert.equal(reaches[i]?.split(' ').length, 3, `${x} reaches ${reaches[i]}`);
      }
      assert.equal(new Set(hears).size, 5, `${hears.join(', ')}`);
      assert.equal(new Set(reaches).size, 5);
      assert.equal(p.components, undefined);
    }
  });

  it('majorities-ring at other sizes: every node hears exactly a majority, all different; 3 nodes form a directed ring', () => {
    for (const { seed, nodes } of cases(3)) {
      const p = majoritiesRing(nodes, prng(seed));
      const can = sender(p);
      const hears = nodes.map((x) => nodes.filter((y) => can(y, x)).join(' '));
      const m = Math.floor(nodes.length / 2) + 1;
      assert.ok(hears.every((h) => h.split(' ').length === m), `${nodes.length}: ${hears.join(', ')}`);
      assert.equal(new Set(hears).size, nodes.length);
    }
    const p = majoritiesRing(nodesOf(3), prng(7));
    assert.equal(p.cuts.length, 3);
    const can = sender(p);
    assert.ok(p.cuts.every((l) => can(l.to, l.from)), 'every cut is one-directional');
  });

  it('bridge: the bridge node reaches everyone both ways; the halves do not reach each other', () => {
    for (const { seed, nodes } of cases(3)) {
      const p = bridge(nodes, prng(seed));
      const can = sender(p);
      const hubs = nodes.filter((x) => nodes.every((y) => can(x, y) && can(y, x)));
      assert.equal(hubs.length, 1, p.description);
      const rest = nodes.filter((x) => x !== hubs[0]);
      const first = rest[0] as string;
      const side = rest.filter((x) => can(first, x));
      const other = rest.filter((x) => !can(first, x));
      assert.ok(Math.abs(side.length - other.length) <= 1, p.description);
      assert.ok(other.length >= 1);
      for (const x of rest) for (const y of rest) assert.equal(can(x, y), side.includes(x) === side.includes(y), p.description);
    }
  });

  it('one-way: the victim cannot send to anyone but still hears everyone', () => {
    for (const { seed, nodes } of cases(2)) {
      const p = oneWay(nodes, prng(seed));
      const victims = [...new Set(p.cuts.map((l) => l.from))];
      assert.equal(victims.length, 1);
      const v = victims[0] as string;
      const can = sender(p);
      for (const x of nodes) {
        if (x === v) continue;
        assert.equal(can(v, x), false);
        assert.equal(can(x, v), true);
      }
      assert.equal(p.cuts.length, nodes.length - 1);
    }
  });

  it('star: the others hear only the center, which hears them all', () => {
    for (const n of SIZES.filter((s) => s >= 3)) {
      const nodes = nodesOf(n);
      const p = star(nodes, 'n2');
      const can = sender(p);
      for (const a of nodes) for (const b of nodes) assert.equal(can(a, b), a === b || a === 'n2' || b === 'n2', `${a} → ${b}`);
      assert.equal(p.components, undefined);
    }
    assert.throws(() => star(nodesOf(3), 'n9'), /star: center "n9" is not one of/);
  });

  it('the same seed gives the same partition; the choices vary across seeds', () => {
    for (const name of PARTITION_TOPOLOGIES) {
      const run = (seed: number): string => JSON.stringify(partitionFor(name, nodesOf(5), prng(seed), 'n2'));
      assert.equal(run(42), run(42), name);
      if (name !== 'isolate-leader') assert.ok(new Set(SEEDS.slice(0, 30).map(run)).size > 1, name);
    }
  });

  it('rejects too few nodes, naming the topology and the count', () => {
    const table: [string, () => unknown, RegExp][] = [
      ['random-halves', () => randomHalves(['n1'], Math.random), /random-halves needs at least 2 nodes, got 1/],
      ['isolate-one', () => isolateOne([], Math.random), /isolate-one needs at least 2 nodes, got 0/],
      ['isolate-leader', () => isolateLeader(['n1'], 'n1'), /isolate-leader needs at least 2 nodes, got 1/],
      ['leader-minority', () => leaderMinority(['n1'], 'n1', Math.random), /leader-minority needs at least 2 nodes, got 1/],
      ['majorities-ring', () => majoritiesRing(nodesOf(2), Math.random), /majorities-ring needs at least 3 nodes, got 2/],
      ['bridge', () => bridge(nodesOf(2), Math.random), /bridge needs at least 3 nodes, got 2/],
      ['one-way', () => oneWay(['n1'], Math.random), /one-way needs at least 2 nodes, got 1/],
      ['star', () => star(nodesOf(2), 'n1'), /star needs at least 3 nodes, got 2/],
    ];
    for (const [name, f, re] of table) assert.throws(f, re, name);
  });
});
