import assert from 'node:assert/strict';
import { HashRing } from '../../cluster/hash-ring.js';
import { QueuePlacement } from '../../cluster/queue/queue-placement.js';

const names = Array.from({ length: 1000 }, (_, i) => `queue-${i}`);

describe('cluster/hash-ring', () => {
  it('moves about a quarter of 1,000 queue names when a 4th node joins a ring of 3, and only to the new node', async () => {
    const three = await HashRing.create(['n1', 'n2', 'n3']);
    const four = await HashRing.create(['n1', 'n2', 'n3', 'n4']);
    const moved = names.filter((q) => three.owner(q) !== four.owner(q));
    const share = moved.length / names.length;
    console.log(`      ring 3 → 4 nodes, 128 vnodes each: ${moved.length} of ${names.length} queue names changed owner (${(share * 100).toFixed(1)} %, ideal 25 %)`);
    assert.ok(Math.abs(share - 0.25) <= 0.05, `${(share * 100).toFixed(1)} % moved; expected 25 % ± 5`);
    assert.ok(moved.every((q) => four.owner(q) === 'n4'), 'a name moves only to the new node');
  });

  it('spreads ownership evenly and gives each name distinct replicas, owner first', async () => {
    const ring = await HashRing.create(['a', 'b', 'c', 'd', 'e'], { replication: 3 });
    const owned = new Map<string, number>();
    for (const q of names) {
      const list = ring.preferenceList(q);
      assert.equal(list.length, 3);
      assert.equal(new Set(list).size, 3);
      assert.equal(list[0], ring.owner(q));
      owned.set(list[0] as string, (owned.get(list[0] as string) ?? 0) + 1);
    }
    for (const [m, n] of owned) assert.ok(n > 120 && n < 280, `${m} owns ${n} of 1000 (ideal 200)`);
    const shares = Object.values(ring.describe().ownership);
    assert.ok(Math.abs(shares.reduce((a, b) => a + b, 0) - 1) < 0.001, 'the shares cover the circle');
  });

  it('is the same ring on every node: same members, same placement', async () => {
    const a = await HashRing.create(['x', 'y', 'z']);
    const b = await HashRing.create(['z', 'x', 'y']);
    for (const q of names.slice(0, 100)) assert.deepEqual(a.preferenceList(q), b.preferenceList(q));
  });

  it('has one replica group when every node holds every queue, and one per member set otherwise', async () => {
    assert.deepEqual((await HashRing.create(['n1', 'n2', 'n3'])).replicaSets(), [['n1', 'n2', 'n3']]);
    assert.deepEqual((await HashRing.create(['n1'])).replicaSets(), [['n1']]);
    const five = await HashRing.create(['n1', 'n2', 'n3', 'n4', 'n5']);
    const sets = five.replicaSets();
    assert.ok(sets.length > 1 && sets.length <= 10, `${sets.length} groups of 3 among 5`);
    assert.ok(sets.every((s) => s.length === 3));
    const placement = await QueuePlacement.create(['n1', 'n2', 'n3', 'n4', 'n5'], 'n1');
    for (const q of names.slice(0, 200)) assert.deepEqual([...placement.group(q).members], [...placement.preferenceList(q)].sort());
  });

  it('refuses an empty ring, repeated members and bad counts', async () => {
    await assert.rejects(HashRing.create([]), /at least one member/);
    await assert.rejects(HashRing.create(['a', 'a']), /distinct/);
    await assert.rejects(HashRing.create(['a'], { vnodes: 0 }), /vnodes/);
    await assert.rejects(HashRing.create(['a'], { replication: 0 }), /replication/);
  });
});
