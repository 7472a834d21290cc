/** The timeline's lanes, bars and window on hand-built histories. */
import assert from 'node:assert/strict';
import { history as number } from '../support/events.js';
import { pairClientOps } from '../../checkers/perf.js';
import { laneOrder, timelineData } from '../../reports/timeline-data.js';

const MS = 1e6;

describe('reports: timeline data', () => {
  it('orders lanes numerically, then named processes', () => {
    assert.deepEqual(laneOrder([10, 2, 'b', 1, 'a', 2]), ['1', '2', '10', 'a', 'b']);
  });

  it('draws a bar per op from invocation to completion; one that never completed runs to the end as info', () => {
    const history = number([
      { type: 'invoke', f: 'acquire', value: ['l1', null], process: 1, time: 1 * MS },
      { type: 'invoke', f: 'acquire', value: ['l1', null], process: 0, time: 2 * MS },
      { type: 'ok', f: 'acquire', value: ['l1', 7], process: 1, time: 5 * MS, node: 'n2' },
      { type: 'fail', f: 'acquire', value: ['l1', null], process: 0, time: 6 * MS, error: 'conflict' },
      { type: 'invoke', f: 'release', value: ['l1', 7], process: 1, time: 8 * MS },
      { type: 'invoke', f: 'start-partition', value: null, process: 'nemesis', time: 9 * MS },
    ]);
    const t = timelineData(pairClientOps(history), history, 20);
    assert.deepEqual(t.lanes, ['0', '1']);
    assert.deepEqual(t.fs, ['acquire', 'release']);
    assert.deepEqual(t.lane, [1, 0, 1]);
    assert.deepEqual(t.outcome, [0, 1, 2]);
    assert.deepEqual(t.startMs, [1, 2, 8]);
    assert.deepEqual(t.endMs, [5, 6, 20]);
    assert.equal(t.text[0], 'process 1 acquire ["l1" nil] → ok ["l1" 7] via n2');
    assert.equal(t.text[1], 'process 0 acquire ["l1" nil] → fail ["l1" nil] ("conflict")');
    assert.equal(t.text[2], 'process 1 release ["l1" 7] → no completion (info)');
    assert.deepEqual(t.window, { startMs: 0, endMs: 20, shown: 3, total: 3 });
  });

  it('keeps a window of consecutive ops centred on the focus, clamped to the ends of the run', () => {
    const history = number(
      Array.from({ length: 100 }, (_, i) => [
        { type: 'invoke' as const, f: 'read', value: null, process: i % 3, time: i * 10 * MS },
        { type: 'ok' as const, f: 'read', value: i, process: i % 3, time: (i * 10 + 5) * MS },
      ]).flat(),
    );
    const ops = pairClientOps(history);
    const mid = timelineData(ops, history, 1000, { maxOps: 10, focusMs: 500 });
    assert.deepEqual(mid.startMs, [450, 460, 470, 480, 490, 500, 510, 520, 530, 540]);
    assert.deepEqual(mid.window, { startMs: 450, endMs: 540, shown: 10, total: 100 });
    const end = timelineData(ops, history, 1000, { maxOps: 10, focusMs: 5000 });
    assert.deepEqual(end.startMs.slice(-1), [990]);
    assert.equal(end.window.endMs, 1000, 'the last window reaches the end of the run');
    const start = timelineData(ops, history, 1000, { maxOps: 10 });
    assert.equal(start.window.startMs, 0);
    assert.deepEqual(start.startMs.slice(0, 1), [0]);
  });
});
