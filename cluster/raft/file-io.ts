/**
 * The file-system calls the Raft storage makes, as a seam: {@link realFileIo} is `node:fs`
 * itself, and a test aid can stand in for it (`lazy-file-io.ts` keeps unsynced writes in memory,
 * so that `kill -9` loses what a power cut would).
 *
 * The surface is exactly what `storage.ts`, `record-file.ts` and `storage-recovery.ts` use: open
 * a file (or a directory, to fsync it), positional reads and writes, truncate, (data)sync, and
 * the name operations of whole-file replacement. Errors are node's own (`ENOENT` and the like).
 */
import { mkdir, open, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { constants } from 'node:fs';

/** How {@link FileIo.open} opens a path. */
export type OpenMode =
  /** O_RDWR: an existing file, read and written in place. */
  | 'read-write'
  /** O_RDWR | O_CREAT: as `read-write`, created empty if missing. */
  | 'create-read-write'
  /** O_WRONLY | O_CREAT | O_TRUNC: created, or emptied if it exists. */
  | 'write'
  /** O_RDONLY on a directory: only to `sync()` it, which makes the names created, renamed or removed in it durable. */
  | 'directory';

/** An open file: the subset of node's `FileHandle` the storage uses (a `FileHandle` is one). */
export interface IoFile {
  write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesWritten: number }>;
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  truncate(length: number): Promise<void>;
  /** fsync: the data and the metadata (size) are durable when it resolves. */
  sync(): Promise<void>;
  /** fdatasync: the data, and the size if it changed, are durable when it resolves. */
  datasync(): Promise<void>;
  close(): Promise<void>;
}

/** The file-system calls of the Raft storage. */
export interface FileIo {
  /** True when unsynced writes are lost at a crash on purpose (the `DSYNC_LOSE_UNSYNCED` test aid). */
  readonly loseUnsynced: boolean;
  open(path: string, mode: OpenMode): Promise<IoFile>;
  /** The whole file; rejects with `ENOENT` when there is none. */
  readFile(path: string): Promise<Buffer>;
  /** Creates or replaces the contents of `path` (no sync). */
  writeFile(path: string, data: Uint8Array): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  readdir(dir: string): Promise<string[]>;
  /** `mkdir -p`: resolves with the first directory it created, or undefined when `dir` existed. */
  mkdirp(dir: string): Promise<string | undefined>;
}

const FLAGS: Record<OpenMode, number> = {
  'read-write': constants.O_RDWR,
  'create-read-write': constants.O_RDWR | constants.O_CREAT,
  write: constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC,
  directory: constants.O_RDONLY,
};

/** `node:fs` itself: what a node runs on. */
export const realFileIo: FileIo = {
  loseUnsynced: false,
  open: (path, mode) => open(path, FLAGS[mode], 0o644),
  readFile: (path) => readFile(path),
  writeFile: (path, data) => writeFile(path, data),
  rename: (from, to) => rename(from, to),
  unlink: (path) => unlink(path),
  readdir: (dir) => readdir(dir),
  mkdirp: (dir) => mkdir(dir, { recursive: true }),
};
