import assert from 'node:assert/strict';
import { Directory } from '../../../cluster/cache/directory.js';

describe('cluster/cache/directory', () => {
  it('runs the operations on one key one at a time, in call order; other keys in parallel', async () => {
    const d = new Directory();
    const order: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const a1 = d.withKey('a', async () => {
      order.push('a1 start');
      await gate;
      order.push('a1 end');
    });
    const a2 = d.withKey('a', async () => void order.push('a2'));
    await d.withKey('b', async () => void order.push('b'));
    assert.deepEqual(order, ['a1 start', 'b'], 'b did not wait for a');
    release();
    await Promise.all([a1, a2]);
    assert.deepEqual(order, ['a1 start', 'b', 'a1 end', 'a2']);
  });

  it('a sweep while an operation holds the key keeps the entry it is filling (a holder added after an await is not lost)', async () => {
    const d = new Directory();
    await d.withKey('k', async () => {
      const e = d.entry('k');
      await new Promise((r) => setImmediate(r));
      d.purgeAll(performance.now()); // the housekeeping timer, between two awaits of the operation
      e.holders.set('n3', { state: 'M', until: performance.now() + 1000, version: 1 });
    });
    assert.equal(d.peek('k')?.holders.get('n3')?.state, 'M');
    d.purgeAll(performance.now() + 2000);
    assert.equal(d.peek('k'), undefined, 'once the lease is over and no one holds the key, the entry goes');
  });
});
