import assert from 'node:assert/strict';
import { RaftCore } from '../../../cluster/raft/core.js';
import type { LogEntry, Message, Ready } from '../../../cluster/raft/types.js';
import type { FailpointName } from '../../../cluster/failpoints.js';
import { withFailpointsSync } from '../../support/failpoints.js';
import { SafetyViolation, simulate } from './sim.js';

/** `RAFT_SIM_SEED=n` reruns one schedule; `RAFT_SIM_SCHEDULES=n` runs more. */
const onlySeed = process.env.RAFT_SIM_SEED === undefined ? undefined : Number(process.env.RAFT_SIM_SEED);
const schedules = Number(process.env.RAFT_SIM_SCHEDULES ?? 1000);

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

    it('probes back a follower that lost entries it had acknowledged (a torn tail cut on restart) until it has them again', () => {
      const { c, drain } = leaderOfTerm2();
      c.propose('x');
      c.propose('y');
      drain();
      // n2 acknowledges everything: the leader's match for n2 is 4, and 4 commits.
      c.step({ type: 'append-resp', from: 'n2', to: 'n1', term: 2, success: true, index: 4 });
      drain();
      assert.equal(c.status().commitIndex, 4);
      // n2 restarts having lost entry 4 (its torn last record was cut); n3 stays silent.
      const entries = [
        { index: 1, term: 1, data: null },
        { index: 2, term: 2, data: null },
        { index: 3, term: 2, data: 'x' },
      ];
      const n2 = new RaftCore({ id: 'n2', members: ['n1', 'n2', 'n3'], random: () => 0.5, electionTicks: 1000 }, { hard: { term: 2, vote: 'n1' }, snapshot: null, entries });
      const applied: unknown[] = [];
      for (let t = 0; t < 20 && n2.status().lastApplied < 4; t++) {
        c.tick();
        let queue = drain();
        for (let guard = 0; guard < 100 && queue.length > 0; guard++) {
          const next: Message[] = [];
          for (const m of queue) {
            if (m.to === 'n2') n2.step(m);
            else if (m.to === 'n1') c.step(m);
          }
          while (n2.hasReady()) {
            const rd = n2.ready();
            next.push(...rd.messages);
            for (const e of rd.committed) applied.push(e.data);
            n2.advance(rd);
          }
          next.push(...drain());
          queue = next;
        }
      }
      assert.equal(n2.status().lastIndex, 4, 'the lost entry was sent again');
      assert.equal(n2.status().commitIndex, 4);
      assert.deepEqual(applied.filter((d) => d !== null), ['x', 'y']);
      assert.equal(c.status().commitIndex, 4, 'the commit index never went back');
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
  describe('failpoints: each planted bug is there when on, and absent when off', () => {
    /** Members built from what they hold on disk, on a network the test controls message by message. */
    function handNetwork(members: Record<string, { term: number; vote?: string; log: readonly number[]; maxEntries?: number; random?: number }>) {
      const ids = Object.keys(members);
      const cores = new Map<string, RaftCore>();
      const applied = new Map<string, LogEntry[]>();
      for (const [id, m] of Object.entries(members)) {
        const entries = m.log.map((term, i) => ({ index: i + 1, term, data: `${id}:${i + 1}` }));
        const config = { id, members: ids, random: () => m.random ?? 0.99, ...(m.maxEntries !== undefined ? { maxEntriesPerMessage: m.maxEntries } : {}) };
        cores.set(id, new RaftCore(config, { hard: { term: m.term, vote: m.vote ?? null }, snapshot: null, entries }));
        applied.set(id, []);
      }
      const up = new Set(ids);
      const core = (id: string): RaftCore => cores.get(id) as RaftCore;
      /** Messages lost on the way. */
      const faults = { drop: (_m: Message): boolean => false };
      /** Delivers messages among the members that are up, but those `faults.drop` loses, until nothing moves. */
      const pump = (): void => {
        const queue: Message[] = [];
        for (let guard = 0; guard < 10_000; guard++) {
          for (const id of up) {
            const c = core(id);
            while (c.hasReady()) {
              const rd = c.ready();
              queue.push(...rd.messages);
              (applied.get(id) as LogEntry[]).push(...rd.committed);
              c.advance(rd);
            }
          }
          const m = queue.shift();
          if (!m) return;
          if (up.has(m.to) && up.has(m.from) && !faults.drop(m)) core(m.to).step(m);
        }
        throw new Error('no quiescence');
      };
      const tick = (ids: readonly string[], times: number): void => {
        for (let t = 0; t < times; t++) {
          for (const id of ids) core(id).tick();
          pump();
        }
      };
      /** Indices at which two members applied entries of different terms. */
      const divergence = (): string[] => {
        const seen = new Map<number, { id: string; term: number }>();
        const out: string[] = [];
        for (const [id, list] of applied) {
          for (const e of list) {
            const other = seen.get(e.index);
            if (other === undefined) seen.set(e.index, { id, term: e.term });
            else if (other.term !== e.term) out.push(`index ${e.index}: ${other.id} applied term ${other.term}, ${id} term ${e.term}`);
          }
        }
        return out;
      };
      return { core, up, faults, applied, tick, divergence };
    }

    /**
     * Raft's Figure 8. S1 leads term 2 and got entry 2 to S2 only; S5 led term 3 with an entry 2 of
     * its own. S1, restarted, leads term 4 with S3 and S4, and gets its old entry 2 to both before
     * it crashes (its own entry 3 of term 4 reaches nobody). S5 is then elected (its log ends in
     * term 3, beyond S2–S4's term 2) and replaces entry 2 everywhere.
     */
    function figure8() {
      const net = handNetwork({
        n1: { term: 3, log: [1, 2], maxEntries: 1, random: 0 },
        n2: { term: 3, log: [1, 2] },
        n3: { term: 3, log: [1] },
        n4: { term: 3, log: [1] },
        n5: { term: 3, vote: 'n5', log: [1, 3], random: 0 },
      });
      net.up.delete('n2');
      net.up.delete('n5');
      // S1 crashes after sending entry 2 but before entry 3 arrives anywhere: every append that
      // would put entry 3 on a follower is lost.
      net.faults.drop = (m) => m.type === 'append' && m.entries.some((e) => e.index === 3) && net.core(m.to).logTerm(m.prevIndex) === m.prevTerm;
      for (let t = 0; t < 40 && net.core('n1').role !== 'leader'; t++) net.tick(['n1'], 1);
      assert.equal(net.core('n1').role, 'leader');
      assert.equal(net.core('n1').term, 4);
      assert.deepEqual([net.core('n3').logTerm(2), net.core('n4').logTerm(2)], [2, 2], 'S3 and S4 have entry 2 of term 2');
      const oldLeader = { commit: net.core('n1').status().commitIndex, applied: (net.applied.get('n1') as LogEntry[]).map((e) => [e.index, e.term]) };
      net.up.delete('n1');
      net.faults.drop = () => false;
      net.up.add('n2');
      net.up.add('n5');
      net.tick(['n2', 'n3', 'n4', 'n5'], 10);
      for (let t = 0; t < 60 && net.core('n5').role !== 'leader'; t++) net.tick(['n5'], 1);
      assert.equal(net.core('n5').role, 'leader', 'S5 is elected with its entry 2 of term 3');
      net.tick(['n5'], 3); // heartbeats carry the commit index
      return { oldLeader, net };
    }

    it('raft.commit-earlier-term: Figure 8 — an entry of term 2 is committed by counting, applied, then replaced', () => {
      const on = withFailpointsSync(['raft.commit-earlier-term'], figure8);
      assert.equal(on.oldLeader.commit, 2, 'S1 committed entry 2 (term 2) on S1, S3, S4 while leading term 4');
      assert.deepEqual(on.oldLeader.applied, [[1, 1], [2, 2]]);
      assert.equal(on.net.core('n3').logTerm(2), 3, 'S5 replaced it');
      assert.deepEqual(on.net.divergence(), ['n2', 'n3', 'n4', 'n5'].map((id) => `index 2: n1 applied term 2, ${id} term 3`), 'state-machine safety is broken');

      const off = figure8();
      assert.equal(off.oldLeader.commit, 0, 'without the failpoint S1 may not commit entry 2 before an entry of term 4');
      assert.deepEqual(off.oldLeader.applied, []);
      assert.deepEqual(off.net.divergence(), []);
      assert.ok((off.net.applied.get('n3') as LogEntry[]).some((e) => e.index === 2 && e.term === 3), 'S5 committed its own entry 2');
    });

    it('raft.commit-without-quorum: a leader no follower answered commits and applies its proposal', () => {
      const run = () => {
        const { c, drain } = leaderOfTerm2();
        c.propose('x');
        const applied: unknown[] = [];
        while (c.hasReady()) {
          const rd = c.ready();
          applied.push(...rd.committed.map((e) => e.data));
          c.advance(rd);
        }
        drain();
        return { commit: c.status().commitIndex, applied };
      };
      assert.deepEqual(withFailpointsSync(['raft.commit-without-quorum'], run), { commit: 3, applied: ['x'] });
      assert.deepEqual(run(), { commit: 0, applied: [] });
    });

    it('raft.apply-uncommitted: a follower applies entries the leader has not committed', () => {
      const run = (): LogEntry[] => {
        const f = new RaftCore({ id: 'n2', members: ['n1', 'n2', 'n3'], random: () => 0 }, { hard: { term: 1, vote: null }, snapshot: null, entries: [] });
        f.step({ type: 'append', from: 'n1', to: 'n2', term: 1, prevIndex: 0, prevTerm: 0, entries: [{ index: 1, term: 1, data: 'a' }, { index: 2, term: 1, data: 'b' }], commit: 0 });
        const applied: LogEntry[] = [];
        while (f.hasReady()) {
          const rd = f.ready();
          applied.push(...rd.committed);
          f.advance(rd);
        }
        assert.equal(f.status().commitIndex, 0);
        return applied;
      };
      assert.deepEqual(withFailpointsSync(['raft.apply-uncommitted'], run).map((e) => e.data), ['a', 'b']);
      assert.deepEqual(run(), []);
    });

    it('raft.vote-ignores-log: a vote and a pre-vote go to a candidate whose log is behind', () => {
      const run = (pre: boolean): boolean => {
        const f = new RaftCore({ id: 'n2', members: ['n1', 'n2', 'n3'], random: () => 0 }, { hard: { term: 2, vote: null }, snapshot: null, entries: [{ index: 1, term: 1, data: null }, { index: 2, term: 2, data: 'x' }] });
        f.step({ type: 'vote', from: 'n3', to: 'n2', term: 3, pre, lastIndex: 1, lastTerm: 1 });
        const answer = f.ready().messages.find((m) => m.type === 'vote-resp');
        assert.ok(answer?.type === 'vote-resp');
        return answer.granted;
      };
      for (const pre of [false, true]) {
        assert.equal(withFailpointsSync(['raft.vote-ignores-log'], () => run(pre)), true, pre ? 'pre-vote' : 'vote');
        assert.equal(run(pre), false, pre ? 'pre-vote' : 'vote');
      }
    });

    // The simulated network finds each of these through its safety checks, within a few schedules.
    const simulated: readonly [FailpointName, RegExp][] = [
      ['raft.commit-earlier-term', /ReadIndex \d+ misses index/],
      ['raft.commit-without-quorum', /leader completeness|state machine safety/],
      ['raft.apply-uncommitted', /ReadIndex|leader completeness|state machine safety/],
      ['raft.vote-ignores-log', /leader completeness|state machine safety/],
    ];
    for (const [name, finding] of simulated) {
      it(`${name}: the simulation finds a safety violation within 20 five-member schedules; the same schedules pass without it`, () => {
        const run = (seed: number): void => void simulate({ seed, members: 5, steps: 600 });
        let found: string | undefined;
        let seeds = 0;
        withFailpointsSync([name], () => {
          for (let seed = 500_001; seed <= 500_020 && found === undefined; seed++, seeds++) {
            try {
              run(seed);
            } catch (e) {
              if (!(e instanceof SafetyViolation)) throw e;
              found = e.message;
            }
          }
        });
        assert.match(found ?? 'no violation found', finding);
        for (let seed = 500_001; seed < 500_001 + seeds; seed++) run(seed);
      });
    }
  });
});
