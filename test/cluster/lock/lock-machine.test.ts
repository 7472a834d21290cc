/**
 * LockMachine: the outcome of a queued acquire reaches exactly the request that waits for it,
 * whatever characters the lock names and client ids contain.
 */
import assert from 'node:assert/strict';
import { LockMachine, type WaitOutcome } from '../../../cluster/lock/lock-machine.js';
import type { LockLogData } from '../../../cluster/lock/sessions.js';

describe('cluster/lock: LockMachine watches', () => {
  it('keys watches unambiguously: a grant of "a\\0b" to "c" does not reach "b\\0c" waiting for "a"', () => {
    const m = new LockMachine();
    let index = 0;
    const apply = (data: LockLogData): unknown => m.apply({ index: ++index, term: 1, data });
    const acquire = (name: string, client: string, waitMs: number): LockLogData => ({ command: { type: 'acquire', name, client, mode: 'exclusive', ttlMs: 60_000, waitMs, now: 1000 } });
    apply(acquire('a', 'Y', 0));
    apply(acquire('a\u0000b', 'X', 0));
    const got: [string, WaitOutcome][] = [];
    m.watch('a', 'b\u0000c', (o) => got.push(['b\\0c on a', o]));
    m.watch('a\u0000b', 'c', (o) => got.push(['c on a\\0b', o]));
    apply(acquire('a', 'b\u0000c', 10_000));
    apply(acquire('a\u0000b', 'c', 10_000));
    const xToken = m.locks.table.view('a\u0000b').holders[0]?.token ?? -1;
    apply({ command: { type: 'release', name: 'a\u0000b', client: 'X', token: xToken } });
    assert.deepEqual(
      got.map(([who, o]) => [who, o.status, o.status === 'granted' ? o.name : '']),
      [['c on a\\0b', 'granted', 'a\u0000b']],
    );
    assert.deepEqual(m.locks.table.view('a').waiters.map((w) => w.client), ['b\u0000c']);
  });

  it('unwatching leaves the other watches of the same lock in place', () => {
    const m = new LockMachine();
    const got: string[] = [];
    const off = m.watch('l', 'c1', () => got.push('c1'));
    m.watch('l', 'c2', () => got.push('c2'));
    off();
    m.apply({ index: 1, term: 1, data: { command: { type: 'acquire', name: 'l', client: 'h', mode: 'exclusive', ttlMs: 60_000, waitMs: 0, now: 1000 } } });
    m.apply({ index: 2, term: 1, data: { command: { type: 'acquire', name: 'l', client: 'c1', mode: 'exclusive', ttlMs: 60_000, waitMs: 10_000, now: 1000 } } });
    m.apply({ index: 3, term: 1, data: { command: { type: 'acquire', name: 'l', client: 'c2', mode: 'exclusive', ttlMs: 60_000, waitMs: 10_000, now: 1000 } } });
    m.apply({ index: 4, term: 1, data: { command: { type: 'tick', now: 1000 + 10_000 } } });
    assert.deepEqual(got, ['c2']);
  });
});
