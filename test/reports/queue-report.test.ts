/**
 * The report's queue section: from a run folder whose results hold the queue checker's verdict
 * (a queue history with a lost, an unexpected and a redelivered message), its data (counts, the
 * listed messages with their enqueue ops, the histogram), its HTML, and the page in headless
 * Chromium (no error, the histogram drawn). A run without the queue checker has no such section.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkQueue } from '../../checkers/queue.js';
import type { Op } from '../../checkers/history/op.js';
import { historyToJsonl } from '../../checkers/history/write.js';
import { launchChromium, openReport } from '../../reports/chromium.js';
import { reportHtml } from '../../reports/html.js';
import { renderRunReport } from '../../reports/render.js';
import { buildReportData } from '../../reports/report-data.js';
import { copyFixtureRuns } from '../support/paths.js';

/** A queue history: m1 round trip, m2 lost, m3 crashed and redelivered twice, "ghost" never enqueued. */
function queueHistory(): Op[] {
  const ops: Op[] = [];
  const add = (type: Op['type'], f: string, value: unknown, process: number): void => {
    ops.push({ index: ops.length, type, f, value, process, time: (ops.length + 1) * 50e6 });
  };
  const enq = (p: number, q: string, m: string): void => {
    add('invoke', 'enqueue', { queue: q, message: m }, p);
    add('ok', 'enqueue', { queue: q, message: m, id: m }, p);
  };
  const deq = (p: number, q: string, m: string | null, receipt = '', deliveries = 1): void => {
    add('invoke', 'dequeue', { queue: q }, p);
    add('ok', 'dequeue', m === null ? { queue: q, message: null } : { queue: q, message: m, id: m, receipt, deliveries }, p);
  };
  const ack = (p: number, q: string, m: string, receipt: string): void => {
    add('invoke', 'ack', { queue: q, message: m, id: m, receipt }, p);
    add('ok', 'ack', { queue: q, message: m, id: m, receipt }, p);
  };
  enq(0, 'q0', 'm1');
  enq(0, 'q1', 'm2');
  enq(0, 'q0', 'm3');
  deq(1, 'q0', 'm1', 'r1');
  ack(1, 'q0', 'm1', 'r1');
  deq(2, 'q0', 'm3', 'r3a');
  deq(1, 'q0', 'm3', 'r3b', 2);
  deq(1, 'q0', 'm3', 'r3c', 3);
  ack(1, 'q0', 'm3', 'r3c');
  deq(2, 'q1', 'ghost', 'rg');
  deq(2, 'q1', null);
  return ops;
}

describe('reports: the queue section', function () {
  this.timeout(60_000);
  let root: string;
  let queueRun: string;
  let lockRun: string;

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'dsync-queue-report-'));
    lockRun = copyFixtureRuns(join(root, 'lock'), ['lock-partition-valid'])[0] as string;
    // A second copy of the fixture, made a queue run: its history and checker results replaced.
    queueRun = copyFixtureRuns(join(root, 'queue'), ['lock-partition-valid'])[0] as string;
    const history = queueHistory();
    const queue = checkQueue(history);
    writeFileSync(join(queueRun, 'history.jsonl'), historyToJsonl(history));
    rmSync(join(queueRun, 'history.edn'));
    const results = JSON.parse(readFileSync(join(queueRun, 'results.json'), 'utf8')) as Record<string, unknown>;
    results['experiment'] = 'queue-report-fixture';
    results['valid'] = false;
    results['reason'] = queue.reason;
    results['workload'] = 'queue: 2 queues (test)';
    results['checker'] = { valid: false, results: { queue }, summary: `queue: ${queue.summary}`, reason: `queue: ${queue.reason}` };
    writeFileSync(join(queueRun, 'results.json'), JSON.stringify(results));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('has the checker\'s counts, the lost and unexpected messages with their enqueue ops, and the histogram', async () => {
    const data = await buildReportData(queueRun);
    const q = data.queue;
    assert.ok(q !== null);
    assert.equal(q.checker, 'queue');
    assert.equal(q.valid, false);
    assert.deepEqual(q.counts.dequeue, { ok: 6, fail: 0, info: 0, delivered: 5, empty: 1 });
    assert.deepEqual(q.totals, { lost: 1, unacked: 0, unexpected: 1, duplicated: 1, redeliveries: 2, unexplained: 0, recovered: 0, ackedLost: 0, fifoInversions: 0 });
    assert.deepEqual(q.lost, [{ queue: 'q1', message: 'm2', enqueueIndex: 2, enqueue: 'process 0: enqueue ok, 0.150–0.200 s', detail: '' }]);
    assert.equal(q.unexpected.length, 1);
    assert.deepEqual([q.unexpected[0]?.message, q.unexpected[0]?.enqueue], ['ghost', null]);
    assert.match(q.unexpected[0]?.detail ?? '', /^never-enqueued; delivered by the dequeue invoked at op 18$/);
    assert.deepEqual(q.histogram, [{ deliveries: 0, messages: 1 }, { deliveries: 1, messages: 2 }, { deliveries: 3, messages: 1 }]);
  });

  it('renders the section (totals, counts, message tables) and links it; a lock run has none', async () => {
    const html = reportHtml(await buildReportData(queueRun));
    assert.equal(html.split('id="sec-queue"').length - 1, 1);
    assert.match(html, /<a href="#sec-queue">Queue<\/a>/);
    const lost = /<table id="queue-lost"[\s\S]*?<\/table>/.exec(html)?.[0] ?? '';
    assert.match(lost, /<td>q1<\/td><td><code>m2<\/code><\/td><td class="num">2<\/td><td>process 0: enqueue ok, 0\.150–0\.200 s<\/td>/);
    assert.match(html, /<table id="queue-unexpected"[\s\S]*?ghost[\s\S]*?never enqueued/);
    assert.doesNotMatch(html, /id="queue-acked-lost"/, 'no table for an anomaly that did not happen');
    assert.match(html, /<div id="queue-histogram" class="chart"><\/div>/);
    const lockHtml = reportHtml(await buildReportData(lockRun));
    assert.doesNotMatch(lockHtml, /id="sec-queue"|href="#sec-queue"/);
  });

  it('in headless Chromium: no error, and the delivery histogram is drawn', async () => {
    await renderRunReport(queueRun);
    const browser = await launchChromium();
    try {
      const o = await openReport(browser, join(queueRun, 'report.html'));
      assert.deepEqual(o.errors, []);
      assert.deepEqual(o.networkRequests, []);
      assert.equal(await o.page.evaluate(() => document.body.dataset['ready']), 'true');
      await o.page.locator('#queue-histogram').scrollIntoViewIfNeeded();
      const ink = await o.page.evaluate(() => {
        let inked = 0;
        for (const canvas of Array.from(document.querySelectorAll<HTMLCanvasElement>('#queue-histogram canvas'))) {
          const ctx = canvas.getContext('2d');
          if (ctx === null || canvas.width === 0) continue;
          const px = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
          for (let i = 3; i < px.length; i += 4) if ((px[i] as number) > 0) inked++;
        }
        return inked;
      });
      assert.ok(ink > 1000, `the histogram is drawn (${ink} inked pixels)`);
      assert.match(await o.page.locator('#queue-totals').innerText(), /LOST\s+1/i);
      await o.page.screenshot({ path: join(queueRun, 'report.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  });
});
