import assert from 'node:assert/strict';
import { completeHistory, PairingError } from '../../../checkers/history/complete.js';
import { parseHistory } from '../../../checkers/history/read.js';

const ops = (lines: string[]) => parseHistory(lines.join('\n'), 't.edn').ops;

describe('pairing invocations with completions', () => {
  it('keeps ok ops with the completion value, drops fail ops, leaves info ops open', () => {
    const done = completeHistory(
      ops([
        '{:type :invoke :f :read :process 0}',
        '{:type :invoke :f :write :value 3 :process 1}',
        '{:type :info :f :start :process :nemesis}',
        '{:type :ok :f :read :value 3 :process 0}',
        '{:type :fail :f :write :value 3 :process 1}',
        '{:type :invoke :f :write :value 4 :process 2}',
        '{:type :info :f :write :value 4 :process 2}',
        '{:type :invoke :f :write :value 5 :process 3}',
      ]),
    );
    assert.deepEqual(
      done.map((o) => [o.process, o.type, o.f, o.value, o.call, o.ret]),
      [
        [0, 'ok', 'read', 3, 0, 3],
        [2, 'info', 'write', 4, 5, Infinity],
        [3, 'info', 'write', 5, 7, Infinity],
      ],
    );
  });

  it('uses the invocation value when an ok completion has none', () => {
    const [w] = completeHistory(ops(['{:type :invoke :f :write :value 3 :process 0}', '{:type :ok :f :write :process 0}']));
    assert.equal(w?.value, 3);
  });

  const bad: [string, string[], RegExp, number][] = [
    ['a completion with no invocation', ['{:type :ok :f :read :process 0}'], /no open invocation/, 0],
    ['a second invocation before the first completes', ['{:type :invoke :f :read :process 0}', '{:type :invoke :f :read :process 0}'], /has not completed/, 1],
    ['a completion of another function', ['{:type :invoke :f :read :process 0}', '{:type :ok :f :write :process 0}'], /does not match its invocation of read/, 1],
  ];
  for (const [name, lines, re, at] of bad) {
    it(`rejects ${name}`, () => {
      assert.throws(() => completeHistory(ops(lines)), (e: unknown) => e instanceof PairingError && re.test(e.message) && e.at === at);
    });
  }
});
