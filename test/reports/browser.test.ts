/**
 * The report as a person sees it: headless Chromium (Debian's `chromium`, via playwright-core)
 * opens report.html from `file://` with the network cut off. No console error, no request leaves
 * the machine, the charts are drawn (their canvases have ink), hovering a timeline bar shows the
 * op, and for an invalid run the counterexample shows the op that breaks. Screenshots go into
 * the run folders.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, openReport, type OpenedReport } from '../../reports/chromium.js';
import { renderRunReport } from '../../reports/render.js';
import { inkedPixels } from '../support/chart-ink.js';
import { copyFixtureRuns } from '../support/paths.js';

/** The page's ECharts global (only what the test calls). */
declare const echarts: { getInstanceByDom(el: HTMLElement): { convertToPixel(finder: { gridIndex: number } | { xAxisIndex: number }, value: number[] | number): number[] | number } | undefined };

/** The top of the charts' plot area with fault bands (BANDED_GRID_TOP in reports/browser/bands.ts). */
const PLOT_TOP_PX = 64;

/** Rests the mouse on chart `selector` at run time `s` seconds, `dy` px below the top of its plot area. */
async function hoverChartAt(page: Page, selector: string, s: number, dy: number): Promise<void> {
  await page.locator(selector).scrollIntoViewIfNeeded();
  const box = await page.locator(selector).boundingBox();
  const x = await page.evaluate(
    ({ sel, at }) => {
      const el = document.querySelector<HTMLElement>(sel);
      const px = el ? echarts.getInstanceByDom(el)?.convertToPixel({ xAxisIndex: 0 }, at) : undefined;
      return typeof px === 'number' ? px : null;
    },
    { sel: selector, at: s },
  );
  assert.ok(box && x !== null, `${selector} converts a time to pixels`);
  await page.mouse.move(box.x + x, box.y + PLOT_TOP_PX + dy);
}

describe('reports: report.html in headless Chromium', function () {
  this.timeout(60_000);
  let root: string;
  let valid: string;
  let invalid: string;
  let browser: Browser;
  const opened: OpenedReport[] = [];

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'dsync-report-browser-'));
    [valid, invalid] = copyFixtureRuns(root) as [string, string];
    await renderRunReport(valid);
    await renderRunReport(invalid);
    browser = await launchChromium();
  });
  after(async () => {
    for (const o of opened) await o.page.context().close().catch(() => undefined);
    await browser?.close();
    rmSync(root, { recursive: true, force: true });
  });

  const open = async (dir: string): Promise<OpenedReport> => {
    const o = await openReport(browser, join(dir, 'report.html'));
    opened.push(o);
    return o;
  };

  it('opens offline with no console error and no network request, and draws timeline, latency, throughput and percentile charts', async () => {
    const o = await open(valid);
    assert.deepEqual(o.errors, []);
    assert.deepEqual(o.networkRequests, []);
    assert.equal(await o.page.evaluate(() => document.body.dataset['ready']), 'true');
    for (const chart of ['#timeline', '#latency', '#throughput', '#percentiles']) {
      const ink = await inkedPixels(o.page, chart);
      assert.ok(ink > 2000, `${chart} is drawn (${ink} inked pixels)`);
    }
    const banner = await o.page.locator('#verdicts').innerText();
    assert.match(banner, /valid/i);
    assert.match(banner, /linearizable with fenced-lock/);
    const table = await o.page.locator('#op-table').innerText();
    assert.match(table, /acquire/);
    assert.match(table, /99\.9/);
    await o.page.screenshot({ path: join(valid, 'report.png'), fullPage: true });
    assert.equal(readFileSync(join(valid, 'report.png')).subarray(1, 4).toString(), 'PNG');
  });

  it('shows an op when the mouse rests on its timeline bar', async () => {
    const o = opened[0] ?? (await open(valid));
    const data = JSON.parse(await o.page.locator('#report-data').textContent() ?? '{}') as { timeline: { startMs: number[]; endMs: number[]; lane: number[]; text: string[] } };
    // The longest bar in the first lane: easy to hit.
    const t = data.timeline;
    let best = 0;
    for (let i = 0; i < t.lane.length; i++) if ((t.endMs[i] as number) - (t.startMs[i] as number) > (t.endMs[best] as number) - (t.startMs[best] as number)) best = i;
    await o.page.locator('#timeline').scrollIntoViewIfNeeded();
    const box = await o.page.locator('#timeline').boundingBox();
    // Where the bar's middle is, in the chart's own pixels.
    const target = await o.page.evaluate(
      ({ x, lane }) => {
        const el = document.querySelector<HTMLElement>('#timeline');
        const px = el ? (echarts.getInstanceByDom(el)?.convertToPixel({ gridIndex: 0 }, [x, lane]) as number[] | undefined) : undefined;
        return px ? { x: px[0] as number, y: px[1] as number } : null;
      },
      { x: ((t.startMs[best] as number) + (t.endMs[best] as number)) / 2 / 1000, lane: t.lane[best] as number },
    );
    assert.ok(box && target, 'the timeline chart converts data to pixels');
    await o.page.mouse.move(box.x + target.x, box.y + target.y);
    const text = t.text[best] as string;
    const tooltip = o.page.locator('#timeline').getByText(text.slice(0, 30), { exact: false });
    await tooltip.first().waitFor({ state: 'visible', timeout: 5000 });
    // Long op texts wrap between words (or where a word would overflow), never mid-word everywhere.
    const wrap = await tooltip.first().evaluate((el) => {
      const style = getComputedStyle(el);
      return { wordBreak: style.wordBreak, overflowWrap: style.overflowWrap };
    });
    assert.deepEqual(wrap, { wordBreak: 'normal', overflowWrap: 'break-word' });
  });

  it('labels each fault window (hover: its times and availability), marks the final heal, and tables the windows', async () => {
    const o = opened[0] ?? (await open(valid));
    const data = JSON.parse((await o.page.locator('#report-data').textContent()) ?? '{}') as {
      faults: { kind: string; label: string; startMs: number; endMs: number; availability: number }[];
      finalHealMs: number;
    };
    assert.deepEqual(
      data.faults.map((f) => f.label),
      ['isolate-one', 'one-way'],
    );

    const table = o.page.locator('#fault-table');
    await table.scrollIntoViewIfNeeded();
    assert.ok(await table.isVisible(), 'the fault-window table is visible');
    const rows = table.locator('tbody tr');
    assert.equal(await rows.count(), data.faults.length);
    for (const [i, f] of data.faults.entries()) {
      const text = await rows.nth(i).innerText();
      assert.match(text, new RegExp(`${f.kind}\\s+${f.label}`));
      assert.ok(text.includes(`${(f.availability * 100).toFixed(1)} %`), `row ${i + 1} shows its availability: ${text}`);
    }
    assert.match(await o.page.locator('#final-heal').innerText(), /Final heal completed at \d+\.\d{3} s; the final phase started at/);
    assert.match(await o.page.locator('#timeline-processes').innerText(), /p \+ concurrency/);

    // The first band, hovered near the top of the latency plot (above every point).
    const [first] = data.faults;
    assert.ok(first);
    await hoverChartAt(o.page, '#latency', (first.startMs + first.endMs) / 2000, 6);
    const band = o.page.locator('#latency').getByText('#1 partition isolate-one');
    await band.first().waitFor({ state: 'visible', timeout: 5000 });
    const tip = await o.page.locator('#latency').getByText('longest stretch without an ok', { exact: false }).first().innerText();
    assert.match(tip, /longest stretch without an ok: \d/);
    assert.ok(await o.page.locator('#latency').getByText(/availability \d+\.\d %/).first().isVisible());

    // The final heal's line, hovered.
    await hoverChartAt(o.page, '#latency', data.finalHealMs / 1000, 40);
    const heal = o.page.locator('#latency').getByText('Final heal completed', { exact: false }).first();
    await heal.waitFor({ state: 'visible', timeout: 5000 });
    assert.match(await heal.locator('..').innerText(), /Final heal completed at \d+\.\d{3} s[\s\S]*Final phase starts at \d+\.\d{3} s/);
    assert.deepEqual(o.errors, []);
  });

  it('for an invalid run, draws every counterexample with the op where it breaks, and saves a screenshot', async () => {
    const o = await open(invalid);
    assert.deepEqual(o.errors, []);
    assert.deepEqual(o.networkRequests, []);
    const results = JSON.parse(readFileSync(join(invalid, 'results.json'), 'utf8')) as {
      checker: { results: { linearizable: { linearizability: { partitions: { valid: boolean; stuck: { f: string; value: string } }[] } } } };
    };
    const bad = results.checker.results.linearizable.linearizability.partitions.filter((p) => p.valid === false);
    const views = o.page.locator('.counterexample');
    assert.equal(await views.count(), bad.length);
    for (const [i, p] of bad.entries()) {
      const view = views.nth(i);
      const breaking = view.locator('.breaking');
      assert.ok((await breaking.count()) >= 1, `counterexample ${i} marks the breaking op`);
      const text = (await breaking.allInnerTexts()).join(' ');
      assert.match(text, new RegExp(p.stuck.f));
      assert.match(text, new RegExp(`\\b${p.stuck.value}\\b`));
      await breaking.first().scrollIntoViewIfNeeded();
      assert.ok(await breaking.first().isVisible(), 'the breaking op is visible');
      assert.match(await view.innerText(), /cannot be linearized/);
    }
    assert.match(await o.page.locator('#verdicts').innerText(), /not linearizable/i);
    await o.page.screenshot({ path: join(invalid, 'report.png'), fullPage: true });
    assert.equal(readFileSync(join(invalid, 'report.png')).subarray(1, 4).toString(), 'PNG');
  });
});
