/**
 * The report's "Queue" section, for runs checked with the queue checker: its verdict line, op
 * counts by outcome, the anomaly totals, the messages lost, unexpected or acknowledged and
 * delivered again (each with its enqueue op), and a chart container for the delivery-count
 * histogram (drawn by `reports/browser/queue.ts`).
 */
import { escapeHtml, fmtInt } from './html-format.js';
import type { QueueMessageRow, QueueSection, ReportData } from './report-types.js';

/** One table of listed messages, saying how many of how many it lists. */
function messagesTable(id: string, title: string, rows: readonly QueueMessageRow[], total: number): string {
  if (total === 0) return '';
  const body = rows
    .map(
      (r) =>
        `<tr><td>${escapeHtml(r.queue)}</td><td><code>${escapeHtml(r.message)}</code></td>` +
        `<td class="num">${r.enqueueIndex === null ? '—' : r.enqueueIndex}</td>` +
        `<td>${r.enqueue === null ? '<span class="muted">never enqueued</span>' : escapeHtml(r.enqueue)}</td>` +
        `<td>${escapeHtml(r.detail)}</td></tr>`,
    )
    .join('\n');
  const shown = rows.length < total ? ` <span class="muted">(the first ${fmtInt(rows.length)} of ${fmtInt(total)})</span>` : '';
  return (
    `<h3>${escapeHtml(title)}: ${fmtInt(total)}${shown}</h3>\n<table id="${id}" class="data">\n` +
    `<thead><tr><th>queue</th><th>message</th><th class="num">enqueue op</th><th>enqueue</th><th>detail</th></tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>`
  );
}

/** Op counts by f and outcome. */
function countsTable(q: QueueSection): string {
  const c = q.counts;
  const row = (f: string, r: { ok: number; fail: number; info: number }, note = ''): string =>
    `<tr><td>${f}</td><td class="num">${fmtInt(r.ok)}</td><td class="num">${fmtInt(r.fail)}</td><td class="num">${fmtInt(r.info)}</td><td>${note}</td></tr>`;
  return (
    `<table id="queue-counts" class="data">\n<thead><tr><th>f</th><th class="num">ok</th><th class="num">fail</th><th class="num">info</th><th></th></tr></thead>\n<tbody>\n` +
    [
      row('enqueue', c.enqueue),
      row('dequeue', c.dequeue, `${fmtInt(c.dequeue.delivered)} delivered a message, ${fmtInt(c.dequeue.empty)} found the queue empty`),
      row('ack', c.ack),
    ].join('\n') +
    `\n</tbody>\n</table>`
  );
}

/** The anomaly totals as a grid of labelled values. */
function totalsHtml(q: QueueSection): string {
  const t = q.totals;
  const items: [string, string, boolean][] = [
    ['Enqueued ok', fmtInt(q.messages.enqueued), false],
    ['Delivered', `${fmtInt(q.messages.delivered)} <span class="muted">messages</span>`, false],
    ['Lost', fmtInt(t.lost), t.lost > 0],
    ['Delivered, never acked or redelivered', fmtInt(t.unacked), t.unacked > 0],
    ['Unexpected', fmtInt(t.unexpected), t.unexpected > 0],
    ['Acked, then delivered again', fmtInt(t.ackedLost), t.ackedLost > 0],
    [
      'Duplicated',
      `${fmtInt(t.duplicated)}<br><span class="breakdown muted">${fmtInt(t.redeliveries)} redeliveries, ${fmtInt(t.unexplained)} not explained by a missed ack</span>`,
      q.contract === 'exactly-once' && t.duplicated > 0,
    ],
    ['Recovered', `${fmtInt(t.recovered)}<br><span class="breakdown muted">info enqueues delivered</span>`, false],
    ['FIFO inversions', `${fmtInt(t.fifoInversions)}<br><span class="breakdown muted">reported, not a failure</span>`, false],
  ];
  const dl = items.map(([k, v, bad]) => `<div${bad ? ' class="bad"' : ''}><dt>${k}</dt><dd>${v}</dd></div>`).join('\n');
  return `<dl id="queue-totals" class="summary">\n${dl}\n</dl>`;
}

/** The "Queue" section of a report; empty when the run did not use the queue checker. */
export function queueSectionHtml(data: ReportData): string {
  const q = data.queue;
  if (q === null) return '';
  const verdict = q.valid === true ? 'valid' : q.valid === false ? 'invalid' : 'unknown';
  return [
    `<section id="sec-queue" class="card">`,
    `<h2>Queue</h2>`,
    `<p class="caption">Checked <strong>${escapeHtml(q.contract)}</strong> by <code>${escapeHtml(q.checker)}</code>: <span class="${verdict}-text">${verdict}</span> — ${escapeHtml(q.summary)}</p>`,
    totalsHtml(q),
    countsTable(q),
    messagesTable('queue-lost', 'Lost (enqueued ok, never delivered)', q.lost, q.totals.lost),
    messagesTable('queue-unacked', 'Delivered, never acknowledged, never delivered again', q.unacked, q.totals.unacked),
    messagesTable('queue-unexpected', 'Unexpected (delivered, not enqueued as such)', q.unexpected, q.totals.unexpected),
    messagesTable('queue-acked-lost', 'Acknowledged, then delivered again', q.ackedLost, q.totals.ackedLost),
    `<h3>Deliveries per message</h3>`,
    `<p class="caption">Messages enqueued ok or delivered, by how many ok dequeues delivered them; 0: lost.</p>`,
    `<div id="queue-histogram" class="chart"></div>`,
    `</section>`,
  ]
    .filter((p) => p !== '')
    .join('\n');
}
