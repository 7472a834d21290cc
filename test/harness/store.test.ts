import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { RunStore, storeTime } from '../../harness/store.js';
import { RUN_FILES } from '../../harness/store-format.js';
import { parseHistory, readHistory, type Op } from '../../checkers/index.js';

const AT = new Date('2026-11-21T10:15:30.123Z');

const HISTORY: Op[] = [
  { index: 0, type: 'invoke', f: 'acquire', value: 'l1', process: 0, time: 1_000 },
  { index: 1, type: 'info', f: 'start-partition', value: ['n1', 'n2'], process: 'nemesis', time: 1_500 },
  { index: 2, type: 'ok', f: 'acquire', value: { name: 'l1', token: 5 }, process: 0, time: 2_000 },
  { index: 3, type: 'invoke', f: 'release', value: null, process: 1, time: 2_500 },
  { index: 4, type: 'fail', f: 'release', value: null, process: 1, time: 3_000, error: 'not-held' },
  { index: 5, type: 'info', f: 'acquire', value: 'l2', process: 2, time: 4_000, error: 'timeout' },
];

/** The fields both history formats keep. */
const essence = (ops: readonly Op[]) => ops.map((o) => ({ type: o.type, f: o.f, process: o.process, value: o.value }));

describe('harness/store', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'dsync-store-test-'));
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  describe('storeTime', () => {
    const cases: { iso: string; name: string }[] = [
      { iso: '2026-11-21T10:15:30.123Z', name: '20261121T101530.123Z' },
      { iso: '2000-01-02T03:04:05.006Z', name: '20000102T030405.006Z' },
      { iso: '1999-12-31T23:59:59.999Z', name: '19991231T235959.999Z' },
    ];
    for (const c of cases) {
      it(`${c.iso} → ${c.name}`, () => {
        const name = storeTime(new Date(c.iso));
        assert.equal(name, c.name);
        assert.match(name, /^[0-9TZ.]+$/);
      });
    }
  });

  describe('RunStore.create', () => {
    it('makes root/<experiment>/<time>/', () => {
      const run = RunStore.create(root, 'lock-partition', AT);
      assert.equal(run.dir, join(root, 'lock-partition', '20261121T101530.123Z'));
      assert.ok(statSync(run.dir).isDirectory());
      assert.deepEqual(readdirSync(run.dir), []);
      assert.equal(run.path(RUN_FILES.results), join(run.dir, 'results.json'));
      assert.equal(run.nodesDir, join(run.dir, 'nodes'));
    });

    it('gives runs created at the same time distinct folders', () => {
      const dirs = [0, 1, 2].map(() => RunStore.create(root, 'exp', AT).dir);
      assert.equal(new Set(dirs).size, 3);
      for (const d of dirs) assert.ok(statSync(d).isDirectory());
      assert.deepEqual(readdirSync(join(root, 'exp')).sort(), ['20261121T101530.123Z', '20261121T101530.123Z-1', '20261121T101530.123Z-2']);
    });

    it('keeps experiments apart', () => {
      const a = RunStore.create(root, 'a', AT);
      const b = RunStore.create(root, 'b', AT);
      assert.notEqual(a.dir, b.dir);
      assert.deepEqual(readdirSync(root).sort(), ['a', 'b']);
    });
  });

  describe('history', () => {
    it('appendEvent + finishHistory write history.jsonl and history.edn, one op per line, that read back', async () => {
      const run = RunStore.create(root, 'exp', AT);
      for (const op of HISTORY) run.appendEvent(op);
      await run.finishHistory(HISTORY);

      const jsonlFile = run.path(RUN_FILES.historyJsonl);
      const ednFile = run.path(RUN_FILES.historyEdn);
      const jsonl = readFileSync(jsonlFile, 'utf8');
      const edn = readFileSync(ednFile, 'utf8');
      for (const text of [jsonl, edn]) {
        assert.ok(text.endsWith('\n'));
        assert.equal(text.split('\n').length, HISTORY.length + 1, text);
      }
      jsonl
        .trimEnd()
        .split('\n')
        .forEach((line, i) => {
          const record = JSON.parse(line) as Record<string, unknown>;
          assert.equal(record.index, i);
          assert.equal(record.f, HISTORY[i]!.f);
        });
      for (const line of edn.trimEnd().split('\n')) assert.match(line, /^\{:index \d+, :type :\w+, .*\}$/);

      for (const [file, format] of [
        [jsonlFile, 'jsonl'],
        [ednFile, 'edn'],
      ] as const) {
        const read = await readHistory(file);
        assert.equal(read.format, format);
        assert.deepEqual(essence(read.ops), essence(HISTORY));
        assert.deepEqual(
          read.ops.map((o) => [o.index, o.time, o.error]),
          HISTORY.map((o) => [o.index, o.time, o.error]),
        );
        assert.deepEqual(essence(parseHistory(readFileSync(file, 'utf8'), file).ops), essence(HISTORY));
      }
      // Only the two history files; no temporary files left behind.
      assert.deepEqual(readdirSync(run.dir).sort(), [RUN_FILES.historyEdn, RUN_FILES.historyJsonl]);
    });

    it('finishHistory([]) with no events writes an empty history.jsonl (and history.edn)', async () => {
      const run = RunStore.create(root, 'exp', AT);
      await run.finishHistory([]);
      assert.equal(readFileSync(run.path(RUN_FILES.historyJsonl), 'utf8'), '');
      assert.equal(readFileSync(run.path(RUN_FILES.historyEdn), 'utf8'), '');
      assert.deepEqual((await readHistory(run.path(RUN_FILES.historyJsonl))).ops, []);
    });

    it('history.jsonl keeps the events appended even if finishHistory gets a different list', async () => {
      // history.jsonl is the as-it-happens log; history.edn is written from the list given.
      const run = RunStore.create(root, 'exp', AT);
      run.appendEvent(HISTORY[0]!);
      await run.finishHistory(HISTORY);
      assert.equal((await readHistory(run.path(RUN_FILES.historyJsonl))).ops.length, 1);
      assert.equal((await readHistory(run.path(RUN_FILES.historyEdn))).ops.length, HISTORY.length);
    });
  });

  describe('writeJson / writeText', () => {
    it('writes pretty JSON with a final newline, bigints as strings', () => {
      const run = RunStore.create(root, 'exp', AT);
      run.writeJson(RUN_FILES.results, { valid: true, big: 12345678901234567890n, list: [1n, 2], nested: { n: -3n } });
      const text = readFileSync(run.path(RUN_FILES.results), 'utf8');
      assert.equal(
        text,
        `${JSON.stringify({ valid: true, big: '12345678901234567890', list: ['1', 2], nested: { n: '-3' } }, null, 2)}\n`,
      );
      assert.match(text, /^\{\n {2}"valid": true,\n/);
      assert.deepEqual(readdirSync(run.dir), [RUN_FILES.results]);
    });

    it('writeText replaces a file whole', () => {
      const run = RunStore.create(root, 'exp', AT);
      run.writeText(RUN_FILES.config, 'a long first version\n');
      run.writeText(RUN_FILES.config, 'v2\n');
      assert.equal(readFileSync(run.path(RUN_FILES.config), 'utf8'), 'v2\n');
      assert.deepEqual(readdirSync(run.dir), [RUN_FILES.config]);
    });
  });

  describe('markLatest', () => {
    const assertLatest = (linkDir: string, run: RunStore) => {
      const link = join(linkDir, 'latest');
      assert.ok(lstatSync(link).isSymbolicLink(), `${link} is not a symlink`);
      // Relative links, so the store can move.
      assert.ok(!isAbsolute(readlinkSync(link)), readlinkSync(link));
      assert.equal(realpathSync(link), realpathSync(run.dir));
    };

    it('points root/latest and root/<experiment>/latest at the run, and a later run moves them', () => {
      const first = RunStore.create(root, 'exp', AT);
      first.markLatest();
      assertLatest(root, first);
      assertLatest(join(root, 'exp'), first);

      const second = RunStore.create(root, 'exp', new Date(AT.getTime() + 1000));
      second.markLatest();
      assertLatest(root, second);
      assertLatest(join(root, 'exp'), second);

      // A run of another experiment moves root/latest only.
      const other = RunStore.create(root, 'other', AT);
      other.markLatest();
      assertLatest(root, other);
      assertLatest(join(root, 'other'), other);
      assertLatest(join(root, 'exp'), second);

      // No temporary links left behind.
      assert.deepEqual(readdirSync(root).sort(), ['exp', 'latest', 'other']);
      assert.deepEqual(readdirSync(join(root, 'exp')).sort(), ['20261121T101530.123Z', '20261121T101531.123Z', 'latest']);
      assert.ok(existsSync(join(root, 'latest', '.')));
    });
  });
});
