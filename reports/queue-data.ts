/**
 * The report's queue section data: the queue checker's result (found by its `kind`, whatever the
 * checker is called) with each listed message's enqueue op looked up in the history — who
 * enqueued it, with what outcome, from when to when.
 */
import { isNemesis, type Op, type ProcessId } from '../checkers/history/op.js';
import { isQueueResult, type QueueCheckerResult, type QueueMessageRef } from '../checkers/queue.js';
import type { StoredResults } from '../harness/store-format.js';
import type { QueueMessageRow, QueueSection } from './report-types.js';
import { nsToMs } from './timeline-data.js';

/** The queue checker's result in a run's results, with its name, if the run used it. */
export function queueResult(results: StoredResults): { name: string; result: QueueCheckerResult } | undefined {
  for (const [name, r] of Object.entries(results.checker.results ?? {})) if (isQueueResult(r)) return { name, result: r };
  return undefined;
}

/** A time of the run in seconds (`1.204`). */
const seconds = (ns: number | undefined): string => (ns === undefined ? '?' : (nsToMs(ns) / 1000).toFixed(3));

/** The enqueue ops (invocation and completion) of the invocations at `indices`, in one pass over the history. */
function enqueueOps(history: readonly Op[], indices: ReadonlySet<number>): Map<number, string> {
  const out = new Map<number, string>();
  const open = new Map<ProcessId, Op>();
  for (const op of history) {
    if (isNemesis(op)) continue;
    if (op.type === 'invoke') {
      if (indices.has(op.index)) open.set(op.process, op);
      continue;
    }
    const inv = open.get(op.process);
    if (inv === undefined) continue;
    open.delete(op.process);
    out.set(inv.index, `process ${String(op.process)}: ${inv.f} ${op.type}, ${seconds(inv.time)}–${seconds(op.time)} s`);
  }
  for (const inv of open.values()) out.set(inv.index, `process ${String(inv.process)}: ${inv.f} never completed, invoked at ${seconds(inv.time)} s`);
  return out;
}

/** The queue section of a run's report, or null when the run did not use the queue checker. */
export function queueSection(results: StoredResults, history: readonly Op[]): QueueSection | null {
  const found = queueResult(results);
  if (found === undefined) return null;
  const r = found.result;
  const wanted = new Set<number>();
  for (const list of [r.lost.messages, r.unacked.messages, r.unexpected.messages, r.ackedLost.messages]) {
    for (const m of list as readonly QueueMessageRef[]) if (m.enqueueIndex !== null) wanted.add(m.enqueueIndex);
  }
  const ops = enqueueOps(history, wanted);
  const row = (m: QueueMessageRef, detail: string): QueueMessageRow => ({
    queue: m.queue,
    message: m.message,
    enqueueIndex: m.enqueueIndex,
    enqueue: m.enqueueIndex === null ? null : (ops.get(m.enqueueIndex) ?? null),
    detail,
  });
  return {
    checker: found.name,
    contract: r.contract,
    valid: r.valid,
    summary: r.summary ?? '',
    counts: r.counts,
    messages: r.messages,
    totals: {
      lost: r.lost.count,
      unacked: r.unacked.count,
      unexpected: r.unexpected.count,
      duplicated: r.duplicated.count,
      redeliveries: r.duplicated.redeliveries,
      unexplained: r.duplicated.unexplained,
      recovered: r.recovered.count,
      ackedLost: r.ackedLost.count,
      fifoInversions: r.fifo.inversions,
    },
    lost: r.lost.messages.map((m) => row(m, '')),
    unacked: r.unacked.messages.map((m) => row(m, 'delivered; no ack ended ok or unknown; never delivered again')),
    unexpected: r.unexpected.messages.map((m) => row(m, `${m.why}; delivered by the dequeue invoked at op ${m.deliveryIndex}`)),
    ackedLost: r.ackedLost.messages.map((m) => row(m, `acked ok at op ${m.ackIndex}, delivered again by the dequeue invoked at op ${m.deliveryIndex}`)),
    histogram: r.deliveryHistogram,
  };
}
