import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { historyToEdn, historyToJsonl } from '../../checkers/index.js';
import { syntheticRegisterHistory } from '../../harness/bench/synthetic-history.js';
import { dsyncBin, historyFiles, knossosDir, repoRoot } from '../support/paths.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function dsync(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [dsyncBin, ...args], { cwd: repoRoot, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('dsync check (CLI)', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'dsync-cli-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const knossos = (sub: string) => historyFiles(join(knossosDir, sub)).map((f) => join(knossosDir, sub, f));

  it('checks a whole folder of valid histories in one call: exit 0', async () => {
    const files = knossos('cas-register/good');
    const r = await dsync('check', ...files, '--model', 'cas-register');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.match(/: valid — /g)?.length, files.length);
    assert.match(r.stdout, new RegExp(`${files.length} files: ${files.length} valid, 0 invalid`));
  });

  it('checks every history file in a folder given as an argument', async () => {
    const r = await dsync('check', join(knossosDir, 'cas-register'), '--model', 'cas-register');
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /81 files: 77 valid, 4 invalid, 0 unknown, 0 unreadable/);
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    const e = await dsync('check', empty, '--model', 'cas-register');
    assert.equal(e.code, 3);
    assert.match(e.stderr, /empty: no history files \(\*\.edn, \*\.jsonl\) in this folder/);
  });

  it('finds the invalid ones: exit 1, with the op where it gets stuck', async () => {
    const r = await dsync('check', ...knossos('cas-register/bad'), '--model', 'cas-register');
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stdout.match(/: INVALID — /g)?.length, 4);
    assert.match(r.stdout, /rethink-fail-minimal\.edn: INVALID[^\n]*\n[^\n]*\n\s+cannot linearize op 2 \(line 4\): process 1 read nil → 3/);
  });

  it('checks the mutex and multi-register histories', async () => {
    assert.equal((await dsync('check', ...knossos('mutex/bad'), '--model', 'mutex')).code, 1);
    const mr = knossos('multi-register/good');
    assert.equal((await dsync('check', ...mr, '--model', 'multi-register', '--initial', '{:x 0 :y 0}')).code, 0);
  });

  it('--json prints one object per file with file, valid, ops, checkMs', async () => {
    const files = [...knossos('cas-register/bad').slice(0, 1), ...knossos('cas-register/good').slice(0, 2)];
    const r = await dsync('check', ...files, '--model', 'cas-register', '--json');
    assert.equal(r.code, 1);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.length, 3);
    assert.deepEqual(lines.map((l) => [l.file, l.valid]), [[files[0], false], [files[1], true], [files[2], true]]);
    for (const l of lines) {
      assert.equal(typeof l.ops, 'number');
      assert.equal(typeof l.checkMs, 'number');
    }
  });

  it('checks our JSONL and Jepsen independent tuples with --independent', async () => {
    const h = syntheticRegisterHistory({ ops: 2000, keys: 5, processes: 10, seed: 11 });
    writeFileSync(join(dir, 'reg.jsonl'), historyToJsonl(h));
    writeFileSync(join(dir, 'reg.edn'), historyToEdn(h));
    const r = await dsync('check', join(dir, 'reg.jsonl'), join(dir, 'reg.edn'), '--model', 'register', '--independent', '--json');
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { valid: unknown; partitions: unknown[] });
    assert.deepEqual(lines.map((l) => [l.valid, l.partitions.length]), [[true, 5], [true, 5]]);
  });

  it('exit 2 when the time budget runs out', async () => {
    // One key, twenty concurrent processes: far more search than 100 ms allows.
    writeFileSync(join(dir, 'hard.jsonl'), historyToJsonl(syntheticRegisterHistory({ ops: 4000, keys: 1, processes: 20, seed: 3 })));
    const r = await dsync('check', join(dir, 'hard.jsonl'), '--model', 'register', '--independent', '--timeout-ms', '100', '--json');
    assert.equal(r.code, 2, r.stderr);
    const line = JSON.parse(r.stdout) as { valid: unknown; reason: string };
    assert.equal(line.valid, 'unknown');
    assert.match(line.reason, /time budget/);
  });

  describe('bad input and usage: exit 3 with a message naming the problem', () => {
    it('an unknown model lists the models', async () => {
      const r = await dsync('check', 'x.edn', '--model', 'queue');
      assert.equal(r.code, 3);
      assert.match(r.stderr, /unknown model 'queue'; models: register, cas-register, mutex, rw-lock, fenced-lock, kv, multi-register/);
    });
    it('no model', async () => {
      const r = await dsync('check', 'x.edn');
      assert.equal(r.code, 3);
      assert.match(r.stderr, /required option '-m, --model <name>'/);
    });
    it('a bad --timeout-ms', async () => {
      const r = await dsync('check', 'x.edn', '--model', 'register', '--timeout-ms', 'soon');
      assert.equal(r.code, 3);
      assert.match(r.stderr, /--timeout-ms must be a positive integer/);
    });
    it('a bad --initial, and --initial for a model that takes none', async () => {
      assert.match((await dsync('check', 'x.edn', '--model', 'register', '--initial', '[1')).stderr, /--initial is not valid EDN/);
      assert.match((await dsync('check', 'x.edn', '--model', 'mutex', '--initial', '1')).stderr, /model mutex takes no --initial value/);
    });
    it('a missing file, while the other files are still checked', async () => {
      const good = knossos('cas-register/good')[0] as string;
      const r = await dsync('check', join(dir, 'missing.edn'), good, '--model', 'cas-register');
      assert.equal(r.code, 3);
      assert.match(r.stderr, /missing\.edn: no such file/);
      assert.match(r.stdout, /: valid — /);
    });
    it('malformed EDN names the file and line, without a stack trace', async () => {
      const f = join(dir, 'broken.edn');
      writeFileSync(f, '{:type :invoke, :f :read, :process 0}\n{:type :ok, :f :read, :process 0, :value [1 2}\n');
      const r = await dsync('check', f, '--model', 'register');
      assert.equal(r.code, 3);
      assert.equal(r.stderr.trim(), `dsync check: ${f}:2: EDN syntax error at column 46: expected ']' but found '}'`);
    });
    it('malformed JSONL names the file, line and field', async () => {
      const f = join(dir, 'broken.jsonl');
      writeFileSync(f, '{"type":"invoke","f":"read","process":0}\n{"type":"ok","f":"read","process":"","value":1}\n');
      const r = await dsync('check', f, '--model', 'register');
      assert.equal(r.code, 3);
      assert.match(r.stderr, new RegExp(`${f.replace(/[.]/g, '\\.')}:2: field 'process': expected an integer or a name, got ""`));
      assert.doesNotMatch(r.stderr, /at .*\.js:\d+/);
    });
    it('an op the model does not take names its line', async () => {
      const f = join(dir, 'wrong-model.jsonl');
      writeFileSync(f, '{"type":"invoke","f":"acquire","process":0}\n{"type":"ok","f":"acquire","process":0}\n');
      const r = await dsync('check', f, '--model', 'register');
      assert.equal(r.code, 3);
      assert.match(r.stderr, /wrong-model\.jsonl:1: register has no operation 'acquire'/);
    });
    it('unpaired events name the line', async () => {
      const f = join(dir, 'unpaired.jsonl');
      writeFileSync(f, '{"type":"invoke","f":"read","process":0}\n{"type":"ok","f":"read","process":1,"value":1}\n');
      const r = await dsync('check', f, '--model', 'register');
      assert.equal(r.code, 3);
      assert.match(r.stderr, /unpaired\.jsonl:2: ok completion of read for process 1 with no open invocation/);
    });
  });

  it('--help and --version exit 0', async () => {
    const help = await dsync('check', '--help');
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--timeout-ms <n>/);
    assert.equal((await dsync('--version')).code, 0);
  });
});
