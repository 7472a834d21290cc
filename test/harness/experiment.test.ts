import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import {
  applyOverrides,
  clusterNodeArgs,
  ExperimentError,
  experimentToYaml,
  loadExperiment,
  parseExperiment,
  type Experiment,
  type ExperimentOverrides,
} from '../../harness/experiment.js';
import { lockWorkloadSchema } from '../../workloads/lock.js';
import { parseNemesisConfig } from '../../nemesis/index.js';
import { dsyncBin, repoRoot } from '../support/paths.js';
import { suiteExitCode } from '../../harness/run-command.js';
import { EXIT_CODES } from '../../checkers/index.js';

/** Runs `f`, which must throw an ExperimentError, and returns its message. */
function experimentError(f: () => unknown): string {
  let message: string | undefined;
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof ExperimentError, `expected an ExperimentError, got ${String(e)}`);
    message = e.message;
    return true;
  });
  return message!;
}

const MINIMAL = 'workload:\n  name: lock\n';

describe('harness/experiment', () => {
  describe('parseExperiment', () => {
    it('fills every default from the schema', () => {
      const e = parseExperiment(MINIMAL, 'experiments/minimal.yaml');
      const { workload, nemesis, ...top } = e;
      assert.deepEqual(top, {
        name: 'minimal',
        description: '',
        expect: 'valid',
        backend: 'local',
        nodes: 3,
        nodeArgs: [],
        seed: 1,
        timeLimitS: 20,
        concurrency: 10,
        rate: 50,
        jitter: 'exponential',
        finalPhaseS: 5,
        checkTimeoutMs: 60_000,
        cluster: { cache: { redis: false } },
      });
      // The workload section's defaults are the lock workload schema's own.
      assert.deepEqual(workload, lockWorkloadSchema.parse({ name: 'lock' }));
      assert.equal(workload.name, 'lock');
      assert.equal(workload.ttlMs, undefined);
      // No faults, and the nemesis section's own defaults (pinned in test/nemesis/config.test.ts).
      assert.deepEqual(nemesis, parseNemesisConfig({ faults: [] }));
      assert.deepEqual(nemesis.faults, []);
    });

    const names: { file: string; text: string; name: string }[] = [
      { file: 'experiments/lock-foo.yaml', text: MINIMAL, name: 'lock-foo' },
      { file: '/abs/dir/a.b.yaml', text: MINIMAL, name: 'a.b' },
      { file: 'short.yml', text: MINIMAL, name: 'short' },
      { file: 'noext', text: MINIMAL, name: 'noext' },
      { file: 'experiments/lock-foo.yaml', text: `name: given_name-2\n${MINIMAL}`, name: 'given_name-2' },
    ];
    for (const c of names) {
      it(`names ${JSON.stringify(c.file)} ${c.text.startsWith('name:') ? 'by its name field' : 'by the file name'}: ${c.name}`, () => {
        assert.equal(parseExperiment(c.text, c.file).name, c.name);
      });
    }

    it('keeps given values over defaults', () => {
      const e = parseExperiment(
        [
          'nodes: 5',
          'seed: 42',
          'timeLimitS: 2.5',
          'jitter: none',
          'nodeArgs: ["--tick-ms", "10"]',
          'workload: { name: lock, keys: { count: 3, distribution: hot }, ttlMs: 100000 }',
          'nemesis: { faults: [kill], schedule: { interval: { faultS: 1 } } }',
        ].join('\n'),
        'x.yaml',
      );
      assert.equal(e.nodes, 5);
      assert.equal(e.seed, 42);
      assert.equal(e.timeLimitS, 2.5);
      assert.equal(e.jitter, 'none');
      assert.deepEqual(e.nodeArgs, ['--tick-ms', '10']);
      assert.deepEqual(e.workload.keys, { count: 3, distribution: 'hot', exponent: 1, hotFraction: 0.5 });
      assert.equal(e.workload.ttlMs, 100_000);
      assert.deepEqual(e.nemesis.faults, ['kill']);
      assert.deepEqual(e.nemesis.schedule, { interval: { faultS: 1, healS: 5 } });
    });

    interface BadCase {
      readonly what: string;
      readonly text: string;
      /** The message has one line per prefix, each starting with it (in any order). */
      readonly lines: readonly string[];
      /** Text the whole message contains. */
      readonly contains?: readonly string[];
    }
    const bad: BadCase[] = [
      {
        what: 'a lease TTL the run would outlive (the workload\'s own check), on its line, before any node starts',
        text: ['timeLimitS: 20', 'finalPhaseS: 5', 'workload:', '  name: lock', '  ttlMs: 30000', ''].join('\n'),
        lines: ['x.yaml:5: workload.ttlMs: 30000 ms would let leases expire'],
        contains: ['lasts up to 55 s', 'at least 115000 ms'],
      },
      {
        what: 'a partition topology the node count does not allow',
        text: ['nodes: 2', MINIMAL, 'nemesis:', '  faults: [partition]', '  partition: { topologies: [isolate-one, majorities-ring] }', ''].join('\n'),
        lines: ['x.yaml:7: nemesis.partition.topologies.1: topology majorities-ring needs at least 3 nodes, the experiment has 2'],
      },
      {
        what: 'a timeline topology the node count does not allow',
        text: ['nodes: 2', MINIMAL, 'nemesis:', '  faults: [partition]', '  schedule:', '    timeline:', '      - { at: 1, f: start-partition, value: bridge }', '      - { at: 2, f: stop-partition }', ''].join('\n'),
        lines: ['x.yaml:9: nemesis.schedule.timeline.0.value: topology bridge needs at least 3 nodes'],
      },
      {
        what: 'a package whose topologies the node count does not allow',
        text: ['nodes: 2', MINIMAL, 'nemesis:', '  faults: []', '  packages: [lagging-leader]', ''].join('\n'),
        lines: ['x.yaml:7: nemesis.packages.0: package lagging-leader topology star needs at least 3 nodes'],
      },
      {
        what: 'a string where a number belongs, on its line with its field path',
        text: ['description: d', 'workload:', '  name: lock', 'nemesis:', '  faults: [partition]', '  schedule:', '    interval:', '      faultS: "five"', ''].join('\n'),
        lines: ['x.yaml:8: nemesis.schedule.interval.faultS:'],
        contains: ['got "five"'],
      },
      {
        what: 'an unknown top-level field, naming it on its line',
        text: `nodes: 3\n${MINIMAL}bogus: 1\n`,
        lines: ['x.yaml:4: bogus:'],
        contains: ['"bogus"'],
      },
      {
        what: 'two unknown top-level fields, naming both on one line',
        text: `bogus: 1\n${MINIMAL}extra: 2\n`,
        lines: ['x.yaml:'],
        contains: ['"bogus"', '"extra"'],
      },
      {
        what: 'an unknown field inside the workload',
        text: 'workload:\n  name: lock\n  keyz: 3\n',
        lines: ['x.yaml:3: workload.keyz:'],
        contains: ['"keyz"'],
      },
      {
        what: 'a missing workload',
        text: 'nodes: 3\nseed: 2\n',
        lines: ['x.yaml:1: workload:'],
        contains: ['got nothing'],
      },
      {
        what: 'an unknown workload name',
        text: 'nodes: 3\nworkload: { name: kafka }\n',
        lines: ['x.yaml:2: workload.name:'],
        contains: ['got "kafka"'],
      },
      {
        what: 'a queue workload whose final phase cannot drain its leases',
        text: 'nodes: 3\nfinalPhaseS: 5\nworkload: { name: queue, visibilityMs: 2000 }\n',
        lines: ['x.yaml:3: workload.visibilityMs:'],
        contains: ['need a final phase of at least 7 s', '(finalPhaseS is 5)'],
      },
      {
        what: 'a name with a slash',
        text: `name: a/b\n${MINIMAL}`,
        lines: ['x.yaml:1: name:'],
        contains: ['letters, digits', 'got "a/b"'],
      },
      {
        what: 'a non-integer node count',
        text: `nodes: 2.5\n${MINIMAL}`,
        lines: ['x.yaml:1: nodes:'],
        contains: ['got 2.5'],
      },
      {
        what: 'a bad fault kind, with its index in the path',
        text: `${MINIMAL}nemesis:\n  faults: [partition, flood]\n`,
        lines: ['x.yaml:4: nemesis.faults.1:'],
        contains: ['got "flood"'],
      },
      {
        what: 'a YAML syntax error (duplicate key)',
        text: `nodes: 3\nnodes: 4\n${MINIMAL}`,
        lines: ['x.yaml:2: not valid YAML: '],
      },
      {
        what: 'a YAML syntax error (unclosed flow sequence)',
        text: `nodes: 3\n${MINIMAL}seed: [1\n`,
        lines: ['x.yaml:'],
        contains: ['not valid YAML: '],
      },
      {
        what: 'a list at top level',
        text: '- nodes: 3\n- seed: 1\n',
        lines: ['x.yaml:1: expected a map of experiment fields'],
        contains: ['got [{"nodes":3},{"seed":1}]'],
      },
      {
        what: 'a scalar at top level',
        text: 'lock\n',
        lines: ['x.yaml:1: expected a map of experiment fields'],
        contains: ['got "lock"'],
      },
      {
        what: 'an empty file',
        text: '',
        lines: ['x.yaml:1: expected a map of experiment fields'],
        contains: ['got null'],
      },
      {
        what: 'several bad fields, one line each',
        text: ['nodes: 0', 'seed: -1', 'workload: { name: lock }', 'rate: fast', 'concurrency: 0.5', ''].join('\n'),
        lines: ['x.yaml:1: nodes:', 'x.yaml:2: seed:', 'x.yaml:4: rate:', 'x.yaml:5: concurrency:'],
        contains: ['got 0', 'got -1', 'got "fast"', 'got 0.5'],
      },
    ];
    for (const c of bad) {
      it(`rejects ${c.what}`, () => {
        const message = experimentError(() => parseExperiment(c.text, 'x.yaml'));
        const lines = message.split('\n');
        assert.equal(lines.length, c.lines.length, message);
        for (const prefix of c.lines) assert.ok(lines.some((l) => l.startsWith(prefix)), `no line of ${JSON.stringify(message)} starts with ${JSON.stringify(prefix)}`);
        for (const s of c.contains ?? []) assert.ok(message.includes(s), `${JSON.stringify(message)} should contain ${JSON.stringify(s)}`);
      });
    }
  });

  describe('cluster.cache and expect', () => {
    it('turns cluster.cache into node flags, and redis: true into a server the run starts (not a flag here)', () => {
      const e = parseExperiment('cluster:\n  cache: { policy: write-back, leaseMs: 1500, driftBound: 0.02, maxEntries: 50, redis: true }\nworkload:\n  name: cache\n', 'x.yaml');
      assert.deepEqual(clusterNodeArgs(e), ['--cache-policy', 'write-back', '--cache-lease-ms', '1500', '--cache-drift-bound', '0.02', '--cache-max-entries', '50']);
      assert.equal(e.cluster.cache.redis, true);
      assert.deepEqual(clusterNodeArgs(parseExperiment(MINIMAL, 'x.yaml')), []);
    });

    it('refuses an unknown policy naming the field', () => {
      const message = experimentError(() => parseExperiment('cluster:\n  cache: { policy: write-around }\nworkload:\n  name: cache\n', 'x.yaml'));
      assert.match(message, /^x\.yaml:2.*cluster\.cache\.policy/);
    });

    it('suite: an experiment expecting invalid passes when invalid and fails when valid, saying so', () => {
      const lines: string[] = [];
      const io = { out: (s: string) => void lines.push(s) };
      const e = { name: 'wb', expect: 'invalid' as const };
      assert.equal(suiteExitCode(e, EXIT_CODES.invalid, io), EXIT_CODES.valid);
      assert.equal(suiteExitCode(e, EXIT_CODES.valid, io), EXIT_CODES.invalid);
      assert.equal(suiteExitCode(e, EXIT_CODES.unknown, io), EXIT_CODES.unknown);
      assert.equal(suiteExitCode({ name: 'x', expect: 'valid' }, EXIT_CODES.invalid, io), EXIT_CODES.invalid);
      assert.deepEqual(lines, ['wb: invalid, as expected', 'wb: VALID, but it is expected to be invalid — the harness missed what this experiment shows']);
    });
  });

  describe('loadExperiment', () => {
    const dir = join(repoRoot, 'experiments');
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.yaml'))
      .sort();

    it('finds the shipped experiments', () => {
      assert.ok(files.length >= 4, `only ${files.join(', ')} in ${dir}`);
    });

    for (const f of files) {
      it(`loads experiments/${f}: a lock, queue or cache run (as its name says) of 3 or 5 nodes lasting 20-30 s, that round-trips through YAML`, () => {
        const file = join(dir, f);
        const e = loadExperiment(file);
        assert.equal(e.name, f.replace(/\.yaml$/, ''));
        assert.ok(e.nodes === 3 || e.nodes === 5, `${e.nodes} nodes`);
        assert.equal(e.workload.name, f.startsWith('queue-') ? 'queue' : f.startsWith('cache-') ? 'cache' : 'lock');
        const total = e.timeLimitS + e.finalPhaseS;
        assert.ok(total >= 20 && total <= 30, `timeLimitS + finalPhaseS = ${total}`);
        assert.ok(e.description.length > 0);
        assert.deepEqual(parseExperiment(experimentToYaml(e), 'config.yaml'), e);
      });
    }

    it('names the file and ENOENT when it is missing', () => {
      const file = join(repoRoot, 'experiments', 'no-such-experiment.yaml');
      const message = experimentError(() => loadExperiment(file));
      assert.ok(message.startsWith(`${file}:`), message);
      assert.match(message, /ENOENT/);
    });
  });

  describe('applyOverrides', () => {
    const base = parseExperiment(`seed: 7\ntimeLimitS: 20\n${MINIMAL}`, 'base.yaml');

    const good: { o: ExperimentOverrides; timeLimitS: number; seed: number }[] = [
      { o: {}, timeLimitS: 20, seed: 7 },
      { o: { timeLimitS: 3 }, timeLimitS: 3, seed: 7 },
      { o: { seed: 0 }, timeLimitS: 20, seed: 0 },
      { o: { seed: 2 ** 31 - 1, timeLimitS: 0.5 }, timeLimitS: 0.5, seed: 2 ** 31 - 1 },
      { o: { timeLimitS: undefined, seed: undefined }, timeLimitS: 20, seed: 7 },
    ];
    for (const c of good) {
      it(`applies ${JSON.stringify(c.o, (_k, v: unknown) => (v === undefined ? 'undefined' : v))}`, () => {
        const e = applyOverrides(base, c.o);
        assert.equal(e.timeLimitS, c.timeLimitS);
        assert.equal(e.seed, c.seed);
        assert.equal(e.name, 'base');
        assert.deepEqual({ ...e, timeLimitS: 0, seed: 0 }, { ...base, timeLimitS: 0, seed: 0 });
        // The experiment given is left as it was.
        assert.equal(base.seed, 7);
        assert.equal(base.timeLimitS, 20);
      });
    }

    const badOverrides: { o: ExperimentOverrides; prefix: string; contains: string }[] = [
      { o: { seed: -1 }, prefix: '--seed: seed:', contains: 'got -1' },
      { o: { seed: 1.5 }, prefix: '--seed: seed:', contains: 'got 1.5' },
      { o: { seed: 2 ** 31 }, prefix: '--seed: seed:', contains: `got ${2 ** 31}` },
      { o: { seed: Number.NaN }, prefix: '--seed: seed:', contains: 'got null' },
      { o: { timeLimitS: 0 }, prefix: '--time-limit: timeLimitS:', contains: 'got 0' },
      { o: { timeLimitS: -5 }, prefix: '--time-limit: timeLimitS:', contains: 'got -5' },
      { o: { timeLimitS: 86_401 }, prefix: '--time-limit: timeLimitS:', contains: 'got 86401' },
      { o: { backend: 'k8s' }, prefix: '--backend: backend:', contains: 'got "k8s"' },
    ];
    for (const c of badOverrides) {
      it(`rejects ${JSON.stringify(c.o)} naming the flag`, () => {
        const message = experimentError(() => applyOverrides(base, c.o));
        assert.ok(message.startsWith(c.prefix), message);
        assert.ok(message.includes(c.contains), message);
        assert.equal(message.split('\n').length, 1, message);
      });
    }

    it('refuses a --time-limit that a fixed workload.ttlMs no longer outlives, naming the flag and the file line', () => {
      const withTtl = parseExperiment(`timeLimitS: 20\nworkload:\n  name: lock\n  ttlMs: 200000\n`, 'ttl.yaml');
      assert.equal(applyOverrides(withTtl, { timeLimitS: 100 }).timeLimitS, 100);
      const message = experimentError(() => applyOverrides(withTtl, { timeLimitS: 200 }));
      assert.equal(message, 'ttl.yaml:4 (with --time-limit 200): workload.ttlMs: 200000 ms would let leases expire during the run (it lasts up to 235 s; at least 295000 ms is needed), and fenced-lock does not model expiry (set workload.leases to check with lease-lock)');
    });

    it('names each bad flag on its own line', () => {
      const message = experimentError(() => applyOverrides(base, { seed: -1, timeLimitS: 0 }));
      const lines = message.split('\n').sort();
      assert.equal(lines.length, 2, message);
      assert.ok(lines[0]!.startsWith('--seed: '), message);
      assert.ok(lines[1]!.startsWith('--time-limit: '), message);
    });
  });

  describe('experimentToYaml', () => {
    const cases: { what: string; e: Experiment }[] = [
      { what: 'all defaults', e: parseExperiment(MINIMAL, 'defaults.yaml') },
      {
        what: 'a timeline, a TTL, node args and awkward strings',
        e: parseExperiment(
          [
            'name: rich',
            'description: "a: b # not a comment\\nsecond line, \\"quoted\\""',
            'nodeArgs: ["--tick-ms", "10", "--x=yes"]',
            'seed: 0',
            'timeLimitS: 1.25',
            'finalPhaseS: 0',
            'jitter: uniform',
            'workload: { name: lock, keys: { count: 1, distribution: zipfian, exponent: 1.5 }, sharedFraction: 0.25, ttlMs: 3600000, waitMs: 500 }',
            'nemesis:',
            '  faults: [partition, kill, latency]',
            '  combine: all',
            '  partition: { topologies: [majorities-ring] }',
            '  schedule:',
            '    timeline:',
            '      - { at: 1, f: start-partition, value: bridge }',
            '      - { at: 2, f: start-kill, value: leader }',
            '      - { at: 2.5, f: start-latency, value: { ms: 10 } }',
            '      - { at: 4, f: heal }',
            '',
          ].join('\n'),
          'ignored.yaml',
        ),
      },
    ];
    for (const c of cases) {
      it(`round-trips ${c.what}`, () => {
        const yaml = experimentToYaml(c.e);
        const back = parseExperiment(yaml, 'other-name.yaml');
        assert.deepEqual(back, c.e);
        // The name is written out, so the file name no longer decides it.
        assert.match(yaml, new RegExp(`^name: ${c.e.name}$`, 'm'));
      });
    }
  });
});

describe('dsync run / suite / catalogue refuse a bad experiment before anything starts (CLI)', function () {
  this.timeout(30_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'dsync-refuse-'));
    writeFileSync(join(dir, 'short-ttl.yaml'), 'timeLimitS: 5\nfinalPhaseS: 1\nworkload:\n  name: lock\n  ttlMs: 30000\n');
    writeFileSync(join(dir, 'ttl-ok.yaml'), 'timeLimitS: 5\nfinalPhaseS: 1\nworkload:\n  name: lock\n  ttlMs: 100000\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const dsync = (...args: string[]) => execa(process.execPath, [dsyncBin, ...args], { cwd: dir, reject: false });

  it('dsync run: a too-short workload.ttlMs → exit 3, file:line: workload.ttlMs, no store folder, nothing indexed', async () => {
    const store = join(dir, 'store-run');
    const r = await dsync('run', 'short-ttl.yaml', '--store', store);
    assert.equal(r.exitCode, 3, r.stderr);
    assert.match(r.stderr, /^dsync run: short-ttl\.yaml:5: workload\.ttlMs: 30000 ms would let leases expire during the run \(it lasts up to 36 s; at least 96000 ms is needed\)/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(existsSync(store), false, 'no store folder');
  });

  it('dsync run: a --time-limit that outgrows workload.ttlMs → exit 3 naming the flag, no store folder', async () => {
    const store = join(dir, 'store-flag');
    const r = await dsync('run', 'ttl-ok.yaml', '--time-limit', '100', '--store', store);
    assert.equal(r.exitCode, 3, r.stderr);
    assert.match(r.stderr, /^dsync run: ttl-ok\.yaml:5 \(with --time-limit 100\): workload\.ttlMs: 100000 ms would let leases expire/);
    assert.equal(existsSync(store), false);
  });

  it('dsync suite: one bad experiment refuses the whole suite before the first run', async () => {
    const store = join(dir, 'store-suite');
    const r = await dsync('suite', 'ttl-ok.yaml', 'short-ttl.yaml', '--store', store);
    assert.equal(r.exitCode, 3, r.stderr);
    assert.match(r.stderr, /^dsync suite: short-ttl\.yaml:5: workload\.ttlMs: /);
    assert.equal(existsSync(store), false);
  });

  it('dsync catalogue: a bad experiment (with the seeds it is tried with) is refused before any run', async () => {
    writeFileSync(join(dir, 'cat.yaml'), 'description: d\nbugs:\n  - failpoint: lock.stale-token\n    bug: b\n    experiments: [short-ttl.yaml]\n    seeds: [3, 4]\n');
    const store = join(dir, 'store-cat');
    const r = await dsync('catalogue', 'cat.yaml', '--store', store);
    assert.equal(r.exitCode, 3, r.stderr);
    assert.match(r.stderr, /^dsync catalogue: .*short-ttl\.yaml:5: workload\.ttlMs: /);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.equal(existsSync(store), false);
  });
});
