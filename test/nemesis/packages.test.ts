import assert from 'node:assert/strict';
import type { ClusterBackend, HasLeader, Killable, LeaderView, LeaderViews, Link, LinkFault, Partitionable, Pausable } from '../../cluster/backend.js';
import type { Op } from '../../checkers/index.js';
import type { GenContext, Generator, OpSpec } from '../../harness/generator/generator.js';
import { isWait } from '../../harness/generator/combinators.js';
import { prng } from '../../harness/index.js';
import { nemesisPackage, PACKAGE_NAMES, packageSteps, parseNemesisConfig, type Nemesis } from '../../nemesis/index.js';

const prngForTest = (seed: number): (() => number) => prng(seed);

/** An in-memory cluster with every power and per-node leader views, recording each call. */
class ViewsBackend implements ClusterBackend, Killable, Pausable, Partitionable, HasLeader, LeaderViews {
  readonly name = 'views';
  readonly nodes: readonly string[];
  readonly calls: string[] = [];
  readonly dead = new Set<string>();
  readonly paused = new Set<string>();
  readonly linkFaultKinds: ReadonlySet<LinkFault['kind']> = new Set(['ok', 'blackhole', 'latency'] as const);
  /** What each node believes; a node missing here answers nothing. */
  views: LeaderView[] = [];

  constructor(n = 5) {
    this.nodes = Array.from({ length: n }, (_, i) => `n${i + 1}`);
    this.agree('n1', 1);
  }
  /** Every node follows `leader` in `term`. */
  agree(leader: string, term: number): void {
    this.views = this.nodes.map((node) => ({ node, leader, term, role: node === leader ? 'leader' : 'follower' }));
  }
  endpoint(node: string): string {
    return `http://views/${node}`;
  }
  logFiles(): ReadonlyMap<string, string> {
    return new Map();
  }
  async teardown(): Promise<void> {}
  async kill(node: string): Promise<void> {
    this.calls.push(`kill ${node}`);
    this.dead.add(node);
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
  }
  async healNetwork(): Promise<void> {
    this.calls.push('heal network');
  }
  async leader(): Promise<string | null> {
    const up = this.views.filter((v) => !this.dead.has(v.node) && !this.paused.has(v.node));
    const leaders = new Set(up.map((v) => v.leader));
    const [l] = leaders;
    return leaders.size === 1 && typeof l === 'string' && up.some((v) => v.node === l) ? l : null;
  }
  async leaderViews(): Promise<LeaderView[]> {
    return this.views.filter((v) => !this.dead.has(v.node) && !this.paused.has(v.node));
  }
}

const ctx = (time: number): GenContext => ({ time, free: [0, 'nemesis'], processes: [0, 'nemesis'] });
const S = 1e9;

function take(gen: Generator, n: number): OpSpec[] {
  const ops: OpSpec[] = [];
  let g: Generator = gen;
  let now = 0;
  for (let k = 0; k < 10 * n && ops.length < n; k++) {
    const r = g.op(ctx(now));
    if (r === null || r === 'pending') break;
    g = r.gen;
    if (isWait(r.op)) continue;
    ops.push(r.op);
    now = Math.max(now, r.op.time ?? now);
  }
  return ops;
}

let index = 0;
const invoke = (nemesis: Nemesis, f: string, value: unknown = null) =>
  nemesis.invoke({ index: index++, type: 'invoke', f, value, process: 'nemesis', time: 0 } as Op);

describe('nemesis/packages', () => {
  describe('targets', () => {
    const config = parseNemesisConfig({ faults: ['kill', 'pause'] });

    it('majority and all hit ⌊n/2⌋+1 and every node that is up', async () => {
      const b = new ViewsBackend(5);
      const { nemesis } = nemesisPackage(config, b, { seed: 3 });
      const majority = await invoke(nemesis, 'start-pause', 'majority');
      assert.equal((majority.value as string[]).length, 3);
      const all = await invoke(nemesis, 'start-kill', 'all');
      // The paused nodes are not hit again.
      assert.deepEqual(new Set(all.value as string[]), new Set(b.nodes.filter((n) => !b.paused.has(n))));
      await invoke(nemesis, 'stop-kill');
      const again = await invoke(nemesis, 'start-pause', 'all');
      assert.deepEqual(again.value, b.nodes, 'a new pause first resumes the previous one');
      await nemesis.healAll();
      assert.equal(b.dead.size + b.paused.size, 0);
    });

    it('majority-leader is the leader of the majority side, where leader finds none', async () => {
      const b = new ViewsBackend(5);
      // n1 cut off still leads term 2 in its own view; n3 leads term 3 for the other four.
      b.views = [
        { node: 'n1', leader: 'n1', term: 2, role: 'leader' },
        ...['n2', 'n3', 'n4', 'n5'].map((node) => ({ node, leader: 'n3', term: 3, role: node === 'n3' ? 'leader' : 'follower' })),
      ];
      const { nemesis } = nemesisPackage(config, b, { seed: 1 });
      assert.deepEqual(await invoke(nemesis, 'start-kill', 'majority-leader'), { type: 'info', value: ['n3'] });
      assert.deepEqual(await invoke(nemesis, 'start-pause', 'minority-leader'), { type: 'info', value: ['n1'] });
      await nemesis.healAll();
      assert.equal((await invoke(nemesis, 'start-kill', 'leader')).type, 'fail', 'the running nodes disagree: no leader');
    });

    it('fails (nothing done) when no majority leader shows within the wait', async () => {
      const b = new ViewsBackend(3);
      b.views = b.nodes.map((node) => ({ node, leader: null, term: 4, role: 'candidate' }));
      const { nemesis } = nemesisPackage(config, b, { seed: 1 });
      const started = Date.now();
      const r = await invoke(nemesis, 'start-kill', 'majority-leader');
      assert.deepEqual(r, { type: 'fail', value: null, error: 'no majority leader' });
      assert.ok(Date.now() - started >= 1900, 'it asked again until its deadline');
      assert.deepEqual(b.calls, []);
    }).timeout(5000);

    it('a star after isolate-one is centred on the isolated node', async () => {
      const b = new ViewsBackend(5);
      const { nemesis } = nemesisPackage(parseNemesisConfig({ faults: ['partition'] }), b, { seed: 4 });
      const isolated = (await invoke(nemesis, 'start-partition', 'isolate-one')).value as { components: string[][] };
      const lone = isolated.components.find((c) => c.length === 1)?.[0];
      const starred = (await invoke(nemesis, 'start-partition', 'star')).value as { cuts: [string, string][] };
      assert.equal(starred.cuts.length, 4 * 3, 'every link among the other four');
      assert.ok(starred.cuts.every(([from, to]) => from !== lone && to !== lone), `no cut touches ${lone}`);
    });

    it('a backend without leader views cannot take view targets', () => {
      const b = new ViewsBackend(3);
      const noViews = Object.assign(Object.create(Object.getPrototypeOf(b) as object) as ViewsBackend, b, { leaderViews: undefined });
      assert.throws(() => nemesisPackage(parseNemesisConfig({ faults: ['kill'], kill: { targets: ['majority-leader'] } }), noViews, { seed: 1 }), /LeaderViews/);
      assert.throws(() => nemesisPackage(parseNemesisConfig({ faults: [], packages: ['figure-8'] }), noViews, { seed: 1 }), /"package figure-8" needs .*LeaderViews/);
    });
  });

  describe('schedules', () => {
    it('each package starts at 0, runs in time order, and stops every fault it starts', () => {
      for (const name of PACKAGE_NAMES) {
        for (let seed = 0; seed < 20; seed++) {
          const steps = packageSteps(name, prngForTest(seed));
          assert.equal(steps[0]?.atS, 0, name);
          steps.forEach((s, i) => assert.ok(i === 0 || s.atS >= (steps[i - 1]?.atS ?? 0), `${name} in order`));
          const open = new Set<string>();
          for (const s of steps) {
            const [verb, kind] = [s.f.slice(0, s.f.indexOf('-')), s.f.slice(s.f.indexOf('-') + 1)];
            if (verb === 'start') open.add(kind);
            else open.delete(kind);
          }
          assert.deepEqual([...open], [], `${name} leaves nothing running`);
          assert.deepEqual(packageSteps(name, prngForTest(seed)), steps, 'a pure function of the random source');
        }
      }
      const f8 = packageSteps('figure-8', prngForTest(1)).map((s) => `${s.f} ${s.value}`);
      assert.deepEqual(f8, [
        'start-latency null',
        'start-partition leader-minority',
        'start-kill new-leader',
        'stop-partition null',
        'start-pause majority-leader',
        'stop-kill null',
        'stop-pause null',
        'stop-latency null',
      ]);
      assert.deepEqual(
        packageSteps('restart-all', prngForTest(1)).map((s) => `${s.f} ${s.value}`),
        ['start-kill all', 'stop-kill null'],
      );
    });

    it('interval windows run packages back to back with healS between, deterministic under the seed', () => {
      const config = parseNemesisConfig({ faults: ['partition'], packages: ['figure-8', 'restart-all'], schedule: { interval: { faultS: 0.5, healS: 1 } } });
      const run = (seed: number): OpSpec[] => take(nemesisPackage(config, new ViewsBackend(), { seed }).generator, 80);
      const ops = run(5);
      assert.deepEqual(run(5), ops);
      assert.notDeepEqual(run(6).map((o) => o.f), ops.map((o) => o.f));
      assert.equal(ops[0]?.time, 1 * S, 'the first window after healS');
      const fs = new Set(ops.map((o) => `${o.f} ${o.value ?? ''}`));
      for (const f of ['start-partition leader-minority', 'start-kill all', 'start-kill new-leader']) assert.ok(fs.has(f), f);
      // Windows never overlap: each window's first op comes healS after the previous window's last.
      for (let i = 1; i < ops.length; i++) assert.ok((ops[i]?.time ?? 0) >= (ops[i - 1]?.time ?? 0), 'in time order');
      const partitions = ops.filter((o) => o.f === 'start-partition' && o.value !== 'leader-minority');
      assert.ok(partitions.length > 0, 'plain fault windows too');
      for (const p of partitions) {
        const i = ops.indexOf(p);
        assert.equal(ops[i + 1]?.f, 'stop-partition');
        assert.equal((ops[i + 1]?.time ?? 0) - (p.time ?? 0), 0.5 * S, 'a sub-second fault window');
        if (i > 0) assert.ok((p.time ?? 0) - (ops[i - 1]?.time ?? 0) >= 1 * S - 1, 'healS after the previous window');
      }
    });

    it('a nemesis op that completes late pushes the rest back by as much; a client event does not', () => {
      const config = parseNemesisConfig({ faults: ['kill'], schedule: { interval: { faultS: 1, healS: 2 } } });
      const next = (g: Generator, now: number): { op: OpSpec; gen: Generator } => {
        const r = g.op(ctx(now));
        assert.ok(r !== null && r !== 'pending');
        return isWait(r.op) ? next(r.gen, now) : r;
      };
      const start = next(nemesisPackage(config, new ViewsBackend(), { seed: 1 }).generator, 0);
      assert.deepEqual([start.op.f, start.op.time], ['start-kill', 2 * S]);
      const stop = next(start.gen, 2 * S);
      assert.deepEqual([stop.op.f, stop.op.time], ['stop-kill', 3 * S]);
      const event = (process: string | number, time: number): Op => ({ index: 0, type: 'info', f: 'stop-kill', value: [], process, time }) as Op;
      assert.equal(stop.gen.update(ctx(3.1 * S), event(0, 3.1 * S)), stop.gen, 'a client event changes nothing');
      assert.equal(next(stop.gen.update(ctx(3 * S), event('nemesis', 3 * S)), 3 * S).op.time, 5 * S, 'on time: as planned');
      // The restart took 4 s: the next window still comes healS after it.
      const late = stop.gen.update(ctx(7 * S), event('nemesis', 7 * S));
      assert.equal(next(late, 7 * S).op.time, 9 * S);
    });

    it('only packages: the generator runs them, the final generator heals', () => {
      const config = parseNemesisConfig({ faults: 'none', packages: ['restart-all'], schedule: { interval: { faultS: 1, healS: 2 } } });
      const pkg = nemesisPackage(config, new ViewsBackend(), { seed: 1 });
      const ops = take(pkg.generator, 4);
      assert.deepEqual(ops.map((o) => o.f), ['start-kill', 'stop-kill', 'start-kill', 'stop-kill']);
      assert.equal(ops[0]?.time, 2 * S);
      assert.ok((ops[2]?.time ?? 0) - (ops[1]?.time ?? 0) === 2 * S);
      assert.deepEqual(take(pkg.finalGenerator, 2).map((o) => o.f), ['heal']);
    });

    it('figure-8 against a fake cluster: latency; the leader and one more cut off; the next leader killed at its election; heal; the leader after it paused, the killed one back; all undone', async () => {
      const b = new ViewsBackend(5);
      const { nemesis } = nemesisPackage(parseNemesisConfig({ faults: [], packages: ['figure-8'] }), b, { seed: 1 });
      const results: string[] = [];
      for (const s of packageSteps('figure-8', prngForTest(2))) {
        // The cluster's leaders as the steps see them: n1 first; n3 elected on the majority side
        // (the new-leader target waits for it); then n2 in a newer term once the partition heals.
        if (s.f === 'start-kill') setTimeout(() => (b.views = b.nodes.map((node) => ({ node, leader: node === 'n1' ? 'n1' : 'n3', term: node === 'n1' ? 1 : 2, role: 'x' }))), 30);
        if (s.f === 'start-pause') b.agree('n2', 4);
        const r = await invoke(nemesis, s.f, s.value);
        results.push(`${s.f} ${JSON.stringify(r.value)}`);
      }
      assert.match(results[1] ?? '', /^start-partition .*"leader-minority".*"components":\[\["n1","n\d"\],/);
      assert.deepEqual(results.slice(2, 3), ['start-kill ["n3"]']);
      assert.deepEqual(results.slice(4, 7), ['start-pause ["n2"]', 'stop-kill ["n3"]', 'stop-pause ["n2"]']);
      assert.equal(b.dead.size + b.paused.size, 0);
      assert.deepEqual(nemesis.active(), []);
    });

    it('new-leader: none elected in a newer term within the deadline is a failure that changes nothing', async function () {
      this.timeout(10_000);
      const b = new ViewsBackend(3);
      const { nemesis } = nemesisPackage(parseNemesisConfig({ faults: ['kill'], kill: { targets: ['new-leader'] } }), b, { seed: 1 });
      const r = await invoke(nemesis, 'start-kill', 'new-leader');
      assert.deepEqual(r, { type: 'fail', value: null, error: 'no new leader within 5 s' });
      assert.deepEqual(b.calls, []);
    });
  });
});
