/**
 * The durable storage of a Raft node: hard state (term, vote), the log, and the latest snapshot,
 * in one data dir.
 *
 * Every promise resolves only once what it wrote is on disk (fsync), so whatever a caller was
 * told is durable survives `kill -9` or a power cut at any moment, and a crash in the middle of
 * a write leaves a dir that {@link RaftStorage.open} repairs (see `storage-recovery.ts`). The log
 * is an append-only file of CRC-framed records; each `append` is one write and one fdatasync,
 * however many entries it carries, so the caller gets group commit by batching. The hard state
 * and the snapshot are whole files replaced atomically.
 *
 * Calls may be issued without awaiting the previous one (the Raft driver pipelines): they run one
 * at a time in call order. After an I/O error the storage refuses every further call — after a
 * failed write or fsync, what is on disk is unknown (the page cache may even have dropped the
 * dirty pages), so the only safe way on is to restart and let recovery read the disk afresh.
 */
import { join, resolve } from 'node:path';
import { realFileIo, type FileIo, type IoFile } from './file-io.js';
import { encodeRecords, onFile, readAt, TEMP_SUFFIX, timedSync, withPath, writeAll, writeFileAtomic, type SyncStats } from './record-file.js';
import {
  checkEntry,
  checkHardState,
  checkSnapshotMeta,
  encodeEntry,
  encodeHardState,
  encodeSnapshot,
  HARD_STATE_FILE,
  LOG_FILE,
  SNAPSHOT_FILE,
} from './storage-format.js';
import { recover } from './storage-recovery.js';
import { FP } from '../failpoints.js';
import type { HardState, LogEntry, Snapshot, SnapshotMeta } from './types.js';

export type { HardState, LogEntry, Snapshot, SnapshotMeta };

/** Everything recovered from the data dir at start-up. */
export interface RecoveredState {
  /** `{term: 0, vote: null}` on a fresh dir. */
  readonly hard: HardState;
  readonly snapshot: Snapshot | null;
  /** Contiguous, all with index > `snapshot.meta.index`; the first is that index + 1. */
  readonly entries: LogEntry[];
  /** Human-readable notes of what recovery fixed, e.g. a torn record it truncated. */
  readonly repaired: string[];
}

/** Options of {@link RaftStorage.open}. */
export interface StorageOptions {
  /**
   * Extend the log file this many bytes (of zeros) at a time ahead of the appends, so that an
   * append's fdatasync need not also commit a new file size (on ext4 that halves the p99 of an
   * fdatasync). Recovery reads a zero-filled tail as free space. 0 = grow with each append.
   * @default 0
   */
  readonly preallocateBytes?: number;
  /**
   * The file-system calls to make: `lazy-file-io.ts` is a test aid that loses unsynced writes at
   * a crash. @default realFileIo (`node:fs`)
   */
  readonly io?: FileIo;
}

/** The counters of a storage. */
export interface StorageStats extends SyncStats {
  /** Bytes written to the log by `append` (headers included). */
  bytesAppended: number;
}

const noop = (): void => undefined;

/** The durable storage of one Raft node in one data dir. Open it with {@link RaftStorage.open}. */
export class RaftStorage {
  /** The data dir, as an absolute path. */
  readonly dir: string;
  /** fsyncs (of files and of the dir, by every method), their latest durations, bytes appended. */
  readonly stats: StorageStats;
  readonly #logPath: string;
  #log: IoFile;
  readonly #fs: FileIo;
  /** Where the next record goes: the end of the last good record. */
  #size: number;
  /** The file's real size: bytes in [#size, #allocated) are zeros (preallocated space). */
  #allocated = 0;
  #preallocate = 0;
  /** `#offsets[i]` is the byte offset of the entry with index `#snapIndex + 1 + i`. */
  #offsets: number[];
  #snapIndex: number;
  #tail: Promise<void> = Promise.resolve();
  #failed: Error | null = null;
  #closing: Promise<void> | null = null;

  private constructor(dir: string, stats: StorageStats, fs: FileIo, log: IoFile, size: number, offsets: number[], snapIndex: number) {
    this.dir = dir;
    this.#fs = fs;
    this.stats = stats;
    this.#logPath = join(dir, LOG_FILE);
    this.#log = log;
    this.#size = size;
    this.#offsets = offsets;
    this.#snapIndex = snapIndex;
  }

  /** Opens the data dir `dir` (created if needed), recovers what it holds and repairs what a crash left. */
  static async open(dir: string, options: StorageOptions = {}): Promise<{ storage: RaftStorage; recovered: RecoveredState }> {
    const preallocate = options.preallocateBytes ?? 0;
    if (!Number.isSafeInteger(preallocate) || preallocate < 0) throw new RangeError(`preallocateBytes must be a non-negative integer, got ${preallocate}`);
    const abs = resolve(dir);
    const stats: StorageStats = { fsyncs: 0, fsyncMicros: [], bytesAppended: 0 };
    const fs = options.io ?? realFileIo;
    const { recovered, log } = await recover(abs, stats, fs);
    const storage = new RaftStorage(abs, stats, fs, log.handle, log.size, log.offsets, recovered.snapshot?.meta.index ?? 0);
    storage.#allocated = log.allocated;
    storage.#preallocate = preallocate;
    return { storage, recovered };
  }

  /** The index of the last entry after the calls completed so far, counting the snapshot's (0 when there is neither). */
  get lastIndex(): number {
    return this.#snapIndex + this.#offsets.length;
  }

  /** Replaces the hard state; durable when the promise resolves. */
  saveHardState(hard: HardState): Promise<void> {
    try {
      checkHardState(hard);
    } catch (e) {
      return Promise.reject(e);
    }
    const payload = encodeRecords([encodeHardState(hard)]).bytes;
    const path = join(this.dir, HARD_STATE_FILE);
    if (FP['raft.skip-hard-state-sync']) {
      // FAILPOINT raft.skip-hard-state-sync: replaced (temp file and rename), but nothing fsynced.
      return this.#run('saveHardState', () => this.#io(async () => {
        await this.#fs.writeFile(path + TEMP_SUFFIX, payload);
        await this.#fs.rename(path + TEMP_SUFFIX, path);
      }));
    }
    return this.#run('saveHardState', () => this.#io(() => writeFileAtomic(path, payload, this.stats, this.#fs)));
  }

  /**
   * Appends entries, which must be contiguous and start right after the last index (call
   * {@link truncateFrom} first to replace entries); durable when the promise resolves. One write
   * and one fdatasync per call, however many entries (none for an empty batch). The entries are
   * serialized at call time, so the caller may reuse their objects at once.
   */
  append(entries: readonly LogEntry[]): Promise<void> {
    let frames: { bytes: Buffer; offsets: number[] };
    try {
      entries.forEach((e, i) => {
        checkEntry(e, 'append');
        const prev = entries[i - 1];
        if (prev !== undefined && e.index !== prev.index + 1) throw new RangeError(`append: entry ${e.index} follows entry ${prev.index} in the same batch`);
      });
      frames = encodeRecords(entries.map(encodeEntry));
    } catch (e) {
      return Promise.reject(e);
    }
    const first = entries[0]?.index;
    return this.#run('append', async () => {
      if (first === undefined) return;
      if (first !== this.lastIndex + 1) {
        throw new RangeError(`append: entry ${first} does not follow the last index ${this.lastIndex} (truncateFrom(${first}) first to replace entries)`);
      }
      const at = this.#size;
      const end = at + frames.bytes.length;
      // Past the preallocated space: extend the file with zeros now, so that the fdatasyncs of
      // the next appends overwrite blocks in place and need not commit a new file size.
      const zerosFrom = Math.max(end, this.#allocated);
      const zerosTo = end > this.#allocated && this.#preallocate > 0 ? end + this.#preallocate : zerosFrom;
      await this.#io(async () => {
        await writeAll(this.#log, frames.bytes, at);
        if (zerosTo > zerosFrom) await writeAll(this.#log, Buffer.alloc(zerosTo - zerosFrom), zerosFrom);
        await timedSync(this.#log, this.stats, false);
      }, this.#logPath);
      this.#allocated = Math.max(this.#allocated, end, zerosTo);
      for (const o of frames.offsets) this.#offsets.push(at + o);
      this.#size = at + frames.bytes.length;
      this.stats.bytesAppended += frames.bytes.length;
    });
  }

  /**
   * Drops the entries with index >= `index` (durably). The file is cut in place (ftruncate +
   * fsync), so it never holds an entry out of order; entries at or below the snapshot are not in
   * the log any more and stay covered by the snapshot.
   */
  truncateFrom(index: number): Promise<void> {
    if (!Number.isSafeInteger(index)) return Promise.reject(new TypeError(`truncateFrom: index must be an integer, got ${String(index)}`));
    return this.#run('truncateFrom', async () => {
      const keep = Math.max(0, index - this.#snapIndex - 1);
      if (keep >= this.#offsets.length) return;
      const cut = this.#offsets[keep] as number;
      await this.#io(async () => {
        await this.#log.truncate(cut);
        await timedSync(this.#log, this.stats, true);
      }, this.#logPath);
      this.#offsets.length = keep;
      this.#size = cut;
      this.#allocated = cut;
    });
  }

  /**
   * Replaces the snapshot (durably), then compacts the log: entries with index <= `meta.index`
   * are dropped, later ones kept. The snapshot is on disk before the log is rewritten, so a crash
   * in between leaves entries recovery ignores (and drops), never a gap.
   */
  saveSnapshot(meta: SnapshotMeta, data: unknown): Promise<void> {
    let payload: Buffer;
    try {
      checkSnapshotMeta(meta);
      payload = encodeRecords([encodeSnapshot(meta, data)]).bytes;
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#run('saveSnapshot', async () => {
      if (meta.index < this.#snapIndex) throw new RangeError(`saveSnapshot: index ${meta.index} is older than the snapshot already saved (${this.#snapIndex})`);
      await this.#io(() => writeFileAtomic(join(this.dir, SNAPSHOT_FILE), payload, this.stats, this.#fs));
      const drop = Math.min(meta.index - this.#snapIndex, this.#offsets.length);
      const from = this.#offsets[drop] ?? this.#size;
      if (from > 0) await this.#io(() => this.#rewriteLog(from), this.#logPath);
      this.#offsets = this.#offsets.slice(drop).map((o) => o - from);
      this.#size -= from;
      if (from > 0) this.#allocated = this.#size;
      this.#snapIndex = meta.index;
    });
  }

  /** Waits for the calls already made, then closes the log file; later calls reject. */
  close(): Promise<void> {
    this.#closing ??= this.#tail.then(() => this.#log.close());
    return this.#closing;
  }

  /** Atomically replaces the log with its bytes from `from` on, and reopens it. */
  async #rewriteLog(from: number): Promise<void> {
    const rest = await readAt(this.#log, from, this.#size - from);
    await writeFileAtomic(this.#logPath, rest, this.stats, this.#fs);
    await this.#log.close();
    this.#log = await this.#fs.open(this.#logPath, 'read-write');
  }

  /** Runs `fn` after every call made before it, unless the storage is closed or has failed. */
  #run<T>(what: string, fn: () => Promise<T>): Promise<T> {
    if (this.#closing !== null) return Promise.reject(new Error(`raft storage ${this.dir}: ${what} after close`));
    const p = this.#tail.then(() => {
      if (this.#failed !== null) {
        const err = new Error(`raft storage ${this.dir} stopped after an I/O error (${this.#failed.message}); restart to recover`, { cause: this.#failed });
        return Promise.reject(Object.assign(err, { code: 'ERAFTSTORAGEFAILED' }));
      }
      return fn();
    });
    this.#tail = p.then(noop, noop);
    return p;
  }

  /** Runs an I/O step; if it fails, the storage refuses all further calls. */
  async #io<T>(fn: () => Promise<T>, path?: string): Promise<T> {
    try {
      return path === undefined ? await fn() : await onFile(path, fn);
    } catch (e) {
      this.#failed = withPath(e, path ?? this.dir);
      throw this.#failed;
    }
  }
}
