import assert from 'node:assert/strict';
import { AVAILABILITY_DEADLINE_MS, perfStats } from '../../checkers/perf.js';
import type { OpType, ProcessId } from '../../checkers/history/op.js';
import { history, type Event } from '../support/events.js';

const MS = 1e6;
const S = 1e9;

const ev = (type: OpType, process: ProcessId, f: string, time: number, extra: Record<string, unknown> = {}): Event => ({
  type,
  f,
  value: null,
  process,
  time,
  ...extra,
});
const invoke = (process: ProcessId, f: string, time: number, extra?: Record<string, unknown>): Event => ev('invoke', process, f, time, extra);
/** A nemesis op: its invocation and its (`info`) completion at `time`. */
const nemesis = (f: string, time: number): Event[] => [ev('invoke', 'nemesis', f, time), ev('info', 'nemesis', f, time)];

/** Asserts that an HDR percentile is within its 3-significant-digit precision of `expected`. */
const near = (actual: number, expected: number): void =>
  assert.ok(Math.abs(actual - expected) <= expected * 0.001 + 0.001, `${actual} is not ≈ ${expected}`);

describe('perf statistics', () => {
  describe('latency', () => {
    it('gives percentiles of a known latency set within HDR precision, max and mean exactly', () => {
      const ops: Event[] = [];
      for (let i = 1; i <= 100; i++) ops.push(invoke(i, 'read', 0));
      for (let i = 1; i <= 100; i++) ops.push(ev('ok', i, 'read', i * MS));
      const lat = perfStats(history(ops)).total.okLatency;
      assert.ok(lat);
      assert.equal(lat.count, 100);
      near(lat.p50Ms, 50);
      near(lat.p95Ms, 95);
      near(lat.p99Ms, 99);
      assert.equal(lat.maxMs, 100);
      assert.equal(lat.meanMs, 50.5);
    });

    it('measures from scheduledTime when the invocation has one, else from its time', () => {
      const s = perfStats(
        history(
          invoke(1, 'write', 10 * MS, { scheduledTime: 0 }),
          ev('ok', 1, 'write', 15 * MS),
          invoke(2, 'read', 10 * MS),
          ev('ok', 2, 'read', 15 * MS),
        ),
      );
      assert.deepEqual(
        s.ops.map((o) => [o.f, o.okLatency?.maxMs]),
        [
          ['read', 5],
          ['write', 15],
        ],
      );
    });

    it('measures service time from the invocation, beside latency from the scheduled time', () => {
      // 100 ops scheduled at 0, invoked i ms later (waiting for a free client), each served in i ms.
      const ops: Event[] = [];
      for (let i = 1; i <= 100; i++) ops.push(invoke(i, 'read', i * MS, { scheduledTime: 0 }));
      for (let i = 1; i <= 100; i++) ops.push(ev(i % 10 === 0 ? 'fail' : 'ok', i, 'read', 2 * i * MS));
      const s = perfStats(history(ops));
      const read = s.ops.find((o) => o.f === 'read');
      assert.ok(read?.serviceTime && read.okServiceTime && read.latency);
      assert.equal(read.serviceTime.count, 100);
      near(read.serviceTime.p50Ms, 50);
      near(read.serviceTime.p99Ms, 99);
      assert.equal(read.serviceTime.maxMs, 100);
      assert.equal(read.serviceTime.meanMs, 50.5);
      near(read.latency.p50Ms, 100);
      assert.equal(read.latency.maxMs, 200);
      // ok only: the 90 ops whose i is not a multiple of 10.
      assert.equal(read.okServiceTime.count, 90);
      assert.equal(read.okServiceTime.maxMs, 99);
      assert.deepEqual(s.total.okServiceTime, read.okServiceTime);
    });

    it('gives no service time to an op without a completion', () => {
      const s = perfStats(history(invoke(1, 'read', 1 * MS, { scheduledTime: 0 })));
      assert.equal(s.total.serviceTime, null);
      assert.equal(s.total.okServiceTime, null);
    });

    it('rounds to 0.001 ms', () => {
      const s = perfStats(history(invoke(1, 'read', 0), ev('ok', 1, 'read', 1_234_567)));
      assert.equal(s.total.okLatency?.maxMs, 1.235);
      assert.equal(s.total.okLatency?.meanMs, 1.235);
    });
  });

  describe('per-function counts', () => {
    const s = perfStats(
      history(
        invoke(1, 'write', 0),
        invoke(2, 'read', 0),
        invoke(3, 'read', 0),
        nemesis('start-kill', 1 * MS),
        ev('ok', 2, 'read', 2 * MS),
        ev('fail', 3, 'read', 4 * MS),
        ev('ok', 1, 'write', 6 * MS),
        invoke(2, 'read', 6 * MS),
        ev('info', 2, 'read', 14 * MS),
        invoke(3, 'cas', 20 * MS), // never completes
      ),
    );

    it('counts ok, fail, info and uncompleted invocations (as info), sorted by f', () => {
      assert.deepEqual(
        s.ops.map(({ f, count, ok, fail, info }) => ({ f, count, ok, fail, info })),
        [
          { f: 'cas', count: 1, ok: 0, fail: 0, info: 1 },
          { f: 'read', count: 3, ok: 1, fail: 1, info: 1 },
          { f: 'write', count: 1, ok: 1, fail: 0, info: 0 },
        ],
      );
      assert.deepEqual(
        { ...s.total, okLatency: undefined, latency: undefined, okServiceTime: undefined, serviceTime: undefined },
        { ...{ f: '*', count: 5, ok: 2, fail: 1, info: 2 }, okLatency: undefined, latency: undefined, okServiceTime: undefined, serviceTime: undefined },
      );
    });

    it('takes ok latency over ok completions and latency over all completions', () => {
      const read = s.ops.find((o) => o.f === 'read');
      assert.equal(read?.okLatency?.count, 1);
      assert.equal(read?.okLatency?.maxMs, 2);
      assert.equal(read?.latency?.count, 3);
      assert.equal(read?.latency?.maxMs, 8);
      assert.equal(read?.latency?.meanMs, 4.667);
      assert.equal(s.ops.find((o) => o.f === 'cas')?.latency, null);
      assert.equal(s.total.latency?.count, 4);
    });

    it('skips unmatched completions and a completion of another function, without throwing', () => {
      const odd = perfStats(
        history(
          ev('ok', 7, 'read', 0),
          invoke(1, 'read', 1 * MS),
          ev('ok', 1, 'write', 2 * MS),
          ev('ok', 1, 'read', 3 * MS),
          ev('ok', 1, 'read', 4 * MS),
          invoke(2, 'read', 5 * MS),
          invoke(2, 'read', 6 * MS), // the first is left uncompleted
          ev('fail', 2, 'read', 7 * MS),
          ev('info', 'nemesis', 'stop-kill', 8 * MS),
        ),
      );
      assert.deepEqual(
        odd.ops.map(({ f, count, ok, fail, info }) => ({ f, count, ok, fail, info })),
        [{ f: 'read', count: 3, ok: 1, fail: 1, info: 1 }],
      );
      assert.equal(odd.total.okLatency?.maxMs, 2);
      assert.deepEqual(odd.faultWindows, []);
    });
  });

  describe('throughput', () => {
    it('counts completions per whole second from 0 to the end, empty seconds included', () => {
      const s = perfStats(
        history(
          invoke(1, 'read', 0.2 * S),
          invoke(2, 'read', 0.3 * S),
          ev('ok', 1, 'read', 0.5 * S),
          ev('fail', 2, 'read', 0.7 * S),
          invoke(1, 'read', 0.9 * S),
          ev('info', 1, 'read', 2.2 * S),
          invoke(1, 'read', 2.5 * S),
          ev('ok', 1, 'read', 3 * S),
          invoke(2, 'read', 3.1 * S), // never completes: not in any second
        ),
      );
      assert.deepEqual(s.throughput, [
        { second: 0, ok: 1, fail: 1, info: 0 },
        { second: 1, ok: 0, fail: 0, info: 0 },
        { second: 2, ok: 0, fail: 0, info: 1 },
        { second: 3, ok: 1, fail: 0, info: 0 },
      ]);
      assert.equal(s.durationS, 2.9);
    });
  });

  describe('fault windows and availability', () => {
    const s = perfStats(
      history(
        invoke(1, 'read', 0.5 * S),
        ev('ok', 1, 'read', 0.6 * S),
        nemesis('start-partition', 1 * S),
        nemesis('start-kill', 2 * S),
        invoke(1, 'read', 2.5 * S),
        ev('fail', 1, 'read', 2.6 * S),
        nemesis('stop-partition', 3 * S),
        nemesis('start-pause', 4 * S),
        invoke(1, 'read', 4.5 * S),
        ev('ok', 1, 'read', 4.6 * S),
        nemesis('heal', 5 * S),
        invoke(1, 'read', 5 * S),
        ev('ok', 1, 'read', 5.2 * S),
        nemesis('start-latency', 6 * S),
        invoke(1, 'read', 6.5 * S),
        ev('info', 1, 'read', 6.9 * S),
        invoke(2, 'read', 7 * S), // at the last event, still inside the unclosed latency window
      ),
    );

    it('opens windows at start completions and closes them at stops, a heal or the end', () => {
      assert.deepEqual(s.faultWindows, [
        { kind: 'partition', label: '', startNs: 1 * S, endNs: 3 * S },
        { kind: 'kill', label: '', startNs: 2 * S, endNs: 5 * S },
        { kind: 'pause', label: '', startNs: 4 * S, endNs: 5 * S },
        { kind: 'latency', label: '', startNs: 6 * S, endNs: 7 * S },
      ]);
    });

    it('splits client ops by scheduled time into inside and outside the union of windows', () => {
      const { inFaults, outsideFaults, deadlineMs } = s.availability;
      assert.deepEqual(
        { inFaults, outsideFaults, deadlineMs },
        { inFaults: { ok: 1, total: 4, ratio: 1 / 4 }, outsideFaults: { ok: 2, total: 2, ratio: 1 }, deadlineMs: AVAILABILITY_DEADLINE_MS },
      );
    });

    it('ignores nemesis ops in the client statistics', () => {
      assert.equal(s.total.count, 6);
      assert.deepEqual(
        s.ops.map((o) => o.f),
        ['read'],
      );
    });

    it('does not open a window on a failed start nor close one on an unmatched stop', () => {
      const w = perfStats(
        history(
          ev('invoke', 'nemesis', 'start-partition', 1 * S),
          ev('fail', 'nemesis', 'start-partition', 1 * S),
          nemesis('start-kill', 2 * S),
          nemesis('start-kill', 3 * S),
          nemesis('stop-pause', 4 * S),
          nemesis('stop-kill', 5 * S),
          nemesis('stop-kill', 6 * S),
        ),
      );
      assert.deepEqual(w.faultWindows, [{ kind: 'kill', label: '', startNs: 2 * S, endNs: 5 * S }]);
      assert.equal(w.finalHealNs, null);
    });
  });

  describe('recovery after the final heal', () => {
    it('is the time from the last heal to the first client ok after it', () => {
      const s = perfStats(
        history(
          nemesis('start-partition', 1 * S),
          nemesis('heal', 2 * S),
          invoke(1, 'read', 2.1 * S),
          ev('ok', 1, 'read', 2.2 * S),
          nemesis('start-kill', 3 * S),
          invoke(1, 'read', 3.5 * S),
          nemesis('heal', 4 * S),
          ev('fail', 1, 'read', 4.1 * S),
          invoke(1, 'read', 4.2 * S),
          ev('ok', 1, 'read', 4.25 * S),
        ),
      );
      assert.equal(s.finalHealNs, 4 * S);
      assert.equal(s.recoveryMs, 250);
    });

    it('starts the final phase at the first client invocation after the final heal', () => {
      const s = perfStats(
        history(
          invoke(1, 'read', 1 * S),
          nemesis('heal', 2 * S),
          ev('ok', 1, 'read', 2.5 * S),
          invoke(2, 'read', 3 * S, { scheduledTime: 2.9 * S }),
          ev('ok', 2, 'read', 3.1 * S),
        ),
      );
      assert.equal(s.finalHealNs, 2 * S);
      assert.equal(s.finalPhaseStartNs, 3 * S);
    });

    it('is null when no ok follows the final heal', () => {
      const s = perfStats(history(invoke(1, 'read', 0), ev('ok', 1, 'read', 1 * MS), nemesis('heal', 2 * S), invoke(1, 'read', 3 * S)));
      assert.equal(s.finalHealNs, 2 * S);
      assert.equal(s.recoveryMs, null);
    });

    it('has no final heal when the last heal never completed', () => {
      const s = perfStats(
        history(nemesis('heal', 1 * S), ev('invoke', 'nemesis', 'heal', 2 * S), invoke(1, 'read', 3 * S), ev('ok', 1, 'read', 4 * S)),
      );
      assert.equal(s.finalHealNs, null);
      assert.equal(s.recoveryMs, null);
    });
  });

  it('describes an empty history with zeros and nulls', () => {
    const empty = { f: '*', count: 0, ok: 0, fail: 0, info: 0, okLatency: null, latency: null, okServiceTime: null, serviceTime: null };
    assert.deepEqual(perfStats([]), {
      durationS: 0,
      ops: [],
      total: empty,
      throughput: [],
      faultWindows: [],
      availability: { deadlineMs: 1000, inFaults: { ok: 0, total: 0, ratio: null }, outsideFaults: { ok: 0, total: 0, ratio: null }, windows: [] },
      finalHealNs: null,
      finalPhaseStartNs: null,
      recoveryMs: null,
    });
  });
});
