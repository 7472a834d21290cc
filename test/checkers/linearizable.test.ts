import assert from 'node:assert/strict';
import { join } from 'node:path';
import { checkHistory, findModel, independent, parseHistory, readHistory, type Model, type Op } from '../../checkers/index.js';
import { knossosModelFor } from '../../harness/bench/knossos-models.js';
import { syntheticRegisterHistory } from '../../harness/bench/synthetic-history.js';
import { prng } from '../../harness/random.js';
import { historyFiles, knossosDir } from '../support/paths.js';

const model = (name: string): Model => findModel(name) as Model;
const edn = (lines: string[]): Op[] => parseHistory(lines.join('\n'), 't.edn').ops;

describe('linearizability checker', () => {
  describe('Knossos histories get their known verdicts', () => {
    const files = historyFiles(knossosDir);
    it('has the shared histories to check', () => assert.ok(files.length >= 80, `only ${files.length} files in ${knossosDir}`));
    for (const rel of files) {
      const known = knossosModelFor(rel);
      it(`${rel} is ${known?.expected ? 'valid' : 'invalid'} as ${known?.model.name}`, async () => {
        assert.ok(known, `no model known for ${rel}`);
        const { ops } = await readHistory(join(knossosDir, rel));
        const r = checkHistory(ops, known.model, known.initial === undefined ? {} : { initial: known.initial });
        assert.equal(r.valid, known.expected);
        if (!known.expected) {
          const bad = r.partitions.find((p) => p.valid === false);
          assert.ok(bad?.stuck, 'an invalid history names the op where it gets stuck');
          assert.ok(Array.isArray(bad.longest));
        }
      });
    }
  });

  it('reports the longest partial linearization and the op it gets stuck on', () => {
    // The register holds 0; a read of 3 concurrent with a write of 4 is impossible.
    const r = checkHistory(
      edn([
        '{:type :invoke :f :write :value 0 :process 0}',
        '{:type :ok :f :write :value 0 :process 0}',
        '{:type :invoke :f :read :process 1}',
        '{:type :invoke :f :write :value 4 :process 2}',
        '{:type :ok :f :read :value 3 :process 1}',
        '{:type :ok :f :write :value 4 :process 2}',
      ]),
      model('cas-register'),
    );
    assert.equal(r.valid, false);
    const p = r.partitions[0];
    assert.equal(p?.stuck?.index, 2);
    assert.equal(p?.stuck?.value, '3');
    assert.deepEqual(p?.longest?.map((s) => [s.op.f, s.state]), [['write', '0'], ['write', '4']]);
  });

  it('lets an info op take effect at any later point, or never', () => {
    const ops = (laterRead: string[]) =>
      edn([
        '{:type :invoke :f :write :value 1 :process 0}',
        '{:type :info :f :write :value 1 :process 0}',
        '{:type :invoke :f :write :value 2 :process 2}',
        '{:type :ok :f :write :value 2 :process 2}',
        '{:type :invoke :f :read :process 3}',
        '{:type :ok :f :read :value 1 :process 3}',
        ...laterRead,
      ]);
    // The timed-out write of 1 took effect after the write of 2.
    assert.equal(checkHistory(ops([]), model('register')).valid, true);
    // ...but it took effect once: a later read cannot see 2 again.
    const again = ['{:type :invoke :f :read :process 4}', '{:type :ok :f :read :value 2 :process 4}'];
    assert.equal(checkHistory(ops(again), model('register')).valid, false);
    // A timed-out write that never took effect is fine too.
    const never = edn([
      '{:type :invoke :f :write :value 1 :process 0}',
      '{:type :info :f :write :value 1 :process 0}',
      '{:type :invoke :f :read :process 3}',
      '{:type :ok :f :read :value 0 :process 3}',
    ]);
    assert.equal(checkHistory(never, model('register'), { initial: 0 }).valid, true);
  });

  it('checks independent keys separately and fails the history when one key fails', () => {
    const h = edn([
      '{:type :invoke :f :write :value [:a 1] :process 0}',
      '{:type :ok :f :write :value [:a 1] :process 0}',
      '{:type :invoke :f :read :value [:b nil] :process 1}',
      '{:type :ok :f :read :value [:b 5] :process 1}',
      '{:type :invoke :f :read :value [:a nil] :process 1}',
      '{:type :ok :f :read :value [:a 1] :process 1}',
    ]);
    const r = checkHistory(h, independent(model('register')));
    assert.equal(r.valid, false);
    assert.deepEqual(
      r.partitions.map((p) => [String(p.key), p.valid]),
      [[':a', true], [':b', false]],
    );
  });

  it('gives up with unknown when the time budget runs out inside a partition', () => {
    // One key, many concurrent processes: a search far longer than the budget.
    const h = syntheticRegisterHistory({ ops: 3000, keys: 1, processes: 20, seed: 3 });
    let clock = 0;
    let reads = 0;
    const r = checkHistory(h, independent(model('register')), {
      timeoutMs: 50,
      now: () => {
        reads++;
        return (clock += 1);
      },
    });
    assert.equal(r.valid, 'unknown');
    assert.equal(r.partitions.length, 1, 'the budget ran out inside the only partition');
    assert.match(r.reason ?? '', /time budget ran out during the search/);
    assert.ok(reads > 3, 'the clock was read inside the search');
    assert.ok(r.partitions[0]?.longest, 'an unknown partition still reports how far it got');
  });

  it('gives up with unknown when the memory bound is reached', () => {
    const h = syntheticRegisterHistory({ ops: 3000, keys: 1, processes: 20, seed: 3 });
    const r = checkHistory(h, independent(model('register')), { maxCacheEntries: 5000 });
    assert.equal(r.valid, 'unknown');
    assert.match(r.reason ?? '', /more than 5000 configurations/);
  });

  it('checks a 20,000-op, 10-key, 20-process generated history, and finds a corrupted read', () => {
    const ok = syntheticRegisterHistory({ ops: 20_000, keys: 10, processes: 20, seed: 7, infoRate: 0.005 });
    assert.equal(checkHistory(ok, independent(model('register'))).valid, true);
    const bad = syntheticRegisterHistory({ ops: 20_000, keys: 10, processes: 20, seed: 7, infoRate: 0.005, corruptAt: 0.6 });
    const r = checkHistory(bad, independent(model('register')));
    assert.equal(r.valid, false);
    assert.equal(r.partitions.filter((p) => p.valid === false).length, 1);
  });

  it('refuses an initial value for a model that takes none', () => {
    assert.throws(() => checkHistory([], model('mutex'), { initial: 1 }), /takes no initial value/);
  });
});

// A brute-force reference: tries every order of the ok ops and every subset of the info ops
// (each taking effect or not) that respects real time, with the models' semantics written out
// independently of checkers/models. Random small histories must get the same verdict.
type Sem = (state: unknown, op: { f: string; value: unknown; process: number }) => unknown | undefined;
const NO = undefined;
const semantics: Record<string, { init: unknown; step: Sem; gen: (r: () => number, p: number) => { f: string; value: unknown } }> = {
  'cas-register': {
    init: null,
    step: (s, { f, value }) => {
      if (f === 'write') return value;
      if (f === 'read') return value === null || value === s ? s : NO;
      const [a, b] = value as [unknown, unknown];
      return a === s ? b : NO;
    },
    gen: (r) => {
      const x = r();
      const v = () => Math.floor(r() * 3);
      return x < 0.4 ? { f: 'read', value: v() } : x < 0.7 ? { f: 'write', value: v() } : { f: 'cas', value: [v(), v()] };
    },
  },
  mutex: {
    init: false,
    step: (s, { f }) => (f === 'acquire' ? (s ? NO : true) : s ? false : NO),
    gen: (r) => ({ f: r() < 0.5 ? 'acquire' : 'release', value: null }),
  },
  'fenced-lock': {
    // state: [holders as "p:mode" list, last token]
    init: [[], -1],
    step: (s, { f, value, process }) => {
      const [holders, last] = s as [string[], number];
      const mine = holders.find((h) => h.startsWith(`${process}:`));
      if (f === 'release') return mine ? [holders.filter((h) => h !== mine), last] : NO;
      const token = value as number;
      if (token <= last || mine) return NO;
      if (f === 'acquire') return holders.length === 0 ? [[`${process}:x`], token] : NO;
      return holders.some((h) => h.endsWith(':x')) ? NO : [[...holders, `${process}:s`], token];
    },
    gen: (r, p) => {
      const x = r();
      // Tokens mostly grow with the op's number, sometimes not.
      const token = 2 * p + Math.floor(r() * 3);
      return x < 0.25 ? { f: 'acquire', value: token } : x < 0.85 ? { f: 'acquire-shared', value: token } : { f: 'release', value: null };
    },
  },
  kv: {
    // one key; state: its string. Values are [key value] tuples.
    init: '',
    step: (s, { f, value }) => {
      const v = (value as [string, string])[1];
      if (f === 'append') return `${s as string}${v}`;
      return v === s ? s : NO;
    },
    gen: (r) => {
      if (r() < 0.5) return { f: 'append', value: ['k', r() < 0.5 ? 'a' : 'b'] };
      let v = '';
      for (let n = Math.floor(r() * 3); n > 0; n--) v += r() < 0.5 ? 'a' : 'b';
      return { f: 'get', value: ['k', v] };
    },
  },
};

interface Planned {
  f: string;
  value: unknown;
  process: number;
  call: number;
  ret: number;
  info: boolean;
}

function bruteForce(sem: (typeof semantics)[string], ops: Planned[]): boolean {
  const used = new Array<boolean>(ops.length).fill(false);
  const go = (state: unknown, placed: number): boolean => {
    const pendingOk = ops.some((o, i) => !used[i] && !o.info);
    if (!pendingOk) return true;
    // An op may come next if no unplaced ok op returned before it was invoked.
    const minRet = Math.min(...ops.filter((o, i) => !used[i] && !o.info).map((o) => o.ret));
    for (let i = 0; i < ops.length; i++) {
      const o = ops[i] as Planned;
      if (used[i] || o.call > minRet) continue;
      const next = sem.step(state, o);
      if (next === undefined) continue;
      used[i] = true;
      const ok = go(next, placed + 1);
      used[i] = false;
      if (ok) return true;
    }
    return false;
  };
  return go(sem.init, 0);
}

/**
 * A random small history of the model `name`. With `reuse`, some info ops complete with an
 * explicit `info` event and their process goes on (not Jepsen's convention, but histories from
 * elsewhere do it): a process's later ops then follow its info ops.
 */
function randomHistory(name: string, seed: number, reuse = false): { planned: Planned[]; history: Op[] } {
  const r = prng(seed);
  const sem = semantics[name] as (typeof semantics)[string];
  const n = 3 + Math.floor(r() * 5);
  const planned: Planned[] = [];
  for (let i = 0; i < n; i++) {
    const call = r() * 10;
    const op = sem.gen(r, i);
    const info = r() < 0.2;
    planned.push({ ...op, process: i % 3, call, ret: info ? Infinity : call + r() * 4, info });
  }
  return toHistory(planned, r, reuse);
}

/**
 * The history of `planned` ops (call and return times; `info` ones never return, or with `reuse`
 * often do, their process going on), which it renumbers to event indices.
 */
function toHistory(planned: Planned[], r: () => number, reuse: boolean): { planned: Planned[]; history: Op[] } {
  const events: { t: number; i: number; end: boolean }[] = [];
  // Give each process's ops sequential times so the history pairs up.
  planned.sort((a, b) => a.call - b.call);
  const busyUntil = new Map<number, number>();
  let nextProcess = 100;
  const infoEnd = new Map<Planned, number>();
  for (const p of planned) {
    if ((busyUntil.get(p.process) ?? -1) > p.call) p.process = nextProcess++;
    busyUntil.set(p.process, p.ret);
    if (p.info) {
      const end = reuse && r() < 0.7 ? p.call + r() * 4 : Infinity;
      if (end !== Infinity) infoEnd.set(p, end);
      busyUntil.set(p.process, end);
    }
  }
  planned.forEach((p, i) => {
    events.push({ t: p.call, i, end: false });
    if (!p.info) events.push({ t: p.ret, i, end: true });
    else if (infoEnd.has(p)) events.push({ t: infoEnd.get(p) as number, i, end: true });
  });
  events.sort((a, b) => a.t - b.t);
  const history: Op[] = events.map((e, index) => {
    const p = planned[e.i] as Planned;
    // Invocations carry the argument; reads and lock grants carry their result on completion.
    const readLike = p.f === 'read' || p.f === 'get' || p.f === 'acquire' || p.f === 'acquire-shared';
    const invokeValue = !readLike ? p.value : Array.isArray(p.value) && p.f !== 'read' ? [p.value[0], null] : null;
    const type = !e.end ? 'invoke' : p.info ? 'info' : 'ok';
    return { index, type, f: p.f, value: e.end && !p.info ? p.value : invokeValue, process: p.process };
  });
  planned.forEach((p, i) => {
    p.call = events.findIndex((e) => e.i === i && !e.end);
    p.ret = p.info ? Infinity : events.findIndex((e) => e.i === i && e.end);
  });
  return { planned, history };
}

/**
 * Lock semantics with reads and renewals, written out independently of checkers/models: the state
 * is the holders as `process:mode:token` (token `?` when its acquire was `info`: unknown, matching
 * any token a read, renewal or release names, and raising nothing) and the last token.
 */
function lockSemantics(fenced: boolean): Sem {
  const tokenMatches = (held: string, named: unknown): boolean => !fenced || held === '?' || named === null || String(named) === held;
  return (s, op) => {
    const { f, value, process } = op;
    const info = (op as { info?: boolean }).info === true;
    const [holders, last] = s as [string[], number];
    const parts = holders.map((h) => h.split(':') as [string, string, string]);
    const mine = parts.find(([p]) => p === String(process));
    switch (f) {
      case 'read': {
        const seen = (value as [number, number][]).map(([p, t]) => [String(p), String(t)]).sort((a, b) => Number(a[0]) - Number(b[0]));
        const held = [...parts].sort((a, b) => Number(a[0]) - Number(b[0]));
        return seen.length === held.length && held.every(([p, , t], i) => p === seen[i]?.[0] && tokenMatches(t, seen[i]?.[1])) ? s : NO;
      }
      case 'renew':
        return mine && tokenMatches(mine[2], value) ? s : NO;
      case 'release':
        return mine && tokenMatches(mine[2], value) ? [holders.filter((h) => !h.startsWith(`${process}:`)), last] : NO;
      default: {
        const token = info ? '?' : String(value);
        if (mine || (fenced && !info && (value as number) <= last)) return NO;
        const next = info ? last : (value as number);
        if (f === 'acquire') return holders.length === 0 ? [[`${process}:x:${token}`], next] : NO;
        return parts.some(([, m]) => m === 'x') ? NO : [[...holders, `${process}:s:${token}`], next];
      }
    }
  };
}

/**
 * A random small lock history with reads and renewals: planned from a sequential run (so most
 * reads and grants are right), then some reads, renewals and tokens made wrong, and the ops spread
 * in real time so that neighbours overlap. Processes that would overlap themselves are renamed,
 * which makes more histories wrong. The brute force judges each.
 */
function randomLockHistory(seed: number): { planned: Planned[]; history: Op[]; wrongReads: number } {
  const r = prng(seed);
  const n = 3 + Math.floor(r() * 6);
  const holders = new Map<number, { mode: string; token: number }>();
  let last = 0;
  let wrongReads = 0;
  const planned: Planned[] = [];
  for (let i = 0; i < n; i++) {
    const process = Math.floor(r() * 3);
    const at = i * 2 + r();
    const info = r() < 0.15;
    const mine = holders.get(process);
    const x = r();
    let f: string;
    let value: unknown;
    if (x < 0.3) {
      f = 'read';
      const seen: [number, number][] = [...holders].map(([p, h]) => [p, h.token]);
      const y = r();
      if (y < 0.12 && seen.length > 0) seen.pop();
      else if (y < 0.2) seen.push([(process + 1) % 3, last]);
      else if (y < 0.28 && seen.length > 0) (seen[0] as [number, number])[1] += 1;
      if (y < 0.28) wrongReads++;
      value = seen;
    } else if (mine) {
      f = r() < 0.4 ? 'renew' : 'release';
      value = r() < 0.1 ? mine.token + 1 : mine.token;
      if (f === 'release' && (!info || r() < 0.5)) holders.delete(process);
    } else {
      f = r() < 0.4 ? 'acquire' : 'acquire-shared';
      value = r() < 0.1 ? last : ++last;
      const exclusiveHeld = [...holders.values()].some((h) => h.mode === 'x');
      const fits = f === 'acquire' ? holders.size === 0 : !exclusiveHeld;
      if (fits && (!info || r() < 0.5)) holders.set(process, { mode: f === 'acquire' ? 'x' : 's', token: value as number });
    }
    planned.push({ f, value, process, call: at - r() * 2.5, ret: info ? Infinity : at + r() * 2.5, info });
  }
  return { ...toHistory(planned, r, false), wrongReads };
}

describe('linearizability checker against brute force on random small histories', () => {
  for (const [name, fenced] of [['fenced-lock', true], ['rw-lock', false]] as const) {
    it(`${name} with reads and renewals: 1,000 random histories get the brute-force verdict`, () => {
      const m = model(name);
      const sem = { init: [[], -1], step: lockSemantics(fenced), gen: () => ({ f: 'read', value: [] }) };
      let valid = 0;
      let rejectedWrongReads = 0;
      for (let seed = 1; seed <= 1000; seed++) {
        const { planned, history, wrongReads } = randomLockHistory(seed * 6007 + (fenced ? 1 : 2));
        const want = bruteForce(sem, planned);
        const got = checkHistory(history, m).valid;
        assert.equal(got, want, `seed ${seed}: checker says ${String(got)}, brute force ${String(want)}\n${history.map((o) => JSON.stringify(o)).join('\n')}`);
        if (want) valid++;
        else if (wrongReads > 0) rejectedWrongReads++;
      }
      // Both verdicts occur (about 150 valid), and many rejections involve a wrong read.
      assert.ok(valid > 80 && valid < 900, `${valid} of 1000 valid`);
      assert.ok(rejectedWrongReads > 100, `only ${rejectedWrongReads} histories with a wrong read rejected`);
    });
  }

  it('fenced-lock with processes that go on after an info op: 1,000 random histories get the brute-force verdict', () => {
    let valid = 0;
    let reused = 0;
    for (let seed = 1; seed <= 1000; seed++) {
      const { planned, history } = randomHistory('fenced-lock', seed * 104_729, true);
      if (history.some((o) => o.type === 'info')) reused++;
      const want = bruteForce(semantics['fenced-lock'] as (typeof semantics)[string], planned);
      const got = checkHistory(history, model('fenced-lock')).valid;
      assert.equal(got, want, `seed ${seed}: checker says ${String(got)}, brute force ${String(want)}\n${history.map((o) => JSON.stringify(o)).join('\n')}`);
      if (want) valid++;
    }
    assert.ok(valid > 50 && valid < 950 && reused > 100, `${valid} of 1000 valid, ${reused} with an info op that completed`);
  });
  for (const name of Object.keys(semantics)) {
    it(`${name}: 1,000 random histories get the brute-force verdict`, () => {
      const m = model(name);
      let valid = 0;
      for (let seed = 1; seed <= 1000; seed++) {
        const { planned, history } = randomHistory(name, seed * 7919 + name.length);
        const want = bruteForce(semantics[name] as (typeof semantics)[string], planned);
        const got = checkHistory(history, m).valid;
        assert.equal(got, want, `seed ${seed}: checker says ${String(got)}, brute force ${String(want)}\n${history.map((o) => JSON.stringify(o)).join('\n')}`);
        if (want) valid++;
      }
      // Both verdicts occur, so the comparison means something.
      assert.ok(valid > 50 && valid < 950, `${valid} of 1000 valid`);
    });
  }
});
