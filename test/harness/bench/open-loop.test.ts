/**
 * The open-loop generator of `dsync bench compare` with fake ops: the seeded Poisson schedule,
 * latency from the scheduled time (a slow system is charged for the wait it causes: no
 * coordinated omission), deadlines, errors, the in-flight bound, ticks and the per-op records.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventually } from '../../support/eventually.js';
import { poissonSchedule, probeCapacity, runOpenLoop } from '../../../harness/bench/open-loop.js';

describe('harness/bench/open-loop: the open-loop generator', () => {
  it('makes the same Poisson schedule from the same seed, at the asked rate, inside the duration', () => {
    const a = poissonSchedule(1000, 10_000, 7);
    const b = poissonSchedule(1000, 10_000, 7);
    const c = poissonSchedule(1000, 10_000, 8);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a.slice(0, 20), c.slice(0, 20));
    // 10,000 expected; a Poisson count has σ = 100.
    assert.ok(Math.abs(a.length - 10_000) < 500, `${a.length} ops`);
    for (let i = 1; i < a.length; i++) assert.ok((a[i] as number) >= (a[i - 1] as number));
    assert.ok((a.at(-1) as number) < 10_000);
    assert.equal(poissonSchedule(1000, 10_000, 7, 123).length, 123);
    assert.throws(() => poissonSchedule(0, 1000, 1), /rate must be a positive/);
    assert.throws(() => poissonSchedule(10, -1, 1), /duration must be positive/);
  });

  it('measures from the scheduled time: ops a slow system holds up are charged for the wait', async () => {
    // One op at a time, 20 ms each, offered 200/s for 0.5 s: about 100 ops that need 2 s in series.
    let inFlight = 0;
    let most = 0;
    const r = await runOpenLoop(
      async () => {
        inFlight++;
        most = Math.max(most, inFlight);
        await sleep(20);
        inFlight--;
      },
      { ratePerSec: 200, durationMs: 500, seed: 3, deadlineMs: 30_000, maxInFlight: 1 },
    );
    assert.equal(most, 1, 'never more than maxInFlight ops in flight');
    assert.equal(r.ok, r.scheduled);
    assert.equal(r.sent, r.scheduled);
    // A closed-loop view would say ~20 ms; from the schedule the late ops waited ~1.5 s.
    assert.ok((r.latency.p99Ms as number) > 1000, `p99 ${r.latency.p99Ms} ms`);
    assert.ok((r.latency.p50Ms as number) > 200, `p50 ${r.latency.p50Ms} ms`);
    // The bound held them back, not the generator: counted apart from its own lateness.
    assert.ok(r.generator.heldByBound > r.scheduled / 2, `${r.generator.heldByBound} of ${r.scheduled} ops held by the in-flight bound`);
    assert.ok((r.generator.sendGapMaxMs ?? 0) < 1000, 'ops the bound did not hold were sent on time');
    assert.equal(r.percentiles.at(-1)?.[0], 100);
    assert.ok(r.percentiles.every(([, ms], i) => i === 0 || ms >= (r.percentiles[i - 1] as readonly [number, number])[1]));
  });

  it('fails ops that error or answer after the deadline, and keeps the first error', async () => {
    const r = await runOpenLoop(
      async (seq) => {
        if (seq % 4 === 1) throw new Error(`planted failure ${seq}`);
        if (seq % 4 === 2) await sleep(300);
      },
      { ratePerSec: 100, durationMs: 400, seed: 5, deadlineMs: 150, keepOps: true, bucketMs: 100 },
    );
    const ops = r.ops;
    assert.ok(ops !== undefined);
    let expectOk = 0;
    for (let seq = 0; seq < r.scheduled; seq++) {
      const good = seq % 4 === 0 || seq % 4 === 3;
      if (good) expectOk++;
      assert.equal(ops.ok[seq], good ? 1 : 0, `op ${seq}`);
    }
    assert.equal(r.ok, expectOk);
    assert.equal(r.failed, r.scheduled - expectOk);
    assert.match(r.firstError ?? '', /planted failure 1|deadline/);
    assert.equal(r.timeline.length, 4);
    assert.equal(r.timeline.reduce((s, b) => s + b.ok, 0), r.ok);
    assert.equal(r.timeline.reduce((s, b) => s + b.failed, 0), r.failed);
    // The run did not wait for the 300 ms ops past their deadline beyond one deadline after the last op.
    for (let seq = 0; seq < r.scheduled; seq++) if (ops.ok[seq] === 1) assert.ok((ops.answeredMs[seq] as number) >= (ops.scheduledMs[seq] as number));
  });

  it('tells a retrying op when it has expired, and ends one deadline after the last scheduled op', async () => {
    let expiredSeen = 0;
    const started = performance.now();
    const r = await runOpenLoop(
      async (_seq, expired) => {
        while (!expired()) await sleep(5);
        expiredSeen++;
        throw new Error('gave up');
      },
      { ratePerSec: 50, durationMs: 200, seed: 9, deadlineMs: 100 },
    );
    assert.ok(performance.now() - started < 200 + 100 + 1000, 'the run ended near its last deadline');
    assert.equal(r.ok, 0);
    // The run does not wait for ops it no longer counts; each of them sees expired() and stops.
    await eventually('every op saw expired()', () => expiredSeen === r.scheduled, 2000);
  });

  it('calls onTick every bucket, so a fault can be placed in the middle of a run', async () => {
    const ticks: number[] = [];
    await runOpenLoop(async () => undefined, { ratePerSec: 100, durationMs: 500, seed: 1, deadlineMs: 1000, bucketMs: 100, onTick: (t) => ticks.push(t) });
    assert.deepEqual(ticks.slice(0, 5), [0, 100, 200, 300, 400]);
  });

  it('probes capacity with closed-loop workers', async () => {
    const p = await probeCapacity(async (seq) => {
      await sleep(10);
      if (seq === 3) throw new Error('one failure');
    }, { concurrency: 4, durationMs: 300 });
    assert.ok(p.okPerSec > 0 && p.okPerSec <= 4 * 100, `${p.okPerSec} ok/s: at most 4 workers × 100/s`);
    assert.equal(p.errors, 1);
    assert.equal(p.firstError, 'one failure');
  });
});
