/**
 * LockService: request deadlines are monotonic (a wall clock that jumps while a request waits
 * must neither end the wait at once nor stretch it), and a retried queued acquire gets its grant.
 */
import assert from 'node:assert/strict';
import { LockService, type LockRaft } from '../../../cluster/lock/lock-service.js';
import { LockMachine } from '../../../cluster/lock/lock-machine.js';
import { LocalOnlyRaft } from '../../../cluster/lock/local-only-raft.js';

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

describe('cluster/lock: LockService retries of a queued acquire', () => {
  const setup = () => {
    const machine = new LockMachine();
    const locks = new LockService(new LocalOnlyRaft('n1', machine), machine, { requestTimeoutMs: 2000 });
    return { machine, locks };
  };
  const holdRp1 = async (locks: LockService): Promise<{ token: number; secret: string }> => {
    const r = await locks.acquire({ name: 'rp1', client: 'A', mode: 'exclusive', ttlMs: 60_000, waitMs: 0, request: { session: 'sessA', seq: 1 } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body as { token: number; secret: string };
  };
  const queued = { name: 'rp1', client: 'B', mode: 'exclusive' as const, ttlMs: 60_000, waitMs: 3000, request: { session: 'sessC', seq: 1 } };

  it('a retry while the first attempt is still queued gets the same grant when it comes', async () => {
    const { locks } = setup();
    try {
      const { token: tokenA, secret } = await holdRp1(locks);
      const first = locks.acquire(queued);
      const retry = locks.acquire(queued);
      await locks.release({ name: 'rp1', client: 'A', token: tokenA, secret, request: { session: 'sessA', seq: 2 } });
      const [a, b] = await within(Promise.all([first, retry]), 5000, 'acquires');
      assert.equal(a.status, 200, JSON.stringify(a.body));
      assert.equal(b.status, 200, JSON.stringify(b.body));
      assert.equal((b.body as { token: number }).token, (a.body as { token: number }).token);
    } finally {
      locks.close();
    }
  });

  it('a retry after the grant (the first answer lost) gets the same token at once', async () => {
    const { locks } = setup();
    try {
      const { token: tokenA, secret } = await holdRp1(locks);
      const first = locks.acquire(queued);
      await locks.release({ name: 'rp1', client: 'A', token: tokenA, secret, request: { session: 'sessA', seq: 2 } });
      const a = await within(first, 5000, 'first acquire');
      const b = await within(locks.acquire(queued), 1000, 'retry');
      assert.equal(b.status, 200, JSON.stringify(b.body));
      assert.equal((b.body as { token: number }).token, (a.body as { token: number }).token);
    } finally {
      locks.close();
    }
  });

  it('a retry after the wait timed out gets the timeout', async () => {
    const { locks } = setup();
    try {
      await holdRp1(locks);
      const first = await within(locks.acquire({ ...queued, waitMs: 1 }), 5000, 'first acquire');
      assert.equal(first.status, 409, JSON.stringify(first.body));
      const b = await within(locks.acquire({ ...queued, waitMs: 1 }), 1000, 'retry');
      assert.equal(b.status, 409, JSON.stringify(b.body));
      assert.equal((b.body as { error: string }).error, 'timeout');
    } finally {
      locks.close();
    }
  });

  it('the same session and seq reused for another lock, a release or a renew: 409 naming the first request, promptly', async () => {
    const { locks } = setup();
    try {
      await holdRp1(locks);
      const first = locks.acquire(queued);
      const other = await within(locks.acquire({ ...queued, name: 'rp2' }), 1000, 'acquire of rp2');
      assert.equal(other.status, 409, JSON.stringify(other.body));
      assert.match((other.body as { message: string }).message, /already used seq 1 for the acquire of "rp1" by "B"/);
      const release = await within(locks.release({ name: 'rp1', client: 'B', token: 1, secret: 's', request: { session: 'sessC', seq: 1 } }), 1000, 'release');
      assert.equal(release.status, 409, JSON.stringify(release.body));
      assert.equal((release.body as { error: string }).error, 'conflict');
      const renew = await within(locks.renew({ name: 'rp1', client: 'B', token: 1, ttlMs: 1000, secret: 's', request: { session: 'sessC', seq: 1 } }), 1000, 'renew');
      assert.equal(renew.status, 409, JSON.stringify(renew.body));
      locks.close();
      await first;
    } finally {
      locks.close();
    }
  });
});
