import assert from 'node:assert/strict';
import { countEvent, ProgressLine, type OpCounts } from '../../harness/progress.js';
import type { Op, OpType, ProcessId } from '../../checkers/index.js';

const op = (index: number, type: OpType, process: ProcessId, f = 'acquire'): Op => ({ index, type, f, value: null, process });
const zero = (): OpCounts => ({ ok: 0, fail: 0, info: 0, nemesis: 0 });

/** Longer than any test: the timer never fires on its own. */
const NEVER = 3_600_000;

describe('harness/progress', () => {
  describe('countEvent', () => {
    const cases: { what: string; events: [OpType, ProcessId][]; counts: OpCounts }[] = [
      { what: 'nothing', events: [], counts: zero() },
      { what: 'client invocations are not counted', events: [['invoke', 0], ['invoke', 1], ['invoke', 7]], counts: zero() },
      { what: 'an ok completion', events: [['invoke', 0], ['ok', 0]], counts: { ok: 1, fail: 0, info: 0, nemesis: 0 } },
      { what: 'a fail completion', events: [['invoke', 0], ['fail', 0]], counts: { ok: 0, fail: 1, info: 0, nemesis: 0 } },
      { what: 'an info completion', events: [['invoke', 3], ['info', 3]], counts: { ok: 0, fail: 0, info: 1, nemesis: 0 } },
      {
        what: 'nemesis invocations only, not their completions',
        events: [['invoke', 'nemesis'], ['info', 'nemesis'], ['invoke', 'nemesis'], ['ok', 'nemesis'], ['fail', 'nemesis']],
        counts: { ok: 0, fail: 0, info: 0, nemesis: 2 },
      },
      {
        what: 'a mix',
        events: [
          ['invoke', 0],
          ['invoke', 1],
          ['invoke', 'nemesis'],
          ['ok', 0],
          ['info', 'nemesis'],
          ['fail', 1],
          ['invoke', 0],
          ['info', 0],
          ['invoke', 1],
          ['ok', 1],
        ],
        counts: { ok: 2, fail: 1, info: 1, nemesis: 1 },
      },
    ];
    for (const c of cases) {
      it(c.what, () => {
        const counts = zero();
        c.events.forEach(([type, process], i) => countEvent(counts, op(i, type, process)));
        assert.deepEqual(counts, c.counts);
      });
    }

    it('adds to the counts it is given', () => {
      const counts: OpCounts = { ok: 10, fail: 20, info: 30, nemesis: 40 };
      countEvent(counts, op(0, 'ok', 2));
      countEvent(counts, op(1, 'invoke', 'nemesis', 'start-partition'));
      assert.deepEqual(counts, { ok: 11, fail: 20, info: 30, nemesis: 41 });
    });
  });

  describe('ProgressLine', () => {
    /** A progress line writing into `out`, rendering `line 1`, `line 2`, ... */
    function make(tty: boolean) {
      const out: string[] = [];
      let n = 0;
      const p = new ProgressLine({ write: (s) => out.push(s), tty, render: () => `line ${++n}`, everyMs: NEVER });
      return { p, out };
    }

    it('off a terminal, writes one whole line per tick', () => {
      const { p, out } = make(false);
      try {
        assert.deepEqual(out, []);
        p.tick();
        p.tick();
        p.tick();
        assert.deepEqual(out, ['line 1\n', 'line 2\n', 'line 3\n']);
      } finally {
        p.stop();
      }
      // stop() adds nothing off a terminal.
      assert.deepEqual(out, ['line 1\n', 'line 2\n', 'line 3\n']);
    });

    it('on a terminal, rewrites the line in place and stop() ends it', () => {
      const { p, out } = make(true);
      try {
        p.tick();
        p.tick();
        assert.deepEqual(out, ['\r\x1b[2Kline 1', '\r\x1b[2Kline 2']);
        for (const s of out) assert.ok(!s.includes('\n'));
      } finally {
        p.stop();
      }
      assert.deepEqual(out, ['\r\x1b[2Kline 1', '\r\x1b[2Kline 2', '\n']);
    });

    it('on a terminal, stop() before any tick writes nothing', () => {
      const { p, out } = make(true);
      p.stop();
      assert.deepEqual(out, []);
    });

    it('off a terminal, stop() before any tick writes nothing', () => {
      const { p, out } = make(false);
      p.stop();
      assert.deepEqual(out, []);
    });

    it('does not render until it ticks', () => {
      let renders = 0;
      const p = new ProgressLine({ write: () => {}, tty: false, render: () => `r${++renders}`, everyMs: NEVER });
      try {
        assert.equal(renders, 0);
        p.tick();
        assert.equal(renders, 1);
      } finally {
        p.stop();
      }
      assert.equal(renders, 1);
    });
  });
});
