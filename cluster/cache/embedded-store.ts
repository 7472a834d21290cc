/**
 * The embedded backing store: the cache's main memory in the node's own durable file, an
 * append-only log of puts and deletes (format and recovery in `store-log.ts`) replayed into a
 * map when the store opens. It reuses the Raft storage's byte layer (`record-file.ts`) and its
 * {@link FileIo} seam, so tests can run it on `lazy-file-io.ts` and lose what a power cut would.
 *
 * - Reads answer from the map, which holds only what is durable: a put or a delete changes it
 *   once its record is fdatasync'd, just before its promise resolves. A get issued while a put of
 *   the same key is in flight sees the old value; nothing a get returned can be lost in a crash.
 * - Group commit: calls queue up, and one write and one fdatasync carry every call that arrived
 *   while the previous batch was being written (and the calls of the same tick as the first).
 *   Calls reach the file, and the map, in call order.
 * - Compaction: when the log outgrows the live data (`compactRatio` times it, and at least
 *   `compactMinBytes`), a snapshot of the map (one put per key) replaces it atomically (temp
 *   file, fsync, rename, fsync the dir), between two batches. A crash at any point leaves the old
 *   log or the new one, both holding every acknowledged value, plus at most a stale temp file.
 * - After a failed write or fsync, puts and deletes reject (code `ECACHESTOREFAILED`): what is on
 *   disk is unknown, and only a restart (recovery reading the file afresh) is safe. Gets go on
 *   answering from the map, which holds what was acknowledged.
 *
 * One store per dir, and the store takes no lock of its own: the cache service keeps it under
 * the node's data dir (`<dataDir>/cache`), which the node's data-dir lock already covers.
 */
import { join, resolve } from 'node:path';
import { realFileIo, type FileIo, type IoFile } from '../raft/file-io.js';
import { encodeRecords, HEADER_BYTES, onFile, timedSync, withPath, writeAll, writeFileAtomic, type SyncStats } from '../raft/record-file.js';
import { checkKey, checkMaxValueBytes, checkValue, type BackingStore, type BackingStoreStats } from './backing-store.js';
import { encodeChange, LOG_FILE, putRecordBytes, recoverLog } from './store-log.js';

/** Options of {@link EmbeddedStore.open}. */
export interface EmbeddedStoreOptions {
  /** The file-system calls to make (`lazy-file-io.ts` loses unsynced writes at a crash). @default realFileIo */
  readonly io?: FileIo;
  /** The longest value, in UTF-8 bytes. @default 1048576 (1 MiB) */
  readonly maxValueBytes?: number;
  /** Compact when the log is more than this many times the size of the live data. @default 4 */
  readonly compactRatio?: number;
  /** ...and larger than this many bytes. @default 1048576 (1 MiB) */
  readonly compactMinBytes?: number;
  /** Extend the log this many bytes of zeros at a time ahead of the appends, as the Raft storage does. @default 0 */
  readonly preallocateBytes?: number;
  /** Receives a line for each repair recovery made, each compaction, and the I/O error that stops the store. */
  readonly log?: (line: string) => void;
}

/** The counters of an {@link EmbeddedStore}. */
export interface EmbeddedStoreStats extends BackingStoreStats {
  /** Keys with a durable value. */
  readonly keys: number;
  /** The length of the log's records, in bytes. */
  readonly logBytes: number;
  /** What the live data would take as a compacted log, in bytes. */
  readonly liveBytes: number;
  /** Group commits done: one write and one fdatasync each. */
  readonly batches: number;
  /** Compactions done. */
  readonly compactions: number;
}

/** At most this many bytes of records go into one batch (a flood of large puts is split). */
const MAX_BATCH_BYTES = 8 * 1024 * 1024;

/** A put (`value` a string) or a delete (`value` null) waiting for its batch. */
interface Change {
  readonly key: string;
  readonly value: string | null;
  readonly payload: Buffer;
  /** What the key's record takes in a compacted log when this is a put; 0 for a delete. */
  readonly liveBytes: number;
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
}

type Resolved = Required<Omit<EmbeddedStoreOptions, 'log'>> & Pick<EmbeddedStoreOptions, 'log'>;

/** Fills in the defaults of `o`, rejecting bad values with a RangeError naming the field. */
function resolveOptions(o: EmbeddedStoreOptions): Resolved {
  const nonNegative = (name: string, v: number): number => {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${name} must be a non-negative integer, got ${String(v)}`);
    return v;
  };
  const compactRatio = o.compactRatio ?? 4;
  if (!Number.isFinite(compactRatio) || compactRatio <= 1) throw new RangeError(`compactRatio must be a number above 1, got ${String(o.compactRatio)}`);
  return {
    io: o.io ?? realFileIo,
    maxValueBytes: checkMaxValueBytes(o.maxValueBytes),
    compactRatio,
    compactMinBytes: nonNegative('compactMinBytes', o.compactMinBytes ?? 1024 * 1024),
    preallocateBytes: nonNegative('preallocateBytes', o.preallocateBytes ?? 0),
    log: o.log,
  };
}

/** The cache's main memory in a log file of the node's own. Open it with {@link EmbeddedStore.open}. */
export class EmbeddedStore implements BackingStore {
  readonly kind = 'embedded' as const;
  /** The store's dir, as an absolute path. */
  readonly dir: string;
  readonly #o: Resolved;
  readonly #path: string;
  readonly #map: Map<string, string>;
  readonly #sync: SyncStats;
  #log: IoFile;
  /** Where the next record goes: the end of the last one. */
  #size: number;
  /** The file's real size: bytes in [#size, #allocated) are zeros (preallocated). */
  #allocated: number;
  #liveBytes: number;
  readonly #counts = { gets: 0, puts: 0, deletes: 0, errors: 0, batches: 0, compactions: 0 };
  readonly #queue: Change[] = [];
  /** The loop writing the queue, while it runs. */
  #flushing: Promise<void> | null = null;
  #failed: Error | null = null;
  #closing: Promise<void> | null = null;

  private constructor(dir: string, o: Resolved, sync: SyncStats, r: Awaited<ReturnType<typeof recoverLog>>) {
    this.dir = dir;
    this.#o = o;
    this.#path = join(dir, LOG_FILE);
    this.#sync = sync;
    this.#map = r.map;
    this.#log = r.handle;
    this.#size = r.size;
    this.#allocated = r.allocated;
    this.#liveBytes = r.liveBytes;
  }

  /**
   * Opens the store in `dir` (created with its parents if needed), recovering its contents and
   * repairing what a crash left (each repair is passed to `options.log`).
   * @throws RangeError on a bad option; CacheLogCorruptError when the log is damaged before its end
   */
  static async open(dir: string, options: EmbeddedStoreOptions = {}): Promise<EmbeddedStore> {
    const o = resolveOptions(options);
    const abs = resolve(dir);
    const sync: SyncStats = { fsyncs: 0, fsyncMicros: [] };
    const recovered = await recoverLog(abs, sync, o.io);
    for (const line of recovered.repaired) o.log?.(`cache store ${abs}: ${line}`);
    return new EmbeddedStore(abs, o, sync, recovered);
  }

  get(key: string): Promise<string | null> {
    try {
      checkKey('get', key);
      if (this.#closing !== null) throw new Error(`cache store ${this.dir}: get after close`);
    } catch (e) {
      this.#counts.errors++;
      return Promise.reject(e);
    }
    this.#counts.gets++;
    return Promise.resolve(this.#map.get(key) ?? null);
  }

  put(key: string, value: string): Promise<void> {
    let payload: Buffer;
    let live: number;
    try {
      const keyBytes = checkKey('put', key);
      const valueBytes = checkValue('put', value, this.#o.maxValueBytes);
      payload = encodeChange(key, keyBytes, value, valueBytes);
      live = putRecordBytes(keyBytes, valueBytes);
    } catch (e) {
      this.#counts.errors++;
      return Promise.reject(e);
    }
    return this.#submit('put', key, value, payload, live);
  }

  delete(key: string): Promise<void> {
    let payload: Buffer;
    try {
      payload = encodeChange(key, checkKey('delete', key), null, 0);
    } catch (e) {
      this.#counts.errors++;
      return Promise.reject(e);
    }
    return this.#submit('delete', key, null, payload, 0);
  }

  stats(): EmbeddedStoreStats {
    const c = this.#counts;
    return {
      gets: c.gets,
      puts: c.puts,
      deletes: c.deletes,
      fsyncs: this.#sync.fsyncs,
      errors: c.errors,
      keys: this.#map.size,
      logBytes: this.#size,
      liveBytes: this.#liveBytes,
      batches: c.batches,
      compactions: c.compactions,
    };
  }

  /** Waits for the puts and deletes already made, then closes the log file; later calls reject. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      while (this.#flushing !== null) await this.#flushing;
      await this.#log.close();
    })();
    return this.#closing;
  }

  /** Queues a change for the next batch, starting the write loop if it is idle. */
  #submit(op: 'put' | 'delete', key: string, value: string | null, payload: Buffer, liveBytes: number): Promise<void> {
    const refused = this.#refusal(op);
    if (refused !== null) {
      this.#counts.errors++;
      return Promise.reject(refused);
    }
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ key, value, payload, liveBytes, resolve, reject });
      this.#flushing ??= this.#flush();
    });
  }

  /** Why a put or delete must be refused now, or null. */
  #refusal(op: string): Error | null {
    if (this.#closing !== null) return new Error(`cache store ${this.dir}: ${op} after close`);
    return this.#failed === null ? null : this.#stopped(this.#failed);
  }

  /** The error of a put or delete refused after the I/O error `cause`. */
  #stopped(cause: Error): Error {
    const err = new Error(`cache store ${this.dir} stopped after an I/O error (${cause.message}); what is on disk is unknown, restart to recover`, { cause });
    return Object.assign(err, { code: 'ECACHESTOREFAILED' });
  }

  /** Writes batches until the queue is empty; never rejects (each change's promise gets the outcome). */
  async #flush(): Promise<void> {
    try {
      await Promise.resolve(); // the calls made in the same tick as the first join its batch
      while (this.#queue.length > 0) {
        const batch = this.#takeBatch();
        if (this.#failed !== null) {
          this.#settle(batch, this.#stopped(this.#failed));
          continue;
        }
        try {
          await this.#append(batch);
        } catch (e) {
          this.#settle(batch, e as Error);
          continue;
        }
        this.#settle(batch, null);
        if (this.#size > this.#o.compactMinBytes && this.#size > this.#o.compactRatio * this.#liveBytes) {
          await this.#compact().catch(() => undefined); // #failed is set: the queued changes are refused
        }
      }
    } finally {
      this.#flushing = null;
    }
  }

  /** The oldest queued changes, up to {@link MAX_BATCH_BYTES} of records (at least one). */
  #takeBatch(): Change[] {
    let bytes = 0;
    let n = 0;
    while (n < this.#queue.length && (n === 0 || bytes < MAX_BATCH_BYTES)) bytes += HEADER_BYTES + (this.#queue[n++] as Change).payload.length;
    return this.#queue.splice(0, n);
  }

  /** Applies a durable batch to the map and resolves its promises, or rejects them all with `err`. */
  #settle(batch: readonly Change[], err: Error | null): void {
    for (const c of batch) {
      if (err !== null) {
        this.#counts.errors++;
        c.reject(err);
        continue;
      }
      const old = this.#map.get(c.key);
      if (old !== undefined) this.#liveBytes -= putRecordBytes(Buffer.byteLength(c.key), Buffer.byteLength(old));
      if (c.value === null) {
        this.#map.delete(c.key);
        this.#counts.deletes++;
      } else {
        this.#map.set(c.key, c.value);
        this.#liveBytes += c.liveBytes;
        this.#counts.puts++;
      }
      c.resolve();
    }
  }

  /** One write and one fdatasync of the batch's records at the end of the log. */
  async #append(batch: readonly Change[]): Promise<void> {
    const { bytes } = encodeRecords(batch.map((c) => c.payload));
    const at = this.#size;
    const end = at + bytes.length;
    // Past the preallocated space: extend the file with zeros now (see RaftStorage.append).
    const zerosFrom = Math.max(end, this.#allocated);
    const zerosTo = end > this.#allocated && this.#o.preallocateBytes > 0 ? end + this.#o.preallocateBytes : zerosFrom;
    await this.#io('write', async () => {
      await writeAll(this.#log, bytes, at);
      if (zerosTo > zerosFrom) await writeAll(this.#log, Buffer.alloc(zerosTo - zerosFrom), zerosFrom);
      await timedSync(this.#log, this.#sync, false);
    });
    this.#allocated = Math.max(this.#allocated, end, zerosTo);
    this.#size = end;
    this.#counts.batches++;
  }

  /** Replaces the log with one put per live key, atomically, and appends to the new file from then on. */
  async #compact(): Promise<void> {
    const payloads: Buffer[] = [];
    for (const [k, v] of this.#map) payloads.push(encodeChange(k, Buffer.byteLength(k), v, Buffer.byteLength(v)));
    const { bytes } = encodeRecords(payloads);
    const before = this.#size;
    await this.#io('compaction', async () => {
      await writeFileAtomic(this.#path, bytes, this.#sync, this.#o.io);
      await this.#log.close();
      this.#log = await this.#o.io.open(this.#path, 'read-write');
    });
    this.#size = this.#allocated = bytes.length;
    this.#counts.compactions++;
    this.#o.log?.(`cache store ${this.dir}: compacted the log from ${before} to ${bytes.length} bytes (${this.#map.size} keys)`);
  }

  /** Runs an I/O step on the log; if it fails, the store refuses every later put and delete. */
  async #io<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await onFile(this.#path, fn);
    } catch (e) {
      this.#failed = withPath(e, this.#path);
      this.#o.log?.(`cache store ${this.dir}: ${what} failed, refusing further writes: ${this.#failed.message}`);
      throw this.#failed;
    }
  }
}
