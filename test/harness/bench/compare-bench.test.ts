/**
 * `dsync bench compare`: its flags and their errors, and two small real runs — every service on
 * 1 and 3 nodes with a kill of the leader (into a store, listed by its index), and the lock on 3
 * nodes with the leader cut off — checked for sane numbers and for leaving nothing running.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMPARE_DEFAULTS, compareBenchCommand, registerCompareBenchCommand, validateCompareOptions, type CompareBenchOptions } from '../../../harness/bench/compare-bench.js';
import { loadgenCommand } from '../../../harness/bench/loadgen-bench.js';
import type { CompareResults } from '../../../harness/bench/compare-results.js';
import { readCompareResults } from '../../../reports/compare-html.js';
import { processesUsing } from '../../support/processes.js';
import { parseBenchFlags, silent } from '../../support/bench-flags.js';

const capture = (): { out: string[]; err: string[]; io: { out: (s: string) => void; err: (s: string) => void } } => {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (s) => out.push(s), err: (s) => err.push(s) } };
};

describe('harness/bench/compare-bench: dsync bench compare', function () {
  this.timeout(240_000);

  it('parses its flags with defaults, and names the flag of a bad value', async () => {
    const parse = (...args: string[]): Promise<Record<string, unknown>> => parseBenchFlags((program) => registerCompareBenchCommand(program.command('bench'), () => undefined, silent), 'compare', args);
    const d = await parse();
    assert.deepEqual(d['services'], ['lock', 'queue', 'cache']);
    assert.deepEqual(d['nodes'], [1, 3, 5]);
    assert.equal(d['fault'], 'kill-leader');
    assert.equal(d['rates'], undefined, 'rates are placed by the probe unless given');
    const p = await parse('--services', 'queue,lock', '--nodes', '1,3', '--rates', '200,100', '--fault', 'partition', '--duration-s', '2', '--p99-bound-ms', '50');
    assert.deepEqual([p['services'], p['nodes'], p['rates'], p['fault'], p['durationS'], p['p99BoundMs']], [['queue', 'lock'], [1, 3], [100, 200], 'partition', 2, 50]);
    assert.match(String((await parse('--services', 'lock,kv'))['error']), /--services: kv/);
    assert.match(String((await parse('--rates', '10,-1'))['error']), /--rates/);
    assert.match(String((await parse('--fault', 'pause'))['error']), /--fault/);
    assert.match(String((await parse('--nodes', '0'))['error']), /--nodes/);
    assert.match(String((await parse('--seed', 'x'))['error']), /--seed/);
    assert.match(String((await parse('--p99-bound-ms', '0'))['error']), /--p99-bound-ms/);
  });

  it('refuses options that cannot run, naming the option, before starting anything', async () => {
    const base: CompareBenchOptions = { ...COMPARE_DEFAULTS };
    assert.equal(validateCompareOptions(base), undefined);
    assert.match(validateCompareOptions({ ...base, services: ['lock', 'lock'] }) ?? '', /--services: .*twice/);
    assert.match(validateCompareOptions({ ...base, nodes: [3, 3] }) ?? '', /--nodes: .*twice/);
    assert.match(validateCompareOptions({ ...base, deadlineMs: 10 }) ?? '', /--deadline-ms/);
    assert.match(validateCompareOptions({ ...base, faultDurationS: 1 }) ?? '', /--fault-duration-s/);
    const { err, io } = capture();
    assert.equal(await compareBenchCommand({ ...base, rates: [] }, io), 3);
    assert.match(err.join('\n'), /--rates/);
  });

  it('every service on 1 and 3 nodes with a kill of the leader: curves, costs, availability, a page, the store index; nothing left running', async () => {
    const root = mkdtempSync(join(tmpdir(), 'compare-bench-'));
    const scratch = join(root, 'clusters');
    const store = join(root, 'store');
    const { out, err, io } = capture();
    try {
      const code = await compareBenchCommand(
        { ...COMPARE_DEFAULTS, nodes: [1, 3], rates: [20, 40], durationS: 1, faultDurationS: 6, deadlineMs: 500, warmupS: 0.3, store, dir: scratch, fault: 'kill-leader' },
        io,
      );
      assert.equal(code, 0, err.join('\n'));
      const [time] = readdirSync(join(store, 'bench-compare'));
      const dir = join(store, 'bench-compare', time as string);
      const r: CompareResults = readCompareResults(join(dir, 'results.json'));
      assert.ok(existsSync(join(dir, 'compare.html')));
      assert.match(readFileSync(join(store, 'index.html'), 'utf8'), new RegExp(`bench-compare/${time}/compare.html`));
      assert.ok(out.some((l) => l.startsWith('| lock | 3 |')), 'the knee table printed');

      assert.equal(r.curves.length, 3 * 2 * 2);
      for (const c of r.curves) {
        const what = `${c.service} ${c.nodes} nodes @ ${c.offeredPerSec}`;
        assert.ok(c.ok > 0 && c.ok >= 0.9 * c.scheduled, `${what}: ${c.ok}/${c.scheduled} ok, first error ${c.firstError}`);
        assert.equal(c.cost.perNode.length, c.nodes);
        assert.ok((c.cost.cpuSPerOk ?? 0) > 0, `${what}: CPU per op`);
        assert.ok((c.cost.bytesPerOk ?? 0) > 100, `${what}: bytes per op`);
        if (c.service !== 'cache') assert.ok((c.cost.fsyncsPerOk ?? 0) > 0, `${what}: a Raft commit fsyncs`);
      }
      const bytes = (service: string, nodes: number): number => r.curves.find((c) => c.service === service && c.nodes === nodes && c.offeredPerSec === 20)?.cost.bytesPerOk ?? NaN;
      assert.ok(bytes('lock', 3) > bytes('lock', 1), 'replication puts more bytes on the wire per lock pair');
      assert.deepEqual(r.knees.length, 6);
      assert.deepEqual(Object.keys(r.commonRate).sort(), ['cache', 'lock', 'queue']);

      assert.equal(r.faults.length, 6);
      for (const f of r.faults) assert.match(f.target ?? '', /^n[1-3]$/);
      const availability = (service: string, nodes: number): number => r.faults.find((f) => f.service === service && f.nodes === nodes)?.availability ?? NaN;
      for (const service of ['lock', 'queue', 'cache']) assert.ok(availability(service, 1) < 0.5, `${service}: its only node killed, ${availability(service, 1)}`);
      assert.ok(availability('lock', 3) > availability('lock', 1), `a 3-node lock service stays more available (${availability('lock', 3)} vs ${availability('lock', 1)})`);
      assert.ok(r.summary.length >= 6, r.summary.join('\n'));
      assert.deepEqual(processesUsing(root), []);
      assert.deepEqual(readdirSync(scratch), [], "the clusters' folders are removed");
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('the lock on 3 nodes with its leader cut off: the fault costs ops, the majority serves again', async () => {
    const root = mkdtempSync(join(tmpdir(), 'compare-bench-'));
    const { err, io } = capture();
    try {
      const code = await compareBenchCommand(
        { ...COMPARE_DEFAULTS, services: ['lock'], nodes: [3], rates: [30], durationS: 1, faultDurationS: 6, deadlineMs: 500, warmupS: 0.3, out: join(root, 'out'), dir: join(root, 'clusters'), fault: 'partition' },
        io,
      );
      assert.equal(code, 0, err.join('\n'));
      const r = readCompareResults(join(root, 'out', 'results.json'));
      const [f] = r.faults;
      assert.ok(f !== undefined && f.fault === 'partition');
      assert.ok((f.availability ?? 1) < 1, `ops sent to the cut-off leader fail: ${f.availability}`);
      assert.notEqual(f.firstOkAfterFaultMs, null, 'the majority elects a leader and answers during the fault');
      assert.ok((f.firstOkAfterFaultMs ?? Infinity) < 2000, `first ok ${f.firstOkAfterFaultMs} ms after the cut`);
      assert.deepEqual(processesUsing(root), []);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('dsync bench loadgen: every scheduled op of a trivial server is sent and answered, and the generator reports on itself', async () => {
    const { out, err, io } = capture();
    const code = await loadgenCommand({ rate: 2000, durationS: 1, maxLateMs: 5, json: true }, io);
    assert.ok(code === 0 || code === 1, err.join('\n'));
    const r = JSON.parse(out[0] as string) as { keptUp: boolean; scheduled: number; sent: number; ok: number; generator: { cpuShare: number; sendGapP99Ms: number } };
    assert.ok(Math.abs(r.scheduled - 2000) < 200, `${r.scheduled} ops scheduled for 2,000/s × 1 s`);
    assert.equal(r.sent, r.scheduled);
    assert.equal(r.ok, r.scheduled);
    assert.ok(r.generator.cpuShare > 0);
    assert.equal(r.keptUp, code === 0);
  });
});
