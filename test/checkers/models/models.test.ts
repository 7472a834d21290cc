import assert from 'node:assert/strict';
import { checkHistory, findModel, independent, ModelInputError, modelNames, parseHistory, type Model } from '../../../checkers/index.js';

/**
 * A history in a compact notation: `p:f:value` invokes, `p:ok:f:value` / `p:info:f` / `p:fail:f`
 * complete; values are EDN.
 */
function history(...events: string[]) {
  const lines = events.map((e) => {
    const [p, a, b, ...rest] = e.split(' ');
    if (a === 'ok' || a === 'info' || a === 'fail') {
      const value = rest.length > 0 ? ` :value ${rest.join(' ')}` : '';
      return `{:type :${a} :f :${b} :process ${p}${value}}`;
    }
    const value = [b, ...rest].filter((x) => x !== undefined).join(' ');
    return `{:type :invoke :f :${a} :process ${p}${value ? ` :value ${value}` : ''}}`;
  });
  return parseHistory(lines.join('\n'), 'm.edn').ops;
}

const m = (name: string): Model => findModel(name) as Model;

interface Case {
  name: string;
  model: Model;
  events: string[];
  valid: boolean;
  initial?: unknown;
}

const cases: Case[] = [
  // register
  { name: 'register: read what was written', model: m('register'), events: ['0 write 1', '0 ok write 1', '1 read nil', '1 ok read 1'], valid: true },
  { name: 'register: stale read', model: m('register'), events: ['0 write 1', '0 ok write 1', '0 write 2', '0 ok write 2', '1 read nil', '1 ok read 1'], valid: false },
  { name: 'register: a read of nil constrains nothing', model: m('register'), events: ['0 write 1', '0 ok write 1', '1 read nil', '1 ok read nil'], valid: true },
  { name: 'register: a failed write did not happen', model: m('register'), events: ['0 write 1', '0 fail write 1', '1 read nil', '1 ok read 1'], valid: false },
  { name: 'register: initial value', model: m('register'), initial: 5, events: ['1 read nil', '1 ok read 5'], valid: true },
  // cas-register
  { name: 'cas-register: cas from the current value', model: m('cas-register'), events: ['0 write 1', '0 ok write 1', '0 cas [1 2]', '0 ok cas [1 2]', '1 read nil', '1 ok read 2'], valid: true },
  { name: 'cas-register: cas from another value', model: m('cas-register'), events: ['0 write 1', '0 ok write 1', '0 cas [3 2]', '0 ok cas [3 2]'], valid: false },
  { name: 'cas-register: an info cas may have happened', model: m('cas-register'), events: ['0 write 1', '0 ok write 1', '0 cas [1 2]', '0 info cas', '1 read nil', '1 ok read 2'], valid: true },
  { name: 'cas-register: an info cas may not have happened', model: m('cas-register'), events: ['0 write 1', '0 ok write 1', '0 cas [1 2]', '0 info cas', '1 read nil', '1 ok read 1'], valid: true },
  { name: 'cas-register: concurrent ops in either order', model: m('cas-register'), events: ['0 write 1', '1 cas [1 5]', '0 ok write 1', '1 ok cas', '2 read nil', '2 ok read 5'], valid: true },
  // mutex
  { name: 'mutex: acquire, release, acquire', model: m('mutex'), events: ['0 acquire', '0 ok acquire', '0 release', '0 ok release', '1 acquire', '1 ok acquire'], valid: true },
  { name: 'mutex: two holders', model: m('mutex'), events: ['0 acquire', '0 ok acquire', '1 acquire', '1 ok acquire'], valid: false },
  { name: 'mutex: release when free', model: m('mutex'), events: ['0 release', '0 ok release'], valid: false },
  { name: 'mutex: an info acquire may never have happened', model: m('mutex'), events: ['0 acquire', '0 info acquire', '1 acquire', '1 ok acquire'], valid: true },
  // rw-lock
  { name: 'rw-lock: shared holders together', model: m('rw-lock'), events: ['0 acquire-shared', '0 ok acquire-shared', '1 acquire-shared', '1 ok acquire-shared', '0 release', '0 ok release', '1 release', '1 ok release', '2 acquire', '2 ok acquire'], valid: true },
  { name: 'rw-lock: exclusive while shared', model: m('rw-lock'), events: ['0 acquire-shared', '0 ok acquire-shared', '1 acquire', '1 ok acquire'], valid: false },
  { name: 'rw-lock: shared while exclusive', model: m('rw-lock'), events: ['0 acquire', '0 ok acquire', '1 acquire-shared', '1 ok acquire-shared'], valid: false },
  { name: 'rw-lock: release by a non-holder', model: m('rw-lock'), events: ['0 acquire', '0 ok acquire', '1 release', '1 ok release'], valid: false },
  { name: 'rw-lock: concurrent release and acquire', model: m('rw-lock'), events: ['0 acquire', '0 ok acquire', '0 release', '1 acquire', '1 ok acquire', '0 ok release'], valid: true },
  // fenced-lock
  { name: 'fenced-lock: increasing tokens', model: m('fenced-lock'), events: ['0 acquire', '0 ok acquire 3', '0 release 3', '0 ok release 3', '1 acquire', '1 ok acquire 7'], valid: true },
  { name: 'fenced-lock: a token that does not increase', model: m('fenced-lock'), events: ['0 acquire', '0 ok acquire 7', '0 release 7', '0 ok release 7', '1 acquire', '1 ok acquire 7'], valid: false },
  { name: 'fenced-lock: shared grants need increasing tokens too', model: m('fenced-lock'), events: ['0 acquire-shared', '0 ok acquire-shared 5', '1 acquire-shared', '1 ok acquire-shared 4'], valid: false },
  { name: 'fenced-lock: concurrent grants linearize in token order', model: m('fenced-lock'), events: ['0 acquire-shared', '1 acquire-shared', '1 ok acquire-shared 4', '0 ok acquire-shared 5'], valid: true },
  { name: 'fenced-lock: releasing another grant’s token', model: m('fenced-lock'), events: ['0 acquire', '0 ok acquire 3', '0 release 2', '0 ok release 2'], valid: false },
  // reads and renewals
  { name: 'fenced-lock: a read sees the holder and its token', model: m('fenced-lock'), events: ['0 acquire', '0 ok acquire 3', '1 read nil', '1 ok read [[0 3]]'], valid: true },
  { name: 'fenced-lock: a read of a free lock', model: m('fenced-lock'), events: ['1 read nil', '1 ok read []', '0 acquire', '0 ok acquire 3', '0 release 3', '0 ok release 3', '1 read nil', '1 ok read []'], valid: true },
  { name: 'fenced-lock: a stale read (the holder had released)', model: m('fenced-lock'), events: ['0 acquire', '0 ok acquire 3', '0 release 3', '0 ok release 3', '1 read nil', '1 ok read [[0 3]]'], valid: false },
  { name: 'fenced-lock: a read that misses a holder', model: m('fenced-lock'), events: ['0 acquire', '0 ok acquire 3', '1 read nil', '1 ok read []'], valid: false },
  { name: 'fenced-lock: a read with the wrong token', model: m('fenced-lock'), events: ['0 acquire', '0 ok acquire 3', '1 read nil', '1 ok read [[0 4]]'], valid: false },
  { name: 'fenced-lock: shared holders read in any order', model: m('fenced-lock'), events: ['0 acquire-shared', '0 ok acquire-shared 3', '1 acquire-shared', '1 ok acquire-shared 5', '2 read nil', '2 ok read [[1 5] [0 3]]'], valid: true },
  { name: 'fenced-lock: a read concurrent with a grant may see either state', model: m('fenced-lock'), events: ['1 read nil', '0 acquire', '0 ok acquire 3', '1 ok read []', '2 read nil', '0 release 3', '2 ok read [[0 3]]', '0 ok release 3'], valid: true },
  { name: 'fenced-lock: an info acquire seen by a read took effect', model: m('fenced-lock'), events: ['0 acquire', '0 info acquire', '1 read nil', '1 ok read [[0 9]]', '2 acquire', '2 ok acquire 10'], valid: false },
  { name: 'fenced-lock: an info acquire seen by a read', model: m('fenced-lock'), events: ['0 acquire', '0 info acquire', '1 read nil', '1 ok read [[0 9]]'], valid: true },
  { name: 'fenced-lock: an info read constrains nothing', model: m('fenced-lock'), events: ['0 acquire', '0 ok acquire 3', '1 read nil', '1 info read'], valid: true },
  { name: 'fenced-lock: the holder renews', model: m('fenced-lock'), events: ['0 acquire', '0 ok acquire 3', '0 renew 3', '0 ok renew 3', '1 read nil', '1 ok read [[0 3]]', '0 release 3', '0 ok release 3'], valid: true },
  { name: 'fenced-lock: a renewal by a non-holder', model: m('fenced-lock'), events: ['0 acquire', '0 ok acquire 3', '1 renew 3', '1 ok renew 3'], valid: false },
  { name: 'fenced-lock: a renewal with another grant’s token', model: m('fenced-lock'), events: ['0 acquire', '0 ok acquire 3', '0 renew 2', '0 ok renew 2'], valid: false },
  { name: 'fenced-lock: a renewal after the release', model: m('fenced-lock'), events: ['0 acquire', '0 ok acquire 3', '0 release 3', '0 ok release 3', '0 renew 3', '0 ok renew 3'], valid: false },
  { name: 'rw-lock: a read ignores tokens', model: m('rw-lock'), events: ['0 acquire', '0 ok acquire', '1 read nil', '1 ok read [[0 nil]]', '0 renew 7', '0 ok renew 7'], valid: true },
  { name: 'rw-lock: a read that misses a shared holder', model: m('rw-lock'), events: ['0 acquire-shared', '0 ok acquire-shared', '1 acquire-shared', '1 ok acquire-shared', '2 read nil', '2 ok read [[0 1]]'], valid: false },
  // kv
  { name: 'kv: put, append, get (key in a :key field style tuple)', model: m('kv'), events: ['0 put ["k" "a"]', '0 ok put ["k" "a"]', '0 append ["k" "b"]', '0 ok append ["k" "b"]', '1 get ["k" nil]', '1 ok get ["k" "ab"]'], valid: true },
  { name: 'kv: a key starts empty', model: m('kv'), events: ['1 get ["k" nil]', '1 ok get ["k" ""]'], valid: true },
  { name: 'kv: lost append', model: m('kv'), events: ['0 append ["k" "a"]', '0 ok append ["k" "a"]', '0 append ["j" "b"]', '0 ok append ["j" "b"]', '1 get ["k" nil]', '1 ok get ["k" ""]'], valid: false },
  // multi-register
  { name: 'multi-register: a transaction reads its own writes in order', model: m('multi-register'), events: ['0 txn [[:write :x 1] [:read :x nil]]', '0 ok txn [[:write :x 1] [:read :x 1]]'], valid: true },
  { name: 'multi-register: initial values', model: m('multi-register'), initial: { x: 0 }, events: ['0 txn [[:read :x nil]]', '0 ok txn [[:read :x 0]]'], valid: true },
  { name: 'multi-register: torn read', model: m('multi-register'), events: ['0 txn [[:write :x 1] [:write :y 1]]', '0 ok txn [[:write :x 1] [:write :y 1]]', '1 txn [[:read :x nil] [:read :y nil]]', '1 ok txn [[:read :x 1] [:read :y 2]]'], valid: false },
];

describe('models', () => {
  it('are all registered', () => {
    assert.deepEqual(modelNames(), ['register', 'cas-register', 'mutex', 'rw-lock', 'fenced-lock', 'lease-lock', 'kv', 'multi-register']);
  });

  for (const c of cases) {
    it(`${c.name} → ${c.valid ? 'valid' : 'invalid'}`, () => {
      const r = checkHistory(history(...c.events), c.model, c.initial === undefined ? {} : { initial: c.initial });
      assert.equal(r.valid, c.valid);
    });
  }

  it('kv takes the key from a :key field too (Porcupine test data)', () => {
    const h = parseHistory(
      [
        '{:process 0, :type :invoke, :f :put, :key "1", :value "x"}',
        '{:process 0, :type :ok, :f :put, :key "1", :value "x"}',
        '{:process 1, :type :invoke, :f :get, :key "1", :value nil}',
        '{:process 1, :type :ok, :f :get, :key "1", :value "y"}',
      ].join('\n'),
      'kv.edn',
    ).ops;
    const r = checkHistory(h, m('kv'));
    assert.equal(r.valid, false);
    assert.equal(r.partitions[0]?.key, '1');
  });

  it('any single-key model runs over independent [key value] tuples', () => {
    const h = history('0 acquire [:l1 nil]', '0 ok acquire [:l1 1]', '1 acquire [:l2 nil]', '1 ok acquire [:l2 2]', '2 acquire [:l1 nil]', '2 ok acquire [:l1 3]');
    const r = checkHistory(h, independent(m('fenced-lock')));
    assert.equal(r.valid, false);
    assert.deepEqual(r.partitions.map((p) => p.valid), [false, true]);
  });

  describe('reject ops they do not understand, naming the problem', () => {
    const bad: [string, string[], RegExp][] = [
      ['cas-register', ['0 push 1', '0 ok push 1'], /cas-register has no operation 'push' \(it takes read, write, cas\)/],
      ['register', ['0 cas [1 2]', '0 ok cas [1 2]'], /register has no operation 'cas'/],
      ['cas-register', ['0 cas 1', '0 ok cas 1'], /cas value must be \[old new\], got 1/],
      ['fenced-lock', ['0 acquire', '0 ok acquire'], /an ok acquire must return its token/],
      ['fenced-lock', ['0 acquire', '0 ok acquire "x"'], /must be a non-negative integer token/],
      ['fenced-lock', ['0 read nil', '0 ok read 3'], /an ok read must be a list of \[process token\] holders, got 3/],
      ['rw-lock', ['0 read nil', '0 ok read [[0]]'], /a holder a read returned must be \[process token\]/],
      ['multi-register', ['0 txn [[:inc :x 1]]', '0 ok txn [[:inc :x 1]]'], /micro-op must be \[:read k v\] or \[:write k v\]/],
      ['kv', ['0 put ["k" {:a 1}]', '0 ok put ["k" {:a 1}]'], /kv values are strings/],
    ];
    for (const [name, events, re] of bad) {
      it(`${name}: ${events[0]}`, () => {
        assert.throws(() => checkHistory(history(...events), m(name)), (e: unknown) => e instanceof ModelInputError && re.test(e.message));
      });
    }
    it('independent: a value that is not a tuple', () => {
      assert.throws(() => checkHistory(history('0 write 1', '0 ok write 1'), independent(m('register'))), /must be a \[key value\] tuple, got 1/);
    });
  });
});
