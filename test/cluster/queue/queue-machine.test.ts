import assert from 'node:assert/strict';
import { ACKED_WINDOW, QueueMachine } from '../../../cluster/queue/queue-machine.js';

let index = 0;
const entry = (data: unknown) => ({ index: ++index, term: 1, data });

describe('cluster/queue/queue-machine', () => {
  it('keeps pending messages in enqueue order, removes them on ack, and applies a retried id once', () => {
    const m = new QueueMachine();
    const seen: string[] = [];
    m.events = { enqueued: (q, id) => seen.push(`+${q}/${id}`), acked: (q, id) => seen.push(`-${q}/${id}`) };
    assert.deepEqual(m.apply(entry({ t: 'enq', q: 'a', id: '1', m: 'x' })), { t: 'enq', id: '1', duplicate: false });
    assert.deepEqual(m.apply(entry({ t: 'enq', q: 'a', id: '2', m: 'y' })), { t: 'enq', id: '2', duplicate: false });
    assert.deepEqual(m.apply(entry({ t: 'enq', q: 'a', id: '1', m: 'x' })), { t: 'enq', id: '1', duplicate: true });
    assert.deepEqual([...m.queue('a').pending.keys()], ['1', '2']);
    assert.deepEqual(m.apply(entry({ t: 'ack', q: 'a', id: '1' })), { t: 'ack', id: '1', acked: true });
    assert.deepEqual(m.apply(entry({ t: 'ack', q: 'a', id: '1' })), { t: 'ack', id: '1', acked: false });
    // Enqueued again after its ack (a late retry): still not enqueued twice.
    assert.deepEqual(m.apply(entry({ t: 'enq', q: 'a', id: '1', m: 'x' })), { t: 'enq', id: '1', duplicate: true });
    assert.equal(m.apply(entry(null)), null, 'a leader no-op');
    assert.deepEqual(seen, ['+a/1', '+a/2', '-a/1']);
    assert.equal(m.pendingTotal, 1);
  });

  it('remembers the last ACKED_WINDOW acked ids of the group (all queues), forgetting the oldest', () => {
    const m = new QueueMachine();
    for (let i = 0; i <= ACKED_WINDOW; i++) {
      m.apply(entry({ t: 'enq', q: 'w', id: `i${i}`, m: '' }));
      m.apply(entry({ t: 'ack', q: 'w', id: `i${i}` }));
    }
    assert.equal(m.acked.size, ACKED_WINDOW);
    assert.equal(m.apply(entry({ t: 'enq', q: 'w', id: 'i0', m: '' }))?.t === 'enq' && m.queue('w').pending.has('i0'), true, 'the oldest id was forgotten: enqueued again');
    assert.deepEqual(m.apply(entry({ t: 'enq', q: 'w', id: `i${ACKED_WINDOW}`, m: '' })), { t: 'enq', id: `i${ACKED_WINDOW}`, duplicate: true });
    assert.deepEqual(m.apply(entry({ t: 'enq', q: 'other', id: `i${ACKED_WINDOW}`, m: '' })), { t: 'enq', id: `i${ACKED_WINDOW}`, duplicate: false }, 'ids are per queue');
    assert.equal(m.queue('w').ackedTotal, ACKED_WINDOW + 1);
  });

  it('restores what it snapshots, and refuses a malformed snapshot or entry before it is persisted', () => {
    const m = new QueueMachine();
    m.apply(entry({ t: 'enq', q: 'a', id: '1', m: 'x' }));
    m.apply(entry({ t: 'enq', q: 'b', id: '2', m: 'y' }));
    m.apply(entry({ t: 'ack', q: 'b', id: '2' }));
    const snap = JSON.parse(JSON.stringify(m.snapshot())) as unknown;
    const r = new QueueMachine();
    r.checkSnapshot(snap);
    r.restore(snap);
    assert.deepEqual(r.snapshot(), m.snapshot());
    assert.equal(r.pendingTotal, 1);
    assert.throws(() => r.checkSnapshot({ queues: [['a', { pending: 'no' }]] }), /not a queue snapshot/);
    for (const bad of [{ t: 'enq', q: 'a', id: '1' }, { t: 'enq', q: 'a b', id: '1', m: '' }, { t: 'ack', q: 'a', id: '' }, { t: 'del', q: 'a', id: '1' }, { t: 'ack', q: 'a', id: '1', extra: 1 }]) {
      assert.throws(() => r.checkEntry(bad), /not a queue command/, JSON.stringify(bad));
    }
  });
});
