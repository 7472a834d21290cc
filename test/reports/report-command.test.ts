/**
 * `dsync report DIR` and the store's index page: a run folder gets its report.html back from the
 * folder alone; a store root gets every run's report and index.html; bad folders get one clear line.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { main } from '../../harness/cli.js';
import { indexEntries, indexHtml } from '../../reports/index-page.js';
import { copyFixtureRuns } from '../support/paths.js';

async function dsync(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

describe('reports: dsync report and the index of runs', () => {
  let root: string;
  let valid: string;
  let invalid: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'dsync-report-cmd-'));
    [valid, invalid] = copyFixtureRuns(root) as [string, string];
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('re-renders a run folder (also through a latest link) into report.html and refreshes its store index, exit 0', async () => {
    assert.equal((await dsync('report', root, '--index-only')).code, 0);
    assert.match(readFileSync(join(root, 'index.html'), 'utf8'), /<tr class="invalid">[\s\S]*?no report\.html/);
    const r = await dsync('report', invalid);
    assert.equal(r.code, 0, r.err.join('\n'));
    const file = join(invalid, 'report.html');
    assert.match(r.out[0] ?? '', /report\.html \(\d+ KiB\)$/);
    const html = readFileSync(file, 'utf8');
    assert.match(html, /^<!doctype html>/i);
    assert.match(html, /lock-partition-unsafe/);
    assert.match(readFileSync(join(root, 'index.html'), 'utf8'), /<tr class="invalid">[\s\S]*?lock-partition-unsafe\/[^"]+\/report\.html/, 'the index now links the report');
    symlinkSync(join('lock-partition-valid', valid.split('/').pop() as string), join(root, 'latest'));
    const viaLink = await dsync('report', join(root, 'latest'));
    assert.equal(viaLink.code, 0, viaLink.err.join('\n'));
    assert.ok(statSync(join(valid, 'report.html')).size > 0);
  });

  it('for a store root renders every checked run and an index that lists them newest first, skipping latest links', async () => {
    const broken = join(root, 'lock-kill', '20991231T000000.000Z');
    mkdirSync(broken, { recursive: true }); // a run that died before its check: no results.json
    writeFileSync(join(broken, 'config.yaml'), 'workload: { name: lock }\n');
    mkdirSync(join(root, 'catalogue', '20991231T000000.000Z', 'runs'), { recursive: true }); // not runs: never listed
    symlinkSync(join('lock-partition-valid', valid.split('/').pop() as string), join(root, 'latest'));
    const r = await dsync('report', root);
    assert.equal(r.code, 0, r.err.join('\n'));
    assert.match(r.out[0] ?? '', /index\.html: 3 runs, 2 reports rendered$/);
    assert.ok(existsSync(join(valid, 'report.html')) && existsSync(join(invalid, 'report.html')));
    const entries = indexEntries(root);
    assert.deepEqual(entries.map((e) => [e.experiment, e.valid, e.hasReport]), [
      ['lock-kill', null, false],
      ['lock-partition-unsafe', false, true],
      ['lock-partition-valid', true, true],
    ]);
    const html = readFileSync(join(root, 'index.html'), 'utf8');
    assert.match(html, /3 runs: 1 valid, 1 invalid, 0 unknown, 0 incomplete, 1 without a verdict/);
    assert.match(html, /<tr class="invalid">[\s\S]*?href="lock-partition-unsafe\/[^"]+\/report\.html"[\s\S]*?INVALID[\s\S]*?not linearizable with fenced-lock/);
    assert.match(html, /<tr class="none">[\s\S]*?no results\.json/);
    assert.doesNotMatch(html, /https?:\/\//, 'the index links nothing off the machine');
  });

  it('escapes what runs put into the index', () => {
    const html = indexHtml([
      { experiment: '<script>x</script>', path: '<script>x</script>/t', startedAt: null, durationS: null, valid: false, counts: null, note: 'a & b < c', hasReport: true },
    ]);
    assert.doesNotMatch(html, /<script>x/);
    assert.match(html, /&lt;script&gt;x&lt;\/script&gt;/);
    assert.match(html, /a &amp; b &lt; c/);
  });

  it('says in one line what is wrong with a folder it cannot render, exit 3', async () => {
    const missing = await dsync('report', join(root, 'nope'));
    assert.equal(missing.code, 3);
    assert.match(missing.err.join('\n'), /nope: no such folder/);
    const empty = mkdtempSync(join(tmpdir(), 'dsync-report-empty-'));
    try {
      const r = await dsync('report', empty);
      assert.equal(r.code, 3);
      assert.match(r.err.join('\n'), /neither a run folder \(no results\.json\) nor a store root/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
    writeFileSync(join(invalid, 'results.json'), '{"experiment": 1}');
    const bad = await dsync('report', invalid);
    assert.equal(bad.code, 3);
    assert.equal(bad.err.length, 1);
    assert.match(bad.err[0] ?? '', /results\.json: not a dsync results file: experiment: /);
    assert.equal(existsSync(join(invalid, 'report.html')), false, 'nothing half-written');
  });

  describe('a folder that is neither a run nor a store root: exit 3, naming what was expected and the right path', () => {
    it('an experiment folder (one level below the store root) suggests its latest run and the store root, and writes nothing', async () => {
      const experiment = join(root, 'lock-partition-valid');
      const r = await dsync('report', experiment);
      assert.equal(r.code, 3);
      assert.equal(r.err.length, 1, r.err.join('\n'));
      assert.equal(
        r.err[0],
        `dsync report: ${experiment}: the runs of one experiment (1 run folder), not a run folder nor a store root; give one run, e.g. ${valid}, or the store root: ${root}`,
      );
      symlinkSync(valid.split('/').pop() as string, join(experiment, 'latest'));
      const withLatest = await dsync('report', experiment);
      assert.match(withLatest.err[0] ?? '', new RegExp(`give one run, e\\.g\\. ${join(experiment, 'latest')}, or the store root`));
      assert.equal(existsSync(join(experiment, 'index.html')), false, 'no index of an experiment folder');
      assert.equal(existsSync(join(valid, 'report.html')), false, 'no report rendered');
    });

    it('a folder inside a run (nodes/) names the run folder', async () => {
      const r = await dsync('report', join(valid, 'nodes'));
      assert.equal(r.code, 3);
      assert.deepEqual(r.err, [`dsync report: ${join(valid, 'nodes')}: a folder inside the run ${valid}, not a run folder nor a store root; give the run folder: ${valid}`]);
    });

    it('a run folder not checked yet (no results.json) says so', async () => {
      rmSync(join(valid, 'results.json'));
      const r = await dsync('report', valid);
      assert.equal(r.code, 3);
      assert.match(r.err[0] ?? '', /a run folder without results\.json \(still running, or the harness died before checking\)/);
    });

    it('the index never lists a folder that is not a run (an experiment folder given as the root lists nothing)', () => {
      assert.deepEqual(indexEntries(join(root, 'lock-partition-valid')), []);
      mkdirSync(join(root, 'lock-partition-valid', 'stray'));
      assert.deepEqual(indexEntries(root).map((e) => e.path).sort(), [invalid, valid].map((d) => relative(root, d)).sort());
    });
  });
});
