import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { historyToEdn, historyToJsonl } from '../../checkers/index.js';
import { syntheticRegisterHistory } from '../../harness/bench/synthetic-history.js';
import { checkCommand, DEFAULT_CHECK_TIMEOUT_MS } from '../../harness/check-command.js';
import { EXIT_PIPE_CLOSED } from '../../harness/cli.js';
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
      assert.match(r.stderr, /unknown model 'queue'; models: register, cas-register, mutex, rw-lock, fenced-lock, lease-lock, kv, multi-register/);
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

  describe('a reader that goes away (EPIPE): stop quietly, as a Unix tool does', () => {
    /**
     * Runs dsync with `which` (stdout or stderr) piped to a reader that closes it after the first
     * chunk, like `| head -c 10`; resolves to the exit code and the other stream's text.
     */
    function closedEarly(which: 'stdout' | 'stderr', ...args: string[]): Promise<{ code: number | null; signal: string | null; other: string; first: string }> {
      return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [dsyncBin, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
        let other = '';
        let first = '';
        const closing = which === 'stdout' ? child.stdout : child.stderr;
        (which === 'stdout' ? child.stderr : child.stdout).on('data', (d: Buffer) => (other += d.toString()));
        closing.once('data', (d: Buffer) => {
          first = d.toString().slice(0, 10);
          closing.destroy();
        });
        child.on('error', reject);
        child.on('close', (code, signal) => resolve({ code, signal, other, first }));
      });
    }
    const histories = () => knossos('cas-register/good');

    it('dsync check --json | head -c 10: exit 141, no EPIPE and no stack trace on stderr', async () => {
      const r = await closedEarly('stdout', 'check', ...histories(), '--model', 'cas-register', '--json');
      assert.equal(r.first, '{"file":"/'.slice(0, r.first.length));
      assert.doesNotMatch(r.other, /EPIPE|Error|\n\s+at /, r.other);
      assert.equal(r.other, '');
      assert.equal(r.code, EXIT_PIPE_CLOSED, `exit ${r.code} ${r.signal}`);
    });

    it('stderr closed early (2>&1 | head, on errors): exit 141, stdout untouched by any trace', async () => {
      const missing = Array.from({ length: 2000 }, (_, i) => join(dir, `missing-${i}.edn`));
      const r = await closedEarly('stderr', 'check', ...missing, '--model', 'cas-register');
      assert.equal(r.code, EXIT_PIPE_CLOSED, `exit ${r.code} ${r.signal}: ${r.other.slice(-300)}`);
      assert.doesNotMatch(r.other, /EPIPE|\n\s+at /);
    });
  });

  describe('budgets, stopping early and progress', () => {
    const hardFile = (): string => {
      const f = join(dir, 'hard-budgets.jsonl');
      writeFileSync(f, historyToJsonl(syntheticRegisterHistory({ ops: 4000, keys: 1, processes: 20, seed: 3 })));
      return f;
    };

    it('prints the time budget with the verdict when it ran out; the default is 5 minutes', async () => {
      const r = await dsync('check', hardFile(), '--model', 'register', '--independent', '--timeout-ms', '300');
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stdout, /: unknown — 4000 ops, 1 partition, \d+ ms \(time budget of 300 ms ran out\)$/m);
      assert.equal(DEFAULT_CHECK_TIMEOUT_MS, 300_000);
      const help = await dsync('check', '--help');
      assert.match(help.stdout, /--timeout-ms <n>[\s\S]*default 300000/);
      assert.match(help.stdout, /--max-memory-mb <n>[\s\S]*default 2048/);
      assert.match(help.stdout, /--stop-at-first-invalid/);
    });

    it('--max-memory-mb: a key past its share of the budget is unknown, with the reason', async () => {
      const r = await dsync('check', hardFile(), '--model', 'register', '--independent', '--max-memory-mb', '2', '--json');
      assert.equal(r.code, 2, r.stderr);
      const line = JSON.parse(r.stdout) as { valid: unknown; reason: string; partitions: { limit?: string }[] };
      assert.equal(line.valid, 'unknown');
      assert.match(line.reason, /memory budget of \d+(\.\d+)? MB/);
      assert.equal(line.partitions[0]?.limit, 'memory');
      assert.match((await dsync('check', hardFile(), '--model', 'register', '--max-memory-mb', 'lots')).stderr, /--max-memory-mb must be a positive integer/);
    });

    it('--stop-at-first-invalid leaves the keys not checked unknown and says so; without it every key is checked', async () => {
      const f = join(dir, 'bad-keys.jsonl');
      writeFileSync(f, historyToJsonl(syntheticRegisterHistory({ ops: 20_000, keys: 10, processes: 20, seed: 7, corruptAt: 0.05 })));
      const parse = (s: string) => JSON.parse(s) as { valid: unknown; note?: string; partitions: { valid: unknown; reason?: string }[] };
      const all = parse((await dsync('check', f, '--model', 'register', '--independent', '--json')).stdout);
      assert.equal(all.valid, false);
      assert.ok(all.partitions.every((p) => p.valid !== 'unknown'));
      const r = await dsync('check', f, '--model', 'register', '--independent', '--json', '--stop-at-first-invalid');
      assert.equal(r.code, 1);
      const stopped = parse(r.stdout);
      assert.equal(stopped.valid, false);
      for (const p of stopped.partitions) if (p.valid === 'unknown') assert.match(p.reason ?? '', /^not checked: partition \S+ was already invalid$/);
      if (stopped.partitions.some((p) => p.valid === 'unknown')) assert.match(stopped.note ?? '', /stopped at the first invalid partition/);
    });

    it('shows progress on stderr during a long check, never on stdout', async () => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await checkCommand(
        [hardFile()],
        { model: 'register', independent: true, json: true, timeoutMs: 1000, progressAfterMs: 0, progressEveryMs: 50 },
        { out: (l) => out.push(l), err: (l) => err.push(l), errRaw: (t) => err.push(t), tty: false },
      );
      assert.equal(code, 2);
      assert.equal(out.length, 1);
      assert.equal((JSON.parse(out[0] as string) as { valid: unknown }).valid, 'unknown');
      assert.ok(err.length > 0, 'a progress line was printed');
      assert.match(err[0] as string, /^checking \S+hard-budgets\.jsonl: 0\/1 partition done, searching 0; [\d,]+ configurations explored \(\d+\.\d s\)\n$/);
    });
  });
});
