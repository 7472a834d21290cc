/**
 * The registries of workloads and backends: a workload and a backend defined in test/ alone
 * (test/support/register-workload.ts) and registered with one line each are accepted by the
 * experiment schema and run through `dsync run`'s own code path (runExperiment): valid when the
 * register is right, INVALID when the planted bug is on, the nemesis acting on the fake backend,
 * and everything torn down. Unregistered, the same experiment is refused, naming the field.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseExperiment, ExperimentError } from '../../harness/experiment.js';
import { runExperiment } from '../../harness/run.js';
import { registerWorkload, unregisterWorkload, workloadDefinition, workloadDefinitions } from '../../workloads/index.js';
import { backendDefinition, backendNames, registerBackend, unregisterBackend } from '../../cluster/backends.js';
import { fakeBackendDefinition, registerWorkloadDefinition } from '../support/register-workload.js';

const quietIo = { err: () => undefined, errRaw: () => undefined };

const yaml = (staleReads: boolean): string =>
  [
    'backend: test-fake',
    'nodes: 3',
    'timeLimitS: 1.2',
    'finalPhaseS: 0.3',
    'concurrency: 4',
    'rate: 300',
    `workload: { name: test-register, values: 3, staleReads: ${staleReads} }`,
    'nemesis:',
    '  faults: [kill]',
    '  kill: { targets: [one] }',
    '  schedule: { interval: { faultS: 0.3, healS: 0.2 } }',
    '',
  ].join('\n');

describe('harness: registries of workloads and backends', function () {
  this.timeout(30_000);
  const fake = fakeBackendDefinition();
  let root: string;

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'dsync-registry-'));
  });
  after(() => {
    unregisterWorkload('test-register');
    unregisterBackend('test-fake');
    rmSync(root, { recursive: true, force: true });
  });

  it('refuses an experiment naming a workload or a backend that is not registered', () => {
    assert.throws(() => parseExperiment(yaml(false), 'x.yaml'), (e: unknown) => {
      assert.ok(e instanceof ExperimentError);
      assert.match(e.message, /^x\.yaml:1: backend: .*got "test-fake"/m);
      assert.match(e.message, /^x\.yaml:7: workload\.name: /m);
      return true;
    });
    assert.throws(() => workloadDefinition('test-register'), /^RangeError: unknown workload "test-register"; workloads: lock, queue, cache$/);
    assert.throws(() => backendDefinition('test-fake'), /^RangeError: unknown backend "test-fake"; backends: local, docker$/);
  });

  it('registers them with one line each; the schema then takes their fields and refuses unknown ones', () => {
    registerWorkload(registerWorkloadDefinition);
    registerBackend(fake);
    assert.ok(workloadDefinitions().some((d) => d.name === 'test-register'));
    assert.deepEqual(backendNames(), ['local', 'docker', 'test-fake']);
    assert.throws(() => registerWorkload(registerWorkloadDefinition), /already registered/);
    const e = parseExperiment(yaml(false), 'x.yaml');
    assert.equal(e.backend, 'test-fake');
    assert.deepEqual(e.workload, { name: 'test-register', values: 3, staleReads: false });
    assert.throws(() => parseExperiment(yaml(false).replace('values: 3', 'valuez: 3'), 'x.yaml'), /x\.yaml:7: workload\.valuez: /);
  });

  it('runs the registered workload on the registered backend through dsync run: valid, nemesis applied, torn down', async () => {
    const r = await runExperiment({ experiment: parseExperiment(yaml(false), 'registry-ok.yaml'), storeRoot: root, io: quietIo, quiet: true });
    assert.equal(r.exitCode, 0, r.reason);
    assert.equal(r.verdict, true);
    const b = fake.started.at(-1);
    assert.ok(b, 'the fake backend was started');
    assert.ok(b.torndown, 'and torn down');
    assert.ok(b.killed.length >= 1, 'the nemesis killed a fake node');
    assert.ok(r.counts.ok > 50, `ops ran: ${JSON.stringify(r.counts)}`);
    const results = JSON.parse(readFileSync(join(r.store, 'results.json'), 'utf8')) as { workload: string; nodes: string[]; checker: { results: Record<string, { summary: string }> } };
    assert.match(results.workload, /^test-register: one in-memory register over 3 fake endpoints$/);
    assert.deepEqual(results.nodes, ['f1', 'f2', 'f3']);
    assert.match(results.checker.results['linearizable']?.summary ?? '', /^linearizable with register: \d+ ops in 1 partition/);
    const fs = readFileSync(join(r.store, 'history.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { f: string }).f);
    assert.ok(fs.includes('read') && fs.includes('write') && fs.includes('start-kill'), 'reads, writes and kills are in the history');
    assert.ok(existsSync(join(r.store, 'report.html')), 'the report was written');
  });

  it('a clock fault asks the backend for clocks (clockFaults), and one that cannot move them fails the run (exit 3), naming the power', async () => {
    const asked: boolean[] = [];
    const start = fake.start.bind(fake);
    const spy = { ...fake, start: (o: Parameters<typeof fake.start>[0]) => (asked.push(o.clockFaults === true), start(o)) };
    unregisterBackend('test-fake');
    registerBackend(spy);
    try {
      const text = yaml(false).replace("faults: [kill]\n  kill: { targets: [one] }", 'faults: [clock]');
      const r = await runExperiment({ experiment: parseExperiment(text, 'registry-clock.yaml'), storeRoot: root, io: quietIo, quiet: true });
      assert.equal(r.exitCode, 3, r.reason);
      assert.match(r.reason ?? '', /fault "clock" needs per-node clocks \(ClockControl.*libfaketime/);
      assert.deepEqual(asked, [true]);
      assert.ok(fake.started.at(-1)?.torndown, 'the backend was torn down');
    } finally {
      unregisterBackend('test-fake');
      registerBackend(fake);
    }
  });

  it('finds the planted bug: stale reads make the same run INVALID (exit 1)', async () => {
    const r = await runExperiment({ experiment: parseExperiment(yaml(true), 'registry-stale.yaml'), storeRoot: root, io: quietIo, quiet: true });
    assert.equal(r.exitCode, 1, r.reason);
    assert.equal(r.verdict, false);
    assert.match(r.reason ?? '', /not linearizable with register/);
    assert.ok(fake.started.at(-1)?.torndown);
  });
});
