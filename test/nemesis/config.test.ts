import assert from 'node:assert/strict';
import { parse as parseYaml } from 'yaml';
import { NEMESIS_FAULT_KINDS, NemesisConfigError, nemesisConfigSchema, parseNemesisConfig, PARTITION_TOPOLOGIES } from '../../nemesis/index.js';

describe('nemesis/config', () => {
  it('fills every default', () => {
    assert.deepEqual(parseNemesisConfig({ faults: ['partition'] }), {
      faults: ['partition'],
      combine: 'one',
      partition: { topologies: [...PARTITION_TOPOLOGIES.filter((t) => t !== 'star' && t !== 'leader-minority')], order: 'random' },
      kill: { targets: ['one', 'minority', 'leader'], order: 'random', loseUnsynced: false },
      pause: { targets: ['one', 'minority', 'leader'], order: 'random' },
      latency: { ms: 100, jitterMs: 50 },
      clock: { kinds: ['bump', 'strobe', 'drift'], targets: ['one', 'minority', 'followers', 'leader', 'all'], minOffsetS: 0, maxOffsetS: 60, direction: 'both', strobePeriodMs: 100, driftRate: 0.1 },
      packages: [],
      schedule: { interval: { faultS: 5, healS: 5 } },
    });
    assert.deepEqual(NEMESIS_FAULT_KINDS, ['partition', 'kill', 'pause', 'latency', 'clock']);
  });

  it('reads the YAML shape, fills defaults inside given sections, and accepts none or [] for no faults', () => {
    const c = parseNemesisConfig(
      parseYaml(`
faults: [partition, kill, latency]
combine: all
partition: { topologies: [majorities-ring] }
latency: { ms: 20 }
schedule:
  interval: { faultS: 2 }
`),
    );
    assert.equal(c.combine, 'all');
    assert.deepEqual(c.partition.topologies, ['majorities-ring']);
    assert.deepEqual(c.latency, { ms: 20, jitterMs: 50 });
    assert.deepEqual(c.schedule, { interval: { faultS: 2, healS: 5 } });
    assert.deepEqual(parseNemesisConfig({ faults: 'none' }).faults, []);
    assert.deepEqual(parseNemesisConfig({ faults: [] }).faults, []);
  });

  it('kill.loseUnsynced (the nodes run with DSYNC_LOSE_UNSYNCED=1) is a boolean, false unless given', () => {
    assert.deepEqual(parseNemesisConfig({ faults: ['kill'], kill: { loseUnsynced: true } }).kill, { targets: ['one', 'minority', 'leader'], order: 'random', loseUnsynced: true });
    assert.throws(() => parseNemesisConfig({ faults: ['kill'], kill: { order: 'sorted' } }), /nemesis\.kill\.order/);
    assert.throws(() => parseNemesisConfig({ faults: ['kill'], kill: { loseUnsynced: 'yes' } }), /^NemesisConfigError|nemesis\.kill\.loseUnsynced/);
  });

  it('reads a timeline, with per-op values and defaults inside them', () => {
    const c = parseNemesisConfig({
      faults: ['partition', 'kill', 'latency'],
      schedule: {
        timeline: [
          { at: 3, f: 'start-partition', value: 'isolate-leader' },
          { at: 3, f: 'start-kill', value: 'minority' },
          { at: 5, f: 'start-latency', value: { ms: 10 } },
          { at: 8, f: 'stop-partition' },
          { at: 9, f: 'heal' },
        ],
      },
    });
    assert.ok('timeline' in c.schedule);
    assert.deepEqual(c.schedule.timeline[2], { at: 5, f: 'start-latency', value: { ms: 10, jitterMs: 50 } });
    assert.equal(c.schedule.timeline.length, 5);
  });

  it('a resolved config parses to itself', () => {
    for (const input of [
      { faults: ['kill', 'pause'] },
      { faults: ['kill'], schedule: { timeline: [{ at: 0, f: 'start-kill' }] } },
      { faults: ['clock'], clock: { kinds: ['bump'], targets: ['followers'], minOffsetS: 600, maxOffsetS: 900, direction: 'forward' }, schedule: { timeline: [{ at: 1, f: 'start-clock', value: { kind: 'strobe', offsetS: -2 } }, { at: 3, f: 'stop-clock' }] } },
    ]) {
      const once = parseNemesisConfig(input);
      assert.deepEqual(parseNemesisConfig(structuredClone(once)), once);
      assert.equal(nemesisConfigSchema.safeParse(once).success, true);
    }
  });

  it('rejects bad configs, naming the field by its path', () => {
    const table: [string, unknown, RegExp][] = [
      ['missing faults', {}, /^nemesis\.faults: required/],
      ['faults not a list', { faults: 'all' }, /^nemesis\.faults: expected a list of partition, kill, pause, latency, clock, or none/],
      ['unknown fault', { faults: ['partition', 'flood'] }, /^nemesis\.faults\[1\]: .*"partition"\|"kill"/],
      ['fault twice', { faults: ['kill', 'kill'] }, /^nemesis\.faults: a fault kind is listed twice/],
      ['unknown field', { faults: [], bogus: 1 }, /^nemesis: Unrecognized key: "bogus"/],
      ['unknown nested field', { faults: [], kill: { targets: ['one'], who: 'n1' } }, /^nemesis\.kill: Unrecognized key: "who"/],
      ['bad combine', { faults: [], combine: 'some' }, /^nemesis\.combine: /],
      ['bad topology', { faults: [], partition: { topologies: ['random-halves', 'ring'] } }, /^nemesis\.partition\.topologies\[1\]: /],
      ['no topologies', { faults: [], partition: { topologies: [] } }, /^nemesis\.partition\.topologies: /],
      ['bad target', { faults: [], pause: { targets: ['everyone'] } }, /^nemesis\.pause\.targets\[0\]: /],
      ['unknown package', { faults: [], packages: ['figure-9'] }, /^nemesis\.packages\[0\]: /],
      ['package twice', { faults: [], packages: ['restart-all', 'restart-all'] }, /^nemesis\.packages: a package is listed twice/],
      ['package with a timeline', { faults: ['kill'], packages: ['restart-all'], schedule: { timeline: [] } }, /^nemesis\.packages: packages run only with an interval schedule/],
      ['negative latency', { faults: [], latency: { ms: -1 } }, /^nemesis\.latency\.ms: /],
      ['zero fault window', { faults: [], schedule: { interval: { faultS: 0 } } }, /^nemesis\.schedule\.interval\.faultS: /],
      ['both schedules', { faults: [], schedule: { interval: {}, timeline: [] } }, /^nemesis\.schedule: give either interval or timeline/],
      ['unknown schedule', { faults: [], schedule: { cron: '* * *' } }, /^nemesis\.schedule: Unrecognized key: "cron"/],
      ['negative at', { faults: ['kill'], schedule: { timeline: [{ at: -1, f: 'start-kill' }] } }, /^nemesis\.schedule\.timeline\[0\]\.at: /],
      ['unknown op', { faults: ['kill'], schedule: { timeline: [{ at: 1, f: 'start-flood' }] } }, /^nemesis\.schedule\.timeline\[0\]\.f: /],
      ['bad op value', { faults: ['kill'], schedule: { timeline: [{ at: 1, f: 'start-kill', value: 'n1' }] } }, /^nemesis\.schedule\.timeline\[0\]\.value: /],
      ['value on a stop', { faults: ['kill'], schedule: { timeline: [{ at: 1, f: 'stop-kill', value: 'one' }] } }, /^nemesis\.schedule\.timeline\[0\]: Unrecognized key: "value"/],
      [
        'out of order',
        { faults: ['kill'], schedule: { timeline: [{ at: 1, f: 'start-kill' }, { at: 4, f: 'stop-kill' }, { at: 2, f: 'start-kill' }] } },
        /^nemesis\.schedule\.timeline\[2\]\.at: timeline entry 2 \(at 2\) comes before entry 1 \(at 4\)/,
      ],
      ['unknown clock kind', { faults: ['clock'], clock: { kinds: ['jump'] } }, /^nemesis\.clock\.kinds\[0\]: /],
      ['unknown clock target', { faults: ['clock'], clock: { targets: ['majority'] } }, /^nemesis\.clock\.targets\[0\]: /],
      ['clock offsets upside down', { faults: ['clock'], clock: { minOffsetS: 10, maxOffsetS: 5 } }, /^nemesis\.clock\.minOffsetS: minOffsetS is larger than maxOffsetS/],
      ['zero drift', { faults: ['clock'], clock: { driftRate: 0 } }, /^nemesis\.clock\.driftRate: /],
      ['strobe too fast', { faults: ['clock'], clock: { strobePeriodMs: 1 } }, /^nemesis\.clock\.strobePeriodMs: /],
      ['bad clock direction', { faults: ['clock'], clock: { direction: 'sideways' } }, /^nemesis\.clock\.direction: /],
      ['bad start-clock value', { faults: ['clock'], schedule: { timeline: [{ at: 1, f: 'start-clock', value: { kind: 'bump', by: 5 } }] } }, /^nemesis\.schedule\.timeline\[0\]\.value: Unrecognized key: "by"/],
      ['clock op without clock', { faults: ['kill'], schedule: { timeline: [{ at: 1, f: 'stop-clock' }] } }, /^nemesis\.schedule\.timeline\[0\]\.f: stop-clock needs "clock" in faults/],
      ['op of an unlisted fault', { faults: ['kill'], schedule: { timeline: [{ at: 1, f: 'start-kill' }, { at: 2, f: 'start-pause' }] } }, /^nemesis\.schedule\.timeline\[1\]\.f: start-pause needs "pause" in faults/],
    ];
    for (const [name, input, re] of table) {
      assert.throws(
        () => parseNemesisConfig(input),
        (e: unknown) => e instanceof NemesisConfigError && e.code === 'NEMESIS_CONFIG' && re.test(e.message),
        name,
      );
    }
  });

  it('reads the new targets, packages and sub-second windows', () => {
    const c = parseNemesisConfig(
      parseYaml(`
faults: [kill, pause]
kill: { targets: [majority, all, majority-leader, minority-leader] }
packages: [figure-8, lagging-leader, restart-all]
schedule:
  interval: { faultS: 0.5, healS: 0.25 }
`),
    );
    assert.deepEqual(c.kill.targets, ['majority', 'all', 'majority-leader', 'minority-leader']);
    assert.deepEqual(c.pause.targets, ['one', 'minority', 'leader']);
    assert.deepEqual(c.packages, ['figure-8', 'lagging-leader', 'restart-all']);
    assert.deepEqual(c.schedule, { interval: { faultS: 0.5, healS: 0.25 } });
    assert.deepEqual(parseNemesisConfig(structuredClone(c)), c);
    assert.deepEqual(parseNemesisConfig({ faults: [], packages: ['restart-all'] }).faults, []);
  });

  it('prefixes paths with where the section sits', () => {
    assert.throws(() => parseNemesisConfig({ faults: ['x'] }, 'runs[2].nemesis'), /^NemesisConfigError: runs\[2\]\.nemesis\.faults\[0\]: /);
  });
});
