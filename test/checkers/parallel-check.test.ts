import assert from 'node:assert/strict';
import { join } from 'node:path';
import {
  checkHistory,
  checkHistoryAsync,
  composeCheckers,
  createSearchPool,
  findModel,
  independent,
  linearizableChecker,
  readHistory,
  safeCheckAsync,
  type CheckProgress,
  type LinearizabilityResult,
  type Model,
  type Op,
  type SearchPool,
} from '../../checkers/index.js';
import { WorkerPool } from '../../checkers/worker-pool.js';
import type { SearchTask } from '../../checkers/search-task.js';
import type { SearchOutcome } from '../../checkers/search.js';
import { knossosModelFor } from '../../harness/bench/knossos-models.js';
import { equalKeysHistory, syntheticRegisterHistory } from '../../harness/bench/synthetic-history.js';
import { historyFiles, knossosDir } from '../support/paths.js';

const register = (): Model => independent(findModel('register') as Model);

/** A result without its timings, which differ from run to run. */
const untimed = (r: LinearizabilityResult): unknown => ({ ...r, checkMs: 0, partitions: r.partitions.map((p) => ({ ...p, checkMs: 0 })) });

/** One key, twenty concurrent processes: a search far longer than the tests' budgets. */
const hard = (): Op[] => syntheticRegisterHistory({ ops: 4000, keys: 1, processes: 20, seed: 3 });

describe('parallel linearizability checking (checkHistoryAsync)', function () {
  this.timeout(120_000);
  let pool: SearchPool;
  before(() => {
    pool = createSearchPool({ size: 2 });
  });
  after(() => pool.close());

  describe('gives the sequential check\'s verdicts, partitions, longest linearizations and stuck ops', () => {
    it('on every Knossos history (on workers, whatever its size)', async () => {
      const files = historyFiles(knossosDir);
      assert.ok(files.length >= 80);
      for (const rel of files) {
        const known = knossosModelFor(rel);
        assert.ok(known, `no model known for ${rel}`);
        const { ops } = await readHistory(join(knossosDir, rel));
        const options = known.initial === undefined ? {} : { initial: known.initial };
        const seq = checkHistory(ops, known.model, options);
        const par = await checkHistoryAsync(ops, known.model, { ...options, pool, inlineBelowOps: 0 });
        assert.equal(par.valid, known.expected, rel);
        assert.deepEqual(untimed(par), untimed(seq), rel);
      }
    });

    for (const corruptAt of [undefined, 0.3, 0.8]) {
      it(`on a generated 20,000-op, 10-key history${corruptAt === undefined ? ' (valid)' : ` corrupted at ${corruptAt} (invalid)`}`, async () => {
        const h = syntheticRegisterHistory({ ops: 20_000, keys: 10, processes: 20, seed: 7, infoRate: 0.01, ...(corruptAt === undefined ? {} : { corruptAt }) });
        const seq = checkHistory(h, register());
        const par = await checkHistoryAsync(h, register(), { pool });
        assert.equal(seq.valid, corruptAt === undefined);
        assert.equal(par.partitions.length, 10);
        assert.deepEqual(untimed(par), untimed(seq));
      });
    }

    it('on the shared pool, created on first use', async () => {
      const h = syntheticRegisterHistory({ ops: 6000, keys: 4, processes: 10, seed: 2, corruptAt: 0.5 });
      assert.deepEqual(untimed(await checkHistoryAsync(h, register())), untimed(checkHistory(h, register())));
    });
  });

  it('checks small histories on this thread, starting no worker', async () => {
    const own = createSearchPool({ size: 1 });
    try {
      const h = syntheticRegisterHistory({ ops: 500, keys: 3, processes: 5, seed: 4 });
      const r = await checkHistoryAsync(h, register(), { pool: own });
      assert.equal(r.valid, true);
      assert.equal(own.started, 0);
    } finally {
      await own.close();
    }
  });

  describe('stop at the first invalid partition', () => {
    const h = syntheticRegisterHistory({ ops: 20_000, keys: 10, processes: 20, seed: 7, corruptAt: 0.05 });
    const stopped = /^not checked: partition \S+ was already invalid$/;

    it('on this thread: every partition after the first invalid one is unknown, not checked', () => {
      const full = checkHistory(h, register());
      const r = checkHistory(h, register(), { stopAtFirstInvalid: true });
      const first = full.partitions.findIndex((p) => p.valid === false);
      assert.ok(first >= 0 && first < 9, `the corrupted key must not be the last (it is ${first})`);
      assert.equal(r.valid, false);
      assert.deepEqual(r.partitions.slice(0, first + 1).map((p) => p.valid), full.partitions.slice(0, first + 1).map((p) => p.valid));
      for (const p of r.partitions.slice(first + 1)) {
        assert.equal(p.valid, 'unknown');
        assert.equal(p.limit, 'stopped');
        assert.match(p.reason ?? '', stopped);
      }
      assert.match(r.note ?? '', new RegExp(`stopped at the first invalid partition .*: ${9 - first} partitions? not checked`));
    });

    it('on one worker: the same as on this thread', async () => {
      const one = createSearchPool({ size: 1 });
      try {
        const par = await checkHistoryAsync(h, register(), { pool: one, stopAtFirstInvalid: true });
        assert.deepEqual(untimed(par), untimed(checkHistory(h, register(), { stopAtFirstInvalid: true })));
      } finally {
        await one.close();
      }
    });

    it('on the pool: the invalid partition is found, the others are valid or not checked', async () => {
      const r = await checkHistoryAsync(h, register(), { pool, stopAtFirstInvalid: true });
      assert.equal(r.valid, false);
      assert.equal(r.partitions.filter((p) => p.valid === false).length, 1);
      for (const p of r.partitions) if (p.valid === 'unknown') assert.match(p.reason ?? '', stopped);
      const skipped = r.partitions.filter((p) => p.limit === 'stopped').length;
      if (skipped > 0) assert.match(r.note ?? '', /stopped at the first invalid partition/);
    });

    it('is off by default: every partition is checked', async () => {
      const r = await checkHistoryAsync(h, register(), { pool });
      assert.ok(r.partitions.every((p) => p.valid !== 'unknown'));
      assert.equal(r.note, undefined);
    });
  });

  describe('the memory budget', () => {
    for (const where of ['this thread', 'a worker'] as const) {
      it(`makes a hard partition unknown with its reason, on ${where}`, async () => {
        const options = { maxMemoryMb: 2, timeoutMs: 60_000 };
        const r = where === 'this thread' ? checkHistory(hard(), register(), options) : await checkHistoryAsync(hard(), register(), { ...options, pool });
        assert.equal(r.valid, 'unknown');
        assert.equal(r.partitions[0]?.limit, 'memory');
        assert.match(r.reason ?? '', /the search's cache outgrew its memory budget of \d+(\.\d+)? MB/);
        assert.ok(r.partitions[0]?.longest, 'it still reports how far it got');
      });
    }
  });

  describe('a worker that dies', () => {
    it('past its heap limit leaves its partition unknown with the reason, and is replaced', async () => {
      const small = createSearchPool({ size: 1, heapMb: 16 });
      try {
        const r = await checkHistoryAsync(hard(), register(), { pool: small, inlineBelowOps: 0, timeoutMs: 60_000 });
        assert.equal(r.valid, 'unknown');
        assert.equal(r.partitions[0]?.limit, 'worker');
        assert.match(r.reason ?? '', /^the search worker died: the worker ran out of memory \(heap limit 16 MB\)$/);
        const h = syntheticRegisterHistory({ ops: 3000, keys: 3, processes: 5, seed: 3 });
        assert.equal((await checkHistoryAsync(h, register(), { pool: small })).valid, true);
        assert.equal(small.started, 2, 'a new worker replaced the dead one');
      } finally {
        await small.close();
      }
    });

    it('by exiting leaves each of its partitions unknown, never a crash', async () => {
      const exiting = new WorkerPool<SearchTask, SearchOutcome<unknown>, number>(new URL('./fixtures/exiting-worker.js', import.meta.url), { size: 2 });
      try {
        const h = syntheticRegisterHistory({ ops: 3000, keys: 3, processes: 5, seed: 3 });
        const r = await checkHistoryAsync(h, register(), { pool: exiting });
        assert.equal(r.valid, 'unknown');
        assert.equal(r.partitions.length, 3);
        for (const p of r.partitions) {
          assert.equal(p.limit, 'worker');
          assert.equal(p.reason, 'the search worker died: the worker exited with code 7');
        }
        assert.equal(exiting.started, 3, 'each task got a fresh worker');
      } finally {
        await exiting.close();
      }
    });
  });

  describe('progress', () => {
    for (const where of ['this thread', 'workers'] as const) {
      it(`is reported during a long check on ${where}`, async () => {
        const seen: CheckProgress[] = [];
        const options = { timeoutMs: 1500, progressEveryMs: 50, onProgress: (p: CheckProgress) => seen.push(p) };
        const r = where === 'this thread' ? checkHistory(hard(), register(), options) : await checkHistoryAsync(hard(), register(), { ...options, pool });
        assert.equal(r.valid, 'unknown', 'the check ran until its budget ran out');
        // Reports while the key is searched name it; one after it finished (timing) names none.
        const during = seen.filter((p) => p.current.length > 0);
        assert.ok(during.length >= 2, `only ${during.length} progress reports during the 1.5 s search`);
        for (const p of during) assert.deepEqual(p.current, ['0']);
        const last = seen[seen.length - 1] as CheckProgress;
        assert.equal(last.total, 1);
        assert.ok(last.explored > 0);
        for (let i = 1; i < seen.length; i++) {
          assert.ok((seen[i] as CheckProgress).explored >= (seen[i - 1] as CheckProgress).explored, 'explored counts only grow');
          assert.ok((seen[i] as CheckProgress).elapsedMs > (seen[i - 1] as CheckProgress).elapsedMs);
        }
      });
    }

    it('counts finished partitions', async () => {
      const seen: CheckProgress[] = [];
      const h = equalKeysHistory(4, { ops: 2000, processes: 10, seed: 5 });
      const r = await checkHistoryAsync(h, register(), { pool, progressEveryMs: 1, onProgress: (p) => seen.push(p) });
      assert.equal(r.valid, true);
      assert.ok(seen.length > 0);
      assert.ok(seen.every((p) => p.total === 4 && p.done <= 4 && p.current.length <= 2));
      assert.ok(seen.some((p) => p.done > 0), 'some report came after a partition finished');
    });
  });

  describe('the checker contract', () => {
    it('composeCheckers(...).checkAsync gives check\'s verdict, on workers', async () => {
      const h = syntheticRegisterHistory({ ops: 6000, keys: 4, processes: 10, seed: 2, corruptAt: 0.5 });
      const c = composeCheckers([linearizableChecker('register', { independent: true })]);
      const sync = c.check(h, { timeoutMs: 60_000 });
      const async = await c.checkAsync(h, { timeoutMs: 60_000 });
      assert.equal(async.valid, false);
      assert.equal(async.valid, sync.valid);
      assert.equal(async.reason, sync.reason);
    });

    it('safeCheckAsync turns a failing checker into unknown, and runs a checker without checkAsync', async () => {
      const failing = { name: 'boom', check: (): never => { throw new Error('no'); } };
      assert.deepEqual(await safeCheckAsync(failing, [], { timeoutMs: 1 }), { valid: 'unknown', reason: 'checker boom failed: no', summary: 'checker boom failed: no', error: 'no' });
      const fine = { name: 'fine', check: () => ({ valid: true as const }) };
      assert.deepEqual(await safeCheckAsync(fine, [], { timeoutMs: 1 }), { valid: true });
    });
  });
});
