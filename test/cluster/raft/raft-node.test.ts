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
    this.checkSnapshot(data);
    this.sum = (data as { sum: number }).sum;
  }
  checkSnapshot(data: unknown): void {
    if (typeof (data as { sum?: unknown } | null)?.sum !== 'number') throw new TypeError('snapshot: expected {sum: number}');
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

  const audits: { id: string; index: number; term: number; state: unknown }[] = [];

  async function start(id: string, snapshotEvery = 10_000, random = prng(ids.indexOf(id) + 1), auditEvery = 0): Promise<Member> {
    const { storage, recovered } = await RaftStorage.open(join(dir, id));
    const machine = new Sum();
    const observer = { audited: (index: number, term: number, state: unknown) => audits.push({ id, index, term, state }) };
    const node = new RaftNode({ id, members: ids, storage, recovered, transport: transportFor(id), machine, tickMs: 5, snapshotEvery, random, auditEvery, observer });
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
    audits.length = 0;
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

  it('counts snapshots taken, sent to a member that fell behind the compaction, and installed by it', async () => {
    for (const id of ids) await start(id, 20);
    const l = await leader();
    const f = [...members.values()].find((m) => m !== l) as Member;
    await f.node.stop();
    down.add(f.id);
    for (let i = 0; i < 60; i++) await l.node.propose(1);
    assert.ok(l.node.status().snapshots.taken >= 2, JSON.stringify(l.node.status().snapshots));
    members.delete(f.id);
    down.delete(f.id);
    const back = await start(f.id, 20);
    await eventually('the member caught up', () => (back.machine.sum === 60 ? true : undefined));
    assert.ok(back.node.status().snapshots.installed >= 1, JSON.stringify(back.node.status().snapshots));
    assert.ok(l.node.status().snapshots.sent >= 1, JSON.stringify(l.node.status().snapshots));
  });

  it('reports the state after every auditEvery-th applied entry, the same on every member', async () => {
    for (const id of ids) await start(id, 10_000, prng(ids.indexOf(id) + 1), 4);
    const l = await leader();
    for (let i = 0; i < 10; i++) await l.node.propose(1);
    const last = l.node.applied;
    const expected = Array.from({ length: Math.floor(last / 4) }, (_, i) => (i + 1) * 4);
    await eventually('every member audited every 4th index', () =>
      ids.every((id) => audits.filter((a) => a.id === id).map((a) => a.index).join() === expected.join()) ? true : undefined,
    );
    for (const index of expected) {
      const at = audits.filter((a) => a.index === index);
      assert.equal(new Set(at.map((a) => JSON.stringify([a.term, a.state]))).size, 1, `index ${index}: ${JSON.stringify(at)}`);
    }
    // Each proposal adds 1: the state after index x is the number of proposals applied up to x.
    for (const index of expected) {
      assert.deepEqual(audits.find((a) => a.index === index)?.state, { sum: l.machine.applied.filter((j) => j <= index).length });
    }
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

  it('drops peer messages the core refuses (gapped entries, a snapshot it cannot restore) and keeps going', async () => {
    const refused: string[] = [];
    const { storage, recovered } = await RaftStorage.open(join(dir, 'solo'));
    const machine = new Sum();
    const node = new RaftNode({ id: 'a', members: ids, storage, recovered, transport: { send: () => undefined }, machine, tickMs: 5, observer: { rejected: (e) => refused.push(e.message) } });
    members.set('solo', { id: 'solo', node, machine, storage });
    node.step({ type: 'append', from: 'b', to: 'a', term: 5, prevIndex: 0, prevTerm: 0, entries: [{ index: 3, term: 5, data: 1 }], commit: 0 });
    node.step({ type: 'snapshot', from: 'b', to: 'a', term: 5, snapshot: { meta: { index: 10, term: 5 }, data: null } });
    await eventually('both refused', () => (refused.length === 2 ? true : undefined));
    assert.match(refused[0] as string, /appending 3 after 0/);
    assert.match(refused[1] as string, /sum/);
    assert.equal(node.status().snapshotIndex, 0, 'the bad snapshot was not saved');
    // Still alive: a good append from the same leader is taken.
    node.step({ type: 'append', from: 'b', to: 'a', term: 5, prevIndex: 0, prevTerm: 0, entries: [{ index: 1, term: 5, data: 4 }], commit: 1 });
    await eventually('applied', () => (machine.sum === 4 ? true : undefined));
  });

  it("refuses an append whose entry the machine's checkEntry refuses: nothing of it is persisted, the next good append is taken", async () => {
    const refused: string[] = [];
    const { storage, recovered } = await RaftStorage.open(join(dir, 'checked'));
    const machine = new (class extends Sum {
      checkEntry(data: unknown): void {
        if (typeof data !== 'number') throw new TypeError(`expected a number, got ${JSON.stringify(data)}`);
      }
    })();
    const node = new RaftNode({ id: 'a', members: ids, storage, recovered, transport: { send: () => undefined }, machine, tickMs: 5, observer: { rejected: (e) => refused.push(e.message) } });
    members.set('checked', { id: 'checked', node, machine, storage });
    node.step({ type: 'append', from: 'b', to: 'a', term: 5, prevIndex: 0, prevTerm: 0, entries: [{ index: 1, term: 5, data: 2 }, { index: 2, term: 5, data: { request: null } }], commit: 2 });
    await eventually('refused', () => (refused.length === 1 ? true : undefined));
    assert.equal(refused[0], 'entry 2: expected a number, got {"request":null}');
    assert.equal(node.status().lastIndex, 0, 'not even the good entry of that append was taken');
    node.step({ type: 'append', from: 'b', to: 'a', term: 5, prevIndex: 0, prevTerm: 0, entries: [{ index: 1, term: 5, data: 4 }, { index: 2, term: 5, data: null }], commit: 2 });
    await eventually('applied', () => (machine.sum === 4 && node.applied === 2 ? true : undefined));
  });

  it('skips a committed entry whose apply throws (reported, the proposer learns unknown) and goes on applying', async () => {
    const failed: [string, number][] = [];
    const { storage, recovered } = await RaftStorage.open(join(dir, 'poison'));
    const machine = new (class extends Sum {
      override apply(e: LogEntry): unknown {
        if (e.data === 'poison') throw new TypeError("Cannot read properties of null (reading 'session')");
        return super.apply(e);
      }
    })();
    const node = new RaftNode({ id: 'a', members: ['a'], storage, recovered, transport: { send: () => undefined }, machine, tickMs: 5, observer: { applyFailed: (e, entry) => failed.push([e.message, entry.index]) } });
    members.set('poison', { id: 'poison', node, machine, storage });
    await eventually('leader', () => (node.status().role === 'leader' ? true : undefined), 5000);
    const bad = await node.propose('poison');
    assert.equal(bad.status, 'unknown');
    assert.deepEqual(failed, [["Cannot read properties of null (reading 'session')", bad.index]]);
    const good = await node.propose(3);
    assert.ok(good.status === 'applied' && good.result === 3);
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
