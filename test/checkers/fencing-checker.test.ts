import assert from 'node:assert/strict';
import { historyFromLines } from '../support/history-lines.js';
import { checkFencingTokens, fencingTokensChecker } from '../../checkers/index.js';

const history = historyFromLines;

describe('fencing-tokens checker', () => {
  it('is named fencing-tokens', () => assert.equal(fencingTokensChecker().name, 'fencing-tokens'));

  it('valid: unique tokens increasing in real time across locks, concurrent grants in any order', () => {
    const r = checkFencingTokens(
      history(
        '0 acquire ["l1",null]',
        '0 ok acquire ["l1",3]',
        '1 acquire ["l2",null]',
        '2 acquire-shared ["l3",null]',
        // Concurrent: the later completion may have the smaller token.
        '2 ok acquire-shared ["l3",9]',
        '1 ok acquire ["l2",7]',
        '3 read ["l2",null]',
        '3 ok read ["l2",[[1,7]]]',
        '0 release ["l1",3]',
        '0 ok release ["l1",3]',
        '0 acquire ["l2",null]',
        '0 fail acquire ["l2",null]',
        '4 acquire ["l1",null]',
        '4 info acquire ["l1",null]',
        '3 acquire ["l1",null]',
        '3 ok acquire ["l1",12]',
      ),
    );
    assert.equal(r.valid, true, r.reason);
    assert.equal(r['grants'], 4);
    assert.equal(r['readHolders'], 1);
    assert.match(r.summary ?? '', /across 3 locks: 4 grants, 1 holders read/);
  });

  it('invalid: one token granted on two locks', () => {
    const r = checkFencingTokens(history('0 acquire ["l1",null]', '1 acquire ["l2",null]', '0 ok acquire ["l1",5]', '1 ok acquire ["l2",5]'));
    assert.equal(r.valid, false);
    assert.equal(r['duplicates'], 1);
    assert.match(r.reason ?? '', /token 5 granted twice: to process 0 on "l1" .* and to process 1 on "l2"/);
  });

  it('invalid: two shared holders of one lock with one token', () => {
    const r = checkFencingTokens(history('0 acquire-shared ["l1",null]', '1 acquire-shared ["l1",null]', '0 ok acquire-shared ["l1",8]', '1 ok acquire-shared ["l1",8]'));
    assert.equal(r.valid, false);
    assert.equal(r['duplicates'], 1);
  });

  it('invalid: a read shows the token of an info acquire given again on another lock', () => {
    const r = checkFencingTokens(
      history('0 acquire ["l1",null]', '0 info acquire ["l1",null]', '1 read ["l1",null]', '1 ok read ["l1",[[0,6]]]', '2 acquire ["l2",null]', '2 ok acquire ["l2",6]'),
    );
    assert.equal(r.valid, false);
    assert.equal(r['duplicates'], 1);
  });

  it('valid: a holder read again and again, and re-granted with a new token', () => {
    const r = checkFencingTokens(
      history(
        '0 acquire ["l1",null]',
        '0 ok acquire ["l1",2]',
        '1 read ["l1",null]',
        '1 ok read ["l1",[[0,2]]]',
        '1 read ["l1",null]',
        '1 ok read ["l1",[[0,2]]]',
        '0 release ["l1",2]',
        '0 ok release ["l1",2]',
        '0 acquire ["l1",null]',
        '0 ok acquire ["l1",4]',
      ),
    );
    assert.equal(r.valid, true, r.reason);
  });

  it('invalid: a grant invoked after another completed has a smaller token (on another lock)', () => {
    const r = checkFencingTokens(history('0 acquire ["l1",null]', '0 ok acquire ["l1",10]', '1 acquire ["l2",null]', '1 ok acquire ["l2",9]'));
    assert.equal(r.valid, false);
    assert.equal(r['reordered'], 1);
    assert.match(r.reason ?? '', /token 9 of process 1 on "l2" .* is not larger than token 10 of process 0 on "l1"/);
  });

  it('invalid: the largest earlier token counts, not the last one', () => {
    const r = checkFencingTokens(
      history('0 acquire ["l1",null]', '0 ok acquire ["l1",20]', '1 acquire ["l2",null]', '1 ok acquire ["l2",5]', '2 acquire ["l3",null]', '2 ok acquire ["l3",15]'),
    );
    assert.equal(r.valid, false);
    assert.equal(r['reordered'], 2);
  });

  it('ignores nemesis events, info and failed ops', () => {
    const h = history('0 acquire ["l1",null]', '0 ok acquire ["l1",10]', '1 acquire ["l2",null]', '1 fail acquire ["l2",3]', '2 acquire ["l2",null]', '2 info acquire ["l2",null]');
    h.push({ index: h.length, type: 'info', f: 'kill', value: 'n1', process: 'nemesis', time: 0 });
    assert.equal(checkFencingTokens(h).valid, true);
  });
});
