/**
 * The text of a comparison's compare.html (no browser): the summary on top, a section per measured
 * service with its chart containers and cost table, the services not measured and the errors
 * named, `—` for what was not measured, everything from the results escaped; and
 * readCompareResults, which accepts only a bench-compare results.json and names the bad field.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CompareResults, CurveRow } from '../../harness/bench/compare-results.js';
import { compareHtml, readCompareResults, writeCompareHtml } from '../../reports/compare-html.js';
import { escapeHtml } from '../../reports/html-format.js';
import { compareFixture } from '../support/compare-fixture.js';

/** Stand-ins for the inlined scripts: the markup is what these tests read. */
const ASSETS = { echarts: '/* echarts */', app: '/* compare app */' };

/** The embedded results block's JSON. */
function embedded(html: string): unknown {
  const m = /<script type="application\/json" id="compare-data">([\s\S]*?)<\/script>/.exec(html);
  assert.ok(m, 'the data block is there');
  return JSON.parse(m[1] as string);
}

/** The markup of the element with id `id` up to its closing tag `tag`. */
function element(html: string, id: string, tag: string): string {
  const m = new RegExp(`<${tag}[^>]*\\bid="${id}"[\\s\\S]*?</${tag}>`).exec(html);
  assert.ok(m, `#${id} is there`);
  return m[0];
}

/** The cells' text of the table rows matching `row`. */
function cells(rowHtml: string): string[] {
  return [...rowHtml.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((m) => (m[1] as string).replace(/<[^>]+>/g, '').trim());
}

describe('reports: compare.html structure', () => {
  const results = compareFixture();

  it('is one page: the summary on top, a section per service with its four charts and cost table, the knees, the data embedded intact', () => {
    const html = compareHtml(results, ASSETS);
    assert.match(html, /^<!doctype html>\n<html lang="en">/);
    assert.match(html, /<title>dsync bench compare · 2026-12-03 18:40:05 UTC<\/title>/);
    assert.match(html, /<body data-ready="false">/);
    assert.ok(results.summary.length >= 3, 'the fixture has a sentence per service');
    const summary = element(html, 'summary', 'ul');
    for (const s of results.summary) assert.ok(summary.includes(`<li>${escapeHtml(s)}</li>`), `the summary lists “${s}”`);
    assert.ok(html.indexOf('id="sec-summary"') < html.indexOf('id="sec-lock"'), 'the summary comes before the services');
    for (const s of ['lock', 'queue', 'cache']) {
      assert.match(html, new RegExp(`<section id="sec-${s}" class="card service" data-service="${s}">`));
      for (const chart of ['curve', 'percentiles', 'fault-bars', 'fault-timeline']) assert.match(html, new RegExp(`<div id="${chart}-${s}" class="chart">`));
      const rows = element(html, `cost-${s}`, 'table').match(/<tr data-nodes=/g) ?? [];
      assert.equal(rows.length, 30, `${s}: a cost row per size × rate`);
    }
    assert.equal((element(html, 'knees', 'table').match(/<tr>/g) ?? []).length - 1, 9, 'a knee per service × size');
    assert.deepEqual(embedded(html), JSON.parse(JSON.stringify(results)));
    assert.doesNotMatch(html, /<script[^>]+\bsrc=/, 'no external script');
    assert.doesNotMatch(html, /<link\b/);
    assert.equal(html.split('</script>').length - 1, 3, 'the data, echarts and the app');
  });

  it('shows the machine and the options, and the cost per 1,000 ok ops from the per-op figures', () => {
    const html = compareHtml(results, ASSETS);
    const setup = element(html, 'setup', 'dl');
    for (const text of ['2 CPUs · AMD EPYC 7B13', 'Node.js v20.19.5', 'lock, queue, cache', '1, 3, 5', 'kill-leader', '50.0 ms', '42']) {
      assert.ok(setup.includes(text), `the setup shows ${text}`);
    }
    const row = results.curves.find((c) => c.service === 'lock' && c.nodes === 3) as CurveRow;
    const tr = new RegExp(`<tr data-nodes="3"[^>]*><td class="num">3[^<]*(?:<span[^>]*>knee</span>)?</td><td class="num">${row.offeredPerSec.toLocaleString('en-US')}</td>[\\s\\S]*?</tr>`).exec(element(html, 'cost-lock', 'table'));
    assert.ok(tr, 'the row of 3 nodes at the lowest rate');
    const c = cells(tr[0]);
    assert.equal(c[6], String(Number(((row.cost.cpuSPerOk as number) * 1000).toPrecision(3))), 'CPU s per 1,000 ok ops, all nodes');
    assert.equal(c[7], String(Number(((row.cost.maxNodeCpuSPerOk as number) * 1000).toPrecision(3))), 'and the busiest node');
    const knee = results.knees.find((k) => k.service === 'lock' && k.nodes === 1);
    assert.ok(knee?.offeredPerSec != null);
    assert.match(element(html, 'cost-lock', 'table'), new RegExp(`<tr data-nodes="1" class="knee"[^>]*><td class="num">1 <span class="knee-mark">knee</span></td><td class="num">${knee.offeredPerSec.toLocaleString('en-US')}</td>`));
  });

  it('names the services not measured and why, gives them no section, and shows the errors in an error box', () => {
    const r: CompareResults = {
      ...compareFixture({ services: ['lock', 'cache'] }),
      options: { ...compareFixture().options, services: ['lock', 'queue', 'cache'] },
      missing: [{ service: 'queue', why: 'the queue cluster did not start: port 7201 in use' }],
      errors: ['cache at 5 nodes: node n4 exited with code 1'],
    };
    const html = compareHtml(r, ASSETS);
    assert.match(element(html, 'missing', 'div'), /<li><strong>queue<\/strong>: the queue cluster did not start: port 7201 in use<\/li>/);
    assert.match(element(html, 'run-errors', 'div'), /class="error-box"[\s\S]*cache at 5 nodes: node n4 exited with code 1/);
    assert.doesNotMatch(html, /id="sec-queue"/);
    assert.match(html, /id="sec-lock"/);
    assert.match(html, /id="sec-cache"/);
    assert.doesNotMatch(compareHtml(results, ASSETS), /id="(missing|run-errors)"/, 'no boxes when nothing is missing and nothing failed');
  });

  it('prints — for what was not measured, “never” for a recovery that did not come, and says when a size or the fault runs are missing', () => {
    const base = compareFixture();
    const [first, ...rest] = base.curves;
    assert.ok(first);
    const unmeasured: CurveRow = {
      ...first,
      latency: { p50Ms: null, p90Ms: null, p99Ms: null, p999Ms: null, maxMs: null },
      cost: { perNode: [], cpuSPerOk: null, maxNodeCpuSPerOk: null, bytesPerOk: null, fsyncsPerOk: null },
      generator: { ...first.generator, sendGapP99Ms: null },
    };
    const r: CompareResults = {
      ...base,
      curves: [unmeasured, ...rest.filter((c) => !(c.service === 'cache' && c.nodes === 5))],
      knees: base.knees.map((k) => (k.service === 'lock' && k.nodes === 5 ? { ...k, offeredPerSec: null, okPerSec: null, p99Ms: null } : k)),
      faults: base.faults
        .filter((f) => f.service !== 'queue')
        .map((f) => (f.service === 'lock' && f.nodes === 1 ? { ...f, availability: null, firstOkAfterFaultMs: null, steadyAfterHealMs: null } : f)),
    };
    const html = compareHtml(r, ASSETS);
    const row = /<tr data-nodes="1"[^>]*>[\s\S]*?<\/tr>/.exec(element(html, 'cost-lock', 'table'));
    assert.ok(row);
    const c = cells(row[0]);
    assert.deepEqual(c.slice(4, 9), ['—', '—', '—', '—', '—'], 'p50, p99, CPU (all, busiest), bytes');
    assert.equal(c[9], '—', 'fsyncs');
    assert.equal(c[11], '—', 'send gap p99');
    assert.match(html, /<tr><td>lock<\/td><td class="num">5<\/td><td class="num">—<\/td><td class="num">—<\/td><td class="num">—<\/td><td class="muted">no rate qualified<\/td><\/tr>/);
    const lockFaults = /<table class="data faults">[\s\S]*?<\/table>/.exec(html.slice(html.indexOf('id="sec-lock"')));
    assert.ok(lockFaults);
    const one = cells(/<tr data-nodes="1">[\s\S]*?<\/tr>/.exec(lockFaults[0])?.[0] ?? '');
    assert.deepEqual(one.slice(4, 7), ['—', 'never', 'never'], 'availability, first ok, steady');
    const queue = html.slice(html.indexOf('id="sec-queue"'), html.indexOf('id="sec-cache"'));
    assert.match(queue, /No fault runs\./);
    assert.doesNotMatch(queue, /class="data faults"/);
    assert.match(html.slice(html.indexOf('id="sec-cache"')), /No curve for 5 nodes\./);
  });

  it('escapes everything the results carry, in the markup and in the data block', () => {
    const evil = '</script><script>alert(1)</script><img src=x onerror=alert(2)>';
    const base = compareFixture({ services: ['lock'], nodes: [1, 3] });
    const r: CompareResults = {
      ...base,
      machine: { ...base.machine, cpuModel: evil },
      missing: [{ service: 'queue', why: evil }],
      errors: [evil],
      summary: [evil, ...base.summary],
      reference: [{ label: evil, kind: 'p99', value: 10 }],
      curves: base.curves.map((c) => ({ ...c, firstError: evil })),
      faults: base.faults.map((f) => ({ ...f, target: evil, firstError: evil })),
    };
    const html = compareHtml(r, ASSETS);
    assert.ok(!html.includes('<script>alert(1)'), 'no injected script');
    assert.ok(!html.includes('<img src=x'), 'no injected element');
    assert.match(html, /&lt;\/script&gt;&lt;script&gt;alert\(1\)/);
    assert.equal(html.split('</script>').length - 1, 3, 'nothing closes a script early');
    assert.deepEqual(embedded(html), JSON.parse(JSON.stringify(r)), 'the data block round-trips');
    assert.ok(/id="compare-data">[^<]*\\u003c\/script/.test(html), '< is escaped as \\u003c in the data block');
  });
});

describe('reports: reading and writing a comparison', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dsync-compare-html-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('readCompareResults gives back what was written; writeCompareHtml writes compare.html whole and returns its path', () => {
    const results = compareFixture();
    const file = join(dir, 'results.json');
    writeFileSync(file, JSON.stringify(results, null, 2));
    assert.deepEqual(readCompareResults(file), JSON.parse(JSON.stringify(results)));
    const page = writeCompareHtml(dir, readCompareResults(file));
    assert.equal(page, join(dir, 'compare.html'));
    const html = readFileSync(page, 'utf8');
    assert.match(html, /^<!doctype html>/);
    assert.match(html, /<\/html>\n$/);
    assert.ok(html.includes('DsyncReport.startCompare()'), 'the compiled compare app is inlined');
    assert.deepEqual(readdirSync(dir).sort(), ['compare.html', 'results.json'], 'no temporary file left');
  });

  it('readCompareResults rejects what is not a bench-compare results.json, naming the file and the bad field', () => {
    const file = join(dir, 'results.json');
    const good = JSON.parse(JSON.stringify(compareFixture({ services: ['lock'], nodes: [1] }))) as { curves: { latency: { p99Ms: unknown } }[]; faults: { availability: unknown }[] };
    (good.curves[3] as { latency: { p99Ms: unknown } }).latency.p99Ms = 'slow';
    writeFileSync(file, JSON.stringify(good));
    assert.throws(() => readCompareResults(file), (e: Error) => {
      assert.ok(e.message.startsWith(`${file}: not a bench-compare results.json: `), e.message);
      assert.match(e.message, /curves\.3\.latency\.p99Ms: .*expected number/);
      return true;
    });
    // A run's results.json is another file.
    writeFileSync(file, JSON.stringify({ experiment: 'lock-partition', valid: true, counts: { ok: 1, fail: 0, info: 0, nemesis: 0 } }));
    assert.throws(() => readCompareResults(file), /results\.json: not a bench-compare results\.json: kind: /);
    writeFileSync(file, '{"kind": "bench-compare",');
    assert.throws(() => readCompareResults(file), new RegExp(`^Error: ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: not valid JSON`));
    const missing = join(dir, 'nope', 'results.json');
    assert.throws(() => readCompareResults(missing), (e: Error) => e.message.startsWith(`${missing}: `) && /ENOENT/.test(e.message));
    assert.equal(existsSync(join(dir, 'compare.html')), false);
  });
});
