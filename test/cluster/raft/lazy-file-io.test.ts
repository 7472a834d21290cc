import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LazyFileIo, loseUnsyncedFromEnv } from '../../../cluster/raft/lazy-file-io.js';
import { RaftStorage, type LogEntry } from '../../../cluster/raft/storage.js';
import { withFailpoints } from '../../support/failpoints.js';

const bytes = (s: string): Buffer => Buffer.from(s, 'utf8');
const onDisk = async (path: string): Promise<string | null> => readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? null : Promise.reject(e)));

describe('LazyFileIo', () => {
  let dir: string;
  let io: LazyFileIo;
  const file = (name = 'f'): string => join(dir, name);

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lazy-io-'));
    io = new LazyFileIo();
  });
  afterEach(async () => {
    await io.crash();
    await rm(dir, { recursive: true, force: true });
  });

  /** Writes `text` at `position` through `io` and closes, syncing the file if `sync`. */
  const put = async (path: string, text: string, position: number, sync: boolean): Promise<void> => {
    const h = await io.open(path, 'create-read-write');
    await h.write(bytes(text), 0, text.length, position);
    if (sync) await h.datasync();
    await h.close();
  };
  const syncDir = async (): Promise<void> => (await io.open(dir, 'directory')).sync();

  describe('file contents', () => {
    it('unsynced bytes are gone after a crash, synced ones stay; the process saw both', async () => {
      await put(file(), 'abc', 0, true);
      await syncDir();
      await put(file(), 'def', 3, false);
      assert.equal((await io.readFile(file())).toString(), 'abcdef');
      assert.equal(await onDisk(file()), 'abc');
      await io.crash();
      assert.equal(await onDisk(file()), 'abc');
    });

    it('an fsync makes the bytes written before it durable, later ones not', async () => {
      await writeFile(file(), 'old contents');
      const h = await io.open(file(), 'read-write');
      await h.write(bytes('NEW'), 0, 3, 0);
      await h.sync();
      await h.write(bytes('xx'), 0, 2, 20);
      assert.equal(await onDisk(file()), 'NEW contents');
      await io.crash();
      assert.equal(await onDisk(file()), 'NEW contents');
    });

    it('an unsynced truncate is undone by a crash; a synced one stays, and later bytes past it read as zeros', async () => {
      await writeFile(file(), 'hello world');
      const h = await io.open(file(), 'read-write');
      await h.truncate(5);
      assert.equal(await onDisk(file()), 'hello world');
      await h.sync();
      assert.equal(await onDisk(file()), 'hello');
      await h.write(bytes('!'), 0, 1, 7);
      await h.sync();
      assert.deepEqual(await readFile(file()), Buffer.from('hello\0\0!', 'binary'));
      const back = Buffer.alloc(8);
      assert.equal((await h.read(back, 0, 100, 0)).bytesRead, 8);
    });

    it('opening with "write" empties the file only in memory until the fsync', async () => {
      await writeFile(file(), 'keep me');
      const h = await io.open(file(), 'write');
      assert.equal((await io.readFile(file())).length, 0);
      await h.close();
      await io.crash();
      assert.equal(await onDisk(file()), 'keep me');
    });
  });

  describe('names', () => {
    it('a file created and fsynced is gone after a crash unless its directory was fsynced', async () => {
      await put(file('a'), 'synced', 0, true);
      assert.deepEqual(await io.readdir(dir), ['a']);
      assert.deepEqual(await readdir(dir), []);
      await io.crash();
      assert.equal(await onDisk(file('a')), null);

      io = new LazyFileIo();
      await put(file('b'), 'synced', 0, true);
      await syncDir();
      await io.crash();
      assert.equal(await onDisk(file('b')), 'synced');
    });

    it('a rename over a file is undone by a crash before the directory fsync, kept after it', async () => {
      await writeFile(file('target'), 'old');
      await put(file('tmp'), 'new', 0, true);
      await io.rename(file('tmp'), file('target'));
      assert.equal((await io.readFile(file('target'))).toString(), 'new');
      assert.deepEqual(await io.readdir(dir), ['target']);
      await io.crash();
      assert.equal(await onDisk(file('target')), 'old');
      assert.deepEqual(await readdir(dir), ['target']);

      io = new LazyFileIo();
      await put(file('tmp'), 'new', 0, true);
      await io.rename(file('tmp'), file('target'));
      await syncDir();
      await io.crash();
      assert.equal(await onDisk(file('target')), 'new');
      assert.deepEqual(await readdir(dir), ['target']);
    });

    it('a renamed file never fsynced is empty after the directory fsync (the zero-length file of a missing fsync)', async () => {
      await writeFile(file('target'), 'old');
      await io.writeFile(file('tmp'), bytes('new'));
      await io.rename(file('tmp'), file('target'));
      await syncDir();
      await io.crash();
      assert.equal(await onDisk(file('target')), '');
    });

    it('an unlink waits for the directory fsync; a missing file is ENOENT', async () => {
      await writeFile(file('x'), 'x');
      await io.unlink(file('x'));
      await assert.rejects(io.readFile(file('x')), { code: 'ENOENT' });
      await assert.rejects(io.open(file('x'), 'read-write'), { code: 'ENOENT' });
      assert.deepEqual(await io.readdir(dir), []);
      assert.equal(await onDisk(file('x')), 'x');
      await syncDir();
      assert.equal(await onDisk(file('x')), null);
    });
  });

  it('flush makes everything durable; a crashed io refuses every call', async () => {
    await put(file('a'), 'one', 0, false);
    await writeFile(file('b'), 'two');
    await io.rename(file('b'), file('c'));
    await io.flush();
    await io.crash();
    assert.deepEqual(await readdir(dir), ['a', 'c']);
    assert.equal(await onDisk(file('a')), 'one');
    await assert.rejects(io.readFile(file('a')), /crashed/);
  });

  it('loseUnsyncedFromEnv: 1/true on, unset/0/empty off, anything else refused', () => {
    assert.equal(loseUnsyncedFromEnv({ DSYNC_LOSE_UNSYNCED: '1' }), true);
    assert.equal(loseUnsyncedFromEnv({ DSYNC_LOSE_UNSYNCED: 'true' }), true);
    assert.equal(loseUnsyncedFromEnv({}), false);
    assert.equal(loseUnsyncedFromEnv({ DSYNC_LOSE_UNSYNCED: '0' }), false);
    assert.throws(() => loseUnsyncedFromEnv({ DSYNC_LOSE_UNSYNCED: 'yes' }), /DSYNC_LOSE_UNSYNCED/);
  });

  describe('under RaftStorage', () => {
    const entries = (from: number, to: number, term: number): LogEntry[] => Array.from({ length: to - from + 1 }, (_, i) => ({ index: from + i, term, data: { i: from + i } }));
    /** Opens the storage on a fresh LazyFileIo. */
    const lazyStorage = async (): Promise<RaftStorage> => {
      io = new LazyFileIo();
      return (await RaftStorage.open(join(dir, 'data'), { io, preallocateBytes: 4096 })).storage;
    };
    /** What a restart finds after a power cut. */
    const afterCrash = async (): Promise<Awaited<ReturnType<typeof RaftStorage.open>>['recovered']> => {
      await io.crash();
      const { storage, recovered } = await RaftStorage.open(join(dir, 'data'));
      await storage.close();
      return recovered;
    };

    it('everything the storage acknowledged survives a crash: entries, truncations, hard state, snapshots', async () => {
      await io.crash();
      const s = await lazyStorage();
      await s.append(entries(1, 30, 1));
      await s.saveHardState({ term: 2, vote: 'n2' });
      await s.truncateFrom(25);
      await s.append(entries(25, 40, 2));
      await s.saveSnapshot({ index: 10, term: 1 }, { upTo: 10 });
      await s.append(entries(41, 45, 2));
      const recovered = await afterCrash();
      assert.deepEqual(recovered.hard, { term: 2, vote: 'n2' });
      assert.deepEqual(recovered.snapshot, { meta: { index: 10, term: 1 }, data: { upTo: 10 } });
      assert.deepEqual(recovered.entries, [...entries(11, 24, 1), ...entries(25, 45, 2)]);
      assert.deepEqual(recovered.repaired, []);
    });

    it('failpoint raft.skip-hard-state-sync: a crash loses the term and vote (off: they survive)', async () => {
      for (const [names, expected] of [
        [['raft.skip-hard-state-sync'], { term: 3, vote: 'n1' }],
        [[], { term: 4, vote: 'n5' }],
      ] as const) {
        await io.crash();
        await rm(join(dir, 'data'), { recursive: true, force: true });
        const s = await lazyStorage();
        await s.saveHardState({ term: 3, vote: 'n1' });
        await withFailpoints(names, () => s.saveHardState({ term: 4, vote: 'n5' }));
        assert.deepEqual((await afterCrash()).hard, expected, `failpoints [${names.join()}]`);
      }
    });
  });
});
