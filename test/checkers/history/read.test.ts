import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyword } from '../../../checkers/history/edn.js';
import { detectFormat, HistoryError, parseHistory, readHistory } from '../../../checkers/history/read.js';
import { historyToEdn, historyToJsonl } from '../../../checkers/history/write.js';

const rejects = (text: string, file: string, line: number | undefined, re: RegExp): void => {
  assert.throws(
    () => parseHistory(text, file),
    (e: unknown) => e instanceof HistoryError && e.line === line && e.file === file && re.test(e.message),
  );
};

describe('history reading', () => {
  it('reads JSONL ops, defaulting index and value', () => {
    const h = parseHistory('{"type":"invoke","f":"read","process":0,"time":5}\n\n{"index":7,"type":"ok","f":"read","value":3,"process":0,"time":9}\n', 'h.jsonl');
    assert.equal(h.format, 'jsonl');
    assert.deepEqual(h.lines, [1, 3]);
    assert.deepEqual(h.ops[0], { type: 'invoke', f: 'read', process: 0, time: 5, index: 0, value: null });
    assert.equal(h.ops[1]?.index, 7);
  });

  it('reads EDN ops, turning type, f and a named process into strings, keeping other fields', () => {
    const h = parseHistory('{:type :info, :f :start, :process :nemesis, :value nil}\n{:type :invoke :f :cas :value [1 2] :process 3 :node "n1"}', 'h.edn');
    assert.equal(h.ops[0]?.process, 'nemesis');
    assert.equal(h.ops[0]?.type, 'info');
    assert.deepEqual(h.ops[1]?.value, [1, 2]);
    assert.equal(h.ops[1]?.node, 'n1');
  });

  it('keeps keywords inside values', () => {
    const h = parseHistory('[{:type :invoke :f :txn :value [[:read :x nil]] :process 0}]', 'k.edn');
    assert.deepEqual(h.ops[0]?.value, [[Keyword.of('read'), Keyword.of('x'), null]]);
  });

  it('detects the format by extension, then by content', () => {
    assert.equal(detectFormat('a.edn', '{"x"'), 'edn');
    assert.equal(detectFormat('a.jsonl', '{:x'), 'jsonl');
    assert.equal(detectFormat('history', '{"type":"ok"}'), 'jsonl');
    assert.equal(detectFormat('history', '{:type :ok}'), 'edn');
  });

  describe('bad input names the file, the line and what is wrong', () => {
    it('invalid JSON', () => rejects('{"type":"ok","f":"read","process":0}\n{"type": ok}\n', 'h.jsonl', 2, /invalid JSON/));
    it('missing field', () => rejects('{"type":"ok","process":0}', 'h.jsonl', 1, /field 'f': expected a non-empty name, got nothing/));
    it('bad type', () => rejects('\n{"type":"done","f":"read","process":0}', 'h.jsonl', 2, /field 'type': expected one of invoke, ok, fail, info, got "done"/));
    it('bad process', () => rejects('{"type":"ok","f":"read","process":1.5}', 'h.jsonl', 1, /field 'process'/));
    it('bad time', () => rejects('{"type":"ok","f":"read","process":1,"time":-3}', 'h.jsonl', 1, /field 'time'/));
    it('not a map', () => rejects('[1, 2]', 'h.jsonl', 1, /expected an operation map/));
    it('EDN syntax', () => rejects('{:type :ok :f :read :process 0}\n{:type :ok :f :read :process 0', 'h.edn', 2, /EDN syntax error at column 1: unclosed '\{'/));
    it('EDN op shape', () => rejects('[{:type :ok :f :read :process 0}\n {:type :ok :process 0}]', 'h.edn', 2, /field 'f'/));
    it('a missing file', async () => {
      await assert.rejects(readHistory('/nonexistent/h.edn'), (e: unknown) => e instanceof HistoryError && /no such file/.test(e.message));
    });
    it('a directory', async () => {
      await assert.rejects(readHistory(tmpdir()), /is a directory/);
    });
  });

  it('writes JSONL and EDN that read back to the same ops', async () => {
    const ops = parseHistory(
      [
        '{:index 0 :type :invoke :f :cas :value [1 2] :process 0 :time 10}',
        '{:index 1 :type :info :f :kill :value nil :process :nemesis :time 11}',
        '{:index 2 :type :fail :f :cas :value [1 2] :process 0 :time 12 :error "nope"}',
      ].join('\n'),
      'in.edn',
    ).ops;
    const dir = mkdtempSync(join(tmpdir(), 'dsync-'));
    writeFileSync(join(dir, 'h.edn'), historyToEdn(ops));
    writeFileSync(join(dir, 'h.jsonl'), historyToJsonl(ops));
    assert.deepEqual((await readHistory(join(dir, 'h.edn'))).ops, ops);
    assert.deepEqual((await readHistory(join(dir, 'h.jsonl'))).ops, ops);
    assert.match(historyToEdn(ops).split('\n')[1] ?? '', /^\{:index 1, :type :info, :f :kill, :value nil, :process :nemesis, :time 11\}$/);
  });
});
