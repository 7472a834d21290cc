/**
 * The report's "Fault windows" section: one row per nemesis fault window with what it hit, when,
 * how many client ops were scheduled in it and how many of those were answered ok within the
 * availability deadline, and the longest stretch in it without any ok; then the final heal and
 * the start of the final phase.
 */
import { escapeHtml, fmtDuration, fmtInt, fmtRoundDuration, fmtShare } from './html-format.js';
import type { FaultBand, ReportData } from './report-types.js';

/** A time of the run given in ms, in seconds (`12.345`). */
const seconds = (ms: number): string => (ms / 1000).toFixed(3);

/** One row of the table. */
function rowHtml(b: FaultBand, i: number): string {
  const cells = [
    `<td class="num">${i + 1}</td>`,
    `<td>${escapeHtml(b.kind)}</td>`,
    `<td>${b.label === '' ? '<span class="muted">—</span>' : escapeHtml(b.label)}</td>`,
    `<td class="num">${seconds(b.startMs)}</td>`,
    `<td class="num">${seconds(b.endMs)}</td>`,
    `<td class="num">${escapeHtml(fmtDuration(b.endMs - b.startMs))}</td>`,
    `<td class="num">${fmtInt(b.scheduled)}</td>`,
    `<td class="num">${fmtInt(b.answered)}</td>`,
    `<td class="num availability">${fmtShare(b.availability)}</td>`,
    `<td class="num">${escapeHtml(fmtDuration(b.noOk.ms))} <span class="muted">(${seconds(b.noOk.startMs)}–${seconds(b.noOk.endMs)})</span></td>`,
  ];
  return `<tr data-kind="${escapeHtml(b.kind)}">${cells.join('')}</tr>`;
}

/** The final heal and the final phase's start, in words (empty when neither happened). */
function finalHtml(data: ReportData): string {
  const parts: string[] = [];
  if (data.finalHealMs !== null) parts.push(`Final heal completed at ${seconds(data.finalHealMs)} s`);
  if (data.finalPhaseStartMs !== null) parts.push(`the final phase started at ${seconds(data.finalPhaseStartMs)} s`);
  if (parts.length === 0) return '';
  return `<p id="final-heal" class="caption">${parts.join('; ')} (both marked on the charts).</p>`;
}

/** The "Fault windows" section of a report. */
export function faultWindowsHtml(data: ReportData): string {
  const deadline = escapeHtml(fmtRoundDuration(data.run.availability.deadlineMs));
  const caption =
    `<p class="caption">Availability counts the client ops <em>scheduled</em> in a window (their open-loop slot, not when a blocked client got to send them) ` +
    `and how many were answered ok within ${deadline} of that slot; — when no op scheduled in the window was sent during the run (the clients were behind their schedule). ` +
    `Longest no ok: the longest stretch in the window without any client ok.</p>`;
  const head =
    `<tr><th class="num">#</th><th>fault</th><th>topology / victims</th><th class="num">start (s)</th><th class="num">end (s)</th>` +
    `<th class="num">duration</th><th class="num">scheduled</th><th class="num">ok ≤ ${deadline}</th><th class="num">availability</th><th class="num">longest no ok</th></tr>`;
  const table =
    data.faults.length === 0
      ? `<p class="muted">No fault window in this run.</p>`
      : `<table id="fault-table" class="data">\n<thead>${head}</thead>\n<tbody>\n${data.faults.map(rowHtml).join('\n')}\n</tbody>\n</table>`;
  return `<section id="sec-faults" class="card">\n<h2>Fault windows</h2>\n${caption}\n${table}\n${finalHtml(data)}\n</section>`;
}
