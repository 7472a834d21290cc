import assert from 'node:assert/strict';
import type { ClusterBackend, HasLeader, Killable, Link, LinkFault, Partitionable, Pausable } from '../../cluster/backend.js';
import type { Op } from '../../checkers/index.js';
import type { GenContext, Generator, OpSpec } from '../../harness/generator/generator.js';
import { isWait } from '../../harness/generator/combinators.js';
import { nemesisPackage, parseNemesisConfig, type Nemesis, type NemesisCompletion, type NemesisConfig } from '../../nemesis/index.js';

/** An in-memory cluster with every power, recording each call. */
class FakeBackend implements ClusterBackend, Killable, Pausable, Partitionable, HasLeader {
  readonly name = 'fake';
  readonly nodes: readonly string[];
  readonly calls: string[] = [];
  readonly dead = new Set<string>();
  readonly paused = new Set<string>();
  readonly links = new Map<string, LinkFault['kind']>();
  readonly linkFaultKinds: ReadonlySet<LinkFault['kind']> = new Set(['ok', 'blackhole', 'reset', 'latency'] as const);
  leaderId: string | null = 'n1';
  /** Nodes whose kill throws (after the kill happened). */
  readonly failKill = new Set<string>();

  constructor(n = 5) {
    this.nodes = Array.from({ length: n }, (_, i) => `n${i + 1}`);
  }
  endpoint(node: string): string {
    return `http://fake/${node}`;
  }
  logFiles(): ReadonlyMap<string, string> {
    return new Map();
  }
  async teardown(): Promise<void> {}
  async kill(node: string): Promise<void> {
    this.calls.push(`kill ${node}`);
    this.dead.add(node);
    if (this.failKill.has(node)) throw new Error(`kill ${node} timed out`);
  }
  async restart(node: string): Promise<void> {
    this.calls.push(`restart ${node}`);
    this.dead.delete(node);
  }
  isRunning(node: string): boolean {
    return !this.dead.has(node);
  }
  async pause(node: string): Promise<void> {
    this.calls.push(`pause ${node}`);
    this.paused.add(node);
  }
  async resume(node: string): Promise<void> {
    this.calls.push(`resume ${node}`);
    this.paused.delete(node);
  }
  isPaused(node: string): boolean {
    return this.paused.has(node);
  }
  async setLinkFaults(links: readonly Link[], fault: LinkFault): Promise<void> {
    this.calls.push(`links ${fault.kind} ${links.length}`);
    for (const l of links) {
      if (fault.kind === 'ok') this.links.delete(`${l.from}>${l.to}`);
      else this.links.set(`${l.from}>${l.to}`, fault.kind);
    }
  }
  async healNetwork(): Promise<void> {
    this.calls.push('heal network');
    this.links.clear();
  }
  async leader(): Promise<string | null> {
    const l = this.leaderId;
    return l !== null && !this.dead.has(l) && !this.paused.has(l) ? l : null;
  }
  /** Link faults by kind, e.g. `{blackhole: 8, latency: 12}`. */
  linkKinds(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const k of this.links.values()) counts[k] = (counts[k] ?? 0) + 1;
    return counts;
  }
}

/** A backend with no powers at all. */
const bare: ClusterBackend = { name: 'bare', nodes: ['n1', 'n2', 'n3'], endpoint: (n) => n, logFiles: () => new Map(), teardown: async () => {} };

const ctx = (time: number, nemesisFree = true): GenContext => ({
  time,
  free: nemesisFree ? [0, 1, 'nemesis'] : [0, 1],
  processes: [0, 1, 'nemesis'],
});
const S = 1e9;

/** The first `n` ops of a generator, each asked at the time the previous one was due (the nemesis always free). */
function take(gen: Generator, n: number, start = 0): OpSpec[] {
  const ops: OpSpec[] = [];
  let g: Generator = gen;
  let now = start;
  while (ops.length < n) {
    const r = g.op(ctx(now));
    if (r === null) break;
    assert.notEqual(r, 'pending');
    if (r === 'pending') break;
    g = r.gen;
    // A wait (the first ask fixes the schedule's origin) is adopted, never dispatched.
    if (isWait(r.op)) continue;
    ops.push(r.op);
    now = Math.max(now, r.op.time ?? now);
    g = r.gen;
  }
  return ops;
}

let index = 0;
const invoke = (nemesis: Nemesis, f: string, value: unknown = null): Promise<NemesisCompletion> =>
  nemesis.invoke({ index: index++, type: 'invoke', f, value, process: 'nemesis', time: 0 } as Op);

describe('nemesis/nemesis', () => {
  describe('generator', () => {
    it('interval: first start after healS, stop faultS later, then every healS + faultS', () => {
      const { generator } = nemesisPackage(parseNemesisConfig({ faults: ['partition'], schedule: { interval: { faultS: 3, healS: 2 } } }), new FakeBackend(), { seed: 1 });
      const ops = take(generator, 6, 10 * S);
      assert.deepEqual(
        ops.map((o) => [o.f, (o.time ?? 0) / S]),
        [['start-partition', 12], ['stop-partition', 15], ['start-partition', 17], ['stop-partition', 20], ['start-partition', 22], ['stop-partition', 25]],
      );
      assert.ok(ops.every((o) => o.process === 'nemesis'));
      assert.ok(ops.filter((o) => o.f === 'start-partition').every((o) => typeof o.value === 'string'));
    });

    const starts = (config: unknown, n: number, seed = 1): [string, unknown][] =>
      take(nemesisPackage(parseNemesisConfig(config), new FakeBackend(), { seed }).generator, n)
        .filter((o) => String(o.f).startsWith('start-'))
        .map((o) => [String(o.f), o.value]);

    it('order: cycle — each window takes the next topology of the list, round and round, from its first', () => {
      const topologies = ['random-halves', 'isolate-one', 'isolate-leader', 'majorities-ring', 'bridge', 'one-way'];
      for (const seed of [1, 2, 99]) {
        const drawn = starts({ faults: ['partition'], partition: { topologies, order: 'cycle' }, schedule: { interval: { faultS: 3, healS: 1 } } }, 16, seed);
        assert.deepEqual(
          drawn.map(([, v]) => v),
          [...topologies, ...topologies.slice(0, 2)],
          `seed ${seed}`,
        );
      }
    });

    it('order: cycle counts each kind on its own windows (kill and pause mixed by the seed)', () => {
      const drawn = starts({ faults: ['kill', 'pause'], kill: { targets: ['one', 'leader', 'all'], order: 'cycle' }, pause: { targets: ['minority', 'majority'], order: 'cycle' } }, 40, 3);
      const kills = drawn.filter(([f]) => f === 'start-kill').map(([, v]) => v);
      const pauses = drawn.filter(([f]) => f === 'start-pause').map(([, v]) => v);
      assert.ok(kills.length >= 4 && pauses.length >= 4, `${kills.length} kills, ${pauses.length} pauses`);
      assert.deepEqual(kills, kills.map((_, i) => ['one', 'leader', 'all'][i % 3]));
      assert.deepEqual(pauses, pauses.map((_, i) => ['minority', 'majority'][i % 2]));
    });

    it('order: random (the default) draws as before: seeds already used keep their windows', () => {
      const config = { faults: ['partition'], schedule: { interval: { faultS: 3, healS: 2 } } };
      const drawn = starts(config, 12, 1);
      assert.deepEqual(drawn, starts({ ...config, partition: { order: 'random' } }, 12, 1));
      // Pinned: the draws of seed 1 (lock-partition's) before `order` existed.
      assert.deepEqual(
        drawn.map(([, v]) => v),
        ['majorities-ring', 'one-way', 'majorities-ring', 'isolate-one', 'isolate-one', 'bridge'],
      );
    });

    it('default interval: starts at 5, 15, 25 s and stops at 10, 20, 30 s', () => {
      const { generator } = nemesisPackage(parseNemesisConfig({ faults: ['kill'] }), new FakeBackend(), { seed: 1 });
      assert.deepEqual(take(generator, 6).map((o) => (o.time ?? 0) / S), [5, 10, 15, 20, 25, 30]);
    });

    it('is pure, waits while the nemesis is busy, and fixes its origin at the first ask (a wait) or event', () => {
      const { generator } = nemesisPackage(parseNemesisConfig({ faults: ['kill'] }), new FakeBackend(), { seed: 1 });
      // The first ask fixes the origin with a wait due at once; busy nemesis → pending.
      const first = generator.op(ctx(0, false));
      assert.ok(first !== null && first !== 'pending' && isWait(first.op) && first.op.time === 0);
      assert.equal(first.gen.op(ctx(0, false)), 'pending');
      const started = first.gen.op(ctx(1 * S));
      assert.ok(started !== null && started !== 'pending');
      assert.equal(started.op.time, 5 * S);
      assert.deepEqual(generator.op(ctx(1 * S)), generator.op(ctx(1 * S)));
      const event: Op = { index: 0, type: 'ok', f: 'read', value: 1, process: 0, time: 3 * S };
      const later = generator.update(ctx(3 * S), event);
      const r = later.op(ctx(4 * S));
      assert.ok(r !== null && r !== 'pending');
      assert.equal(r.op.time, 8 * S);
      assert.equal(later.update(ctx(6 * S), event), later);
    });

    it('combine all: every kind starts together and stops together, in reverse', () => {
      const config = parseNemesisConfig({ faults: ['partition', 'kill', 'latency'], combine: 'all' });
      const ops = take(nemesisPackage(config, new FakeBackend(), { seed: 1 }).generator, 12);
      assert.deepEqual(
        ops.slice(0, 6).map((o) => `${o.f}@${(o.time ?? 0) / S}`),
        ['start-partition@5', 'start-kill@5', 'start-latency@5', 'stop-latency@10', 'stop-kill@10', 'stop-partition@10'],
      );
      assert.deepEqual(ops[2]?.value, { ms: 100, jitterMs: 50 });
      assert.equal(ops[6]?.time, 15 * S);
    });

    it('combine one: each window starts one kind and stops it; the kinds come from the seed', () => {
      const config = parseNemesisConfig({ faults: ['partition', 'kill', 'pause'] });
      const run = (seed: number): string[] => take(nemesisPackage(config, new FakeBackend(), { seed }).generator, 60).map((o) => `${o.f} ${JSON.stringify(o.value)}`);
      const ops = run(7);
      for (let i = 0; i < ops.length; i += 2) {
        const kind = ops[i]?.split(' ')[0]?.replace('start-', '');
        assert.equal(ops[i + 1], `stop-${kind} null`);
      }
      assert.deepEqual(new Set(ops.filter((_, i) => i % 2 === 0).map((o) => o.split(' ')[0])), new Set(['start-partition', 'start-kill', 'start-pause']));
      assert.deepEqual(run(7), ops);
      assert.notDeepEqual(run(8), ops);
    });

    it('timeline: the listed ops at their times, then exhausted', () => {
      const config = parseNemesisConfig({
        faults: ['partition', 'kill'],
        schedule: { timeline: [{ at: 1, f: 'start-partition', value: 'bridge' }, { at: 1.5, f: 'start-kill' }, { at: 4, f: 'heal' }] },
      });
      const ops = take(nemesisPackage(config, new FakeBackend(), { seed: 1 }).generator, 10, 2 * S);
      assert.deepEqual(
        ops.map((o) => [o.f, o.value, o.time]),
        [['start-partition', 'bridge', 3 * S], ['start-kill', null, 3.5 * S], ['heal', null, 6 * S]],
      );
    });

    it('the final generator is one heal; with no faults both generators are empty', () => {
      const { finalGenerator } = nemesisPackage(parseNemesisConfig({ faults: ['pause'] }), new FakeBackend(), { seed: 1 });
      const first = finalGenerator.op(ctx(0, false));
      assert.ok(first !== null && first !== 'pending' && isWait(first.op), 'the first ask only fixes the origin');
      assert.equal(first.gen.op(ctx(0, false)), 'pending', 'no heal while the nemesis is busy');
      assert.deepEqual(take(finalGenerator, 5).map((o) => [o.f, o.value, o.process]), [['heal', null, 'nemesis']]);
      const none = nemesisPackage(parseNemesisConfig({ faults: 'none' }), bare, { seed: 1 });
      assert.equal(none.generator.op(ctx(0)), null);
      assert.equal(none.finalGenerator.op(ctx(0)), null);
      const partial = nemesisPackage({ faults: [] } as unknown as NemesisConfig, bare, { seed: 1 });
      assert.equal(partial.generator.op(ctx(0)), null, 'a config missing its defaults is resolved');
    });
  });

  describe('nemesis', () => {
    const all = parseNemesisConfig({ faults: ['partition', 'kill', 'pause', 'latency'], combine: 'all' });

    it('start-partition blackholes the cuts and reports them; stop-partition heals', async () => {
      const b = new FakeBackend();
      const { nemesis } = nemesisPackage(all, b, { seed: 3 });
      const started = await invoke(nemesis, 'start-partition', 'isolate-leader');
      assert.deepEqual(started, {
        type: 'info',
        value: {
          topology: 'isolate-leader',
          cuts: [['n1', 'n2'], ['n1', 'n3'], ['n1', 'n4'], ['n1', 'n5'], ['n2', 'n1'], ['n3', 'n1'], ['n4', 'n1'], ['n5', 'n1']],
          components: [['n1'], ['n2', 'n3', 'n4', 'n5']],
        },
      });
      assert.deepEqual(b.linkKinds(), { blackhole: 8 });
      assert.deepEqual(nemesis.active(), ['partition isolate-leader']);
      const stopped = await invoke(nemesis, 'stop-partition');
      assert.equal(stopped.type, 'info');
      assert.equal((stopped.value as { topology: string }).topology, 'isolate-leader');
      assert.deepEqual(b.linkKinds(), {});
      assert.deepEqual(nemesis.active(), []);
    });

    it('kill and pause: one, minority (floor((n-1)/2)), leader; stops undo them', async () => {
      const b = new FakeBackend(5);
      const { nemesis } = nemesisPackage(all, b, { seed: 5 });
      const one = await invoke(nemesis, 'start-kill', 'one');
      assert.equal((one.value as string[]).length, 1);
      assert.deepEqual(await invoke(nemesis, 'stop-kill'), { type: 'info', value: one.value });
      const minority = await invoke(nemesis, 'start-pause', 'minority');
      assert.equal((minority.value as string[]).length, 2);
      assert.deepEqual([...b.paused].sort(), minority.value);
      b.leaderId = (b.nodes.find((n) => !b.paused.has(n)) as string);
      assert.deepEqual(await invoke(nemesis, 'start-kill', 'leader'), { type: 'info', value: [b.leaderId] });
      assert.deepEqual(nemesis.active(), [`kill ${b.leaderId}`, `pause ${(minority.value as string[]).join(' ')}`]);
      await invoke(nemesis, 'stop-kill');
      await invoke(nemesis, 'stop-pause');
      assert.equal(b.dead.size + b.paused.size, 0);
    });

    it('kill all: every node up is killed, and the stop restarts them all', async () => {
      const b = new FakeBackend(3);
      const { nemesis } = nemesisPackage(all, b, { seed: 2 });
      assert.deepEqual(await invoke(nemesis, 'start-kill', 'all'), { type: 'info', value: ['n1', 'n2', 'n3'] });
      assert.equal(b.dead.size, 3);
      assert.deepEqual(await invoke(nemesis, 'stop-kill'), { type: 'info', value: ['n1', 'n2', 'n3'] });
      assert.equal(b.dead.size, 0);
    });

    it('no leader → fail with "no leader", and nothing changes', async () => {
      const b = new FakeBackend();
      b.leaderId = null;
      const { nemesis } = nemesisPackage(all, b, { seed: 1 });
      assert.deepEqual(await invoke(nemesis, 'start-kill', 'leader'), { type: 'fail', value: null, error: 'no leader' });
      assert.deepEqual(await invoke(nemesis, 'start-partition', 'isolate-leader'), { type: 'fail', value: null, error: 'no leader' });
      assert.deepEqual(b.calls, []);
    });

    it('the same seed chooses the same topologies and victims', async () => {
      const run = async (seed: number): Promise<unknown[]> => {
        const { nemesis } = nemesisPackage(all, new FakeBackend(7), { seed });
        const out: unknown[] = [];
        for (let i = 0; i < 8; i++) {
          for (const kind of ['partition', 'kill', 'pause']) out.push((await invoke(nemesis, `start-${kind}`, kind === 'partition' ? null : 'minority')).value);
          for (const kind of ['partition', 'kill', 'pause']) await invoke(nemesis, `stop-${kind}`);
        }
        return out;
      };
      assert.deepEqual(await run(11), await run(11));
      assert.notDeepEqual(await run(11), await run(12));
    });

    it('latency and a partition share the links: cuts stay blackholed, stopping one restores the other', async () => {
      const b = new FakeBackend(3);
      const { nemesis } = nemesisPackage(all, b, { seed: 1 });
      assert.equal(((await invoke(nemesis, 'start-latency', { ms: 10, jitterMs: 0 })).value as unknown[]).length, 6);
      await invoke(nemesis, 'start-partition', 'isolate-leader');
      assert.deepEqual(b.linkKinds(), { latency: 2, blackhole: 4 });
      await invoke(nemesis, 'stop-partition');
      assert.deepEqual(b.linkKinds(), { latency: 6 });
      await invoke(nemesis, 'start-partition', 'isolate-leader');
      await invoke(nemesis, 'stop-latency');
      assert.deepEqual(b.linkKinds(), { blackhole: 4 });
    });

    it('healAll undoes kills, pauses and links, and is safe to call twice', async () => {
      const b = new FakeBackend();
      const { nemesis } = nemesisPackage(all, b, { seed: 9 });
      await invoke(nemesis, 'start-kill', 'minority');
      await invoke(nemesis, 'start-pause', 'one');
      await invoke(nemesis, 'start-partition', 'majorities-ring');
      await invoke(nemesis, 'start-latency');
      assert.equal(b.dead.size, 2);
      assert.equal(b.paused.size, 1);
      assert.equal(nemesis.active().length, 4);
      await nemesis.healAll();
      assert.deepEqual([b.dead.size, b.paused.size, b.links.size], [0, 0, 0]);
      assert.deepEqual(nemesis.active(), []);
      const calls = b.calls.length;
      await nemesis.healAll();
      assert.equal(b.calls.length, calls);
    });

    it('heal after overlapping kill + partition (combine: all) undoes both and says what it undid', async () => {
      const b = new FakeBackend();
      const config = parseNemesisConfig({ faults: ['partition', 'kill'], combine: 'all', partition: { topologies: ['bridge'] }, kill: { targets: ['one'] } });
      const pkg = nemesisPackage(config, b, { seed: 4 });
      for (const op of take(pkg.generator, 2)) assert.equal((await invoke(pkg.nemesis, op.f, op.value)).type, 'info');
      const killed = [...b.dead];
      assert.equal(killed.length, 1);
      assert.ok(b.links.size > 0);
      const [heal] = take(pkg.finalGenerator, 1);
      assert.deepEqual(await invoke(pkg.nemesis, heal?.f ?? '', heal?.value), { type: 'info', value: ['partition bridge', `kill ${killed[0]}`] });
      assert.deepEqual([b.dead.size, b.links.size], [0, 0]);
      assert.deepEqual(await invoke(pkg.nemesis, 'heal'), { type: 'info', value: [] });
    });

    it('a start of an active kind first stops it', async () => {
      const b = new FakeBackend();
      const { nemesis } = nemesisPackage(all, b, { seed: 2 });
      const first = (await invoke(nemesis, 'start-kill', 'one')).value as string[];
      const second = (await invoke(nemesis, 'start-kill', 'one')).value as string[];
      assert.deepEqual([...b.dead], second);
      assert.ok(b.calls.includes(`restart ${first[0]}`));
    });

    it('never throws: a failing backend call is info with the error, and is still undone by healAll', async () => {
      const b = new FakeBackend();
      b.failKill.add('n1');
      const { nemesis } = nemesisPackage(all, b, { seed: 1 });
      assert.deepEqual(await invoke(nemesis, 'start-kill', 'leader'), { type: 'info', value: ['n1'], error: 'n1: kill n1 timed out' });
      await nemesis.healAll();
      assert.equal(b.dead.size, 0);
      assert.deepEqual((await invoke(nemesis, 'flood')).type, 'fail');
      assert.deepEqual((await invoke(nemesis, 'start-partition', 'ring')).type, 'fail');
      assert.deepEqual((await invoke(nemesis, 'start-latency', { ms: 'slow' })).type, 'fail');
    });

    it('a configured fault the backend cannot do throws, naming the fault and the backend', () => {
      const noLatency = Object.assign(new FakeBackend(), { linkFaultKinds: new Set<LinkFault['kind']>(['ok', 'blackhole']) });
      const table: [unknown, ClusterBackend, RegExp][] = [
        [{ faults: ['kill'] }, bare, /fault "kill" needs killable nodes \(Killable\), which backend "bare" lacks/],
        [{ faults: ['pause'] }, bare, /fault "pause" needs .*"bare"/],
        [{ faults: ['partition'] }, bare, /fault "partition" needs .*"bare"/],
        [{ faults: ['latency'] }, noLatency, /fault "latency" needs link latency .*"fake"/],
        [{ faults: ['partition'] }, new FakeBackend(2), /topology majorities-ring needs at least 3 nodes, backend "fake" has 2/],
      ];
      for (const [config, backend, re] of table) assert.throws(() => nemesisPackage(parseNemesisConfig(config), backend, { seed: 1 }), re);
      const noLeader = Object.defineProperty(new FakeBackend(), 'leader', { value: undefined });
      assert.throws(() => nemesisPackage(parseNemesisConfig({ faults: ['kill'] }), noLeader, { seed: 1 }), /fault "kill leader" needs a leader \(HasLeader\)/);
      assert.doesNotThrow(() => nemesisPackage(parseNemesisConfig({ faults: ['kill'], kill: { targets: ['one'] } }), noLeader, { seed: 1 }));
    });
  });
});
