import assert from 'node:assert/strict';
import { RaftCore } from '../../../cluster/raft/core.js';
import type { Message, Ready } from '../../../cluster/raft/types.js';
import { simulate } from './sim.js';

/** `RAFT_SIM_SEED=n` reruns one schedule; `RAFT_SIM_SCHEDULES=n` runs more. */
const onlySeed = process.env.RAFT_SIM_SEED === undefined ? undefined : Number(process.env.RAFT_SIM_SEED);
const schedules = Number(process.env.RAFT_SIM_SCHEDULES ?? 1000);

describe('Raft core', () => {
  describe('safety on a simulated network with partitions, loss, reordering, duplication, crashes and snapshots', function () {
    this.timeout(600_000);
    for (const members of [3, 5]) {
      const count = members === 3 ? schedules : Math.ceil(schedules / 2);
      it(`${members} members: ${onlySeed ?? `${count} seeded schedules`} keep election safety, log matching, leader completeness and state-machine safety, and make progress once healed`, () => {
        const seeds = onlySeed !== undefined ? [onlySeed] : Array.from({ length: count }, (_, i) => i + 1 + members * 100_000);
        const totals = { elections: 0, committed: 0, crashes: 0, snapshotsInstalled: 0, reads: 0 };
        for (const seed of seeds) {
          // Most schedules are gentle; every fourth is a storm of crashes, partitions and loss.
          const storm = seed % 4 === 0;
          const r = simulate(storm ? { seed, members, steps: 1500, crashRate: 0.01, partitionRate: 0.03, dropRate: 0.2 } : { seed, members, steps: 600 });
          totals.elections += r.elections;
          totals.committed += r.committed;
          totals.crashes += r.crashes;
          totals.snapshotsInstalled += r.snapshotsInstalled;
          totals.reads += r.reads;
        }
        // The schedules exercised what they claim to.
        assert.ok(totals.elections > seeds.length, `elections: ${totals.elections}`);
        assert.ok(totals.committed > seeds.length * 20, `entries committed: ${totals.committed}`);
        if (onlySeed === undefined) {
          assert.ok(totals.crashes > seeds.length / 2, `crashes: ${totals.crashes}`);
          assert.ok(totals.snapshotsInstalled > 0, 'some follower installed a snapshot');
          assert.ok(totals.reads > seeds.length, `reads: ${totals.reads}`);
        }
      });
    }
  });

  describe('in isolation', () => {
    /** Runs members to quiescence with a perfect network; returns them. */
    function cluster(n: number) {
      const ids = Array.from({ length: n }, (_, i) => `n${i + 1}`);
      let x = 1;
      const random = () => ((x = (x * 48271) % 2147483647) / 2147483647);
      const cores = new Map(ids.map((id) => [id, new RaftCore({ id, members: ids, random }, { hard: { term: 0, vote: null }, snapshot: null, entries: [] })]));
      const applied = new Map<string, unknown[]>(ids.map((id) => [id, []]));
      const pump = (): void => {
        const queue: Message[] = [];
        for (let guard = 0; guard < 10_000; guard++) {
          let busy = false;
          for (const [id, c] of cores) {
            while (c.hasReady()) {
              busy = true;
              const rd: Ready = c.ready();
              queue.push(...rd.messages);
              for (const e of rd.committed) if (e.data !== null) (applied.get(id) as unknown[]).push(e.data);
              c.advance(rd);
            }
          }
          const m = queue.shift();
          if (m) {
            cores.get(m.to)?.step(m);
            busy = true;
          }
          if (!busy) return;
        }
        throw new Error('no quiescence');
      };
      return { cores, applied, pump };
    }

    it('elects one leader and replicates a proposal to every member', () => {
      const { cores, applied, pump } = cluster(3);
      for (let t = 0; t < 30 && ![...cores.values()].some((c) => c.role === 'leader'); t++) {
        for (const c of cores.values()) c.tick();
        pump();
      }
      const leaders = [...cores.values()].filter((c) => c.role === 'leader');
      assert.equal(leaders.length, 1);
      const leader = leaders[0] as RaftCore;
      assert.deepEqual(leader.propose('x'), { index: 2, term: leader.term });
      pump();
      for (const c of cores.values()) c.tick(); // heartbeats carry the commit index to followers
      pump();
      for (const [id, list] of applied) assert.deepEqual(list, ['x'], id);
      assert.equal(leader.status().commitIndex, 2);
    });

    it('a single member elects itself and commits alone', () => {
      const { cores, applied, pump } = cluster(1);
      const c = cores.get('n1') as RaftCore;
      for (let t = 0; t < 25 && c.role !== 'leader'; t++) {
        c.tick();
        pump();
      }
      assert.equal(c.role, 'leader');
      c.propose({ op: 1 });
      pump();
      assert.deepEqual(applied.get('n1'), [{ op: 1 }]);
    });

    /** n1 elected leader of term 2 by n2's votes, its no-op (index 2) persisted and sent. */
    function leaderOfTerm2(): { c: RaftCore; drain: () => Message[] } {
      const c = new RaftCore({ id: 'n1', members: ['n1', 'n2', 'n3'], random: () => 0 }, { hard: { term: 1, vote: 'n1' }, snapshot: null, entries: [{ index: 1, term: 1, data: null }] });
      const drain = (): Message[] => {
        const sent: Message[] = [];
        while (c.hasReady()) {
          const rd = c.ready();
          sent.push(...rd.messages);
          c.advance(rd);
        }
        return sent;
      };
      for (let t = 0; t < 30 && c.role === 'follower'; t++) c.tick();
      drain();
      c.step({ type: 'vote-resp', from: 'n2', to: 'n1', term: 2, pre: true, granted: true });
      drain();
      c.step({ type: 'vote-resp', from: 'n2', to: 'n1', term: 2, pre: false, granted: true });
      assert.equal(c.role, 'leader');
      drain();
      return { c, drain };
    }

    it('serves a ReadIndex read only after a majority answered a heartbeat sent after the read began', () => {
      const { c, drain } = leaderOfTerm2();
      c.step({ type: 'append-resp', from: 'n2', to: 'n1', term: 2, success: true, index: 2 });
      drain(); // the no-op is committed: reads may start
      assert.equal(c.status().commitIndex, 2);
      c.readIndex(7);
      const rd = c.ready();
      assert.deepEqual(rd.reads, [], 'not before a quorum confirmed the leadership');
      const beats = rd.messages.filter((m): m is Extract<Message, { type: 'append' }> => m.type === 'append' && m.read !== undefined);
      assert.equal(beats.length, 2, 'a heartbeat with the read to each follower');
      c.advance(rd);
      c.step({ type: 'append-resp', from: 'n3', to: 'n1', term: 2, success: true, index: 2, read: (beats[0] as { read: number }).read });
      assert.deepEqual(c.ready().reads, [{ id: 7, index: 2 }]);
    });

    it('drops entries a leader handed out but had not yet persisted when a new leader replaces them (truncateFrom)', () => {
      const { c } = leaderOfTerm2();
      assert.deepEqual(c.propose('x'), { index: 3, term: 2 });
      const rd = c.ready();
      assert.deepEqual(rd.entries.map((e) => e.index), [3]);
      c.advance(rd, false); // written behind: not durable yet
      c.step({ type: 'append', from: 'n2', to: 'n1', term: 3, prevIndex: 2, prevTerm: 2, entries: [{ index: 3, term: 3, data: 'y' }], commit: 1 });
      assert.equal(c.role, 'follower');
      const next = c.ready();
      assert.equal(next.truncateFrom, 3, 'the disk may hold entry 3 of term 2 once the write lands: drop it before appending');
      assert.deepEqual(next.entries.map((e) => [e.index, e.term]), [[3, 3]]);
    });

    it('refuses proposals and reads on a follower', () => {
      const { cores } = cluster(3);
      const f = cores.get('n2') as RaftCore;
      assert.equal(f.propose('x'), null);
      f.readIndex(7);
      assert.deepEqual(f.ready().failedReads, [7]);
    });

    it('rejects a configuration that lacks the member itself', () => {
      assert.throws(() => new RaftCore({ id: 'n9', members: ['n1'], random: Math.random }, { hard: { term: 0, vote: null }, snapshot: null, entries: [] }), /lacks this member n9/);
    });
  });
});
