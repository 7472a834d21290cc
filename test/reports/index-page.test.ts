/**
 * The store index with benchmark comparisons: `bench-compare/<time>/` folders (which hold a
 * results.json of their own) are never taken for runs; they are listed in a second table, newest
 * first, linking compare.html (or the folder), with their services, sizes and first summary
 * sentence, or why their results cannot be read. `dsync report` re-renders a comparison's page.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../harness/cli.js';
import { writeCompareHtml } from '../../reports/compare-html.js';
import { escapeHtml } from '../../reports/html-format.js';
import { compareEntries, indexEntries, indexHtml } from '../../reports/index-page.js';
import { renderIndex } from '../../reports/render.js';
import { isRunFolder, storeFolderKind } from '../../reports/run-folder.js';
import { compareFixture } from '../support/compare-fixture.js';
import { copyFixtureRuns } from '../support/paths.js';

async function dsync(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

describe('reports: the store index lists benchmark comparisons', () => {
  let root: string;
  let done: string;
  let noPage: string;
  let broken: string;
  const results = compareFixture();

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'dsync-index-compare-'));
    copyFixtureRuns(root);
    done = join(root, 'bench-compare', '20261203T184005.120Z');
    noPage = join(root, 'bench-compare', '20261204T090000.000Z');
    broken = join(root, 'bench-compare', '20261205T120000.000Z');
    for (const d of [done, noPage, broken]) mkdirSync(d, { recursive: true });
    writeFileSync(join(done, 'results.json'), JSON.stringify(results));
    writeCompareHtml(done, results);
    writeFileSync(join(noPage, 'results.json'), JSON.stringify({ ...results, startedAt: '2026-12-04T09:00:00.000Z', summary: [], errors: ['the lock cluster did not start'] }));
    writeFileSync(join(broken, 'results.json'), JSON.stringify({ ...results, options: { ...results.options, nodes: 'three' } }));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('never takes a comparison folder for a run', () => {
    assert.equal(isRunFolder(done), false);
    assert.equal(storeFolderKind(done).kind, 'comparison');
    assert.equal(storeFolderKind(root).kind, 'store');
    const runs = indexEntries(root);
    assert.equal(runs.length, 2);
    assert.ok(runs.every((e) => e.experiment !== 'bench-compare'), runs.map((e) => e.path).join(', '));
  });

  it('lists every comparison newest first: its time linking compare.html (or the folder), services, nodes, first summary sentence or the error', () => {
    const entries = compareEntries(root);
    assert.deepEqual(
      entries.map((e) => [e.path, e.hasPage, e.unreadable]),
      [
        ['bench-compare/20261205T120000.000Z', false, true],
        ['bench-compare/20261204T090000.000Z', false, false],
        ['bench-compare/20261203T184005.120Z', true, false],
      ],
    );
    const { runs, comparisons, file } = renderIndex(root);
    assert.deepEqual([runs, comparisons], [2, 3]);
    const html = readFileSync(file, 'utf8');
    assert.doesNotMatch(html, /<script\b/i, 'a static page');
    const table = /<h2>Benchmark comparisons<\/h2>[\s\S]*?<table id="comparisons">([\s\S]*?)<\/table>/.exec(html)?.[1];
    assert.ok(table, 'the comparisons table follows the runs');
    const rows = table.match(/<tr\b[\s\S]*?<\/tr>/g) ?? [];
    assert.equal(rows.length, 4, 'a header and a row per comparison');
    assert.match(rows[1] ?? '', /class="none"[\s\S]*href="bench-compare\/20261205T120000\.000Z\/">20261205T120000\.000Z<\/a>[\s\S]*unreadable results\.json: [^<]*not a bench-compare results\.json: options\.nodes: /);
    assert.match(rows[2] ?? '', /href="bench-compare\/20261204T090000\.000Z\/">2026-12-04 09:00:00 UTC<\/a>[\s\S]*error: the lock cluster did not start[\s\S]*no compare\.html/);
    assert.match(rows[3] ?? '', /href="bench-compare\/20261203T184005\.120Z\/compare\.html">2026-12-03 18:40:05 UTC<\/a>/);
    assert.ok((rows[3] ?? '').includes('<td>lock, queue, cache</td>\n<td>1, 3, 5</td>'), rows[3]);
    assert.ok((rows[3] ?? '').includes(escapeHtml(results.summary[0] as string)), 'the first summary sentence');
    assert.ok(!(rows[3] ?? '').includes(escapeHtml(results.summary[1] as string)), 'only the first');
    assert.match(html, /2 runs: /, 'the runs are counted without the comparisons');
  });

  it('names the services not measured, escapes what a comparison wrote, and has no comparisons table when there are none', () => {
    const html = indexHtml([], [
      { path: 'bench-compare/t', startedAt: null, services: ['lock', 'queue'], missing: ['queue'], nodes: [1], headline: '<script>x</script> & more', unreadable: false, hasPage: true },
    ]);
    assert.match(html, /lock, queue <span class="muted">\(not measured: queue\)<\/span>/);
    assert.match(html, /&lt;script&gt;x&lt;\/script&gt; &amp; more/);
    assert.doesNotMatch(indexHtml([]), /Benchmark comparisons/);
  });

  it('dsync report re-renders a comparison’s compare.html and the index, and a store root still counts only runs', async () => {
    writeFileSync(join(root, 'index.html'), '');
    const r = await dsync('report', noPage);
    assert.equal(r.code, 0, r.err.join('\n'));
    assert.match(r.out[0] ?? '', /compare\.html \(\d+ KiB\)$/);
    assert.ok(statSync(join(noPage, 'compare.html')).size > 0);
    assert.match(readFileSync(join(root, 'index.html'), 'utf8'), /href="bench-compare\/20261204T090000\.000Z\/compare\.html"/, 'the index now links it');
    const bad = await dsync('report', broken);
    assert.equal(bad.code, 3);
    assert.match(bad.err[0] ?? '', /results\.json: not a bench-compare results\.json: options\.nodes: /);
    assert.equal(existsSync(join(broken, 'compare.html')), false);
    const store = await dsync('report', root, '--index-only');
    assert.equal(store.code, 0, store.err.join('\n'));
    assert.match(store.out[0] ?? '', /index\.html: 2 runs$/);
  });
});
