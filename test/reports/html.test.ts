/**
 * The structure of a rendered report.html (no browser): one self-contained page with every
 * section, the data embedded intact, nothing fetched from elsewhere, and everything a run wrote
 * escaped.
 */
import assert from 'node:assert/strict';
import { escapeHtml, reportHtml } from '../../reports/html.js';
import { buildReportData } from '../../reports/report-data.js';
import type { ReportData } from '../../reports/report-types.js';
import { fixtureRun } from '../support/paths.js';

const SECTIONS = ['sec-verdicts', 'sec-summary', 'sec-counterexamples', 'sec-timeline', 'sec-latency', 'sec-throughput', 'sec-percentiles', 'sec-nemesis', 'sec-files', 'sec-config'];

/** The embedded data block's JSON. */
function embedded(html: string): unknown {
  const m = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html);
  assert.ok(m, 'the data block is there');
  return JSON.parse(m[1] as string);
}

/** Every src/href attribute value in the page's markup (the inlined scripts are left out). */
function urls(html: string): string[] {
  const markup = html.replace(/<script\b[^>]*>[\s\S]*?<\/script>/g, '');
  return [...markup.matchAll(/\b(?:src|href)\s*=\s*"([^"]*)"/g)].map((m) => m[1] as string);
}

describe('reports: report.html structure', () => {
  let valid: ReportData;
  let invalid: ReportData;
  before(async () => {
    valid = await buildReportData(fixtureRun('lock-partition-valid'));
    invalid = await buildReportData(fixtureRun('lock-partition-unsafe'));
  });

  it('is one page with every section, a chart container for each plot, and the data embedded intact', () => {
    const html = reportHtml(valid);
    assert.match(html, /^<!doctype html>\n<html lang="en">/);
    assert.match(html, /<meta charset="utf-8">/);
    assert.match(html, /<title>lock-partition-valid: VALID · dsync report<\/title>/);
    for (const id of SECTIONS) assert.equal(html.split(`id="${id}"`).length - 1, 1, `one #${id}`);
    for (const id of ['timeline', 'latency', 'throughput', 'percentiles', 'counterexamples', 'op-table', 'verdicts', 'config']) assert.match(html, new RegExp(`id="${id}"`));
    assert.deepEqual(embedded(html), JSON.parse(JSON.stringify(valid)));
    assert.match(html, /<body data-ready="false">/);
  });

  it('inlines its scripts and styles and links only the run folder’s own files', () => {
    const html = reportHtml(invalid);
    assert.doesNotMatch(html, /<script[^>]+\bsrc=/, 'no external script');
    assert.doesNotMatch(html, /<link\b/, 'no stylesheet or font link');
    assert.match(html, /<style>[\s\S]+<\/style>/);
    assert.ok(html.includes('echarts'), 'the chart library is inlined');
    const links = urls(html);
    assert.ok(links.length > 0);
    for (const u of links) assert.match(u, /^(#[\w-]+|(nodes\/)?[\w.-]+)$/, `a relative link: ${u}`);
    for (const f of invalid.files) assert.ok(links.includes(f.href), `links ${f.href}`);
    // Only the three script elements end a script: nothing inlined closes one early.
    assert.equal(html.split('</script>').length - 1, 3);
  });

  it('renders the verdict banners and the op table as HTML, one row per f and one for all ops', () => {
    const html = reportHtml(invalid);
    assert.match(html, /<div class="verdict invalid" data-checker="linearizable">[\s\S]*?not linearizable with fenced-lock: 4 of 4 keys have no linearization/);
    const table = /<table[^>]*id="op-table"[\s\S]*?<\/table>/.exec(html)?.[0] ?? /id="op-table"[\s\S]*?<\/table>/.exec(html)?.[0];
    assert.ok(table, 'the op table');
    assert.equal((table.match(/<tr\b/g) ?? []).length, invalid.opTable.length + 2, 'two header rows and a row per f and all');
    for (const h of ['p50', 'p95', 'p99', 'p99.9', 'max', 'latency from schedule (ms)', 'service time (ms)']) assert.ok(table.includes(h), h);
    const all = /<tr class="total">[\s\S]*?<\/tr>/.exec(table)?.[0] ?? '';
    assert.equal((all.match(/<td\b/g) ?? []).length, 1 + 4 + 6 + 6, 'the all-ops row: f, 4 counts, 6 latencies of each measure');
  });

  it('escapes what a run wrote (names, config, errors) in the markup and in the data block', () => {
    const evil = '</script><script>alert(1)</script><img src=x onerror=alert(2)>';
    const data: ReportData = {
      ...valid,
      run: { ...valid.run, experiment: evil, description: evil, error: evil, incomplete: true },
      config: `name: ${evil}\n`,
      verdicts: [{ checker: evil, valid: 'unknown', summary: evil }],
    };
    const html = reportHtml(data);
    assert.ok(!html.includes('<script>alert(1)'), 'no injected script');
    assert.ok(!html.includes('<img src=x'), 'no injected element');
    assert.ok(html.includes(escapeHtml(evil)));
    assert.equal(html.split('</script>').length - 1, 3);
    assert.equal((embedded(html) as ReportData).run.experiment, evil, 'the data block keeps the text as is');
    assert.match(html, /id="run-incomplete"/);
    assert.match(html, /id="run-error"/);
  });
});
