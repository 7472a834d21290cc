/**
 * The queue checker on hand-built histories: each anomaly found (and each verdict able to fail),
 * the two contracts, info enqueues, explained and unexplained redeliveries, FIFO inversions that
 * are reported but valid, and a 200k-event history checked fast.
 */
import assert from 'node:assert/strict';
import { checkQueue, queueChecker, isQueueResult, MAX_LISTED } from '../../checkers/queue.js';
import type { Op } from '../../checkers/history/op.js';
import { history, type Event } from '../support/events.js';

type Outcome = 'ok' | 'fail' | 'info';

const ev = (type: Event['type'], f: string, value: unknown, process: number | string): Event => ({ type, f, value, process, time: 0 });

/** The invocation of an enqueue of `m` on `q`. */
const enqInv = (p: number, q: string, m: string): Event => ev('invoke', 'enqueue', { queue: q, message: m }, p);
/** Its completion. */
const enqDone = (p: number, q: string, m: string, type: Outcome = 'ok'): Event => ev(type, 'enqueue', type === 'ok' ? { queue: q, message: m, id: m } : { queue: q, message: m }, p);
/** An enqueue invoked and completed at once. */
const enq = (p: number, q: string, m: string, type: Outcome = 'ok'): Event[] => [enqInv(p, q, m), enqDone(p, q, m, type)];

const deqInv = (p: number, q: string): Event => ev('invoke', 'dequeue', { queue: q }, p);
/** The ok completion of a dequeue that delivered `m` with `receipt` (null `m`: empty). */
const deqDone = (p: number, q: string, m: string | null, receipt = `r-${m}`, deliveries = 1): Event =>
  ev('ok', 'dequeue', m === null ? { queue: q, message: null } : { queue: q, message: m, id: m, receipt, deliveries }, p);
const deq = (p: number, q: string, m: string | null, receipt = `r-${m}`, deliveries = 1): Event[] => [deqInv(p, q), deqDone(p, q, m, receipt, deliveries)];

const ackValue = (q: string, m: string, receipt: string) => ({ queue: q, message: m, id: m, receipt });
const ackInv = (p: number, q: string, m: string, receipt = `r-${m}`): Event => ev('invoke', 'ack', ackValue(q, m, receipt), p);
const ackDone = (p: number, q: string, m: string, receipt = `r-${m}`, type: Outcome = 'ok'): Event => ev(type, 'ack', ackValue(q, m, receipt), p);
const ack = (p: number, q: string, m: string, receipt = `r-${m}`, type: Outcome = 'ok'): Event[] => [ackInv(p, q, m, receipt), ackDone(p, q, m, receipt, type)];

/** Enqueue, deliver and ack `m` on `q` by process 0 and 1. */
const roundTrip = (q: string, m: string): Event[] => [...enq(0, q, m), ...deq(1, q, m), ...ack(1, q, m)];

describe('checkers/queue', () => {
  it('is named queue, defaults to at-least-once, and marks its results', () => {
    const c = queueChecker();
    assert.equal(c.name, 'queue');
    const r = c.check(history(roundTrip('q0', 'm1')), { timeoutMs: 1000 });
    assert.equal(r['contract'], 'at-least-once');
    assert.ok(isQueueResult(r));
    assert.equal(isQueueResult({ valid: true }), false);
  });

  it('valid: every message enqueued ok is delivered once and acked; counts by type and the histogram', () => {
    const h = history(
      roundTrip('q0', 'm1'),
      roundTrip('q1', 'm2'),
      deq(2, 'q0', null),
      enq(0, 'q0', 'm3', 'fail'),
      [deqInv(3, 'q1'), ev('fail', 'dequeue', { queue: 'q1' }, 3)],
      ack(1, 'q0', 'm1', 'r-old', 'fail'),
    );
    const r = checkQueue(h);
    assert.equal(r.valid, true, r.reason);
    assert.deepEqual(r.counts, {
      enqueue: { ok: 2, fail: 1, info: 0 },
      dequeue: { ok: 3, fail: 1, info: 0, delivered: 2, empty: 1 },
      ack: { ok: 2, fail: 1, info: 0 },
    });
    assert.deepEqual(r.messages, { attempted: 2, enqueued: 2, delivered: 2 });
    assert.deepEqual(r.deliveryHistogram, [{ deliveries: 1, messages: 2 }]);
    assert.equal(r.lost.count + r.unexpected.count + r.duplicated.count + r.ackedLost.count + r.recovered.count, 0);
    assert.match(r.summary ?? '', /^queue \(at-least-once\): 2 messages enqueued ok, 2 messages delivered; 0 lost, 0 delivered but never acked, 0 unexpected, 0 duplicated/);
  });

  it('invalid: an acknowledged enqueue never delivered is lost, named with its enqueue op', () => {
    const h = history(roundTrip('q0', 'm1'), enq(2, 'q1', 'm2'), deq(1, 'q1', null));
    const r = checkQueue(h);
    assert.equal(r.valid, false);
    assert.equal(r.lost.count, 1);
    assert.deepEqual(r.lost.messages, [{ queue: 'q1', message: 'm2', id: 'm2', enqueueIndex: 6 }]);
    assert.deepEqual(r.deliveryHistogram, [{ deliveries: 0, messages: 1 }, { deliveries: 1, messages: 1 }]);
    assert.match(r.reason ?? '', /1 acknowledged message never delivered \(first: m2 on q1, enqueue op 6\)/);
  });

  it('invalid: a message delivered, never acked (its consumer crashed) and never delivered again is unacked; an unknown ack or a later delivery saves it', () => {
    const crashed = checkQueue(history(enq(0, 'q0', 'm1'), deq(1, 'q0', 'm1'), ack(1, 'q0', 'm1', 'r-m1', 'fail')));
    assert.equal(crashed.valid, false);
    assert.equal(crashed.unacked.count, 1);
    assert.deepEqual(crashed.unacked.messages[0], { queue: 'q0', message: 'm1', id: 'm1', enqueueIndex: 0 });
    assert.match(crashed.reason ?? '', /delivered, never acknowledged and never delivered again \(first: m1 on q0, enqueue op 0\)/);
    assert.equal(crashed.lost.count, 0, 'delivered, so not lost');
    const maybe = checkQueue(history(enq(0, 'q0', 'm1'), deq(1, 'q0', 'm1'), ack(1, 'q0', 'm1', 'r-m1', 'info')));
    assert.equal(maybe.valid, true, maybe.reason);
    const back = checkQueue(history(enq(0, 'q0', 'm1'), deq(1, 'q0', 'm1'), deq(2, 'q0', 'm1', 'r2', 2), ack(2, 'q0', 'm1', 'r2')));
    assert.equal(back.valid, true, back.reason);
    assert.equal(back.unacked.count, 0);
  });

  it('an info enqueue delivered is recovered; one never delivered is not lost', () => {
    const h = history(enq(0, 'q0', 'm1', 'info'), enq(1, 'q0', 'm2', 'info'), deq(2, 'q0', 'm1'), ack(2, 'q0', 'm1'));
    const r = checkQueue(h);
    assert.equal(r.valid, true, r.reason);
    assert.equal(r.lost.count, 0);
    assert.equal(r.recovered.count, 1);
    assert.deepEqual(r.recovered.messages[0], { queue: 'q0', message: 'm1', id: null, enqueueIndex: 0 });
    assert.deepEqual(r.messages, { attempted: 2, enqueued: 0, delivered: 1 });
  });

  it('an enqueue still in flight when the history ends counts as info (recovered if delivered)', () => {
    const h = history(enqInv(0, 'q0', 'm1'), deq(1, 'q0', 'm1'), ack(1, 'q0', 'm1'));
    const r = checkQueue(h);
    assert.equal(r.valid, true, r.reason);
    assert.equal(r.counts.enqueue.info, 1);
    assert.equal(r.recovered.count, 1);
  });

  const unexpectedCases: { name: string; events: Event[]; why: string }[] = [
    { name: 'a message never enqueued', events: [...enq(0, 'q0', 'm1'), ...deq(1, 'q0', 'm1'), ...deq(1, 'q0', 'ghost')], why: 'never-enqueued' },
    { name: 'a message whose enqueue definitely failed (a lie)', events: [...enq(0, 'q0', 'm1', 'fail'), ...deq(1, 'q0', 'm1')], why: 'enqueue-failed' },
    { name: 'a message delivered from another queue', events: [...enq(0, 'q0', 'm1'), ...deq(1, 'q3', 'm1')], why: 'wrong-queue' },
    { name: 'a message delivered before its enqueue was invoked', events: [...deq(1, 'q0', 'm1'), ...enq(0, 'q0', 'm1')], why: 'before-enqueue' },
  ];
  for (const c of unexpectedCases) {
    it(`invalid: ${c.name} is unexpected (${c.why})`, () => {
      const r = checkQueue(history(c.events));
      assert.equal(r.valid, false);
      assert.equal(r.unexpected.count, 1);
      assert.equal(r.unexpected.messages[0]?.why, c.why);
      assert.match(r.reason ?? '', new RegExp(`1 unexpected message delivered \\(first: .*, ${c.why}, dequeue op \\d+\\)`));
    });
  }

  it('a redelivery after a missed ack is an explained duplicate: valid at-least-once, invalid exactly-once', () => {
    // Consumer 1 crashed before acking; consumer 2 got it again (deliveries 2) and acked.
    const h = history(enq(0, 'q0', 'm1'), deq(1, 'q0', 'm1', 'r1'), deq(2, 'q0', 'm1', 'r2', 2), ack(2, 'q0', 'm1', 'r2'));
    const least = checkQueue(h, 'at-least-once');
    assert.equal(least.valid, true, least.reason);
    assert.deepEqual([least.duplicated.count, least.duplicated.redeliveries, least.duplicated.unexplained], [1, 1, 0]);
    assert.deepEqual(least.duplicated.messages[0], { queue: 'q0', message: 'm1', id: 'm1', enqueueIndex: 0, deliveries: 2, unexplained: 0 });
    assert.deepEqual(least.deliveryHistogram, [{ deliveries: 2, messages: 1 }]);
    const exactly = checkQueue(h, 'exactly-once');
    assert.equal(exactly.valid, false);
    assert.match(exactly.reason ?? '', /1 message delivered more than once under exactly-once \(1 redelivery\)/);
    assert.equal(queueChecker('exactly-once').check(h, { timeoutMs: 1000 }).valid, false);
  });

  it('a failed or unknown ack explains a redelivery too; an ok ack whose message came back concurrently does not', () => {
    const failed = history(enq(0, 'q0', 'm1'), deq(1, 'q0', 'm1', 'r1'), ack(1, 'q0', 'm1', 'r1', 'fail'), deq(2, 'q0', 'm1', 'r2', 2), ack(2, 'q0', 'm1', 'r2'));
    assert.equal(checkQueue(failed).duplicated.unexplained, 0);
    const unknown = history(enq(0, 'q0', 'm1'), deq(1, 'q0', 'm1', 'r1'), ack(1, 'q0', 'm1', 'r1', 'info'), deq(2, 'q0', 'm1', 'r2', 2));
    assert.equal(checkQueue(unknown).duplicated.unexplained, 0);
    // The first delivery's ack completes ok, but only after the second dequeue was invoked:
    // not acked-lost (concurrent), yet nothing explains the second delivery.
    const concurrent = history(enq(0, 'q0', 'm1'), deq(1, 'q0', 'm1', 'r1'), ackInv(1, 'q0', 'm1', 'r1'), deq(2, 'q0', 'm1', 'r2', 2), ackDone(1, 'q0', 'm1', 'r1'));
    const r = checkQueue(concurrent);
    assert.equal(r.valid, true, r.reason);
    assert.equal(r.ackedLost.count, 0);
    assert.deepEqual([r.duplicated.redeliveries, r.duplicated.unexplained], [1, 1]);
    assert.match(r.summary ?? '', /1 duplicated \(1 redelivery, 1 unexplained\)/);
  });

  it('invalid: a message delivered by a dequeue invoked after its ack completed ok is acked-lost', () => {
    const h = history(roundTrip('q0', 'm1'), deq(2, 'q0', 'm1', 'r2', 2));
    const r = checkQueue(h);
    assert.equal(r.valid, false);
    assert.equal(r.ackedLost.count, 1);
    assert.deepEqual(r.ackedLost.messages[0], { queue: 'q0', message: 'm1', id: 'm1', enqueueIndex: 0, ackIndex: 5, deliveryIndex: 6 });
    assert.match(r.reason ?? '', /1 acknowledged message delivered again after their ack \(first: m1 on q0, ack op 5, dequeue op 6\)/);
  });

  it('FIFO inversions: reported per queue with the pair, never a failure; concurrent enqueues may come in any order', () => {
    const h = history(
      enq(0, 'q0', 'a'),
      enq(0, 'q0', 'b'),
      // b overtakes a, which was enqueued (completed) before b was invoked.
      deq(1, 'q0', 'b'),
      deq(1, 'q0', 'a'),
      // c and d are concurrent: either order is fine.
      enqInv(0, 'q1', 'c'),
      enqInv(2, 'q1', 'd'),
      enqDone(0, 'q1', 'c'),
      enqDone(2, 'q1', 'd'),
      deq(1, 'q1', 'd'),
      deq(1, 'q1', 'c'),
      ['a', 'b'].flatMap((m) => ack(1, 'q0', m)),
      ['c', 'd'].flatMap((m) => ack(1, 'q1', m)),
    );
    const r = checkQueue(h);
    assert.equal(r.valid, true, r.reason);
    assert.equal(r.fifo.inversions, 1);
    assert.deepEqual(r.fifo.byQueue, { q0: 1 });
    assert.deepEqual(r.fifo.examples, [{ queue: 'q0', overtaken: { queue: 'q0', message: 'a', id: 'a', enqueueIndex: 0 }, overtaking: { queue: 'q0', message: 'b', id: 'b', enqueueIndex: 2 } }]);
    // Deliveries that overlap are not an inversion either.
    const overlapping = history(enq(0, 'q0', 'a'), enq(0, 'q0', 'b'), deqInv(1, 'q0'), deqInv(2, 'q0'), deqDone(2, 'q0', 'b'), deqDone(1, 'q0', 'a'));
    assert.equal(checkQueue(overlapping).fifo.inversions, 0);
    // A redelivery of a does not count: its first delivery came first.
    const redelivered = history(enq(0, 'q0', 'a'), enq(0, 'q0', 'b'), deq(1, 'q0', 'a'), deq(1, 'q0', 'b'), deq(1, 'q0', 'a', 'r2', 2));
    assert.equal(checkQueue(redelivered).fifo.inversions, 0);
    // Nor does a message first seen as a redelivery (deliveries 2): its first delivery's answer was lost.
    const unseen = history(enq(0, 'q0', 'a'), enq(0, 'q0', 'b'), deq(1, 'q0', 'b'), deq(1, 'q0', 'a', 'r2', 2));
    assert.equal(checkQueue(unseen).fifo.inversions, 0);
    const seenFirst = history(enq(0, 'q0', 'a'), enq(0, 'q0', 'b'), deq(1, 'q0', 'b'), deq(1, 'q0', 'a', 'r1', 1));
    assert.equal(checkQueue(seenFirst).fifo.inversions, 1, 'the same with deliveries 1 is an inversion');
  });

  it('ignores nemesis events; a malformed op makes it throw (unknown through safeCheck), naming the op', () => {
    const h = history(ev('info', 'start-partition', 'halves', 'nemesis'), roundTrip('q0', 'm1'));
    assert.equal(checkQueue(h).valid, true);
    assert.throws(() => checkQueue(history([ev('invoke', 'enqueue', { queue: 'q0' }, 0), ev('ok', 'enqueue', { queue: 'q0' }, 0)])), /op 0 \(invoke enqueue\): expected a string message/);
    assert.throws(() => checkQueue(history([deqInv(0, 'q0'), ev('ok', 'dequeue', { queue: 'q0', message: 5 }, 0)])), /op 1 \(ok dequeue\): message is not a string/);
  });

  it('caps every list at the first 50 while counting all', () => {
    const events: Event[] = [];
    for (let i = 0; i < 120; i++) events.push(...enq(0, 'q0', `m${i}`));
    const r = checkQueue(history(events));
    assert.equal(r.lost.count, 120);
    assert.equal(r.lost.messages.length, MAX_LISTED);
    assert.equal(r.lost.messages[0]?.message, 'm0');
  });

  it('checks a 200k-event history in one linear pass (seconds at most, even on a busy machine)', function () {
    this.timeout(30_000);
    const ops: Op[] = [];
    const push = (e: Event): void => {
      ops.push({ ...e, index: ops.length, time: ops.length });
    };
    // 10 producers and 10 consumers, interleaved; every 10th delivery is not acked and comes back.
    let produced = 0;
    let consumed = 0;
    while (ops.length < 200_000) {
      const q = `q${produced % 4}`;
      const m = `m${produced++}`;
      for (const e of enq(produced % 10, q, m)) push(e);
      const p = 10 + (consumed++ % 10);
      for (const e of deq(p, q, m, `r1-${m}`)) push(e);
      if (consumed % 10 === 0) for (const e of deq(p, q, m, `r2-${m}`, 2)) push(e);
      for (const e of ack(p, q, m, consumed % 10 === 0 ? `r2-${m}` : `r1-${m}`)) push(e);
    }
    const started = performance.now();
    const r = checkQueue(ops);
    const ms = performance.now() - started;
    assert.equal(r.valid, true, r.reason);
    assert.ok(r.duplicated.count > 1000);
    assert.equal(r.duplicated.unexplained, 0);
    assert.ok(ms < 3000, `took ${ms.toFixed(0)} ms`);
  });
});
