import assert from 'node:assert/strict';
import { longestNoOk } from '../../checkers/availability.js';
import { perfStats } from '../../checkers/perf.js';
import type { OpType, ProcessId } from '../../checkers/history/op.js';
import { majoritiesRing } from '../../nemesis/topology.js';
import { history, type Event } from '../support/events.js';

const MS = 1e6;
const S = 1e9;

const ev = (type: OpType, process: ProcessId, f: string, time: number, extra: Record<string, unknown> = {}): Event => ({ type, f, value: null, process, time, ...extra });
/** A client invocation at `time` of the open-loop slot `scheduled`. */
const invoke = (process: number, time: number, scheduled: number): Event => ev('invoke', process, 'acquire', time, { scheduledTime: scheduled });
const ok = (process: number, time: number): Event => ev('ok', process, 'acquire', time);
/** A nemesis op: its invocation and its (`info`) completion with `value` at `time`. */
const nemesis = (f: string, time: number, value: unknown = null): Event[] => [ev('invoke', 'nemesis', f, time), { ...ev('info', 'nemesis', f, time), value }];

describe('availability by scheduled time', () => {
  describe('a majorities-ring partition on 3 nodes, in which no ok was possible', () => {
    // Slots every 100 ms (rate 10/s) from 0 s; two client processes. The partition lasts from 1 s
    // to 3 s; the two ops invoked in it block until the cluster serves again at 4.5 s, and the
    // backlog of slots 1.2 … 2.9 s goes out after that, each answered in 5 ms.
    const partition = majoritiesRing(['n1', 'n2', 'n3'], () => 0.5);
    const events: Event[] = [];
    for (let i = 0; i < 10; i++) events.push(invoke(i % 2, i * 100 * MS, i * 100 * MS), ok(i % 2, i * 100 * MS + 5 * MS));
    events.push(...nemesis('start-partition', 1 * S, { topology: partition.topology, cuts: partition.cuts.map((l) => [l.from, l.to]) }));
    events.push(invoke(0, 1.0 * S, 1.0 * S), invoke(1, 1.1 * S, 1.1 * S));
    events.push(...nemesis('stop-partition', 3 * S, { topology: partition.topology, cuts: [] }));
    events.push(ok(0, 4.5 * S), ok(1, 4.5 * S + 1 * MS));
    let t = 4.5 * S + 2 * MS;
    for (let slot = 12; slot < 30; slot++) {
      events.push(invoke(slot % 2, t, slot * 100 * MS), ok(slot % 2, t + 5 * MS));
      t += 6 * MS;
    }
    const s = perfStats(history(events));

    it('labels the window with its topology', () => {
      assert.deepEqual(s.faultWindows, [{ kind: 'partition', label: 'majorities-ring', startNs: 1 * S, endNs: 3 * S }]);
    });

    it('gives the window an availability of 0 %: 20 ops scheduled in it, none answered within 1 s', () => {
      // Counted by invoke time, these would be the 2 ops invoked in the window, both ok: 100 %.
      assert.deepEqual(s.availability.inFaults, { ok: 0, total: 20, ratio: 0 });
      assert.deepEqual(s.availability.outsideFaults, { ok: 10, total: 10, ratio: 1 });
      assert.deepEqual(s.availability.windows[0]?.ops, { ok: 0, total: 20, ratio: 0 });
    });

    it('finds no ok in the whole window', () => {
      assert.deepEqual(s.availability.windows[0]?.longestNoOk, { startNs: 1 * S, endNs: 3 * S, ms: 2000 });
    });
  });

  describe('the deadline', () => {
    // A window from 1 s to 2 s; ops scheduled in it answered 0.5 s, 1 s and 1.5 s after their slot.
    const events = [
      ...nemesis('start-kill', 1 * S, ['n2']),
      invoke(1, 1.1 * S, 1.1 * S),
      invoke(2, 1.5 * S, 1.2 * S),
      invoke(3, 1.8 * S, 1.3 * S),
      ok(1, 1.6 * S),
      ...nemesis('stop-kill', 2 * S, ['n2']),
      ok(2, 2.2 * S),
      ok(3, 2.8 * S),
    ];

    it('counts an op ok within the deadline of its scheduled time, also when the answer came after the window', () => {
      const s = perfStats(history(events));
      assert.equal(s.availability.deadlineMs, 1000);
      assert.deepEqual(s.availability.windows[0]?.ops, { ok: 2, total: 3, ratio: 2 / 3 });
      assert.equal(s.faultWindows[0]?.label, 'n2');
    });

    it('takes the deadline as an option and records it', () => {
      const s = perfStats(history(events), { availabilityDeadlineMs: 600 });
      assert.equal(s.availability.deadlineMs, 600);
      assert.deepEqual(s.availability.windows[0]?.ops, { ok: 1, total: 3, ratio: 1 / 3 });
      assert.deepEqual(s.availability.inFaults, { ok: 1, total: 3, ratio: 1 / 3 });
    });

    it('rejects a deadline that is not a positive number', () => {
      for (const bad of [0, -1, Number.NaN, Infinity]) {
        assert.throws(() => perfStats(history(events), { availabilityDeadlineMs: bad }), (e: unknown) => e instanceof TypeError && /availabilityDeadlineMs/.test(e.message));
      }
    });
  });

  describe('the longest stretch without an ok', () => {
    it('is the longest of: start to the first ok, between oks, the last ok to the end', () => {
      assert.deepEqual(longestNoOk([0.5 * S, 1.5 * S, 2 * S, 4.2 * S, 6 * S], 1 * S, 5 * S), { startNs: 2 * S, endNs: 4.2 * S, ms: 2200 });
      assert.deepEqual(longestNoOk([1.2 * S, 1.4 * S], 1 * S, 5 * S), { startNs: 1.4 * S, endNs: 5 * S, ms: 3600 });
      assert.deepEqual(longestNoOk([3.5 * S], 1 * S, 5 * S), { startNs: 1 * S, endNs: 3.5 * S, ms: 2500 });
    });

    it('is the whole window when no ok falls in it, and 0 for an empty window', () => {
      assert.deepEqual(longestNoOk([0.5 * S, 6 * S], 1 * S, 5 * S), { startNs: 1 * S, endNs: 5 * S, ms: 4000 });
      assert.deepEqual(longestNoOk([], 1 * S, 1 * S), { startNs: 1 * S, endNs: 1 * S, ms: 0 });
    });

    it('counts ok completions of any op, wherever it was scheduled, and clips an unclosed window at the last event', () => {
      const s = perfStats(
        history(
          invoke(1, 0, 0),
          ...nemesis('start-pause', 1 * S, ['n1', 'n3']),
          ok(1, 1.4 * S), // scheduled before the window
          invoke(1, 2 * S, 2 * S),
          ok(1, 2.1 * S),
          invoke(2, 4 * S, 4 * S), // the last event; the pause never ends
        ),
      );
      assert.equal(s.faultWindows[0]?.label, 'n1 n3');
      assert.deepEqual(s.availability.windows[0]?.longestNoOk, { startNs: 2.1 * S, endNs: 4 * S, ms: 1900 });
      assert.deepEqual(s.availability.windows[0]?.ops, { ok: 1, total: 2, ratio: 0.5 });
    });
  });
});
