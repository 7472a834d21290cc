import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFile, copyFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, crc32Table, encodeRecords, scanRecords } from '../../../cluster/raft/record-file.js';
import { RaftStorage, type LogEntry } from '../../../cluster/raft/storage.js';
import { encodeEntry, StorageFormatError } from '../../../cluster/raft/storage-format.js';
import { withFailpoints } from '../../support/failpoints.js';

const entry = (index: number, term = 1): LogEntry => ({ index, term, data: { op: 'set', key: `k${index % 7}`, value: index } });
const range = (from: number, to: number, term = 1): LogEntry[] => Array.from({ length: to - from + 1 }, (_, i) => entry(from + i, term));
const indexes = (entries: readonly LogEntry[]): number[] => entries.map((e) => e.index);

describe('RaftStorage', () => {
  let dir: string;
  const opened: RaftStorage[] = [];
  const openDir = async (d = dir): Promise<Awaited<ReturnType<typeof RaftStorage.open>>> => {
    const r = await RaftStorage.open(d);
    opened.push(r.storage);
    return r;
  };
  const reopen = async (s: RaftStorage): Promise<Awaited<ReturnType<typeof RaftStorage.open>>> => {
    await s.close();
    return openDir(s.dir);
  };
  const logFile = (): string => join(dir, 'raft.log');
  const size = async (file: string): Promise<number> => (await stat(file)).size;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'raft-storage-'));
  });
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  describe('open and reopen', () => {
    it('a fresh dir (created with its parents) gives term 0, no vote, no snapshot, no entries', async () => {
      const { storage, recovered } = await openDir(join(dir, 'a', 'b'));
      assert.deepEqual(recovered, { hard: { term: 0, vote: null }, snapshot: null, entries: [], repaired: [] });
      assert.equal(storage.lastIndex, 0);
    });

    it('append, saveHardState, close, reopen: the same entries and hard state', async () => {
      const { storage } = await openDir();
      const entries: LogEntry[] = [{ index: 1, term: 1, data: null }, ...range(2, 20), { index: 21, term: 2, data: { nested: [1, 'two', { three: true }] } }];
      await storage.append(entries.slice(0, 5));
      await storage.append(entries.slice(5));
      await storage.saveHardState({ term: 2, vote: 'n3' });
      const { recovered } = await reopen(storage);
      assert.deepEqual(recovered.entries, entries);
      assert.deepEqual(recovered.hard, { term: 2, vote: 'n3' });
      assert.deepEqual(recovered.repaired, []);
    });

    it('keeps only the latest hard state', async () => {
      const { storage } = await openDir();
      await storage.saveHardState({ term: 1, vote: 'n1' });
      await storage.saveHardState({ term: 3, vote: null });
      assert.deepEqual((await reopen(storage)).recovered.hard, { term: 3, vote: null });
    });
  });

  describe('failpoint raft.skip-hard-state-sync', () => {
    it('on: the hard state is written (a reopen reads it) without a single fsync; off: the file and the folder are fsynced', async () => {
      const save = async (sub: string): Promise<{ syncs: number; hard: unknown }> => {
        const { storage } = await openDir(join(dir, sub));
        const before = storage.stats.fsyncs;
        await storage.saveHardState({ term: 4, vote: 'n2' });
        const syncs = storage.stats.fsyncs - before;
        return { syncs, hard: (await reopen(storage)).recovered.hard };
      };
      assert.deepEqual(await withFailpoints(['raft.skip-hard-state-sync'], () => save('on')), { syncs: 0, hard: { term: 4, vote: 'n2' } });
      assert.deepEqual(await save('off'), { syncs: 2, hard: { term: 4, vote: 'n2' } });
    });
  });

  describe('recovery from damage', () => {
    it('truncates a torn last record, notes it, and keeps the earlier entries', async () => {
      const { storage } = await openDir();
      await storage.append(range(1, 5));
      await storage.close();
      const good = await size(logFile());
      const frame = encodeRecords([encodeEntry(entry(6))]).bytes;
      await appendFile(logFile(), frame.subarray(0, frame.length - 3));

      const { storage: again, recovered } = await openDir();
      assert.deepEqual(indexes(recovered.entries), [1, 2, 3, 4, 5]);
      assert.equal(recovered.repaired.length, 1);
      assert.match(recovered.repaired[0] as string, new RegExp(`raft\\.log: torn record at byte ${good} .*truncated`));
      assert.equal(await size(logFile()), good);

      await again.append([entry(6)]);
      const { recovered: last } = await reopen(again);
      assert.deepEqual(indexes(last.entries), [1, 2, 3, 4, 5, 6]);
      assert.deepEqual(last.repaired, []);
    });

    const tails: [string, Buffer, RegExp][] = [
      ['a torn header', Buffer.from([7, 0, 0]), /torn record header/],
      ['zeros followed by garbage', Buffer.concat([Buffer.alloc(100), Buffer.from([1, 2, 3])]), /empty record/],
      ['a length past the end of the file', Buffer.from([0xff, 0xff, 0xff, 0x7f, 1, 2, 3, 4, 5]), /torn record/],
    ];
    it('keeps a zero-filled tail as free space (preallocated), reporting nothing', async () => {
      const { storage } = await openDir();
      await storage.append(range(1, 3));
      await storage.close();
      const good = await size(logFile());
      await appendFile(logFile(), Buffer.alloc(4096));
      const { storage: again, recovered } = await openDir();
      assert.deepEqual(indexes(recovered.entries), [1, 2, 3]);
      assert.deepEqual(recovered.repaired, []);
      assert.equal(await size(logFile()), good + 4096);
      await again.append(range(4, 5));
      const { recovered: last } = await reopen(again);
      assert.deepEqual(indexes(last.entries), [1, 2, 3, 4, 5], 'appends continue where the records end, inside the free space');
      assert.deepEqual(last.repaired, []);
    });
    for (const [name, tail, note] of tails) {
      it(`truncates ${name}`, async () => {
        const { storage } = await openDir();
        await storage.append(range(1, 3));
        await storage.close();
        const good = await size(logFile());
        await appendFile(logFile(), tail);
        const { recovered } = await openDir();
        assert.deepEqual(indexes(recovered.entries), [1, 2, 3]);
        assert.match(recovered.repaired.join('\n'), note);
        assert.equal(await size(logFile()), good);
      });
    }

    it('truncates the last record when its payload has a flipped byte (CRC mismatch, nothing after it: a torn tail)', async () => {
      const { storage } = await openDir();
      await storage.append(range(1, 5));
      await storage.close();
      const bytes = await readFile(logFile());
      const last = scanRecords(bytes).records[4]?.offset as number;
      bytes[last + 8 + 4] = (bytes[last + 8 + 4] as number) ^ 0x01;
      await writeFile(logFile(), bytes);

      const { recovered } = await openDir();
      assert.deepEqual(indexes(recovered.entries), [1, 2, 3, 4]);
      assert.match(recovered.repaired.join('\n'), new RegExp(`CRC mismatch in the record at byte ${last}`));
      assert.equal(await size(logFile()), last);
    });

    it('truncates a record cut short by 3 bytes at the end of the log (a torn tail)', async () => {
      const { storage } = await openDir();
      await storage.append(range(1, 5));
      await storage.close();
      const bytes = await readFile(logFile());
      const last = scanRecords(bytes).records[4]?.offset as number;
      await writeFile(logFile(), bytes.subarray(0, bytes.length - 3));
      const { recovered } = await openDir();
      assert.deepEqual(indexes(recovered.entries), [1, 2, 3, 4]);
      assert.match(recovered.repaired.join('\n'), /torn record/);
      assert.equal(await size(logFile()), last);
    });

    const damage: [string, (bytes: Buffer, at: number) => void][] = [
      ['a flipped bit in its payload', (bytes, at) => void (bytes[at + 8 + 4] = (bytes[at + 8 + 4] as number) ^ 0x01)],
      ['a flipped bit in its CRC', (bytes, at) => void (bytes[at + 5] = (bytes[at + 5] as number) ^ 0x10)],
      ['a flipped bit in its length', (bytes, at) => void (bytes[at] = (bytes[at] as number) ^ 0x04)],
      ['its header zeroed', (bytes, at) => void bytes.fill(0, at, at + 8)],
    ];
    for (const [what, spoil] of damage) {
      it(`refuses to start, naming the file and the byte, when record 10 of 34 has ${what} (good records follow: not a torn tail), and leaves the file as it was`, async () => {
        const { storage } = await openDir();
        await storage.append(range(1, 34));
        await storage.close();
        const bytes = await readFile(logFile());
        const tenth = scanRecords(bytes).records[9]?.offset as number;
        spoil(bytes, tenth);
        await writeFile(logFile(), bytes);
        await assert.rejects(openDir(), (e: unknown) => {
          assert.ok(e instanceof StorageFormatError, String(e));
          assert.match(e.message, new RegExp(`${logFile().replace(/[.]/g, '\\.')} is corrupt at byte ${tenth}: .*not a torn tail.*refusing to start.*Rebuild this node from its peers`));
          assert.doesNotMatch(e.message, /\n/, 'one line');
          return true;
        });
        assert.deepEqual(await readFile(logFile()), bytes, 'nothing was cut');
      });
    }

    it('refuses to start on a record that passes its CRC but does not follow its predecessor', async () => {
      const { storage } = await openDir();
      await storage.append(range(1, 3));
      await storage.close();
      await appendFile(logFile(), encodeRecords([encodeEntry(entry(7))]).bytes);
      await assert.rejects(openDir(), /raft\.log is corrupt at byte \d+: entry 7 does not follow entry 3/);
    });

    it('finishes a compaction interrupted after the snapshot was written', async () => {
      const { storage } = await openDir();
      await storage.append(range(1, 10));
      await storage.close();
      await copyFile(logFile(), join(dir, 'old.log'));
      const { storage: s2 } = await openDir();
      await s2.saveSnapshot({ index: 4, term: 1 }, { upTo: 4 });
      await s2.close();
      await copyFile(join(dir, 'old.log'), logFile()); // as if the crash came before the log rewrite

      const { storage: s3, recovered } = await openDir();
      assert.deepEqual(recovered.snapshot, { meta: { index: 4, term: 1 }, data: { upTo: 4 } });
      assert.deepEqual(indexes(recovered.entries), [5, 6, 7, 8, 9, 10]);
      assert.match(recovered.repaired.join('\n'), /dropped 4 entries at or below the snapshot index 4/);
      assert.deepEqual(indexes((await reopen(s3)).recovered.entries), [5, 6, 7, 8, 9, 10]);
    });

    it('removes the temp file of an interrupted atomic write', async () => {
      const { storage } = await openDir();
      await storage.saveHardState({ term: 5, vote: 'n2' });
      await storage.close();
      await writeFile(join(dir, 'hard-state.dat.tmp'), 'half a write');
      const { recovered } = await openDir();
      assert.deepEqual(recovered.hard, { term: 5, vote: 'n2' });
      assert.match(recovered.repaired.join('\n'), /removed hard-state\.dat\.tmp/);
    });

    it('refuses a damaged hard-state file rather than forget a vote', async () => {
      const { storage } = await openDir();
      await storage.saveHardState({ term: 5, vote: 'n2' });
      await storage.close();
      const bytes = await readFile(join(dir, 'hard-state.dat'));
      bytes[bytes.length - 2] = 0x30;
      await writeFile(join(dir, 'hard-state.dat'), bytes);
      await assert.rejects(RaftStorage.open(dir), (e: Error) => e instanceof StorageFormatError && e.message.includes(join(dir, 'hard-state.dat')));
    });
  });

  describe('truncation and snapshots', () => {
    it('truncateFrom, then append, then reopen', async () => {
      const { storage } = await openDir();
      await storage.append(range(1, 10));
      await storage.truncateFrom(6);
      assert.equal(storage.lastIndex, 5);
      await storage.append(range(6, 8, 2));
      const { recovered } = await reopen(storage);
      assert.deepEqual(recovered.entries, [...range(1, 5), ...range(6, 8, 2)]);
    });

    it('truncateFrom beyond the last index is a no-op, and below the first empties the log', async () => {
      const { storage } = await openDir();
      await storage.append(range(1, 3));
      await storage.truncateFrom(10);
      assert.equal(storage.lastIndex, 3);
      await storage.truncateFrom(1);
      assert.equal(await size(logFile()), 0);
      await storage.append([entry(1, 4)]);
      assert.deepEqual((await reopen(storage)).recovered.entries, [entry(1, 4)]);
    });

    it('saveSnapshot compacts: entries <= index gone, later ones kept, the file smaller; reopen agrees', async () => {
      const { storage } = await openDir();
      await storage.append(range(1, 100));
      const before = await size(logFile());
      await storage.saveSnapshot({ index: 60, term: 1 }, { keys: { a: 1 } });
      const after = await size(logFile());
      assert.ok(after < before * 0.5, `log ${before} -> ${after} bytes`);
      await storage.append([entry(101)]);

      const { storage: again, recovered } = await reopen(storage);
      assert.deepEqual(recovered.snapshot, { meta: { index: 60, term: 1 }, data: { keys: { a: 1 } } });
      assert.deepEqual(recovered.entries, range(61, 101));
      assert.deepEqual(recovered.repaired, []);
      await again.truncateFrom(90);
      assert.deepEqual(indexes((await reopen(again)).recovered.entries), range(61, 89).map((e) => e.index));
    });

    it('a snapshot past the end of the log (installed from a leader) empties it; appends go on after it', async () => {
      const { storage } = await openDir();
      await storage.append(range(1, 10));
      await storage.saveSnapshot({ index: 200, term: 3 }, 'state');
      assert.equal(storage.lastIndex, 200);
      await assert.rejects(storage.append([entry(11)]), RangeError);
      await storage.append([entry(201, 3)]);
      const { recovered } = await reopen(storage);
      assert.deepEqual(recovered.snapshot?.meta, { index: 200, term: 3 });
      assert.deepEqual(recovered.entries, [entry(201, 3)]);
    });

    it('rejects a snapshot older than the saved one', async () => {
      const { storage } = await openDir();
      await storage.append(range(1, 10));
      await storage.saveSnapshot({ index: 8, term: 1 }, null);
      await assert.rejects(storage.saveSnapshot({ index: 5, term: 1 }, null), RangeError);
      await storage.append([entry(11)]);
    });
  });

  describe('pipelining and group commit', () => {
    it('many un-awaited appends land in call order', async () => {
      const { storage } = await openDir();
      const calls: Promise<void>[] = [];
      for (let i = 1; i <= 300; i++) {
        calls.push(storage.append([entry(i)]));
        if (i % 50 === 0) calls.push(storage.saveHardState({ term: i, vote: null }));
      }
      await Promise.all(calls);
      const { recovered } = await reopen(storage);
      assert.deepEqual(recovered.entries, range(1, 300));
      assert.deepEqual(recovered.hard, { term: 300, vote: null });
    });

    it('an append issued after truncateFrom sees the truncation', async () => {
      const { storage } = await openDir();
      const calls = [storage.append(range(1, 10)), storage.truncateFrom(4), storage.append(range(4, 6, 2)), storage.saveSnapshot({ index: 2, term: 1 }, 's')];
      await Promise.all(calls);
      const { recovered } = await reopen(storage);
      assert.deepEqual(recovered.entries, [entry(3), ...range(4, 6, 2)]);
    });

    it('does one fsync per append call, however many entries', async () => {
      const { storage } = await openDir();
      const start = storage.stats.fsyncs;
      await storage.append([entry(1)]);
      assert.equal(storage.stats.fsyncs, start + 1);
      await storage.append(range(2, 101));
      assert.equal(storage.stats.fsyncs, start + 2);
      await Promise.all([storage.append(range(102, 110)), storage.append(range(111, 120))]);
      assert.equal(storage.stats.fsyncs, start + 4);
      assert.equal(storage.stats.bytesAppended, await size(logFile()));
      assert.equal(storage.stats.fsyncMicros.length, storage.stats.fsyncs);
      assert.ok(storage.stats.fsyncMicros.every((us) => Number.isInteger(us) && us >= 0));
    });

    it('keeps at most 1000 fsync durations', async () => {
      const { storage } = await openDir();
      for (let i = 1; i <= 1005; i++) await storage.append([entry(i)]);
      assert.equal(storage.stats.fsyncMicros.length, 1000);
      assert.ok(storage.stats.fsyncs >= 1005);
    });
  });

  describe('bad calls and I/O errors', () => {
    it('rejects entries that do not follow the log, and stays usable', async () => {
      const { storage } = await openDir();
      await storage.append(range(1, 3));
      await assert.rejects(storage.append([entry(5)]), /entry 5 does not follow the last index 3/);
      await assert.rejects(storage.append([entry(3)]), RangeError);
      await assert.rejects(storage.append([entry(4), entry(6)]), /entry 6 follows entry 4 in the same batch/);
      await assert.rejects(storage.append([{ index: 0, term: 1, data: null }]), TypeError);
      await assert.rejects(storage.saveHardState({ term: -1, vote: null }), TypeError);
      await storage.append([entry(4)]);
      assert.deepEqual(indexes((await reopen(storage)).recovered.entries), [1, 2, 3, 4]);
    });

    it('open rejects with the path when the dir is a file', async () => {
      const file = join(dir, 'not-a-dir');
      await writeFile(file, 'x');
      await assert.rejects(RaftStorage.open(file), (e: NodeJS.ErrnoException) => e.message.includes(file) && typeof e.code === 'string');
    });

    it('an I/O error rejects with the file path, and every later call fails until reopened', async () => {
      const { storage } = await openDir(join(dir, 'data'));
      await storage.append(range(1, 2));
      await rm(join(dir, 'data'), { recursive: true });
      await assert.rejects(storage.saveHardState({ term: 1, vote: 'n1' }), (e: NodeJS.ErrnoException) => {
        assert.equal(e.code, 'ENOENT');
        assert.ok(e.message.includes(join(dir, 'data', 'hard-state.dat')), e.message);
        return true;
      });
      await assert.rejects(storage.append([entry(3)]), (e: NodeJS.ErrnoException) => e.code === 'ERAFTSTORAGEFAILED');
    });

    it('calls after close reject', async () => {
      const { storage } = await openDir();
      const pending = storage.append([entry(1)]);
      const closed = storage.close();
      await assert.rejects(storage.append([entry(2)]), /after close/);
      await pending;
      await closed;
    });
  });

  describe('kill -9', function () {
    this.timeout(60_000);
    const storageUrl = new URL('../../../cluster/raft/storage.js', import.meta.url).href;
    const lazyUrl = new URL('../../../cluster/raft/lazy-file-io.js', import.meta.url).href;
    // Appends in pipelined batches, snapshots now and then, and prints what each call acked.
    // With argv[2] = 'lazy' it runs on a LazyFileIo, so the kill loses what a power cut would.
    const child = `
      import { RaftStorage } from ${JSON.stringify(storageUrl)};
      import { LazyFileIo } from ${JSON.stringify(lazyUrl)};
      const io = process.argv[2] === 'lazy' ? new LazyFileIo() : undefined;
      const { storage, recovered } = await RaftStorage.open(process.argv[1], { io });
      let next = storage.lastIndex + 1, term = recovered.hard.term;
      const say = (line) => process.stdout.write(line + '\\n');
      for (;;) {
        const calls = [];
        for (let k = 0; k < 4; k++) {
          const n = 1 + (next % 5), batch = [];
          for (let i = 0; i < n; i++) batch.push({ index: next + i, term: 1, data: { v: next + i } });
          next += n;
          const last = next - 1;
          calls.push(storage.append(batch).then(() => say('a ' + last)));
        }
        if (next % 9 === 0) { const t = ++term; calls.push(storage.saveHardState({ term: t, vote: 'n1' }).then(() => say('h ' + t))); }
        if (next % 7 === 0) { const s = next - 1; calls.push(storage.saveSnapshot({ index: s, term: 1 }, { upTo: s }).then(() => say('s ' + s))); }
        await Promise.all(calls);
      }`;

    const runAndKill = (acksBeforeKill: number, io: 'real' | 'lazy'): Promise<{ a: number; h: number; s: number }> =>
      new Promise((resolve, reject) => {
        const p = spawn(process.execPath, ['--input-type=module', '-e', child, dir, io], { stdio: ['ignore', 'pipe', 'pipe'] });
        const acked = { a: 0, h: 0, s: 0 };
        let seen = 0;
        let buffered = '';
        let stderr = '';
        p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        p.stdout.on('data', (d: Buffer) => {
          buffered += d.toString();
          const lines = buffered.split('\n');
          buffered = lines.pop() ?? '';
          // Only lines read before the kill count: what the child printed was durable when printed.
          for (const line of lines) {
            if (p.killed) break;
            const [kind, n] = line.split(' ') as ['a' | 'h' | 's', string];
            acked[kind] = Math.max(acked[kind], Number(n));
            if (++seen >= acksBeforeKill) p.kill('SIGKILL');
          }
        });
        p.on('error', reject);
        p.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve(acked) : reject(new Error(`child exited ${code}: ${stderr}`))));
      });

    for (const io of ['real', 'lazy'] as const) {
      it(`loses nothing acknowledged and recovers a consistent state, crash after crash (${io} file io)`, async () => {
        for (const acks of [50, 333, 120, 700]) {
          const acked = await runAndKill(acks, io);
          const { storage, recovered } = await openDir();
          const snap = recovered.snapshot?.meta.index ?? 0;
          assert.ok(recovered.hard.term >= acked.h, `hard term ${recovered.hard.term} < acked ${acked.h}`);
          assert.ok(snap >= acked.s, `snapshot ${snap} < acked ${acked.s}`);
          assert.deepEqual(recovered.snapshot?.data, recovered.snapshot === null ? undefined : { upTo: snap });
          assert.ok(storage.lastIndex >= acked.a, `last index ${storage.lastIndex} < acked ${acked.a}`);
          recovered.entries.forEach((e, i) => assert.deepEqual(e, { index: snap + 1 + i, term: 1, data: { v: snap + 1 + i } }));
          await storage.close();
        }
      });
    }
  });
});

describe('record file', () => {
  it('crc32 is the IEEE CRC-32, natively and by table', () => {
    assert.equal(crc32(Buffer.from('123456789')), 0xcbf43926);
    for (const s of ['', 'a', 'raft', JSON.stringify(range(1, 50))]) assert.equal(crc32Table(Buffer.from(s)), crc32(Buffer.from(s)));
  });

  it('scans back the records it encodes, with their offsets', () => {
    const payloads = ['one', 'two', 'three'].map((s) => Buffer.from(s));
    const { bytes, offsets } = encodeRecords(payloads);
    const scan = scanRecords(bytes);
    assert.equal(scan.problem, null);
    assert.equal(scan.end, bytes.length);
    assert.deepEqual(scan.records.map((r) => [r.offset, r.payload.toString()]), [[offsets[0], 'one'], [offsets[1], 'two'], [offsets[2], 'three']]);
  });
});

describe('RaftStorage with preallocation', () => {
  const PRE = 64 * 1024;
  let dir: string;
  const opened: RaftStorage[] = [];
  const openDir = async (): Promise<Awaited<ReturnType<typeof RaftStorage.open>>> => {
    const r = await RaftStorage.open(dir, { preallocateBytes: PRE });
    opened.push(r.storage);
    return r;
  };
  const logFile = (): string => join(dir, 'raft.log');
  const size = async (): Promise<number> => (await stat(logFile())).size;
  /** Bytes of the records for `entries`, as `append` frames them. */
  const framed = (entries: LogEntry[]): number => encodeRecords(entries.map(encodeEntry)).bytes.length;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'raft-prealloc-'));
  });
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  });

  it('grows the file ahead of the appends, and recovers every entry from it', async () => {
    const { storage } = await openDir();
    await storage.append(range(1, 3));
    const first = framed(range(1, 3));
    assert.equal(await size(), first + PRE);
    await storage.append(range(4, 10));
    assert.equal(await size(), first + PRE, 'appends inside the free space leave the size alone');
    await storage.close();
    const { storage: again, recovered } = await openDir();
    assert.deepEqual(indexes(recovered.entries), range(1, 10).map((e) => e.index));
    assert.deepEqual(recovered.repaired, []);
    await again.append(range(11, 12));
    await again.close();
    const { recovered: last } = await openDir();
    assert.deepEqual(indexes(last.entries).slice(-3), [10, 11, 12]);
  });

  it('refuses a damaged record inside the free space with whole records beyond it (never cuts what may be committed)', async () => {
    const { storage } = await openDir();
    await storage.append(range(1, 5));
    await storage.close();
    const end = framed(range(1, 5));
    // Record 6 damaged, 7 and 8 whole: it could be a torn batch of a power cut, or damage to
    // committed entries; recovery cannot tell, so it cuts nothing and refuses to start.
    const { bytes, offsets } = encodeRecords(range(6, 8).map(encodeEntry));
    const tornByte = (offsets[1] as number) - 1;
    bytes[tornByte] = (bytes[tornByte] as number) ^ 0xff;
    const { open } = await import('node:fs/promises');
    const fh = await open(logFile(), 'r+');
    await fh.write(bytes, 0, bytes.length, end);
    await fh.close();
    await assert.rejects(openDir(), new RegExp(`is corrupt at byte ${end}: CRC mismatch`));
  });

  it('keeps truncateFrom and compaction exact', async () => {
    const { storage } = await openDir();
    await storage.append(range(1, 8));
    await storage.truncateFrom(6);
    await storage.append(range(6, 7, 2));
    await storage.saveSnapshot({ index: 3, term: 1 }, { state: 'x' });
    await storage.append(range(8, 9, 2));
    await storage.close();
    const { recovered } = await openDir();
    assert.equal(recovered.snapshot?.meta.index, 3);
    assert.deepEqual(recovered.entries.map((e) => [e.index, e.term]), [[4, 1], [5, 1], [6, 2], [7, 2], [8, 2], [9, 2]]);
    assert.deepEqual(recovered.repaired, []);
  });
});
