import assert from 'node:assert/strict';
import { SessionLocks, type LockLogData } from '../../../cluster/lock/index.js';
import { withFailpointsSync } from '../../support/failpoints.js';

const acquire = (client: string, seq: number, name = 'l1'): LockLogData => ({
  command: { type: 'acquire', name, client, mode: 'exclusive', ttlMs: 10_000, waitMs: 0, now: 1000 },
  request: { session: client, seq },
});

describe('exactly-once sessions', () => {
  it('answers a retried request with the recorded result, applying it once', () => {
    const s = new SessionLocks();
    const first = s.apply(acquire('c1', 1), 5);
    assert.equal(first.result.status, 'granted');
    assert.equal(first.duplicate, false);
    // The retry (e.g. after a timeout) must not conflict with the client's own grant.
    const retry = s.apply(acquire('c1', 1), 9);
    assert.equal(retry.duplicate, true);
    assert.deepEqual(retry.result, first.result);
    assert.equal(s.table.view('l1').holders.length, 1);
  });

  it('applies the next request of a session, and refuses an older one', () => {
    const s = new SessionLocks();
    s.apply(acquire('c1', 1), 1);
    const second = s.apply({ command: { type: 'release', name: 'l1', client: 'c1', token: 1 }, request: { session: 'c1', seq: 2 } }, 2);
    assert.deepEqual(second.result, { status: 'ok' });
    const stale = s.apply(acquire('c1', 1), 3);
    assert.equal(stale.duplicate, true);
    assert.equal(stale.result.status, 'error');
    assert.match(stale.result.status === 'error' ? stale.result.message : '', /stale request/);
    assert.equal(s.table.view('l1').holders.length, 0);
  });

  it('applies commands without a request id (leader ticks) every time', () => {
    const s = new SessionLocks();
    s.apply(acquire('c1', 1), 1);
    const tick = s.apply({ command: { type: 'tick', now: 1000 + 10_000 } }, 2);
    assert.deepEqual(tick.events.expired.map((e) => e.client), ['c1']);
    assert.equal(s.apply({ command: { type: 'tick', now: 20_000 } }, 3).duplicate, false);
  });

  it('forgets the least recently used sessions beyond its bound', () => {
    const s = new SessionLocks(2);
    s.apply(acquire('a', 1, 'la'), 1);
    s.apply(acquire('b', 1, 'lb'), 2);
    s.apply(acquire('a', 2, 'la2'), 3); // a is now the most recent
    s.apply(acquire('c', 1, 'lc'), 4); // b is forgotten
    assert.deepEqual(s.snapshot().sessions.map((x) => x.session), ['a', 'c']);
  });

  it('survives a snapshot through JSON: the restored table deduplicates the same way', () => {
    const s = new SessionLocks();
    const first = s.apply(acquire('c1', 7), 1);
    const r = SessionLocks.restore(JSON.parse(JSON.stringify(s.snapshot())));
    const retry = r.apply(acquire('c1', 7), 2);
    assert.equal(retry.duplicate, true);
    assert.deepEqual(retry.result, first.result);
    assert.deepEqual(r.snapshot(), s.snapshot());
  });

  it('failpoint session.no-dedupe: on, a retried acquire is applied again (and conflicts with the first), a retried release finds nothing to release', () => {
    const run = () => {
      const s = new SessionLocks();
      const first = s.apply(acquire('c1', 1), 1);
      const retry = s.apply(acquire('c1', 1), 2);
      const release: LockLogData = { command: { type: 'release', name: 'l1', client: 'c1', token: first.result.status === 'granted' ? first.result.token : -1 }, request: { session: 'c1', seq: 2 } };
      const released = s.apply(release, 3);
      const again = s.apply(release, 4);
      return { retry: [retry.duplicate, retry.result.status === 'error' ? retry.result.error : retry.result.status], again: [again.duplicate, again.result.status === 'error' ? again.result.error : again.result.status], released: released.result.status };
    };
    assert.deepEqual(withFailpointsSync(['session.no-dedupe'], run), { retry: [false, 'conflict'], released: 'ok', again: [false, 'not-held'] });
    assert.deepEqual(run(), { retry: [true, 'granted'], released: 'ok', again: [true, 'ok'] });
  });

  it('a queued acquire\'s record becomes its grant when a later entry grants it, also through a snapshot', () => {
    const s = new SessionLocks();
    const held = s.apply(acquire('a', 1), 1);
    const wait: LockLogData = { command: { type: 'acquire', name: 'l1', client: 'b', mode: 'exclusive', ttlMs: 10_000, waitMs: 5000, now: 1000 }, request: { session: 'sb', seq: 1 } };
    assert.deepEqual(s.apply(wait, 2).result, { status: 'queued', name: 'l1' });
    const restored = SessionLocks.restore(JSON.parse(JSON.stringify(s.snapshot())));
    for (const t of [s, restored]) {
      const out = t.apply({ command: { type: 'release', name: 'l1', client: 'a', token: held.result.status === 'granted' ? held.result.token : -1 }, request: { session: 'a', seq: 2 } }, 3);
      const grant = out.events.granted[0];
      assert.equal(grant?.client, 'b');
      const retry = t.apply(wait, 4);
      assert.equal(retry.duplicate, true);
      assert.deepEqual(retry.result, { status: 'granted', name: 'l1', mode: 'exclusive', token: grant.token, expiresAt: grant.expiresAt });
    }
  });

  it('refuses a seq reused for another request with conflict, naming the first', () => {
    const s = new SessionLocks();
    s.apply(acquire('c1', 1, 'rp1'), 1);
    const other = s.apply(acquire('c1', 1, 'rp2'), 2);
    assert.equal(other.duplicate, true);
    assert.equal(other.result.status, 'error');
    assert.match(other.result.status === 'error' ? other.result.message : '', /already used seq 1 for the acquire of "rp1" by "c1"/);
    assert.equal(s.table.view('rp2').holders.length, 0);
  });

  it('a retried acquire carries a new secret hash: the grant answers to it (and no longer to the first)', () => {
    const s = new SessionLocks();
    const H1 = '1'.repeat(64);
    const H2 = '2'.repeat(64);
    const withHash = (h: string): LockLogData => ({ command: { type: 'acquire', name: 'l1', client: 'c1', mode: 'exclusive', ttlMs: 10_000, waitMs: 0, now: 1000, secretHash: h }, request: { session: 'c1', seq: 1 } });
    const first = s.apply(withHash(H1), 1);
    const token = first.result.status === 'granted' ? first.result.token : -1;
    assert.equal(s.apply(withHash(H2), 2).duplicate, true);
    const release = (h: string, seq: number) => s.apply({ command: { type: 'release', name: 'l1', client: 'c1', token, secretHash: h }, request: { session: 'c1', seq } }, 2 + seq).result;
    assert.equal(release(H1, 2).status, 'error');
    assert.deepEqual(release(H2, 3), { status: 'ok' });
  });

  it('rejects a bad bound', () => {
    assert.throws(() => new SessionLocks(0), /maxSessions must be a positive integer/);
  });
});
