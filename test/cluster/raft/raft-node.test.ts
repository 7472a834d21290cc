/**
 * The Raft driver with real storage (temp dirs, fsync) and an in-memory network: elections,
 * proposals and their outcomes, group commit, snapshots with restart, ReadIndex, and stop.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NotLeaderError, RaftNode, StoppedError, type StateMachine } from '../../../cluster/raft/raft-node.js';
import { RaftStorage } from '../../../cluster/raft/storage.js';
import type { LogEntry, Message } from '../../../cluster/raft/types.js';
import { prng } from '../../../harness/random.js';
import { eventually } from '../../support/eventually.js';

/** Sums the numbers proposed; `apply` returns the running sum. */
class Sum implements StateMachine {
  sum = 0;
  applied: number[] = [];
  apply(e: LogEntry): unknown {
    if (typeof e.data === 'number') {
      this.sum += e.data;
      this.applied.push(e.index);
    }
    return this.sum;
  }
  restore(data: unknown): void {
    this.sum = (data as { sum: number }).sum;
  }
  snapshot(): unknown {
    return { sum: this.sum };
  }
}

interface Member {
  id: string;
  node: RaftNode;
  machine: Sum;
  storage: RaftStorage;
}

describe('cluster/raft/raft-node: the driver with real storage', function () {
  this.timeout(30_000);
  const ids = ['a', 'b', 'c'];
  let dir: string;
  let members: Map<string, Member>;
  const down = new Set<string>();

  const transportFor = (from: string) => ({
    send(messages: readonly Message[]): void {
      for (const m of messages) {
        if (down.has(from) || down.has(m.to)) continue;
        setImmediate(() => members.get(m.to)?.node.step(m));
      }
    },
  });

  async function start(id: string, snapshotEvery = 10_000, random = prng(ids.indexOf(id) + 1)): Promise<Member> {
    const { storage, recovered } = await RaftStorage.open(join(dir, id));
    const machine = new Sum();
    const node = new RaftNode({ id, members: ids, storage, recovered, transport: transportFor(id), machine, tickMs: 5, snapshotEvery, random });
    const m = { id, node, machine, storage };
    members.set(id, m);
    return m;
  }

  const leader = (): Promise<Member> =>
    eventually('a leader known to all running members', () => {
      const running = [...members.values()].filter((m) => !down.has(m.id));
      const l = running[0]?.node.leader;
      if (!l || !running.every((m) => m.node.leader === l)) return undefined;
      const m = members.get(l);
      return m && !down.has(l) && m.node.role === 'leader' ? m : undefined;
    });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dsync-raftnode-'));
    members = new Map();
    down.clear();
  });
  afterEach(async () => {
    for (const m of members.values()) await m.node.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('elects a leader, applies proposals on every member, refuses proposals on followers', async () => {
    for (const id of ids) await start(id);
    const l = await leader();
    const out = await l.node.propose(5);
    assert.equal(out.status, 'applied');
    assert.equal(out.status === 'applied' && out.result, 5);
    const follower = [...members.values()].find((m) => m !== l) as Member;
    await assert.rejects(follower.node.propose(1), (e: unknown) => e instanceof NotLeaderError && e.leader === l.id);
    const outs = await Promise.all([1, 2, 3].map((n) => l.node.propose(n)));
    assert.deepEqual(outs.map((o) => (o.status === 'applied' ? (o.result as number) : -1)).sort((x, y) => x - y), [6, 8, 11]);
    await eventually('every member applied everything', () => ([...members.values()].every((m) => m.machine.sum === 11) ? true : undefined));
  });

  it('commits proposals arriving together with shared fsyncs (group commit)', async () => {
    for (const id of ids) await start(id);
    const l = await leader();
    const before = l.storage.stats.fsyncs;
    const outs = await Promise.all(Array.from({ length: 300 }, () => l.node.propose(1)));
    assert.ok(outs.every((o) => o.status === 'applied'));
    const fsyncs = l.storage.stats.fsyncs - before;
    assert.ok(fsyncs < 30, `300 proposals took ${fsyncs} fsyncs on the leader`);
  });

  it('takes snapshots, and a restarted member recovers its state from the data dir', async () => {
    for (const id of ids) await start(id, 40);
    const l = await leader();
    for (let i = 0; i < 100; i++) await l.node.propose(2);
    assert.ok(l.node.status().snapshotIndex >= 40, `snapshot index ${l.node.status().snapshotIndex}`);
    const f = [...members.values()].find((m) => m !== l) as Member;
    await eventually('the follower applied everything', () => (f.machine.sum === 200 ? true : undefined));
    await f.node.stop();
    down.add(f.id);
    members.delete(f.id);
    down.delete(f.id);
    const back = await start(f.id, 40);
    assert.ok(back.node.status().snapshotIndex >= 40, 'restarted from its snapshot');
    assert.ok(back.machine.sum > 0, 'the snapshot restored the state machine');
    await eventually('the restarted member caught up', () => (back.machine.sum === 200 ? true : undefined));
  });

  it('serves ReadIndex on the leader at or after the last applied proposal', async () => {
    for (const id of ids) await start(id);
    const l = await leader();
    const p = await l.node.propose(7);
    const index = await l.node.readIndex();
    assert.ok(p.status === 'applied' && index >= p.index);
    assert.ok(l.node.applied >= index);
    const f = [...members.values()].find((m) => m !== l) as Member;
    await assert.rejects(f.node.readIndex(), NotLeaderError);
  });

  it('rejects proposals pending at stop with StoppedError (outcome unknown), and later calls too', async () => {
    for (const id of ids) await start(id);
    const l = await leader();
    for (const id of ids) if (id !== l.id) down.add(id); // the leader loses its followers
    const pending = assert.rejects(l.node.propose(1), StoppedError);
    await l.node.stop();
    await pending;
    await assert.rejects(l.node.propose(1), StoppedError);
  });
});
