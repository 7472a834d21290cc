import assert from 'node:assert/strict';
import { appendFile, mkdtemp, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { EmbeddedStore, type EmbeddedStoreOptions } from '../../../cluster/cache/embedded-store.js';
import { CacheLogCorruptError, LOG_FILE } from '../../../cluster/cache/store-log.js';
import { realFileIo, type FileIo, type IoFile } from '../../../cluster/raft/file-io.js';
import { LazyFileIo } from '../../../cluster/raft/lazy-file-io.js';

/**
 * A {@link FileIo} that calls `before(call)` ahead of every call it passes to `inner`, file handles'
 * calls included; `call` is `<op> <file name>`, e.g. `datasync cache.log`. `before` may wait (to
 * hold a call back) or throw (to fail it).
 */
function hookedIo(inner: FileIo, before: (call: string) => void | Promise<void>): FileIo {
  const hook = async <T>(call: string, fn: () => Promise<T>): Promise<T> => {
    await before(call);
    return fn();
  };
  const file = (h: IoFile, name: string): IoFile => ({
    write: (b, o, l, p) => hook(`write ${name}`, () => h.write(b, o, l, p)),
    read: (b, o, l, p) => hook(`read ${name}`, () => h.read(b, o, l, p)),
    truncate: (l) => hook(`truncate ${name}`, () => h.truncate(l)),
    sync: () => hook(`sync ${name}`, () => h.sync()),
    datasync: () => hook(`datasync ${name}`, () => h.datasync()),
    close: () => hook(`close ${name}`, () => h.close()),
  });
  return {
    loseUnsynced: inner.loseUnsynced,
    open: (path, mode) => hook(`open ${basename(path)}`, async () => file(await inner.open(path, mode), basename(path))),
    readFile: (path) => hook(`readFile ${basename(path)}`, () => inner.readFile(path)),
    writeFile: (path, data) => hook(`writeFile ${basename(path)}`, () => inner.writeFile(path, data)),
    rename: (from, to) => hook(`rename ${basename(from)}`, () => inner.rename(from, to)),
    unlink: (path) => hook(`unlink ${basename(path)}`, () => inner.unlink(path)),
    readdir: (dir) => hook(`readdir ${basename(dir)}`, () => inner.readdir(dir)),
    mkdirp: (dir) => hook(`mkdirp ${basename(dir)}`, () => inner.mkdirp(dir)),
  };
}

/** Holds back the calls that pass it until {@link open}. */
class Gate {
  #open!: () => void;
  #arrive!: () => void;
  readonly #opened = new Promise<void>((r) => (this.#open = r));
  readonly #arrived = new Promise<void>((r) => (this.#arrive = r));
  pass(): Promise<void> {
    this.#arrive();
    return this.#opened;
  }
  /** Resolves when the first call comes to the gate; rejects naming `what` if none comes within 5 s. */
  async arrived(what: string): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no ${what} within 5 s`)), 5000)));
    await Promise.race([this.#arrived, late]).finally(() => clearTimeout(timer));
  }
  open(): void {
    this.#open();
  }
}

/** What a settled promise came to. */
const outcome = (p: Promise<unknown>): Promise<'ok' | 'failed'> => p.then(() => 'ok' as const, () => 'failed' as const);

describe('EmbeddedStore', () => {
  let dir: string;
  const opened: EmbeddedStore[] = [];
  const lines: string[] = [];
  const openStore = async (options: EmbeddedStoreOptions = {}, d = dir): Promise<EmbeddedStore> => {
    const s = await EmbeddedStore.open(d, { log: (l) => lines.push(l), ...options });
    opened.push(s);
    return s;
  };
  const reopen = async (s: EmbeddedStore, options: EmbeddedStoreOptions = {}): Promise<EmbeddedStore> => {
    await s.close();
    return openStore(options, s.dir);
  };
  const logPath = (): string => join(dir, LOG_FILE);
  const fileSize = async (): Promise<number> => (await stat(logPath())).size;
  /** Every key's value in the store. */
  const contents = async (s: EmbeddedStore, keys: Iterable<string>): Promise<Map<string, string | null>> => {
    const m = new Map<string, string | null>();
    for (const k of keys) m.set(k, await s.get(k));
    return m;
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cache-store-'));
    lines.length = 0;
  });
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  describe('put, get, delete', () => {
    it('stores, overwrites and deletes values, and counts the calls', async () => {
      const s = await openStore();
      assert.equal(s.kind, 'embedded');
      assert.equal(await s.get('a'), null);
      await s.put('a', '{"v":1}');
      await s.put('b', '');
      assert.equal(await s.get('a'), '{"v":1}');
      assert.equal(await s.get('b'), '', 'an empty value is a value, not an absent key');
      await s.put('a', '{"v":2}');
      assert.equal(await s.get('a'), '{"v":2}');
      await s.delete('a');
      await s.delete('never-there');
      assert.equal(await s.get('a'), null);
      const st = s.stats();
      assert.deepEqual(
        { gets: st.gets, puts: st.puts, deletes: st.deletes, errors: st.errors, keys: st.keys },
        { gets: 5, puts: 3, deletes: 2, errors: 0, keys: 1 },
      );
      assert.equal(st.fsyncs >= st.batches && st.batches === 5, true, `5 writes, each its own batch when awaited one by one: ${JSON.stringify(st)}`);
    });

    it('keeps the durable values across close and reopen, unicode, a 1,024-byte key and a 1 MiB value included', async () => {
      const s = await openStore();
      const values = new Map<string, string>([
        ['plain', JSON.stringify({ n: 1, s: 'two' })],
        ['ünïcödé 🔑', 'välue ✓ 😀'],
        ['k'.repeat(1024), 'long key'],
        ['big', 'x'.repeat(1024 * 1024)],
        ['gone', 'deleted below'],
      ]);
      for (const [k, v] of values) await s.put(k, v);
      await s.delete('gone');
      values.delete('gone');
      const again = await reopen(s);
      assert.deepEqual(await contents(again, [...values.keys(), 'gone']), new Map([...values, ['gone', null]]));
      assert.equal(again.stats().keys, values.size);
      assert.deepEqual(lines, [], 'a clean reopen repairs nothing');
    });

    it('applies un-awaited calls in call order', async () => {
      const s = await openStore();
      const calls = [s.put('k', 'v1'), s.put('k', 'v2'), s.delete('k'), s.put('k', 'v3'), s.put('j', 'x'), s.delete('j')];
      for (let i = 0; i < 50; i++) calls.push(s.put(`n${i % 5}`, `v${i}`));
      await Promise.all(calls);
      const expected = new Map<string, string | null>([['k', 'v3'], ['j', null], ['n0', 'v45'], ['n1', 'v46'], ['n2', 'v47'], ['n3', 'v48'], ['n4', 'v49']]);
      assert.deepEqual(await contents(s, expected.keys()), expected);
      assert.deepEqual(await contents(await reopen(s), expected.keys()), expected);
    });

    it('a get answers the durable value: while a put of the key is being fsynced, the old one', async () => {
      let gate: Gate | null = null;
      const s = await openStore({ io: hookedIo(realFileIo, (call) => (call === `datasync ${LOG_FILE}` && gate !== null ? gate.pass() : undefined)) });
      await s.put('k', 'old');
      const g = new Gate();
      gate = g;
      const put = s.put('k', 'new');
      await g.arrived(`fdatasync of ${LOG_FILE}`);
      assert.equal(await s.get('k'), 'old');
      g.open();
      await put;
      assert.equal(await s.get('k'), 'new');
    });
  });

  describe('group commit', () => {
    it('puts that arrive while a batch is being fsynced go together into the next: 100 puts, 2 fdatasyncs', async () => {
      const gate = new Gate();
      const s = await openStore({ io: hookedIo(realFileIo, (call) => (call === `datasync ${LOG_FILE}` ? gate.pass() : undefined)) });
      const before = s.stats();
      const puts = [s.put('k0', 'v0')];
      await gate.arrived(`fdatasync of ${LOG_FILE}`); // the first batch (k0 alone) is in its fdatasync
      for (let i = 1; i < 100; i++) {
        puts.push(s.put(`k${i}`, `v${i}`));
        if (i % 10 === 0) await nextTurn(); // arriving over several turns of the event loop
      }
      assert.equal(s.stats().puts, before.puts, 'nothing resolves before its fdatasync');
      gate.open();
      await Promise.all(puts);
      const after = s.stats();
      assert.deepEqual({ batches: after.batches - before.batches, fsyncs: after.fsyncs - before.fsyncs, puts: after.puts }, { batches: 2, fsyncs: 2, puts: 100 });
      const again = await reopen(s);
      for (let i = 0; i < 100; i++) assert.equal(await again.get(`k${i}`), `v${i}`);
    });

    it('100 concurrent puts on the real file system take far fewer than 100 fsyncs', async () => {
      const s = await openStore();
      const before = s.stats().fsyncs;
      const puts: Promise<void>[] = [];
      for (let i = 0; i < 100; i++) {
        puts.push(s.put(`k${i}`, JSON.stringify({ i })));
        if (i % 10 === 9) await nextTurn(); // ten clients' worth per turn of the event loop
      }
      await Promise.all(puts);
      const fsyncs = s.stats().fsyncs - before;
      assert.ok(fsyncs < 100 && fsyncs >= 1, `100 puts took ${fsyncs} fsyncs`);
      assert.equal(s.stats().batches, fsyncs);
      const again = await reopen(s);
      for (let i = 0; i < 100; i++) assert.equal(await again.get(`k${i}`), JSON.stringify({ i }));
    });
  });

  describe('crashes (lazy file io: unsynced writes are lost)', () => {
    it('loses nothing whose put or delete had resolved', async () => {
      const lazy = new LazyFileIo();
      const s = await openStore({ io: lazy });
      const acked = new Map<string, string | null>();
      for (let i = 0; i < 60; i++) {
        const key = `k${i % 12}`;
        if (i % 7 === 6) {
          await s.delete(key);
          acked.set(key, null);
        } else {
          await s.put(key, `v${i}`);
          acked.set(key, `v${i}`);
        }
      }
      const late = [outcome(s.put('k0', 'late')), outcome(s.put('fresh', 'late'))];
      await lazy.crash();
      const [k0, fresh] = await Promise.all(late);
      await assert.rejects(s.put('k1', 'after'), /LazyFileIo: crashed \(a simulated power cut\)/);
      if (k0 === 'ok') acked.set('k0', 'late');
      if (fresh === 'ok') acked.set('fresh', 'late');

      const again = await openStore();
      const got = await contents(again, [...acked.keys(), 'fresh']);
      for (const [k, v] of acked) assert.equal(got.get(k), v, `key ${k}`);
      assert.ok(got.get('fresh') === null || got.get('fresh') === 'late');
    });
  });

  describe('recovery from a torn tail', () => {
    /** A store holding a, b, c; closed; the log file's size. */
    const threeValues = async (): Promise<number> => {
      const s = await openStore();
      for (const k of ['a', 'b', 'c']) await s.put(k, `value of ${k}`);
      await s.close();
      return fileSize();
    };

    it('a record cut mid-way (the last put, torn by a crash) is truncated away; the earlier values stay; the store appends after them', async () => {
      const s = await openStore();
      for (const k of ['a', 'b']) await s.put(k, `value of ${k}`);
      const good = await fileSize();
      await s.put('c', 'value of c');
      await s.close();
      await truncate(logPath(), (await fileSize()) - 3);

      const again = await openStore();
      assert.deepEqual(await contents(again, ['a', 'b', 'c']), new Map([['a', 'value of a'], ['b', 'value of b'], ['c', null]]));
      assert.equal(lines.length, 1);
      assert.match(lines[0] as string, new RegExp(`${LOG_FILE}: torn record at byte ${good} .*truncated the file there, dropping \\d+ bytes`));
      assert.equal(await fileSize(), good);
      await again.put('d', 'value of d');
      lines.length = 0;
      assert.deepEqual(await contents(await reopen(again), ['a', 'd']), new Map([['a', 'value of a'], ['d', 'value of d']]));
      assert.deepEqual(lines, []);
    });

    const tails: [string, Buffer, RegExp][] = [
      ['garbage', Buffer.from('garbage, not a record at all'), /CRC mismatch|torn record/],
      ['a torn header', Buffer.from([7, 0, 0]), /torn record header/],
      ['zeros followed by garbage', Buffer.concat([Buffer.alloc(64), Buffer.from([1, 2, 3])]), /empty record/],
    ];
    for (const [name, tail, note] of tails) {
      it(`truncates ${name} appended to the log`, async () => {
        const good = await threeValues();
        await appendFile(logPath(), tail);
        const s = await openStore();
        assert.deepEqual(await contents(s, ['a', 'b', 'c']), new Map([['a', 'value of a'], ['b', 'value of b'], ['c', 'value of c']]));
        assert.match(lines.join('\n'), note);
        assert.match(lines.join('\n'), new RegExp(`dropping ${tail.length} bytes`));
        assert.equal(await fileSize(), good);
      });
    }

    it('refuses to start when a record in the middle is damaged (good records follow: not a torn tail), naming the file and the byte', async () => {
      const s = await openStore();
      for (const k of ['a', 'b', 'c', 'd']) await s.put(k, `value of ${k}`);
      await s.close();
      const bytes = await readFile(logPath());
      const recordBytes = bytes.length / 4;
      bytes.writeUInt8(bytes.readUInt8(recordBytes + 12) ^ 0xff, recordBytes + 12); // a payload byte of the second record
      await writeFile(logPath(), bytes);
      await assert.rejects(EmbeddedStore.open(dir), (e: Error) => {
        assert.ok(e instanceof CacheLogCorruptError);
        assert.match(e.message, new RegExp(`${logPath().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is corrupt at byte ${recordBytes}: CRC mismatch`));
        return true;
      });
      assert.deepEqual(await readFile(logPath()), bytes, 'the file is left as it was');
    });

    it('removes the temp file of an interrupted compaction', async () => {
      await threeValues();
      await writeFile(join(dir, `${LOG_FILE}.tmp`), 'half a compaction');
      const s = await openStore();
      assert.equal(await s.get('c'), 'value of c');
      assert.deepEqual(lines, [`cache store ${dir}: removed ${LOG_FILE}.tmp, left by an interrupted compaction`]);
      await assert.rejects(stat(join(dir, `${LOG_FILE}.tmp`)), { code: 'ENOENT' });
    });
  });

  describe('compaction', () => {
    const options = { compactMinBytes: 4096, compactRatio: 4 };
    /** Puts keys a-e, then overwrites `a` with 200-byte values `n` times, one at a time; the acknowledged contents. */
    const churn = async (s: EmbeddedStore, n: number): Promise<Map<string, string>> => {
      const acked = new Map<string, string>();
      for (const k of ['a', 'b', 'c', 'd', 'e']) {
        await s.put(k, `${k}:`.padEnd(200, '.'));
        acked.set(k, `${k}:`.padEnd(200, '.'));
      }
      for (let i = 0; i < n; i++) {
        const v = `a${i}:`.padEnd(200, '.');
        await s.put('a', v);
        acked.set('a', v);
      }
      return acked;
    };

    it('rewrites the log as the live data once it is over the minimum and the ratio; the values survive a reopen', async () => {
      const s = await openStore(options);
      const acked = await churn(s, 200);
      const st = s.stats();
      const written = 205 * (8 + 3 + 1 + 200);
      assert.ok(st.compactions >= 2, `compactions: ${st.compactions}`);
      assert.equal(st.liveBytes, 5 * (8 + 3 + 1 + 200));
      assert.equal(await fileSize(), st.logBytes);
      assert.ok(st.logBytes <= options.compactMinBytes || st.logBytes <= options.compactRatio * st.liveBytes, `the log (${st.logBytes} bytes) outgrew both limits`);
      assert.ok(st.logBytes * 5 < written, `the log holds ${st.logBytes} of the ${written} bytes written`);
      assert.match(lines.join('\n'), /compacted the log from \d+ to 1060 bytes \(5 keys\)/);
      assert.deepEqual(await contents(await reopen(s, options), acked.keys()), acked);
    });

    it('does not compact below compactMinBytes, however stale the log', async () => {
      const s = await openStore({ compactMinBytes: 1024 * 1024 });
      await churn(s, 100);
      assert.equal(s.stats().compactions, 0);
      assert.equal(await fileSize(), 105 * 212);
    });

    it('a crash at any step of a compaction (or the append after it) loses no acknowledged value', async function () {
      this.timeout(60_000);
      /** Runs the churn on a lazy io, crashing it before call number `crashAt` (never when null); the calls made, and what was acknowledged. */
      const run = async (sub: string, crashAt: number | null): Promise<{ calls: string[]; acked: Map<string, string>; inFlight: string | null; crashed: boolean }> => {
        const lazy = new LazyFileIo();
        const calls: string[] = [];
        let crashed = false;
        const io = hookedIo(lazy, async (call) => {
          if (crashAt !== null && calls.length === crashAt && !crashed) {
            crashed = true;
            await lazy.crash();
          }
          calls.push(call);
        });
        const s = await openStore({ ...options, io }, join(dir, sub));
        const acked = new Map<string, string>();
        let inFlight: string | null = null;
        try {
          for (const [k, v] of await churn(s, 0)) acked.set(k, v);
          for (let i = 0; i < 30; i++) {
            inFlight = `a${i}:`.padEnd(200, '.');
            await s.put('a', inFlight);
            acked.set('a', inFlight);
            inFlight = null;
          }
        } catch (e) {
          assert.ok(crashed, `only the crash may fail a put: ${(e as Error).message}`);
        }
        return { calls, acked, inFlight, crashed };
      };

      const clean = await run('clean', null);
      const first = clean.calls.indexOf(`open ${LOG_FILE}.tmp`);
      const reopened = clean.calls.indexOf(`open ${LOG_FILE}`, first);
      assert.ok(first > 0 && reopened > first, `one compaction in ${clean.calls.join(', ')}`);
      const steps = clean.calls.slice(first, reopened + 3); // the compaction, and the append after it
      assert.deepEqual(steps.slice(0, 3), [`open ${LOG_FILE}.tmp`, `write ${LOG_FILE}.tmp`, `sync ${LOG_FILE}.tmp`]);
      assert.ok(steps.includes(`rename ${LOG_FILE}.tmp`) && steps.includes(`sync ${basename(join(dir, 'clean'))}`), steps.join(', '));

      for (let at = first; at < first + steps.length; at++) {
        const sub = `crash-${at}`;
        const { acked, inFlight, crashed } = await run(sub, at);
        assert.ok(crashed, `crash before call ${at} (${clean.calls[at]})`);
        const again = await openStore({}, join(dir, sub));
        const got = await contents(again, acked.keys());
        for (const [k, v] of acked) {
          const ok = got.get(k) === v || (k === 'a' && inFlight !== null && got.get(k) === inFlight);
          assert.ok(ok, `crash before ${clean.calls[at]} (call ${at}): key ${k} is ${got.get(k)?.slice(0, 8)}, acknowledged ${v.slice(0, 8)}`);
        }
        assert.equal(again.stats().keys, 5);
      }
    });
  });

  describe('bad arguments', () => {
    const cases: [string, (s: EmbeddedStore) => Promise<unknown>, ErrorConstructor, RegExp][] = [
      ['an empty key', (s) => s.put('', 'v'), RangeError, /^put: key must not be empty/],
      ['a key of 1,025 bytes', (s) => s.put('k'.repeat(1025), 'v'), RangeError, /^put: key must be at most 1024 UTF-8 bytes, got 1025/],
      ['a key of 513 two-byte characters', (s) => s.get('é'.repeat(513)), RangeError, /^get: key must be at most 1024 UTF-8 bytes, got 1026/],
      ['a key that is not a string', (s) => s.delete(7 as unknown as string), TypeError, /^delete: key must be a string, got number/],
      ['a key with a lone surrogate', (s) => s.put('\uD800', 'v'), RangeError, /^put: key must be well-formed UTF-16/],
      ['a value that is not a string', (s) => s.put('k', null as unknown as string), TypeError, /^put: value must be a string, got null/],
      ['a value over maxValueBytes', (s) => s.put('k', 'x'.repeat(65)), RangeError, /^put: value must be at most 64 UTF-8 bytes \(maxValueBytes\), got 65/],
      ['a value with a lone surrogate', (s) => s.put('k', 'ok \uDC00'), RangeError, /^put: value must be well-formed UTF-16/],
    ];
    for (const [what, call, type, message] of cases) {
      it(`rejects ${what}, naming the field, and stays usable`, async () => {
        const s = await openStore({ maxValueBytes: 64 });
        await assert.rejects(call(s), (e: Error) => e instanceof type && message.test(e.message));
        assert.equal(s.stats().errors, 1);
        await s.put('k', 'x'.repeat(64));
        assert.equal(await s.get('k'), 'x'.repeat(64));
      });
    }

    const badOptions: [EmbeddedStoreOptions, RegExp][] = [
      [{ maxValueBytes: 0 }, /^maxValueBytes must be an integer from 1/],
      [{ compactRatio: 1 }, /^compactRatio must be a number above 1, got 1/],
      [{ compactMinBytes: -1 }, /^compactMinBytes must be a non-negative integer, got -1/],
      [{ preallocateBytes: 1.5 }, /^preallocateBytes must be a non-negative integer, got 1.5/],
    ];
    for (const [options, message] of badOptions) {
      it(`open rejects ${JSON.stringify(options)}`, async () => {
        await assert.rejects(EmbeddedStore.open(dir, options), (e: Error) => e instanceof RangeError && message.test(e.message));
      });
    }
  });

  describe('I/O errors and close', () => {
    it('a failed fdatasync rejects the batch with the file path, and every later put and delete until reopened; gets go on', async () => {
      let fail = false;
      const io = hookedIo(realFileIo, (call) => {
        if (fail && call === `datasync ${LOG_FILE}`) throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
      });
      const s = await openStore({ io });
      await s.put('a', 'durable');
      fail = true;
      const batch = [s.put('b', '1'), s.put('c', '2')];
      for (const p of batch) await assert.rejects(p, (e: NodeJS.ErrnoException) => e.code === 'EIO' && e.message.includes(logPath()));
      fail = false; // the disk is fine again, but what it holds is unknown: the store stays stopped
      await assert.rejects(s.put('d', '3'), (e: NodeJS.ErrnoException) => e.code === 'ECACHESTOREFAILED' && /stopped after an I\/O error \(EIO.*restart to recover/.test(e.message));
      await assert.rejects(s.delete('a'), { code: 'ECACHESTOREFAILED' });
      assert.equal(await s.get('a'), 'durable');
      assert.equal(await s.get('b'), null);
      assert.equal(s.stats().errors, 4);
      assert.match(lines.join('\n'), /write failed, refusing further writes: EIO/);
      const again = await reopen(s);
      assert.equal(await again.get('a'), 'durable');
      await again.put('d', '3');
      assert.equal(await again.get('d'), '3');
    });

    it('close waits for the calls in flight; later calls reject', async () => {
      const s = await openStore();
      const pending = s.put('k', 'v');
      const closed = s.close();
      await assert.rejects(s.put('k', 'w'), /put after close/);
      await assert.rejects(s.get('k'), /get after close/);
      await pending;
      await closed;
      assert.equal(await (await openStore()).get('k'), 'v');
    });
  });

  describe('preallocation', () => {
    it('grows the file ahead of the appends with zeros, which a reopen reads as free space', async () => {
      const s = await openStore({ preallocateBytes: 4096 });
      for (let i = 0; i < 20; i++) await s.put(`k${i}`, `v${i}`);
      const st = s.stats();
      const file = await readFile(logPath());
      assert.ok(file.length > st.logBytes + 2048, `file ${file.length} bytes, records ${st.logBytes}`);
      assert.ok(file.subarray(st.logBytes).every((b) => b === 0), 'zeros after the records');
      const again = await reopen(s, { preallocateBytes: 4096 });
      assert.deepEqual(lines, [], 'the zeros are not a torn tail');
      for (let i = 0; i < 20; i++) assert.equal(await again.get(`k${i}`), `v${i}`);
      await again.put('k20', 'v20');
      assert.equal(await (await reopen(again)).get('k20'), 'v20');
    });
  });
});
