/**
 * A {@link FileIo} that loses unsynced writes at a crash — Jepsen's LazyFS, in userland. A TEST
 * AID: a node runs on it only when `DSYNC_LOSE_UNSYNCED=1`.
 *
 * `kill -9` of a process on a real file system loses nothing: the kernel's page cache outlives
 * the process. A power cut loses whatever was not fsynced. This file makes the first behave like
 * the second, so that a test which kills nodes also finds a missing fsync:
 * - bytes written to a file stay in this process's memory (per file) until that file is fsynced
 *   (or fdatasynced); only then do they reach the real file (which is then really fsynced);
 * - a name created, renamed or removed stays in memory until its directory is fsynced; only then
 *   is the operation done on the real directory (in call order). A file created and fsynced whose
 *   directory was not fsynced is gone after a crash; one renamed over another leaves the old one;
 * - reads, `readdir` and `readFile` see the process's own view (its writes and names, synced or
 *   not), as they would through the page cache.
 * So the real disk always holds exactly what a power cut would leave, and `kill -9` (the memory
 * is gone) or {@link LazyFileIo.crash} (in a test) turns the process's view into that.
 *
 * Simplifications: a crash loses *all* unsynced writes to a file, never some of them (no torn
 * writes); `mkdirp` is not held back (the storage fsyncs the parents of the dirs it creates
 * anyway); a rename across directories is refused. A clean stop may call {@link flush}, as an
 * OS writes back its cache before it powers off.
 */
import { open, readdir, readFile, rename, unlink, type FileHandle } from 'node:fs/promises';
import { constants } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { realFileIo, type FileIo, type IoFile, type OpenMode } from './file-io.js';

/** The environment variable that makes a node run on a {@link LazyFileIo}. */
export const LOSE_UNSYNCED_ENV = 'DSYNC_LOSE_UNSYNCED';

/**
 * Is `$DSYNC_LOSE_UNSYNCED` on? `1`/`true` on; unset, empty, `0`/`false` off.
 * @throws RangeError on any other value
 */
export function loseUnsyncedFromEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = (env[LOSE_UNSYNCED_ENV] ?? '').trim().toLowerCase();
  if (v === '1' || v === 'true') return true;
  if (v === '' || v === '0' || v === 'false') return false;
  throw new RangeError(`${LOSE_UNSYNCED_ENV} must be 1 or 0, got "${env[LOSE_UNSYNCED_ENV]}"`);
}

function fsError(code: string, syscall: string, path: string): NodeJS.ErrnoException {
  const text: Record<string, string> = { ENOENT: 'no such file or directory', EBADF: 'bad file descriptor', EISDIR: 'illegal operation on a directory', EXDEV: 'cross-device link not permitted' };
  return Object.assign(new Error(`${code}: ${text[code] ?? code}, ${syscall} '${path}'`), { code, syscall, path });
}

/** One file's contents as the process sees them, and where its synced bytes are. */
class Inode {
  /** The contents: bytes [0, size); every byte from `size` to the capacity is zero. */
  buf: Buffer;
  size: number;
  /** The first byte that may differ from the synced contents (Infinity: none). */
  dirtyFrom = Infinity;
  /** The durable name whose real file holds the synced contents, or null (not named on disk yet, or replaced). */
  realPath: string | null;
  /** The size of the real file (when `realPath` is set). */
  diskSize: number;
  /** The synced contents while `realPath` is null (null: nothing synced, i.e. empty). */
  unboundSynced: Buffer | null = null;
  /** The real file, open while needed for syncs. */
  real: FileHandle | null = null;

  constructor(contents: Buffer, realPath: string | null) {
    this.buf = Buffer.alloc(Math.max(4096, contents.length));
    contents.copy(this.buf);
    this.size = contents.length;
    this.realPath = realPath;
    this.diskSize = contents.length;
    if (realPath === null) this.dirtyFrom = 0;
  }

  reserve(n: number): void {
    if (n <= this.buf.length) return;
    const grown = Buffer.alloc(Math.max(n, this.buf.length * 2));
    this.buf.copy(grown, 0, 0, this.size);
    this.buf = grown;
  }

  write(data: Uint8Array, position: number): void {
    this.reserve(position + data.length);
    this.buf.set(data, position);
    this.size = Math.max(this.size, position + data.length);
    this.dirtyFrom = Math.min(this.dirtyFrom, position);
  }

  truncate(length: number): void {
    if (length < this.size) this.buf.fill(0, length, this.size);
    else this.reserve(length);
    this.dirtyFrom = Math.min(this.dirtyFrom, length, this.size);
    this.size = length;
  }

  contents(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.size));
  }
}

/** A name operation waiting for its directory's fsync. */
type DirOp =
  | { readonly kind: 'create'; readonly path: string; readonly inode: Inode }
  | { readonly kind: 'rename'; readonly from: string; readonly to: string; readonly inode: Inode }
  | { readonly kind: 'unlink'; readonly path: string };

/** A {@link FileIo} that keeps unsynced writes and names in memory (see the file's doc). */
export class LazyFileIo implements FileIo {
  readonly loseUnsynced = true;
  /** The process's view of the names it touched: an inode, or null when removed. Others are as on disk. */
  readonly #names = new Map<string, Inode | null>();
  /** The inode whose synced bytes each real file holds. */
  readonly #bound = new Map<string, Inode>();
  /** Per directory, the name operations since its last fsync, in call order. */
  readonly #pending = new Map<string, DirOp[]>();
  #crashed = false;
  /** Serializes every call, so that a sync writing to the real disk never interleaves with another call. */
  #tail: Promise<unknown> = Promise.resolve();

  open(path: string, mode: OpenMode): Promise<IoFile> {
    return this.#serial(async () => {
      const p = resolve(path);
      if (mode === 'directory') {
        await (await open(p, constants.O_RDONLY)).close();
        return this.#dirHandle(p);
      }
      let inode = await this.#lookup(p, 'open');
      if (inode === null) {
        if (mode === 'read-write') throw fsError('ENOENT', 'open', p);
        inode = new Inode(Buffer.alloc(0), null);
        this.#names.set(p, inode);
        this.#ops(dirname(p)).push({ kind: 'create', path: p, inode });
      } else if (mode === 'write') {
        inode.truncate(0);
      }
      return this.#fileHandle(inode, p);
    });
  }

  readFile(path: string): Promise<Buffer> {
    return this.#serial(async () => {
      const p = resolve(path);
      const inode = await this.#lookup(p, 'open');
      if (inode === null) throw fsError('ENOENT', 'open', p);
      return inode.contents();
    });
  }

  async writeFile(path: string, data: Uint8Array): Promise<void> {
    const h = await this.open(path, 'write');
    try {
      await h.write(data, 0, data.length, 0);
    } finally {
      await h.close();
    }
  }

  rename(from: string, to: string): Promise<void> {
    return this.#serial(async () => {
      const [f, t] = [resolve(from), resolve(to)];
      if (dirname(f) !== dirname(t)) throw fsError('EXDEV', 'rename', f);
      const inode = await this.#lookup(f, 'rename');
      if (inode === null) throw fsError('ENOENT', 'rename', f);
      this.#names.set(f, null);
      this.#names.set(t, inode);
      this.#ops(dirname(f)).push({ kind: 'rename', from: f, to: t, inode });
    });
  }

  unlink(path: string): Promise<void> {
    return this.#serial(async () => {
      const p = resolve(path);
      if ((await this.#lookup(p, 'unlink')) === null) throw fsError('ENOENT', 'unlink', p);
      this.#names.set(p, null);
      this.#ops(dirname(p)).push({ kind: 'unlink', path: p });
    });
  }

  readdir(dir: string): Promise<string[]> {
    return this.#serial(async () => {
      const d = resolve(dir);
      const names = new Set(await readdir(d));
      for (const [path, inode] of this.#names) {
        if (dirname(path) !== d) continue;
        if (inode === null) names.delete(basename(path));
        else names.add(basename(path));
      }
      return [...names].sort();
    });
  }

  mkdirp(dir: string): Promise<string | undefined> {
    return this.#serial(() => realFileIo.mkdirp(dir));
  }

  /**
   * A simulated power cut: everything not synced is dropped, the real disk is left as it is, and
   * every later call (on this object or a file it opened) rejects. Open a new storage on the same
   * dir to see what survived.
   */
  async crash(): Promise<void> {
    await this.#tail.catch(() => undefined);
    this.#crashed = true;
    for (const inode of this.#bound.values()) await inode.real?.close().catch(() => undefined);
    this.#names.clear();
    this.#bound.clear();
    this.#pending.clear();
  }

  /** Syncs every file and directory, as an OS writes back its cache before a clean power-off. */
  flush(): Promise<void> {
    return this.#serial(async () => {
      const inodes = new Set<Inode>();
      for (const inode of this.#names.values()) if (inode !== null) inodes.add(inode);
      for (const ops of this.#pending.values()) for (const op of ops) if (op.kind !== 'unlink') inodes.add(op.inode);
      for (const inode of inodes) await this.#syncFile(inode);
      for (const dir of [...this.#pending.keys()]) await this.#syncDir(dir);
    });
  }

  /** Closes the real files kept open for syncs (call {@link flush} first to keep what is unsynced). */
  close(): Promise<void> {
    return this.#serial(async () => {
      for (const inode of this.#bound.values()) {
        await inode.real?.close();
        inode.real = null;
      }
    });
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.#tail.then(() => {
      if (this.#crashed) throw new Error('LazyFileIo: crashed (a simulated power cut); open the dir again');
      return fn();
    });
    this.#tail = p.catch(() => undefined);
    return p;
  }

  #ops(dir: string): DirOp[] {
    let ops = this.#pending.get(dir);
    if (ops === undefined) this.#pending.set(dir, (ops = []));
    return ops;
  }

  /** The inode at `p` in the process's view (loaded from the real file on first use), or null. */
  async #lookup(p: string, syscall: string): Promise<Inode | null> {
    const known = this.#names.get(p);
    if (known !== undefined) return known;
    let contents: Buffer;
    try {
      contents = await readFile(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      if ((e as NodeJS.ErrnoException).code === 'EISDIR') throw fsError('EISDIR', syscall, p);
      throw e;
    }
    const inode = new Inode(contents, p);
    this.#names.set(p, inode);
    this.#bound.set(p, inode);
    return inode;
  }

  /** Makes the inode's bytes durable: into its real file, or kept aside until its name is. */
  async #syncFile(inode: Inode): Promise<void> {
    if (inode.realPath === null) {
      inode.unboundSynced = inode.contents();
      inode.dirtyFrom = Infinity;
      return;
    }
    inode.real ??= await open(inode.realPath, constants.O_RDWR);
    const from = Math.min(inode.dirtyFrom, inode.size);
    for (let done = from; done < inode.size; ) done += (await inode.real.write(inode.buf, done, inode.size - done, done)).bytesWritten;
    if (inode.diskSize !== inode.size) await inode.real.truncate(inode.size);
    await inode.real.datasync();
    inode.diskSize = inode.size;
    inode.dirtyFrom = Infinity;
  }

  /** Does the directory's pending name operations on the real directory, in order, and fsyncs it. */
  async #syncDir(dir: string): Promise<void> {
    const ops = this.#pending.get(dir) ?? [];
    this.#pending.delete(dir);
    for (const op of ops) {
      switch (op.kind) {
        case 'create': {
          await this.#unbind(op.path);
          const h = await open(op.path, 'w', 0o644);
          try {
            const data = op.inode.unboundSynced ?? Buffer.alloc(0);
            await h.write(data, 0, data.length, 0);
          } finally {
            await h.close();
          }
          this.#bind(op.inode, op.path, op.inode.unboundSynced?.length ?? 0);
          break;
        }
        case 'rename':
          if (op.from === op.to) break;
          await rename(op.from, op.to);
          if (this.#bound.get(op.from) === op.inode) this.#bound.delete(op.from);
          await this.#unbind(op.to);
          this.#bind(op.inode, op.to, op.inode.diskSize);
          break;
        case 'unlink':
          await unlink(op.path);
          await this.#unbind(op.path);
          break;
        default: {
          const never: never = op;
          throw new Error(`unknown dir op ${JSON.stringify(never)}`);
        }
      }
    }
    const h = await open(dir, constants.O_RDONLY);
    try {
      await h.sync();
    } finally {
      await h.close();
    }
  }

  #bind(inode: Inode, path: string, diskSize: number): void {
    inode.realPath = path;
    inode.diskSize = diskSize;
    inode.unboundSynced = null;
    this.#bound.set(path, inode);
  }

  /** The real file at `path` is gone or replaced: its inode's synced bytes have nowhere to go. */
  async #unbind(path: string): Promise<void> {
    const old = this.#bound.get(path);
    if (old === undefined) return;
    this.#bound.delete(path);
    if (old.realPath === path) old.realPath = null;
    await old.real?.close();
    old.real = null;
  }

  #fileHandle(inode: Inode, path: string): IoFile {
    let closed = false;
    const live = <T>(syscall: string, fn: () => Promise<T>): Promise<T> =>
      this.#serial(async () => {
        if (closed) throw fsError('EBADF', syscall, path);
        return fn();
      });
    return {
      write: (buffer, offset, length, position) =>
        live('write', async () => {
          inode.write(buffer.subarray(offset, offset + length), position);
          return { bytesWritten: length };
        }),
      read: (buffer, offset, length, position) =>
        live('read', async () => {
          const n = Math.max(0, Math.min(length, inode.size - position));
          if (n > 0) buffer.set(inode.buf.subarray(position, position + n), offset);
          return { bytesRead: n };
        }),
      truncate: (length) => live('ftruncate', async () => inode.truncate(length)),
      sync: () => live('fsync', () => this.#syncFile(inode)),
      datasync: () => live('fdatasync', () => this.#syncFile(inode)),
      close: () =>
        live('close', async () => {
          closed = true;
        }),
    };
  }

  #dirHandle(dir: string): IoFile {
    const refuse = (syscall: string): Promise<never> => Promise.reject(fsError('EISDIR', syscall, dir));
    return {
      write: () => refuse('write'),
      read: () => refuse('read'),
      truncate: () => refuse('ftruncate'),
      sync: () => this.#serial(() => this.#syncDir(dir)),
      datasync: () => this.#serial(() => this.#syncDir(dir)),
      close: async () => undefined,
    };
  }
}
