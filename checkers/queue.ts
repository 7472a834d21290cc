/**
 * The queue checker (`queue`): Jepsen's `total-queue`, made strict. It reads a history of the
 * queue workload (`workloads/queue.ts`) whose ops are
 *
 * - `enqueue`: invoke `{queue, message}` (the message unique over the run) → ok `{queue, message, id}`;
 * - `dequeue`: invoke `{queue}` → ok `{queue, message, id, receipt, deliveries}`, or ok
 *   `{queue, message: null}` when the queue was empty;
 * - `ack`: invoke and completion `{queue, message, id, receipt}`;
 *
 * and finds, by message:
 *
 * - **lost**: an ok enqueue that no ok dequeue ever delivered;
 * - **unacked**: a delivered message none of whose deliveries was acknowledged (no ack ended ok
 *   or unknown) — its consumer crashed — and that was never delivered again: at-least-once
 *   promises it comes back after its lease, and the final phase drains every queue;
 * - **unexpected**: a delivered message that was never enqueued, whose enqueue definitely failed
 *   (`fail`: the node lied), that was enqueued on another queue, or that was delivered before its
 *   enqueue was invoked;
 * - **duplicated**: messages delivered more than once; a redelivery is *explained* when an
 *   earlier delivery of the message had no ok ack (the consumer crashed, its ack failed or its
 *   lease ran out), else *unexplained*;
 * - **recovered**: an enqueue whose outcome was unknown (`info`) yet was delivered;
 * - **acked-lost**: a message delivered again by a dequeue invoked after an ack of it completed
 *   ok — acknowledged work coming back, a real bug;
 * - **FIFO inversions** per queue: enqueue `a` completed ok before enqueue `b` was invoked, yet
 *   `b`'s first delivery completed before the dequeue that first delivered `a` was invoked
 *   (not counted when `a`'s first delivery in the history says `deliveries` > 1: its real first
 *   delivery went to a dequeue whose answer was lost).
 *   Reported, never a failure: partitioned queues and redelivery do not promise FIFO.
 *
 * Valid when nothing is lost, unacked, unexpected or acked-lost; under the `exactly-once` contract, also
 * when nothing is duplicated. An `info` enqueue that was never delivered is not lost (it may
 * never have happened). One pass over the history plus per-message work: linear in its size.
 */
import type { Checker, CheckerResult, Validity } from './checker.js';
import { isNemesis, type History, type Op, type ProcessId } from './history/op.js';

/** What the queue promises: duplicates allowed (`at-least-once`) or not (`exactly-once`). */
export type QueueContract = 'at-least-once' | 'exactly-once';

/** The contracts, for schemas. */
export const QUEUE_CONTRACTS: readonly QueueContract[] = ['at-least-once', 'exactly-once'];

/** At most this many messages are listed per anomaly. */
export const MAX_LISTED = 50;

/** Why a delivered message was unexpected. */
export type UnexpectedWhy = 'never-enqueued' | 'enqueue-failed' | 'wrong-queue' | 'before-enqueue';

/** A message named in a result: its queue, its id, and the index of its enqueue's invocation (null: none). */
export interface QueueMessageRef {
  readonly queue: string;
  readonly message: string;
  readonly id: string | null;
  readonly enqueueIndex: number | null;
}

/** An unexpected delivery: why, and the index of the dequeue's invocation that delivered it. */
export interface UnexpectedRef extends QueueMessageRef {
  readonly why: UnexpectedWhy;
  readonly deliveryIndex: number;
}

/** A duplicated message: how often it was delivered, and how many redeliveries no missed ack explains. */
export interface DuplicateRef extends QueueMessageRef {
  readonly deliveries: number;
  readonly unexplained: number;
}

/** An acknowledged message delivered again: the ok ack's completion and the later dequeue's invocation. */
export interface AckedLostRef extends QueueMessageRef {
  readonly ackIndex: number;
  readonly deliveryIndex: number;
}

/** `overtaking` was enqueued after `overtaken` completed, yet delivered first. */
export interface FifoInversion {
  readonly queue: string;
  readonly overtaken: QueueMessageRef;
  readonly overtaking: QueueMessageRef;
}

/** A count and the first {@link MAX_LISTED} of what it counts. */
export interface Listed<T> {
  readonly count: number;
  readonly messages: readonly T[];
}

/** Completions of one f by type. */
export interface OutcomeCounts {
  readonly ok: number;
  readonly fail: number;
  readonly info: number;
}

/** What the queue checker returns. */
export interface QueueCheckerResult extends CheckerResult {
  /** Marks a queue checker's result (the report finds it by this). */
  readonly kind: 'total-queue';
  readonly contract: QueueContract;
  readonly counts: {
    readonly enqueue: OutcomeCounts;
    /** `ok` = `delivered` + `empty`. */
    readonly dequeue: OutcomeCounts & { readonly delivered: number; readonly empty: number };
    readonly ack: OutcomeCounts;
  };
  /** Distinct messages: enqueued (any outcome but fail), enqueued ok, delivered at least once. */
  readonly messages: { readonly attempted: number; readonly enqueued: number; readonly delivered: number };
  readonly lost: Listed<QueueMessageRef>;
  /** Delivered, never acknowledged by any delivery's ack (ok or unknown), never delivered again. */
  readonly unacked: Listed<QueueMessageRef>;
  readonly unexpected: Listed<UnexpectedRef>;
  readonly duplicated: Listed<DuplicateRef> & { readonly redeliveries: number; readonly unexplained: number };
  readonly recovered: Listed<QueueMessageRef>;
  readonly ackedLost: Listed<AckedLostRef>;
  readonly fifo: { readonly inversions: number; readonly byQueue: Readonly<Record<string, number>>; readonly examples: readonly FifoInversion[] };
  /**
   * Messages by how many ok dequeues delivered them, ascending: `deliveries` 0 counts the lost
   * ones. Over messages enqueued ok or delivered.
   */
  readonly deliveryHistogram: readonly { readonly deliveries: number; readonly messages: number }[];
}

/** One enqueue, as far as the history tells. */
interface Enqueue {
  readonly queue: string;
  readonly message: string;
  id: string | null;
  type: 'ok' | 'fail' | 'info';
  readonly invokePos: number;
  readonly invokeIndex: number;
  completePos: number;
}

/** One ok dequeue that delivered a message. */
interface Delivery {
  readonly queue: string;
  readonly message: string;
  readonly id: string | null;
  readonly receipt: string | null;
  /** The node's delivery count, when it said (`deliveries`): above 1, an earlier delivery went unseen. */
  readonly deliveries: number | null;
  readonly invokePos: number;
  readonly invokeIndex: number;
  readonly completePos: number;
}

/** A field of an op value (a JSON object, or an EDN map read as one). */
function field(v: unknown, k: string): unknown {
  if (v instanceof Map) return v.get(k);
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>)[k] : undefined;
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** A string field of op `op`'s value. @throws TypeError naming the op when it is missing */
function need(op: Op, v: unknown, k: string): string {
  const s = field(v, k);
  if (typeof s !== 'string') throw new TypeError(`op ${op.index} (${op.type} ${op.f}): expected a string ${k} in ${JSON.stringify(v)}`);
  return s;
}

const RANK = { fail: 0, info: 1, ok: 2 } as const;

/** A bounded list that still counts everything pushed into it. */
class Capped<T> {
  count = 0;
  readonly messages: T[] = [];
  push(t: T): void {
    this.count++;
    if (this.messages.length < MAX_LISTED) this.messages.push(t);
  }
  get listed(): Listed<T> {
    return { count: this.count, messages: this.messages };
  }
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

/** Checks a queue history (see the module doc). @throws TypeError naming an op of the wrong shape */
export function checkQueue(history: History, contract: QueueContract = 'at-least-once'): QueueCheckerResult {
  const counts = {
    enqueue: { ok: 0, fail: 0, info: 0 },
    dequeue: { ok: 0, fail: 0, info: 0, delivered: 0, empty: 0 },
    ack: { ok: 0, fail: 0, info: 0 },
  };
  const enqueues = new Map<string, Enqueue>();
  /** Ok enqueues, to be sorted by invocation, and in the order of their completions. */
  const okByInvoke: Enqueue[] = [];
  const okByComplete: Enqueue[] = [];
  const deliveries = new Map<string, Delivery[]>();
  const ackedReceipts = new Set<string>();
  /** Messages an ack ended ok or unknown for: maybe consumed. */
  const maybeAcked = new Set<string>();
  /** Per message, the earliest ok ack's completion (position and index). */
  const firstAck = new Map<string, { pos: number; index: number }>();
  const open = new Map<ProcessId, number>();

  const complete = (inv: Op, invPos: number, type: 'ok' | 'fail' | 'info', done: Op | null, pos: number): void => {
    switch (inv.f) {
      case 'enqueue': {
        counts.enqueue[type]++;
        const message = need(inv, inv.value, 'message');
        const queue = need(inv, inv.value, 'queue');
        const prev = enqueues.get(message);
        if (prev !== undefined && RANK[prev.type] >= RANK[type]) return;
        const e: Enqueue = prev ?? { queue, message, id: null, type, invokePos: invPos, invokeIndex: inv.index, completePos: pos };
        e.type = type;
        e.completePos = pos;
        if (type === 'ok') {
          e.id = str(field(done?.value, 'id'));
          okByInvoke.push(e);
          okByComplete.push(e);
        }
        enqueues.set(message, e);
        return;
      }
      case 'dequeue': {
        counts.dequeue[type]++;
        if (type !== 'ok') return;
        const v = done?.value;
        const message = field(v, 'message');
        if (message === null || message === undefined) {
          counts.dequeue.empty++;
          return;
        }
        if (typeof message !== 'string') throw new TypeError(`op ${done?.index} (ok dequeue): message is not a string: ${JSON.stringify(v)}`);
        counts.dequeue.delivered++;
        const d: Delivery = {
          queue: str(field(v, 'queue')) ?? need(inv, inv.value, 'queue'),
          message,
          id: str(field(v, 'id')),
          receipt: str(field(v, 'receipt')),
          deliveries: typeof field(v, 'deliveries') === 'number' ? (field(v, 'deliveries') as number) : null,
          invokePos: invPos,
          invokeIndex: inv.index,
          completePos: pos,
        };
        const list = deliveries.get(message);
        if (list === undefined) deliveries.set(message, [d]);
        else list.push(d);
        return;
      }
      case 'ack': {
        counts.ack[type]++;
        if (type !== 'fail') maybeAcked.add(need(inv, inv.value, 'message'));
        if (type !== 'ok' || done === null) return;
        const message = need(inv, inv.value, 'message');
        const receipt = str(field(inv.value, 'receipt'));
        if (receipt !== null) ackedReceipts.add(receipt);
        if (!firstAck.has(message)) firstAck.set(message, { pos, index: done.index });
        return;
      }
      default:
        return;
    }
  };

  for (let pos = 0; pos < history.length; pos++) {
    const op = history[pos] as Op;
    if (isNemesis(op)) continue;
    if (op.type === 'invoke') {
      const prev = open.get(op.process);
      if (prev !== undefined) throw new TypeError(`op ${op.index}: process ${String(op.process)} invokes again before op ${(history[prev] as Op).index} completed`);
      open.set(op.process, pos);
      continue;
    }
    const invPos = open.get(op.process);
    if (invPos === undefined) throw new TypeError(`op ${op.index}: a ${op.type} ${op.f} of process ${String(op.process)} without an invocation`);
    open.delete(op.process);
    complete(history[invPos] as Op, invPos, op.type, op, pos);
  }
  // Never completed: unknown outcome, open to the end.
  for (const invPos of open.values()) complete(history[invPos] as Op, invPos, 'info', null, Infinity);

  const ref = (m: string, queue: string, e: Enqueue | undefined): QueueMessageRef => ({
    queue: e?.queue ?? queue,
    message: m,
    id: e?.id ?? null,
    enqueueIndex: e?.invokeIndex ?? null,
  });

  const lost = new Capped<QueueMessageRef>();
  const unacked = new Capped<QueueMessageRef>();
  const unexpected = new Capped<UnexpectedRef>();
  const duplicated = new Capped<DuplicateRef>();
  const recovered = new Capped<QueueMessageRef>();
  const ackedLost = new Capped<AckedLostRef>();
  let redeliveries = 0;
  let unexplained = 0;
  const histogram: number[] = [];
  const bump = (n: number): void => {
    histogram[n] = (histogram[n] ?? 0) + 1;
  };

  let attempted = 0;
  let enqueued = 0;
  for (const e of enqueues.values()) {
    if (e.type !== 'fail') attempted++;
    if (e.type === 'ok') enqueued++;
    if (!deliveries.has(e.message)) {
      if (e.type === 'ok') {
        lost.push(ref(e.message, e.queue, e));
        bump(0);
      }
    } else if (e.type === 'info') {
      recovered.push(ref(e.message, e.queue, e));
    }
  }

  for (const [m, ds] of deliveries) {
    const e = enqueues.get(m);
    const first = ds[0] as Delivery;
    bump(ds.length);
    const why: UnexpectedWhy | null =
      e === undefined ? 'never-enqueued'
      : e.type === 'fail' ? 'enqueue-failed'
      : ds.some((d) => d.queue !== e.queue) ? 'wrong-queue'
      : first.completePos < e.invokePos ? 'before-enqueue'
      : null;
    if (why === null && !maybeAcked.has(m)) unacked.push(ref(m, first.queue, e));
    if (why !== null) {
      const at = why === 'wrong-queue' ? (ds.find((d) => d.queue !== e?.queue) as Delivery) : first;
      unexpected.push({ ...ref(m, at.queue, e), why, deliveryIndex: at.invokeIndex });
    }
    if (ds.length > 1) {
      // Deliveries are in the order of their completions. A redelivery is explained when some
      // earlier delivery was never acknowledged ok.
      let missedAck = false;
      let own = 0;
      for (let k = 0; k < ds.length; k++) {
        const d = ds[k] as Delivery;
        if (k > 0 && !missedAck) own++;
        if (d.receipt === null || !ackedReceipts.has(d.receipt)) missedAck = true;
      }
      redeliveries += ds.length - 1;
      unexplained += own;
      duplicated.push({ ...ref(m, first.queue, e), deliveries: ds.length, unexplained: own });
    }
    const ack = firstAck.get(m);
    if (ack !== undefined) {
      const again = ds.find((d) => d.invokePos > ack.pos);
      if (again !== undefined) ackedLost.push({ ...ref(m, again.queue, e), ackIndex: ack.index, deliveryIndex: again.invokeIndex });
    }
  }

  // Pushed as they completed: put them in the order of their invocations.
  okByInvoke.sort((a, b) => a.invokePos - b.invokePos);
  const fifo = fifoInversions(okByInvoke, okByComplete, deliveries, ref);

  let valid: Validity = lost.count === 0 && unacked.count === 0 && unexpected.count === 0 && ackedLost.count === 0;
  if (contract === 'exactly-once' && duplicated.count > 0) valid = false;

  const summary =
    `queue (${contract}): ${plural(enqueued, 'message')} enqueued ok, ${plural(deliveries.size, 'message')} delivered; ` +
    `${lost.count} lost, ${unacked.count} delivered but never acked, ${unexpected.count} unexpected, ${duplicated.count} duplicated (${plural(redeliveries, 'redelivery', 'redeliveries')}, ${unexplained} unexplained), ` +
    `${recovered.count} recovered, ${ackedLost.count} acked then redelivered, ${plural(fifo.inversions, 'FIFO inversion')}`;
  const problems: string[] = [];
  const firstOf = (l: Capped<QueueMessageRef>): string => {
    const r = l.messages[0];
    return r === undefined ? '' : ` (first: ${r.message} on ${r.queue}${r.enqueueIndex === null ? '' : `, enqueue op ${r.enqueueIndex}`})`;
  };
  if (lost.count > 0) problems.push(`${plural(lost.count, 'acknowledged message')} never delivered${firstOf(lost)}`);
  if (unacked.count > 0) problems.push(`${plural(unacked.count, 'message')} delivered, never acknowledged and never delivered again${firstOf(unacked)}`);
  if (unexpected.count > 0) {
    const u = unexpected.messages[0] as UnexpectedRef;
    problems.push(`${plural(unexpected.count, 'unexpected message')} delivered (first: ${u.message} on ${u.queue}, ${u.why}, dequeue op ${u.deliveryIndex})`);
  }
  if (ackedLost.count > 0) {
    const a = ackedLost.messages[0] as AckedLostRef;
    problems.push(`${plural(ackedLost.count, 'acknowledged message')} delivered again after their ack (first: ${a.message} on ${a.queue}, ack op ${a.ackIndex}, dequeue op ${a.deliveryIndex})`);
  }
  if (contract === 'exactly-once' && duplicated.count > 0) problems.push(`${plural(duplicated.count, 'message')} delivered more than once under exactly-once (${plural(redeliveries, 'redelivery', 'redeliveries')})`);

  const deliveryHistogram = [...histogram.entries()].filter(([, n]) => n !== undefined && n > 0).map(([deliveries, messages]) => ({ deliveries, messages: messages as number }));
  return {
    valid,
    ...(problems.length > 0 ? { reason: problems.join('; ') } : {}),
    summary,
    kind: 'total-queue',
    contract,
    counts,
    messages: { attempted, enqueued, delivered: deliveries.size },
    lost: lost.listed,
    unacked: unacked.listed,
    unexpected: unexpected.listed,
    duplicated: { ...duplicated.listed, redeliveries, unexplained },
    recovered: recovered.listed,
    ackedLost: ackedLost.listed,
    fifo,
    deliveryHistogram,
  };
}

/**
 * FIFO inversions: for each ok enqueue `b` (in invocation order), the ok enqueues `a` that
 * completed before `b` was invoked are swept in; `b` overtook one of them when the latest
 * first-delivery invocation among them comes after `b`'s first delivery completed.
 */
function fifoInversions(
  byInvoke: readonly Enqueue[],
  byComplete: readonly Enqueue[],
  deliveries: ReadonlyMap<string, readonly Delivery[]>,
  ref: (m: string, queue: string, e: Enqueue) => QueueMessageRef,
): QueueCheckerResult['fifo'] {
  const byQueue: Record<string, number> = {};
  const examples: FifoInversion[] = [];
  let inversions = 0;
  /** Per queue: how far the completion sweep got, and the witness with the latest first-delivery invocation. */
  const sweep = new Map<string, { done: number; latest: Enqueue | null; latestPos: number; list: Enqueue[] }>();
  for (const e of byComplete) {
    let s = sweep.get(e.queue);
    if (s === undefined) sweep.set(e.queue, (s = { done: 0, latest: null, latestPos: -1, list: [] }));
    s.list.push(e);
  }
  for (const b of byInvoke) {
    const s = sweep.get(b.queue);
    if (s === undefined) continue;
    for (; s.done < s.list.length && (s.list[s.done] as Enqueue).completePos < b.invokePos; s.done++) {
      const a = s.list[s.done] as Enqueue;
      const first = deliveries.get(a.message)?.[0];
      // A first sighting that the node counts as a redelivery: the first delivery went to a
      // dequeue whose answer was lost (an unknown outcome), at a time the history does not show.
      const unseenEarlier = first !== undefined && first.deliveries !== null && first.deliveries > 1;
      if (first !== undefined && !unseenEarlier && first.invokePos > s.latestPos) {
        s.latest = a;
        s.latestPos = first.invokePos;
      }
    }
    const bFirst = deliveries.get(b.message)?.[0];
    if (bFirst === undefined || s.latest === null || s.latestPos <= bFirst.completePos) continue;
    inversions++;
    byQueue[b.queue] = (byQueue[b.queue] ?? 0) + 1;
    if (examples.length < MAX_LISTED) examples.push({ queue: b.queue, overtaken: ref(s.latest.message, s.latest.queue, s.latest), overtaking: ref(b.message, b.queue, b) });
  }
  return { inversions, byQueue, examples };
}

/** Whether a checker result is the queue checker's (results.json read back, or fresh). */
export function isQueueResult(r: CheckerResult | undefined): r is QueueCheckerResult {
  return r !== undefined && r['kind'] === 'total-queue' && typeof r['lost'] === 'object' && Array.isArray(r['deliveryHistogram']);
}

/** The queue checker, `queue`, for the given contract. */
export function queueChecker(contract: QueueContract = 'at-least-once'): Checker {
  return { name: 'queue', check: (history) => checkQueue(history, contract) };
}
