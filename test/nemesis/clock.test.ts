/**
 * Clock faults through a fake backend that records each node's offset: the YAML section, the
 * schedule's start-clock ops, bump / strobe / drift and their reset, targets, and the refusal of a
 * backend that cannot move clocks.
 */
import assert from 'node:assert/strict';
import { parse as parseYaml } from 'yaml';
import type { ClockControl, ClusterBackend, HasLeader } from '../../cluster/backend.js';
import type { Op } from '../../checkers/index.js';
import { isWait } from '../../harness/generator/combinators.js';
import { nemesisPackage, parseNemesisConfig, type Nemesis, type NemesisCompletion } from '../../nemesis/index.js';
import { eventually } from '../support/eventually.js';

/** Three nodes whose clocks are numbers; n1 leads. */
class FakeClocks implements ClusterBackend, ClockControl, HasLeader {
  readonly name = 'fake-clocks';
  readonly nodes = ['n1', 'n2', 'n3'];
  readonly offsets = new Map<string, number>();
  /** Every offset set, in order, e.g. `n2 600`. */
  readonly calls: string[] = [];
  endpoint(node: string): string {
    return node;
  }
  logFiles(): ReadonlyMap<string, string> {
    return new Map();
  }
  async teardown(): Promise<void> {}
  async leader(): Promise<string | null> {
    return 'n1';
  }
  async setClockOffset(node: string, offsetS: number): Promise<void> {
    this.calls.push(`${node} ${offsetS}`);
    this.offsets.set(node, offsetS);
  }
  clockOffset(node: string): number {
    return this.offsets.get(node) ?? 0;
  }
  moved(): Record<string, number> {
    return Object.fromEntries([...this.offsets].filter(([, s]) => s !== 0));
  }
}

let index = 0;
const invoke = (nemesis: Nemesis, f: string, value: unknown = null): Promise<NemesisCompletion> =>
  nemesis.invoke({ index: index++, type: 'invoke', f, value, process: 'nemesis', time: 0 } as Op);

const clockNemesis = (clock: unknown, backend: ClusterBackend = new FakeClocks()): Nemesis =>
  nemesisPackage(parseNemesisConfig({ faults: ['clock'], clock }), backend, { seed: 3 }).nemesis;

describe('nemesis/clock', () => {
  it('reads the YAML section and fills the rest', () => {
    const c = parseNemesisConfig(parseYaml('faults: [clock]\nclock: { kinds: [bump], targets: [followers], minOffsetS: 600, maxOffsetS: 900 }'));
    assert.deepEqual(c.clock, { kinds: ['bump'], targets: ['followers'], minOffsetS: 600, maxOffsetS: 900, direction: 'both', strobePeriodMs: 100, driftRate: 0.1 });
  });

  it('the interval schedule starts clock faults with a kind and a target of the config', () => {
    const config = parseNemesisConfig({ faults: ['clock'], clock: { kinds: ['bump', 'drift'], targets: ['followers'] }, schedule: { interval: { faultS: 1, healS: 1 } } });
    let g = nemesisPackage(config, new FakeClocks(), { seed: 5 }).generator;
    const ops: { f: string; value: unknown }[] = [];
    for (let i = 0; i < 20 && ops.length < 8; i++) {
      const r = g.op({ time: i * 1e9, free: ['nemesis'], processes: ['nemesis'] });
      assert.ok(r !== null && r !== 'pending');
      g = r.gen;
      if (!isWait(r.op)) ops.push({ f: r.op.f, value: r.op.value });
    }
    assert.deepEqual(ops.map((o) => o.f), ['start-clock', 'stop-clock', 'start-clock', 'stop-clock', 'start-clock', 'stop-clock', 'start-clock', 'stop-clock']);
    for (const o of ops.filter((x) => x.f === 'start-clock')) {
      const v = o.value as { kind: string; target: string };
      assert.ok(['bump', 'drift'].includes(v.kind) && v.target === 'followers', JSON.stringify(v));
    }
  });

  it('bump: the followers jump by an offset within the bounds, forward; stop-clock puts them back', async () => {
    const b = new FakeClocks();
    const n = clockNemesis({ kinds: ['bump'], targets: ['followers'], minOffsetS: 600, maxOffsetS: 900, direction: 'forward' }, b);
    const r = await invoke(n, 'start-clock');
    assert.equal(r.type, 'info');
    const v = r.value as { kind: string; target: string; offsets: Record<string, number> };
    assert.deepEqual([v.kind, v.target, Object.keys(v.offsets)], ['bump', 'followers', ['n2', 'n3']]);
    for (const s of Object.values(v.offsets)) assert.ok(s >= 600 && s <= 900, String(s));
    assert.deepEqual(b.moved(), v.offsets);
    assert.match(n.active().join(), /^clock bump n2 \+\d+\.\ds n3 \+\d+\.\ds$/);
    assert.deepEqual(await invoke(n, 'stop-clock'), { type: 'info', value: ['n2', 'n3'] });
    assert.deepEqual(b.moved(), {});
    assert.deepEqual(n.active(), []);
  });

  it('a given value fixes kind, target and offset; backward offsets are negative', async () => {
    const b = new FakeClocks();
    const n = clockNemesis({ direction: 'backward', maxOffsetS: 5 }, b);
    const r = await invoke(n, 'start-clock', { kind: 'bump', target: 'leader', offsetS: -42.5 });
    assert.deepEqual(r, { type: 'info', value: { kind: 'bump', target: 'leader', offsets: { n1: -42.5 } } });
    const all = await invoke(n, 'start-clock', { kind: 'bump', target: 'all' });
    const offsets = (all.value as { offsets: Record<string, number> }).offsets;
    assert.deepEqual(Object.keys(offsets), ['n1', 'n2', 'n3'], 'a start first resets the active fault');
    for (const s of Object.values(offsets)) assert.ok(s <= 0 && s >= -5, String(s));
    await n.healAll();
    assert.deepEqual(b.moved(), {});
  });

  it('strobe flips between the offset and true time until stopped', async () => {
    const b = new FakeClocks();
    const n = clockNemesis({ strobePeriodMs: 10 }, b);
    const r = await invoke(n, 'start-clock', { kind: 'strobe', target: 'one', offsetS: 30 });
    const node = Object.keys((r.value as { offsets: Record<string, number> }).offsets)[0] as string;
    assert.equal((r.value as { periodMs: number }).periodMs, 10);
    await eventually('the strobe flips a few times', () => b.calls.filter((c) => c === `${node} 0`).length >= 3 && b.calls.filter((c) => c === `${node} 30`).length >= 3);
    await invoke(n, 'stop-clock');
    const after = b.calls.length;
    assert.deepEqual(b.moved(), {});
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(b.calls.length, after, 'no step after the stop');
  });

  it('drift grows the offset steadily at the rate', async () => {
    const b = new FakeClocks();
    const n = clockNemesis({}, b);
    const r = await invoke(n, 'start-clock', { kind: 'drift', target: 'one', offsetS: 2 });
    const node = Object.keys((r.value as { rates: Record<string, number> }).rates)[0] as string;
    assert.deepEqual(r.value, { kind: 'drift', target: 'one', rates: { [node]: 2 } });
    const first = await eventually('a first drift step', () => b.clockOffset(node) > 0 && b.clockOffset(node));
    await eventually('the offset grows', () => b.clockOffset(node) > first + 0.3);
    assert.ok(b.clockOffset(node) < 5, 'about 2 s per s, not a jump');
    await n.healAll();
    assert.equal(b.clockOffset(node), 0);
  });

  it('a backend that cannot move clocks is refused, naming the power and libfaketime', () => {
    const bare: ClusterBackend = { name: 'bare', nodes: ['n1'], endpoint: (x) => x, logFiles: () => new Map(), teardown: async () => {} };
    assert.throws(() => clockNemesis({}, bare), /fault "clock" needs per-node clocks \(ClockControl.*libfaketime.*which backend "bare" lacks/);
    const leaderless = Object.defineProperty(new FakeClocks(), 'leader', { value: undefined });
    assert.throws(() => clockNemesis({ targets: ['followers'] }, leaderless), /fault "clock leader\/followers" needs a leader/);
    assert.doesNotThrow(() => clockNemesis({ targets: ['one', 'all'] }, leaderless));
  });

  it('bad op values fail and change nothing', async () => {
    const b = new FakeClocks();
    const n = clockNemesis({}, b);
    for (const v of [{ kind: 'jump' }, { target: 'majority' }, { kind: 'bump', offsetS: 'far' }, 'bump']) {
      assert.equal((await invoke(n, 'start-clock', v)).type, 'fail', JSON.stringify(v));
    }
    assert.deepEqual(b.calls, []);
  });
});
