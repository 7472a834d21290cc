import assert from 'node:assert/strict';
import { LockTable, type LockCommand, type LockEvents, type LockMode, type LockResult, type LockSnapshot, type LockView } from '../../../cluster/lock/index.js';
import { prng } from '../../../harness/random.js';
import { withFailpoints, withFailpointsSync } from '../../support/failpoints.js';

/** A table and the log index of the next command. */
class Log {
  table = new LockTable();
  index = 0;
  run(command: LockCommand): { result: LockResult; events: LockEvents } {
    this.index += 1;
    return this.table.apply(command, this.index);
  }
  /** Runs `command` and returns only its result. */
  result(command: LockCommand): LockResult {
    return this.run(command).result;
  }
  /** The token of a grant `command` must produce. */
  token(command: LockCommand): number {
    const r = this.result(command);
    assert.equal(r.status, 'granted', JSON.stringify(r));
    return r.status === 'granted' ? r.token : -1;
  }
}

interface AcquireOptions {
  mode?: LockMode;
  ttlMs?: number;
  waitMs?: number;
  now?: number;
}

const acquire = (name: string, client: string, o: AcquireOptions = {}): LockCommand => ({
  type: 'acquire',
  name,
  client,
  mode: o.mode ?? 'exclusive',
  ttlMs: o.ttlMs ?? 10_000,
  waitMs: o.waitMs ?? 10_000,
  now: o.now ?? 0,
});
const shared = (name: string, client: string, o: AcquireOptions = {}): LockCommand => acquire(name, client, { ...o, mode: 'shared' });
const release = (name: string, client: string, token: number): LockCommand => ({ type: 'release', name, client, token });
const renew = (name: string, client: string, token: number, ttlMs: number, now: number): LockCommand => ({ type: 'renew', name, client, token, ttlMs, now });
const tick = (now: number): LockCommand => ({ type: 'tick', now });

const holders = (v: LockView): string[] => v.holders.map((h) => h.client);
const waiters = (v: LockView): string[] => v.waiters.map((w) => w.client);
const errorOf = (r: LockResult): string | undefined => (r.status === 'error' ? r.error : undefined);

describe('lock table', () => {
  describe('compatibility', () => {
    const cases: { first: LockMode; second: LockMode; granted: boolean }[] = [
      { first: 'shared', second: 'shared', granted: true },
      { first: 'shared', second: 'exclusive', granted: false },
      { first: 'exclusive', second: 'shared', granted: false },
      { first: 'exclusive', second: 'exclusive', granted: false },
    ];
    for (const { first, second, granted } of cases) {
      it(`${first} then ${second}: ${granted ? 'both hold' : 'the second conflicts'}`, () => {
        const log = new Log();
        log.token(acquire('x', 'a', { mode: first }));
        const r = log.result(acquire('x', 'b', { mode: second, waitMs: 0 }));
        assert.equal(r.status, granted ? 'granted' : 'error');
        if (!granted) assert.equal(errorOf(r), 'conflict');
        const v = log.table.view('x');
        assert.deepEqual(holders(v), granted ? ['a', 'b'] : ['a']);
        assert.equal(v.mode, first);
      });
    }

    it('a free lock views as mode null with no one in it', () => {
      assert.deepEqual(new LockTable().view('nothing'), { name: 'nothing', mode: null, holders: [], waiters: [] });
    });
  });

  describe('conflicts', () => {
    it('a try-acquire (waitMs 0) of a held lock fails with conflict and does not queue', () => {
      const log = new Log();
      log.token(acquire('x', 'a'));
      assert.equal(errorOf(log.result(acquire('x', 'b', { waitMs: 0 }))), 'conflict');
      assert.deepEqual(log.table.view('x').waiters, []);
    });

    const reacquire: { held: LockMode; again: LockMode }[] = [
      { held: 'exclusive', again: 'exclusive' },
      { held: 'exclusive', again: 'shared' },
      { held: 'shared', again: 'shared' },
      { held: 'shared', again: 'exclusive' },
    ];
    for (const { held, again } of reacquire) {
      it(`${held === 'shared' ? 'a' : 'an'} ${held} holder acquiring again (${again}) gets conflict: no re-entry, no upgrade`, () => {
        const log = new Log();
        log.token(acquire('x', 'a', { mode: held }));
        assert.equal(errorOf(log.result(acquire('x', 'a', { mode: again }))), 'conflict');
        assert.deepEqual(holders(log.table.view('x')), ['a']);
        assert.deepEqual(log.table.view('x').waiters, []);
      });
    }

    it('a client waits for at most one lock at a time', () => {
      const log = new Log();
      log.token(acquire('x', 'a'));
      log.token(acquire('y', 'a'));
      assert.equal(log.result(acquire('x', 'b')).status, 'queued');
      assert.equal(errorOf(log.result(acquire('x', 'b'))), 'conflict', 'again on the same lock');
      assert.equal(errorOf(log.result(acquire('y', 'b'))), 'conflict', 'a second wait elsewhere');
      assert.equal(log.result(acquire('z', 'b')).status, 'granted', 'a grant without waiting is fine');
      assert.deepEqual(waiters(log.table.view('x')), ['b']);
      assert.deepEqual(log.table.view('y').waiters, []);
    });

    it('release and renew by a non-holder or with a wrong token give not-held', () => {
      const log = new Log();
      const t = log.token(acquire('x', 'a'));
      assert.equal(errorOf(log.result(release('x', 'a', t + 1))), 'not-held');
      assert.equal(errorOf(log.result(release('x', 'b', t))), 'not-held');
      assert.equal(errorOf(log.result(release('y', 'a', t))), 'not-held');
      assert.equal(errorOf(log.result(renew('x', 'a', t + 1, 100, 0))), 'not-held');
      assert.equal(errorOf(log.result(renew('x', 'b', t, 100, 0))), 'not-held');
      assert.deepEqual(log.result(release('x', 'a', t)), { status: 'ok' });
      assert.equal(errorOf(log.result(release('x', 'a', t))), 'not-held', 'twice');
    });
  });

  describe('queueing', () => {
    it('serves exclusive waiters in FIFO order', () => {
      const log = new Log();
      let t = log.token(acquire('x', 'a'));
      for (const c of ['b', 'c', 'd']) assert.deepEqual(log.result(acquire('x', c)), { status: 'queued', name: 'x' });
      assert.deepEqual(waiters(log.table.view('x')), ['b', 'c', 'd']);
      let holder = 'a';
      for (const next of ['b', 'c', 'd']) {
        const { events } = log.run(release('x', holder, t));
        assert.deepEqual(events.granted.map((g) => g.client), [next]);
        t = events.granted[0]?.token ?? -1;
        holder = next;
      }
      assert.deepEqual(holders(log.table.view('x')), ['d']);
    });

    it('does not let later shared requests overtake a waiting exclusive one', () => {
      const log = new Log();
      const ta = log.token(shared('x', 'a'));
      assert.equal(log.result(acquire('x', 'w')).status, 'queued');
      // Compatible with the shared holder, but the exclusive waiter came first.
      assert.equal(log.result(shared('x', 'r1')).status, 'queued');
      assert.equal(log.result(shared('x', 'r2')).status, 'queued');
      assert.equal(errorOf(log.result(shared('x', 'r3', { waitMs: 0 }))), 'conflict');
      const first = log.run(release('x', 'a', ta)).events.granted;
      assert.deepEqual(first.map((g) => [g.client, g.mode]), [['w', 'exclusive']]);
      const second = log.run(release('x', 'w', first[0]?.token ?? -1)).events.granted;
      assert.deepEqual(second.map((g) => [g.client, g.mode]), [['r1', 'shared'], ['r2', 'shared']]);
    });

    it('grants the shared waiters at the head together, stopping at the first exclusive one', () => {
      const log = new Log();
      const t = log.token(acquire('x', 'a'));
      for (const [c, m] of [['b', 'shared'], ['c', 'shared'], ['d', 'exclusive'], ['e', 'shared']] as const) {
        assert.equal(log.result(acquire('x', c, { mode: m })).status, 'queued');
      }
      const { events } = log.run(release('x', 'a', t));
      assert.deepEqual(events.granted.map((g) => g.client), ['b', 'c']);
      const v = log.table.view('x');
      assert.equal(v.mode, 'shared');
      assert.deepEqual(holders(v), ['b', 'c']);
      assert.deepEqual(waiters(v), ['d', 'e']);
    });

    it('a waiter timed out at the head lets compatible waiters behind it through', () => {
      const log = new Log();
      log.token(shared('x', 'a', { ttlMs: 1000 }));
      assert.equal(log.result(acquire('x', 'w', { waitMs: 50 })).status, 'queued');
      assert.equal(log.result(shared('x', 'r', { waitMs: 500 })).status, 'queued');
      const { events } = log.run(tick(60));
      assert.deepEqual(events.failed, [{ name: 'x', client: 'w', error: 'timeout' }]);
      assert.deepEqual(events.granted.map((g) => [g.client, g.expiresAt]), [['r', 60 + 10_000]]);
      assert.deepEqual(holders(log.table.view('x')), ['a', 'r']);
    });
  });

  describe('fencing tokens', () => {
    it('are max(lastToken + 1, index): strictly increasing over all grants of all locks', () => {
      const table = new LockTable();
      const tokens: number[] = [];
      const grant = (c: LockCommand, index: number): void => {
        const r = table.apply(c, index).result;
        assert.equal(r.status, 'granted');
        if (r.status === 'granted') tokens.push(r.token);
      };
      grant(acquire('x', 'a'), 5);
      grant(acquire('y', 'a'), 6);
      grant(shared('z', 'b'), 100);
      grant(shared('z', 'c'), 101);
      assert.deepEqual(tokens, [5, 6, 100, 101]);
    });

    it('several grants caused by one release get consecutive increasing tokens', () => {
      const log = new Log();
      const t = log.token(acquire('x', 'a'));
      for (const c of ['b', 'c', 'd']) log.run(shared('x', c));
      log.run(acquire('other', 'e'));
      const { events } = log.run(release('x', 'a', t));
      const index = log.index;
      assert.deepEqual(events.granted.map((g) => g.token), [index, index + 1, index + 2]);
      const next = log.token(acquire('y', 'f'));
      assert.equal(next, index + 3, 'the next command index is already used by a token');
    });
  });

  describe('leases', () => {
    it('expire at the first tick at or after expiresAt, and the queue is served at the tick time', () => {
      const log = new Log();
      const r = log.result(acquire('x', 'a', { ttlMs: 100, now: 1000 }));
      assert.equal(r.status === 'granted' && r.expiresAt, 1100);
      log.run(acquire('x', 'b', { ttlMs: 300, now: 1010 }));
      assert.equal(log.table.nextDeadline(), 1100);
      assert.deepEqual(log.run(tick(1099)).events, { granted: [], failed: [], expired: [] });
      const { result, events } = log.run(tick(1100));
      assert.deepEqual(result, { status: 'ok' });
      assert.deepEqual(events.expired, [{ name: 'x', client: 'a', token: r.status === 'granted' ? r.token : -1 }]);
      assert.deepEqual(events.granted.map((g) => [g.client, g.expiresAt]), [['b', 1400]]);
    });

    it('renewal by the holder moves expiresAt to now + ttlMs', () => {
      const log = new Log();
      const t = log.token(acquire('x', 'a', { ttlMs: 100, now: 0 }));
      assert.deepEqual(log.result(renew('x', 'a', t, 100, 80)), { status: 'ok' });
      assert.equal(log.table.view('x').holders[0]?.expiresAt, 180);
      assert.deepEqual(log.run(tick(150)).events.expired, []);
      assert.equal(errorOf(log.result(renew('x', 'a', t + 7, 1000, 160))), 'not-held');
      assert.deepEqual(log.run(tick(180)).events.expired.map((e) => e.client), ['a']);
      assert.equal(errorOf(log.result(renew('x', 'a', t, 100, 190))), 'not-held', 'an expired lease cannot be renewed');
    });

    it('a grant caused by a release counts its lease from the latest now seen', () => {
      const log = new Log();
      const t = log.token(acquire('x', 'a', { now: 100 }));
      log.run(acquire('x', 'b', { ttlMs: 50, now: 200 }));
      log.run(tick(700));
      log.run(tick(650)); // an older clock (say, a new leader) does not move the clock back
      const { events } = log.run(release('x', 'a', t));
      assert.deepEqual(events.granted.map((g) => g.expiresAt), [750]);
    });

    it('waiters time out at the first tick at or after their deadline', () => {
      const log = new Log();
      log.token(acquire('x', 'a', { ttlMs: 1000 }));
      log.run(acquire('x', 'b', { waitMs: 50, now: 10 }));
      assert.equal(log.table.nextDeadline(), 60);
      assert.deepEqual(log.run(tick(59)).events.failed, []);
      assert.deepEqual(log.run(tick(60)).events.failed, [{ name: 'x', client: 'b', error: 'timeout' }]);
      assert.deepEqual(log.table.view('x').waiters, []);
      assert.equal(log.table.nextDeadline(), 1000);
      assert.equal(log.result(acquire('y', 'b', { waitMs: 0 })).status, 'granted', 'b waits for nothing any more');
    });
  });

  describe('deadlock detection', () => {
    it('breaks a cycle of two: the youngest waiter fails, the other proceeds after a release', () => {
      const log = new Log();
      const ax = log.token(acquire('x', 'a'));
      const by = log.token(acquire('y', 'b'));
      assert.equal(log.result(acquire('y', 'a')).status, 'queued');
      const r = log.result(acquire('x', 'b'));
      assert.equal(errorOf(r), 'deadlock');
      assert.match(r.status === 'error' ? r.message : '', /b → a → b/);
      assert.deepEqual(log.table.view('x').waiters, []);
      const { events } = log.run(release('y', 'b', by));
      assert.deepEqual(events.granted.map((g) => [g.name, g.client]), [['y', 'a']]);
      log.run(release('x', 'a', ax));
      assert.equal(log.result(acquire('x', 'b')).status, 'granted');
    });

    it('breaks a cycle of three, failing the client whose wait closed it', () => {
      const log = new Log();
      const t = { x: log.token(acquire('x', 'a')), y: log.token(acquire('y', 'b')), z: log.token(acquire('z', 'c')) };
      assert.equal(log.result(acquire('y', 'a')).status, 'queued');
      assert.equal(log.result(acquire('z', 'b')).status, 'queued');
      const r = log.result(acquire('x', 'c'));
      assert.equal(errorOf(r), 'deadlock');
      assert.match(r.status === 'error' ? r.message : '', /c → a → b → c/);
      assert.deepEqual(log.run(release('z', 'c', t.z)).events.granted.map((g) => [g.name, g.client]), [['z', 'b']]);
      assert.deepEqual(log.run(release('y', 'b', t.y)).events.granted.map((g) => [g.name, g.client]), [['y', 'a']]);
      log.run(release('x', 'a', t.x));
      assert.equal(log.result(acquire('x', 'c')).status, 'granted');
    });

    it('sees a shared request queued behind a waiting exclusive one waiting for it', () => {
      // c holds y; a holds x shared and waits for y; w waits for x exclusively; c's shared
      // request for x must queue behind w, and so waits for a (holder) and w (ahead).
      const log = new Log();
      log.token(shared('x', 'a'));
      log.token(acquire('y', 'c'));
      assert.equal(log.result(acquire('x', 'w')).status, 'queued');
      assert.equal(log.result(acquire('y', 'a')).status, 'queued');
      assert.equal(errorOf(log.result(shared('x', 'c'))), 'deadlock');
      assert.deepEqual(waiters(log.table.view('x')), ['w']);
    });

    it('finds no deadlock where waits only chain', () => {
      const log = new Log();
      log.token(acquire('x', 'a'));
      log.token(acquire('y', 'b'));
      assert.equal(log.result(acquire('y', 'a')).status, 'queued');
      assert.equal(log.result(acquire('x', 'c')).status, 'queued');
      assert.equal(log.result(shared('x', 'd')).status, 'queued');
    });
  });

  describe('memory', () => {
    it('drops idle locks after release, expiry, timeout and deadlock', () => {
      const log = new Log();
      const count = (): number => log.table.snapshot().locks.length;
      const t = log.token(acquire('x', 'a', { ttlMs: 100 }));
      log.run(acquire('x', 'b', { waitMs: 10 }));
      log.run(tick(10));
      assert.equal(count(), 1);
      log.run(release('x', 'a', t));
      assert.equal(count(), 0, 'after release');
      log.token(acquire('y', 'a', { ttlMs: 100 }));
      log.run(tick(100));
      assert.equal(count(), 0, 'after expiry');
      const ty = log.token(acquire('p', 'a'));
      const tq = log.token(acquire('q', 'b'));
      log.run(acquire('q', 'a'));
      log.run(acquire('p', 'b'));
      log.run(release('p', 'a', ty));
      log.run(release('q', 'b', tq));
      const a = log.table.view('q').holders[0];
      assert.ok(a);
      log.run(release('q', 'a', a.token));
      assert.equal(count(), 0, 'after deadlock and release');
      assert.equal(log.table.nextDeadline(), undefined);
    });
  });

  describe('robustness', () => {
    it('stays fast with a long queue: 5,000 waiters queue and are served', () => {
      const log = new Log();
      const n = 5000;
      const held = [{ client: 'c0', token: log.token(acquire('x', 'c0')) }];
      for (let i = 1; i <= n; i++) assert.equal(log.result(acquire('x', `c${i}`, { mode: i % 3 === 0 ? 'shared' : 'exclusive' })).status, 'queued');
      let served = 0;
      for (let h = held.shift(); h !== undefined; h = held.shift()) {
        const { events } = log.run(release('x', h.client, h.token));
        served += events.granted.length;
        held.push(...events.granted);
      }
      assert.equal(served, n);
      assert.equal(log.table.snapshot().locks.length, 0);
    });

    it('never throws on malformed commands, answers conflict and changes nothing', () => {
      const log = new Log();
      log.token(acquire('x', 'a'));
      const before = log.table.snapshot();
      const bad: unknown[] = [null, 42, {}, { type: 'acquire' }, { ...acquire('x', 'b'), ttlMs: 0 }, { type: 'tick', now: Number.NaN }, release('x', 'a', 1.5)];
      for (const c of bad) {
        const r = log.result(c as LockCommand);
        assert.equal(errorOf(r), 'conflict');
        assert.match(r.status === 'error' ? r.message : '', /^invalid command: /);
      }
      assert.equal(errorOf(log.table.apply(tick(5), Number.NaN).result), 'conflict', 'a bad index');
      assert.deepEqual(log.table.snapshot(), before);
    });

    it('restore rejects a malformed snapshot with a TypeError', () => {
      const good = new LockTable();
      good.apply(acquire('x', 'a'), 1);
      const snap = good.snapshot();
      const broken: unknown[] = [
        null,
        { ...snap, version: 2 },
        { ...snap, locks: [{ ...snap.locks[0], mode: null }] },
        { ...snap, locks: [{ name: 'x', mode: null, holders: [], waiters: [] }] },
        { ...snap, lastToken: 'x' },
        { ...snap, lastToken: 0 },
      ];
      for (const b of broken) assert.throws(() => LockTable.restore(b as LockSnapshot), TypeError);
    });

    it('snapshots share nothing with the table', () => {
      const table = new LockTable();
      table.apply(acquire('x', 'a'), 1);
      const snap = table.snapshot();
      const copy = JSON.parse(JSON.stringify(snap)) as LockSnapshot;
      table.apply(renew('x', 'a', 1, 5, 100), 2);
      assert.deepEqual(snap, copy);
      const restored = LockTable.restore(snap);
      table.apply(release('x', 'a', 1), 3);
      assert.deepEqual(holders(restored.view('x')), ['a']);
    });
  });

  describe('determinism', () => {
    for (const seed of [1, 42, 20240601]) {
      it(`a table restored from a snapshot behaves identically (seed ${seed}, 2,500 commands)`, () => {
        const commands = randomCommands(seed, 2500);
        const a = new LockTable();
        let b: LockTable | undefined;
        const checker = new Invariants();
        commands.forEach((next, i) => {
          const command = next(a);
          const before = NAMES.map((n) => a.view(n));
          const out = a.apply(command, i + 1);
          checker.check(command, out, before, NAMES.map((n) => a.view(n)));
          if (b) {
            assert.deepEqual(b.apply(command, i + 1), out, `command ${i}`);
            for (const n of NAMES) assert.deepEqual(b.view(n), a.view(n));
            assert.equal(b.nextDeadline(), a.nextDeadline());
            assert.deepEqual(b.snapshot(), a.snapshot());
          }
          if (i === 1200) b = LockTable.restore(JSON.parse(JSON.stringify(a.snapshot())) as LockSnapshot);
        });
        assert.ok(checker.seen.granted > 300 && checker.seen.queued > 100 && checker.seen.deadlock > 5 && checker.seen.timeout > 20 && checker.seen.expired > 20, JSON.stringify(checker.seen));
      });
    }
  });

  describe('failpoints: each planted bug is there when on, and absent when off', () => {
    it('lock.grant-ignores-waiters: with a waiter queued, a try-acquire is granted over an exclusive holder', () => {
      const run = (): { result: LockResult; view: LockView } => {
        const log = new Log();
        log.token(acquire('x', 'a'));
        assert.equal(log.result(acquire('x', 'b')).status, 'queued');
        const result = log.result(acquire('x', 'c', { waitMs: 0 }));
        return { result, view: log.table.view('x') };
      };
      const on = withFailpointsSync(['lock.grant-ignores-waiters'], run);
      assert.equal(on.result.status, 'granted');
      assert.deepEqual(holders(on.view), ['a', 'c'], 'two exclusive holders');
      const off = run();
      assert.equal(errorOf(off.result), 'conflict');
      assert.deepEqual(holders(off.view), ['a']);
    });

    it('lock.exclusive-over-shared: an exclusive acquire is granted over a shared holder, at once and from the queue', () => {
      const run = (): { now: LockResult; queued: LockResult; view: LockView } => {
        const log = new Log();
        log.token(shared('x', 'a'));
        const now = log.result(acquire('x', 'b', { waitMs: 0 }));
        log.token(shared('y', 'a'));
        log.token(shared('y', 'b'));
        log.result(acquire('y', 'c')); // queued behind a and b
        const t = log.table.view('y').holders[0]?.token as number;
        log.run(release('y', 'a', t));
        const queued = log.result(shared('y', 'd', { waitMs: 0 }));
        return { now, queued, view: log.table.view('y') };
      };
      const on = withFailpointsSync(['lock.exclusive-over-shared'], run);
      assert.equal(on.now.status, 'granted');
      assert.deepEqual(holders(on.view), ['b', 'c'], 'the queued exclusive c was granted beside the shared holder b');
      assert.equal(on.view.mode, 'exclusive');
      const off = run();
      assert.equal(errorOf(off.now), 'conflict');
      assert.deepEqual([holders(off.view), waiters(off.view)], [['b'], ['c']]);
    });

    /** Shared waiters b and c granted together by a's release: their tokens, and the release's index. */
    const batchTokens = (): { tokens: number[]; index: number } => {
      const log = new Log();
      log.index = 10; // as in a node: index 1 is the first leader's no-op
      const t = log.token(acquire('x', 'a'));
      log.run(shared('x', 'b'));
      log.run(shared('x', 'c'));
      const { events } = log.run(release('x', 'a', t));
      return { tokens: events.granted.map((g) => g.token), index: log.index };
    };

    it('lock.stale-token: a grant takes the previous log index as its token: two grants of one entry share it', () => {
      const on = withFailpointsSync(['lock.stale-token'], batchTokens);
      assert.deepEqual(on.tokens, [on.index - 1, on.index - 1]);
      const off = batchTokens();
      assert.deepEqual(off.tokens, [off.index, off.index + 1]);
    });

    it('lock.reuse-token: a grant may take the last token again: two grants of one entry share it', () => {
      const on = withFailpointsSync(['lock.reuse-token'], batchTokens);
      assert.deepEqual(on.tokens, [on.index, on.index]);
      const off = batchTokens();
      assert.deepEqual(off.tokens, [off.index, off.index + 1]);
    });

    it("lock.expire-by-local-clock: replicas applying the same tick at different times diverge", async () => {
      const ttlMs = 200;
      /** Two replicas apply the same entries; the second applies the tick once the lease has run out on the wall clock. */
      const run = async (): Promise<[string[], string[]]> => {
        const now = Date.now();
        const entries = [acquire('x', 'a', { now, ttlMs }), tick(now + 1)];
        const early = new Log();
        for (const c of entries) early.run(c);
        const late = new Log();
        late.run(entries[0] as LockCommand);
        await new Promise((r) => setTimeout(r, ttlMs + 50));
        late.run(entries[1] as LockCommand);
        return [holders(early.table.view('x')), holders(late.table.view('x'))];
      };
      assert.deepEqual(await withFailpoints(['lock.expire-by-local-clock'], run), [['a'], []], 'the late replica expired the lease, the early one did not');
      assert.deepEqual(await run(), [['a'], ['a']], 'the tick says now + 1: nobody expires it');
    });
  });
});


const NAMES = ['a', 'b', 'c', 'd'];
const CLIENTS = ['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6'];

/**
 * `count` command makers, drawn from `seed`: each makes its command from the table it is about to
 * be applied to, so that most releases and renewals name a real holder and token.
 */
function randomCommands(seed: number, count: number): ((table: LockTable) => LockCommand)[] {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const int = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));
  let now = 0;
  return Array.from({ length: count }, () => {
    now += int(0, 12);
    // Now and then a command carries an older clock, as after a change of leader.
    const at = rnd() < 0.05 ? now - int(1, 30) : now;
    const r = rnd();
    const name = pick(NAMES);
    const client = pick(CLIENTS);
    if (r < 0.45) {
      const mode: LockMode = rnd() < 0.5 ? 'shared' : 'exclusive';
      const waitMs = rnd() < 0.25 ? 0 : int(20, 300);
      const ttlMs = int(30, 400);
      return () => acquire(name, client, { mode, ttlMs, waitMs, now: at });
    }
    if (r < 0.85) {
      const real = rnd() < 0.85;
      const ttlMs = int(30, 400);
      const renewing = r >= 0.72;
      const choice = rnd();
      const wrong = int(1, 5000);
      return (table: LockTable) => {
        const hs = table.view(name).holders;
        const h = real ? hs[Math.floor(choice * hs.length)] : undefined;
        const [c, token] = h ? [h.client, h.token] : [client, wrong];
        return renewing ? renew(name, c, token, ttlMs, at) : release(name, c, token);
      };
    }
    return () => tick(at);
  });
}

/** Checks the table's invariants after every command of a random run. */
class Invariants {
  lastToken = 0;
  readonly seen = { granted: 0, queued: 0, deadlock: 0, timeout: 0, expired: 0 };

  check(command: LockCommand, out: { result: LockResult; events: LockEvents }, before: LockView[], after: LockView[]): void {
    const { result, events } = out;
    assert.notEqual(result.status === 'error' && result.message.startsWith('invalid'), true, result.status === 'error' ? result.message : '');
    const grants = [...(result.status === 'granted' ? [result] : []), ...events.granted];
    for (const g of grants) {
      assert.ok(g.token > this.lastToken, `token ${g.token} after ${this.lastToken}`);
      this.lastToken = g.token;
    }
    this.seen.granted += grants.length;
    if (result.status === 'queued') this.seen.queued += 1;
    this.seen.timeout += events.failed.filter((f) => f.error === 'timeout').length;
    this.seen.expired += events.expired.length;
    if (result.status === 'error' && result.error === 'deadlock') {
      this.seen.deadlock += 1;
      assert.equal(command.type, 'acquire');
      // The acquire would have closed a cycle.
      const hypothetical = before.map((v) =>
        command.type === 'acquire' && v.name === command.name ? { ...v, waiters: [...v.waiters, { client: command.client, mode: command.mode, deadline: 0 }] } : v,
      );
      assert.ok(hasCycle(hypothetical), 'a deadlock without a cycle');
    }
    assert.ok(!hasCycle(after), 'a wait-for cycle remains');
    const waiting = new Set<string>();
    for (const v of after) {
      assert.equal(v.mode === null, v.holders.length === 0);
      if (v.mode === 'exclusive') assert.equal(v.holders.length, 1);
      assert.equal(new Set(holders(v)).size, v.holders.length, 'a client holds a lock twice');
      const head = v.waiters[0];
      if (head) assert.ok(head.mode === 'exclusive' ? v.holders.length > 0 : v.mode === 'exclusive', 'a grantable head waits');
      for (const w of v.waiters) {
        assert.ok(!waiting.has(w.client), `${w.client} waits twice`);
        assert.ok(!holders(v).includes(w.client), `${w.client} waits for a lock it holds`);
        waiting.add(w.client);
      }
    }
  }
}

/** Whether the wait-for graph of `views` has a cycle, by brute force (transitive closure). */
function hasCycle(views: readonly LockView[]): boolean {
  const edges = new Map<string, Set<string>>();
  for (const v of views) {
    v.waiters.forEach((w, i) => {
      const out = edges.get(w.client) ?? new Set<string>();
      for (const h of v.holders) out.add(h.client);
      for (const ahead of v.waiters.slice(0, i)) if (w.mode === 'exclusive' || ahead.mode === 'exclusive') out.add(ahead.client);
      edges.set(w.client, out);
    });
  }
  for (const start of edges.keys()) {
    const reached = new Set<string>();
    const todo = [...(edges.get(start) ?? [])];
    while (todo.length > 0) {
      const c = todo.pop() as string;
      if (c === start) return true;
      if (reached.has(c)) continue;
      reached.add(c);
      todo.push(...(edges.get(c) ?? []));
    }
  }
  return false;
}

describe('lock table: proof of ownership (secret hashes)', () => {
  const H1 = 'a'.repeat(64);
  const H2 = 'b'.repeat(64);
  const acq = (client: string, secretHash: string | undefined, waitMs = 0): LockCommand => ({
    type: 'acquire', name: 'l', client, mode: 'exclusive', ttlMs: 10_000, waitMs, now: 1000, ...(secretHash ? { secretHash } : {}),
  });

  it('a release or renew needs the hash its grant carries (forbidden otherwise, changing nothing); the view never shows it', () => {
    const log = new Log();
    const t = log.token(acq('c1', H1));
    for (const secretHash of [undefined, H2]) {
      const r = log.result({ type: 'release', name: 'l', client: 'c1', token: t, ...(secretHash ? { secretHash } : {}) });
      assert.equal(r.status === 'error' && r.error, 'forbidden', JSON.stringify(r));
      const n = log.result({ type: 'renew', name: 'l', client: 'c1', token: t, ttlMs: 50_000, now: 1000, ...(secretHash ? { secretHash } : {}) });
      assert.equal(n.status === 'error' && n.error, 'forbidden', JSON.stringify(n));
    }
    assert.deepEqual(log.table.view('l').holders, [{ client: 'c1', token: t, expiresAt: 11_000 }]);
    assert.deepEqual(log.result({ type: 'release', name: 'l', client: 'c1', token: t, secretHash: H1 }), { status: 'ok' });
  });

  it('a waiter granted from the queue holds with the hash of its own acquire, also through a snapshot', () => {
    const log = new Log();
    const t = log.token(acq('c1', H1));
    assert.equal(log.result(acq('c2', H2, 5000)).status, 'queued');
    const restored = LockTable.restore(JSON.parse(JSON.stringify(log.table.snapshot())) as LockSnapshot);
    assert.deepEqual(restored.snapshot(), log.table.snapshot());
    for (const table of [log.table, restored]) {
      const out = table.apply({ type: 'release', name: 'l', client: 'c1', token: t, secretHash: H1 }, 10);
      const g = out.events.granted[0];
      assert.ok(g);
      assert.equal(table.apply({ type: 'release', name: 'l', client: 'c2', token: g.token, secretHash: H1 }, 11).result.status, 'error');
      assert.deepEqual(table.apply({ type: 'release', name: 'l', client: 'c2', token: g.token, secretHash: H2 }, 12).result, { status: 'ok' });
    }
  });

  it('rejects a malformed secret hash in a command or a snapshot', () => {
    const log = new Log();
    const r = log.result({ ...acq('c1', undefined), secretHash: 'nothex' } as LockCommand);
    assert.match(r.status === 'error' ? r.message : '', /secretHash: must be 64 lowercase hex digits/);
    const snap = { version: 1, lastToken: 1, clock: 0, locks: [{ name: 'l', mode: 'exclusive', holders: [{ client: 'c', token: 1, expiresAt: 5, secretHash: 7 }], waiters: [] }] };
    assert.throws(() => LockTable.restore(snap as unknown as LockSnapshot), /secretHash must be 64 lowercase hex digits/);
  });
});
