import assert from 'node:assert/strict';
import type { Op, ProcessId } from '../../../checkers/index.js';
import {
  any,
  clientsOnly,
  cycle,
  fromFunction,
  isWait,
  limit,
  mix,
  nemesisOnly,
  once,
  ops,
  phases,
  rate,
  repeat,
  sleep,
  stagger,
  timeLimit,
} from '../../../harness/generator/combinators.js';
import type { GenContext, GenResult, Generator, OpSpec } from '../../../harness/generator/generator.js';
import { nextInt, seedRand, type Rand } from '../../../harness/generator/rand.js';

const MS = 1e6;

function ctx(time = 0, free: readonly ProcessId[] = [0, 1, 'nemesis'], processes: readonly ProcessId[] = [0, 1, 'nemesis']): GenContext {
  return { time, free, processes };
}

let index = 0;
const event = (type: Op['type'], f: string, process: ProcessId, value: unknown = null): Op => ({ index: index++, type, f, value, process, time: 0 });

/** Dispatches the answer's op as the interpreter would (invoke, then an instant `ok`); returns the generator after. */
function dispatch(r: GenResult, c: GenContext): Generator {
  assert.ok(r !== null && r !== 'pending' && !isWait(r.op), `expected an op, got ${JSON.stringify(r)}`);
  const p = r.op.process ?? 0;
  return r.gen.update(c, event('invoke', r.op.f, p, r.op.value)).update(c, event('ok', r.op.f, p, r.op.value));
}

/** The ops `gen` emits in `c`, each dispatched and completed at once, until it stops emitting (at most `max`). */
function take(gen: Generator, max = 1000, c = ctx()): OpSpec[] {
  const out: OpSpec[] = [];
  for (let r = gen.op(c); out.length < max && r !== null && r !== 'pending' && !isWait(r.op); r = gen.op(c)) {
    out.push(r.op);
    gen = dispatch(r, c);
  }
  return out;
}

const fs = (specs: readonly OpSpec[]): string[] => specs.map((s) => s.f);

/** An endless generator of `{f: 'x', value: 0..9}` drawn from `seed`. */
const randomValues = (seed: number, f = 'x'): Generator =>
  fromFunction<Rand>(seedRand(seed), (_c, r) => {
    const [v, next] = nextInt(r, 10);
    return [{ f, value: v }, next];
  });

describe('combinators: sources', () => {
  it('ops emits its specs in order, once emits one, then both are exhausted', () => {
    assert.deepEqual(fs(take(ops([{ f: 'a', value: 1 }, { f: 'b', value: 2 }]))), ['a', 'b']);
    assert.deepEqual(take(once({ f: 'a', value: 1 })), [{ f: 'a', value: 1 }]);
    assert.equal(ops([]).op(ctx()), null);
  });

  it('repeat is endless; limit stops it after n ops; limit(0) is empty', () => {
    assert.equal(take(repeat({ f: 'r', value: null }), 50).length, 50);
    assert.equal(take(limit(7, repeat({ f: 'r', value: null }))).length, 7);
    assert.deepEqual(take(repeat((c) => ({ f: 'at', value: c.time })), 2, ctx(5)), [{ f: 'at', value: 5 }, { f: 'at', value: 5 }]);
    assert.equal(limit(0, repeat({ f: 'r', value: null })).op(ctx()), null);
  });

  it('fromFunction threads its state through ops and folds events in with update', () => {
    const counter = fromFunction(
      { next: 0, acked: 0 },
      (_c, s) => (s.next >= 3 ? null : [{ f: 'inc', value: s.next }, { ...s, next: s.next + 1 }]),
      (_c, s, e) => (e.type === 'ok' ? { ...s, acked: s.acked + 1 } : s),
    );
    assert.deepEqual(take(counter).map((s) => s.value), [0, 1, 2]);
    const waiting = fromFunction(0, (c, s) => (c.free.length === 0 ? 'pending' : [{ f: 'go', value: s }, s]));
    assert.equal(waiting.op(ctx(0, [])), 'pending');
  });
});

describe('combinators: purity', () => {
  const table: [string, () => Generator][] = [
    ['fromFunction', () => randomValues(1)],
    ['mix', () => mix([{ weight: 1, gen: randomValues(1, 'a') }, { weight: 2, gen: randomValues(2, 'b') }], seedRand(3))],
    ['rate with jitter', () => rate(100, randomValues(1), { jitter: 'exponential', rand: seedRand(4) })],
    ['stagger', () => stagger(5 * MS, randomValues(1), seedRand(5))],
    ['timeLimit', () => timeLimit(1000 * MS, randomValues(1))],
    ['phases', () => phases(limit(2, randomValues(1, 'a')), randomValues(2, 'b'))],
    ['any', () => any(randomValues(1, 'a'), stagger(MS, randomValues(2, 'b'), seedRand(1)))],
    ['clientsOnly', () => clientsOnly(randomValues(1))],
    ['cycle', () => cycle(limit(2, randomValues(1)))],
  ];
  for (const [name, make] of table) {
    it(`${name}: asking twice gives equal answers, and the original still works after its successor is used`, () => {
      const g = make();
      const c = ctx();
      const first = g.op(c);
      assert.deepEqual(g.op(c), first);
      const later = take(dispatch(first, c), 20);
      assert.equal(later.length, 20);
      assert.deepEqual(g.op(c), first);
      assert.deepEqual(take(g, 21), take(g, 21));
    });
  }

  it('sleep is pure too: the same first answer however often it is asked', () => {
    const s = sleep(10 * MS);
    assert.deepEqual(s.op(ctx(1)), s.op(ctx(1)));
  });
});

describe('combinators: mix', () => {
  const seq = (seed: number): string[] => fs(take(mix([{ weight: 1, gen: repeat({ f: 'a', value: null }) }, { weight: 1, gen: repeat({ f: 'b', value: null }) }], seedRand(seed)), 40));

  it('same seed → same choices; different seeds → different choices', () => {
    assert.deepEqual(seq(1), seq(1));
    assert.notDeepEqual(seq(1), seq(2));
  });

  it('chooses by weight (3:1 → 75 % ± 3 pp)', () => {
    const got = fs(take(mix([{ weight: 3, gen: repeat({ f: 'a', value: null }) }, { weight: 1, gen: repeat({ f: 'b', value: null }) }], seedRand(7)), 4000));
    const share = got.filter((f) => f === 'a').length / got.length;
    assert.ok(Math.abs(share - 0.75) < 0.03, `share ${share}`);
  });

  it('skips exhausted and pending choices, and is exhausted when all are', () => {
    const g = mix([{ weight: 100, gen: once({ f: 'a', value: null }) }, { weight: 1, gen: limit(3, repeat({ f: 'b', value: null })) }], seedRand(1));
    const got = fs(take(g));
    assert.deepEqual([...got].sort(), ['a', 'b', 'b', 'b']);
    const stuck = mix([{ weight: 100, gen: fromFunction(0, () => 'pending') }, { weight: 1, gen: repeat({ f: 'b', value: null }) }], seedRand(1));
    assert.deepEqual(fs(take(stuck, 5)), ['b', 'b', 'b', 'b', 'b']);
    assert.equal(mix([{ weight: 1, gen: fromFunction(0, () => 'pending') }], seedRand(1)).op(ctx()), 'pending');
  });

  it('passes every event to every choice', () => {
    const seen = (tag: string): Generator => fromFunction<string[]>([], (_c, s) => [{ f: tag, value: s.length }, s], (_c, s, e) => [...s, e.f]);
    const g = dispatch(mix([{ weight: 1, gen: seen('a') }, { weight: 1, gen: seen('b') }], seedRand(2)).op(ctx()), ctx());
    // Whichever is chosen, it has seen both events of each earlier op.
    assert.deepEqual(take(g, 3).map((s) => s.value), [2, 4, 6]);
  });
});

/** The op of an answer, failing when it is not one. */
function opOf(r: GenResult): OpSpec {
  assert.ok(r !== null && r !== 'pending' && !isWait(r.op), `expected an op, got ${JSON.stringify(r)}`);
  return r.op;
}

/** The wake-up time of a wait answer, failing when it is not one. */
function waitOf(r: GenResult): number {
  assert.ok(r !== null && r !== 'pending' && isWait(r.op), `expected a wait, got ${JSON.stringify(r)}`);
  return r.op.time as number;
}

const next = (r: GenResult): Generator => {
  assert.ok(r !== null && r !== 'pending');
  return r.gen;
};

describe('combinators: any', () => {
  it('emits the op with the soonest time; ties go to the first', () => {
    const at = (f: string, time?: number): Generator => repeat(time === undefined ? { f, value: null } : { f, value: null, time });
    assert.equal(opOf(any(at('late', 50), at('soon', 10), at('now')).op(ctx(0))).f, 'now');
    assert.equal(opOf(any(at('late', 50), at('soon', 10)).op(ctx(0))).f, 'soon');
    assert.equal(opOf(any(at('one', 10), at('two', 10)).op(ctx(0))).f, 'one');
  });

  it('waits for a child that wakes before the soonest op, and is exhausted when all are', () => {
    const g = any(repeat({ f: 'late', value: null, time: 50 * MS }), phases(sleep(10 * MS), once({ f: 'after-sleep', value: null })));
    const r = g.op(ctx(0));
    assert.equal(waitOf(r), 10 * MS);
    assert.equal(opOf(next(r).op(ctx(10 * MS))).f, 'after-sleep');
    assert.deepEqual(fs(take(any(once({ f: 'a', value: null }), once({ f: 'b', value: null })))), ['a', 'b']);
  });
});

describe('combinators: time', () => {
  it('sleep waits ns from when it is first asked, then is exhausted', () => {
    const r = sleep(10 * MS).op(ctx(3 * MS));
    assert.equal(waitOf(r), 13 * MS);
    assert.equal(waitOf(next(r).op(ctx(12 * MS))), 13 * MS);
    assert.equal(next(r).op(ctx(13 * MS)), null);
    assert.equal(sleep(0).op(ctx(5)), null);
  });

  it('timeLimit starts at the first ask, emits only ops timed before the deadline, then is exhausted', () => {
    const g = timeLimit(50 * MS, repeat({ f: 'x', value: null }));
    const first = g.op(ctx(100 * MS));
    assert.equal(opOf(first).f, 'x');
    const after = dispatch(first, ctx(100 * MS));
    assert.equal(opOf(after.op(ctx(149 * MS))).f, 'x');
    assert.equal(after.op(ctx(150 * MS)), null);
    // An op timed past the deadline is not emitted: the limit waits out its deadline instead.
    const future = timeLimit(50 * MS, repeat({ f: 'x', value: null, time: 70 * MS }));
    const w = future.op(ctx(0));
    assert.equal(waitOf(w), 50 * MS);
    assert.equal(next(w).op(ctx(50 * MS)), null);
  });

  it('timeLimit starts at the first ask even when the inner generator is pending', () => {
    const g = timeLimit(50 * MS, fromFunction(0, (c) => (c.time < 60 * MS ? 'pending' : [{ f: 'x', value: null }, 0])));
    const r = g.op(ctx(0));
    assert.equal(waitOf(r), 50 * MS);
    assert.equal(next(r).op(ctx(60 * MS)), null);
  });

  it('rate without jitter spaces slots exactly 1/rate apart, from the first ask, with scheduledTime', () => {
    const got = take(rate(100, repeat({ f: 'x', value: null })), 5, ctx(7));
    assert.deepEqual(got.map((s) => s.time), [0, 1, 2, 3, 4].map((k) => 7 + k * 10 * MS));
    assert.deepEqual(got.map((s) => s.scheduledTime), got.map((s) => s.time));
    // The inner op's later time wins over the slot.
    assert.equal(opOf(rate(100, repeat({ f: 'x', value: null, time: 3 * MS })).op(ctx(0))).time, 3 * MS);
  });

  const gaps = (specs: readonly OpSpec[]): number[] => specs.slice(1).map((s, i) => (s.time as number) - ((specs[i] as OpSpec).time as number));

  it('rate with jitter: same seed → same slots, different seeds → different; the gaps average 1/rate', () => {
    for (const jitter of ['uniform', 'exponential'] as const) {
      const times = (seed: number, n = 30): number[] => take(rate(100, repeat({ f: 'x', value: null }), { jitter, rand: seedRand(seed) }), n).map((s) => s.time as number);
      assert.deepEqual(times(1), times(1));
      assert.notDeepEqual(times(1), times(2));
      const g = gaps(take(rate(100, repeat({ f: 'x', value: null }), { jitter, rand: seedRand(3) }), 5001));
      const mean = g.reduce((a, b) => a + b, 0) / g.length;
      assert.ok(Math.abs(mean - 10 * MS) < 0.5 * MS, `${jitter}: mean gap ${mean / MS} ms`);
      if (jitter === 'uniform') assert.ok(g.every((x) => x >= 0 && x < 20 * MS));
      // Exponential gaps: about e^-2 ≈ 13.5 % of them exceed twice the mean.
      if (jitter === 'exponential') assert.ok(Math.abs(g.filter((x) => x > 20 * MS).length / g.length - Math.exp(-2)) < 0.02);
    }
  });

  it('stagger times each op a uniform [0, 2·mean) after the previous one', () => {
    const got = take(stagger(10 * MS, repeat({ f: 'x', value: null }), seedRand(1)), 3001, ctx(5));
    assert.equal(got[0]?.time, 5);
    const g = gaps(got);
    assert.ok(g.every((x) => x >= 0 && x < 20 * MS));
    const mean = g.reduce((a, b) => a + b, 0) / g.length;
    assert.ok(Math.abs(mean - 10 * MS) < 0.5 * MS, `mean gap ${mean / MS} ms`);
    assert.ok(got.every((s) => s.scheduledTime === undefined));
  });
});

describe('combinators: routing', () => {
  const bare = (): Generator => repeat({ f: 'x', value: null });

  it('clientsOnly fills in the lowest free client, sees only clients, and waits when none is free', () => {
    assert.equal(opOf(clientsOnly(bare()).op(ctx())).process, 0);
    assert.equal(opOf(clientsOnly(bare()).op(ctx(0, [1, 'nemesis']))).process, 1);
    assert.equal(clientsOnly(bare()).op(ctx(0, ['nemesis'])), 'pending');
    const seen = fromFunction(0, (c) => [{ f: 'saw', value: [c.free, c.processes] }, 0]);
    assert.deepEqual(opOf(clientsOnly(seen).op(ctx())).value, [[0, 1], [0, 1]]);
    assert.equal(clientsOnly(bare()).op(ctx(0, ['nemesis'], ['nemesis'])), null);
  });

  it('nemesisOnly sends ops to the nemesis, waits while it is busy, and is exhausted without one', () => {
    assert.equal(opOf(nemesisOnly(bare()).op(ctx())).process, 'nemesis');
    assert.equal(nemesisOnly(bare()).op(ctx(0, [0, 1])), 'pending');
    assert.equal(nemesisOnly(bare()).op(ctx(0, [0, 1], [0, 1])), null);
    const seen = fromFunction(0, (c) => [{ f: 'saw', value: [c.free, c.processes] }, 0]);
    assert.deepEqual(opOf(nemesisOnly(seen).op(ctx())).value, [['nemesis'], ['nemesis']]);
  });

  it('an inner op naming a process of the other side is a bug', () => {
    assert.throws(() => clientsOnly(repeat({ f: 'x', value: null, process: 'nemesis' })).op(ctx()), /clientsOnly.*"nemesis"/);
    assert.throws(() => nemesisOnly(repeat({ f: 'x', value: null, process: 1 })).op(ctx()), /nemesisOnly.*process 1/);
  });

  it('passes on only the events of its side', () => {
    const count = (): Generator => fromFunction(0, (_c, n) => [{ f: 'n', value: n }, n], (_c, n) => n + 1);
    const c = ctx();
    const events = [event('invoke', 'a', 0), event('ok', 'a', 0), event('invoke', 'b', 'nemesis'), event('info', 'b', 'nemesis'), event('invoke', 'c', 4)];
    const clients = events.reduce((g, e) => g.update(c, e), clientsOnly(count()));
    const nemesis = events.reduce((g, e) => g.update(c, e), nemesisOnly(count()));
    assert.equal(opOf(clients.op(c)).value, 3);
    assert.equal(opOf(nemesis.op(c)).value, 2);
  });
});

describe('combinators: phases and cycle', () => {
  const a = (): Generator => ops([{ f: 'a1', value: null }, { f: 'a2', value: null }]);
  const b = (): Generator => once({ f: 'b', value: null });

  /** Emits the answer's op on `process` (invoke only), returning the generator after. */
  function invoke(r: GenResult, process: ProcessId): Generator {
    const spec = opOf(r);
    return next(r).update(ctx(), event('invoke', spec.f, process));
  }

  it('starts the next phase only once every op of the previous one has completed', () => {
    let g = invoke(phases(a(), b()).op(ctx()), 0);
    g = invoke(g.op(ctx()), 1);
    assert.equal(g.op(ctx()), 'pending', 'a1 and a2 are in flight');
    g = g.update(ctx(), event('ok', 'a1', 0));
    assert.equal(g.op(ctx()), 'pending', 'a2 is in flight');
    g = g.update(ctx(), event('fail', 'a2', 1));
    assert.equal(opOf(g.op(ctx())).f, 'b');
  });

  it('counts an info completion as completed (its process retires, but the op is over)', () => {
    let g = invoke(phases(once({ f: 'a', value: null }), b()).op(ctx()), 0);
    assert.equal(g.op(ctx()), 'pending');
    g = g.update(ctx(), event('info', 'a', 0));
    assert.equal(opOf(g.op(ctx(0, [1, 2], [2, 1]))).f, 'b');
  });

  it('does not wait for ops that other generators emitted', () => {
    // any(other, phases(a, b)): `other`'s op in flight does not hold phases back.
    let g = any(once({ f: 'other', value: null }), phases(once({ f: 'a', value: null }), b()));
    g = invoke(g.op(ctx()), 1);
    g = invoke(g.op(ctx(0, [0, 'nemesis'])), 0);
    g = g.update(ctx(), event('ok', 'a', 0));
    assert.equal(opOf(g.op(ctx(0, [0, 'nemesis']))).f, 'b');
  });

  it('runs through empty and timed phases, and is exhausted after the last', () => {
    const g = phases(ops([]), sleep(10 * MS), b());
    const w = g.op(ctx(0));
    assert.equal(waitOf(w), 10 * MS);
    assert.deepEqual(fs(take(next(w), 10, ctx(10 * MS))), ['b']);
    assert.equal(phases().op(ctx()), null);
  });

  it('cycle starts its generator again when exhausted, and is exhausted only when it emits nothing', () => {
    assert.deepEqual(fs(take(cycle(a()), 5)), ['a1', 'a2', 'a1', 'a2', 'a1']);
    assert.equal(cycle(ops([])).op(ctx()), null);
    const w = cycle(phases(sleep(5), b())).op(ctx(0));
    assert.equal(waitOf(w), 5);
  });
});

describe('combinators: arguments', () => {
  const g = repeat({ f: 'x', value: null });
  const cases: [string, () => unknown, string][] = [
    ['rate 0', () => rate(0, g), 'opsPerSecond'],
    ['rate -1', () => rate(-1, g), 'opsPerSecond'],
    ['rate Infinity', () => rate(Infinity, g), 'opsPerSecond'],
    ['rate jitter', () => rate(1, g, { jitter: 'gaussian' as 'none' }), 'jitter'],
    ['timeLimit -1', () => timeLimit(-1, g), 'ns'],
    ['sleep NaN', () => sleep(NaN), 'ns'],
    ['limit 1.5', () => limit(1.5, g), 'n'],
    ['limit -1', () => limit(-1, g), 'n'],
    ['stagger -1', () => stagger(-1, g, seedRand(1)), 'meanNs'],
    ['mix empty', () => mix([], seedRand(1)), 'entries'],
    ['mix weight 0', () => mix([{ weight: 1, gen: g }, { weight: 0, gen: g }], seedRand(1)), 'entries[1].weight'],
    ['mix weight NaN', () => mix([{ weight: NaN, gen: g }], seedRand(1)), 'entries[0].weight'],
  ];
  for (const [name, f, arg] of cases) {
    it(`${name}: RangeError naming ${arg}`, () => {
      assert.throws(f, (e: unknown) => e instanceof RangeError && e.message.startsWith(`${arg}:`));
    });
  }
});
