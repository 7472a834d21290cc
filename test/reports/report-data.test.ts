/**
 * The report's data, built from stored runs alone (two real runs kept as fixtures: a valid
 * partition run, and one on nodes that grant without a quorum, found INVALID).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildReportData } from '../../reports/report-data.js';
import { readRunFolder, RunFolderError } from '../../reports/run-folder.js';
import type { ReportData } from '../../reports/report-types.js';
import { OUTCOMES } from '../../reports/report-types.js';
import { copyFixtureRuns, fixtureRun } from '../support/paths.js';

interface StoredPerf {
  perf: { ops: { f: string; count: number; okLatency: { p50Ms: number; p95Ms: number; p99Ms: number; maxMs: number } | null }[]; faultWindows: { kind: string; startNs: number; endNs: number }[]; availability: { windows?: unknown } };
  checker: { results: { linearizable: { linearizability: { partitions: { key: string; valid: boolean; longest: { state: string; op: { index: number } }[]; stuck: { index: number } }[] } } } };
}
const stored = (dir: string): StoredPerf => JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as StoredPerf;
const invocations = (dir: string): number =>
  readFileSync(join(dir, 'history.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; process: unknown })
    .filter((op) => op.type === 'invoke' && op.process !== 'nemesis').length;

describe('reports: report data from a run folder', () => {
  describe('a valid run', () => {
    const dir = fixtureRun('lock-partition-valid');
    let d: ReportData;
    before(async () => {
      d = await buildReportData(dir);
    });

    it('has one valid verdict row saying what was checked, and the stored summary', () => {
      assert.equal(d.run.valid, true);
      assert.equal(d.verdicts.length, 1);
      assert.equal(d.verdicts[0]?.checker, 'linearizable');
      assert.equal(d.verdicts[0]?.valid, true);
      assert.match(d.verdicts[0]?.summary ?? '', /^linearizable with fenced-lock: \d+ ops in 4 keys, checked in [\d.]+ ms$/);
      assert.equal(d.run.experiment, 'lock-partition-valid');
      assert.match(d.config, /timeLimitS: 6/);
      assert.deepEqual(d.counterexamples, []);
      assert.deepEqual(d.notes, []);
    });

    it('puts every client op in the timeline, with counts that agree with the table', () => {
      const t = d.timeline;
      assert.equal(t.window.total, invocations(dir));
      assert.equal(t.window.shown, t.window.total);
      for (const col of [t.f, t.outcome, t.startMs, t.endMs, t.text]) assert.equal(col.length, t.lane.length);
      const all = d.opTable.find((r) => r.f === '*');
      assert.ok(all);
      for (const [code, name] of OUTCOMES.entries()) assert.equal(t.outcome.filter((x) => x === code).length, all[name], name);
      for (let i = 0; i < t.lane.length; i++) {
        assert.ok((t.endMs[i] as number) >= (t.startMs[i] as number), `op ${i} ends before it starts`);
        assert.ok((t.lane[i] as number) < t.lanes.length);
      }
      assert.match(t.text[0] ?? '', /^process \d+ (acquire|release) /);
    });

    it('reports the same ok-latency percentiles as results.json, plus p99.9, in order', () => {
      for (const s of stored(dir).perf.ops) {
        const row = d.opTable.find((r) => r.f === s.f);
        assert.ok(row && s.okLatency, s.f);
        assert.equal(row.count, s.count);
        assert.deepEqual([row.p50Ms, row.p95Ms, row.p99Ms, row.maxMs], [s.okLatency.p50Ms, s.okLatency.p95Ms, s.okLatency.p99Ms, s.okLatency.maxMs]);
        const ps = [row.p50Ms, row.p95Ms, row.p99Ms, row.p999Ms, row.maxMs] as number[];
        assert.deepEqual([...ps].sort((a, b) => a - b), ps);
      }
    });

    it('draws percentile curves that rise with the percentile and end at most at the max', () => {
      assert.deepEqual(
        d.percentiles.map((c) => [c.f, c.measure]),
        [
          ['acquire', 'from-schedule'],
          ['acquire', 'service'],
          ['release', 'from-schedule'],
          ['release', 'service'],
        ],
      );
      for (const c of d.percentiles) {
        const row = d.opTable.find((r) => r.f === c.f);
        const max = (c.measure === 'service' ? row?.service.maxMs : row?.maxMs) as number;
        assert.equal(c.points[0]?.[0], 0);
        for (let i = 1; i < c.points.length; i++) {
          const [p0, v0] = c.points[i - 1] as [number, number];
          const [p1, v1] = c.points[i] as [number, number];
          assert.ok(p1 > p0 && v1 >= v0, `${c.f} point ${i}`);
        }
        assert.ok((c.points.at(-1)?.[0] ?? 100) <= 99.99);
        assert.equal(c.points.at(-1)?.[1], max, 'the curve ends at the max');
      }
    });

    it('gives service time (invocation to completion) beside latency from the schedule, never above it', () => {
      for (const row of d.opTable) {
        assert.ok(row.service.maxMs !== null && row.maxMs !== null, row.f);
        assert.ok(row.service.maxMs <= row.maxMs, `${row.f}: service max ${row.service.maxMs} ≤ ${row.maxMs}`);
        assert.ok((row.service.p50Ms as number) <= (row.p50Ms as number) * 1.001, `${row.f} p50`);
      }
    });

    it('labels each fault window and gives its availability, from a results.json written before these fields existed', () => {
      assert.equal(stored(dir).perf.availability.windows, undefined, 'the fixture predates them');
      assert.deepEqual(
        d.faults.map((f) => [f.kind, f.label]),
        [
          ['partition', 'isolate-one'],
          ['partition', 'one-way'],
        ],
      );
      assert.equal(d.run.availability.deadlineMs, 1000);
      for (const f of d.faults) {
        assert.ok(f.scheduled > 0 && f.answered <= f.scheduled, `${f.label}: ${f.answered} of ${f.scheduled}`);
        assert.equal(f.availability, f.answered / f.scheduled);
        assert.ok(f.noOk.startMs >= f.startMs && f.noOk.endMs <= f.endMs && f.noOk.ms > 0, `${f.label}: the no-ok stretch lies in the window`);
      }
    });

    it('marks the final heal and the start of the final phase after it', () => {
      const heal = d.nemesis.filter((m) => m.f === 'heal' && m.type !== 'invoke').at(-1);
      assert.equal(d.finalHealMs, heal?.timeMs);
      assert.ok(d.finalPhaseStartMs !== null && d.finalHealMs !== null && d.finalPhaseStartMs >= d.finalHealMs);
    });

    it('shades the stored fault windows and lists the nemesis events', () => {
      const windows = stored(dir).perf.faultWindows;
      assert.deepEqual(
        d.faults.map((f) => [f.kind, Math.round(f.startMs)]),
        windows.map((w) => [w.kind, Math.round(w.startNs / 1e6)]),
      );
      assert.ok(d.nemesis.some((m) => m.f === 'start-partition' && m.type === 'invoke'));
      assert.ok(d.nemesis.some((m) => m.f === 'heal'));
      assert.ok(d.throughput.reduce((n, b) => n + b.ok, 0) > 0);
    });

    it('links the histories, results, config and every node log', () => {
      assert.deepEqual(
        d.files.map((f) => f.href),
        ['history.edn', 'history.jsonl', 'results.json', 'config.yaml', 'run.log', 'nodes/n1.log', 'nodes/n2.log', 'nodes/n3.log'],
      );
      assert.ok(d.files.every((f) => f.bytes > 0));
    });
  });

  describe('an invalid run', () => {
    const dir = fixtureRun('lock-partition-unsafe');
    let d: ReportData;
    before(async () => {
      d = await buildReportData(dir);
    });

    it('has a counterexample per bad key: the linearized steps with their states, then the op that breaks', () => {
      const partitions = stored(dir).checker.results.linearizable.linearizability.partitions.filter((p) => p.valid === false);
      assert.equal(d.run.valid, false);
      assert.equal(d.verdicts[0]?.valid, false);
      assert.equal(d.counterexamples.length, partitions.length);
      for (const [i, c] of d.counterexamples.entries()) {
        const p = partitions[i];
        assert.ok(p);
        assert.equal(c.key, JSON.stringify(p.key));
        const breaking = c.ops.filter((o) => o.breaking);
        assert.equal(breaking.length, 1);
        assert.equal(breaking[0]?.id, p.stuck.index);
        const steps = c.ops.filter((o) => o.step !== null).sort((a, b) => (a.step as number) - (b.step as number));
        assert.deepEqual(steps.map((o) => o.id), p.longest.map((s) => s.op.index));
        assert.deepEqual(steps.map((o) => o.stateAfter), p.longest.map((s) => s.state));
        assert.match(c.summary, new RegExp(`cannot be linearized from state "${p.longest.at(-1)?.state.replace(/[()]/g, '\\$&') ?? ''}"`));
        const starts = c.ops.map((o) => o.startMs);
        assert.deepEqual([...starts].sort((a, b) => a - b), starts, 'ops are in start order');
      }
    });

    it('keeps only the last steps of a long linearization, and says so', async () => {
      // Not in the fixtures (their linearizations are short): built from a copy with a longer one.
      const root = mkdtempSync(join(tmpdir(), 'dsync-report-'));
      try {
        const [copy] = copyFixtureRuns(root, ['lock-partition-unsafe']);
        const results = JSON.parse(readFileSync(join(copy as string, 'results.json'), 'utf8')) as StoredPerf;
        const p = results.checker.results.linearizable.linearizability.partitions[0];
        assert.ok(p);
        const one = p.longest[0];
        assert.ok(one);
        p.longest = Array.from({ length: 45 }, (_, i) => ({ ...one, state: `state ${i + 1}` }));
        writeFileSync(join(copy as string, 'results.json'), JSON.stringify(results));
        const c = (await buildReportData(copy as string)).counterexamples[0];
        assert.ok(c);
        assert.equal(c.steps, 45);
        assert.equal(c.omittedSteps, 15);
        assert.deepEqual(c.ops.filter((o) => o.step !== null).map((o) => o.step), Array.from({ length: 30 }, (_, i) => i + 16));
      } finally {
        rmSync(root, { recursive: true, force: true });
      }
    });

    it('windows the timeline of a big run around where it breaks, and samples the latency plot keeping the slowest op', async () => {
      const full = d;
      const small = await buildReportData(dir, { timelineOps: 50, latencyPoints: 40 });
      assert.equal(small.timeline.window.shown, 50);
      assert.equal(small.timeline.window.total, full.timeline.window.total);
      const breakAt = full.counterexamples[0]?.ops.find((o) => o.breaking)?.startMs as number;
      assert.ok(small.timeline.window.startMs <= breakAt && breakAt <= small.timeline.window.endMs, 'the window holds the breaking op');
      assert.equal(small.latency.shown, 40);
      assert.equal(small.latency.total, full.latency.total);
      const slowest = (x: ReportData): number => Math.max(...x.latency.series.flatMap((s) => s.points.map((p) => p[1])));
      assert.equal(slowest(small), slowest(full));
      assert.equal(small.notes.length, 2);
      assert.match(small.notes[0] ?? '', /^The timeline shows 50 ops of \d+ /);
      // Never cut: verdicts, tables, counterexamples.
      assert.deepEqual(small.opTable, full.opTable);
      assert.deepEqual(small.verdicts, full.verdicts);
      assert.deepEqual(small.counterexamples, full.counterexamples);
    });
  });

  it('draws at most the asked number of counterexamples, and says how many it left out', async () => {
    const d = await buildReportData(fixtureRun('lock-partition-unsafe'), { counterexamples: 2 });
    assert.equal(d.counterexamples.length, 2);
    assert.deepEqual(d.notes, ['Counterexamples are drawn for 2 of 4 partitions without a linearization; results.json has them all.']);
    assert.equal(d.verdicts[0]?.valid, false, 'the verdict is never cut');
  });

  describe('folders that are not runs', () => {
    let root: string;
    beforeEach(() => {
      root = mkdtempSync(join(tmpdir(), 'dsync-report-'));
    });
    afterEach(() => rmSync(root, { recursive: true, force: true }));

    const rejects = async (dir: string, pattern: RegExp): Promise<void> => {
      await assert.rejects(readRunFolder(dir), (e: unknown) => e instanceof RunFolderError && pattern.test(e.message));
    };

    it('names the missing results.json', async () => {
      await rejects(root, /results\.json: no such file — not a checked run folder/);
    });

    it('names a results.json that is not JSON, or lacks a field', async () => {
      writeFileSync(join(root, 'results.json'), '{"experiment": ');
      await rejects(root, /results\.json: not valid JSON/);
      writeFileSync(join(root, 'results.json'), JSON.stringify({ experiment: 'x', startedAt: 'a', finishedAt: 'b', valid: true, checker: { valid: true } }));
      await rejects(root, /results\.json: not a dsync results file: counts: /);
    });

    it('names the history file and line that cannot be read', async () => {
      const [copy] = copyFixtureRuns(root, ['lock-partition-valid']);
      writeFileSync(join(copy as string, 'history.jsonl'), '{"index":0,"type":"invoke","f":"acquire","value":null,"process":0,"time":1}\n{oops\n');
      await rejects(copy as string, /history\.jsonl:2: /);
    });
  });
});
