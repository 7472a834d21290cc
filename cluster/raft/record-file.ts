/**
 * Framed-record files and crash-safe file writes — the byte-level half of the Raft storage.
 *
 * A record is `[u32 length][u32 crc32 of payload][payload]`, both integers little-endian. A log
 * is records back to back; reading stops at the first record that is torn (its length runs past
 * the end of the file), empty (a zero length: what a file extended with zeros by a crash looks
 * like) or fails its CRC. Recovery cuts the file there only when no good record follows (a torn
 * tail); see {@link findRecordAfter}.
 *
 * Whole files (hard state, snapshot, a compacted log) are replaced atomically: write a temp file,
 * fsync it, rename it over the old one, fsync the directory. A crash at any point leaves either
 * the old file or the new one, plus at most a stale `.tmp` that recovery deletes.
 */
import { dirname } from 'node:path';
import * as zlib from 'node:zlib';
import type { FileIo, IoFile } from './file-io.js';

/** Bytes in a record header: length and CRC. */
export const HEADER_BYTES = 8;

/** The suffix of the temp file an atomic write goes through. */
export const TEMP_SUFFIX = '.tmp';

/** Counters of the fsyncs a storage did (file and directory syncs alike). */
export interface SyncStats {
  /** How many fsync/fdatasync calls completed. */
  fsyncs: number;
  /** The durations of the last (at most {@link MAX_SYNC_SAMPLES}) syncs, in microseconds, oldest first. */
  fsyncMicros: number[];
}

/** How many sync durations {@link SyncStats.fsyncMicros} keeps. */
export const MAX_SYNC_SAMPLES = 1000;

const CRC_TABLE = ((): Uint32Array => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE, as zlib and gzip compute it) with a lookup table: the fallback for old Node. */
export function crc32Table(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = (CRC_TABLE[(c ^ (data[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** CRC-32 of `data`: node's native `zlib.crc32` when this Node has it (20.15+), else the table. */
export const crc32: (data: Uint8Array) => number =
  typeof zlib.crc32 === 'function' ? (data) => zlib.crc32(data) >>> 0 : crc32Table;

/** One record found by {@link scanRecords}: where it starts and its payload (a view, not a copy). */
export interface ScannedRecord {
  readonly offset: number;
  readonly payload: Buffer;
}

/** What {@link scanRecords} found: the good records, where they end, and why reading stopped early. */
export interface ScanResult {
  readonly records: ScannedRecord[];
  /** The byte offset just past the last good record. */
  readonly end: number;
  /** Why the bytes from `end` on are unusable, or null when the buffer ended cleanly. */
  readonly problem: string | null;
}

/** Frames each payload as a record and concatenates them; `offsets[i]` is where record i starts. */
export function encodeRecords(payloads: readonly Buffer[]): { bytes: Buffer; offsets: number[] } {
  let total = 0;
  for (const p of payloads) total += HEADER_BYTES + p.length;
  const bytes = Buffer.allocUnsafe(total);
  const offsets: number[] = [];
  let at = 0;
  for (const p of payloads) {
    offsets.push(at);
    bytes.writeUInt32LE(p.length, at);
    bytes.writeUInt32LE(crc32(p), at + 4);
    p.copy(bytes, at + HEADER_BYTES);
    at += HEADER_BYTES + p.length;
  }
  return { bytes, offsets };
}

/** Reads the records of `buf` in order, stopping at the first torn, empty or corrupt one. */
export function scanRecords(buf: Buffer): ScanResult {
  const records: ScannedRecord[] = [];
  let at = 0;
  while (at < buf.length) {
    if (buf.length - at < HEADER_BYTES) {
      return { records, end: at, problem: `torn record header at byte ${at} (${buf.length - at} of ${HEADER_BYTES} bytes)` };
    }
    const length = buf.readUInt32LE(at);
    const crc = buf.readUInt32LE(at + 4);
    const start = at + HEADER_BYTES;
    if (length === 0) return { records, end: at, problem: `empty record at byte ${at}` };
    if (start + length > buf.length) {
      return { records, end: at, problem: `torn record at byte ${at} (${length} bytes announced, ${buf.length - start} present)` };
    }
    const payload = buf.subarray(start, start + length);
    if (crc32(payload) !== crc) return { records, end: at, problem: `CRC mismatch in the record at byte ${at}` };
    records.push({ offset: at, payload });
    at = start + length;
  }
  return { records, end: at, problem: null };
}

/** The longest record {@link findRecordAfter} considers (no log record comes near it). */
const MAX_SEARCHED_RECORD = 64 * 1024 * 1024;

/** Is there a whole, non-empty record with a matching CRC at byte `at` of `buf`? */
function recordAt(buf: Buffer, at: number): boolean {
  if (buf.length - at < HEADER_BYTES) return false;
  const length = buf.readUInt32LE(at);
  if (length === 0 || length > MAX_SEARCHED_RECORD || at + HEADER_BYTES + length > buf.length) return false;
  return crc32(buf.subarray(at + HEADER_BYTES, at + HEADER_BYTES + length)) === buf.readUInt32LE(at + 4);
}

/**
 * The offset of the first good record (whole, non-empty, matching its CRC) that starts after
 * byte `from` of `buf`, or null when there is none: what tells a torn tail (nothing good after
 * it) from a damaged record in the middle of the log. Tries the place the record at `from`
 * announces first (a flipped payload bit keeps the framing), then every byte after `from`.
 */
export function findRecordAfter(buf: Buffer, from: number): number | null {
  if (buf.length - from >= HEADER_BYTES) {
    const announced = from + HEADER_BYTES + buf.readUInt32LE(from);
    if (announced > from + HEADER_BYTES && announced < buf.length && recordAt(buf, announced)) return announced;
  }
  for (let at = from + 1; at + HEADER_BYTES < buf.length; at++) if (recordAt(buf, at)) return at;
  return null;
}

/**
 * Adds `path` to the message of an I/O error (unless it is there already) and returns it: the
 * caller still gets node's own error, with its `code`, but can tell which file failed.
 */
export function withPath(err: unknown, path: string): Error {
  const e = err instanceof Error ? err : new Error(String(err));
  if (!e.message.includes(path)) e.message = `${e.message} (${path})`;
  return e;
}

/** Runs `fn`, adding `path` to the message of whatever it throws. */
export async function onFile<T>(path: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw withPath(e, path);
  }
}

let processSyncs = 0;

/** fsync and fdatasync calls every {@link timedSync} of this process completed (all storages: Raft logs, groups, the cache's store). */
export const processSyncCount = (): number => processSyncs;

/** fsyncs (`full`) or fdatasyncs `handle`, counting it and its duration in `stats`. */
export async function timedSync(handle: IoFile, stats: SyncStats, full: boolean): Promise<void> {
  const t0 = performance.now();
  if (full) await handle.sync();
  else await handle.datasync();
  stats.fsyncs++;
  processSyncs++;
  stats.fsyncMicros.push(Math.round((performance.now() - t0) * 1000));
  if (stats.fsyncMicros.length > MAX_SYNC_SAMPLES) stats.fsyncMicros.splice(0, stats.fsyncMicros.length - MAX_SYNC_SAMPLES);
}

/** Writes all of `data` at `position` (a single write unless the kernel writes short). */
export async function writeAll(handle: IoFile, data: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await handle.write(data, done, data.length - done, position + done);
    done += bytesWritten;
  }
}

/** Reads `length` bytes at `position`; fewer only if the file ends first. */
export async function readAt(handle: IoFile, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buf, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return buf.subarray(0, done);
}

/** fsyncs a directory, making the names created, renamed or removed in it durable. */
export async function syncDir(dir: string, stats: SyncStats, io: FileIo): Promise<void> {
  await onFile(dir, async () => {
    const handle = await io.open(dir, 'directory');
    try {
      await timedSync(handle, stats, true);
    } finally {
      await handle.close();
    }
  });
}

/** Replaces `path` with `data` atomically and durably (temp file, fsync, rename, fsync the directory). */
export async function writeFileAtomic(path: string, data: Uint8Array, stats: SyncStats, io: FileIo): Promise<void> {
  const tmp = path + TEMP_SUFFIX;
  await onFile(tmp, async () => {
    const handle = await io.open(tmp, 'write');
    try {
      await writeAll(handle, data, 0);
      await timedSync(handle, stats, true);
    } finally {
      await handle.close();
    }
  });
  await onFile(path, () => io.rename(tmp, path));
  await syncDir(dirname(path), stats, io);
}

/**
 * Opens a recovered log file for appending: cuts it at `truncateTo` first (a torn tail; the cut
 * fsynced) when given, and fsyncs its directory when the file was just `created`. Closes the
 * handle again if either step fails.
 */
export async function openLogForAppend(path: string, dir: string, o: { truncateTo: number | null; created: boolean; stats: SyncStats; io: FileIo }): Promise<IoFile> {
  const handle = await onFile(path, () => o.io.open(path, 'create-read-write'));
  try {
    const cut = o.truncateTo;
    if (cut !== null) {
      await onFile(path, async () => {
        await handle.truncate(cut);
        await timedSync(handle, o.stats, true);
      });
    }
    if (o.created) await syncDir(dir, o.stats, o.io);
  } catch (e) {
    await handle.close();
    throw e;
  }
  return handle;
}

/** The contents of `path`, or null when there is no such file. */
export async function readOptional(path: string, io: FileIo): Promise<Buffer | null> {
  try {
    return await io.readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw withPath(e, path);
  }
}
