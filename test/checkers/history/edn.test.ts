import assert from 'node:assert/strict';
import { EdnSymbol, EdnSyntaxError, Keyword, parseEdn, parseEdnForms, Tagged, writeEdn } from '../../../checkers/history/edn.js';

describe('EDN reader', () => {
  describe('scalars', () => {
    const cases: [string, unknown][] = [
      ['nil', null],
      ['true', true],
      ['false', false],
      ['0', 0],
      ['42', 42],
      ['-17', -17],
      ['+5', 5],
      ['7686455705', 7686455705],
      ['1.5', 1.5],
      ['-2.5e3', -2500],
      ['3M', 3],
      ['1.25M', 1.25],
      ['"hi"', 'hi'],
      ['"a\\"b\\\\c\\nd\\te"', 'a"b\\c\nd\te'],
      ['"\\u00e9"', 'é'],
      ['\\a', 'a'],
      ['\\newline', '\n'],
      ['\\space', ' '],
      ['\\u0041', 'A'],
      ['##Inf', Infinity],
      ['##-Inf', -Infinity],
    ];
    for (const [text, want] of cases) {
      it(`reads ${text}`, () => assert.deepEqual(parseEdn(text), want));
    }
    it('reads ##NaN', () => assert.ok(Number.isNaN(parseEdn('##NaN'))));
    it('reads integers beyond 2^53 as bigint, and N-suffixed ones', () => {
      assert.equal(parseEdn('123456789012345678901'), 123456789012345678901n);
      assert.equal(parseEdn('12N'), 12);
    });
  });

  it('interns keywords, so equal keywords are identical', () => {
    const v = parseEdn('[:read :read :jepsen/nemesis]') as Keyword[];
    assert.equal(v[0], Keyword.of('read'));
    assert.equal(v[0], v[1]);
    assert.equal(v[2]?.name, 'jepsen/nemesis');
  });

  it('reads symbols and tagged literals', () => {
    const v = parseEdn('[foo #inst "2024-01-01T00:00:00Z"]') as unknown[];
    assert.ok(v[0] instanceof EdnSymbol);
    assert.equal((v[0] as EdnSymbol).name, 'foo');
    assert.ok(v[1] instanceof Tagged);
    assert.equal((v[1] as Tagged).tag, 'inst');
    assert.equal((v[1] as Tagged).value, '2024-01-01T00:00:00Z');
  });

  it('reads collections: vectors, lists, keyword maps as objects, other maps as Map, sets', () => {
    assert.deepEqual(parseEdn('[1 (2 3) []]'), [1, [2, 3], []]);
    assert.deepEqual(parseEdn('{:a 1, :b [2]}'), { a: 1, b: [2] });
    const m = parseEdn('{"a" 1 2 :x}');
    assert.ok(m instanceof Map);
    assert.equal(m.get('a'), 1);
    assert.equal(m.get(2), Keyword.of('x'));
    assert.deepEqual(parseEdn('#{1 2}'), new Set([1, 2]));
  });

  it('skips whitespace, commas, comments and #_ discards', () => {
    assert.deepEqual(parseEdn('; comment\n [1,,2 #_ 3 #_[4 5] 6] ; trailing'), [1, 2, 6]);
  });

  describe('errors name the line and column', () => {
    const cases: [string, RegExp, number][] = [
      ['[1 2', /unclosed '\['/, 1],
      ['\n\n  ]', /unexpected '\]'/, 3],
      ['[1 2)', /expected '\]' but found '\)'/, 1],
      ['{:a}', /map has a key with no value/, 1],
      ['"abc', /unterminated string/, 1],
      ['"a\\qb"', /unknown escape/, 1],
      ['\n12abc', /invalid number 12abc/, 2],
      ['1 2', /unexpected text after the value/, 1],
      ['', /unexpected end of input/, 1],
      ['##Foo', /unknown symbolic value/, 1],
      ['\\bogus', /unknown character literal/, 1],
    ];
    for (const [text, re, line] of cases) {
      it(`rejects ${JSON.stringify(text)}`, () => {
        assert.throws(
          () => parseEdn(text),
          (e: unknown) => e instanceof EdnSyntaxError && re.test(e.message) && e.line === line,
        );
      });
    }
  });

  describe('history layouts', () => {
    it('reads one map per line with line numbers', () => {
      const forms = parseEdnForms('{:a 1}\n; note\n{:a 2}\n\n{:a\n 3}\n');
      assert.deepEqual(
        forms.map((f) => [f.value, f.line]),
        [[{ a: 1 }, 1], [{ a: 2 }, 3], [{ a: 3 }, 5]],
      );
    });
    it("reads a top-level vector or list (Knossos' files) as its elements", () => {
      assert.deepEqual(
        parseEdnForms('; header\n[{:a 1}\n {:a 2}]').map((f) => f.line),
        [2, 3],
      );
      assert.deepEqual(
        parseEdnForms('({:a 1} {:a 2})').map((f) => f.value),
        [{ a: 1 }, { a: 2 }],
      );
    });
    it('rejects text after the top-level vector', () => {
      assert.throws(() => parseEdnForms('[{:a 1}] {:a 2}'), /after the top-level collection/);
    });
  });
});

describe('EDN writer', () => {
  it('writes values that read back equal', () => {
    const v = {
      type: Keyword.of('ok'),
      f: Keyword.of('cas'),
      value: [1, 'two', null, true, 2.5, [Keyword.of('x')]],
      m: new Map<unknown, unknown>([['k', 1]]),
      s: new Set([1]),
      big: 123456789012345678901n,
    };
    const text = writeEdn(v);
    assert.deepEqual(parseEdn(text), { ...v, m: new Map([['k', 1]]) });
  });
  it('writes keywords, strings with escapes, and nil', () => {
    assert.equal(writeEdn([Keyword.of('a'), 'q"\n', undefined, null]), '[:a "q\\"\\n" nil nil]');
  });
});
