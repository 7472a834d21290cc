import assert from 'node:assert/strict';
import {
  checkHistory,
  checkHistoryAsync,
  createSearchPool,
  findModel,
  independent,
  ModelConfigError,
  ModelInputError,
  type LeaseParams,
  type Model,
  type Op,
} from '../../../checkers/index.js';
import { prng } from '../../../harness/random.js';

const leaseLock = findModel('lease-lock') as Model;
const fencedLock = findModel('fenced-lock') as Model;

/** Events `[ms, process, type, f, value]` in time order; times become ns. */
type Ev = [number, number, 'invoke' | 'ok' | 'info' | 'fail', string, unknown];
const timed = (events: Ev[]): Op[] =>
  events.map(([ms, process, type, f, value], index) => ({ index, type, f, value: value ?? null, process, time: ms * 1e6 }));

// TTL 1000 ms, 1 % drift: a lease granted by an acquire invoked at t surely lasts until t + 990.
const params: LeaseParams = { ttlMs: 1000, driftBound: 0.01 };
const check = (events: Ev[], p: LeaseParams = params) => checkHistory(timed(events), leaseLock, { initial: p }).valid;

describe('lease-lock model', () => {
  const cases: [string, Ev[], boolean, LeaseParams?][] = [
    [
      'a conflicting grant that completed before the lease surely could end',
      [[0, 0, 'invoke', 'acquire', null], [10, 0, 'ok', 'acquire', 1], [500, 1, 'invoke', 'acquire', null], [510, 1, 'ok', 'acquire', 2]],
      false,
    ],
    [
      'a conflicting grant once the lease may have ended',
      [[0, 0, 'invoke', 'acquire', null], [10, 0, 'ok', 'acquire', 1], [985, 1, 'invoke', 'acquire', null], [995, 1, 'ok', 'acquire', 2]],
      true,
    ],
    [
      'a shared grant over a shared lease needs no expiry',
      [[0, 0, 'invoke', 'acquire-shared', null], [10, 0, 'ok', 'acquire-shared', 1], [20, 1, 'invoke', 'acquire-shared', null], [30, 1, 'ok', 'acquire-shared', 2]],
      true,
    ],
    [
      'an exclusive grant over a shared lease that may not have ended',
      [[0, 0, 'invoke', 'acquire-shared', null], [10, 0, 'ok', 'acquire-shared', 1], [20, 1, 'invoke', 'acquire', null], [30, 1, 'ok', 'acquire', 2]],
      false,
    ],
    [
      'the holder acquires again after its own lease may have ended',
      [[0, 0, 'invoke', 'acquire', null], [10, 0, 'ok', 'acquire', 1], [1500, 0, 'invoke', 'acquire', null], [1510, 0, 'ok', 'acquire', 2]],
      true,
    ],
    [
      'a release by the old holder after a conflicting grant expired it',
      [
        [0, 0, 'invoke', 'acquire', null], [10, 0, 'ok', 'acquire', 1],
        [1000, 1, 'invoke', 'acquire', null], [1010, 1, 'ok', 'acquire', 2],
        [1100, 0, 'invoke', 'release', 1], [1110, 0, 'ok', 'release', 1],
      ],
      false,
    ],
    [
      'a release long after the TTL, with no upper bound: the tick may not have come',
      [[0, 0, 'invoke', 'acquire', null], [10, 0, 'ok', 'acquire', 1], [5000, 0, 'invoke', 'release', 1], [5010, 0, 'ok', 'release', 1]],
      true,
    ],
    [
      'a release invoked after the lease surely ended (expiryGraceMs 100)',
      [[0, 0, 'invoke', 'acquire', null], [10, 0, 'ok', 'acquire', 1], [1121, 0, 'invoke', 'release', 1], [1130, 0, 'ok', 'release', 1]],
      false,
      { ttlMs: 1000, driftBound: 0.01, expiryGraceMs: 100 },
    ],
    [
      'a release invoked just before the lease surely ended (expiryGraceMs 100)',
      [[0, 0, 'invoke', 'acquire', null], [10, 0, 'ok', 'acquire', 1], [1119, 0, 'invoke', 'release', 1], [1130, 0, 'ok', 'release', 1]],
      true,
      { ttlMs: 1000, driftBound: 0.01, expiryGraceMs: 100 },
    ],
    [
      'a renew moves the lease: a grant that would have been fine before it',
      [
        [0, 0, 'invoke', 'acquire', null], [10, 0, 'ok', 'acquire', 1],
        [800, 0, 'invoke', 'renew', 1], [810, 0, 'ok', 'renew', 1],
        [1500, 1, 'invoke', 'acquire', null], [1510, 1, 'ok', 'acquire', 2],
      ],
      false,
    ],
    [
      'a renew of an unknown outcome may not have happened',
      [
        [0, 0, 'invoke', 'acquire', null], [10, 0, 'ok', 'acquire', 1],
        [800, 0, 'invoke', 'renew', 1], [5000, 0, 'info', 'renew', 1],
        [1500, 1, 'invoke', 'acquire', null], [1510, 1, 'ok', 'acquire', 2],
      ],
      true,
    ],
    [
      'a read that no longer lists a lease that may have ended',
      [[0, 0, 'invoke', 'acquire', null], [10, 0, 'ok', 'acquire', 1], [1200, 2, 'invoke', 'read', null], [1210, 2, 'ok', 'read', []]],
      true,
    ],
    [
      'a read that misses a lease that cannot have ended',
      [[0, 0, 'invoke', 'acquire', null], [10, 0, 'ok', 'acquire', 1], [200, 2, 'invoke', 'read', null], [210, 2, 'ok', 'read', []]],
      false,
    ],
    [
      'tokens still increase',
      [[0, 0, 'invoke', 'acquire', null], [10, 0, 'ok', 'acquire', 5], [2000, 1, 'invoke', 'acquire', null], [2010, 1, 'ok', 'acquire', 5]],
      false,
    ],
  ];
  for (const [name, events, valid, p] of cases) {
    it(`${name} → ${valid ? 'valid' : 'invalid'}`, () => assert.equal(check(events, p), valid));
  }

  it('takes its parameters as the initial value, also as an EDN map with kebab-case keywords', () => {
    const events: Ev[] = [[0, 0, 'invoke', 'acquire', null], [10, 0, 'ok', 'acquire', 1], [985, 1, 'invoke', 'acquire', null], [995, 1, 'ok', 'acquire', 2]];
    assert.equal(check(events, { ttlMs: 1000, driftBound: 0 }), false);
    const edn = new Map<unknown, unknown>([[{ name: 'ttl-ms' }, 1000], [{ name: 'drift-bound' }, 0.02]]);
    assert.equal(checkHistory(timed(events), leaseLock, { initial: edn }).valid, true);
  });

  it('refuses a check without lease parameters, or with bad ones, naming them', () => {
    assert.throws(() => checkHistory([], leaseLock), (e: unknown) => e instanceof ModelConfigError && /needs its lease parameters/.test(e.message));
    assert.throws(() => checkHistory([], leaseLock, { initial: { ttlMs: 1000, driftBound: 2 } }), /driftBound must be at least 0 and below 1/);
  });

  it('refuses ops without times', () => {
    const ops = timed([[0, 0, 'invoke', 'acquire', null], [10, 0, 'ok', 'acquire', 1]]).map(({ time: _t, ...o }) => o as Op);
    assert.throws(() => checkHistory(ops, leaseLock, { initial: params }), (e: unknown) => e instanceof ModelInputError && /needs its invoke time/.test(e.message));
  });

  it('searches on worker threads with the same verdicts', async () => {
    const pool = createSearchPool({ size: 2 });
    try {
      // Two keys, one with a grant that comes too early.
      const events: Ev[] = [
        [0, 0, 'invoke', 'acquire', ['a', null]], [10, 0, 'ok', 'acquire', ['a', 1]],
        [20, 1, 'invoke', 'acquire', ['b', null]], [30, 1, 'ok', 'acquire', ['b', 2]],
        [500, 2, 'invoke', 'acquire', ['a', null]], [510, 2, 'ok', 'acquire', ['a', 3]],
        [1500, 3, 'invoke', 'acquire', ['b', null]], [1510, 3, 'ok', 'acquire', ['b', 4]],
      ];
      const r = await checkHistoryAsync(timed(events), independent(leaseLock), { initial: params, inlineBelowOps: 0, pool });
      assert.deepEqual(r.partitions.map((p) => [p.key, p.valid]), [['a', false], ['b', true]]);
    } finally {
      await pool.close();
    }
  });
});

// ——— against brute force ———

/**
 * The reference semantics, written independently of the model: each op ends ANY set of leases
 * (eager and nondeterministic, where the model ends them lazily), at a point in time no earlier
 * than the previous op's, its own invocation and the ended leases' `lo`, and no later than its
 * completion; then the plain fenced-lock rules apply, and a holder an op needs must be alive
 * (point before its `hi`).
 */
interface RefHolder {
  p: number;
  x: boolean;
  token: number;
  lo: number;
  hi: number;
}
interface RefState {
  holders: RefHolder[];
  last: number;
  now: number;
}
interface Planned {
  f: string;
  process: number;
  token: number;
  seen?: [number, number][];
  call: number;
  ret: number;
  info: boolean;
}

function refSteps(s: RefState, o: Planned, lo: number, hi: number): RefState[] {
  const out: RefState[] = [];
  for (let mask = 0; mask < 1 << s.holders.length; mask++) {
    const gone = s.holders.filter((_, i) => mask & (1 << i));
    const holders = s.holders.filter((h) => !gone.includes(h));
    const now = Math.max(s.now, o.call, ...gone.map((h) => h.lo));
    if (now > o.ret) continue;
    const match = (h: RefHolder, p: number, t: number) => h.p === p && (t === -1 || h.token === -1 || h.token === t);
    switch (o.f) {
      case 'acquire':
      case 'acquire-shared': {
        if (o.token !== -1 && o.token <= s.last) break;
        if (holders.some((h) => h.p === o.process)) break;
        const x = o.f === 'acquire';
        if (x ? holders.length > 0 : holders.some((h) => h.x)) break;
        out.push({ holders: [...holders, { p: o.process, x, token: o.token, lo: o.call + lo, hi: o.ret + hi }], last: o.token === -1 ? s.last : o.token, now });
        break;
      }
      case 'release':
      case 'renew': {
        const h = holders.find((h) => match(h, o.process, o.token));
        if (!h || !(now < h.hi)) break;
        const rest = holders.filter((x) => x !== h);
        out.push({ holders: o.f === 'release' ? rest : [...rest, { ...h, lo: Math.max(h.lo, o.call + lo), hi: o.ret + hi }], last: s.last, now });
        break;
      }
      default: {
        // read: exactly the holders seen, each still alive.
        const seen = o.seen ?? [];
        if (seen.length !== holders.length) break;
        if (!holders.every((h) => now < h.hi && seen.some(([p, t]) => match(h, p, t)))) break;
        out.push({ holders, last: s.last, now });
      }
    }
  }
  return out;
}

function bruteForce(ops: Planned[], lo: number, hi: number): boolean {
  const used = new Array<boolean>(ops.length).fill(false);
  const go = (state: RefState): boolean => {
    const pending = ops.filter((o, i) => !used[i] && !o.info);
    if (pending.length === 0) return true;
    const minRet = Math.min(...pending.map((o) => o.ret));
    for (let i = 0; i < ops.length; i++) {
      const o = ops[i] as Planned;
      if (used[i] || o.call > minRet) continue;
      used[i] = true;
      for (const next of refSteps(state, o, lo, hi)) {
        if (go(next)) {
          used[i] = false;
          return true;
        }
      }
      used[i] = false;
    }
    return false;
  };
  return go({ holders: [], last: -1, now: -Infinity });
}

/** A random history of three processes, in ms; a process that gets an info retires. */
function randomLeaseHistory(seed: number): { planned: Planned[]; history: Op[] } {
  const r = prng(seed);
  const planned: Planned[] = [];
  const n = 3 + Math.floor(r() * 5);
  const clock = [r() * 2, r() * 2, r() * 2];
  const lastToken = [-1, -1, -1];
  let pid = [0, 1, 2];
  let next = 3;
  for (let i = 0; i < n; i++) {
    const k = Math.floor(r() * 3);
    const call = (clock[k] as number) + r() * 3;
    const ret = call + r() * 2;
    const info = r() < 0.15;
    const x = r();
    const holding = lastToken[k] !== -1;
    const f = !holding ? (x < 0.6 ? 'acquire' : x < 0.9 ? 'acquire-shared' : 'read') : x < 0.15 ? 'acquire' : x < 0.65 ? 'release' : x < 0.85 ? 'renew' : 'read';
    const token = f.startsWith('acquire') ? Math.floor(call * 4) + Math.floor(r() * 2) : r() < 0.9 ? (lastToken[k] as number) : Math.floor(r() * 10);
    if (f.startsWith('acquire')) lastToken[k] = token;
    else if (f === 'release') lastToken[k] = -1;
    const seen: [number, number][] = [];
    if (f === 'read') for (let j = 0; j < 3; j++) if (j !== k && r() < 0.4) seen.push([pid[j] as number, lastToken[j] as number]);
    planned.push({ f, process: pid[k] as number, token: f.startsWith('acquire') && info ? -1 : token, ...(f === 'read' ? { seen } : {}), call, ret: info ? Infinity : ret, info });
    clock[k] = ret;
    if (info) {
      pid = pid.map((p, j) => (j === k ? next++ : p));
      lastToken[k] = -1;
    }
  }
  const events: { t: number; o: Planned; end: boolean }[] = [];
  for (const o of planned) {
    events.push({ t: o.call, o, end: false });
    if (!o.info) events.push({ t: o.ret, o, end: true });
  }
  events.sort((a, b) => a.t - b.t);
  const history: Op[] = events.map(({ t, o, end }, index) => {
    const grant = o.f.startsWith('acquire');
    const tok = (t: number) => (t === -1 ? null : t);
    const value = o.f === 'read' ? (end ? o.seen?.map(([q, t]) => [q, tok(t)]) : null) : grant ? (end ? o.token : null) : tok(o.token);
    return { index, type: end ? 'ok' : 'invoke', f: o.f, value, process: o.process, time: t * 1e6 };
  });
  return { planned, history };
}

describe('lease-lock against brute force on random timed histories', () => {
  for (const [label, p] of [
    ['no upper bound', { ttlMs: 3, driftBound: 0.1 }],
    ['expiryGraceMs 0.5', { ttlMs: 3, driftBound: 0.1, expiryGraceMs: 0.5 }],
  ] as [string, LeaseParams][]) {
    it(`${label}: 1,500 random histories get the brute-force verdict`, () => {
      const lo = p.ttlMs * (1 - (p.driftBound ?? 0.01));
      const hi = p.ttlMs * (1 + (p.driftBound ?? 0.01)) + (p.expiryGraceMs ?? Infinity);
      let valid = 0;
      let byExpiry = 0;
      for (let seed = 1; seed <= 1500; seed++) {
        const { planned, history } = randomLeaseHistory(seed * 6151 + label.length);
        const want = bruteForce(planned, lo, hi);
        const got = checkHistory(history, leaseLock, { initial: p }).valid;
        assert.equal(got, want, `seed ${seed}: checker says ${String(got)}, brute force ${String(want)}\n${history.map((o) => JSON.stringify(o)).join('\n')}`);
        if (want) {
          valid++;
          if (!planned.some((o) => o.f === 'read' || o.f === 'renew') && checkHistory(history, fencedLock).valid === false) byExpiry++;
        }
      }
      // Both verdicts occur, and some histories are valid only because a lease ended.
      assert.ok(valid > 150 && valid < 1350 && byExpiry > 20, `${valid} of 1500 valid, ${byExpiry} only by expiry`);
    });
  }
});
