import assert from 'node:assert/strict';
import { Progress, ProgressTracker } from '../../../cluster/raft/progress.js';
import type { ProgressState } from '../../../cluster/raft/progress.js';

/** What a test reads of a progress. */
interface View {
  readonly state: ProgressState;
  readonly match: number;
  readonly next: number;
  readonly inflight: number;
  readonly paused: boolean;
}

const view = (pr: Progress): View => ({ state: pr.state, match: pr.match, next: pr.next, inflight: pr.inflight, paused: pr.isPaused() });

/** A probed follower that has acknowledged up to `match`, probed from `next`. */
function probing(match: number, next: number): Progress {
  const pr = new Progress(next, 4);
  pr.maybeUpdate(match);
  return pr;
}

/** A replicating follower that has acknowledged up to `match`, with appends ending at `sent` in flight. */
function replicating(match: number, sent: readonly number[], maxInflight = 4): Progress {
  const pr = new Progress(match + 1, maxInflight);
  pr.maybeUpdate(match);
  pr.becomeReplicate();
  for (const last of sent) pr.sentAppend(last);
  return pr;
}

/** A follower that has acknowledged up to `match`, sent a snapshot when `next` was compacted away. */
function snapshotting(match: number, next: number): Progress {
  const pr = probing(match, next);
  pr.becomeSnapshot();
  return pr;
}

describe('Raft progress', () => {
  describe('a follower of a new leader', () => {
    it('is probed from next, unpaused, with nothing matched or in flight', () => {
      assert.deepEqual(view(new Progress(8, 4)), { state: 'probe', match: 0, next: 8, inflight: 0, paused: false });
    });

    it('gets one probe at a time: a probe (even an empty one) pauses it until an answer comes back', () => {
      for (const last of [undefined, 9]) {
        const pr = new Progress(8, 4);
        pr.sentAppend(last);
        assert.deepEqual(view(pr), { state: 'probe', match: 0, next: 8, inflight: 0, paused: true }, `last ${last}`);
        pr.probeAcked();
        assert.equal(pr.isPaused(), false);
      }
    });
  });

  describe('state transitions', () => {
    const cases: { from: ProgressState; to: ProgressState; want: View }[] = [
      // becomeProbe keeps next: where to probe from is the caller's (rejection, snapshot) business.
      { from: 'replicate', to: 'probe', want: { state: 'probe', match: 5, next: 9, inflight: 0, paused: false } },
      { from: 'snapshot', to: 'probe', want: { state: 'probe', match: 5, next: 9, inflight: 0, paused: false } },
      { from: 'probe', to: 'replicate', want: { state: 'replicate', match: 5, next: 6, inflight: 0, paused: false } },
      { from: 'replicate', to: 'replicate', want: { state: 'replicate', match: 5, next: 6, inflight: 0, paused: false } },
      { from: 'probe', to: 'snapshot', want: { state: 'snapshot', match: 5, next: 6, inflight: 0, paused: true } },
      { from: 'replicate', to: 'snapshot', want: { state: 'snapshot', match: 5, next: 9, inflight: 0, paused: true } },
    ];
    for (const { from, to, want } of cases) {
      it(`${from} → ${to}`, () => {
        const pr = from === 'replicate' ? replicating(5, [7, 8]) : from === 'probe' ? probing(5, 6) : snapshotting(5, 9);
        if (from === 'probe') pr.sentAppend(undefined); // paused: a transition unpauses it
        if (to === 'probe') pr.becomeProbe();
        else if (to === 'replicate') pr.becomeReplicate();
        else pr.becomeSnapshot();
        assert.deepEqual(view(pr), want);
      });
    }

    it('waits for a snapshot for `limit` ticks, then probes again from just after match', () => {
      const pr = snapshotting(5, 9);
      for (let t = 1; t <= 3; t++) assert.equal(pr.tickSnapshot(3), false, `tick ${t}`);
      assert.equal(pr.state, 'snapshot');
      assert.equal(pr.tickSnapshot(3), true);
      assert.deepEqual(view(pr), { state: 'probe', match: 5, next: 6, inflight: 0, paused: false });
    });

    it('a snapshot sent again restarts the wait', () => {
      const pr = snapshotting(5, 9);
      pr.tickSnapshot(2);
      pr.tickSnapshot(2);
      pr.becomeSnapshot();
      assert.equal(pr.tickSnapshot(2), false);
      assert.equal(pr.tickSnapshot(2), false);
      assert.equal(pr.tickSnapshot(2), true);
    });

    it('ticks change nothing outside the snapshot state', () => {
      for (const pr of [probing(5, 6), replicating(5, [7, 8])]) {
        const before = view(pr);
        for (let t = 0; t < 10; t++) assert.equal(pr.tickSnapshot(1), false);
        assert.deepEqual(view(pr), before);
      }
    });
  });

  describe('the inflight window (replicate)', () => {
    it('fills with each append carrying entries, then pauses the follower', () => {
      const pr = replicating(5, [], 3);
      for (const last of [8, 10]) {
        pr.sentAppend(last);
        assert.equal(pr.isPaused(), false);
      }
      pr.sentAppend(12);
      assert.deepEqual(view(pr), { state: 'replicate', match: 5, next: 13, inflight: 3, paused: true });
      assert.equal(pr.windowFull(), true);
    });

    it('an append with no entries takes no slot and does not move next', () => {
      const pr = replicating(5, [8]);
      pr.sentAppend(undefined);
      assert.deepEqual(view(pr), { state: 'replicate', match: 5, next: 9, inflight: 1, paused: false });
    });

    const frees: { ack: number; inflight: number }[] = [
      { ack: 5, inflight: 3 }, // below every append in flight
      { ack: 7, inflight: 3 }, // inside the first append, not its end
      { ack: 8, inflight: 2 },
      { ack: 11, inflight: 1 },
      { ack: 14, inflight: 0 },
      { ack: 99, inflight: 0 },
    ];
    for (const { ack, inflight } of frees) {
      it(`freeTo(${ack}) with appends ending at 8, 10, 14 in flight leaves ${inflight}`, () => {
        const pr = replicating(5, [8, 10, 14], 3);
        assert.equal(pr.isPaused(), true);
        pr.freeTo(ack);
        assert.equal(pr.inflight, inflight);
        assert.equal(pr.isPaused(), inflight >= 3);
        assert.equal(pr.next, 15, 'freeing slots does not move next');
      });
    }

    it('freeFirstOne frees the oldest slot, so one more append may go out', () => {
      const pr = replicating(5, [8, 10], 2);
      assert.equal(pr.isPaused(), true);
      pr.freeFirstOne();
      assert.equal(pr.isPaused(), false);
      pr.freeTo(8);
      assert.equal(pr.inflight, 1, 'the slot of 8 was the one freed');
    });
  });

  describe('acknowledgements (maybeUpdate)', () => {
    const cases: { what: string; ack: number; news: boolean; match: number; next: number }[] = [
      { what: 'at match is stale', ack: 5, news: false, match: 5, next: 9 },
      { what: 'below match is stale', ack: 3, news: false, match: 5, next: 9 },
      { what: 'below next raises match only', ack: 7, news: true, match: 7, next: 9 },
      { what: 'of everything sent', ack: 8, news: true, match: 8, next: 9 },
      { what: 'past next (a heartbeat answer after a leader change) raises next too', ack: 12, news: true, match: 12, next: 13 },
    ];
    for (const { what, ack, news, match, next } of cases) {
      it(`${what}: ack ${ack} with match 5, next 9`, () => {
        const pr = replicating(5, [7, 8]);
        assert.equal(pr.maybeUpdate(ack), news);
        assert.deepEqual([pr.match, pr.next, pr.state, pr.inflight], [match, next, 'replicate', 2], 'neither state nor window change');
      });
    }
  });

  describe('rejections (maybeDecrTo)', () => {
    const probe = (next: number): View => ({ state: 'probe', match: 5, next, inflight: 0, paused: false });
    const cases: { what: string; pr: () => Progress; rejected: number; hint: number; want: View | 'stale' }[] = [
      // Replicating: match 5, appends up to 12 sent (next 13).
      { what: 'replicate, a hint below the rejected append: back to the hint', pr: () => replicating(5, [8, 12]), rejected: 8, hint: 6, want: probe(7) },
      { what: 'replicate, no hint (the follower has all before next): back one', pr: () => replicating(5, [8, 12]), rejected: 8, hint: 20, want: probe(12) },
      { what: 'replicate, a hint at or below match: to match + 1, no lower', pr: () => replicating(5, [8, 12]), rejected: 8, hint: 2, want: probe(6) },
      { what: 'replicate, rejected at match (the follower lost acknowledged entries): match forgotten, back to the hint', pr: () => replicating(5, [8, 12]), rejected: 5, hint: 2, want: { state: 'probe', match: 0, next: 3, inflight: 0, paused: false } },
      { what: 'replicate, rejected below match: stale', pr: () => replicating(5, [8, 12]), rejected: 3, hint: 2, want: 'stale' },
      // Probing: match 5, the last probe at prevIndex 9 (next 10).
      { what: 'probe, the last probe, with a hint: back to the hint', pr: () => probing(5, 10), rejected: 9, hint: 7, want: probe(8) },
      { what: 'probe, the last probe, no hint: back one', pr: () => probing(5, 10), rejected: 9, hint: 9, want: probe(9) },
      { what: 'probe, the last probe, a hint below match: to match + 1, no lower', pr: () => probing(5, 10), rejected: 9, hint: 1, want: probe(6) },
      { what: 'probe, an earlier probe: stale', pr: () => probing(5, 10), rejected: 12, hint: 7, want: 'stale' },
      { what: 'probe, below the last probe: stale', pr: () => probing(5, 10), rejected: 7, hint: 6, want: 'stale' },
      { what: 'probe, the last probe at match (the follower lost acknowledged entries): match forgotten, back to the hint', pr: () => probing(5, 6), rejected: 5, hint: 1, want: { state: 'probe', match: 0, next: 2, inflight: 0, paused: false } },
      { what: 'probe, an earlier probe at match: stale', pr: () => probing(5, 10), rejected: 5, hint: 1, want: 'stale' },
      { what: 'snapshot: stale (the snapshot has its own answer)', pr: () => snapshotting(5, 9), rejected: 8, hint: 2, want: 'stale' },
    ];
    for (const { what, pr: make, rejected, hint, want } of cases) {
      it(`${what} (rejected ${rejected}, hint ${hint})`, () => {
        const pr = make();
        const before = view(pr);
        assert.equal(pr.maybeDecrTo(rejected, hint), want !== 'stale');
        assert.deepEqual(view(pr), want === 'stale' ? before : want);
      });
    }

    it('a stale rejection leaves a paused probe paused (probeAcked is the caller’s)', () => {
      const pr = probing(0, 10);
      pr.sentAppend(undefined);
      assert.equal(pr.maybeDecrTo(3, 1), false);
      assert.equal(pr.isPaused(), true);
    });
  });

  describe('the tracker', () => {
    it('tracks every peer afresh on reset and forgets them on clear', () => {
      const t = new ProgressTracker(['n2', 'n3'], 2, 4);
      assert.equal(t.get('n2'), undefined, 'nothing before the first reset');
      t.reset(6);
      (t.get('n2') as Progress).maybeUpdate(5);
      t.reset(11);
      for (const p of ['n2', 'n3']) assert.deepEqual(view(t.get(p) as Progress), { state: 'probe', match: 0, next: 11, inflight: 0, paused: false }, p);
      assert.equal(t.get('n1'), undefined, 'not the leader itself');
      t.clear();
      assert.equal(t.get('n2'), undefined);
    });

    const quorumMatches: { members: number; self: number; peers: number[]; want: number }[] = [
      { members: 1, self: 0, peers: [], want: 0 },
      { members: 1, self: 7, peers: [], want: 7 },
      { members: 3, self: 10, peers: [4, 8], want: 8 },
      { members: 3, self: 3, peers: [4, 8], want: 4 },
      { members: 3, self: 9, peers: [9, 0], want: 9 },
      { members: 3, self: 2, peers: [0, 0], want: 0 },
      { members: 5, self: 10, peers: [1, 9, 3, 7], want: 7 },
      { members: 5, self: 0, peers: [6, 6, 6, 0], want: 6 },
      { members: 5, self: 8, peers: [8, 0, 0, 0], want: 0 },
      { members: 5, self: 5, peers: [5, 5, 5, 5], want: 5 },
    ];
    for (const { members, self, peers, want } of quorumMatches) {
      it(`quorum match of ${members}: self ${self}, peers [${peers.join(', ')}] → ${want}`, () => {
        const ids = peers.map((_, i) => `n${i + 2}`);
        const t = new ProgressTracker(ids, Math.floor(members / 2) + 1, 4);
        t.reset(1);
        peers.forEach((match, i) => (t.get(ids[i] as string) as Progress).maybeUpdate(match));
        assert.equal(t.quorumMatch(self), want);
      });
    }

    it('counts peers it does not track as having nothing', () => {
      assert.equal(new ProgressTracker(['n2', 'n3'], 2, 4).quorumMatch(9), 0);
    });

    const actives: { members: number; heard: number; want: boolean }[] = [
      { members: 1, heard: 0, want: true },
      { members: 3, heard: 0, want: false },
      { members: 3, heard: 1, want: true },
      { members: 5, heard: 1, want: false },
      { members: 5, heard: 2, want: true },
      { members: 5, heard: 4, want: true },
    ];
    for (const { members, heard, want } of actives) {
      it(`check-quorum of ${members}: ${heard} peer(s) heard from → ${want ? 'active' : 'not active'}`, () => {
        const ids = Array.from({ length: members - 1 }, (_, i) => `n${i + 2}`);
        const t = new ProgressTracker(ids, Math.floor(members / 2) + 1, 4);
        t.reset(1);
        assert.equal(t.quorumActive(), true, 'every peer counts as heard from by a new leader');
        t.resetActive();
        for (const id of ids.slice(0, heard)) (t.get(id) as Progress).active = true;
        assert.equal(t.quorumActive(), want);
        t.resetActive();
        assert.equal(t.quorumActive(), members === 1, 'a new round starts with no peer heard from');
      });
    }

    it('ticks only the followers waiting for a snapshot', () => {
      const t = new ProgressTracker(['n2', 'n3'], 2, 4);
      t.reset(6);
      const [waiting, probing] = [t.get('n2') as Progress, t.get('n3') as Progress];
      waiting.becomeSnapshot();
      t.tickSnapshots(1);
      assert.equal(waiting.state, 'snapshot');
      t.tickSnapshots(1);
      assert.deepEqual([waiting.state, waiting.next, probing.state, probing.next], ['probe', 1, 'probe', 6]);
    });
  });
});
