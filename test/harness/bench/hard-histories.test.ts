/**
 * The hard histories of the checker's benchmark: they have the shape they claim (clients, keys,
 * timed-out acquires), the verdict they were built to have, and the lock case stays cheap for the
 * checker because the fenced-lock model drops timed-out acquires no later op can observe.
 */
import assert from 'node:assert/strict';
import { checkHistory, completeHistory, findModel, independent, type Model, type Op } from '../../../checkers/index.js';
import { kvHistory, lockHistory } from '../../../harness/bench/hard-histories.js';

const tuples = (h: readonly Op[]): [unknown, unknown][] => h.map((o) => o.value as [unknown, unknown]);

describe('harness/bench: hard histories', function () {
  this.timeout(20_000);

  it('kv: 2,000 ops of 50 clients on 10 keys, appends and gets, linearizable as built', () => {
    const h = kvHistory({ seed: 3 });
    const ops = completeHistory(h);
    assert.equal(ops.length, 2000);
    assert.equal(new Set(ops.map((o) => o.process)).size, 50);
    assert.equal(new Set(tuples(h).map(([k]) => k)).size, 10);
    assert.deepEqual(new Set(ops.map((o) => o.f)), new Set(['get', 'append']));
    const longest = Math.max(...ops.filter((o) => o.f === 'get').map((o) => String((o.value as [unknown, string])[1]).length));
    assert.ok(longest > 300, `values grow long (longest read ${longest} characters)`);
    const r = checkHistory(h, findModel('kv') as Model, { timeoutMs: 15_000 });
    assert.equal(r.valid, true);
    // Gets that no longer start with the current string cut the search short (kv's
    // stillPossible): without it this history takes ~10^6 configurations.
    const explored = r.partitions.reduce((a, p) => a + p.explored, 0);
    assert.ok(explored < 10 * ops.length, `${explored} configurations for ${ops.length} ops`);
  });

  it('kv with one planted stale read is not linearizable, and only its key is', () => {
    const h = kvHistory({ seed: 3, staleRead: true });
    const r = checkHistory(h, findModel('kv') as Model, { timeoutMs: 15_000 });
    assert.equal(r.valid, false);
    assert.equal(r.partitions.filter((p) => p.valid === false).length, 1);
    assert.ok(r.partitions.every((p) => p.valid !== 'unknown'));
  });

  it('lock: timed-out acquires are invocations without completion, the history is valid, and the search stays small', () => {
    const h = lockHistory({ seed: 2, infoAcquires: 16 });
    const ops = completeHistory(h);
    const info = ops.filter((o) => o.type === 'info');
    assert.equal(info.length, 16);
    assert.ok(info.every((o) => o.f === 'acquire' || o.f === 'acquire-shared'));
    assert.ok(ops.some((o) => o.f === 'acquire-shared' && o.type === 'ok') && ops.some((o) => o.f === 'release'));
    const r = checkHistory(h, independent(findModel('fenced-lock') as Model), { timeoutMs: 15_000 });
    assert.equal(r.valid, true);
    // Without dropping the timed-out acquires the search explores ~10^5 configurations here.
    const explored = r.partitions.reduce((a, p) => a + p.explored, 0);
    assert.ok(explored < 5 * ops.length, `${explored} configurations for ${ops.length} ops`);
  });

  it('lock: a grant with a reused token makes it invalid', () => {
    const h = lockHistory({ seed: 2, infoAcquires: 4 });
    const grants = h.filter((o) => o.type === 'ok' && o.f === 'acquire');
    const [a, b] = grants.slice(-2) as [Op, Op];
    const bad = h.map((o) => (o === b ? { ...b, value: [(b.value as [unknown, number])[0], (a.value as [unknown, number])[1]] } : o));
    assert.equal(checkHistory(h, independent(findModel('fenced-lock') as Model), { timeoutMs: 15_000 }).valid, true);
    assert.equal(checkHistory(bad, independent(findModel('fenced-lock') as Model), { timeoutMs: 15_000 }).valid, false);
  });
});
