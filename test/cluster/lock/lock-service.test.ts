/**
 * LockService request deadlines are monotonic: a wall clock that jumps (NTP, or a clock fault of
 * the nemesis) while a request waits must neither end the wait at once nor stretch it.
 */
import assert from 'node:assert/strict';
import { LockService, type LockRaft } from '../../../cluster/lock/lock-service.js';
import { LockMachine } from '../../../cluster/lock/lock-machine.js';

/** A Raft without a quorum: proposals never commit. */
const stalled: LockRaft = { role: 'leader', leader: 'n1', propose: () => new Promise(() => {}), readIndex: () => new Promise(() => {}) };

/** Settles `p`, or rejects after `ms` of true time. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not answered within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

describe('cluster/lock: LockService deadlines', () => {
  for (const [jump, label] of [[-3_600_000, 'back an hour'], [3_600_000, 'ahead an hour']] as const) {
    it(`a request times out after its timeout when the wall clock jumps ${label} during the wait`, async () => {
      const base = Date.now();
      let calls = 0;
      // The first reading is true time; every later one has jumped.
      const now = (): number => (calls++ === 0 ? base : base + jump);
      const locks = new LockService(stalled, new LockMachine(), { requestTimeoutMs: 300, now });
      try {
        const t0 = performance.now();
        const r = await within(locks.acquire({ name: 'x', client: 'c1', mode: 'exclusive', ttlMs: 10_000, waitMs: 0 }), 5000, 'acquire');
        const took = performance.now() - t0;
        assert.equal(r.status, 503, JSON.stringify(r.body));
        assert.ok(took >= 290, `answered after ${took.toFixed(0)} ms, before its 300 ms timeout`);
      } finally {
        locks.close();
      }
    });
  }
});
