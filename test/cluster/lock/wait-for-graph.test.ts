import assert from 'node:assert/strict';
import type { LockMode } from '../../../cluster/lock/index.js';
import type { LockEntry } from '../../../cluster/lock/state.js';
import { findCycle } from '../../../cluster/lock/wait-for-graph.js';
import { prng } from '../../../harness/random.js';

/**
 * A table state in a compact notation, one lock a line: `name: holder,holder | waiter/x waiter/s`
 * (waiters in queue order, `/x` exclusive, `/s` shared).
 */
function state(...lines: string[]): { locks: Map<string, LockEntry>; waiting: Map<string, string> } {
  const locks = new Map<string, LockEntry>();
  const waiting = new Map<string, string>();
  for (const line of lines) {
    const [name = '', rest = ''] = line.split(': ');
    const [hs = '', ws = ''] = rest.split('|').map((x) => x.trim());
    const holders = hs === '' ? [] : hs.split(',').map((client, i) => ({ client, token: i + 1, expiresAt: 0 }));
    const waiters = ws === '' ? [] : ws.split(/\s+/).map((w, i) => {
      const [client = '', mode = 'x'] = w.split('/');
      waiting.set(client, name);
      return { client, mode: (mode === 's' ? 'shared' : 'exclusive') as LockMode, ttlMs: 1, deadline: 1, index: i };
    });
    locks.set(name, { mode: holders.length === 0 ? null : 'shared', holders, waiters });
  }
  return { locks, waiting };
}

/** The edges of the wait-for graph, by its definition. */
function edges(locks: Map<string, LockEntry>): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const lock of locks.values()) {
    lock.waiters.forEach((w, i) => {
      const e = new Set<string>(lock.holders.map((h) => h.client));
      for (const a of lock.waiters.slice(0, i)) if (a.mode === 'exclusive' || w.mode === 'exclusive') e.add(a.client);
      out.set(w.client, e);
    });
  }
  return out;
}

function reach(from: Iterable<string>, g: Map<string, Set<string>>): Set<string> {
  const seen = new Set<string>();
  const todo = [...from];
  while (todo.length > 0) {
    const c = todo.pop() as string;
    if (seen.has(c)) continue;
    seen.add(c);
    todo.push(...(g.get(c) ?? []));
  }
  return seen;
}


describe('wait-for graph', () => {
  it('finds a cycle of two through holders', () => {
    const { locks, waiting } = state('x: a | b', 'y: b | a');
    assert.deepEqual(findCycle(['a'], locks, waiting), ['a', 'b']);
    assert.deepEqual(findCycle(['b'], locks, waiting), ['b', 'a']);
  });

  it('finds a cycle through a waiter ahead by its shortcut through a holder', () => {
    // c waits for x behind w, and w for a, who holds x and waits for y, which c holds:
    // c → w → a → c, and its shortcut c → a → c.
    const { locks, waiting } = state('x: a | w/x c/s', 'y: c | a/x');
    assert.deepEqual(findCycle(['c'], locks, waiting), ['c', 'a']);
  });

  it('finds no cycle along queue edges alone: a queue is left only through a holder', () => {
    const { locks, waiting } = state('x: | w/x c/x', 'y: c | ', 'z: w | ');
    assert.equal(findCycle(['c', 'w'], locks, waiting), undefined);
  });

  it('finds nothing in a chain', () => {
    const { locks, waiting } = state('x: a | b', 'y: b | c', 'z: c | ');
    assert.equal(findCycle(['b', 'c'], locks, waiting), undefined);
  });

  it('agrees with brute force on random states (2,000 of them)', () => {
    const rnd = prng(7);
    const clients = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    const names = ['p', 'q', 'r', 's', 't'];
    let cycles = 0;
    for (let round = 0; round < 2000; round++) {
      const locks = new Map<string, LockEntry>();
      const waiting = new Map<string, string>();
      for (const n of names) locks.set(n, { mode: null, holders: [], waiters: [] });
      for (const c of clients) {
        for (const n of names) {
          const lock = locks.get(n) as LockEntry;
          if (rnd() < 0.2) lock.holders.push({ client: c, token: 1, expiresAt: 0 });
        }
        const n = names[Math.floor(rnd() * names.length)] as string;
        const lock = locks.get(n) as LockEntry;
        if (rnd() < 0.6 && !lock.holders.some((h) => h.client === c)) {
          lock.waiters.push({ client: c, mode: rnd() < 0.5 ? 'shared' : 'exclusive', ttlMs: 1, deadline: 1, index: 0 });
          waiting.set(c, n);
        }
      }
      for (const lock of locks.values()) lock.waiters.sort(() => (rnd() < 0.5 ? -1 : 1));
      const g = edges(locks);
      const roots = clients.filter(() => rnd() < 0.3);
      const expected = [...reach(roots, g)].some((v) => [...(g.get(v) ?? [])].some((s) => reach([s], g).has(v)));
      const cycle = findCycle(roots, locks, waiting);
      assert.equal(cycle !== undefined, expected, `round ${round}`);
      if (cycle) {
        cycles += 1;
        cycle.forEach((c, i) => assert.ok(g.get(c)?.has(cycle[(i + 1) % cycle.length] as string), `${c} → ${cycle[(i + 1) % cycle.length]} is no edge`));
        assert.equal(new Set(cycle).size, cycle.length);
      }
    }
    assert.ok(cycles > 200 && cycles < 1900, `${cycles} cycles`);
  });
});
