import assert from 'node:assert/strict';
import { historyFromLines } from '../support/history-lines.js';
import { findLostWrites, lostWritesChecker, mesiChecker, sampleViolations, withoutOps } from '../../checkers/cache.js';
import { linearizableChecker } from '../../checkers/index.js';

const history = historyFromLines;

const sample = (lines: { node: string; state: string; value?: string | null; leaseLeftMs?: number }[], o: { stored?: string | null; directory?: string[]; policy?: string; unreachable?: string[] } = {}) => ({
  key: 'k1',
  home: 'n1',
  inc: 1,
  version: 3,
  stored: o.stored ?? '"v"',
  directory: (o.directory ?? lines.filter((l) => l.state !== 'I').map((l) => l.node)).map((node) => ({ node, state: 'S', leaseLeftMs: 500 })),
  lines,
  unreachable: o.unreachable ?? [],
  policy: o.policy ?? 'write-through',
});

describe('checkers/cache', () => {
  describe('MESI invariants of one sample', () => {
    it('accepts Shared copies of the stored value, one Exclusive alone, expired and invalid lines anywhere', () => {
      assert.deepEqual(sampleViolations(sample([{ node: 'n1', state: 'S', value: '"v"', leaseLeftMs: 100 }, { node: 'n2', state: 'S', value: '"v"', leaseLeftMs: 5 }, { node: 'n3', state: 'I' }])), []);
      assert.deepEqual(sampleViolations(sample([{ node: 'n1', state: 'E', value: '"v"', leaseLeftMs: 100 }, { node: 'n2', state: 'S', value: '"old"', leaseLeftMs: -3 }], { directory: ['n1'] })), []);
      assert.deepEqual(sampleViolations(sample([{ node: 'n2', state: 'M', value: '"new"', leaseLeftMs: 100 }], { policy: 'write-back' })), [], 'write-back: the Modified copy may be ahead of the store');
    });

    it('finds two owners, an owner beside a valid copy, a stale copy, a write-through M ahead of the store, and a copy the home does not list', () => {
      assert.match(sampleViolations(sample([{ node: 'n1', state: 'M', value: '"v"', leaseLeftMs: 9 }, { node: 'n2', state: 'E', value: '"v"', leaseLeftMs: 9 }])).join(';'), /2 nodes hold it Modified\/Exclusive/);
      assert.match(sampleViolations(sample([{ node: 'n1', state: 'M', value: '"v"', leaseLeftMs: 9 }, { node: 'n2', state: 'S', value: '"v"', leaseLeftMs: 9 }])).join(';'), /n1 holds it M while n2 S still hold valid copies/);
      assert.match(sampleViolations(sample([{ node: 'n2', state: 'S', value: '"old"', leaseLeftMs: 9 }])).join(';'), /n2 holds it S with "old" but the store has "v"/);
      assert.match(sampleViolations(sample([{ node: 'n2', state: 'M', value: '"new"', leaseLeftMs: 9 }])).join(';'), /under write-through/);
      assert.match(sampleViolations(sample([{ node: 'n3', state: 'S', value: '"v"', leaseLeftMs: 9 }], { directory: [] })).join(';'), /n3 holds a valid S copy the home n1 does not list/);
    });

    it('the checker reads ok state ops only, and says how many samples it judged', () => {
      const bad = sample([{ node: 'n1', state: 'M', value: '"v"', leaseLeftMs: 9 }, { node: 'n2', state: 'M', value: '"v"', leaseLeftMs: 9 }]);
      const good = sample([{ node: 'n1', state: 'S', value: '"v"', leaseLeftMs: 9 }], { unreachable: ['n3'] });
      const h = history('0 state ["k1",null]', `0 ok state ${JSON.stringify(['k1', good])}`, '1 state ["k1",null]', `1 fail state ${JSON.stringify(['k1', bad])}`);
      const r = mesiChecker().check(h, { timeoutMs: 1000 });
      assert.equal(r.valid, true);
      assert.equal(r['samples'], 1);
      assert.equal(r['partial'], 1);
      const r2 = mesiChecker().check(history('0 state ["k1",null]', `0 ok state ${JSON.stringify(['k1', bad])}`), { timeoutMs: 1000 });
      assert.equal(r2.valid, false);
      assert.match(String(r2.reason), /MESI invariant violations; first: key "k1" at event 1/);
    });
  });

  describe('lost writes', () => {
    it('names an acknowledged write that a later read proves lost (an older value, or nil with no delete after it)', () => {
      const h = history(
        '0 write ["k",1]',
        '0 ok write ["k",1]',
        '1 write ["k",2]',
        '1 ok write ["k",2]',
        '2 read ["k",null]',
        '2 ok read ["k",1]',
        '3 write ["j",7]',
        '3 ok write ["j",7]',
        '4 read ["j",null]',
        '4 ok read ["j",null]',
      );
      const lost = findLostWrites(h);
      assert.deepEqual(
        lost.map((l) => [l.key, l.value, l.read, l.writeAt, l.readAt]),
        [
          ['k', 2, 1, 2, 4],
          ['j', 7, null, 6, 8],
        ],
      );
      const r = lostWritesChecker().check(h, { timeoutMs: 1000 });
      assert.equal(r.valid, false);
      assert.match(String(r.reason), /2 acknowledged writes lost; first: write of 2 to "k" \(event 2\), read 1 at event 4/);
    });

    it('says nothing of concurrent ops, info writes, a delete after the write, or reads of the newest value', () => {
      const h = history(
        '0 write ["k",1]',
        '1 read ["k",null]',
        '0 ok write ["k",1]',
        '1 ok read ["k",null]', // concurrent with the write: nil is fine
        '2 write ["k",2]',
        '2 info write ["k",2]', // may not have happened
        '3 read ["k",null]',
        '3 ok read ["k",1]',
        '0 write ["k",3]',
        '0 ok write ["k",3]',
        '1 write ["k",null]',
        '1 ok write ["k",null]', // a delete after 3
        '3 read ["k",null]',
        '3 ok read ["k",null]',
      );
      assert.deepEqual(findLostWrites(h), []);
      assert.equal(lostWritesChecker().check(h, { timeoutMs: 1000 }).valid, true);
    });
  });

  it('withoutOps hides the state samples from the register model (which has no such op)', () => {
    const h = history('0 write ["k",1]', '0 ok write ["k",1]', '1 state ["k",null]', '1 ok state ["k",{"lines":[]}]', '2 read ["k",null]', '2 ok read ["k",1]');
    const register = linearizableChecker('register', { independent: true });
    assert.throws(() => register.check(h, { timeoutMs: 5000 }), /register has no operation 'state'/, 'the bare model refuses the state op');
    assert.equal(withoutOps(register, ['state']).check(h, { timeoutMs: 5000 }).valid, true);
    const stale = history('0 write ["k",1]', '0 ok write ["k",1]', '0 write ["k",2]', '0 ok write ["k",2]', '2 read ["k",null]', '2 ok read ["k",1]');
    assert.equal(withoutOps(register, ['state']).check(stale, { timeoutMs: 5000 }).valid, false, 'a stale read is not linearizable');
  });
});
