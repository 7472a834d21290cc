/**
 * compare.html as a person sees it: headless Chromium opens it from `file://` with the network cut
 * off. No console error, no request leaves the machine, every chart is drawn (its canvas has
 * ink), the summary is visible, a curve point's tooltip tells its rates and latencies; and results
 * missing a service's fault runs and one size still draw what exists and say what is missing.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import type { CompareResults } from '../../harness/bench/compare-results.js';
import { launchChromium, openReport, type OpenedReport } from '../../reports/chromium.js';
import { writeCompareHtml } from '../../reports/compare-html.js';
import { inkedPixels } from '../support/chart-ink.js';
import { compareFixture } from '../support/compare-fixture.js';

/** The page's ECharts global (only what the test calls). */
declare const echarts: {
  getInstanceByDom(el: HTMLElement):
    | { getOption(): { series: { name: string }[] }; convertToPixel(finder: { seriesIndex: number }, value: number[]): number[] }
    | undefined;
};

/** The charts of one service section. */
const CHARTS = ['curve', 'percentiles', 'fault-bars', 'fault-timeline'];

/** The fixture without the queue's fault runs and without cache at 5 nodes. */
function partial(): CompareResults {
  const full = compareFixture();
  const cut = (x: { service: string; nodes: number }): boolean => x.service === 'cache' && x.nodes === 5;
  return {
    ...full,
    curves: full.curves.filter((c) => !cut(c)),
    knees: full.knees.filter((k) => !cut(k)),
    faults: full.faults.filter((f) => f.service !== 'queue' && !cut(f)),
  };
}

describe('reports: compare.html in headless Chromium', function () {
  this.timeout(60_000);
  let root: string;
  let browser: Browser;
  const opened: OpenedReport[] = [];

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'dsync-compare-browser-'));
    browser = await launchChromium();
  });
  after(async () => {
    for (const o of opened) await o.page.context().close().catch(() => undefined);
    await browser?.close();
    rmSync(root, { recursive: true, force: true });
  });

  /** Writes `results`' compare.html into a folder `name` and opens it. */
  const open = async (name: string, results: CompareResults): Promise<OpenedReport> => {
    const dir = join(root, name);
    mkdirSync(dir);
    const o = await openReport(browser, writeCompareHtml(dir, results));
    opened.push(o);
    return o;
  };

  it('opens offline with no console error and no network request, draws every chart, and shows the summary', async () => {
    const results = compareFixture();
    const o = await open('full', results);
    assert.deepEqual(o.errors, []);
    assert.deepEqual(o.networkRequests, []);
    assert.equal(await o.page.evaluate(() => document.body.dataset['ready']), 'true');
    assert.equal(await o.page.locator('#report-error').isHidden(), true);
    for (const service of ['lock', 'queue', 'cache']) {
      for (const chart of CHARTS) {
        const sel = `#${chart}-${service}`;
        await o.page.locator(sel).scrollIntoViewIfNeeded();
        const ink = await inkedPixels(o.page, sel);
        assert.ok(ink > 2000, `${sel} is drawn (${ink} inked pixels)`);
      }
    }
    const summary = o.page.locator('#summary');
    await summary.scrollIntoViewIfNeeded();
    assert.ok(await summary.isVisible());
    const text = await summary.innerText();
    for (const s of results.summary) assert.ok(text.includes(s), `the summary shows “${s}”`);
    const names = await o.page.evaluate(() => {
      const el = document.querySelector<HTMLElement>('#curve-lock');
      return el ? echarts.getInstanceByDom(el)?.getOption().series.map((s) => s.name) : undefined;
    });
    assert.deepEqual(names?.slice(0, 3), ['1 node', '3 nodes', '5 nodes'], 'one curve per size');
    await o.page.screenshot({ path: join(root, 'full', 'compare.png'), fullPage: true });
    assert.equal(readFileSync(join(root, 'full', 'compare.png')).subarray(1, 4).toString(), 'PNG');
  });

  it('shows a curve point’s offered rate, ok/s and latencies when the mouse rests on it, and marks the knee', async () => {
    const results = compareFixture();
    const o = opened[0] ?? (await open('hover', results));
    const knee = results.knees.find((k) => k.service === 'lock' && k.nodes === 3);
    assert.ok(knee?.offeredPerSec != null && knee.okPerSec !== null && knee.p99Ms !== null);
    await o.page.locator('#curve-lock').scrollIntoViewIfNeeded();
    const box = await o.page.locator('#curve-lock').boundingBox();
    const at = await o.page.evaluate(
      ({ x, y }) => {
        const el = document.querySelector<HTMLElement>('#curve-lock');
        return el ? (echarts.getInstanceByDom(el)?.convertToPixel({ seriesIndex: 1 }, [x, y]) ?? null) : null;
      },
      { x: knee.okPerSec, y: knee.p99Ms },
    );
    assert.ok(box && at, 'the curve converts a point to pixels');
    await o.page.mouse.move(box.x + (at[0] as number), box.y + (at[1] as number));
    const tip = o.page.locator('#curve-lock').getByText(`offered ${knee.offeredPerSec.toLocaleString('en-US')} ops/s`);
    await tip.first().waitFor({ state: 'visible', timeout: 5000 });
    const text = await tip.first().locator('..').innerText();
    assert.match(text, /3 nodes · knee/);
    assert.match(text, /ok [\d,]+ ops\/s \(\d+\.\d %\)/);
    assert.match(text, /p50 [\d.]+ ms · p99 [\d.]+ ms/);
  });

  it('with one service’s fault runs and one size missing, still gets ready without error, draws what exists and says what is missing', async () => {
    const o = await open('partial', partial());
    assert.deepEqual(o.errors, []);
    assert.deepEqual(o.networkRequests, []);
    assert.equal(await o.page.evaluate(() => document.body.dataset['ready']), 'true');
    for (const chart of ['fault-bars', 'fault-timeline']) {
      assert.equal((await o.page.locator(`#${chart}-queue`).innerText()).trim(), 'No fault runs of queue.');
    }
    for (const sel of ['#curve-queue', '#percentiles-queue', '#curve-cache', '#percentiles-cache', '#fault-bars-cache', '#fault-timeline-cache']) {
      await o.page.locator(sel).scrollIntoViewIfNeeded();
      assert.ok((await inkedPixels(o.page, sel)) > 2000, `${sel} is drawn`);
    }
    const names = await o.page.evaluate(() => {
      const el = document.querySelector<HTMLElement>('#curve-cache');
      return el ? echarts.getInstanceByDom(el)?.getOption().series.map((s) => s.name) : undefined;
    });
    assert.deepEqual(names, ['1 node', '3 nodes', 'lines'], 'no curve for the missing size');
    assert.match(await o.page.locator('#sec-cache').innerText(), /No curve for 5 nodes\./);
  });

  it('with no common rate and no fault runs at all, says so in place of those charts', async () => {
    const full = compareFixture({ services: ['lock'] });
    const o = await open('bare', { ...full, commonRate: {}, faults: [] });
    assert.deepEqual(o.errors, []);
    assert.equal(await o.page.evaluate(() => document.body.dataset['ready']), 'true');
    assert.match(await o.page.locator('#percentiles-lock').innerText(), /No common rate/);
    assert.match(await o.page.locator('#fault-timeline-lock').innerText(), /No fault runs of lock\./);
    assert.ok((await inkedPixels(o.page, '#curve-lock')) > 2000);
  });
});
