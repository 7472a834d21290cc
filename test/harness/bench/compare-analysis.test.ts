/**
 * What `dsync bench compare` makes of its measurements: rates, knees, the common rate, the cost
 * per ok op, a fault run's availability and recovery, and the summary.
 */
import assert from 'node:assert/strict';
import { commonRate, costPerOp, faultMetrics, kneeOf, roundRate, stepRates, summarize } from '../../../harness/bench/compare-analysis.js';
import type { CurveRow } from '../../../harness/bench/compare-results.js';
import type { OpRecords } from '../../../harness/bench/open-loop.js';

/** A curve row with only what the analysis reads set to something meaningful. */
function row(service: CurveRow['service'], nodes: number, offered: number, okShare: number, p99: number | null, cpuS: number | null = null): CurveRow {
  const scheduled = offered * 5;
  const ok = Math.round(scheduled * okShare);
  return {
    service,
    nodes,
    offeredPerSec: offered,
    durationS: 5,
    scheduled,
    sent: scheduled,
    ok,
    failed: scheduled - ok,
    okPerSec: ok / 5,
    latency: { p50Ms: p99 === null ? null : p99 / 4, p90Ms: p99, p99Ms: p99, p999Ms: p99, maxMs: p99 },
    percentiles: [],
    cost: costPerOp([{ node: 'n1', cpuS, bytesIn: 1000, bytesOut: 1000, fsyncs: 10 }], ok),
    generator: { cpuS: 1, cpuShare: 0.2, sendGapP50Ms: 0.01, sendGapP99Ms: 0.5, sendGapMaxMs: 1, heldByBound: 0 },
  };
}

/** Op records of a run: `ops` as [scheduled, answered or NaN, ok]. */
function records(ops: readonly (readonly [number, number, boolean])[]): OpRecords {
  return { scheduledMs: Float64Array.from(ops.map((o) => o[0])), answeredMs: Float64Array.from(ops.map((o) => o[1])), ok: Uint8Array.from(ops.map((o) => (o[2] ? 1 : 0))) };
}

describe('harness/bench/compare-analysis', () => {
  it('places ten rates up to 1.2× the saturation, rounded to two digits', () => {
    assert.deepEqual(stepRates(1000), [120, 240, 360, 480, 600, 720, 840, 960, 1100, 1200]);
    assert.deepEqual(stepRates(0), []);
    assert.equal(roundRate(1234), 1200);
    assert.equal(roundRate(0.4), 1);
    assert.equal(roundRate(87), 87);
    // Tiny saturations give fewer, distinct rates.
    assert.deepEqual(stepRates(2), [1, 2]);
  });

  it('takes the knee at the highest rate answered ≥ 95 % ok within the p99 bound', () => {
    const rows = [row('lock', 1, 100, 1, 10), row('lock', 1, 200, 1, 50), row('lock', 1, 300, 0.9, 60), row('lock', 1, 400, 1, 500), row('lock', 3, 100, 1, 150)];
    assert.deepEqual(kneeOf('lock', 1, rows, 100), { service: 'lock', nodes: 1, offeredPerSec: 200, okPerSec: 200, p99Ms: 50 });
    assert.equal(kneeOf('lock', 3, rows, 100).offeredPerSec, null, 'no rate of 3 nodes within the bound');
    assert.equal(kneeOf('lock', 3, rows, 200).offeredPerSec, 100);
  });

  it('plots percentiles at the highest rate every size sustained, else at the lowest shared rate', () => {
    const rows = [row('queue', 1, 100, 1, 10), row('queue', 1, 200, 1, 20), row('queue', 3, 100, 1, 30), row('queue', 3, 200, 1, 300)];
    assert.equal(commonRate('queue', [1, 3], rows, 100), 100);
    assert.equal(commonRate('queue', [1, 3], rows, 1000), 200);
    assert.equal(commonRate('queue', [1, 3], rows, 1), 100, 'none sustained: the lowest shared rate');
    assert.equal(commonRate('queue', [1, 5], rows, 100), undefined, 'no rate shared');
  });

  it('divides each node’s cost by the ok ops, and says null when a node could not be read', () => {
    const c = costPerOp(
      [
        { node: 'n1', cpuS: 2, bytesIn: 600, bytesOut: 400, fsyncs: 30 },
        { node: 'n2', cpuS: 1, bytesIn: 300, bytesOut: 200, fsyncs: 20 },
      ],
      100,
    );
    assert.equal(c.cpuSPerOk, 0.03);
    assert.equal(c.maxNodeCpuSPerOk, 0.02);
    assert.equal(c.bytesPerOk, 15);
    assert.equal(c.fsyncsPerOk, 0.5);
    const gone = costPerOp([{ node: 'n1', cpuS: null, bytesIn: 1, bytesOut: 1, fsyncs: null }], 10);
    assert.equal(gone.cpuSPerOk, null);
    assert.equal(gone.maxNodeCpuSPerOk, null);
    assert.equal(gone.fsyncsPerOk, null);
    assert.equal(costPerOp([{ node: 'n1', cpuS: 1, bytesIn: 1, bytesOut: 1, fsyncs: 1 }], 0).cpuSPerOk, null, 'no ok op: no cost per op');
  });

  it('measures availability during the fault, the first ok after it, and the way back to steady throughput', () => {
    // 100 ops/s for 9 s, answered 5 ms after their time; the fault from 3 s to 6 s: nothing answered
    // until 7 s, when the backlog of the last second comes at once; steady from then on.
    const ops: [number, number, boolean][] = [];
    for (let t = 0; t < 9000; t += 10) {
      if (t < 3000 || t >= 7000) ops.push([t, t + 5, true]);
      else if (t >= 6000) ops.push([t, 7000, true]); // scheduled after the heal, answered when the node is back
      else ops.push([t, NaN, false]);
    }
    const m = faultMetrics(records(ops), 3000, 6000);
    assert.equal(Math.round(m.baselineOkPerSec), 100);
    assert.equal(m.availability, 0);
    assert.equal(m.firstOkAfterFaultMs, 4000);
    // Windows start at the first answer after the heal (7 s): the backlog's burst at 6.x s does not count early.
    assert.equal(m.steadyAfterHealMs, 1000);

    // No fault effect: everything answered.
    const clean: [number, number, boolean][] = [];
    for (let t = 0; t < 9000; t += 10) clean.push([t, t + 5, true]);
    const c = faultMetrics(records(clean), 3000, 6000);
    assert.equal(c.availability, 1);
    assert.equal(c.firstOkAfterFaultMs, 5);
    assert.equal(c.steadyAfterHealMs, 5);

    // Never back.
    const dead = faultMetrics(records(clean.map(([s, a]) => [s, a, s < 3000] as [number, number, boolean])), 3000, 6000);
    assert.equal(dead.firstOkAfterFaultMs, null);
    assert.equal(dead.steadyAfterHealMs, null);
    assert.equal(dead.availability, 0);
  });

  it('summarizes each larger size against the smallest: share of knee throughput, p99 and CPU multiples, and availability', () => {
    const curves = [row('lock', 1, 100, 1, 10, 0.5), row('lock', 1, 200, 1, 20, 0.8), row('lock', 3, 100, 1, 30, 1.5), row('lock', 3, 200, 1, 300, 2)];
    const knees = [kneeOf('lock', 1, curves, 100), kneeOf('lock', 3, curves, 100)];
    const lines = summarize({
      services: ['lock'],
      sizes: [3, 1],
      curves,
      knees,
      commonRate: { lock: 100 },
      faults: [
        { service: 'lock', nodes: 1, fault: 'kill-leader', availability: 0.02, firstOkAfterFaultMs: 4000 },
        { service: 'lock', nodes: 3, fault: 'kill-leader', availability: 0.97, firstOkAfterFaultMs: 300 },
      ],
    });
    assert.equal(lines[0], "lock: 3 nodes reach 50 % of 1 node's knee throughput (100 vs 200 ok/s), at 3.0× the p99 at 100 ops/s (30.0 vs 10.0 ms), using 3.0× the CPU per ok op (3.00 vs 1.00 ms).");
    assert.equal(lines[1], 'lock under kill-leader: available 1 node 2 %, 3 nodes 97 % of the ops scheduled during the fault.');
  });
});
