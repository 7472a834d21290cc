import assert from 'node:assert/strict';
import type { Op, ProcessId } from '../../../checkers/index.js';
import { any, clientsOnly, fromFunction, limit, mix, nemesisOnly, once, ops, phases, phasesAwaitingNemesis, rate, repeat, sleep, timeLimit } from '../../../harness/generator/combinators.js';
import type { Generator, GenContext, GenResult } from '../../../harness/generator/generator.js';
import { ABANDONED_ERROR, interpret, realClock, type Clock } from '../../../harness/generator/interpreter.js';
import type { Completion } from '../../../harness/index.js';
import { keyName, sampleKey } from '../../../harness/generator/keys.js';
import { nextFloat, seedRand, split, type Rand } from '../../../harness/generator/rand.js';
import { virtualClock } from '../../support/virtual-clock.js';

const MS = 1e6;

/** A client that answers `ok` with the op's value after `latency(op)` ns of the clock. */
function slowClient(clock: Clock, latency: (op: Op) => number, answer: (op: Op) => Completion = (op) => ({ type: 'ok', value: op.value })) {
  return async (op: Op): Promise<Completion> => {
    await clock.sleep(latency(op));
    return answer(op);
  };
}

const invokes = (h: readonly Op[]): Op[] => h.filter((e) => e.type === 'invoke');
const completions = (h: readonly Op[]): Op[] => h.filter((e) => e.type !== 'invoke');

/** Checks the history's shape: indices in order, times non-decreasing, each invoke completed once by its process. */
function assertWellFormed(h: readonly Op[]): void {
  const open = new Map<ProcessId, Op>();
  h.forEach((e, i) => {
    assert.equal(e.index, i);
    if (i > 0) assert.ok((e.time as number) >= ((h[i - 1] as Op).time as number), `time goes back at ${i}`);
    if (e.type === 'invoke') {
      assert.ok(!open.has(e.process), `process ${e.process} invoked twice at ${i}`);
      open.set(e.process, e);
    } else {
      assert.equal(open.get(e.process)?.f, e.f, `completion ${i} without its invoke`);
      open.delete(e.process);
    }
  });
  assert.equal(open.size, 0, 'an invoke without completion');
}

/** A seeded workload: reads and writes of zipfian keys, their mix seeded too. */
function workload(seed: number): Generator {
  const [r1, r2] = split(seedRand(seed));
  const keyed = (f: string, r: Rand): Generator =>
    fromFunction(r, (_c, s) => {
      const [k, s1] = sampleKey({ kind: 'zipfian', count: 5 }, s);
      const [x, s2] = nextFloat(s1);
      return [{ f, value: [keyName('k', k), Math.floor(x * 10)] }, s2];
    });
  return mix([{ weight: 2, gen: keyed('read', r1) }, { weight: 1, gen: keyed('write', r2) }], seedRand(seed + 1000));
}

/** Latency by value: 1..10 ms, so the seed shapes the timing too. */
const byValue = (op: Op): number => (1 + ((op.value as [string, number])[1] ?? 0)) * MS;

describe('interpreter: determinism and shape (virtual clock)', () => {
  const run = async (seed: number): Promise<Op[]> => {
    const clock = virtualClock();
    const gen = timeLimit(200 * MS, clientsOnly(rate(500, workload(seed), { jitter: 'exponential', rand: seedRand(seed) })));
    const { history, aborted } = await interpret({ gen, concurrency: 3, client: slowClient(clock, byValue), clock });
    assert.equal(aborted, false);
    return history;
  };

  it('the same seed gives the same history (f, value, process, time); another seed another', async () => {
    const a = await run(1);
    const b = await run(1);
    const c = await run(2);
    assert.ok(invokes(a).length > 30, `${invokes(a).length} ops`);
    const strip = (h: Op[]) => h.map(({ f, value, process, time, type }) => ({ f, value, process, time, type }));
    assert.deepEqual(strip(a), strip(b));
    assert.notDeepEqual(strip(a), strip(c));
    assertWellFormed(a);
    assertWellFormed(c);
  });

  it('records invokes as {index, type, f, value, process, time} (+ scheduledTime only from a rate) and completions with the client extras', async () => {
    const clock = virtualClock();
    const client = slowClient(clock, () => MS, (op) => ({ type: 'ok', value: 7, node: 'n2', process: 99, f: 'forged' }));
    const { history } = await interpret({ gen: clientsOnly(once({ f: 'read', value: undefined })), concurrency: 1, client, clock });
    assert.deepEqual(history, [
      { index: 0, type: 'invoke', f: 'read', value: null, process: 0, time: 0 },
      { index: 1, type: 'ok', f: 'read', value: 7, process: 0, time: MS, node: 'n2' },
    ]);
  });

  it('appends to a given history, indices continuing, and reports every event to onEvent', async () => {
    const clock = virtualClock();
    const old: Op[] = [{ index: 0, type: 'invoke', f: 'x', value: null, process: 0 }, { index: 1, type: 'ok', f: 'x', value: null, process: 0 }];
    const seen: Op[] = [];
    const { history } = await interpret({ gen: ops([{ f: 'a', value: 1 }, { f: 'b', value: 2 }]), concurrency: 2, client: slowClient(clock, () => MS), clock, history: old, onEvent: (e) => seen.push(e) });
    assert.equal(history, old);
    assert.deepEqual(history.map((e) => e.index), [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(seen, history.slice(2));
    assert.deepEqual(invokes(seen).map((e) => e.process), [0, 1]);
  });
});

describe('interpreter: open loop', () => {
  it('rate(100) against a 50 ms client keeps 10 ms slots while invoking every 50 ms: latency from the slot grows', async () => {
    const clock = virtualClock();
    const gen = timeLimit(300 * MS, clientsOnly(rate(100, repeat({ f: 'x', value: null }))));
    const { history } = await interpret({ gen, concurrency: 1, client: slowClient(clock, () => 50 * MS), clock });
    assertWellFormed(history);
    const inv = invokes(history);
    assert.deepEqual(inv.map((e) => e.time), [0, 50, 100, 150, 200, 250].map((t) => t * MS));
    assert.deepEqual(inv.map((e) => e.scheduledTime), [0, 10, 20, 30, 40, 50].map((t) => t * MS));
    const latency = completions(history).map((c, i) => (c.time as number) - ((inv[i] as Op).scheduledTime as number));
    assert.deepEqual(latency, [50, 90, 130, 170, 210, 250].map((t) => t * MS));
  });
});

describe('interpreter: phases, limits, processes', () => {
  it('phases waits for the in-flight ops of a phase before starting the next', async () => {
    const clock = virtualClock();
    const latency = (op: Op): number => (op.value as number) * MS;
    const gen = phases(clientsOnly(ops([{ f: 'a', value: 10 }, { f: 'a', value: 30 }, { f: 'a', value: 20 }])), clientsOnly(once({ f: 'b', value: 1 })));
    const { history } = await interpret({ gen, concurrency: 3, client: slowClient(clock, latency), clock });
    assertWellFormed(history);
    const b = history.find((e) => e.type === 'invoke' && e.f === 'b');
    assert.equal(b?.time, 30 * MS);
    assert.ok(completions(history).filter((e) => e.f === 'a').every((e) => (e.time as number) <= 30 * MS && e.index < (b as Op).index));
  });

  it('timeLimit stops issuing at its deadline; the run returns once in-flight ops complete', async () => {
    const clock = virtualClock();
    const gen = timeLimit(100 * MS, clientsOnly(repeat({ f: 'x', value: null })));
    const { history, aborted } = await interpret({ gen, concurrency: 2, client: slowClient(clock, () => 7 * MS), clock });
    assertWellFormed(history);
    assert.equal(aborted, false);
    const times = invokes(history).map((e) => e.time as number);
    assert.ok(times.every((t) => t < 100 * MS));
    assert.equal(Math.max(...times), 98 * MS);
    assert.equal(clock.now(), 105 * MS);
  });

  it('an info completion retires the process: thread t continues as t + concurrency, and the old id never returns', async () => {
    const clock = virtualClock();
    let calls = 0;
    const client = slowClient(clock, () => MS, (op) => ({ type: ++calls % 3 === 0 ? 'info' : 'ok', value: op.value }));
    const { history } = await interpret({ gen: clientsOnly(limit(12, repeat({ f: 'x', value: null }))), concurrency: 2, client, clock });
    assertWellFormed(history);
    const infos = history.filter((e) => e.type === 'info');
    assert.equal(infos.length, 4);
    let successors = 0;
    for (const info of infos) {
      const p = info.process as number;
      // Later invokes of the same thread (same parity): the first is p + 2, none is p or below.
      const later = invokes(history.slice(info.index + 1)).filter((e) => (e.process as number) % 2 === p % 2);
      assert.ok(later.every((e) => (e.process as number) > p), `process ${p} invoked after its info`);
      if (later[0]) assert.equal(later[0].process, p + 2);
      if (later[0]) successors++;
    }
    assert.ok(successors >= 2, `${successors} retired threads ran again`);
  });

  it('a client that throws, rejects or returns garbage yields an info with the error; the run goes on', async () => {
    const clock = virtualClock();
    const client = (op: Op): Promise<Completion> => {
      if (op.value === 1) throw new Error('boom (sync)');
      if (op.value === 2) return Promise.reject(new Error('boom (async)'));
      if (op.value === 3) return Promise.resolve({ type: 'maybe' } as unknown as Completion);
      return slowClient(clock, () => MS)(op);
    };
    const { history } = await interpret({ gen: ops([1, 2, 3, 4].map((value) => ({ f: 'x', value }))), concurrency: 1, client, clock });
    assertWellFormed(history);
    const done = completions(history);
    assert.deepEqual(done.map((e) => [e.type, e.value]), [['info', 1], ['info', 2], ['info', 3], ['ok', 4]]);
    assert.deepEqual(done.slice(0, 2).map((e) => e.error), ['boom (sync)', 'boom (async)']);
    assert.match(String(done[2]?.error), /invalid completion.*maybe/);
    assert.deepEqual(invokes(history).map((e) => e.process), [0, 1, 2, 3]);
  });

  it('abort stops issuing, waits for in-flight ops, and returns aborted: true', async () => {
    const clock = virtualClock();
    const ac = new AbortController();
    const onEvent = (e: Op): void => {
      if (e.type === 'invoke' && e.index >= 4) ac.abort();
    };
    const gen = clientsOnly(repeat({ f: 'x', value: null }));
    const { history, aborted } = await interpret({ gen, concurrency: 3, client: slowClient(clock, () => 10 * MS), clock, onEvent, signal: ac.signal });
    assert.equal(aborted, true);
    assertWellFormed(history);
    const trigger = invokes(history).find((e) => e.index >= 4) as Op;
    assert.equal(invokes(history).at(-1), trigger, 'no invoke after the abort');
    assert.ok(history.length > trigger.index + 1, 'in-flight ops completed after the abort');
  });

  it('abort wakes a run that is only waiting', async () => {
    const clock = virtualClock();
    const ac = new AbortController();
    void clock.sleep(50 * MS).then(() => ac.abort());
    const { history, aborted } = await interpret({ gen: sleep(3600_000 * MS), concurrency: 1, client: slowClient(clock, () => MS), clock, signal: ac.signal });
    assert.deepEqual([history, aborted], [[], true]);
    assert.ok(clock.now() <= 60 * MS);
  });
});

describe('interpreter: stopping on time (drainNs, stopOp)', () => {
  /** A client whose `hang` ops never complete (a partition) and the rest take 1 ms. */
  const hangingClient = (clock: Clock) => (op: Op): Promise<Completion> => (op.f === 'hang' ? new Promise<Completion>(() => undefined) : slowClient(clock, () => MS)(op));
  const nemesis = (clock: Clock, ms = 1) => slowClient(clock, () => ms * MS, (op) => ({ type: 'info', value: op.f }));

  it('client ops still in flight drainNs after the end are recorded as info (abandoned); late completions are dropped', async () => {
    const clock = virtualClock();
    let release: (() => void) | undefined;
    const client = (op: Op): Promise<Completion> =>
      op.f === 'late' ? new Promise<Completion>((r) => (release = () => r({ type: 'ok', value: 'too late' }))) : slowClient(clock, () => MS)(op);
    const gen = clientsOnly(ops([{ f: 'late', value: 1 }, { f: 'quick', value: 2 }]));
    const { history, abandoned } = await interpret({ gen, concurrency: 2, client, clock, drainNs: 50 * MS });
    assert.equal(abandoned, 1);
    assertWellFormed(history);
    const late = history.find((e) => e.f === 'late' && e.type !== 'invoke') as Op;
    assert.deepEqual([late.type, late.value, late.error, late.time], ['info', 1, ABANDONED_ERROR, 50 * MS]);
    release?.();
    await new Promise((r) => setImmediate(r));
    assert.equal(history.filter((e) => e.value === 'too late').length, 0, 'a late completion is not recorded');
  });

  it('stop: the stopOp goes to the nemesis at once and the run returns drainNs later, however long the clients hang', async () => {
    const clock = virtualClock();
    const ac = new AbortController();
    void clock.sleep(30 * MS).then(() => ac.abort());
    const gen = any(clientsOnly(repeat({ f: 'hang', value: null })), nemesisOnly(once({ f: 'start-partition', value: null })));
    const { history, aborted, abandoned } = await interpret({ gen, concurrency: 3, client: hangingClient(clock), nemesis: nemesis(clock), clock, signal: ac.signal, stopOp: { f: 'heal', value: null }, drainNs: 100 * MS });
    assert.deepEqual([aborted, abandoned], [true, 3]);
    assertWellFormed(history);
    const heal = history.filter((e) => e.f === 'heal');
    assert.deepEqual(heal.map((e) => [e.type, e.process, e.time]), [['invoke', 'nemesis', 30 * MS], ['info', 'nemesis', 31 * MS]]);
    assert.equal(clock.now(), 130 * MS, 'returns drainNs after the stop');
  });

  it('stop while the nemesis is busy: the stopOp follows the op in flight as soon as it completes', async () => {
    const clock = virtualClock();
    const ac = new AbortController();
    void clock.sleep(5 * MS).then(() => ac.abort());
    const gen = nemesisOnly(once({ f: 'start-kill', value: null }));
    const { history } = await interpret({ gen, concurrency: 1, client: hangingClient(clock), nemesis: nemesis(clock, 20), clock, signal: ac.signal, stopOp: { f: 'heal', value: null } });
    assert.deepEqual(history.map((e) => [e.f, e.type, e.time]), [['start-kill', 'invoke', 0], ['start-kill', 'info', 20 * MS], ['heal', 'invoke', 20 * MS], ['heal', 'info', 40 * MS]]);
  });

  it('no stopOp when the generator ends on its own; nemesis ops are awaited past drainNs', async () => {
    const clock = virtualClock();
    const gen = nemesisOnly(once({ f: 'stop-kill', value: null }));
    const { history, abandoned } = await interpret({ gen, concurrency: 1, client: hangingClient(clock), nemesis: nemesis(clock, 500), clock, stopOp: { f: 'heal', value: null }, drainNs: 10 * MS });
    assert.equal(abandoned, 0);
    assert.deepEqual(history.map((e) => [e.f, e.type]), [['stop-kill', 'invoke'], ['stop-kill', 'info']]);
  });

  it('phasesAwaitingNemesis: the heal follows the main phase at once, not after the clients it blocked', async () => {
    const clock = virtualClock();
    const main = timeLimit(40 * MS, any(clientsOnly(repeat({ f: 'hang', value: null })), nemesisOnly(once({ f: 'start-partition', value: null }))));
    const gen = phasesAwaitingNemesis(main, nemesisOnly(once({ f: 'heal', value: null })), timeLimit(20 * MS, clientsOnly(repeat({ f: 'final', value: null }))));
    const { history, abandoned } = await interpret({ gen, concurrency: 2, client: hangingClient(clock), nemesis: nemesis(clock), clock, drainNs: 0 });
    const heal = history.find((e) => e.f === 'heal' && e.type === 'invoke') as Op;
    assert.equal(heal.time, 40 * MS, 'heal at the time limit');
    // Both client threads hang on main-phase ops, so the final phase has no free client; it ends
    // on time (20 ms after the heal completed) and the hung ops are abandoned then.
    assert.equal(history.filter((e) => e.f === 'final').length, 0);
    assert.equal(abandoned, 2);
    assert.equal(clock.now(), 61 * MS);
    // The same run with phases waits forever for the hung clients: it never heals (the test's bound).
    const clock2 = virtualClock();
    const stuck = phases(timeLimit(40 * MS, any(clientsOnly(repeat({ f: 'hang', value: null })), nemesisOnly(once({ f: 'start-partition', value: null })))), nemesisOnly(once({ f: 'heal', value: null })));
    const ac = new AbortController();
    void clock2.sleep(1000 * MS).then(() => ac.abort());
    const r2 = await interpret({ gen: stuck, concurrency: 2, client: hangingClient(clock2), nemesis: nemesis(clock2), clock: clock2, signal: ac.signal, drainNs: 0 });
    assert.equal(r2.history.filter((e) => e.f === 'heal').length, 0);
  });

  it('rejects a negative drainNs', async () => {
    await assert.rejects(interpret({ gen: sleep(0), concurrency: 1, client: hangingClient(virtualClock()), drainNs: -1 }), /drainNs/);
  });
});

describe('interpreter: clients and nemesis', () => {
  const schedule = (): Generator =>
    any(
      clientsOnly(limit(4, repeat({ f: 'read', value: null }))),
      nemesisOnly(phases(sleep(15 * MS), once({ f: 'start-partition', value: null }), sleep(15 * MS), once({ f: 'stop-partition', value: null }))),
    );

  it('routes nemesisOnly ops to the nemesis thread and clientsOnly ops to the clients', async () => {
    const clock = virtualClock();
    const toClient: Op[] = [];
    const toNemesis: Op[] = [];
    const client = slowClient(clock, () => 10 * MS);
    const nemesis = slowClient(clock, () => MS);
    const { history } = await interpret({
      gen: schedule(),
      concurrency: 2,
      client: (op) => (toClient.push(op), client(op)),
      nemesis: (op) => (toNemesis.push(op), nemesis(op)),
      clock,
    });
    assertWellFormed(history);
    assert.deepEqual(toNemesis.map((op) => [op.f, op.process, op.time]), [
      ['start-partition', 'nemesis', 15 * MS],
      ['stop-partition', 'nemesis', 31 * MS],
    ]);
    assert.deepEqual(toClient.map((op) => [op.f, op.process]), [['read', 0], ['read', 1], ['read', 0], ['read', 1]]);
    assert.ok(history.filter((e) => e.process === 'nemesis').every((e) => e.f.endsWith('-partition')));
  });

  it('without a nemesis, nemesisOnly is exhausted and the clients run alone', async () => {
    const clock = virtualClock();
    const { history } = await interpret({ gen: schedule(), concurrency: 2, client: slowClient(clock, () => 10 * MS), clock });
    assert.deepEqual(invokes(history).map((e) => e.f), ['read', 'read', 'read', 'read']);
    assert.equal(clock.now(), 20 * MS);
  });

  it('an op naming a busy or unknown process is a generator bug, named in the error', async () => {
    const clock = virtualClock();
    const client = slowClient(clock, () => MS);
    const two = ops([{ f: 'x', value: null, process: 0 }, { f: 'y', value: null, process: 0 }]);
    await assert.rejects(interpret({ gen: two, concurrency: 2, client, clock }), /op y names process 0, which is busy/);
    await assert.rejects(interpret({ gen: once({ f: 'x', value: null, process: 7 }), concurrency: 2, client, clock }), /process 7, which no thread runs/);
    await assert.rejects(interpret({ gen: once({ f: 'x', value: null, process: 'nemesis' }), concurrency: 2, client, clock }), /process "nemesis", which no thread runs/);
  });

  it('rejects bad options, naming them', async () => {
    const client = slowClient(virtualClock(), () => MS);
    for (const concurrency of [-1, 1.5, NaN]) await assert.rejects(interpret({ gen: once({ f: 'x', value: null }), concurrency, client }), /^RangeError: concurrency/);
    await assert.rejects(interpret({ gen: once({ f: 'x', value: null }), concurrency: 1, client, pollNs: 0 }), /^RangeError: pollNs/);
  });
});

describe('interpreter: waiting', () => {
  /** `gen`, counting how often it (or a successor) is asked. */
  function counted(gen: Generator, count: { asks: number }): Generator {
    return {
      op(ctx: GenContext): GenResult {
        count.asks++;
        const r = gen.op(ctx);
        return r === null || r === 'pending' ? r : { op: r.op, gen: counted(r.gen, count) };
      },
      update: (ctx, e) => counted(gen.update(ctx, e), count),
    };
  }

  it('never busy-spins: a sleeping or pending generator is asked about once per poll interval', async () => {
    for (const gen of [sleep(100 * MS), timeLimit(100 * MS, fromFunction(0, () => 'pending'))]) {
      const clock = virtualClock();
      const count = { asks: 0 };
      await interpret({ gen: counted(gen, count), concurrency: 1, client: slowClient(clock, () => MS), clock });
      assert.equal(clock.now(), 100 * MS);
      assert.ok(count.asks >= 10 && count.asks <= 12, `${count.asks} asks`);
    }
    const clock = virtualClock();
    const count = { asks: 0 };
    await interpret({ gen: counted(sleep(100 * MS), count), concurrency: 1, client: slowClient(clock, () => MS), clock, pollNs: 50 * MS });
    assert.ok(count.asks <= 4, `${count.asks} asks with a 50 ms poll`);
  });

  it('with the real clock, a short time limit ends the run on time', async () => {
    const t0 = Date.now();
    const client = (op: Op): Promise<Completion> => new Promise((r) => setImmediate(() => r({ type: 'ok', value: op.value })));
    const { history } = await interpret({ gen: timeLimit(40 * MS, clientsOnly(repeat({ f: 'x', value: null }))), concurrency: 2, client, clock: realClock() });
    const elapsed = Date.now() - t0;
    assertWellFormed(history);
    const times = invokes(history).map((e) => e.time as number);
    // The limit is checked when the op is asked for; its invoke is stamped a moment later.
    assert.ok(times.length > 10 && times.every((t) => t < 41 * MS), `${times.length} invokes, last at ${Math.max(...times) / MS} ms`);
    assert.ok(Math.max(...times) > 30 * MS);
    assert.ok(elapsed >= 39 && elapsed < 1000, `${elapsed} ms`);
  });

  it('realClock.sleep resolves early, without throwing, when its signal aborts', async () => {
    const ac = new AbortController();
    const t0 = Date.now();
    const slept = realClock().sleep(10_000 * MS, ac.signal);
    ac.abort();
    await slept;
    assert.ok(Date.now() - t0 < 1000);
  });
});
